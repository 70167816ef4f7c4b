package sigv4

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func FuzzParseAuthorization(f *testing.F) {
	for _, s := range []string{
		"AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
		"AWS4-HMAC-SHA256 Credential=AK/20250314/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=" + strings.Repeat("ab", 32),
		"AWS4-HMAC-SHA256 Signature=00, Credential=a/b/c/d/e, SignedHeaders=host",
		"AWS4-HMAC-SHA256 Credential=AK/20250314/us-east-1/s3/aws4_request,,SignedHeaders=;;,Signature=",
		"AWS AKIAIOSFODNN7EXAMPLE:frJIUN8DYpKDtOLCwo//yllqDzg=",
		"AWS4-ECDSA-P256-SHA256 Credential=AK/20250314/s3/aws4_request",
		"AWS4-HMAC-SHA256",
		"",
	} {
		f.Add(s)
	}
	v := &Verifier{Region: "us-east-1", Lookup: lookup, Now: func() time.Time { return signTime }}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := parseAuthorization(s)
		if err != nil {
			if err.Kind == nil || err.Error() == "" {
				t.Fatalf("error without kind: %#v", err)
			}
		} else {
			// Invariants of a successful parse, and a stable re-parse.
			if a.cred.accessKeyID == "" || len(a.signedHeaders) == 0 || a.presigned {
				t.Fatalf("bad parse: %+v", a)
			}
			if strings.Join(a.signedHeaders, ";") != a.signedHeadersRaw {
				t.Fatalf("signed headers %q vs raw %q", a.signedHeaders, a.signedHeadersRaw)
			}
			c := a.cred
			again := Algorithm + " Credential=" + c.accessKeyID + "/" + c.date + "/" + c.region + "/" + c.service + "/aws4_request, SignedHeaders=" +
				a.signedHeadersRaw + ", Signature=" + hexString(a.signature[:])
			b, err := parseAuthorization(again)
			if err != nil || b.cred != a.cred || b.signature != a.signature || b.signedHeadersRaw != a.signedHeadersRaw {
				t.Fatalf("re-parse of %q: %+v, %v", again, b, err)
			}
		}

		// The whole verification path must not panic either.
		r, _ := http.NewRequest("GET", "http://s3.example.com/b/k?x=1", nil)
		r.Header["Authorization"] = []string{s}
		r.Header.Set("X-Amz-Date", "20250314T150926Z")
		r.Header.Set("X-Amz-Content-Sha256", EmptySHA256)
		if _, err := v.Verify(r); err == nil {
			t.Fatalf("forged Authorization %q verified", s)
		}
		// And as presigned query parameters.
		q := url.Values{"X-Amz-Algorithm": {Algorithm}, "X-Amz-Credential": {s}, "X-Amz-Date": {"20250314T150926Z"},
			"X-Amz-Expires": {"60"}, "X-Amz-SignedHeaders": {s}, "X-Amz-Signature": {s}}
		r, _ = http.NewRequest("GET", "http://s3.example.com/b/k?"+q.Encode(), nil)
		if _, err := v.Verify(r); err == nil {
			t.Fatalf("forged presigned URL %q verified", s)
		}
	})
}

func hexString(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}

// fuzzSigner returns matching reference and decoder signers.
func fuzzSigner() (refSigner, *chunkSigner) {
	s := refS
	return s, &chunkSigner{
		key:     deriveSigningKey(s.secret, s.date, s.region, s.service),
		amzDate: s.amzDate,
		scope:   s.scope(),
		prev:    strings.Repeat("5", 64),
	}
}

// drain reads r with reads of size n and fails on a read that makes no
// progress (a hang).
func drain(t *testing.T, r io.Reader, n int) ([]byte, error) {
	var out []byte
	buf := make([]byte, n)
	for {
		k, err := r.Read(buf)
		out = append(out, buf[:k]...)
		if err != nil {
			return out, err
		}
		if k == 0 {
			t.Fatal("Read returned 0, nil")
		}
	}
}

func FuzzChunkedReader(f *testing.F) {
	ref, _ := fuzzSigner()
	seed := strings.Repeat("5", 64)
	crc := [][2]string{{"x-amz-checksum-crc32", "AAAAAA=="}}
	f.Add(encodeUnsigned([]byte("hello world"), 4, crc), uint8(0), int64(11), uint16(3))
	f.Add(encodeUnsigned(nil, 4, crc), uint8(0), int64(0), uint16(1))
	f.Add(ref.encodeSigned(seed, []byte("hello world"), 5, nil, false), uint8(1), int64(11), uint16(7))
	f.Add(ref.encodeSigned(seed, []byte("hello world"), 5, crc, true), uint8(2), int64(11), uint16(100))
	f.Add([]byte("5;chunk-signature=00\r\nabc"), uint8(1), int64(-1), uint16(2))
	f.Add([]byte("0\r\n\r\nx-amz-checksum-crc32:1\r\n\r\n"), uint8(0), int64(-1), uint16(2))
	f.Add([]byte("ffffffffffffff\r\n"), uint8(0), int64(-1), uint16(2))

	f.Fuzz(func(t *testing.T, data []byte, mode uint8, decoded int64, readSize uint16) {
		mode %= 3
		n := int(readSize%8192) + 1
		declared := []string{"x-amz-checksum-crc32"}
		newReader := func(body []byte, decoded int64) *chunkedReader {
			c := newChunkedReader(io.NopCloser(bytes.NewReader(body)), decoded, declared)
			if mode > 0 {
				_, c.signer = fuzzSigner()
			}
			c.trailers = mode != 1
			return c
		}
		if decoded < -1 {
			decoded = -1
		}

		// 1. Arbitrary input: no panic, no hang, a sentinel error or EOF.
		c := newReader(data, decoded)
		out, err := drain(t, c, n)
		if err != io.EOF {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("non-protocol error %T %v", err, err)
			}
		} else if decoded >= 0 && int64(len(out)) != decoded {
			t.Fatalf("EOF after %d bytes, decoded length %d", len(out), decoded)
		}

		// 2. Round trip: data as a payload, encoded by the reference
		// encoder, decodes to itself (and signatures agree).
		// (At most ~256 chunks: the reference signer is slow.)
		chunk := max(int(readSize%977)+1, len(data)/256+1)
		var body []byte
		switch mode {
		case 0:
			body = encodeUnsigned(data, chunk, crc)
		case 1:
			body = ref.encodeSigned(seed, data, chunk, nil, false)
		case 2:
			body = ref.encodeSigned(seed, data, chunk, crc, true)
		}
		c = newReader(body, int64(len(data)))
		out, err = drain(t, c, n)
		if err != io.EOF || !bytes.Equal(out, data) {
			t.Fatalf("round trip: %d of %d bytes, %v", len(out), len(data), err)
		}
		if mode != 1 && c.Trailer()["x-amz-checksum-crc32"][0] != "AAAAAA==" {
			t.Fatalf("round trip trailer %v", c.Trailer())
		}
	})
}
