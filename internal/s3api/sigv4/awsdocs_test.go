package sigv4

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// The examples of "Authenticating Requests: Using the Authorization Header
// (AWS Signature Version 4)", "Authenticating Requests: Using Query
// Parameters" and "Signature Calculations for the Authorization Header:
// Transferring Payload in Multiple Chunks" of the Amazon S3 API reference.

func TestAWSDocsHeaderExamples(t *testing.T) {
	const emptyHash = EmptySHA256
	tests := []struct {
		name, raw string
		body      string
	}{
		{
			name: "GET object with range",
			raw: "GET /test.txt HTTP/1.1\r\n" +
				"Host: examplebucket.s3.amazonaws.com\r\n" +
				"Authorization: AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41\r\n" +
				"Range: bytes=0-9\r\n" +
				"x-amz-content-sha256: " + emptyHash + "\r\n" +
				"x-amz-date: 20130524T000000Z\r\n\r\n",
		},
		{
			name: "PUT object",
			raw: "PUT /test$file.text HTTP/1.1\r\n" +
				"Host: examplebucket.s3.amazonaws.com\r\n" +
				"Date: Fri, 24 May 2013 00:00:00 GMT\r\n" +
				"Authorization: AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class,Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd\r\n" +
				"x-amz-date: 20130524T000000Z\r\n" +
				"x-amz-storage-class: REDUCED_REDUNDANCY\r\n" +
				"x-amz-content-sha256: 44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072\r\n" +
				"Content-Length: 21\r\n\r\n" +
				"Welcome to Amazon S3.",
			body: "Welcome to Amazon S3.",
		},
		{
			name: "GET bucket lifecycle",
			raw: "GET /?lifecycle HTTP/1.1\r\n" +
				"Host: examplebucket.s3.amazonaws.com\r\n" +
				"Authorization: AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;x-amz-content-sha256;x-amz-date,Signature=fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543\r\n" +
				"x-amz-date: 20130524T000000Z\r\n" +
				"x-amz-content-sha256: " + emptyHash + "\r\n\r\n",
		},
		{
			name: "GET bucket (list objects)",
			raw: "GET /?max-keys=2&prefix=J HTTP/1.1\r\n" +
				"Host: examplebucket.s3.amazonaws.com\r\n" +
				"Authorization: AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;x-amz-content-sha256;x-amz-date,Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7\r\n" +
				"x-amz-date: 20130524T000000Z\r\n" +
				"x-amz-content-sha256: " + emptyHash + "\r\n\r\n",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := parseWire(t, tc.raw)
			res, err := newVerifier(docTime.Add(time.Minute)).Verify(r)
			wantKind(t, err, nil)
			if res.AccessKeyID != docAccessKey || res.Presigned {
				t.Errorf("result = %+v", res)
			}
			body, err := readAll(t, res)
			wantKind(t, err, nil)
			if string(body) != tc.body {
				t.Errorf("body = %q, want %q", body, tc.body)
			}

			// Any change to the signature must be detected.
			r = parseWire(t, tamperSig(tc.raw))
			_, err = newVerifier(docTime).Verify(r)
			wantKind(t, err, ErrSignatureMismatch)
		})
	}
}

// tamperSig flips the last hex digit of the Signature.
func tamperSig(raw string) string {
	i := strings.Index(raw, "Signature=") + len("Signature=") + 63
	c := byte('0')
	if raw[i] == '0' {
		c = '1'
	}
	return raw[:i] + string(c) + raw[i+1:]
}

func TestAWSDocsPresignedExample(t *testing.T) {
	raw := "GET /test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404 HTTP/1.1\r\n" +
		"Host: examplebucket.s3.amazonaws.com\r\n\r\n"
	for _, tc := range []struct {
		name string
		now  time.Time
		want error
	}{
		{"at signing", docTime, nil},
		{"just before expiry", docTime.Add(24 * time.Hour), nil},
		{"expired", docTime.Add(24*time.Hour + time.Second), ErrExpired},
		{"within skew before signing", docTime.Add(-14 * time.Minute), nil},
		{"not yet valid", docTime.Add(-16 * time.Minute), ErrNotYetValid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := newVerifier(tc.now).Verify(parseWire(t, raw))
			wantKind(t, err, tc.want)
			if err == nil && (!res.Presigned || res.AccessKeyID != docAccessKey) {
				t.Errorf("result = %+v", res)
			}
		})
	}
	// A tampered query parameter breaks the signature.
	tampered := strings.Replace(raw, "X-Amz-Expires=86400", "X-Amz-Expires=86401", 1)
	_, err := newVerifier(docTime).Verify(parseWire(t, tampered))
	wantKind(t, err, ErrSignatureMismatch)
	// An extra parameter too.
	tampered = strings.Replace(raw, "/test.txt?", "/test.txt?versionId=1&", 1)
	_, err = newVerifier(docTime).Verify(parseWire(t, tampered))
	wantKind(t, err, ErrSignatureMismatch)
}

// docChunkedRequest is the "PUT object in chunks" example: 66560 bytes of
// 'a' in a 65536-byte chunk, a 1024-byte chunk and the final chunk.
func docChunkedRequest(body []byte) string {
	return "PUT /examplebucket/chunkObject.txt HTTP/1.1\r\n" +
		"Host: s3.amazonaws.com\r\n" +
		"x-amz-date: 20130524T000000Z\r\n" +
		"x-amz-storage-class: REDUCED_REDUNDANCY\r\n" +
		"Authorization: AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class,Signature=4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9\r\n" +
		"x-amz-content-sha256: STREAMING-AWS4-HMAC-SHA256-PAYLOAD\r\n" +
		"Content-Encoding: aws-chunked\r\n" +
		"x-amz-decoded-content-length: 66560\r\n" +
		"Content-Length: 66824\r\n\r\n" + string(body)
}

func docChunkedBody() []byte {
	var b bytes.Buffer
	b.WriteString("10000;chunk-signature=ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648\r\n")
	b.Write(bytes.Repeat([]byte{'a'}, 65536))
	b.WriteString("\r\n")
	b.WriteString("400;chunk-signature=0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497\r\n")
	b.Write(bytes.Repeat([]byte{'a'}, 1024))
	b.WriteString("\r\n")
	b.WriteString("0;chunk-signature=b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9\r\n\r\n")
	return b.Bytes()
}

func TestAWSDocsChunkedExample(t *testing.T) {
	body := docChunkedBody()
	if len(body) != 66824 {
		t.Fatalf("encoded length %d, want 66824", len(body))
	}
	res, err := newVerifier(docTime).Verify(parseWire(t, docChunkedRequest(body)))
	wantKind(t, err, nil)
	if res.Streaming != StreamingPayload || res.DecodedLength != 66560 {
		t.Fatalf("result = %+v", res)
	}
	got, err := readAll(t, res)
	wantKind(t, err, nil)
	if !bytes.Equal(got, bytes.Repeat([]byte{'a'}, 66560)) {
		t.Fatalf("decoded %d bytes, want 66560 'a'", len(got))
	}
	if res.Trailer() != nil {
		t.Errorf("Trailer() = %v, want nil", res.Trailer())
	}

	// Changing one byte of the second chunk: the first chunk is delivered,
	// the second is not.
	bad := bytes.Clone(body)
	bad[len(bad)-100] = 'b'
	res, err = newVerifier(docTime).Verify(parseWire(t, docChunkedRequest(bad)))
	wantKind(t, err, nil)
	got, err = readAll(t, res)
	wantKind(t, err, ErrChunkSignatureMismatch)
	if len(got) != 65536 {
		t.Errorf("released %d bytes before the failure, want 65536", len(got))
	}
	if n, err2 := res.Body.Read(make([]byte, 10)); n != 0 || err2 != err {
		t.Errorf("Read after failure = %d, %v; want 0, %v", n, err2, err)
	}

	// Changing the final chunk signature.
	bad = bytes.Replace(body, []byte("b6c6ea8a"), []byte("b6c6ea8b"), 1)
	res, err = newVerifier(docTime).Verify(parseWire(t, docChunkedRequest(bad)))
	wantKind(t, err, nil)
	_, err = readAll(t, res)
	wantKind(t, err, ErrChunkSignatureMismatch)
}
