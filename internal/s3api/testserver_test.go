package s3api_test

// The aws-sdk-go-v2 suite for the S3 API: every test starts a real firn
// server in-process (app.Start on 127.0.0.1:0 over a fresh data
// directory) and drives it with the AWS SDK, or with raw signed requests
// where the SDK would hide the wire.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/firnhq/firn/internal/app"
	"github.com/firnhq/firn/internal/config"
)

const (
	testAccessKey = "FIRNTESTACCESSKEY000"
	testSecretKey = "firn/test/secret/key/0123456789abcdefghij"
	testRegion    = "us-east-1"
)

// env is one running server and the clients that talk to it.
type env struct {
	t    *testing.T
	srv  *app.Server
	addr string // 127.0.0.1:port
	port string
	data string

	// s3 is a path-style client over plain HTTP: checksums travel in
	// headers and payloads are signed.
	s3 *s3.Client
	// tls is a path-style client that believes it speaks HTTPS (its
	// transport downgrades to HTTP), so the SDK streams bodies as
	// aws-chunked with unsigned payload and trailing checksums, as it
	// does against real S3.
	tls *s3.Client
	// vhost is a virtual-hosted-style client: bucket.localhost:port, every
	// host dialled to the server.
	vhost *s3.Client

	http *http.Client // plain client, for raw and presigned requests

	logMu sync.Mutex
	logs  bytes.Buffer
}

var bucketSeq atomic.Int64

// newEnv starts a server for t and stops it when t ends. The server log is
// shown if t fails; a panic in a handler fails t. Every server is
// independent, so t runs in parallel with the other top-level tests.
func newEnv(t *testing.T) *env { return newEnvWith(t, nil) }

// newEnvWith is newEnv with the server configuration adjusted by tune.
func newEnvWith(t *testing.T, tune func(*config.Server)) *env {
	t.Helper()
	t.Parallel()
	e := &env{t: t, data: t.TempDir()}
	cfg := config.Defaults()
	cfg.Data = e.data
	cfg.Address = "127.0.0.1:0"
	cfg.AccessKey, cfg.SecretKey = testAccessKey, testSecretKey
	cfg.GCEvery = 0
	if tune != nil {
		tune(&cfg)
	}
	log := slog.New(slog.NewTextHandler(lockedWriter{e}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	srv, err := app.Start(context.Background(), cfg, log, io.Discard)
	if err != nil {
		t.Fatalf("app.Start: %v", err)
	}
	e.srv = srv
	e.addr = srv.Addr()
	_, e.port, _ = net.SplitHostPort(e.addr)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		e.logMu.Lock()
		defer e.logMu.Unlock()
		logs := e.logs.String()
		if strings.Contains(logs, "panic serving request") {
			t.Errorf("server panicked:\n%s", logs)
		} else if t.Failed() {
			t.Logf("server log:\n%s", logs)
		}
	})

	// Every host name resolves to the server: virtual-hosted-style
	// requests go to bucket.localhost:port.
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return dialer.DialContext(ctx, network, e.addr)
		},
		MaxIdleConnsPerHost: 16,
		DisableCompression:  true,
	}
	t.Cleanup(tr.CloseIdleConnections)
	e.http = &http.Client{Transport: tr, Timeout: 60 * time.Second}

	e.s3 = e.newClient("http://"+e.addr, true, nil)
	e.tls = e.newClient("https://"+e.addr, true, func(o *s3.Options) {
		o.HTTPClient = &http.Client{Transport: downgrade{tr}, Timeout: 60 * time.Second}
	})
	e.vhost = e.newClient("http://localhost:"+e.port, false, nil)
	return e
}

type lockedWriter struct{ e *env }

func (w lockedWriter) Write(p []byte) (int, error) {
	w.e.logMu.Lock()
	defer w.e.logMu.Unlock()
	return w.e.logs.Write(p)
}

// downgrade sends "https" requests as plain HTTP.
type downgrade struct{ rt http.RoundTripper }

func (d downgrade) RoundTrip(r *http.Request) (*http.Response, error) {
	r2 := r.Clone(r.Context())
	r2.URL.Scheme = "http"
	return d.rt.RoundTrip(r2)
}

// newClient returns an SDK client for endpoint with the test credentials
// and no retries (so that every error surfaces at once).
func (e *env) newClient(endpoint string, pathStyle bool, opt func(*s3.Options), more ...func(*s3.Options)) *s3.Client {
	o := s3.Options{
		Region:       testRegion,
		Credentials:  credentials.NewStaticCredentialsProvider(testAccessKey, testSecretKey, ""),
		BaseEndpoint: aws.String(endpoint),
		UsePathStyle: pathStyle,
		HTTPClient:   e.http,
		Retryer:      aws.NopRetryer{},
		// What config.LoadDefaultConfig gives: a CRC32 on every upload,
		// responses validated when they carry a checksum.
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenSupported,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenSupported,
	}
	if opt != nil {
		opt(&o)
	}
	return s3.New(o, more...)
}

// withCreds returns a path-style client signing with other credentials.
func (e *env) withCreds(ak, sk string) *s3.Client {
	return e.newClient("http://"+e.addr, true, func(o *s3.Options) {
		o.Credentials = credentials.NewStaticCredentialsProvider(ak, sk, "")
	})
}

var ctx = context.Background()

// bucket creates a new bucket with a unique name and returns the name.
func (e *env) bucket() string {
	e.t.Helper()
	name := fmt.Sprintf("test-bucket-%d", bucketSeq.Add(1))
	if _, err := e.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		e.t.Fatalf("CreateBucket %s: %v", name, err)
	}
	return name
}

// put stores body under bucket/key.
func (e *env) put(bucket, key string, body []byte) *s3.PutObjectOutput {
	e.t.Helper()
	out, err := e.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body)})
	if err != nil {
		e.t.Fatalf("PutObject %s/%s: %v", bucket, key, err)
	}
	return out
}

// get returns the body of bucket/key.
func (e *env) get(bucket, key string) []byte {
	e.t.Helper()
	out, err := e.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		e.t.Fatalf("GetObject %s/%s: %v", bucket, key, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		e.t.Fatalf("GetObject %s/%s: read body: %v", bucket, key, err)
	}
	return b
}

// exists reports whether bucket/key exists (HeadObject).
func (e *env) exists(bucket, key string) bool {
	e.t.Helper()
	_, err := e.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err == nil {
		return true
	}
	if status(err) != http.StatusNotFound {
		e.t.Fatalf("HeadObject %s/%s: %v", bucket, key, err)
	}
	return false
}

// keys lists every key of bucket.
func (e *env) keys(bucket string) []string {
	e.t.Helper()
	var keys []string
	p := s3.NewListObjectsV2Paginator(e.s3, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			e.t.Fatalf("ListObjectsV2 %s: %v", bucket, err)
		}
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	return keys
}

// blobFiles counts the files in the blob store (committed and
// temporary).
func (e *env) blobFiles() int {
	e.t.Helper()
	n := 0
	err := filepath.WalkDir(filepath.Join(e.data, "blobs"), func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			n++
		}
		return nil
	})
	if err != nil {
		e.t.Fatalf("walk blobs: %v", err)
	}
	return n
}

// status returns the HTTP status of an SDK error (0 if none).
func status(err error) int {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

// errorCode returns the S3 error code of an SDK error ("" if none).
func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// wantErr fails t unless err is an S3 error with code and HTTP status.
func wantErr(t *testing.T, err error, code string, httpStatus int) {
	t.Helper()
	if err == nil {
		t.Fatalf("got success, want %d %s", httpStatus, code)
	}
	if got := errorCode(err); got != code {
		t.Errorf("error code: got %q, want %q (err: %v)", got, code, err)
	}
	if got := status(err); got != httpStatus {
		t.Errorf("HTTP status: got %d, want %d (err: %v)", got, httpStatus, err)
	}
}

// rawOpts tune a raw request.
type rawOpts struct {
	header      http.Header
	payloadHash string    // default: the SHA-256 of the body
	signTime    time.Time // default: now
	secret      string    // default: the test secret
	unsigned    bool      // send without any authentication
}

// raw sends a signed request for path (with its query, already escaped)
// and returns the response with its body read.
func (e *env) raw(method, target string, body []byte, o rawOpts) (*http.Response, []byte) {
	e.t.Helper()
	req, err := http.NewRequest(method, "http://"+e.addr+target, bytes.NewReader(body))
	if err != nil {
		e.t.Fatalf("NewRequest: %v", err)
	}
	for k, vs := range o.header {
		req.Header[k] = vs
	}
	if !o.unsigned {
		e.sign(req, body, o)
	}
	resp, err := e.http.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatalf("%s %s: read body: %v", method, target, err)
	}
	return resp, b
}

// sign signs req with SigV4 as the SDK would.
func (e *env) sign(req *http.Request, body []byte, o rawOpts) {
	e.t.Helper()
	hash := o.payloadHash
	if hash == "" {
		sum := sha256.Sum256(body)
		hash = hex.EncodeToString(sum[:])
	}
	req.Header.Set("X-Amz-Content-Sha256", hash)
	when := o.signTime
	if when.IsZero() {
		when = time.Now()
	}
	secret := o.secret
	if secret == "" {
		secret = testSecretKey
	}
	creds := aws.Credentials{AccessKeyID: testAccessKey, SecretAccessKey: secret}
	err := v4.NewSigner().SignHTTP(ctx, creds, req, hash, "s3", testRegion, when, func(so *v4.SignerOptions) {
		so.DisableURIPathEscaping = true
	})
	if err != nil {
		e.t.Fatalf("sign: %v", err)
	}
}

// s3Error is S3's XML error document.
type s3Error struct {
	XMLName   xml.Name `xml:"Error"`
	Code      string   `xml:"Code"`
	Message   string   `xml:"Message"`
	Resource  string   `xml:"Resource"`
	RequestID string   `xml:"RequestId"`
	HostID    string   `xml:"HostId"`
}

// wantXMLError checks a raw response is the S3 error code with status,
// with a complete error document, and returns the document.
func wantXMLError(t *testing.T, resp *http.Response, body []byte, code string, httpStatus int) s3Error {
	t.Helper()
	if resp.StatusCode != httpStatus {
		t.Errorf("status: got %d, want %d (body %s)", resp.StatusCode, httpStatus, body)
	}
	var doc s3Error
	if err := xml.Unmarshal(body, &doc); err != nil {
		t.Fatalf("error body is not an S3 error document: %v: %q", err, body)
	}
	if doc.Code != code {
		t.Errorf("Code: got %q, want %q (body %s)", doc.Code, code, body)
	}
	if doc.Message == "" {
		t.Errorf("Message: got empty, want text (body %s)", body)
	}
	if doc.RequestID == "" || doc.RequestID != resp.Header.Get("x-amz-request-id") {
		t.Errorf("RequestId: got %q, want the x-amz-request-id header %q", doc.RequestID, resp.Header.Get("x-amz-request-id"))
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/xml" {
		t.Errorf("Content-Type: got %q, want application/xml", ct)
	}
	return doc
}

// pattern returns n deterministic, non-repeating-looking bytes.
func pattern(n int) []byte {
	b := make([]byte, n)
	x := uint32(2463534242)
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
	}
	return b
}

// readAll reads and closes rc.
func readAll(t *testing.T, rc io.ReadCloser) []byte {
	t.Helper()
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return b
}
