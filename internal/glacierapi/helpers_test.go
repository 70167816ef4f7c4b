package glacierapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/glacier"

	"github.com/firnhq/firn/internal/retrieval"
	"github.com/firnhq/firn/internal/s3api/sigv4"
)

const (
	testAccessKey = "AKIDFIRNGLACIERTEST"
	testSecret    = "glacier/test/secret+key"
	testRegion    = "us-east-1"
	testAccount   = "111122223333"
)

func lookup(_ context.Context, id string) (string, error) {
	if id == testAccessKey {
		return testSecret, nil
	}
	return "", fmt.Errorf("%w: %s", sigv4.ErrInvalidAccessKeyID, id)
}

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex // guards b
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type testEnv struct {
	*httptest.Server
	store retrieval.Store
	logs  *syncBuffer
}

// newEnv starts a Glacier API server over store (a fresh MemStore when
// nil) that accepts the account testAccount besides "-".
func newEnv(t *testing.T, store retrieval.Store) *testEnv {
	t.Helper()
	return newEnvWith(t, Config{Store: store, AccountID: testAccount})
}

// newEnvWith starts a Glacier API server for c, filling in a Verifier,
// a MemStore and a log when c has none.
func newEnvWith(t *testing.T, c Config) *testEnv {
	t.Helper()
	if c.Store == nil {
		c.Store = &retrieval.MemStore{}
	}
	if c.Verifier == nil {
		c.Verifier = &sigv4.Verifier{Region: testRegion, Service: Service, Lookup: lookup}
	}
	logs := &syncBuffer{}
	if c.Log == nil {
		c.Log = slog.New(slog.NewTextHandler(logs, nil))
	}
	store := c.Store
	h, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return &testEnv{Server: ts, store: store, logs: logs}
}

// client returns an aws-sdk-go-v2 Glacier client for the server.
func (e *testEnv) client(opts ...func(*glacier.Options)) *glacier.Client {
	cfg := aws.Config{
		Region:      testRegion,
		Credentials: credentials.NewStaticCredentialsProvider(testAccessKey, testSecret, ""),
		HTTPClient:  e.Client(),
	}
	return glacier.NewFromConfig(cfg, append([]func(*glacier.Options){func(o *glacier.Options) {
		o.BaseEndpoint = aws.String(e.URL)
		o.RetryMaxAttempts = 1
	}}, opts...)...)
}

// rawRequest describes a hand-made request.
type rawRequest struct {
	method, path string
	body         string
	header       map[string]string // added before signing
	afterSigning map[string]string // added after signing
	service      string            // signing service; "glacier" when empty, "-" for unsigned
	secret       string            // testSecret when empty
	accessKey    string            // testAccessKey when empty
	noVersion    bool              // leave out x-amz-glacier-version
	signedHash   string            // payload hash to sign; the body's when empty
	at           time.Time         // signing time; now when zero
}

func (e *testEnv) newRequest(t testing.TB, rr rawRequest) *http.Request {
	t.Helper()
	req, err := http.NewRequest(rr.method, e.URL+rr.path, strings.NewReader(rr.body))
	if err != nil {
		t.Fatal(err)
	}
	if rr.body == "" {
		req.Body = http.NoBody
	}
	if !rr.noVersion {
		req.Header.Set("X-Amz-Glacier-Version", APIVersion)
	}
	for k, v := range rr.header {
		req.Header.Set(k, v)
	}
	if rr.service == "-" {
		return req
	}
	service, secret, key := rr.service, rr.secret, rr.accessKey
	if service == "" {
		service = Service
	}
	if secret == "" {
		secret = testSecret
	}
	if key == "" {
		key = testAccessKey
	}
	hash := rr.signedHash
	if hash == "" {
		sum := sha256.Sum256([]byte(rr.body))
		hash = hex.EncodeToString(sum[:])
	}
	at := rr.at
	if at.IsZero() {
		at = time.Now()
	}
	creds := aws.Credentials{AccessKeyID: key, SecretAccessKey: secret}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hash, service, testRegion, at); err != nil {
		t.Fatal(err)
	}
	for k, v := range rr.afterSigning {
		req.Header.Set(k, v)
	}
	return req
}

// glacierError is a decoded Glacier error response.
type glacierError struct {
	Status    int
	Code      string `json:"code"`
	Message   string `json:"message"`
	Type      string `json:"type"`
	RequestID string
}

// do sends a request and decodes an error response (Code is empty on
// success).
func (e *testEnv) do(t testing.TB, rr rawRequest) (glacierError, []byte) {
	t.Helper()
	resp, err := e.Client().Do(e.newRequest(t, rr))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	ge := glacierError{Status: resp.StatusCode, RequestID: resp.Header.Get("X-Amzn-Requestid")}
	if ge.RequestID == "" {
		t.Errorf("%s %s: no x-amzn-RequestId header", rr.method, rr.path)
	}
	if resp.StatusCode >= 300 {
		if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("%s %s: error Content-Type %q", rr.method, rr.path, ct)
		}
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&ge); err != nil {
			t.Fatalf("%s %s: error body %q: %v", rr.method, rr.path, body, err)
		}
		if ge.Code == "" || ge.Message == "" || (ge.Type != "Client" && ge.Type != "Server") {
			t.Errorf("%s %s: incomplete error %s", rr.method, rr.path, body)
		}
	}
	return ge, body
}
