package repo

import (
	"errors"
	"fmt"
	"runtime"
	"slices"

	"github.com/klauspost/compress/zstd"
	"golang.org/x/crypto/chacha20poly1305"
)

// The first byte of every plaintext before it is sealed says how the rest
// is compressed.
const (
	compNone byte = 0
	compZstd byte = 1
)

// maxDecoded bounds what one blob or file may decompress to.
const maxDecoded = 1 << 30

// zenc compresses at zstd's default level, as restic's "auto" mode does:
// it gives up on incompressible input quickly (several GB/s on random
// data), so trying every blob costs little. Frames carry no xxhash
// checksum: every blob is authenticated by its seal and its id. It
// serves concurrent EncodeAll calls, one per CPU up to 4 (each encoder
// keeps a history buffer of up to 16 MiB; a backup saves blobs from at
// most 4 goroutines).
var (
	zenc, _ = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedDefault),
		zstd.WithEncoderConcurrency(max(2, min(runtime.GOMAXPROCS(0), 4))), zstd.WithEncoderCRC(false))
	zdec, _ = zstd.NewReader(nil, zstd.WithDecoderConcurrency(0), zstd.WithDecoderMaxMemory(maxDecoded))
)

// encodedMax is the most encode appends for n bytes of plaintext while
// it works: nonce, compression byte, the data or a zstd frame of it
// (which may exceed it by a few bytes per block before being dropped),
// tag.
func encodedMax(n int) int { return Overhead + 1 + n + n>>10 + 64 }

// encode compresses data with zstd when that makes it smaller, prefixes
// the compression byte and seals the result, appending it to dst. It
// works in dst's spare capacity (growing it once when short) and seals in
// place, so that it allocates nothing when dst has room.
func (k *Key) encode(dst, data []byte) []byte {
	start := len(dst)
	dst = slices.Grow(dst, encodedMax(len(data)))
	ns := chacha20poly1305.NonceSizeX
	dst = dst[:start+ns]
	randNonce(dst[start:])
	p := len(dst) // the plaintext starts here
	dst = append(dst, compZstd)
	dst = zenc.EncodeAll(data, dst)
	if len(dst)-p > len(data) { // not smaller than the data itself
		dst = append(dst[:p], compNone)
		dst = append(dst, data...)
	}
	dst = slices.Grow(dst, chacha20poly1305.Overhead) // room for the tag, so Seal works in place
	sealed := newAEAD(k.Encrypt).Seal(dst[p:p], dst[start:p], dst[p:], nil)
	return dst[:p+len(sealed)]
}

// decode is the inverse of encode.
func (k *Key) decode(sealed []byte) ([]byte, error) {
	plain, err := k.Open(sealed)
	if err != nil {
		return nil, err
	}
	return decompress(plain)
}

// decodeInPlace is decode overwriting sealed with the plaintext, which
// saves an allocation and a copy of every uncompressed blob: the result
// may share sealed's memory.
func (k *Key) decodeInPlace(sealed []byte) ([]byte, error) {
	if len(sealed) < Overhead {
		return nil, ErrAuth
	}
	ns := chacha20poly1305.NonceSizeX
	plain, err := newAEAD(k.Encrypt).Open(sealed[ns:ns], sealed[:ns], sealed[ns:], nil)
	if err != nil {
		return nil, ErrAuth
	}
	return decompress(plain)
}

func decompress(plain []byte) ([]byte, error) {
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
