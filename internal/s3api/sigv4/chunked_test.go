package sigv4

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

func testData(n int) []byte {
	r := rand.New(rand.NewPCG(uint64(n), 42))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// signedStreamLength is the encoded length of a signed aws-chunked body.
func signedStreamLength(n, chunk int) int {
	total := 0
	for n > 0 {
		c := min(chunk, n)
		total += len(strconv.FormatInt(int64(c), 16)) + len(";chunk-signature=") + 64 + 2 + c + 2
		n -= c
	}
	return total + 1 + len(";chunk-signature=") + 64 + 2 + 2
}

// sdkStreamingRequest builds a STREAMING-AWS4-HMAC-SHA256-PAYLOAD upload:
// the seed signature by the SDK's SignHTTP, the chunk signatures by the
// SDK's StreamSigner (whose string to sign is the S3 chunk string to sign
// with empty headers).
func sdkStreamingRequest(t testing.TB, data []byte, chunk int, mutate func([]byte) []byte) *http.Request {
	t.Helper()
	encLen := signedStreamLength(len(data), chunk)
	req, err := http.NewRequest("PUT", s3URL("bucket", "stream obj", "x-id=PutObject"), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = int64(encLen)
	req.Header.Set("Content-Encoding", "aws-chunked")
	req.Header.Set("X-Amz-Decoded-Content-Length", strconv.Itoa(len(data)))
	req.Header.Set("X-Amz-Content-Sha256", StreamingPayload)
	req.Header.Set("X-Amz-Storage-Class", "STANDARD")
	if err := v4.NewSigner().SignHTTP(context.Background(), sdkCreds, req, StreamingPayload, "s3", "us-east-1", signTime,
		func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true }); err != nil {
		t.Fatal(err)
	}
	auth := req.Header.Get("Authorization")
	seed, err := hex.DecodeString(auth[strings.LastIndex(auth, "=")+1:])
	if err != nil {
		t.Fatal(err)
	}
	ss := v4.NewStreamSigner(sdkCreds, "s3", "us-east-1", seed)
	var body bytes.Buffer
	rest := data
	for {
		n := min(chunk, len(rest))
		sig, err := ss.GetSignature(context.Background(), nil, rest[:n], signTime)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&body, "%x;chunk-signature=%x\r\n", n, sig)
		body.Write(rest[:n])
		if n == 0 {
			body.WriteString("\r\n")
			break
		}
		body.WriteString("\r\n")
		rest = rest[n:]
	}
	if body.Len() != encLen {
		t.Fatalf("encoded %d bytes, computed %d", body.Len(), encLen)
	}
	req.Body = io.NopCloser(bytes.NewReader(body.Bytes()))
	r := toServer(t, req)
	if mutate != nil {
		// Swap the body the server reads, keeping the signed
		// Content-Length: as a truncated or forged upload would arrive.
		r.Body = io.NopCloser(bytes.NewReader(mutate(body.Bytes())))
	}
	return r
}

func TestSignedChunksSDK(t *testing.T) {
	for _, tc := range []struct{ size, chunk int }{
		{0, 8192}, {1, 8192}, {8192, 8192}, {8193, 8192}, {100000, 65536}, {3 << 20, 1 << 20},
	} {
		t.Run(fmt.Sprintf("%d/%d", tc.size, tc.chunk), func(t *testing.T) {
			data := testData(tc.size)
			res, err := newVerifier(signTime).Verify(sdkStreamingRequest(t, data, tc.chunk, nil))
			wantKind(t, err, nil)
			if res.DecodedLength != int64(tc.size) || res.Streaming != StreamingPayload {
				t.Errorf("result = %+v", res)
			}
			got, err := readAll(t, res)
			wantKind(t, err, nil)
			if !bytes.Equal(got, data) {
				t.Fatalf("decoded %d bytes, want %d (equal=%v)", len(got), len(data), bytes.Equal(got, data))
			}
			// Same through a reader returning one byte at a time.
			res, err = newVerifier(signTime).Verify(sdkStreamingRequest(t, data, tc.chunk, nil))
			wantKind(t, err, nil)
			got, err = io.ReadAll(iotest.OneByteReader(res.Body))
			wantKind(t, err, nil)
			if !bytes.Equal(got, data) {
				t.Fatalf("one-byte reads differ")
			}
		})
	}
}

func TestSignedChunksTampered(t *testing.T) {
	const (
		chunk     = 8192
		encHeader = len("2000;chunk-signature=") + 64 + 2
		encChunk  = encHeader + chunk + 2
	)
	data := testData(3 * chunk)
	for _, tc := range []struct {
		name     string
		mutate   func([]byte) []byte
		want     error
		released int // bytes delivered before the error
	}{
		{"byte in chunk 2", func(b []byte) []byte { b[encChunk+encHeader+100] ^= 1; return b }, ErrChunkSignatureMismatch, chunk},
		{"swap chunks", func(b []byte) []byte {
			out := append([]byte{}, b[encChunk:2*encChunk]...)
			out = append(out, b[:encChunk]...)
			return append(out, b[2*encChunk:]...)
		}, ErrChunkSignatureMismatch, 0},
		{"truncated in data", func(b []byte) []byte { return b[:chunk+50] }, ErrIncompleteBody, 0},
		{"truncated before final chunk", func(b []byte) []byte { return b[:len(b)-86] }, ErrIncompleteBody, 3 * chunk},
		{"final chunk dropped CRLF", func(b []byte) []byte { return b[:len(b)-2] }, nil, 3 * chunk},
		{"garbage after end", func(b []byte) []byte { return append(b, "x"...) }, ErrMalformedChunk, 3 * chunk},
		{"missing CRLF after data", func(b []byte) []byte {
			i := bytes.Index(b, []byte("\r\n2000;"))
			return append(b[:i:i], b[i+2:]...)
		}, ErrMalformedChunk, 0},
		{"upper-case hex signature", func(b []byte) []byte {
			i := bytes.Index(b, []byte("chunk-signature=")) + 16
			copy(b[i:i+64], bytes.ToUpper(b[i:i+64]))
			return b
		}, nil, 3 * chunk},
		{"no chunk signature", func(b []byte) []byte {
			return bytes.Replace(b, []byte(";chunk-signature="), []byte(";chunk-signatur="), 1)
		}, ErrMalformedChunk, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := newVerifier(signTime).Verify(sdkStreamingRequest(t, data, chunk, tc.mutate))
			wantKind(t, err, nil)
			got, err := readAll(t, res)
			wantKind(t, err, tc.want)
			if len(got) != tc.released || !bytes.Equal(got, data[:len(got)]) {
				t.Errorf("released %d bytes, want %d", len(got), tc.released)
			}
		})
	}
}

// chunkedRequest builds a header-signed aws-chunked request with the
// reference signer (for the modes the Go SDK does not implement).
func chunkedRequest(t testing.TB, sentinel string, body []byte, decoded int, trailers []string, extra http.Header) *http.Request {
	t.Helper()
	s := refSigner{secret: docSecret, date: "20250314", region: "us-east-1", service: "s3", amzDate: "20250314T150926Z"}
	hdr := http.Header{
		"Content-Encoding":             {"aws-chunked"},
		"X-Amz-Content-Sha256":         {sentinel},
		"X-Amz-Date":                   {s.amzDate},
		"X-Amz-Decoded-Content-Length": {strconv.Itoa(decoded)},
	}
	if len(trailers) > 0 {
		hdr["X-Amz-Trailer"] = []string{strings.Join(trailers, ",")}
	}
	for k, v := range extra {
		hdr[k] = v
	}
	signed := []string{"content-encoding", "host", "x-amz-content-sha256", "x-amz-date", "x-amz-decoded-content-length"}
	if len(trailers) > 0 {
		signed = append(signed, "x-amz-trailer")
	}
	var cr strings.Builder
	cr.WriteString("PUT\n/bucket/obj\n\n")
	for _, h := range signed {
		v := "s3.example.com"
		if h != "host" {
			v = hdr.Get(h)
		}
		cr.WriteString(h + ":" + v + "\n")
	}
	cr.WriteString("\n" + strings.Join(signed, ";") + "\n" + sentinel)
	seed := s.signCanonical(cr.String())
	hdr.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+docAccessKey+"/"+s.scope()+", SignedHeaders="+strings.Join(signed, ";")+", Signature="+seed)
	if body == nil {
		t.Fatal("nil body")
	}
	return buildRaw(t, hdr, body)
}

func buildRaw(t testing.TB, hdr http.Header, body []byte) *http.Request {
	var raw bytes.Buffer
	raw.WriteString("PUT /bucket/obj HTTP/1.1\r\nHost: s3.example.com\r\n")
	if err := hdr.Write(&raw); err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(&raw, "Content-Length: %d\r\n\r\n", len(body))
	raw.Write(body)
	return parseWire(t, raw.String())
}

// seedOf returns the seed signature of a chunkedRequest.
func seedOf(r *http.Request) string {
	a := r.Header.Get("Authorization")
	return a[len(a)-64:]
}

var refS = refSigner{secret: docSecret, date: "20250314", region: "us-east-1", service: "s3", amzDate: "20250314T150926Z"}

func TestSignedTrailer(t *testing.T) {
	data := testData(70000)
	trailers := [][2]string{{"x-amz-checksum-crc32c", "sOO8/Q=="}, {"x-amz-checksum-sha256", "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="}}
	names := []string{"x-amz-checksum-crc32c", "x-amz-checksum-sha256"}
	build := func(t *testing.T, mutate func([]byte) []byte) *http.Request {
		// The seed signature does not depend on the body: sign once with
		// an empty body to learn it, then encode the real body.
		r := chunkedRequest(t, StreamingPayloadTrailer, []byte{}, len(data), names, nil)
		body := refS.encodeSigned(seedOf(r), data, 65536, trailers, true)
		if mutate != nil {
			body = mutate(body)
		}
		return chunkedRequest(t, StreamingPayloadTrailer, body, len(data), names, nil)
	}
	res, err := newVerifier(signTime).Verify(build(t, nil))
	wantKind(t, err, nil)
	if res.Trailer() != nil {
		t.Errorf("Trailer() before EOF = %v", res.Trailer())
	}
	got, err := readAll(t, res)
	wantKind(t, err, nil)
	if !bytes.Equal(got, data) {
		t.Fatal("decoded data differs")
	}
	tr := res.Trailer()
	if tr["x-amz-checksum-crc32c"][0] != "sOO8/Q==" || len(tr) != 2 {
		t.Errorf("Trailer() = %v", tr)
	}
	if strings.Join(res.DeclaredTrailers, ",") != strings.Join(names, ",") {
		t.Errorf("DeclaredTrailers = %v", res.DeclaredTrailers)
	}

	for _, tc := range []struct {
		name   string
		mutate func([]byte) []byte
		want   error
	}{
		{"tampered trailer value", func(b []byte) []byte { return bytes.Replace(b, []byte("sOO8/Q=="), []byte("sOO8/Q=A"), 1) }, ErrChunkSignatureMismatch},
		{"tampered trailer signature", func(b []byte) []byte {
			i := bytes.Index(b, []byte("x-amz-trailer-signature:")) + 24
			b[i] ^= 1
			if b[i] > 'f' || (b[i] > '9' && b[i] < 'a') {
				b[i] = '0'
			}
			return b
		}, ErrChunkSignatureMismatch},
		{"missing trailer signature", func(b []byte) []byte {
			i := bytes.Index(b, []byte("x-amz-trailer-signature:"))
			return append(b[:i:i], "\r\n"...)
		}, ErrMalformedTrailer},
		{"LF line ends in trailer", func(b []byte) []byte {
			i := bytes.Index(b, []byte("x-amz-checksum-crc32c"))
			return append(b[:i:i], bytes.ReplaceAll(b[i:], []byte("\r\n"), []byte("\n"))...)
		}, nil},
		{"trailer after signature", func(b []byte) []byte {
			return append(b[:len(b)-2:len(b)-2], "x-amz-meta:1\r\n\r\n"...)
		}, ErrMalformedTrailer},
		{"undeclared trailer", func(b []byte) []byte {
			return bytes.Replace(b, []byte("x-amz-checksum-crc32c:"), []byte("x-amz-checksum-crc64nvme:"), 1)
		}, ErrMalformedTrailer},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := newVerifier(signTime).Verify(build(t, tc.mutate))
			wantKind(t, err, nil)
			got, err := readAll(t, res)
			wantKind(t, err, tc.want)
			if tc.want != nil && res.Trailer() != nil {
				t.Errorf("Trailer() after failure = %v", res.Trailer())
			}
			if !bytes.Equal(got, data[:len(got)]) {
				t.Error("released bytes differ from the data")
			}
		})
	}
}

func TestUnsignedTrailer(t *testing.T) {
	data := testData(200000)
	crc := [][2]string{{"x-amz-checksum-crc32", "AAAAAA=="}}
	names := []string{"x-amz-checksum-crc32"}
	std := encodeUnsigned(data, 65536, crc)
	for _, tc := range []struct {
		name     string
		body     []byte
		decoded  int
		want     error
		trailers bool
	}{
		{"sdk single chunk", encodeUnsigned(data, len(data), crc), len(data), nil, true},
		{"sdk 64KiB chunks", std, len(data), nil, true},
		{"LF only", bytes.ReplaceAll(encodeUnsigned(data[:100], 40, crc), []byte("\r\n"), []byte("\n")), 100, nil, true},
		{"no final CRLF", std[:len(std)-2], len(data), nil, true},
		{"extra final CRLF", append(bytes.Clone(std), "\r\n"...), len(data), nil, true},
		{"empty line before trailers", bytes.Replace(bytes.Clone(std), []byte("\r\n0\r\n"), []byte("\r\n0\r\n\r\n"), 1), len(data), nil, true},
		{"chunk extension ignored", bytes.Replace(bytes.Clone(std), []byte("10000\r\n"), []byte("10000;foo=bar\r\n"), 1), len(data), nil, true},
		{"upper-case hex size and leading zeros", bytes.Replace(encodeUnsigned(data[:3000], 3000, crc), []byte("bb8\r\n"), []byte("00BB8\r\n"), 1), 3000, nil, true},
		{"trailer name case and spaces", bytes.Replace(bytes.Clone(std), []byte("x-amz-checksum-crc32:AAAAAA=="), []byte("X-Amz-Checksum-CRC32 :  AAAAAA==  "), 1), len(data), nil, true},
		{"missing trailer", encodeUnsigned(data, 65536, nil), len(data), ErrMalformedTrailer, false},
		{"undeclared trailer", encodeUnsigned(data, 65536, append(crc, [2]string{"x-amz-foo", "1"})), len(data), ErrMalformedTrailer, false},
		{"duplicate trailer", encodeUnsigned(data, 65536, append(crc, crc[0])), len(data), ErrMalformedTrailer, false},
		{"trailer without colon", bytes.Replace(bytes.Clone(std), []byte("x-amz-checksum-crc32:"), []byte("x-amz-checksum-crc32="), 1), len(data), ErrMalformedTrailer, false},
		{"trailer signature in unsigned stream", bytes.Replace(bytes.Clone(std), []byte("AAAAAA==\r\n"), []byte("AAAAAA==\r\nx-amz-trailer-signature:"+strings.Repeat("0", 64)+"\r\n"), 1), len(data), ErrMalformedTrailer, false},
		{"decoded length larger", std, len(data) + 1, ErrIncompleteBody, false},
		{"decoded length smaller", std, len(data) - 1, ErrMalformedChunk, false},
		{"truncated", std[:1000], len(data), ErrIncompleteBody, false},
		{"truncated in size line", std[:len(std)-40], len(data), ErrIncompleteBody, false},
		{"bad size", bytes.Replace(bytes.Clone(std), []byte("10000\r\n"), []byte("1x000\r\n"), 1), len(data), ErrMalformedChunk, false},
		{"empty size", bytes.Replace(bytes.Clone(std), []byte("10000\r\n"), []byte(";\r\n"), 1), len(data), ErrMalformedChunk, false},
		{"huge size", bytes.Replace(bytes.Clone(std), []byte("10000\r\n"), []byte("ffffffffffffffffff\r\n"), 1), len(data), ErrMalformedChunk, false},
		{"long line", append([]byte(strings.Repeat("0", 5000)), "1\r\nx\r\n0\r\n\r\n"...), 1, ErrMalformedChunk, false},
		{"garbage after end", append(bytes.Clone(std), "\r\nxyz"...), len(data), ErrMalformedChunk, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := chunkedRequest(t, StreamingUnsignedPayloadTrailer, tc.body, tc.decoded, names, nil)
			res, err := newVerifier(signTime).Verify(r)
			wantKind(t, err, nil)
			got, err := readAll(t, res)
			wantKind(t, err, tc.want)
			if tc.want == nil && !bytes.Equal(got, data[:tc.decoded]) {
				t.Errorf("decoded %d bytes, want %d", len(got), tc.decoded)
			}
			tr := res.Trailer()
			if tc.trailers != (tr != nil) || (tr != nil && tr["x-amz-checksum-crc32"][0] != "AAAAAA==") {
				t.Errorf("Trailer() = %v", tr)
			}
		})
	}
}

func TestUnsignedTrailerUnknownLength(t *testing.T) {
	data := testData(1000)
	body := encodeUnsigned(data, 300, [][2]string{{"x-amz-checksum-crc32", "AAAAAA=="}})
	r := chunkedRequestNoDecoded(t, body)
	res, err := newVerifier(signTime).Verify(r)
	wantKind(t, err, nil)
	if res.DecodedLength != -1 {
		t.Errorf("DecodedLength = %d", res.DecodedLength)
	}
	got, err := readAll(t, res)
	wantKind(t, err, nil)
	if !bytes.Equal(got, data) {
		t.Error("data differs")
	}
}

// chunkedRequestNoDecoded is an unsigned-trailer upload without
// x-amz-decoded-content-length.
func chunkedRequestNoDecoded(t *testing.T, body []byte) *http.Request {
	s := refS
	hdr := http.Header{
		"X-Amz-Content-Sha256": {StreamingUnsignedPayloadTrailer},
		"X-Amz-Date":           {s.amzDate},
		"X-Amz-Trailer":        {"x-amz-checksum-crc32"},
	}
	cr := "PUT\n/bucket/obj\n\nhost:s3.example.com\nx-amz-content-sha256:" + StreamingUnsignedPayloadTrailer +
		"\nx-amz-date:" + s.amzDate + "\nx-amz-trailer:x-amz-checksum-crc32\n\nhost;x-amz-content-sha256;x-amz-date;x-amz-trailer\n" + StreamingUnsignedPayloadTrailer
	hdr.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+docAccessKey+"/"+s.scope()+", SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-trailer, Signature="+s.signCanonical(cr))
	return buildRaw(t, hdr, body)
}

func TestChunkedBadHeaders(t *testing.T) {
	r := chunkedRequest(t, StreamingUnsignedPayloadTrailer, []byte("0\r\n\r\n"), 0, nil, http.Header{"X-Amz-Decoded-Content-Length": {"-1"}})
	_, err := newVerifier(signTime).Verify(r)
	wantKind(t, err, ErrMalformedChunk)
}

// TestSignedChunkMemory checks that a claimed chunk size costs no memory
// until the data arrives.
func TestSignedChunkMemory(t *testing.T) {
	body := []byte(fmt.Sprintf("%x;chunk-signature=%s\r\n", MaxChunkSize, strings.Repeat("0", 64)) + "only a few bytes")
	c := newChunkedReader(io.NopCloser(bytes.NewReader(body)), -1, nil)
	c.signer = &chunkSigner{}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := io.ReadAll(c)
	runtime.ReadMemStats(&after)
	wantKind(t, err, ErrIncompleteBody)
	if d := after.TotalAlloc - before.TotalAlloc; d > 1<<20 {
		t.Errorf("allocated %d bytes for a 16-byte chunk", d)
	}

	body = []byte(fmt.Sprintf("%x;chunk-signature=%s\r\n", MaxChunkSize+1, strings.Repeat("0", 64)))
	c = newChunkedReader(io.NopCloser(bytes.NewReader(body)), -1, nil)
	c.signer = &chunkSigner{}
	_, err = io.ReadAll(c)
	wantKind(t, err, ErrMalformedChunk)
}

// TestChunkedReadErrors checks that errors of the underlying body are
// reported, and that a read timeout is not mistaken for the end.
func TestChunkedReadErrors(t *testing.T) {
	boom := fmt.Errorf("connection reset")
	body := io.MultiReader(bytes.NewReader([]byte("10\r\n0123")), iotest.ErrReader(boom))
	c := newChunkedReader(io.NopCloser(body), -1, nil)
	got, err := io.ReadAll(c)
	if err != boom || string(got) != "0123" {
		t.Fatalf("got %q, %v", got, err)
	}
	if _, err2 := c.Read(make([]byte, 1)); err2 != boom {
		t.Fatalf("error not sticky: %v", err2)
	}

	// Zero-length reads do not consume or block.
	c = newChunkedReader(io.NopCloser(bytes.NewReader([]byte("3\r\nabc\r\n0\r\n\r\n"))), 3, nil)
	if n, err := c.Read(nil); n != 0 || err != nil {
		t.Fatalf("Read(nil) = %d, %v", n, err)
	}
	got, err = io.ReadAll(iotest.HalfReader(c))
	if err != nil || string(got) != "abc" {
		t.Fatalf("got %q, %v", got, err)
	}
	if n, err := c.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		t.Fatalf("Read after EOF = %d, %v", n, err)
	}
}
