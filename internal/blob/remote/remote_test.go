package remote_test

// The remote store against a real S3 server: firn itself, started
// in-process (app.Start on 127.0.0.1:0), spoken to over HTTP with SigV4.
// This file is an external test package because it imports internal/app,
// which the store itself must never import.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/firnhq/firn/internal/app"
	"github.com/firnhq/firn/internal/blob"
	"github.com/firnhq/firn/internal/blob/blobtest"
	"github.com/firnhq/firn/internal/blob/remote"
	"github.com/firnhq/firn/internal/config"
)

const (
	testAccessKey = "FIRNREMOTETESTKEY000"
	testSecretKey = "firn/remote/test/secret/0123456789abcdef"
)

// server is an S3 endpoint and a client of it for the tests' own checks.
type server struct {
	endpoint string
	ak, sk   string
	s3       *s3.Client
	buckets  atomic.Int64
}

// startFirn starts a firn server for t, stopped when t ends.
func startFirn(t *testing.T) *server {
	t.Helper()
	cfg := config.Defaults()
	cfg.Data = t.TempDir()
	cfg.Address = "127.0.0.1:0"
	cfg.AccessKey, cfg.SecretKey = testAccessKey, testSecretKey
	cfg.GCEvery = 0
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv, err := app.Start(context.Background(), cfg, log, io.Discard)
	if err != nil {
		t.Fatalf("app.Start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	return newServer("http://"+srv.Addr(), testAccessKey, testSecretKey)
}

func newServer(endpoint, ak, sk string) *server {
	return &server{endpoint: endpoint, ak: ak, sk: sk, s3: s3.New(s3.Options{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider(ak, sk, ""),
		BaseEndpoint: aws.String(endpoint),
		UsePathStyle: true,
	})}
}

// bucket creates a new bucket.
func (sv *server) bucket(t *testing.T) string {
	t.Helper()
	name := fmt.Sprintf("remote-tier-%d", sv.buckets.Add(1))
	if _, err := sv.s3.CreateBucket(t.Context(), &s3.CreateBucketInput{Bucket: &name}); err != nil {
		t.Fatalf("CreateBucket %s: %v", name, err)
	}
	return name
}

// config is a store configuration for bucket on sv.
func (sv *server) config(bucket string) remote.Config {
	return remote.Config{
		Endpoint: sv.endpoint, Region: "us-east-1", Bucket: bucket, Prefix: "blobs/",
		AccessKey: sv.ak, SecretKey: sv.sk, PathStyle: true,
	}
}

// open opens a store over a new bucket, with cfg adjusted by tune.
func (sv *server) open(t *testing.T, tune func(*remote.Config)) (*remote.Store, string) {
	t.Helper()
	bucket := sv.bucket(t)
	cfg := sv.config(bucket)
	if tune != nil {
		tune(&cfg)
	}
	s, err := remote.Open(t.Context(), cfg)
	if err != nil {
		t.Fatalf("remote.Open: %v", err)
	}
	return s, bucket
}

// uploads lists the multipart uploads in progress in bucket.
func (sv *server) uploads(t *testing.T, bucket string) []string {
	t.Helper()
	out, err := sv.s3.ListMultipartUploads(t.Context(), &s3.ListMultipartUploadsInput{Bucket: &bucket})
	if err != nil {
		t.Fatalf("ListMultipartUploads: %v", err)
	}
	var keys []string
	for _, u := range out.Uploads {
		keys = append(keys, aws.ToString(u.Key))
	}
	return keys
}

// objects lists the keys in bucket.
func (sv *server) objects(t *testing.T, bucket string) []string {
	t.Helper()
	out, err := sv.s3.ListObjectsV2(t.Context(), &s3.ListObjectsV2Input{Bucket: &bucket})
	if err != nil {
		t.Fatalf("ListObjectsV2: %v", err)
	}
	var keys []string
	for _, o := range out.Contents {
		keys = append(keys, aws.ToString(o.Key))
	}
	return keys
}

func (sv *server) put(t *testing.T, bucket, key string, body []byte) {
	t.Helper()
	if _, err := sv.s3.PutObject(t.Context(), &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: bytes.NewReader(body)}); err != nil {
		t.Fatalf("PutObject %s: %v", key, err)
	}
}

func randBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func read(ctx context.Context, s blob.Store, id string, offset, length int64) ([]byte, error) {
	r, err := s.Open(ctx, id, offset, length)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(r)
}

func walk(t *testing.T, s blob.Store) []string {
	t.Helper()
	var ids []string
	if err := s.Walk(t.Context(), func(id string, _ time.Time) error { ids = append(ids, id); return nil }); err != nil {
		t.Fatalf("Walk: %v", err)
	}
	slices.Sort(ids)
	return ids
}

// recorder is an HTTP client that records the S3 operation of every
// request.
type recorder struct {
	mu  sync.Mutex
	ops []string // guarded by mu
}

func (r *recorder) client() *http.Client {
	return &http.Client{Transport: roundTripper(func(req *http.Request) (*http.Response, error) {
		r.mu.Lock()
		r.ops = append(r.ops, operation(req))
		r.mu.Unlock()
		return http.DefaultTransport.RoundTrip(req)
	})}
}

// take returns the operations recorded since the last take.
func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	ops := r.ops
	r.ops = nil
	return ops
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func operation(r *http.Request) string {
	q := r.URL.Query()
	switch {
	case r.Method == http.MethodPost && q.Has("uploads"):
		return "CreateMultipartUpload"
	case r.Method == http.MethodPut && q.Has("partNumber"):
		return "UploadPart"
	case r.Method == http.MethodPost && q.Has("uploadId"):
		return "CompleteMultipartUpload"
	case r.Method == http.MethodDelete && q.Has("uploadId"):
		return "AbortMultipartUpload"
	case r.Method == http.MethodPut:
		return "PutObject"
	case r.Method == http.MethodDelete:
		return "DeleteObject"
	case r.Method == http.MethodHead:
		return "Head"
	case r.Method == http.MethodGet && q.Has("uploads"):
		return "ListMultipartUploads"
	case r.Method == http.MethodGet && q.Has("uploadId"):
		return "ListParts"
	case r.Method == http.MethodGet && q.Has("list-type"):
		return "ListObjectsV2"
	case r.Method == http.MethodGet && r.Header.Get("Range") != "":
		return "GetObject " + r.Header.Get("Range")
	case r.Method == http.MethodGet:
		return "GetObject"
	}
	return r.Method + " " + r.URL.RawQuery
}

func TestConformance(t *testing.T) {
	sv := startFirn(t)
	blobtest.Run(t, func(t *testing.T) blob.Store {
		s, _ := sv.open(t, nil)
		return s
	})
}

// TestConformanceMultipart runs the suite with the smallest part size,
// so that its 8 MiB blob is a multipart upload.
func TestConformanceMultipart(t *testing.T) {
	sv := startFirn(t)
	blobtest.Run(t, func(t *testing.T) blob.Store {
		s, _ := sv.open(t, func(c *remote.Config) { c.PartSize = remote.MinPartSize })
		return s
	})
}

// TestMultipart writes a 12 MiB blob in 5 MiB parts and reads it back,
// ranges across the part boundaries included.
func TestMultipart(t *testing.T) {
	sv := startFirn(t)
	rec := &recorder{}
	s, bucket := sv.open(t, func(c *remote.Config) {
		c.PartSize = remote.MinPartSize
		c.HTTPClient = rec.client()
	})
	rec.take()
	const part, size = remote.MinPartSize, 12 << 20
	data := randBytes(size, 1)

	w, err := s.Create(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if ops := rec.take(); len(ops) != 0 {
		t.Errorf("Create: got requests %q, want none", ops)
	}
	// Odd-sized writes, so that no write lines up with a part.
	for rest := data; len(rest) > 0; {
		n := min(len(rest), 1<<20+13)
		if _, err := w.Write(rest[:n]); err != nil {
			t.Fatal(err)
		}
		rest = rest[n:]
	}
	want := []string{"CreateMultipartUpload", "UploadPart", "UploadPart"}
	if ops := rec.take(); !slices.Equal(ops, want) {
		t.Errorf("writing 12 MiB: got requests %q, want %q", ops, want)
	}
	// Two parts are on the remote, and nothing is visible.
	if _, err := s.Open(t.Context(), w.ID(), 0, -1); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Open before Commit: got %v, want %v", err, blob.ErrNotFound)
	}
	if ids := walk(t, s); len(ids) != 0 {
		t.Errorf("Walk before Commit: got %q, want nothing", ids)
	}
	if got, want := sv.uploads(t, bucket), []string{"blobs/" + w.ID()}; !slices.Equal(got, want) {
		t.Errorf("uploads before Commit: got %q, want %q", got, want)
	}
	rec.take()
	if err := w.Commit(t.Context()); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	want = []string{"UploadPart", "CompleteMultipartUpload"}
	if ops := rec.take(); !slices.Equal(ops, want) {
		t.Errorf("Commit: got requests %q, want %q", ops, want)
	}
	if got := sv.uploads(t, bucket); len(got) != 0 {
		t.Errorf("uploads after Commit: got %q, want none", got)
	}
	if ids := walk(t, s); !slices.Equal(ids, []string{w.ID()}) {
		t.Errorf("Walk after Commit: got %q, want %q", ids, w.ID())
	}

	ranges := []struct{ offset, length int64 }{
		{0, -1},
		{part - 10, 20},       // across the first boundary
		{part - 1, 2},         // one byte either side
		{part, part},          // exactly the second part
		{part - 1, part + 2},  // the second part and a byte either side
		{2*part - 7, -1},      // from the second boundary to the end
		{1, size - 2},         // all but the first and last bytes
		{size - 1, -1},        // the last byte
		{size - 100, 1000},    // past the end
		{size, -1}, {size, 5}, // at the end
		{size + 10, -1},           // past the end
		{3 * part / 2, 0},         // nothing
		{part + part/3, 3 * part}, // from the middle of part 2 to the end
	}
	for _, r := range ranges {
		want := data[min(r.offset, size):]
		if r.length >= 0 {
			want = want[:min(int64(len(want)), r.length)]
		}
		got, err := read(t.Context(), s, w.ID(), r.offset, r.length)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("Open(offset %d, length %d): got (%d bytes, %v), want %d bytes", r.offset, r.length, len(got), err, len(want))
		}
	}
}

// TestSmallBlobOneRequest: a blob that fits in a part costs one PutObject
// and nothing before Commit.
func TestSmallBlobOneRequest(t *testing.T) {
	sv := startFirn(t)
	rec := &recorder{}
	s, _ := sv.open(t, func(c *remote.Config) { c.PartSize = remote.MinPartSize; c.HTTPClient = rec.client() })
	rec.take()
	data := randBytes(remote.MinPartSize, 2) // exactly one part
	w, err := s.Create(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(w, bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	if ops := rec.take(); len(ops) != 0 {
		t.Errorf("writing one part: got requests %q, want none", ops)
	}
	if err := w.Commit(t.Context()); err != nil {
		t.Fatal(err)
	}
	if ops := rec.take(); !slices.Equal(ops, []string{"PutObject"}) {
		t.Errorf("Commit: got requests %q, want one PutObject", ops)
	}
	if got, err := read(t.Context(), s, w.ID(), 0, -1); err != nil || !bytes.Equal(got, data) {
		t.Errorf("read back: got (%d bytes, %v), want %d bytes", len(got), err, len(data))
	}
}

// TestAbortMidUpload: Abort after parts went out leaves no upload and no
// object.
func TestAbortMidUpload(t *testing.T) {
	sv := startFirn(t)
	s, bucket := sv.open(t, func(c *remote.Config) { c.PartSize = remote.MinPartSize })
	keep := randBytes(100, 3)
	kw, err := s.Create(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	kw.Write(keep)
	if err := kw.Commit(t.Context()); err != nil {
		t.Fatal(err)
	}

	w, err := s.Create(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(randBytes(12<<20, 4)); err != nil {
		t.Fatal(err)
	}
	if got := sv.uploads(t, bucket); len(got) != 1 {
		t.Fatalf("uploads mid-write: got %q, want one", got)
	}
	if err := w.Abort(); err != nil {
		t.Fatalf("Abort: %v", err)
	}
	if got := sv.uploads(t, bucket); len(got) != 0 {
		t.Errorf("uploads after Abort: got %q, want none", got)
	}
	if got, want := sv.objects(t, bucket), []string{"blobs/" + kw.ID()}; !slices.Equal(got, want) {
		t.Errorf("objects after Abort: got %q, want %q", got, want)
	}
	if _, err := s.Open(t.Context(), w.ID(), 0, -1); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Open after Abort: got %v, want %v", err, blob.ErrNotFound)
	}
	if err := s.Sweep(t.Context(), 0); err != nil {
		t.Errorf("Sweep(0): %v", err)
	}
	if got := sv.uploads(t, bucket); len(got) != 0 {
		t.Errorf("uploads after Sweep: got %q, want none", got)
	}
	if err := w.Commit(t.Context()); err == nil {
		t.Error("Commit after Abort: got nil, want an error")
	}
	if got, err := read(t.Context(), s, kw.ID(), 0, -1); err != nil || !bytes.Equal(got, keep) {
		t.Errorf("the committed blob after Abort and Sweep: got (%d bytes, %v), want %d bytes", len(got), err, len(keep))
	}
}

// fakeClock is a clock that moves only when told.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time // guarded by mu
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) DayLength() time.Duration { return 24 * time.Hour }

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// TestSweepAge: Sweep(olderThan) aborts the uploads of abandoned writers
// and keeps those of writers still writing, and never touches uploads
// that are not the store's.
func TestSweepAge(t *testing.T) {
	sv := startFirn(t)
	clk := &fakeClock{now: time.Now()}
	s, bucket := sv.open(t, func(c *remote.Config) { c.PartSize = remote.MinPartSize; c.Clock = clk })
	part := randBytes(remote.MinPartSize+1, 5)

	abandoned, err := s.Create(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := abandoned.Write(part); err != nil {
		t.Fatal(err)
	}
	busy, err := s.Create(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := busy.Write(part); err != nil {
		t.Fatal(err)
	}
	// Uploads that are not blobs of the store: another key under the
	// prefix, and one outside it.
	for _, key := range []string{"blobs/not-a-blob", "elsewhere/" + abandoned.ID(), "blobs/sub/" + busy.ID()} {
		if _, err := sv.s3.CreateMultipartUpload(t.Context(), &s3.CreateMultipartUploadInput{Bucket: &bucket, Key: aws.String(key)}); err != nil {
			t.Fatal(err)
		}
	}

	// Fresh: Sweep(1h) keeps both.
	if err := s.Sweep(t.Context(), time.Hour); err != nil {
		t.Fatalf("Sweep(1h): %v", err)
	}
	if got := sv.uploads(t, bucket); len(got) != 5 {
		t.Errorf("uploads after Sweep(1h) of fresh writers: got %q, want all 5", got)
	}

	// Two hours later, busy has written again and abandoned has not.
	clk.Add(2 * time.Hour)
	if _, err := busy.Write([]byte("more")); err != nil {
		t.Fatal(err)
	}
	if err := s.Sweep(t.Context(), time.Hour); err != nil {
		t.Fatalf("Sweep(1h): %v", err)
	}
	got := sv.uploads(t, bucket)
	slices.Sort(got)
	want := []string{"blobs/" + busy.ID(), "blobs/not-a-blob", "blobs/sub/" + busy.ID(), "elsewhere/" + abandoned.ID()}
	if !slices.Equal(got, want) {
		t.Errorf("uploads after Sweep(1h) two hours on: got %q, want %q", got, want)
	}
	if err := busy.Commit(t.Context()); err != nil {
		t.Fatalf("Commit of the busy writer: %v", err)
	}
	if got, err := read(t.Context(), s, busy.ID(), 0, -1); err != nil || !bytes.Equal(got, append(part, "more"...)) {
		t.Errorf("busy blob: got (%d bytes, %v), want %d bytes", len(got), err, len(part)+4)
	}
	if err := abandoned.Commit(t.Context()); err == nil {
		t.Error("Commit of a swept writer: got nil, want an error")
	}
	abandoned.Abort()

	// Sweep(0) aborts every upload of the store, and only those.
	w, err := s.Create(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	w.Write(part)
	if err := s.Sweep(t.Context(), 0); err != nil {
		t.Fatalf("Sweep(0): %v", err)
	}
	got = sv.uploads(t, bucket)
	slices.Sort(got)
	want = []string{"blobs/not-a-blob", "blobs/sub/" + busy.ID(), "elsewhere/" + abandoned.ID()}
	if !slices.Equal(got, want) {
		t.Errorf("uploads after Sweep(0): got %q, want %q", got, want)
	}
}

// TestSharedBucket: Walk reports only the store's blobs, whatever else
// the bucket holds.
func TestSharedBucket(t *testing.T) {
	sv := startFirn(t)
	s, bucket := sv.open(t, nil)
	w, err := s.Create(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("mine"))
	if err := w.Commit(t.Context()); err != nil {
		t.Fatal(err)
	}
	id := w.ID()
	for _, key := range []string{
		id,                             // outside the prefix
		"blobs/tmp/" + id,              // under a sub-prefix
		"blobs/" + strings.ToUpper(id), // not an id
		"blobs/" + id + ".bak",
		"blobs/x",
		"blobsx/" + id,
	} {
		sv.put(t, bucket, key, []byte("not mine"))
	}
	if got := walk(t, s); !slices.Equal(got, []string{id}) {
		t.Errorf("Walk of a shared bucket: got %q, want %q", got, id)
	}
}

// TestArchiveClass: a blob the remote keeps in an archive class gives a
// *NeedsRestoreError on Open, is walked and can be deleted.
func TestArchiveClass(t *testing.T) {
	sv := startFirn(t)
	s, bucket := sv.open(t, func(c *remote.Config) { c.StorageClass = "DEEP_ARCHIVE"; c.PartSize = remote.MinPartSize })
	var ids []string
	for _, n := range []int{10, remote.MinPartSize + 10} { // PutObject, multipart
		w, err := s.Create(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		w.Write(randBytes(n, 6))
		if err := w.Commit(t.Context()); err != nil {
			t.Fatalf("Commit of %d bytes: %v", n, err)
		}
		ids = append(ids, w.ID())
	}
	for _, id := range ids {
		head, err := sv.s3.HeadObject(t.Context(), &s3.HeadObjectInput{Bucket: &bucket, Key: aws.String("blobs/" + id)})
		if err != nil {
			t.Fatal(err)
		}
		if head.StorageClass != "DEEP_ARCHIVE" {
			t.Errorf("remote storage class of %s: got %q, want DEEP_ARCHIVE", id, head.StorageClass)
		}
		for _, r := range []struct{ off, n int64 }{{0, -1}, {5, 2}, {0, 0}} {
			_, err := s.Open(t.Context(), id, r.off, r.n)
			var nr *remote.NeedsRestoreError
			if !errors.As(err, &nr) {
				t.Errorf("Open(%d, %d) of an archived blob: got %v, want a *NeedsRestoreError", r.off, r.n, err)
				continue
			}
			if nr.ID != id || nr.Key != "blobs/"+id || nr.StorageClass != "DEEP_ARCHIVE" {
				t.Errorf("NeedsRestoreError: got %+v, want ID %s, Key blobs/%s, StorageClass DEEP_ARCHIVE", *nr, id, id)
			}
			if errors.Is(err, blob.ErrNotFound) {
				t.Errorf("NeedsRestoreError is ErrNotFound: %v", err)
			}
		}
	}
	slices.Sort(ids)
	if got := walk(t, s); !slices.Equal(got, ids) {
		t.Errorf("Walk of archived blobs: got %q, want %q", got, ids)
	}
	for _, id := range ids {
		if err := s.Delete(t.Context(), id); err != nil {
			t.Errorf("Delete of an archived blob: %v", err)
		}
		if _, err := s.Open(t.Context(), id, 0, -1); !errors.Is(err, blob.ErrNotFound) {
			t.Errorf("Open after Delete: got %v, want %v", err, blob.ErrNotFound)
		}
	}
}

// TestErrors: configuration and remote failures are reported as what
// they are, never as a missing blob.
func TestErrors(t *testing.T) {
	sv := startFirn(t)
	bucket := sv.bucket(t)

	bad := []struct {
		name string
		tune func(*remote.Config)
	}{
		{"no bucket", func(c *remote.Config) { c.Bucket = "" }},
		{"part size too small", func(c *remote.Config) { c.PartSize = 1 << 20 }},
		{"part size too large", func(c *remote.Config) { c.PartSize = 6 << 30 }},
		{"access key alone", func(c *remote.Config) { c.SecretKey = "" }},
	}
	for _, tc := range bad {
		cfg := sv.config(bucket)
		tc.tune(&cfg)
		if _, err := remote.New(cfg); err == nil {
			t.Errorf("New with %s: got nil error, want one", tc.name)
		}
	}

	unreachable := []struct {
		name string
		tune func(*remote.Config)
	}{
		{"missing bucket", func(c *remote.Config) { c.Bucket = "no-such-bucket" }},
		{"wrong secret", func(c *remote.Config) { c.SecretKey = "wrong" }},
		{"unknown access key", func(c *remote.Config) { c.AccessKey = "NOSUCHKEY" }},
	}
	for _, tc := range unreachable {
		cfg := sv.config(bucket)
		tc.tune(&cfg)
		if _, err := remote.Open(t.Context(), cfg); err == nil {
			t.Errorf("Open with %s: got nil error, want one", tc.name)
		}
		// Without the check at Open, every call fails, and no Open says
		// "not found".
		s, err := remote.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		const id = "0123456789abcdef0123456789abcdef"
		if _, err := s.Open(t.Context(), id, 0, -1); err == nil || errors.Is(err, blob.ErrNotFound) {
			t.Errorf("%s: Open: got %v, want an error that is not ErrNotFound", tc.name, err)
		}
		if err := s.Walk(t.Context(), func(string, time.Time) error { return nil }); err == nil {
			t.Errorf("%s: Walk: got nil error, want one", tc.name)
		}
		if err := s.Sweep(t.Context(), 0); err == nil {
			t.Errorf("%s: Sweep: got nil error, want one", tc.name)
		}
		w, err := s.Create(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte("x"))
		if err := w.Commit(t.Context()); err == nil {
			t.Errorf("%s: Commit: got nil error, want one", tc.name)
		}
		w.Abort()
	}

	// A Write that fails to send a part fails, and so does everything
	// after it but Abort.
	s, _ := sv.open(t, func(c *remote.Config) { c.PartSize = remote.MinPartSize })
	ctx, cancel := context.WithCancel(t.Context())
	w, err := s.Create(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	if _, err := w.Write(randBytes(remote.MinPartSize+1, 7)); err == nil {
		t.Error("Write with the Create context cancelled: got nil error, want one")
	}
	if _, err := w.Write([]byte("x")); err == nil {
		t.Error("Write after a failed Write: got nil error, want one")
	}
	if err := w.Commit(t.Context()); err == nil {
		t.Error("Commit after a failed Write: got nil error, want one")
	}
	if err := w.Abort(); err != nil {
		t.Errorf("Abort after a failed Write: %v", err)
	}
	if _, err := s.Open(t.Context(), w.ID(), 0, -1); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Open after a failed Write: got %v, want %v", err, blob.ErrNotFound)
	}

	// Negative offsets are refused.
	if _, err := s.Open(t.Context(), w.ID(), -1, -1); err == nil {
		t.Error("Open at offset -1: got nil error, want one")
	}
}

// TestEnvCredentials: without keys in the configuration, the store signs
// with the AWS_* environment variables.
func TestEnvCredentials(t *testing.T) {
	sv := startFirn(t)
	bucket := sv.bucket(t)
	cfg := sv.config(bucket)
	cfg.AccessKey, cfg.SecretKey = "", ""
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	if _, err := remote.New(cfg); err == nil {
		t.Error("New without any credentials: got nil error, want one")
	}
	t.Setenv("AWS_ACCESS_KEY_ID", testAccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", testSecretKey)
	if _, err := remote.Open(t.Context(), cfg); err != nil {
		t.Errorf("Open with credentials from the environment: %v", err)
	}
}
