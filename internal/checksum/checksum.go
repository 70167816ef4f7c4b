// Package checksum implements S3's additional checksums: the
// x-amz-checksum-{crc32,crc32c,crc64nvme,sha1,sha256} headers, the
// algorithm and checksum-type request parameters, composite
// ("checksum of checksums") and full-object multipart checksums, and a
// single-pass MultiHasher that computes the MD5 ETag alongside any set of
// checksum algorithms.
//
// All checksum values travel on the wire as the standard (padded) base64
// encoding of the big-endian digest bytes.
package checksum

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"hash/crc64"
	"strings"
)

// Algorithm is an S3 checksum algorithm name, in its canonical upper-case
// form as used by x-amz-checksum-algorithm.
type Algorithm string

// The checksum algorithms supported by S3.
const (
	CRC32     Algorithm = "CRC32"     // CRC-32 (IEEE), as in zlib/gzip.
	CRC32C    Algorithm = "CRC32C"    // CRC-32C (Castagnoli).
	CRC64NVME Algorithm = "CRC64NVME" // CRC-64/NVME.
	SHA1      Algorithm = "SHA1"      // SHA-1.
	SHA256    Algorithm = "SHA256"    // SHA-256.
)

// Algorithms lists every supported algorithm in a stable order. Callers
// must not modify it.
var Algorithms = []Algorithm{CRC32, CRC32C, CRC64NVME, SHA1, SHA256}

// Errors returned by this package. They may be wrapped; use errors.Is.
var (
	// ErrUnknownAlgorithm reports an unrecognised algorithm name.
	ErrUnknownAlgorithm = errors.New("checksum: unknown algorithm")
	// ErrUnknownType reports an unrecognised checksum type.
	ErrUnknownType = errors.New("checksum: unknown checksum type")
	// ErrInvalidValue reports a checksum value that is not valid base64
	// or whose decoded length does not match the algorithm's digest size.
	ErrInvalidValue = errors.New("checksum: invalid checksum value")
	// ErrNotCRC reports a CRC-only operation (Combine, FullObjectOf)
	// requested for a non-CRC algorithm.
	ErrNotCRC = errors.New("checksum: algorithm is not a CRC")
)

// HeaderPrefix is the common prefix of all per-algorithm checksum headers.
const HeaderPrefix = "x-amz-checksum-"

// Other request/response headers related to checksums.
const (
	HeaderAlgorithm    = "x-amz-checksum-algorithm"
	HeaderSDKAlgorithm = "x-amz-sdk-checksum-algorithm"
	HeaderType         = "x-amz-checksum-type"
)

// index returns a's position in Algorithms, or -1 if a is not valid.
func (a Algorithm) index() int {
	switch a {
	case CRC32:
		return 0
	case CRC32C:
		return 1
	case CRC64NVME:
		return 2
	case SHA1:
		return 3
	case SHA256:
		return 4
	}
	return -1
}

const numAlgorithms = 5

// Parse returns the Algorithm named by s, case-insensitively (surrounding
// white space is ignored). It returns ErrUnknownAlgorithm for anything else,
// including the empty string.
func Parse(s string) (Algorithm, error) {
	a := Algorithm(strings.ToUpper(strings.TrimSpace(s)))
	if a.index() < 0 {
		return "", fmt.Errorf("%w: %q", ErrUnknownAlgorithm, s)
	}
	return a, nil
}

// Valid reports whether a is one of the supported algorithms.
func (a Algorithm) Valid() bool { return a.index() >= 0 }

// String returns the canonical name of a.
func (a Algorithm) String() string { return string(a) }

var (
	castagnoliTable = crc32.MakeTable(crc32.Castagnoli)
	// nvmeTable uses the reflected CRC-64/NVME polynomial; hash/crc64
	// already applies init = xorout = all-ones, as CRC-64/NVME requires.
	nvmeTable = crc64.MakeTable(nvmePoly)
)

// nvmePoly is the CRC-64/NVME polynomial 0xad93d23594c93659 in reflected
// (LSB-first) form.
const nvmePoly = 0x9a6c9329ac4bc9b5

// New returns a new hash computing a. Sum returns the big-endian digest, as
// S3 encodes it. New returns nil if a is not a valid algorithm.
func (a Algorithm) New() hash.Hash {
	switch a {
	case CRC32:
		return crc32.NewIEEE()
	case CRC32C:
		return crc32.New(castagnoliTable)
	case CRC64NVME:
		return crc64.New(nvmeTable)
	case SHA1:
		return sha1.New()
	case SHA256:
		return sha256.New()
	}
	return nil
}

// Header returns the lower-case name of the header carrying a's value,
// e.g. "x-amz-checksum-crc32", or "" if a is not valid.
func (a Algorithm) Header() string {
	switch a {
	case CRC32:
		return "x-amz-checksum-crc32"
	case CRC32C:
		return "x-amz-checksum-crc32c"
	case CRC64NVME:
		return "x-amz-checksum-crc64nvme"
	case SHA1:
		return "x-amz-checksum-sha1"
	case SHA256:
		return "x-amz-checksum-sha256"
	}
	return ""
}

// FromHeader is the inverse of Header: it maps a header name, compared
// case-insensitively, to its algorithm. It reports false for any other
// name, including x-amz-checksum-algorithm and x-amz-checksum-type.
func FromHeader(name string) (Algorithm, bool) {
	if len(name) <= len(HeaderPrefix) || !strings.EqualFold(name[:len(HeaderPrefix)], HeaderPrefix) {
		return "", false
	}
	a := Algorithm(strings.ToUpper(name[len(HeaderPrefix):]))
	if a.index() < 0 {
		return "", false
	}
	return a, true
}

// Size returns the digest length of a in bytes, or 0 if a is not valid.
func (a Algorithm) Size() int {
	switch a {
	case CRC32, CRC32C:
		return 4
	case CRC64NVME:
		return 8
	case SHA1:
		return sha1.Size
	case SHA256:
		return sha256.Size
	}
	return 0
}

// IsCRC reports whether a is one of the CRC algorithms.
func (a Algorithm) IsCRC() bool {
	return a == CRC32 || a == CRC32C || a == CRC64NVME
}

// SupportsFullObject reports whether a can produce FULL_OBJECT multipart
// checksums (true for the CRCs, whose part values can be combined).
func (a Algorithm) SupportsFullObject() bool { return a.IsCRC() }

// SupportsComposite reports whether S3 allows COMPOSITE multipart checksums
// with a: every algorithm except CRC64NVME, which is full-object only.
func (a Algorithm) SupportsComposite() bool { return a.Valid() && a != CRC64NVME }

// SupportsType reports whether a may be used with multipart checksum type t.
func (a Algorithm) SupportsType(t Type) bool {
	switch t {
	case Composite:
		return a.SupportsComposite()
	case FullObject:
		return a.SupportsFullObject()
	}
	return false
}

// DefaultType returns the multipart checksum type S3 assumes for a when
// x-amz-checksum-type is absent: FULL_OBJECT for CRC64NVME, COMPOSITE
// otherwise.
func (a Algorithm) DefaultType() Type {
	if a == CRC64NVME {
		return FullObject
	}
	return Composite
}

// Encode returns the standard padded base64 encoding of a digest.
func Encode(sum []byte) string { return base64.StdEncoding.EncodeToString(sum) }

// Decode decodes a standard padded base64 checksum value without checking
// its length. It returns an error wrapping ErrInvalidValue on bad input.
func Decode(s string) ([]byte, error) {
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidValue, err)
	}
	return b, nil
}

// Decode decodes a base64 checksum value for a and checks that it has
// a.Size() bytes. Errors wrap ErrInvalidValue (bad base64 or length) or
// ErrUnknownAlgorithm.
func (a Algorithm) Decode(s string) ([]byte, error) {
	n := a.Size()
	if n == 0 {
		return nil, fmt.Errorf("%w: %q", ErrUnknownAlgorithm, string(a))
	}
	b, err := Decode(s)
	if err != nil {
		return nil, err
	}
	if len(b) != n {
		return nil, fmt.Errorf("%w: %s value is %d bytes, want %d", ErrInvalidValue, a, len(b), n)
	}
	return b, nil
}

// Type is a multipart upload checksum type (x-amz-checksum-type).
type Type string

// The multipart checksum types.
const (
	// Composite is a checksum of the part checksums, suffixed "-N".
	Composite Type = "COMPOSITE"
	// FullObject is the checksum of the whole object's bytes, derived
	// from the part CRCs with Combine.
	FullObject Type = "FULL_OBJECT"
)

// ParseType parses a checksum type case-insensitively. It returns an error
// wrapping ErrUnknownType for anything other than COMPOSITE or FULL_OBJECT.
func ParseType(s string) (Type, error) {
	t := Type(strings.ToUpper(strings.TrimSpace(s)))
	if t != Composite && t != FullObject {
		return "", fmt.Errorf("%w: %q", ErrUnknownType, s)
	}
	return t, nil
}

// String returns the canonical name of t.
func (t Type) String() string { return string(t) }
