// Package chunker cuts a stream into content-defined chunks for
// deduplication. It wraps github.com/restic/chunker (Rabin fingerprints
// over a 64-byte window, see docs/adr/0005-backup-chunking.md) with the
// sizes firn's backup repository uses: chunks between 512 KiB and 8 MiB,
// about 1 MiB on average. Boundaries depend only on the content near them
// and on the repository's secret polynomial, so an insertion moves at
// most the chunks around it and the same data in another file, host or
// backup gives the same chunks.
package chunker

import (
	"errors"
	"io"

	rc "github.com/restic/chunker"
)

// Chunk sizes.
const (
	MinSize     = 512 << 10
	MaxSize     = 8 << 20
	AverageBits = 20 // about 1 MiB on average
)

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
	c   *rc.Chunker
	pol Pol
	min uint
	max uint
	avg int
}

// New returns a chunker over r with polynomial pol and the default sizes.
func New(r io.Reader, pol Pol) *Chunker {
	return NewSized(r, pol, MinSize, MaxSize, AverageBits)
}

// NewSized is New with other sizes, for tests: chunks of min to max
// bytes, cut on average every 2^avgBits bytes.
func NewSized(r io.Reader, pol Pol, min, max uint, avgBits int) *Chunker {
	c := &Chunker{c: rc.NewWithBoundaries(r, pol, min, max), pol: pol, min: min, max: max, avg: avgBits}
	c.c.SetAverageBits(avgBits)
	return c
}

// Reset makes the chunker cut r from its start.
func (c *Chunker) Reset(r io.Reader) {
	c.c.ResetWithBoundaries(r, c.pol, c.min, c.max)
	c.c.SetAverageBits(c.avg)
}

// Next returns the next chunk, in buf when it is large enough (buf is
// reused; the returned slice is valid until the next call). It returns
// io.EOF after the last chunk; an empty stream has no chunk.
func (c *Chunker) Next(buf []byte) ([]byte, error) {
	ch, err := c.c.Next(buf)
	if errors.Is(err, io.EOF) {
		return nil, io.EOF
	}
	if err != nil {
		return nil, err
	}
	return ch.Data, nil
}
