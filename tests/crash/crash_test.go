// Package crash kills a real `firn server` process with SIGKILL in the
// middle of a heavy concurrent write load, restarts it on the same data
// directory and checks what survived:
//
//   - every write acknowledged with 200 (PUT, CompleteMultipartUpload) or
//     204 (DELETE) is there, byte for byte (SHA-256, size, ETag);
//   - a key whose last write was in flight at the kill holds either the
//     previous acknowledged state or exactly what the in-flight request
//     sent, never anything else (no partial object);
//   - nothing never acknowledged shows up in a listing, and a PUT whose
//     body the client cut short never takes effect;
//   - blobs/tmp is empty after start-up, and the number of committed blob
//     files equals the number of blobs the metadata references (one per
//     non-inline single-PUT object, one per part of a multipart object or
//     of an unfinished upload); after deleting everything through the API
//     no committed blob is left.
//
// The kill/restart cycle runs three times on the same data, each cycle
// adding load on top of the state the previous one left.
//
// A SIGKILL loses what the process had not handed to the kernel, not
// what the kernel had not written to the disk: this test checks the
// ordering and atomicity of the write protocol against process crashes,
// not the fsyncs against power loss.
package crash

import (
	"bytes"
	"context"
	"crypto/md5"
	crand "crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

const (
	accessKey = "CRASHTESTACCESSKEY"
	secretKey = "crashtestsecretkey0123456789"
	bucket    = "crash"

	cycles    = 3
	workers   = 16
	inlineMax = 128 << 10 // the server's default --inline-max
	partSize  = 5 << 20
)

var firnBin string

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "firn-crash-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "crash:", err)
		os.Exit(1)
	}
	firnBin = filepath.Join(dir, "firn")
	build := exec.Command("go", "build", "-o", firnBin, "./cmd/firn")
	build.Dir = "../.."
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		os.RemoveAll(dir)
		fmt.Fprintln(os.Stderr, "crash: build firn:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// ---- the server process ----

type server struct {
	cmd    *exec.Cmd
	addr   string
	log    string
	exited chan struct{}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startServer runs firn on data and waits until it accepts connections
// (the start-up collection runs before it listens).
func startServer(t *testing.T, data, logPath string, extra ...string) *server {
	t.Helper()
	lf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer lf.Close()
	s := &server{addr: freeAddr(t), log: logPath, exited: make(chan struct{})}
	s.cmd = exec.Command(firnBin, append([]string{"server", "--data", data, "--address", s.addr, "--log-level", "info"}, extra...)...)
	s.cmd.Env = append(os.Environ(), "FIRN_ACCESS_KEY="+accessKey, "FIRN_SECRET_KEY="+secretKey)
	s.cmd.Stdout, s.cmd.Stderr = lf, lf
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		s.cmd.Wait()
		close(s.exited)
	}()
	t.Cleanup(func() {
		s.kill()
		if t.Failed() {
			if b, err := os.ReadFile(logPath); err == nil {
				t.Logf("%s (tail):\n%s", filepath.Base(logPath), tail(string(b), 4000))
			}
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		select {
		case <-s.exited:
			b, _ := os.ReadFile(logPath)
			t.Fatalf("server exited at start-up: %v\n%s", s.cmd.ProcessState, b)
		default:
		}
		c, err := net.DialTimeout("tcp", s.addr, time.Second)
		if err == nil {
			c.Close()
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("server did not start listening on %s: %v", s.addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// kill sends SIGKILL (no graceful stop) and waits for the process to go.
func (s *server) kill() {
	select {
	case <-s.exited:
		return
	default:
	}
	syscall.Kill(s.cmd.Process.Pid, syscall.SIGKILL)
	<-s.exited
}

// stop asks for a graceful shutdown.
func (s *server) stop(t *testing.T) {
	t.Helper()
	syscall.Kill(s.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(20 * time.Second):
		t.Errorf("server did not stop within 20s of SIGTERM")
		s.kill()
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

func newClient(addr string, checksums bool) (*s3.Client, *http.Client) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	hc := &http.Client{Transport: tr}
	calc, valid := aws.RequestChecksumCalculationWhenRequired, aws.ResponseChecksumValidationWhenRequired
	if checksums {
		calc, valid = aws.RequestChecksumCalculationWhenSupported, aws.ResponseChecksumValidationWhenSupported
	}
	return s3.New(s3.Options{
		Region:                     "us-east-1",
		Credentials:                credentials.NewStaticCredentialsProvider(accessKey, secretKey, ""),
		BaseEndpoint:               aws.String("http://" + addr),
		UsePathStyle:               true,
		HTTPClient:                 hc,
		Retryer:                    aws.NopRetryer{}, // one attempt: an error means "outcome unknown"
		RequestChecksumCalculation: calc,
		ResponseChecksumValidation: valid,
	}), hc
}

// ---- the model of what the server must hold ----

// version is one object content; a nil *version is "no object".
type version struct {
	size  int64
	sum   [32]byte
	etag  string // unquoted
	parts int    // 0 for a single PUT
}

func (v *version) String() string {
	if v == nil {
		return "<absent>"
	}
	return fmt.Sprintf("{size %d sha256 %x etag %s}", v.size, v.sum[:6], v.etag)
}

// blobs is how many blob files the version occupies.
func (v *version) blobs() int {
	switch {
	case v == nil:
		return 0
	case v.parts > 0:
		return v.parts
	case v.size > inlineMax:
		return 1
	}
	return 0
}

type keyState struct {
	cur       *version // the last acknowledged state
	uncertain bool     // a write whose outcome is unknown was in flight
	alt       *version // what that write would have left
	busy      bool     // a worker is writing the key
}

type model struct {
	mu     sync.Mutex
	keys   map[string]*keyState
	order  []string
	nextID int
}

// newKey reserves a fresh key (absent, busy).
func (m *model) newKey(prefix string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.nextID++
	k := fmt.Sprintf("%s/%06d", prefix, m.nextID)
	m.keys[k] = &keyState{busy: true}
	m.order = append(m.order, k)
	return k
}

// existing reserves a present, settled key, or returns "".
func (m *model) existing(r *rand.Rand) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.order) == 0 {
		return ""
	}
	for range 16 {
		k := m.order[r.IntN(len(m.order))]
		st := m.keys[k]
		if st.cur != nil && !st.busy && !st.uncertain {
			st.busy = true
			return k
		}
	}
	return ""
}

// release frees a key without changing its state.
func (m *model) release(k string) {
	m.mu.Lock()
	m.keys[k].busy = false
	m.mu.Unlock()
}

// settle records the outcome of a write of v (nil: a delete) to k.
func (m *model) settle(k string, v *version, acked bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	st := m.keys[k]
	st.busy = false
	if acked {
		st.cur = v
	} else {
		st.uncertain, st.alt = true, v
	}
}

// ---- the load ----

type loadStats struct {
	puts, mpus, deletes, truncated, unknown atomic.Int64
}

type loader struct {
	t      *testing.T
	m      *model
	cycle  int
	killed *atomic.Bool
	stats  *loadStats
}

// failed classifies an error of a write: after the kill it only makes
// the outcome unknown; before, the server failed a request under normal
// load, which the test reports.
func (l *loader) failed(what, key string, err error) {
	if !l.killed.Load() {
		l.t.Errorf("cycle %d: %s %s failed before the kill: %v", l.cycle, what, key, err)
	}
}

func randomBytes(n int64) []byte {
	b := make([]byte, n)
	crand.Read(b)
	return b
}

func singleVersion(b []byte) *version {
	m := md5.Sum(b)
	return &version{size: int64(len(b)), sum: sha256.Sum256(b), etag: hex.EncodeToString(m[:])}
}

// objectSize picks a single-PUT size: inline (1–100 KiB) or a blob
// (200 KiB–8 MiB, log-uniform).
func objectSize(r *rand.Rand) int64 {
	if r.IntN(100) < 75 {
		return 1<<10 + r.Int64N(99<<10+1)
	}
	lo, hi := math.Log(200<<10), math.Log(8<<20)
	return int64(math.Exp(lo + r.Float64()*(hi-lo)))
}

func (l *loader) run(ctx context.Context, w int, c *s3.Client, hc *http.Client) {
	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), uint64(w)))
	prefix := fmt.Sprintf("c%d/w%02d", l.cycle, w)
	for ctx.Err() == nil {
		switch p := r.IntN(100); {
		case p < 50:
			l.put(ctx, c, l.m.newKey(prefix), r)
		case p < 65:
			if k := l.m.existing(r); k != "" {
				l.put(ctx, c, k, r)
			}
		case p < 73:
			k := ""
			if r.IntN(3) == 0 {
				k = l.m.existing(r)
			}
			if k == "" {
				k = l.m.newKey(prefix + "/mpu")
			}
			l.multipart(ctx, c, k, r)
		case p < 87:
			if k := l.m.existing(r); k != "" {
				l.delete(ctx, c, k)
			}
		default:
			k := ""
			if r.IntN(2) == 0 {
				k = l.m.existing(r)
			}
			if k == "" {
				k = l.m.newKey(prefix + "/trunc")
			}
			l.truncatedPut(ctx, c, hc, k, r)
		}
	}
}

func (l *loader) put(ctx context.Context, c *s3.Client, k string, r *rand.Rand) {
	b := randomBytes(objectSize(r))
	v := singleVersion(b)
	out, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(k),
		Body: bytes.NewReader(b), ContentLength: aws.Int64(v.size)})
	if err != nil {
		l.failed("PUT", k, err)
		l.stats.unknown.Add(1)
		l.m.settle(k, v, false)
		return
	}
	if got := strings.Trim(aws.ToString(out.ETag), `"`); got != v.etag {
		l.t.Errorf("PUT %s answered ETag %s, want %s", k, got, v.etag)
	}
	l.stats.puts.Add(1)
	l.m.settle(k, v, true)
}

func (l *loader) delete(ctx context.Context, c *s3.Client, k string) {
	_, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(k)})
	if err != nil {
		l.failed("DELETE", k, err)
		l.stats.unknown.Add(1)
		l.m.settle(k, nil, false)
		return
	}
	l.stats.deletes.Add(1)
	l.m.settle(k, nil, true)
}

// multipart uploads 2–3 parts (5 MiB but the last) and completes. Only
// the completion can change the key; an upload cut short before it stays
// as an unfinished upload.
func (l *loader) multipart(ctx context.Context, c *s3.Client, k string, r *rand.Rand) {
	n := 2 + r.IntN(2)
	sizes := make([]int64, n)
	for i := range sizes {
		sizes[i] = partSize
	}
	sizes[n-1] = 1<<10 + r.Int64N(partSize-1<<10+1)
	cr, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(k)})
	if err != nil {
		l.failed("CreateMultipartUpload", k, err)
		l.m.release(k)
		return
	}
	whole := sha256.New()
	var md5s []byte
	var done []types.CompletedPart
	var total int64
	for i, sz := range sizes {
		b := randomBytes(sz)
		whole.Write(b)
		pm := md5.Sum(b)
		md5s = append(md5s, pm[:]...)
		total += sz
		up, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(bucket), Key: aws.String(k), UploadId: cr.UploadId,
			PartNumber: aws.Int32(int32(i + 1)), Body: bytes.NewReader(b), ContentLength: aws.Int64(sz)})
		if err != nil {
			l.failed("UploadPart", k, err)
			l.m.release(k)
			return
		}
		if got := strings.Trim(aws.ToString(up.ETag), `"`); got != hex.EncodeToString(pm[:]) {
			l.t.Errorf("UploadPart %s #%d answered ETag %s, want %x", k, i+1, got, pm)
		}
		done = append(done, types.CompletedPart{ETag: up.ETag, PartNumber: aws.Int32(int32(i + 1))})
	}
	em := md5.Sum(md5s)
	v := &version{size: total, etag: fmt.Sprintf("%x-%d", em, n), parts: n}
	whole.Sum(v.sum[:0])
	out, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(k),
		UploadId: cr.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: done}})
	if err != nil {
		l.failed("CompleteMultipartUpload", k, err)
		l.stats.unknown.Add(1)
		l.m.settle(k, v, false)
		return
	}
	if got := strings.Trim(aws.ToString(out.ETag), `"`); got != v.etag {
		l.t.Errorf("CompleteMultipartUpload %s answered ETag %s, want %s", k, got, v.etag)
	}
	l.stats.mpus.Add(1)
	l.m.settle(k, v, true)
}

var errCut = errors.New("body cut short on purpose")

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errCut }

// truncatedPut sends a presigned PUT that declares the full length but
// whose body fails part-way: the server must never store it, so the key
// keeps its state.
func (l *loader) truncatedPut(ctx context.Context, c *s3.Client, hc *http.Client, k string, r *rand.Rand) {
	defer l.m.release(k)
	n := objectSize(r)
	b := randomBytes(n)
	ps, err := s3.NewPresignClient(c).PresignPutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(k), ContentLength: aws.Int64(n)})
	if err != nil {
		l.t.Errorf("presign: %v", err)
		return
	}
	cut := r.Int64N(n)
	req, err := http.NewRequestWithContext(ctx, ps.Method, ps.URL, io.MultiReader(bytes.NewReader(b[:cut]), failingReader{}))
	if err != nil {
		l.t.Errorf("truncated PUT request: %v", err)
		return
	}
	for h, vs := range ps.SignedHeader {
		if !strings.EqualFold(h, "host") {
			req.Header[h] = vs
		}
	}
	req.ContentLength = n
	resp, err := hc.Do(req)
	if err == nil {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode/100 == 2 {
			l.t.Errorf("cycle %d: PUT %s with %d of %d bytes was answered %s", l.cycle, k, cut, n, resp.Status)
		}
	}
	l.stats.truncated.Add(1)
}

// ---- the checks ----

type observed struct {
	size int64
	sum  [32]byte
	etag string
}

func (o *observed) matches(v *version) bool {
	if o == nil || v == nil {
		return o == nil && v == nil
	}
	return o.size == v.size && o.sum == v.sum && o.etag == v.etag
}

func (o *observed) String() string {
	if o == nil {
		return "<absent>"
	}
	return fmt.Sprintf("{size %d sha256 %x etag %s}", o.size, o.sum[:6], o.etag)
}

// listAll returns every key of the bucket with its listed size and ETag.
func listAll(ctx context.Context, t *testing.T, c *s3.Client) map[string]types.Object {
	t.Helper()
	out := map[string]types.Object{}
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("list: %v", err)
		}
		for _, o := range page.Contents {
			out[aws.ToString(o.Key)] = o
		}
	}
	return out
}

// uploadBlobs lists the unfinished uploads and counts their part blobs.
func uploadBlobs(ctx context.Context, t *testing.T, c *s3.Client) (ups []types.MultipartUpload, blobs int) {
	t.Helper()
	in := &s3.ListMultipartUploadsInput{Bucket: aws.String(bucket)}
	for {
		page, err := c.ListMultipartUploads(ctx, in)
		if err != nil {
			t.Fatalf("list uploads: %v", err)
		}
		ups = append(ups, page.Uploads...)
		if !aws.ToBool(page.IsTruncated) {
			break
		}
		in.KeyMarker, in.UploadIdMarker = page.NextKeyMarker, page.NextUploadIdMarker
	}
	for _, u := range ups {
		pp := s3.NewListPartsPaginator(c, &s3.ListPartsInput{Bucket: aws.String(bucket), Key: u.Key, UploadId: u.UploadId})
		for pp.HasMorePages() {
			page, err := pp.NextPage(ctx)
			if err != nil {
				t.Fatalf("list parts of %s: %v", aws.ToString(u.Key), err)
			}
			for _, p := range page.Parts {
				if aws.ToInt64(p.Size) > 0 {
					blobs++
				}
			}
		}
	}
	return ups, blobs
}

// blobFiles counts the committed blob files and the files in blobs/tmp.
func blobFiles(t *testing.T, data string) (committed, tmp int) {
	t.Helper()
	root := filepath.Join(data, "blobs")
	ents, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range ents {
		if !d.IsDir() {
			continue
		}
		files, err := os.ReadDir(filepath.Join(root, d.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if d.Name() == "tmp" {
			tmp += len(files)
		} else {
			committed += len(files)
		}
	}
	return committed, tmp
}

// read GETs key and digests what comes back.
func read(ctx context.Context, c *s3.Client, key string) (*observed, error) {
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return nil, err
	}
	defer out.Body.Close()
	h := sha256.New()
	n, err := io.Copy(h, out.Body)
	if err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	if cl := aws.ToInt64(out.ContentLength); cl != n {
		return nil, fmt.Errorf("Content-Length %d but %d bytes", cl, n)
	}
	o := &observed{size: n, etag: strings.Trim(aws.ToString(out.ETag), `"`)}
	h.Sum(o.sum[:0])
	return o, nil
}

// verify checks the restarted server against the model, then settles
// every in-flight write to what the server holds.
func verify(ctx context.Context, t *testing.T, cycle int, c *s3.Client, data string, m *model) {
	t.Helper()
	if _, tmp := blobFiles(t, data); tmp != 0 {
		t.Errorf("cycle %d: %d files left in blobs/tmp after start-up", cycle, tmp)
	}
	listed := listAll(ctx, t, c)
	m.mu.Lock()
	defer m.mu.Unlock()
	for k := range listed {
		if _, ok := m.keys[k]; !ok {
			t.Errorf("cycle %d: listing shows %s, which was never written", cycle, k)
		}
	}
	// Read back every listed object.
	got := make(map[string]*observed, len(listed))
	var mu sync.Mutex
	keys := make(chan string)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for k := range keys {
				o, err := read(ctx, c, k)
				if err != nil {
					t.Errorf("cycle %d: GET %s (listed): %v", cycle, k, err)
					continue
				}
				if lo := listed[k]; aws.ToInt64(lo.Size) != o.size || strings.Trim(aws.ToString(lo.ETag), `"`) != o.etag {
					t.Errorf("cycle %d: %s listed with size %d ETag %s, read %v", cycle, k, aws.ToInt64(lo.Size), aws.ToString(lo.ETag), o)
				}
				mu.Lock()
				got[k] = o
				mu.Unlock()
			}
		})
	}
	for k := range listed {
		keys <- k
	}
	close(keys)
	wg.Wait()

	var acked, inflight, settledNew, referenced int
	for _, k := range m.order {
		st := m.keys[k]
		o := got[k] // nil: absent
		if _, ok := listed[k]; ok && o == nil {
			continue // unreadable, reported above
		}
		switch {
		case o.matches(st.cur):
			if st.cur != nil {
				acked++
			}
			referenced += st.cur.blobs()
		case st.uncertain && o.matches(st.alt):
			st.cur = st.alt
			settledNew++
			referenced += st.cur.blobs()
		case st.uncertain:
			t.Errorf("cycle %d: %s holds %v; want the acknowledged %v or the in-flight %v", cycle, k, o, st.cur, st.alt)
		default:
			t.Errorf("cycle %d: %s holds %v; want the acknowledged %v", cycle, k, o, st.cur)
		}
		if st.uncertain {
			inflight++
		}
		st.uncertain, st.alt = false, nil
	}
	ups, upBlobs := uploadBlobs(ctx, t, c)
	committed, _ := blobFiles(t, data)
	if committed != referenced+upBlobs {
		t.Errorf("cycle %d: %d committed blob files; metadata references %d (%d by objects, %d by %d unfinished uploads)",
			cycle, committed, referenced+upBlobs, referenced, upBlobs, len(ups))
	}
	t.Logf("cycle %d after restart: %d objects listed (%d as acknowledged), %d in-flight writes of which %d took effect, %d blobs (%d in %d unfinished uploads)",
		cycle, len(listed), acked, inflight, settledNew, committed, upBlobs, len(ups))
}

// drain deletes every object and aborts every upload through the API, then
// checks that no blob is left.
func drain(ctx context.Context, t *testing.T, c *s3.Client, data string) {
	t.Helper()
	listed := listAll(ctx, t, c)
	keys := make(chan string)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for k := range keys {
				if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(k)}); err != nil {
					t.Errorf("DELETE %s: %v", k, err)
				}
			}
		})
	}
	for k := range listed {
		keys <- k
	}
	close(keys)
	wg.Wait()
	ups, _ := uploadBlobs(ctx, t, c)
	for _, u := range ups {
		if _, err := c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String(bucket), Key: u.Key, UploadId: u.UploadId}); err != nil {
			t.Errorf("abort upload %s: %v", aws.ToString(u.UploadId), err)
		}
	}
	if left := listAll(ctx, t, c); len(left) != 0 {
		t.Errorf("%d objects still listed after deleting all", len(left))
	}
	if ups, _ := uploadBlobs(ctx, t, c); len(ups) != 0 {
		t.Errorf("%d uploads still listed after aborting all", len(ups))
	}
	committed, tmp := blobFiles(t, data)
	if committed != 0 || tmp != 0 {
		var names []string
		filepath.WalkDir(filepath.Join(data, "blobs"), func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				names = append(names, strings.TrimPrefix(p, data+"/"))
			}
			return nil
		})
		sort.Strings(names)
		if len(names) > 10 {
			names = append(names[:10], "...")
		}
		t.Errorf("after deleting everything: %d committed blobs and %d temporary files left: %v", committed, tmp, names)
	}
	t.Logf("drained %d objects and %d uploads; no blob left", len(listed), len(ups))
}

func TestCrashRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test: skipped with -short")
	}
	start := time.Now()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	ctx := context.Background()
	m := &model{keys: map[string]*keyState{}}

	srv := startServer(t, data, filepath.Join(dir, "server-0.log"))
	c, _ := newClient(srv.addr, false)
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatalf("create bucket: %v", err)
	}
	for cycle := 1; cycle <= cycles; cycle++ {
		var killed atomic.Bool
		stats := &loadStats{}
		l := &loader{t: t, m: m, cycle: cycle, killed: &killed, stats: stats}
		plain, hc1 := newClient(srv.addr, false)
		summed, hc2 := newClient(srv.addr, true)
		loadCtx, cancel := context.WithCancel(ctx)
		var wg sync.WaitGroup
		for w := range workers {
			// Half the workers let the SDK add CRC32 checksums.
			c, hc := plain, hc1
			if w%2 == 1 {
				c, hc = summed, hc2
			}
			wg.Go(func() { l.run(loadCtx, w, c, hc) })
		}
		loadFor := time.Second + rand.N(2*time.Second)
		time.Sleep(loadFor)
		killed.Store(true)
		srv.kill()
		cancel()
		wg.Wait()
		hc1.CloseIdleConnections()
		hc2.CloseIdleConnections()
		t.Logf("cycle %d: killed after %v of load: %d PUTs, %d multipart uploads, %d DELETEs acknowledged; %d truncated PUTs; %d writes in flight",
			cycle, loadFor.Round(time.Millisecond), stats.puts.Load(), stats.mpus.Load(), stats.deletes.Load(), stats.truncated.Load(), stats.unknown.Load())
		if t.Failed() {
			t.FailNow()
		}

		srv = startServer(t, data, filepath.Join(dir, fmt.Sprintf("server-%d.log", cycle)))
		c, _ = newClient(srv.addr, false)
		verify(ctx, t, cycle, c, data, m)
		if t.Failed() {
			t.FailNow()
		}
	}
	drain(ctx, t, c, data)
	srv.stop(t)
	t.Logf("total %v", time.Since(start).Round(time.Millisecond))
}
