package repo

import (
	"errors"
	"fmt"

	"github.com/klauspost/compress/zstd"
)

// The first byte of every plaintext before it is sealed says how the rest
// is compressed.
const (
	compNone byte = 0
	compZstd byte = 1
)

// maxDecoded bounds what one blob or file may decompress to.
const maxDecoded = 1 << 30

var (
	zenc, _ = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedDefault), zstd.WithEncoderConcurrency(1))
	zdec, _ = zstd.NewReader(nil, zstd.WithDecoderConcurrency(0), zstd.WithDecoderMaxMemory(maxDecoded))
)

// encode compresses data with zstd when that makes it smaller, prefixes
// the compression byte and seals the result, appending it to dst.
func (k *Key) encode(dst, data []byte) []byte {
	plain := make([]byte, 1, len(data)/2+64)
	plain[0] = compZstd
	plain = zenc.EncodeAll(data, plain)
	if len(plain) > len(data) {
		plain = append(append(plain[:0], compNone), data...)
	}
	return k.Seal(dst, plain)
}

// decode is the inverse of encode.
func (k *Key) decode(sealed []byte) ([]byte, error) {
	plain, err := k.Open(sealed)
	if err != nil {
		return nil, err
	}
	if len(plain) == 0 {
		return nil, errors.New("decode: no compression byte")
	}
	switch plain[0] {
	case compNone:
		return plain[1:], nil
	case compZstd:
		out, err := zdec.DecodeAll(plain[1:], nil)
		if err != nil {
			return nil, fmt.Errorf("decode: zstd: %w", err)
		}
		return out, nil
	}
	return nil, fmt.Errorf("decode: unknown compression %d", plain[0])
}
