package checksum

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
)

// CompositeOf returns S3's COMPOSITE multipart checksum: a's digest over the
// concatenated raw part digests, base64-encoded, with "-N" appended where N
// is the number of parts. It returns "" if a is not valid.
func CompositeOf(a Algorithm, parts [][]byte) string {
	h := a.New()
	if h == nil {
		return ""
	}
	for _, p := range parts {
		h.Write(p)
	}
	return Encode(h.Sum(nil)) + "-" + strconv.Itoa(len(parts))
}

// SplitComposite splits a composite checksum value "BASE64-N" into its
// base64 digest and part count. It reports false if s has no valid "-N"
// suffix (N a positive decimal integer).
func SplitComposite(s string) (sum string, parts int, ok bool) {
	i := strings.LastIndexByte(s, '-')
	if i < 0 {
		return "", 0, false
	}
	n, err := strconv.Atoi(s[i+1:])
	if err != nil || n <= 0 || s[i+1] == '+' {
		return "", 0, false
	}
	return s[:i], n, true
}

// Part describes one part of a multipart upload for FullObjectOf: its raw
// (big-endian) CRC and its length in bytes.
type Part struct {
	Sum  []byte
	Size int64
}

// crcModel describes a reflected CRC with init = xorout = all-ones, the
// shape shared by CRC-32, CRC-32C and CRC-64/NVME. Polynomials are stored
// LSB-first, so bit width-1 holds x^0.
type crcModel struct {
	width int    // 32 or 64
	poly  uint64 // reflected polynomial
	one   uint64 // the polynomial 1 (x^0) in reflected form: 1 << (width-1)
	// x2n[k] = x^(2^k) mod poly, for k = 0..len-1; enough for any
	// non-negative int64 byte count (bit count < 2^66).
	x2n [67]uint64
}

func newCRCModel(width int, poly uint64) *crcModel {
	m := &crcModel{width: width, poly: poly, one: 1 << (width - 1)}
	p := m.one >> 1 // x^1
	for k := range m.x2n {
		m.x2n[k] = p
		p = m.mulmod(p, p)
	}
	return m
}

var (
	crc32Model  = newCRCModel(32, 0xedb88320)
	crc32cModel = newCRCModel(32, 0x82f63b78)
	crc64Model  = newCRCModel(64, nvmePoly)
)

func modelFor(a Algorithm) *crcModel {
	switch a {
	case CRC32:
		return crc32Model
	case CRC32C:
		return crc32cModel
	case CRC64NVME:
		return crc64Model
	}
	return nil
}

// mulmod returns a*b modulo the polynomial, all in reflected form
// (zlib's multmodp).
func (m *crcModel) mulmod(a, b uint64) uint64 {
	var p uint64
	for bit := m.one; bit != 0 && a != 0; bit >>= 1 {
		if a&bit != 0 {
			p ^= b
			a ^= bit
		}
		if b&1 != 0 {
			b = b>>1 ^ m.poly
		} else {
			b >>= 1
		}
	}
	return p
}

// shift returns x^(8*n) mod poly for n >= 0 (zlib's x2nmodp(n, 3)).
func (m *crcModel) shift(n int64) uint64 {
	p := m.one
	for k := 3; n != 0; k++ {
		if n&1 != 0 {
			p = m.mulmod(m.x2n[k], p)
		}
		n >>= 1
	}
	return p
}

// combine returns crc(A||B) from crc(A), crc(B) and len(B).
func (m *crcModel) combine(crcA, crcB uint64, lenB int64) uint64 {
	return m.mulmod(m.shift(lenB), crcA) ^ crcB
}

func (m *crcModel) get(b []byte) uint64 {
	if m.width == 32 {
		return uint64(binary.BigEndian.Uint32(b))
	}
	return binary.BigEndian.Uint64(b)
}

func (m *crcModel) put(v uint64) []byte {
	if m.width == 32 {
		return binary.BigEndian.AppendUint32(nil, uint32(v))
	}
	return binary.BigEndian.AppendUint64(nil, v)
}

// Combine returns the CRC of the concatenation A||B given the big-endian
// CRCs of A and B and the length of B in bytes, using zlib's
// crc32_combine technique (multiplication by x^(8*lenB) modulo the CRC
// polynomial) in O(log lenB) time. a must be CRC32, CRC32C or CRC64NVME
// (otherwise the error wraps ErrNotCRC); crcA and crcB must be a.Size()
// bytes and lenB non-negative (otherwise the error wraps ErrInvalidValue).
func Combine(a Algorithm, crcA, crcB []byte, lenB int64) ([]byte, error) {
	m := modelFor(a)
	if m == nil {
		return nil, fmt.Errorf("%w: %q", ErrNotCRC, string(a))
	}
	if len(crcA) != a.Size() || len(crcB) != a.Size() {
		return nil, fmt.Errorf("%w: %s combine needs %d-byte CRCs, got %d and %d",
			ErrInvalidValue, a, a.Size(), len(crcA), len(crcB))
	}
	if lenB < 0 {
		return nil, fmt.Errorf("%w: negative length %d", ErrInvalidValue, lenB)
	}
	return m.put(m.combine(m.get(crcA), m.get(crcB), lenB)), nil
}

// FullObjectOf returns the FULL_OBJECT checksum of a multipart upload: the
// raw CRC of the concatenation of all parts, obtained by folding the part
// CRCs in order with Combine. With no parts it returns the CRC of the empty
// string (all zero bytes). Errors are as for Combine, with the offending
// part's index.
func FullObjectOf(a Algorithm, parts []Part) ([]byte, error) {
	m := modelFor(a)
	if m == nil {
		return nil, fmt.Errorf("%w: %q", ErrNotCRC, string(a))
	}
	var crc uint64 // CRC of the empty string is 0 for these models
	for i, p := range parts {
		if len(p.Sum) != a.Size() {
			return nil, fmt.Errorf("%w: part %d: %s CRC is %d bytes, want %d",
				ErrInvalidValue, i, a, len(p.Sum), a.Size())
		}
		if p.Size < 0 {
			return nil, fmt.Errorf("%w: part %d: negative size %d", ErrInvalidValue, i, p.Size)
		}
		crc = m.combine(crc, m.get(p.Sum), p.Size)
	}
	return m.put(crc), nil
}
