package object

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
	"testing/iotest"
)

func TestReadAhead(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	data := make([]byte, 1<<20+12345)
	for i := range data {
		data[i] = byte(rng.IntN(256))
	}
	for _, size := range []int{1, 1000, 64 << 10, 2 << 20} {
		for _, viaWriteTo := range []bool{false, true} {
			a := newReadAhead(iotest.HalfReader(bytes.NewReader(data)), size, 2)
			var got []byte
			var err error
			if viaWriteTo {
				var b bytes.Buffer
				_, err = a.WriteTo(&b)
				got = b.Bytes()
			} else {
				got, err = io.ReadAll(struct{ io.Reader }{a})
			}
			a.Close()
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("size %d WriteTo %v: %d bytes, %v", size, viaWriteTo, len(got), err)
			}
		}
	}
	// The source's error arrives after the bytes before it.
	boom := errors.New("boom")
	a := newReadAhead(io.MultiReader(bytes.NewReader(data[:5000]), iotest.ErrReader(boom)), 4096, 2)
	got, err := io.ReadAll(struct{ io.Reader }{a})
	a.Close()
	if !errors.Is(err, boom) || !bytes.Equal(got, data[:5000]) {
		t.Fatalf("error case: %d bytes, %v", len(got), err)
	}
	// Close while the goroutine is ahead returns once it let go.
	a = newReadAhead(bytes.NewReader(data), 1024, 4)
	a.Read(make([]byte, 10))
	a.Close()
	a.Close()
}
