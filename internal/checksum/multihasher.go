package checksum

import (
	"crypto/md5"
	"hash"
)

// MultiHasher computes, in one pass over the data, the MD5 digest (always,
// for the ETag) plus any set of checksum algorithms. It is an io.Writer;
// each Write is passed sequentially, without copying, to every hash.
//
// A MultiHasher is not safe for concurrent use.
type MultiHasher struct {
	md5    hash.Hash
	byAlg  [numAlgorithms]hash.Hash // indexed by Algorithm.index
	active []hash.Hash              // md5 followed by requested hashes
	size   int64
}

// NewMultiHasher returns a MultiHasher computing MD5 and each of algs.
// Invalid and duplicate algorithms are ignored.
func NewMultiHasher(algs ...Algorithm) *MultiHasher {
	m := &MultiHasher{md5: md5.New()}
	m.active = make([]hash.Hash, 1, 1+len(algs))
	m.active[0] = m.md5
	for _, a := range algs {
		i := a.index()
		if i < 0 || m.byAlg[i] != nil {
			continue
		}
		h := a.New()
		m.byAlg[i] = h
		m.active = append(m.active, h)
	}
	return m
}

// Write adds p to every hash. It never returns an error.
func (m *MultiHasher) Write(p []byte) (int, error) {
	for _, h := range m.active {
		h.Write(p)
	}
	m.size += int64(len(p))
	return len(p), nil
}

// MD5 returns the MD5 digest of the data written so far.
func (m *MultiHasher) MD5() []byte { return m.md5.Sum(nil) }

// Has reports whether a is being computed.
func (m *MultiHasher) Has(a Algorithm) bool {
	i := a.index()
	return i >= 0 && m.byAlg[i] != nil
}

// Sum returns the raw big-endian digest for a of the data written so far,
// or nil if a was not requested. Writing may continue afterwards.
func (m *MultiHasher) Sum(a Algorithm) []byte {
	i := a.index()
	if i < 0 || m.byAlg[i] == nil {
		return nil
	}
	return m.byAlg[i].Sum(nil)
}

// Encoded returns the base64 value of Sum(a), as sent in a's header, or ""
// if a was not requested.
func (m *MultiHasher) Encoded(a Algorithm) string {
	s := m.Sum(a)
	if s == nil {
		return ""
	}
	return Encode(s)
}

// Algorithms returns the requested algorithms (excluding MD5) in the order
// of the package-level Algorithms list.
func (m *MultiHasher) Algorithms() []Algorithm {
	var out []Algorithm
	for i, h := range m.byAlg {
		if h != nil {
			out = append(out, Algorithms[i])
		}
	}
	return out
}

// Size returns the number of bytes written so far.
func (m *MultiHasher) Size() int64 { return m.size }

// Reset clears all hashes and the byte count, keeping the algorithm set.
func (m *MultiHasher) Reset() {
	for _, h := range m.active {
		h.Reset()
	}
	m.size = 0
}
