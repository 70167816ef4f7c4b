package pack

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// objectReader returns bytes [start, end) of one object, decompressing
// and checking them.
type objectReader struct {
	e       *Entry
	r       io.Reader     // the object's bytes from pos on
	dec     *zstd.Decoder // when compressed, to return to the pool
	h       hash.Hash     // of bytes from 0, when the read is checked
	pos     int64         // bytes of the object consumed from r
	end     int64
	verify  bool // read on to the object's end and check its SHA-256
	release func()
	err     error
}

// newObjectReader opens bytes [offset, offset+length) of e (length < 0:
// to the end) from src, and takes over src's reference.
func newObjectReader(e *Entry, src *source, offset, length int64) (io.ReadCloser, error) {
	offset = min(max(offset, 0), e.Size)
	end := e.Size
	if length >= 0 && offset+length < end {
		end = offset + length
	}
	or := &objectReader{e: e, end: end, release: src.release}
	whole := offset == 0 && end == e.Size
	// A range of the journal is checked by reading on to the end: the
	// journal has no block checksums. Sealed ranges are checked block by
	// block.
	or.verify = whole || src.journal
	if e.Compression == None && !or.verify {
		or.r = src.payloadReader(e.DataOffset()+offset, end-offset)
		or.pos = offset
		return or, nil
	}
	raw := src.payloadReader(e.DataOffset(), e.StoredSize)
	if e.Compression == Zstd {
		or.dec = getDecoder(raw)
		or.r = or.dec
	} else {
		or.r = raw
	}
	if or.verify {
		or.h = sha256.New()
	}
	if err := or.skip(offset); err != nil {
		or.Close()
		return nil, err
	}
	return or, nil
}

func (or *objectReader) corrupt(format string, args ...any) error {
	return fmt.Errorf("blob %s: %s: %w", or.e.ID, fmt.Sprintf(format, args...), ErrCorrupt)
}

// readRaw reads from r, hashing, and turns a decompression failure or a
// short object into ErrCorrupt.
func (or *objectReader) readRaw(p []byte) (int, error) {
	n, err := or.r.Read(p)
	if n > 0 && or.h != nil {
		or.h.Write(p[:n])
	}
	or.pos += int64(n)
	if or.pos > or.e.Size {
		return n, or.corrupt("more than %d bytes", or.e.Size)
	}
	if errors.Is(err, io.EOF) {
		if or.pos < or.end || or.verify && or.pos < or.e.Size {
			return n, or.corrupt("%d bytes, want %d", or.pos, or.e.Size)
		}
		return n, io.EOF
	}
	if err != nil && or.dec != nil && !errors.Is(err, ErrCorrupt) {
		err = or.corrupt("%v", err)
	}
	return n, err
}

// skip reads and discards up to offset.
func (or *objectReader) skip(offset int64) error {
	if or.pos >= offset {
		return nil
	}
	buf := getBuf(64 << 10)
	defer putBuf(buf)
	for or.pos < offset {
		n, err := or.readRaw(buf[:min(int64(len(buf)), offset-or.pos)])
		if n == 0 && err != nil {
			return err
		}
	}
	return nil
}

func (or *objectReader) Read(p []byte) (int, error) {
	if or.err != nil {
		return 0, or.err
	}
	if or.pos >= or.end {
		or.err = or.finish()
		return 0, or.err
	}
	n, err := or.readRaw(p[:min(int64(len(p)), or.end-or.pos)])
	if errors.Is(err, io.EOF) {
		if or.pos >= or.end {
			err = nil // finish decides on the next call
		}
	}
	if err != nil {
		or.err = err
	}
	return n, err
}

// finish reads on to the end when the read is checked, compares the
// checksum, and returns io.EOF or the error.
func (or *objectReader) finish() error {
	if !or.verify {
		return io.EOF
	}
	if err := or.skip(or.e.Size); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	if or.dec != nil {
		// The zstd frame must end where the object does.
		var one [1]byte
		if n, err := or.r.Read(one[:]); n > 0 || err != nil && !errors.Is(err, io.EOF) {
			return or.corrupt("trailing data after %d bytes", or.e.Size)
		}
	}
	var sum [32]byte
	if or.h.Sum(sum[:0]); sum != or.e.SHA256 {
		return or.corrupt("SHA-256 %x, want %x", sum, or.e.SHA256)
	}
	return io.EOF
}

func (or *objectReader) Close() error {
	if or.dec != nil {
		putDecoder(or.dec)
		or.dec = nil
	}
	if or.release != nil {
		or.release()
		or.release = nil
	}
	if or.err == nil {
		or.err = errors.New("read after close")
	}
	return nil
}

// Compression: one EncodeAll encoder shared by all (it is safe for
// concurrent use), pools of stream encoders and decoders.
var (
	encOnce sync.Once
	encAll  *zstd.Encoder

	encPool sync.Pool // of *zstd.Encoder
	decPool sync.Pool // of *zstd.Decoder
)

const encLevel = zstd.SpeedFastest

func zstdEncodeAll(b []byte) []byte {
	encOnce.Do(func() {
		var err error
		encAll, err = zstd.NewWriter(nil, zstd.WithEncoderLevel(encLevel), zstd.WithEncoderCRC(false))
		if err != nil {
			panic(err)
		}
	})
	return encAll.EncodeAll(b, make([]byte, 0, len(b)/2))
}

type encoder = *zstd.Encoder

func getEncoder(w io.Writer) *zstd.Encoder {
	if e, ok := encPool.Get().(*zstd.Encoder); ok {
		e.Reset(w)
		return e
	}
	e, err := zstd.NewWriter(w, zstd.WithEncoderLevel(encLevel), zstd.WithEncoderConcurrency(1), zstd.WithEncoderCRC(false))
	if err != nil {
		panic(err)
	}
	return e
}

func putEncoder(e *zstd.Encoder) {
	e.Reset(nil)
	encPool.Put(e)
}

func getDecoder(r io.Reader) *zstd.Decoder {
	if d, ok := decPool.Get().(*zstd.Decoder); ok {
		if err := d.Reset(r); err == nil {
			return d
		}
	}
	d, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(1<<40))
	if err != nil {
		panic(err)
	}
	return d
}

func putDecoder(d *zstd.Decoder) {
	d.Reset(nil)
	decPool.Put(d)
}
