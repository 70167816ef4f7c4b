// Package chunker cuts a stream into content-defined chunks for
// deduplication, at the boundaries github.com/restic/chunker (v0.4.0)
// finds (Rabin fingerprints over a 64-byte window, see
// docs/adr/0005-backup-chunking.md), with the sizes firn's backup
// repository uses: chunks between 512 KiB and 8 MiB, about 1 MiB on
// average. Boundaries depend only on the content near them and on the
// repository's secret polynomial, so an insertion moves at most the
// chunks around it and the same data in another file, host or backup
// gives the same chunks.
//
// The cutting is firn's own code, about twice as fast as restic's for
// the same boundaries (a test compares the two on random streams): it
// reads straight into the caller's buffer instead of copying every byte
// through its own, and it rolls the fingerprint without a window buffer,
// which leaves one table lookup per byte on the critical path.
package chunker

import (
	"errors"
	"io"
	"slices"
	"sync"

	rc "github.com/restic/chunker"
)

// Chunk sizes.
const (
	MinSize     = 512 << 10
	MaxSize     = 8 << 20
	AverageBits = 20 // about 1 MiB on average
)

// windowSize is the number of bytes the fingerprint covers.
const windowSize = 64

// readSize is how much Next reads at a time once past the minimum size;
// what it reads beyond a boundary is kept for the next chunk.
const readSize = 256 << 10

// Pol is an irreducible polynomial of degree 53 over GF(2) that selects
// the fingerprint function; each repository has its own, random, so that
// chunk boundaries say nothing about content across repositories.
type Pol = rc.Pol

// RandomPolynomial returns a new random irreducible polynomial.
func RandomPolynomial() (Pol, error) { return rc.RandomPolynomial() }

// Valid reports whether p can be used: irreducible, of degree 53.
func Valid(p Pol) bool { return p.Deg() == 53 && p.Irreducible() }

// Chunker cuts one stream. Reuse it with Reset to avoid allocations.
type Chunker struct {
	rd   io.Reader
	tab  *tables
	min  int
	max  int
	mask uint64
	// carry holds the bytes read beyond the last boundary: the start of
	// the next chunk.
	carry []byte
	err   error // sticky: io.EOF after the last chunk, or a read error
}

// New returns a chunker over r with polynomial pol and the default sizes.
func New(r io.Reader, pol Pol) *Chunker {
	return NewSized(r, pol, MinSize, MaxSize, AverageBits)
}

// NewSized is New with other sizes, for tests: chunks of min to max
// bytes, cut on average every 2^avgBits bytes. minSize is raised to the
// window size (64 bytes) and maxSize to minSize.
func NewSized(r io.Reader, pol Pol, minSize, maxSize uint, avgBits int) *Chunker {
	c := &Chunker{rd: r, min: int(minSize), max: int(maxSize), mask: 1<<uint(avgBits) - 1}
	c.min = max(c.min, windowSize)
	c.max = max(c.max, c.min)
	c.tab, c.err = tablesFor(pol)
	c.carry = make([]byte, 0, readSize)
	return c
}

// Reset makes the chunker cut r from its start.
func (c *Chunker) Reset(r io.Reader) {
	c.rd = r
	c.carry = c.carry[:0]
	if c.err != nil && c.tab != nil {
		c.err = nil
	}
}

// Next returns the next chunk, in buf when it is large enough (buf is
// reused; the returned slice is valid until the next call). It returns
// io.EOF after the last chunk; an empty stream has no chunk. After a read
// error the stream cannot be cut further.
func (c *Chunker) Next(buf []byte) ([]byte, error) {
	if c.err != nil {
		return nil, c.err
	}
	buf = append(buf[:0], c.carry...)
	c.carry = c.carry[:0]
	buf = slices.Grow(buf, c.max-len(buf))
	var eof bool
	if len(buf) < c.min {
		if buf, eof = c.fill(buf, c.min); c.err != nil {
			return nil, c.err
		}
		if len(buf) < c.min { // the stream ended: the rest is the last chunk
			c.err = io.EOF
			if len(buf) == 0 {
				return nil, io.EOF
			}
			return buf, nil
		}
	}
	// The first min-64 bytes are not fingerprinted: no boundary can be
	// there. The fingerprint of the window ending at the minimum size is
	// computed afresh, then rolled byte by byte.
	tab := c.tab
	sh := tab.shift & 63
	var d uint64
	for _, b := range buf[c.min-windowSize : c.min] {
		d = (d<<8 | uint64(b)) ^ tab.mod[byte(d>>sh)]
	}
	if d&c.mask == 0 || c.min >= c.max {
		return c.cut(buf, c.min), nil
	}
	i := c.min // the next byte to fingerprint
	for {
		end := min(len(buf), c.max)
		var k int
		if k, d = tab.roll(d, buf[i:end], buf[i-windowSize:end-windowSize], c.mask); k >= 0 {
			return c.cut(buf, i+k+1), nil
		}
		i = end
		if i >= c.max {
			return c.cut(buf, c.max), nil
		}
		if eof {
			c.err = io.EOF
			return buf, nil
		}
		if buf, eof = c.fill(buf, min(len(buf)+readSize, c.max)); c.err != nil {
			return nil, c.err
		}
		if len(buf) == i { // nothing more: the rest is the last chunk
			c.err = io.EOF
			return buf, nil
		}
	}
}

// cut keeps what buf holds beyond n for the next chunk and returns the
// chunk buf[:n].
func (c *Chunker) cut(buf []byte, n int) []byte {
	c.carry = append(c.carry, buf[n:]...)
	return buf[:n]
}

// fill reads into buf (which has the capacity) until it holds want bytes
// or the stream ends (eof). A read error is kept in c.err.
func (c *Chunker) fill(buf []byte, want int) ([]byte, bool) {
	n, err := io.ReadFull(c.rd, buf[len(buf):want])
	buf = buf[:len(buf)+n]
	switch {
	case err == nil:
		return buf, false
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return buf, true
	}
	c.err = err
	return buf, true
}

// roll rolls the fingerprint d over the bytes in, out holding the bytes
// 64 positions before them, and returns the index in in of the first
// byte after which the fingerprint has the low bits of mask clear (-1 if
// none) and the fingerprint there. It is a function of its own so that
// its loop keeps everything in registers.
//
//go:noinline
func (t *tables) roll(d uint64, in, out []byte, mask uint64) (int, uint64) {
	sh := t.shift & 63
	out = out[:len(in)]
	for k, b := range in {
		// Appending b and dropping the byte 64 back gives the same
		// fingerprint (reduced mod pol) as restic's sliding window,
		// with one table lookup on the chain from one byte to the next.
		d = (d<<8 | uint64(b)) ^ t.out[out[k]] ^ t.mod[d>>sh]
		if d&mask == 0 {
			return k, d
		}
	}
	return -1, d
}

// tables are the lookup tables of one polynomial.
type tables struct {
	// mod reduces the 8 bits that a shift moves above the degree: for a
	// fingerprint d, (d<<8 | b) ^ mod[d>>shift] is d·x^8 + b mod pol.
	mod [256]uint64
	// out[b] is b·x^(8·64) mod pol: what a byte 64 positions back adds
	// to the fingerprint once a byte is appended, and so what dropping it
	// removes.
	out   [256]uint64
	shift uint // degree - 8
}

var tableCache struct {
	sync.Mutex
	m map[Pol]*tables
}

// tablesFor returns the (cached) tables of pol.
func tablesFor(pol Pol) (*tables, error) {
	deg := pol.Deg()
	if deg < 9 || deg > 53 {
		return nil, errors.New("chunker: the polynomial must have a degree between 9 and 53")
	}
	tableCache.Lock()
	defer tableCache.Unlock()
	if t, ok := tableCache.m[pol]; ok {
		return t, nil
	}
	t := &tables{shift: uint(deg - 8)}
	for b := range 256 {
		// As restic: the reduction of b·x^deg, plus b·x^deg itself to
		// clear the bits shifted above the degree.
		t.mod[b] = uint64(Pol(uint64(b)<<uint(deg)).Mod(pol) | Pol(b)<<uint(deg))
		h := Pol(b)
		for range windowSize {
			h = (h << 8).Mod(pol)
		}
		t.out[b] = uint64(h)
	}
	if tableCache.m == nil {
		tableCache.m = map[Pol]*tables{}
	}
	tableCache.m[pol] = t
	return t, nil
}
