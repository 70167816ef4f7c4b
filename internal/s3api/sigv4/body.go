package sigv4

import (
	"crypto/sha256"
	"crypto/subtle"
	"hash"
	"io"
)

// hashReader passes the body through and checks its SHA-256 at EOF.
type hashReader struct {
	body io.ReadCloser
	h    hash.Hash
	want [sha256.Size]byte
	err  error // sticky: io.EOF, a mismatch, or a read error
}

func (b *hashReader) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	n, err := b.body.Read(p)
	b.h.Write(p[:n])
	switch {
	case err == io.EOF:
		var got [sha256.Size]byte
		b.h.Sum(got[:0])
		if subtle.ConstantTimeCompare(got[:], b.want[:]) != 1 {
			b.err = newError(ErrContentSHA256Mismatch, "")
		} else {
			b.err = io.EOF
		}
		return n, b.err
	case err != nil:
		b.err = err
	}
	return n, err
}

func (b *hashReader) Close() error { return b.body.Close() }
