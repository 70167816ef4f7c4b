package sse

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/minio/sio"
)

// Package sizes of the DARE 2.0 format.
const (
	packagePlain  = 64 << 10
	packageCipher = packagePlain + 32 // 16-byte header, 16-byte tag
)

// ErrDamaged: a stream does not decrypt (tampered, truncated or under
// another key).
var ErrDamaged = errors.New("sse: encrypted data damaged or under another key")

func config(key []byte) sio.Config {
	return sio.Config{Key: key, MinVersion: sio.Version20, MaxVersion: sio.Version20, CipherSuites: []byte{sio.AES_256_GCM}}
}

// EncryptedSize is the stored size of a stream of n plaintext bytes.
func EncryptedSize(n int64) int64 {
	full := n / packagePlain
	size := full * packageCipher
	if r := n % packagePlain; r > 0 {
		size += r + 32
	}
	return size
}

// EncryptWriter returns a writer that encrypts into w under stream key
// key; Close writes the last package and does not close w.
func EncryptWriter(w io.Writer, key []byte) (io.WriteCloser, error) {
	return sio.EncryptWriter(struct{ io.Writer }{w}, config(key))
}

// Seal encrypts a whole small stream in memory.
func Seal(plain, key []byte) ([]byte, error) {
	var b bytes.Buffer
	b.Grow(int(EncryptedSize(int64(len(plain)))))
	w, err := EncryptWriter(&b, key)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(plain); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Open decrypts a whole small stream sealed by Seal. ErrDamaged.
func Open(sealed, key []byte) ([]byte, error) {
	var b bytes.Buffer
	if _, err := sio.Decrypt(&b, bytes.NewReader(sealed), config(key)); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDamaged, err)
	}
	return b.Bytes(), nil
}

// OpenFunc opens n stored bytes of a stream from off.
type OpenFunc func(off, n int64) (io.ReadCloser, error)

// DecryptRange returns a reader of n plaintext bytes from off of a
// stream of plainSize plaintext bytes under key, reading through open
// only the packages that hold them. A read error wrapping ErrDamaged
// reports tampering.
func DecryptRange(open OpenFunc, key []byte, plainSize, off, n int64) (io.ReadCloser, error) {
	if n <= 0 || off >= plainSize {
		return io.NopCloser(bytes.NewReader(nil)), nil
	}
	n = min(n, plainSize-off)
	first := off / packagePlain
	last := (off + n - 1) / packagePlain
	cOff := first * packageCipher
	cEnd := min((last+1)*packageCipher, EncryptedSize(plainSize))
	rc, err := open(cOff, cEnd-cOff)
	if err != nil {
		return nil, err
	}
	c := config(key)
	c.SequenceNumber = uint32(first)
	dr, err := sio.DecryptReader(rc, c)
	if err != nil {
		rc.Close()
		return nil, err
	}
	skip := off - first*packagePlain
	return &rangeReader{r: dr, c: rc, skip: skip, left: n}, nil
}

// rangeReader skips to the range's start and stops at its end.
type rangeReader struct {
	r          io.Reader
	c          io.Closer
	skip, left int64
}

func (r *rangeReader) Read(p []byte) (int, error) {
	if r.skip > 0 {
		if _, err := io.CopyN(io.Discard, r.r, r.skip); err != nil {
			return 0, damaged(err)
		}
		r.skip = 0
	}
	if r.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > r.left {
		p = p[:r.left]
	}
	n, err := r.r.Read(p)
	r.left -= int64(n)
	if err == io.EOF && r.left > 0 {
		err = io.ErrUnexpectedEOF
	}
	if err != nil && err != io.EOF {
		return n, damaged(err)
	}
	return n, err
}

func (r *rangeReader) Close() error { return r.c.Close() }

// WriteTo copies the range to w through a buffer of whole packages, so
// that they decrypt straight into it rather than through the stream's
// own buffer (a copy of every byte fewer).
func (r *rangeReader) WriteTo(w io.Writer) (int64, error) {
	buf := make([]byte, 16*packagePlain)
	var total int64
	for {
		n, err := r.Read(buf)
		if n > 0 {
			m, werr := w.Write(buf[:n])
			total += int64(m)
			if werr != nil {
				return total, werr
			}
		}
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}

func damaged(err error) error {
	var se sio.Error
	if errors.As(err, &se) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: %v", ErrDamaged, err)
	}
	return err
}
