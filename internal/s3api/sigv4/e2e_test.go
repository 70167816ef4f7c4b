package sigv4

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"hash/crc32"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// seen is what the test server observed for one request.
type seen struct {
	method, path, rawPath, query string
	header                       http.Header
	err                          error
	res                          *Result
	body                         []byte
	trailer                      http.Header
}

// testServer verifies every request with Verify and reads the body.
type testServer struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []seen
}

func newTestServer(t *testing.T, tls bool) *testServer {
	ts := &testServer{}
	v := &Verifier{Region: "us-east-1", Lookup: lookup}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := seen{method: r.Method, path: r.URL.Path, rawPath: r.URL.RawPath, query: r.URL.RawQuery, header: r.Header.Clone()}
		s.res, s.err = v.Verify(r)
		if s.err == nil {
			s.body, s.err = io.ReadAll(s.res.Body)
			s.trailer = s.res.Trailer()
		}
		ts.mu.Lock()
		ts.reqs = append(ts.reqs, s)
		ts.mu.Unlock()
		if s.err != nil {
			w.WriteHeader(http.StatusForbidden)
			io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>`+s.err.Error()+`</Message></Error>`)
			return
		}
		w.Header().Set("ETag", `"d41d8cd98f00b204e9800998ecf8427e"`)
		switch {
		case r.Method == http.MethodGet && strings.Contains(r.URL.RawQuery, "list-type=2"):
			io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>b</Name><KeyCount>0</KeyCount><IsTruncated>false</IsTruncated></ListBucketResult>`)
		case r.Method == http.MethodPost && strings.Contains(r.URL.RawQuery, "delete"):
			io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><DeleteResult></DeleteResult>`)
		case r.Method == http.MethodPost && strings.Contains(r.URL.RawQuery, "uploads"):
			io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key><UploadId>up+1/2</UploadId></InitiateMultipartUploadResult>`)
		case r.Method == http.MethodGet:
			w.Header().Set("Content-Length", "5")
			io.WriteString(w, "hello")
		case r.Method == http.MethodDelete:
			w.WriteHeader(http.StatusNoContent)
		}
	})
	if tls {
		ts.Server = httptest.NewTLSServer(h)
	} else {
		ts.Server = httptest.NewServer(h)
	}
	t.Cleanup(ts.Close)
	return ts
}

func (ts *testServer) last(t *testing.T) seen {
	t.Helper()
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if len(ts.reqs) == 0 {
		t.Fatal("no request reached the server")
	}
	return ts.reqs[len(ts.reqs)-1]
}

func (ts *testServer) client(opts ...func(*s3.Options)) *s3.Client {
	cfg := aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider(docAccessKey, docSecret, ""),
		HTTPClient:  ts.Client(),
	}
	return s3.NewFromConfig(cfg, append([]func(*s3.Options){func(o *s3.Options) {
		o.BaseEndpoint = aws.String(ts.URL)
		o.UsePathStyle = true
		o.RetryMaxAttempts = 1
	}}, opts...)...)
}

func crc32b64(b []byte) string {
	var sum [4]byte
	c := crc32.ChecksumIEEE(b)
	sum[0], sum[1], sum[2], sum[3] = byte(c>>24), byte(c>>16), byte(c>>8), byte(c)
	return base64.StdEncoding.EncodeToString(sum[:])
}

// unseekable hides bytes.Reader's Seek so the SDK cannot know the length.
type unseekable struct{ io.Reader }

// TestSDKEndToEnd drives a real aws-sdk-go-v2 S3 client against a server
// that verifies with this package, over HTTPS (where the SDK sends
// STREAMING-UNSIGNED-PAYLOAD-TRAILER uploads) and HTTP.
func TestSDKEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	ctx := context.Background()
	data := testData(300 << 10)
	for _, tls := range []bool{true, false} {
		name := "http"
		if tls {
			name = "https"
		}
		t.Run(name, func(t *testing.T) {
			ts := newTestServer(t, tls)
			for _, calc := range []aws.RequestChecksumCalculation{aws.RequestChecksumCalculationWhenSupported, aws.RequestChecksumCalculationWhenRequired} {
				client := ts.client(func(o *s3.Options) { o.RequestChecksumCalculation = calc })
				for _, key := range specialKey {
					// PutObject with an explicit CRC32, seekable body.
					_, err := client.PutObject(ctx, &s3.PutObjectInput{
						Bucket: aws.String("bucket"), Key: aws.String(key),
						Body: bytes.NewReader(data), ChecksumAlgorithm: types.ChecksumAlgorithmCrc32,
					})
					s := ts.last(t)
					if err != nil || s.err != nil {
						t.Fatalf("PutObject %q: client %v, server %v", key, err, s.err)
					}
					if s.path != "/bucket/"+key {
						t.Errorf("server path %q, want %q", s.path, "/bucket/"+key)
					}
					if !bytes.Equal(s.body, data) {
						t.Fatalf("PutObject %q: body differs (%d bytes)", key, len(s.body))
					}
					if tls {
						if s.res.Streaming != StreamingUnsignedPayloadTrailer {
							t.Errorf("https PutObject sent x-amz-content-sha256 %q", s.header.Get("X-Amz-Content-Sha256"))
						}
						if got := s.trailer["x-amz-checksum-crc32"]; len(got) != 1 || got[0] != crc32b64(data) {
							t.Errorf("trailer = %v, want crc32 %s", s.trailer, crc32b64(data))
						}
						if s.res.DecodedLength != int64(len(data)) {
							t.Errorf("DecodedLength = %d", s.res.DecodedLength)
						}
					} else if s.header.Get("X-Amz-Checksum-Crc32") != crc32b64(data) {
						t.Errorf("http PutObject: x-amz-checksum-crc32 header %q", s.header.Get("X-Amz-Checksum-Crc32"))
					}

					_, err = client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bucket"), Key: aws.String(key), Range: aws.String("bytes=0-4")})
					if s := ts.last(t); err != nil || s.err != nil {
						t.Fatalf("GetObject %q: client %v, server %v", key, err, s.err)
					}
					_, err = client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("bucket"), Key: aws.String(key)})
					if s := ts.last(t); err != nil || s.err != nil {
						t.Fatalf("DeleteObject %q: client %v, server %v", key, err, s.err)
					}
				}

				if tls {
					// Unknown length: the SDK sends 64 KiB unsigned chunks
					// with HTTP chunked transfer encoding.
					_, err := client.PutObject(ctx, &s3.PutObjectInput{
						Bucket: aws.String("bucket"), Key: aws.String("unseekable"),
						Body: unseekable{bytes.NewReader(data)}, ChecksumAlgorithm: types.ChecksumAlgorithmCrc32,
					})
					s := ts.last(t)
					if err != nil || s.err != nil {
						t.Fatalf("PutObject unseekable: client %v, server %v", err, s.err)
					}
					if !bytes.Equal(s.body, data) {
						t.Fatalf("unseekable body differs")
					}
					if got := s.trailer["x-amz-checksum-crc32"]; len(got) != 1 || got[0] != crc32b64(data) {
						t.Errorf("unseekable trailer = %v", s.trailer)
					}
				}

				// Multipart upload with an upload id needing escaping.
				_, err := client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("bucket"), Key: aws.String("a b/c")})
				if s := ts.last(t); err != nil || s.err != nil {
					t.Fatalf("CreateMultipartUpload: client %v, server %v", err, s.err)
				}
				_, err = client.UploadPart(ctx, &s3.UploadPartInput{
					Bucket: aws.String("bucket"), Key: aws.String("a b/c"), UploadId: aws.String("up+1/2"),
					PartNumber: aws.Int32(1), Body: bytes.NewReader(data[:1000]),
				})
				if s := ts.last(t); err != nil || s.err != nil || !bytes.Equal(s.body, data[:1000]) {
					t.Fatalf("UploadPart: client %v, server %v", err, s.err)
				}

				_, err = client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{
					Bucket: aws.String("bucket"), Prefix: aws.String("a b+c/ü~*"), Delimiter: aws.String("/"),
					StartAfter: aws.String("x&y=z"), MaxKeys: aws.Int32(7),
				})
				if s := ts.last(t); err != nil || s.err != nil {
					t.Fatalf("ListObjectsV2: client %v, server %v", err, s.err)
				}

				_, err = client.DeleteObjects(ctx, &s3.DeleteObjectsInput{
					Bucket: aws.String("bucket"),
					Delete: &types.Delete{Objects: []types.ObjectIdentifier{{Key: aws.String("a")}, {Key: aws.String("b c")}}},
				})
				if s := ts.last(t); err != nil || s.err != nil {
					t.Fatalf("DeleteObjects: client %v, server %v", err, s.err)
				}
			}

			// Presigned URLs.
			pc := s3.NewPresignClient(ts.client())
			for _, key := range specialKey {
				get, err := pc.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bucket"), Key: aws.String(key)},
					s3.WithPresignExpires(10*time.Minute))
				if err != nil {
					t.Fatal(err)
				}
				resp, err := ts.Client().Get(get.URL)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if s := ts.last(t); s.err != nil || !s.res.Presigned {
					t.Fatalf("presigned GET %q: %v", key, s.err)
				}

				put, err := pc.PresignPutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bucket"), Key: aws.String(key), ContentType: aws.String("text/plain")})
				if err != nil {
					t.Fatal(err)
				}
				req, _ := http.NewRequest(put.Method, put.URL, bytes.NewReader(data[:100]))
				for k, vs := range put.SignedHeader {
					if k != "Host" {
						req.Header[k] = vs
					}
				}
				resp, err = ts.Client().Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if s := ts.last(t); s.err != nil || !bytes.Equal(s.body, data[:100]) {
					t.Fatalf("presigned PUT %q: %v", key, s.err)
				}
			}

			// Wrong secret: the server rejects, the client sees a 403.
			bad := s3.NewFromConfig(aws.Config{
				Region:      "us-east-1",
				Credentials: credentials.NewStaticCredentialsProvider(docAccessKey, "not the secret", ""),
				HTTPClient:  ts.Client(),
			}, func(o *s3.Options) {
				o.BaseEndpoint = aws.String(ts.URL)
				o.UsePathStyle = true
				o.RetryMaxAttempts = 1
			})
			_, err := bad.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bucket"), Key: aws.String("k")})
			if err == nil || !errors.Is(ts.last(t).err, ErrSignatureMismatch) {
				t.Fatalf("wrong secret: client %v, server %v", err, ts.last(t).err)
			}
		})
	}
}
