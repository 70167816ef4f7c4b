// Package bench measures a real `firn server` process under S3 load from
// aws-sdk-go-v2 clients on the same machine, the way the reference
// figures in the issues were taken: 4 KiB objects from 16 concurrent
// clients and 64 MiB objects from 4, PUT then GET, plus the server's
// peak resident memory during each benchmark.
//
// Run with:
//
//	go test ./tests/bench -run '^$' -bench . -count 5 | tee new.txt
//	benchstat new.txt
//
// Every benchmark reports ops/s, MB/s and peak-RSS-MiB (the server
// process's VmHWM, reset before each benchmark). FIRN_BENCH_ARGS adds
// flags to the server; FIRN_BENCH_SSE=1 gives it a master key, so every
// object is stored with SSE-S3 (compare a run with and one without). Without
// -bench the package does nothing.
package bench

import (
	"bytes"
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/firnhq/firn/internal/sse"
)

const (
	accessKey = "BENCHACCESSKEY"
	secretKey = "benchsecretkey0123456789"
)

var (
	endpoint string
	server   *exec.Cmd
	firnBin  string // the firn binary of the run, for client benchmarks
)

func TestMain(m *testing.M) {
	flag.Parse()
	if f := flag.Lookup("test.bench"); f == nil || f.Value.String() == "" {
		os.Exit(m.Run())
	}
	code, err := runWithServer(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	os.Exit(code)
}

func runWithServer(m *testing.M) (int, error) {
	dir, err := os.MkdirTemp("", "firn-bench-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	defer func() {
		if dataDir != "" {
			os.RemoveAll(dataDir) // the backup benchmarks' data set
		}
	}()
	bin := filepath.Join(dir, "firn")
	firnBin = bin
	build := exec.Command("go", "build", "-o", bin, "./cmd/firn")
	build.Dir = "../.."
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return 0, fmt.Errorf("build: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	addr := ln.Addr().String()
	ln.Close()
	args := []string{"server", "--data", filepath.Join(dir, "data"), "--address", addr, "--log-level", "warn",
		// Restores as fast as the disks allow and packs sealed soon, so
		// the archive benchmarks measure the media, not the AWS-like
		// waits.
		"--restore-latency", "Expedited=0s,Standard=0s,Bulk=0s", "--restore-every", "20ms", "--seal-every", "1s"}
	// FIRN_BENCH_ARGS adds server flags, e.g. "--inline-max 0" to measure
	// small objects stored as files.
	args = append(args, strings.Fields(os.Getenv("FIRN_BENCH_ARGS"))...)
	// With NATS on this machine, the server gets notification targets
	// for the notification benchmarks (notify_bench_test.go).
	if cfg, err := notifyConfig(dir); err != nil {
		return 0, err
	} else if cfg != "" {
		args = append(args, "--config", cfg)
		defer deleteStreams()
	}
	server = exec.Command(bin, args...)
	server.Env = append(os.Environ(), "FIRN_ACCESS_KEY="+accessKey, "FIRN_SECRET_KEY="+secretKey)
	if os.Getenv("FIRN_BENCH_SSE") != "" {
		server.Env = append(server.Env, "FIRN_MASTER_KEY="+sse.GenerateKeyLine("bench"))
	}
	server.Stderr = os.Stderr
	if err := server.Start(); err != nil {
		return 0, err
	}
	defer func() {
		server.Process.Signal(os.Interrupt)
		server.Wait()
	}()
	endpoint = "http://" + addr
	for i := 0; ; i++ {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			break
		}
		if i > 100 {
			return 0, fmt.Errorf("server did not start: %w", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return m.Run(), nil
}

func client() *s3.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	return s3.New(s3.Options{
		Region:                     "us-east-1",
		Credentials:                credentials.NewStaticCredentialsProvider(accessKey, secretKey, ""),
		BaseEndpoint:               aws.String(endpoint),
		UsePathStyle:               true,
		HTTPClient:                 &http.Client{Transport: tr},
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	})
}

// resetPeakRSS clears the server's VmHWM so that the next reading covers
// only what follows.
func resetPeakRSS(b *testing.B) {
	if err := os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", server.Process.Pid), []byte("5"), 0); err != nil {
		b.Logf("cannot reset peak RSS: %v", err)
	}
}

func peakRSSMiB(b *testing.B) float64 {
	st, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", server.Process.Pid))
	if err != nil {
		b.Logf("read server status: %v", err)
		return 0
	}
	for _, line := range strings.Split(string(st), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
			return kb / 1024
		}
	}
	return 0
}

// run spreads b.N operations over conc concurrent clients and reports
// throughput and the server's peak RSS.
func run(b *testing.B, conc int, size int64, op func(c *s3.Client, i int64) error) {
	c := client()
	var next atomic.Int64
	var failed atomic.Value
	resetPeakRSS(b)
	b.SetBytes(size)
	b.ResetTimer()
	done := make(chan struct{}, conc)
	for range conc {
		go func() {
			defer func() { done <- struct{}{} }()
			for {
				i := next.Add(1) - 1
				if i >= int64(b.N) {
					return
				}
				if err := op(c, i); err != nil {
					failed.Store(err)
					return
				}
			}
		}()
	}
	for range conc {
		<-done
	}
	b.StopTimer()
	if err, ok := failed.Load().(error); ok {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
	b.ReportMetric(peakRSSMiB(b), "peak-RSS-MiB")
}

func ensureBucket(b *testing.B, name string) {
	_, err := client().CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(name)})
	if err != nil && !strings.Contains(err.Error(), "BucketAlreadyOwnedByYou") {
		b.Fatal(err)
	}
}

func payload(size int) []byte {
	p := make([]byte, size)
	rand.Read(p)
	return p
}

func benchPut(b *testing.B, bucket string, size, conc, keys int) {
	benchPutClass(b, bucket, "", size, conc, keys)
}

func benchPutClass(b *testing.B, bucket string, class types.StorageClass, size, conc, keys int) {
	ensureBucket(b, bucket)
	p := payload(size)
	wantSSE := types.ServerSideEncryption("")
	if os.Getenv("FIRN_BENCH_SSE") != "" {
		wantSSE = types.ServerSideEncryptionAes256
	}
	run(b, conc, int64(size), func(c *s3.Client, i int64) error {
		out, err := c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(bucket), StorageClass: class,
			Key: aws.String(fmt.Sprintf("obj/%08d", i%int64(keys))), Body: bytes.NewReader(p), ContentLength: aws.Int64(int64(size))})
		if err == nil && out.ServerSideEncryption != wantSSE {
			err = fmt.Errorf("stored with encryption %q, want %q", out.ServerSideEncryption, wantSSE)
		}
		return err
	})
}

func benchGet(b *testing.B, bucket string, size, conc, keys int) {
	ensureBucket(b, bucket)
	c := client()
	p := payload(size)
	for i := range keys {
		key := fmt.Sprintf("obj/%08d", i)
		if _, err := c.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}); err == nil {
			continue
		}
		if _, err := c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key),
			Body: bytes.NewReader(p), ContentLength: aws.Int64(int64(size))}); err != nil {
			b.Fatal(err)
		}
	}
	run(b, conc, int64(size), func(c *s3.Client, i int64) error {
		out, err := c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(fmt.Sprintf("obj/%08d", i%int64(keys)))})
		if err != nil {
			return err
		}
		defer out.Body.Close()
		n, err := io.Copy(io.Discard, out.Body)
		if err == nil && n != int64(size) {
			err = fmt.Errorf("got %d bytes, want %d", n, size)
		}
		return err
	})
}

func BenchmarkPut4KiB(b *testing.B)  { benchPut(b, "small", 4<<10, 16, 2000) }
func BenchmarkGet4KiB(b *testing.B)  { benchGet(b, "small", 4<<10, 16, 2000) }
func BenchmarkPut64MiB(b *testing.B) { benchPut(b, "large", 64<<20, 4, 20) }
func BenchmarkGet64MiB(b *testing.B) { benchGet(b, "large", 64<<20, 4, 20) }

// BenchmarkPutGlacier64MiB: PUT into GLACIER, i.e. into the archive
// tier's packs (journal, then sealed into shards).
func BenchmarkPutGlacier64MiB(b *testing.B) {
	benchPutClass(b, "archive", types.StorageClassGlacier, 64<<20, 4, 20)
}

// BenchmarkRestoreGlacier64MiB: restore throughput of large objects
// through the server: 8 GLACIER objects of 64 MiB, PUT and sealed into
// the archive's packs (not timed), then restored at once (Bulk, no
// modelled latency) until every copy is on the hot tier; MB/s is
// restored bytes over the time from the first RestoreObject to the last
// copy. A restore reads the pack shards, checks every block and the
// object's SHA-256, and writes and fsyncs the hot copy.
func BenchmarkRestoreGlacier64MiB(b *testing.B) {
	const count, size = 8, 64 << 20
	c := client()
	ctx := context.Background()
	p := payload(size)
	for n := range b.N {
		b.StopTimer()
		bucket := fmt.Sprintf("restore-large-%d-%d", time.Now().UnixNano(), n)
		ensureBucket(b, bucket)
		each(b, 4, count, func(i int) error {
			_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(fmt.Sprintf("cold/%02d", i)),
				Body: bytes.NewReader(p), ContentLength: aws.Int64(size), StorageClass: types.StorageClassGlacier})
			return err
		})
		time.Sleep(2500 * time.Millisecond) // --seal-every 1s: the packs are sealed
		dropCaches()
		b.StartTimer()
		each(b, count, count, func(i int) error {
			_, err := c.RestoreObject(ctx, &s3.RestoreObjectInput{Bucket: aws.String(bucket), Key: aws.String(fmt.Sprintf("cold/%02d", i)),
				RestoreRequest: &types.RestoreRequest{Days: aws.Int32(1), GlacierJobParameters: &types.GlacierJobParameters{Tier: types.TierBulk}}})
			return err
		})
		waitRestored(b, c, bucket, count)
	}
	b.SetBytes(count * size)
}

// waitRestored polls the listing until count objects of bucket have a
// finished restore.
func waitRestored(b *testing.B, c *s3.Client, bucket string, count int) {
	for restored := 0; restored < count; {
		restored = 0
		pg := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String(bucket),
			OptionalObjectAttributes: []types.OptionalObjectAttributes{types.OptionalObjectAttributesRestoreStatus}})
		for pg.HasMorePages() {
			page, err := pg.NextPage(context.Background())
			if err != nil {
				b.Fatal(err)
			}
			for _, o := range page.Contents {
				if o.RestoreStatus != nil && !aws.ToBool(o.RestoreStatus.IsRestoreInProgress) {
					restored++
				}
			}
		}
		if restored < count {
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// dropCaches evicts the page cache where the benchmark may (as root), so
// that restores read the archive's disks rather than memory.
func dropCaches() {
	exec.Command("sync").Run()
	os.WriteFile("/proc/sys/vm/drop_caches", []byte("3"), 0)
}

// BenchmarkRestore10kSmall: the time from the first RestoreObject to the
// last restored copy for 10,000 GLACIER objects of 4 KiB that share
// packs (one op restores all of them; PUT and seal are not timed). The
// server runs restores with no modelled latency, so this is the media
// and the job machinery.
func BenchmarkRestore10kSmall(b *testing.B) {
	const count, size, conc = 10000, 4 << 10, 16
	c := client()
	ctx := context.Background()
	p := payload(size)
	var requests time.Duration
	for n := range b.N {
		b.StopTimer()
		bucket := fmt.Sprintf("restore-%d-%d", time.Now().UnixNano(), n)
		ensureBucket(b, bucket)
		each(b, conc, count, func(i int) error {
			_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(fmt.Sprintf("cold/%05d", i)),
				Body: bytes.NewReader(p), ContentLength: aws.Int64(size), StorageClass: types.StorageClassGlacier})
			return err
		})
		time.Sleep(2500 * time.Millisecond) // --seal-every 1s: the packs are sealed
		b.StartTimer()
		start := time.Now()
		each(b, conc, count, func(i int) error {
			_, err := c.RestoreObject(ctx, &s3.RestoreObjectInput{Bucket: aws.String(bucket), Key: aws.String(fmt.Sprintf("cold/%05d", i)),
				RestoreRequest: &types.RestoreRequest{Days: aws.Int32(1), GlacierJobParameters: &types.GlacierJobParameters{Tier: types.TierBulk}}})
			return err
		})
		requests += time.Since(start)
		waitRestored(b, c, bucket, count)
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/10k-restores")
	b.ReportMetric(requests.Seconds()/float64(b.N), "s-of-requests")
	b.ReportMetric(float64(count*b.N)/b.Elapsed().Seconds(), "objects/s")
}

// each runs fn(0..n-1) over conc goroutines and fails b on an error.
func each(b *testing.B, conc, n int, fn func(i int) error) {
	var next atomic.Int64
	var failed atomic.Value
	done := make(chan struct{}, conc)
	for range conc {
		go func() {
			defer func() { done <- struct{}{} }()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := fn(i); err != nil {
					failed.Store(err)
					return
				}
			}
		}()
	}
	for range conc {
		<-done
	}
	if err, ok := failed.Load().(error); ok {
		b.Fatal(err)
	}
}
