package checksum

import (
	"bytes"
	"crypto/md5"
	"errors"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
)

// Expected values computed independently with Python (zlib.crc32, hashlib,
// bitwise CRC-32C / CRC-64/NVME implementations verified against the
// published check values); CRC32 cross-checked with botocore's
// Crc32Checksum.
var vectors = []struct {
	in   string
	want map[Algorithm]string
}{
	{"", map[Algorithm]string{
		CRC32:     "AAAAAA==",
		CRC32C:    "AAAAAA==",
		CRC64NVME: "AAAAAAAAAAA=",
		SHA1:      "2jmj7l5rSw0yVb/vlWAYkK/YBwk=",
		SHA256:    "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
	}},
	{"123456789", map[Algorithm]string{
		CRC32:     "y/Q5Jg==",     // 0xcbf43926
		CRC32C:    "4waSgw==",     // 0xe3069283
		CRC64NVME: "rosUhgp5mIg=", // 0xae8b14860a799888
		SHA1:      "98O8HYCOBHMq32eZZczDTKeuNEE=",
		SHA256:    "FeKw08M4keuw8e9gnsQZQgwg4yDOlMZfvIwzEkSOsiU=",
	}},
	{"hello world", map[Algorithm]string{
		CRC32:     "DUoRhQ==",
		CRC32C:    "yZRlqg==",
		CRC64NVME: "jSnVw/bqjr4=",
		SHA1:      "Kq5sNclPz7QV2+lfQIuc6R7oRu0=",
		SHA256:    "uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek=",
	}},
}

func TestVectors(t *testing.T) {
	for _, v := range vectors {
		if len(v.want) != len(Algorithms) {
			t.Fatalf("vector %q does not cover all algorithms", v.in)
		}
		for _, a := range Algorithms {
			h := a.New()
			io.WriteString(h, v.in)
			sum := h.Sum(nil)
			if len(sum) != a.Size() || h.Size() != a.Size() {
				t.Errorf("%s: digest len %d, hash.Size %d, Size() %d", a, len(sum), h.Size(), a.Size())
			}
			if got := Encode(sum); got != v.want[a] {
				t.Errorf("%s(%q) = %s, want %s", a, v.in, got, v.want[a])
			}
			dec, err := a.Decode(v.want[a])
			if err != nil || !bytes.Equal(dec, sum) {
				t.Errorf("%s.Decode(%s) = %x, %v", a, v.want[a], dec, err)
			}
		}
		// The MultiHasher must agree, in one pass, split across writes.
		m := NewMultiHasher(Algorithms...)
		io.WriteString(m, v.in[:len(v.in)/2])
		io.WriteString(m, v.in[len(v.in)/2:])
		for _, a := range Algorithms {
			if got := m.Encoded(a); got != v.want[a] {
				t.Errorf("MultiHasher %s(%q) = %s, want %s", a, v.in, got, v.want[a])
			}
		}
		if want := md5.Sum([]byte(v.in)); !bytes.Equal(m.MD5(), want[:]) {
			t.Errorf("MultiHasher MD5(%q) = %x, want %x", v.in, m.MD5(), want)
		}
		if m.Size() != int64(len(v.in)) {
			t.Errorf("MultiHasher Size = %d, want %d", m.Size(), len(v.in))
		}
	}
}

func TestCheckValues(t *testing.T) {
	check := []byte("123456789")
	for a, want := range map[Algorithm]uint64{
		CRC32: 0xcbf43926, CRC32C: 0xe3069283, CRC64NVME: 0xae8b14860a799888,
	} {
		h := a.New()
		h.Write(check)
		m := modelFor(a)
		if got := m.get(h.Sum(nil)); got != want {
			t.Errorf("%s check = %#x, want %#x", a, got, want)
		}
	}
}

func TestParse(t *testing.T) {
	for _, a := range Algorithms {
		for _, s := range []string{string(a), strings.ToLower(string(a)), " " + string(a) + " "} {
			got, err := Parse(s)
			if err != nil || got != a {
				t.Errorf("Parse(%q) = %q, %v", s, got, err)
			}
		}
	}
	if got, err := Parse("crc64nvme"); got != CRC64NVME || err != nil {
		t.Errorf("Parse(crc64nvme) = %q, %v", got, err)
	}
	for _, s := range []string{"", "MD5", "CRC64", "SHA-256", "crc32cc"} {
		if _, err := Parse(s); !errors.Is(err, ErrUnknownAlgorithm) {
			t.Errorf("Parse(%q) err = %v, want ErrUnknownAlgorithm", s, err)
		}
	}
}

func TestHeaders(t *testing.T) {
	want := map[Algorithm]string{
		CRC32: "x-amz-checksum-crc32", CRC32C: "x-amz-checksum-crc32c",
		CRC64NVME: "x-amz-checksum-crc64nvme", SHA1: "x-amz-checksum-sha1",
		SHA256: "x-amz-checksum-sha256",
	}
	for _, a := range Algorithms {
		if a.Header() != want[a] {
			t.Errorf("%s.Header() = %q", a, a.Header())
		}
		for _, h := range []string{want[a], strings.ToUpper(want[a]), "X-Amz-Checksum-" + strings.ToLower(string(a))} {
			if got, ok := FromHeader(h); !ok || got != a {
				t.Errorf("FromHeader(%q) = %q, %v", h, got, ok)
			}
		}
	}
	for _, h := range []string{"", "x-amz-checksum-", "x-amz-checksum-algorithm", "x-amz-checksum-type",
		"x-amz-checksum-md5", "content-md5", "x-amz-checksum-crc32x", "y-amz-checksum-crc32"} {
		if got, ok := FromHeader(h); ok {
			t.Errorf("FromHeader(%q) = %q, true", h, got)
		}
	}
	if Algorithm("MD5").Header() != "" || Algorithm("MD5").Size() != 0 || Algorithm("MD5").New() != nil {
		t.Error("invalid algorithm should have no header, size or hash")
	}
}

func TestCapabilities(t *testing.T) {
	for _, a := range Algorithms {
		crc := strings.HasPrefix(string(a), "CRC")
		if a.SupportsFullObject() != crc || a.IsCRC() != crc {
			t.Errorf("%s.SupportsFullObject() = %v", a, a.SupportsFullObject())
		}
		if a.SupportsComposite() != (a != CRC64NVME) {
			t.Errorf("%s.SupportsComposite() = %v", a, a.SupportsComposite())
		}
		if !a.SupportsType(a.DefaultType()) {
			t.Errorf("%s does not support its default type %s", a, a.DefaultType())
		}
	}
	if CRC64NVME.DefaultType() != FullObject || CRC32.DefaultType() != Composite || SHA256.SupportsType(FullObject) {
		t.Error("unexpected type defaults")
	}
	if Algorithm("X").SupportsComposite() || Algorithm("X").SupportsFullObject() {
		t.Error("invalid algorithm supports a type")
	}
}

func TestParseType(t *testing.T) {
	for s, want := range map[string]Type{"COMPOSITE": Composite, "composite": Composite, "Full_Object": FullObject} {
		if got, err := ParseType(s); err != nil || got != want {
			t.Errorf("ParseType(%q) = %q, %v", s, got, err)
		}
	}
	for _, s := range []string{"", "FULL-OBJECT", "FULLOBJECT", "x"} {
		if _, err := ParseType(s); !errors.Is(err, ErrUnknownType) {
			t.Errorf("ParseType(%q) err = %v", s, err)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	cases := []struct {
		a   Algorithm
		in  string
		err error
	}{
		{CRC32, "", ErrInvalidValue},
		{CRC32, "not base64!", ErrInvalidValue},
		{CRC32, "AAAAAA", ErrInvalidValue},        // missing padding
		{CRC32, "AAAAAAA=", ErrInvalidValue},      // 5 bytes
		{CRC32, "AAAA", ErrInvalidValue},          // 3 bytes
		{CRC32C, "rosUhgp5mIg=", ErrInvalidValue}, // a CRC64 value
		{CRC64NVME, "y/Q5Jg==", ErrInvalidValue},
		{SHA1, "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", ErrInvalidValue},
		{SHA256, "2jmj7l5rSw0yVb/vlWAYkK/YBwk=", ErrInvalidValue},
		{SHA256, "uU0nuZNNPgilLlLX2n2r-sSE7-N6U4DukIj3rOLvzek=", ErrInvalidValue}, // URL alphabet
		{CRC32, "y/Q5Jh==", ErrInvalidValue},                                      // non-canonical trailing bits
		{"MD5", "AAAAAA==", ErrUnknownAlgorithm},
	}
	for _, c := range cases {
		b, err := c.a.Decode(c.in)
		if !errors.Is(err, c.err) || b != nil {
			t.Errorf("%s.Decode(%q) = %x, %v; want %v", c.a, c.in, b, err, c.err)
		}
	}
	if _, err := Decode("%%%"); !errors.Is(err, ErrInvalidValue) {
		t.Errorf("Decode err = %v", err)
	}
	if b, err := Decode("AAAAAAA="); err != nil || len(b) != 5 {
		t.Errorf("Decode without algorithm = %x, %v", b, err)
	}
}

func TestCompositeOf(t *testing.T) {
	// Parts "hello " and "world"; expected values computed with Python as
	// b64(H(H("hello ") || H("world"))) + "-2".
	want := map[Algorithm]string{
		CRC32:     "1Fu2mQ==-2",
		CRC32C:    "vUZpoA==-2",
		CRC64NVME: "6sDIYil0oVY=-2",
		SHA1:      "9oeo+kMlG3hL6irRRMB+8GuSWwc=-2",
		SHA256:    "Zhie15keHg/OBlOZxcoF/BXCgYZaeimRvdZnwUZqkaQ=-2",
	}
	for _, a := range Algorithms {
		var parts [][]byte
		for _, p := range []string{"hello ", "world"} {
			h := a.New()
			io.WriteString(h, p)
			parts = append(parts, h.Sum(nil))
		}
		got := CompositeOf(a, parts)
		if got != want[a] {
			t.Errorf("CompositeOf(%s) = %s, want %s", a, got, want[a])
		}
		sum, n, ok := SplitComposite(got)
		if !ok || n != 2 || sum+"-2" != got {
			t.Errorf("SplitComposite(%s) = %q, %d, %v", got, sum, n, ok)
		}
		if _, err := a.Decode(sum); err != nil {
			t.Errorf("composite digest does not decode: %v", err)
		}
	}
	// By hand for a single part: SHA256 of the SHA256 digest of "".
	empty := SHA256.New().Sum(nil)
	h := SHA256.New()
	h.Write(empty)
	if got, want := CompositeOf(SHA256, [][]byte{empty}), Encode(h.Sum(nil))+"-1"; got != want {
		t.Errorf("single-part composite = %s, want %s", got, want)
	}
	if CompositeOf("nope", nil) != "" {
		t.Error("CompositeOf with invalid algorithm should be empty")
	}
	for _, s := range []string{"abc", "abc-", "abc-0", "abc-+1", "abc-x"} {
		if _, _, ok := SplitComposite(s); ok {
			t.Errorf("SplitComposite(%q) ok", s)
		}
	}
}

func crcOf(a Algorithm, b []byte) []byte {
	h := a.New()
	h.Write(b)
	return h.Sum(nil)
}

var crcAlgorithms = []Algorithm{CRC32, CRC32C, CRC64NVME}

func TestCombineRandomSplits(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	data := make([]byte, 1<<16)
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	for _, a := range crcAlgorithms {
		for range 300 {
			n := r.IntN(len(data) + 1)
			buf := data[:n]
			k := r.IntN(n + 1)
			got, err := Combine(a, crcOf(a, buf[:k]), crcOf(a, buf[k:]), int64(n-k))
			if err != nil {
				t.Fatal(err)
			}
			if want := crcOf(a, buf); !bytes.Equal(got, want) {
				t.Fatalf("%s: Combine split %d/%d = %x, want %x", a, k, n, got, want)
			}
		}
		// lenB == 0 leaves crcA unchanged (crc("") == 0).
		x := crcOf(a, data[:1234])
		if got, _ := Combine(a, x, crcOf(a, nil), 0); !bytes.Equal(got, x) {
			t.Errorf("%s: Combine with empty B = %x, want %x", a, got, x)
		}
		// Empty A: result is crc(B).
		if got, _ := Combine(a, crcOf(a, nil), x, 1234); !bytes.Equal(got, x) {
			t.Errorf("%s: Combine with empty A = %x, want %x", a, got, x)
		}
	}
}

func TestCombineLarge(t *testing.T) {
	// B = 64 MiB + 3 bytes of zeros, computed directly.
	const n = 64<<20 + 3
	zeros := make([]byte, n)
	prefix := []byte("firn large combine")
	for _, a := range crcAlgorithms {
		got, err := Combine(a, crcOf(a, prefix), crcOf(a, zeros), n)
		if err != nil {
			t.Fatal(err)
		}
		h := a.New()
		h.Write(prefix)
		h.Write(zeros)
		if want := h.Sum(nil); !bytes.Equal(got, want) {
			t.Errorf("%s: large Combine = %x, want %x", a, got, want)
		}
	}
	// Associativity for huge (not materialised) lengths: combining
	// (A,B) then C must equal A then (B,C).
	r := rand.New(rand.NewPCG(3, 4))
	for _, a := range crcAlgorithms {
		for range 50 {
			ca, cb, cc := randSum(r, a), randSum(r, a), randSum(r, a)
			lb, lc := r.Int64N(1<<62), r.Int64N(1<<62)
			ab, _ := Combine(a, ca, cb, lb)
			left, _ := Combine(a, ab, cc, lc)
			bc, _ := Combine(a, cb, cc, lc)
			right, _ := Combine(a, ca, bc, lb+lc)
			if !bytes.Equal(left, right) {
				t.Fatalf("%s: Combine not associative for lb=%d lc=%d", a, lb, lc)
			}
		}
		// Maximum length is accepted.
		if _, err := Combine(a, randSum(r, a), randSum(r, a), 1<<63-1); err != nil {
			t.Error(err)
		}
	}
}

func randSum(r *rand.Rand, a Algorithm) []byte {
	b := make([]byte, a.Size())
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func TestCombineMatchesZlibStyleCRC32(t *testing.T) {
	// Cross-check against the stdlib's own CRC-32 of a concatenation via
	// crc32.Update continuing from crc(A).
	a, b := []byte("The quick brown fox "), []byte("jumps over the lazy dog")
	want := crc32.Update(crc32.ChecksumIEEE(a), crc32.IEEETable, b)
	got, _ := Combine(CRC32, crcOf(CRC32, a), crcOf(CRC32, b), int64(len(b)))
	if crc32Model.get(got) != uint64(want) {
		t.Errorf("Combine = %x, want %08x", got, want)
	}
}

func TestCombineErrors(t *testing.T) {
	four, eight := make([]byte, 4), make([]byte, 8)
	cases := []struct {
		a          Algorithm
		crcA, crcB []byte
		lenB       int64
		err        error
	}{
		{SHA256, make([]byte, 32), make([]byte, 32), 1, ErrNotCRC},
		{SHA1, make([]byte, 20), make([]byte, 20), 1, ErrNotCRC},
		{"", four, four, 1, ErrNotCRC},
		{CRC32, eight, four, 1, ErrInvalidValue},
		{CRC64NVME, eight, four, 1, ErrInvalidValue},
		{CRC32C, four, nil, 1, ErrInvalidValue},
		{CRC32, four, four, -1, ErrInvalidValue},
	}
	for _, c := range cases {
		if _, err := Combine(c.a, c.crcA, c.crcB, c.lenB); !errors.Is(err, c.err) {
			t.Errorf("Combine(%s, %d, %d, %d) err = %v, want %v", c.a, len(c.crcA), len(c.crcB), c.lenB, err, c.err)
		}
	}
}

func TestFullObjectOf(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	data := make([]byte, 3<<20+17)
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	for _, a := range crcAlgorithms {
		for range 20 {
			var parts []Part
			for off := 0; off < len(data); {
				n := min(len(data)-off, r.IntN(1<<20))
				parts = append(parts, Part{Sum: crcOf(a, data[off:off+n]), Size: int64(n)})
				off += n
			}
			got, err := FullObjectOf(a, parts)
			if err != nil {
				t.Fatal(err)
			}
			if want := crcOf(a, data); !bytes.Equal(got, want) {
				t.Fatalf("%s: FullObjectOf(%d parts) = %x, want %x", a, len(parts), got, want)
			}
		}
		// "hello world" in two parts equals the whole-object vector.
		got, _ := FullObjectOf(a, []Part{
			{crcOf(a, []byte("hello ")), 6}, {crcOf(a, []byte("world")), 5},
		})
		if Encode(got) != vectors[2].want[a] {
			t.Errorf("%s: FullObjectOf(hello world) = %s, want %s", a, Encode(got), vectors[2].want[a])
		}
		empty, err := FullObjectOf(a, nil)
		if err != nil || !bytes.Equal(empty, crcOf(a, nil)) {
			t.Errorf("%s: FullObjectOf(nil) = %x, %v", a, empty, err)
		}
		if _, err := FullObjectOf(a, []Part{{Sum: []byte{1}, Size: 1}}); !errors.Is(err, ErrInvalidValue) {
			t.Errorf("%s: short part sum err = %v", a, err)
		}
		if _, err := FullObjectOf(a, []Part{{Sum: crcOf(a, nil), Size: -1}}); !errors.Is(err, ErrInvalidValue) {
			t.Errorf("%s: negative part size err = %v", a, err)
		}
	}
	if _, err := FullObjectOf(SHA256, nil); !errors.Is(err, ErrNotCRC) {
		t.Errorf("FullObjectOf(SHA256) err = %v", err)
	}
}

func TestMultiHasher(t *testing.T) {
	m := NewMultiHasher(SHA256, CRC32, CRC32, "bogus")
	if got := m.Algorithms(); len(got) != 2 || got[0] != CRC32 || got[1] != SHA256 {
		t.Errorf("Algorithms() = %v", got)
	}
	if m.Sum(SHA1) != nil || m.Encoded(SHA1) != "" || m.Has(SHA1) || m.Sum("bogus") != nil {
		t.Error("unrequested algorithm returned a sum")
	}
	if !m.Has(CRC32) || !m.Has(SHA256) {
		t.Error("Has false for requested algorithm")
	}
	data := bytes.Repeat([]byte("firn"), 100000)
	if n, err := io.Copy(m, bytes.NewReader(data)); err != nil || n != int64(len(data)) {
		t.Fatalf("copy: %d, %v", n, err)
	}
	if !bytes.Equal(m.Sum(CRC32), crcOf(CRC32, data)) || !bytes.Equal(m.Sum(SHA256), crcOf(SHA256, data)) {
		t.Error("MultiHasher sums differ from direct hashes")
	}
	if want := md5.Sum(data); !bytes.Equal(m.MD5(), want[:]) {
		t.Error("MD5 mismatch")
	}
	// Sum does not disturb state; writing continues.
	m.Write([]byte("x"))
	if !bytes.Equal(m.Sum(CRC32), crcOf(CRC32, append(data, 'x'))) || m.Size() != int64(len(data)+1) {
		t.Error("continued write mismatch")
	}
	m.Reset()
	if m.Size() != 0 || Encode(m.Sum(CRC32)) != "AAAAAA==" || !bytes.Equal(m.MD5(), md5.New().Sum(nil)) {
		t.Error("Reset did not clear state")
	}
	// MD5 alone.
	m0 := NewMultiHasher()
	m0.Write(data)
	if want := md5.Sum(data); !bytes.Equal(m0.MD5(), want[:]) || len(m0.Algorithms()) != 0 {
		t.Error("MD5-only MultiHasher mismatch")
	}
}

func BenchmarkMultiHasher(b *testing.B) {
	buf := make([]byte, 1<<20)
	for i := range buf {
		buf[i] = byte(i * 7)
	}
	for _, bc := range []struct {
		name string
		algs []Algorithm
	}{
		{"MD5", nil},
		{"MD5+CRC32", []Algorithm{CRC32}},
		{"MD5+CRC32C", []Algorithm{CRC32C}},
		{"MD5+CRC64NVME", []Algorithm{CRC64NVME}},
		{"MD5+SHA1", []Algorithm{SHA1}},
		{"MD5+SHA256", []Algorithm{SHA256}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			m := NewMultiHasher(bc.algs...)
			b.SetBytes(int64(len(buf)))
			for b.Loop() {
				m.Write(buf)
			}
		})
	}
}

func BenchmarkCombine(b *testing.B) {
	for _, a := range crcAlgorithms {
		x, y := crcOf(a, []byte("a")), crcOf(a, []byte("b"))
		b.Run(string(a), func(b *testing.B) {
			for b.Loop() {
				Combine(a, x, y, 5<<30)
			}
		})
	}
}
