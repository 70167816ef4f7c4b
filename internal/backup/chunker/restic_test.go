package chunker

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"

	rc "github.com/restic/chunker"
)

// resticChunks cuts data with github.com/restic/chunker, the reference
// for the boundaries.
func resticChunks(t *testing.T, data []byte, pol Pol, min, max uint, bits int) []int {
	t.Helper()
	c := rc.NewWithBoundaries(bytes.NewReader(data), pol, min, max)
	c.SetAverageBits(bits)
	var lens []int
	buf := make([]byte, max)
	for {
		ch, err := c.Next(buf)
		if errors.Is(err, io.EOF) {
			return lens
		}
		if err != nil {
			t.Fatal(err)
		}
		lens = append(lens, int(ch.Length))
	}
}

func ourChunks(t *testing.T, c *Chunker, data []byte, buf []byte) []int {
	t.Helper()
	var lens []int
	var got []byte
	for {
		ch, err := c.Next(buf)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		lens = append(lens, len(ch))
		got = append(got, ch...)
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("chunks do not reassemble the stream (%d of %d bytes)", len(got), len(data))
	}
	if _, err := c.Next(buf); !errors.Is(err, io.EOF) {
		t.Fatalf("Next after the end: %v, want io.EOF", err)
	}
	return lens
}

// TestSameBoundariesAsRestic: the chunker cuts exactly where restic's
// does, whatever the sizes, polynomial, stream length and read pattern:
// repositories written before it deduplicate with what it writes.
func TestSameBoundariesAsRestic(t *testing.T) {
	pols := []Pol{testPol}
	for range 2 {
		p, err := RandomPolynomial()
		if err != nil {
			t.Fatal(err)
		}
		pols = append(pols, p)
	}
	type sizes struct {
		min, max uint
		bits     int
	}
	data := randBytes(32<<20, 11)
	if raceEnabled || testing.Short() {
		data = data[:10<<20]
		pols = pols[:2]
	}
	// Zeros and a repeated short pattern: no boundary, or the same one
	// over and over.
	patterned := append(make([]byte, 3<<20), bytes.Repeat([]byte("firn backup "), 300000)...)
	for _, sz := range []sizes{{MinSize, MaxSize, AverageBits}, {4 << 10, 64 << 10, 14}, {64, 256, 4}, {1024, 1024, 10}, {MinSize, MinSize + 100, 20}} {
		for pi, pol := range pols {
			for _, n := range []int{0, 1, 63, 64, 65, int(sz.min) - 1, int(sz.min), int(sz.min) + 1, 3*int(sz.max) + 17, len(data)} {
				// Long streams with the default sizes; small chunks
				// give many boundaries in a few MiB already.
				if n > 4<<20 && sz.max < MaxSize {
					continue
				}
				in := data[:min(n, len(data))]
				want := resticChunks(t, in, pol, sz.min, sz.max, sz.bits)
				for _, rd := range []struct {
					name string
					r    func([]byte) io.Reader
				}{
					{"whole", func(b []byte) io.Reader { return bytes.NewReader(b) }},
					{"half", func(b []byte) io.Reader { return iotest.HalfReader(bytes.NewReader(b)) }},
				} {
					if rd.name != "whole" && n > 8<<20 {
						continue
					}
					c := NewSized(rd.r(in), pol, sz.min, sz.max, sz.bits)
					got := ourChunks(t, c, in, make([]byte, 0, sz.max))
					if !equalInts(got, want) {
						t.Fatalf("sizes %+v, pol %d, %d bytes, %s reads: %d chunks %v, restic %d chunks %v",
							sz, pi, n, rd.name, len(got), head(got), len(want), head(want))
					}
				}
			}
			if sz.min >= 1024 {
				want := resticChunks(t, patterned, pol, sz.min, sz.max, sz.bits)
				got := ourChunks(t, NewSized(bytes.NewReader(patterned), pol, sz.min, sz.max, sz.bits), patterned, nil)
				if !equalInts(got, want) {
					t.Fatalf("patterned, sizes %+v: %v, restic %v", sz, head(got), head(want))
				}
			}
		}
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func head(s []int) []int { return s[:min(len(s), 8)] }

// TestSmallBuffer: a buffer below the maximum size is grown; the chunks
// are the same.
func TestSmallBuffer(t *testing.T) {
	data := randBytes(5<<20, 12)
	want := ourChunks(t, New(bytes.NewReader(data), testPol), data, make([]byte, MaxSize))
	got := ourChunks(t, New(bytes.NewReader(data), testPol), data, make([]byte, 10))
	if !equalInts(got, want) {
		t.Errorf("with a small buffer: %v, want %v", got, want)
	}
}

// TestReadError: a read error ends the stream with that error.
func TestReadError(t *testing.T) {
	boom := errors.New("boom")
	r := io.MultiReader(bytes.NewReader(randBytes(3<<20, 13)), iotest.ErrReader(boom))
	c := New(r, testPol)
	buf := make([]byte, MaxSize)
	var err error
	for err == nil {
		_, err = c.Next(buf)
	}
	if !errors.Is(err, boom) {
		t.Errorf("got %v, want the read error", err)
	}
	if _, err := c.Next(buf); !errors.Is(err, boom) {
		t.Errorf("after the error: %v", err)
	}
	c.Reset(bytes.NewReader([]byte("abc")))
	if ch, err := c.Next(buf); err != nil || string(ch) != "abc" {
		t.Errorf("after Reset: %q, %v", ch, err)
	}
}

func BenchmarkChunker(b *testing.B) {
	data := randBytes(64<<20, 3)
	b.Run("firn", func(b *testing.B) {
		c := New(nil, testPol)
		buf := make([]byte, MaxSize)
		b.SetBytes(int64(len(data)))
		for range b.N {
			c.Reset(bytes.NewReader(data))
			for {
				if _, err := c.Next(buf); err != nil {
					break
				}
			}
		}
	})
	b.Run("restic", func(b *testing.B) {
		c := rc.New(nil, testPol)
		buf := make([]byte, MaxSize)
		b.SetBytes(int64(len(data)))
		for range b.N {
			c.Reset(bytes.NewReader(data), testPol)
			for {
				if _, err := c.Next(buf); err != nil {
					break
				}
			}
		}
	})
}
