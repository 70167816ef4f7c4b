package sigv4

import (
	"bytes"
	"io"
	"net/http"
	"testing"
	"time"
)

// BenchmarkVerifyHeader verifies a typical header-signed GetObject as the
// S3 client sends it (eight signed headers, a query parameter).
func BenchmarkVerifyHeader(b *testing.B) {
	q := sdkReq{method: "GET", url: s3URL("bucket", "photos/2025/a b.jpg", "partNumber=1"), header: http.Header{
		"Accept-Encoding":       {"identity"},
		"Amz-Sdk-Invocation-Id": {"79f48544-9281-44df-a273-3e03160cd868"},
		"Amz-Sdk-Request":       {"attempt=1; max=3"},
		"Range":                 {"bytes=0-1023"},
	}}
	q.header = withHash(q.header, &q)
	r := q.sign(b)
	v := newVerifier(signTime)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(r); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyPresigned(b *testing.B) {
	q := sdkReq{method: "GET", url: s3URL("bucket", "photos/2025/a b.jpg", "")}
	r := q.presign(b, time.Hour)
	v := newVerifier(signTime)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(r); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkChunkedSigned measures decoding and verifying a signed
// aws-chunked body (64 KiB chunks).
func BenchmarkChunkedSigned(b *testing.B) {
	ref, _ := fuzzSigner()
	data := testData(8 << 20)
	body := ref.encodeSigned(string(bytes.Repeat([]byte("5"), 64)), data, 64<<10, nil, false)
	buf := make([]byte, 32<<10)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		c := newChunkedReader(io.NopCloser(bytes.NewReader(body)), int64(len(data)), nil)
		_, c.signer = fuzzSigner()
		if _, err := io.CopyBuffer(io.Discard, c, buf); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkChunkedUnsigned measures decoding an unsigned aws-chunked body
// with a trailer, as the SDKs send over HTTPS.
func BenchmarkChunkedUnsigned(b *testing.B) {
	data := testData(8 << 20)
	body := encodeUnsigned(data, 64<<10, [][2]string{{"x-amz-checksum-crc32", "AAAAAA=="}})
	buf := make([]byte, 32<<10)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		c := newChunkedReader(io.NopCloser(bytes.NewReader(body)), int64(len(data)), []string{"x-amz-checksum-crc32"})
		c.trailers = true
		if _, err := io.CopyBuffer(io.Discard, c, buf); err != nil {
			b.Fatal(err)
		}
	}
}
