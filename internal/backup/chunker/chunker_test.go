package chunker

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
)

// testPol is an irreducible polynomial of degree 53 (restic's test one).
const testPol = Pol(0x3DA3358B4DC173)

func randBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func chunks(t *testing.T, data []byte) [][32]byte {
	t.Helper()
	c := New(bytes.NewReader(data), testPol)
	buf := make([]byte, MaxSize)
	var ids [][32]byte
	total := 0
	for {
		ch, err := c.Next(buf)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(ch) > MaxSize {
			t.Fatalf("chunk of %d bytes, above MaxSize", len(ch))
		}
		total += len(ch)
		ids = append(ids, sha256.Sum256(ch))
	}
	if total != len(data) {
		t.Fatalf("chunks cover %d bytes, want %d", total, len(data))
	}
	return ids
}

func TestValid(t *testing.T) {
	if !Valid(testPol) {
		t.Error("testPol: not valid")
	}
	if Valid(testPol + 1) {
		t.Error("testPol+1: valid, want not (reducible)")
	}
	p, err := RandomPolynomial()
	if err != nil || !Valid(p) {
		t.Errorf("RandomPolynomial: %v, %v", p, err)
	}
}

func TestAverageSize(t *testing.T) {
	data := randBytes(48<<20, 1)
	ids := chunks(t, data)
	avg := len(data) / len(ids)
	if avg < 700<<10 || avg > 2<<20 {
		t.Errorf("average chunk size %d over %d chunks, want about 1 MiB", avg, len(ids))
	}
}

func TestEmpty(t *testing.T) {
	if ids := chunks(t, nil); len(ids) != 0 {
		t.Errorf("empty stream: got %d chunks, want 0", len(ids))
	}
}

// TestInsertionShift: inserting or deleting bytes in the middle of a
// stream changes only the chunks around the edit; all others keep their
// content and so their ids.
func TestInsertionShift(t *testing.T) {
	data := randBytes(24<<20, 2)
	before := chunks(t, data)
	for _, tc := range []struct {
		name string
		edit func([]byte) []byte
	}{
		{"insert 1 byte", func(b []byte) []byte {
			return append(append(append([]byte{}, b[:10<<20]...), 0x42), b[10<<20:]...)
		}},
		{"insert 100 KiB", func(b []byte) []byte {
			return append(append(append([]byte{}, b[:5<<20]...), randBytes(100<<10, 3)...), b[5<<20:]...)
		}},
		{"delete 7 bytes", func(b []byte) []byte {
			return append(append([]byte{}, b[:15<<20]...), b[15<<20+7:]...)
		}},
		{"prepend 1 byte", func(b []byte) []byte { return append([]byte{1}, b...) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			after := chunks(t, tc.edit(data))
			old := map[[32]byte]bool{}
			for _, id := range before {
				old[id] = true
			}
			changed := 0
			for _, id := range after {
				if !old[id] {
					changed++
				}
			}
			if changed > 2 {
				t.Errorf("%d of %d chunks changed, want at most 2", changed, len(after))
			}
		})
	}
}

func TestReset(t *testing.T) {
	a, b := randBytes(3<<20, 4), randBytes(3<<20, 5)
	c := New(bytes.NewReader(a), testPol)
	buf := make([]byte, MaxSize)
	for {
		if _, err := c.Next(buf); err != nil {
			break
		}
	}
	c.Reset(bytes.NewReader(b))
	var got []byte
	for {
		ch, err := c.Next(buf)
		if err != nil {
			break
		}
		got = append(got, ch...)
	}
	if !bytes.Equal(got, b) {
		t.Error("after Reset: chunks do not reassemble the second stream")
	}
}
