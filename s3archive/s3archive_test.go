package s3archive_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/firnhq/firn/internal/config"
	"github.com/firnhq/firn/internal/testenv"
	"github.com/firnhq/firn/internal/testenv/firntest"
	"github.com/firnhq/firn/s3archive"
)

func client(endpoint, ak, sk string) *s3.Client {
	return s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(endpoint), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(ak, sk, "")})
}

// startFirn starts a firn whose Standard restores take about 400 ms.
func startFirn(t *testing.T) *s3.Client {
	t.Helper()
	return client(firntest.Start(t, "AK", "SK", func(cfg *config.Server) {
		cfg.RestoreLatency = "Expedited=0s,Standard=400ms,Bulk=1h"
	}), "AK", "SK")
}

type recorder struct {
	mu     sync.Mutex
	events []s3archive.EventKind
}

func (r *recorder) on(e s3archive.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.events) == 0 || r.events[len(r.events)-1] != e.Kind {
		r.events = append(r.events, e.Kind)
	}
}

func readAll(t *testing.T, out *s3.GetObjectOutput, err error) []byte {
	t.Helper()
	if err != nil {
		t.Fatalf("GetObject: %v", err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// testArchiveGet runs the package's contract against an S3 endpoint.
func testArchiveGet(t *testing.T, c *s3.Client, bucket string, restoreTakes time.Duration) {
	ctx := context.Background()
	body := bytes.Repeat([]byte("archived "), 1000)
	for key, class := range map[string]types.StorageClass{"hot": types.StorageClassStandard, "cold": types.StorageClassGlacier} {
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: aws.String(key), Body: bytes.NewReader(body), StorageClass: class}); err != nil {
			t.Fatal(err)
		}
	}
	var rec recorder
	out, err := s3archive.GetObject(ctx, c, bucket, "hot", s3archive.Options{OnEvent: rec.on})
	got := readAll(t, out, err)
	if !bytes.Equal(got, body) || len(rec.events) != 1 || rec.events[0] != s3archive.Ready {
		t.Errorf("readable object: %d bytes, events %v", len(got), rec.events)
	}

	// No wait: the restore is requested and reported pending.
	rec = recorder{}
	_, err = s3archive.GetObject(ctx, c, bucket, "cold", s3archive.Options{NoWait: true, Tier: s3archive.TierStandard, OnEvent: rec.on})
	var pe *s3archive.PendingError
	if !errors.As(err, &pe) || pe.StorageClass != "GLACIER" || pe.ExpectedReady.Before(time.Now()) {
		t.Fatalf("archived object without waiting: %v", err)
	}
	if len(rec.events) != 1 || rec.events[0] != s3archive.Requested {
		t.Errorf("events: %v, want the request", rec.events)
	}
	st, err := s3archive.Head(ctx, c, bucket, "cold", s3archive.Options{})
	if err != nil || !st.Archived {
		t.Fatalf("Head: %+v %v", st, err)
	}
	// Waiting: a second call resumes the running restore and returns
	// the bytes once it is done.
	rec = recorder{}
	ctx2, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	start := time.Now()
	out, err = s3archive.GetObject(ctx2, c, bucket, "cold", s3archive.Options{Poll: 50 * time.Millisecond, OnEvent: rec.on})
	got = readAll(t, out, err)
	if !bytes.Equal(got, body) {
		t.Fatalf("restored object: %d bytes", len(got))
	}
	if rec.events[len(rec.events)-1] != s3archive.Ready || (restoreTakes > 0 && rec.events[0] != s3archive.Waiting) {
		t.Errorf("events: %v", rec.events)
	}
	if restoreTakes > 0 && time.Since(start) < restoreTakes/2 {
		t.Errorf("the wait took %v; the restore takes about %v", time.Since(start), restoreTakes)
	}
	if st, err := s3archive.Head(ctx, c, bucket, "cold", s3archive.Options{}); err != nil || !st.Readable() || st.RestoredUntil.IsZero() {
		t.Errorf("Head after the restore: %+v %v", st, err)
	}
}

func TestGetObjectFirn(t *testing.T) {
	c := startFirn(t)
	if _, err := c.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String("vault")}); err != nil {
		t.Fatal(err)
	}
	testArchiveGet(t, c, "vault", 400*time.Millisecond)

	// A wait cut short by the context is a PendingError wrapping it.
	ctx := context.Background()
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("vault"), Key: aws.String("deep"), Body: strings.NewReader("x"),
		StorageClass: types.StorageClassDeepArchive}); err != nil {
		t.Fatal(err)
	}
	// Bulk takes an hour here, so the deadline always falls in the wait,
	// however slow the machine is at the HEAD and the restore request.
	short, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	_, err := s3archive.GetObject(short, c, "vault", "deep", s3archive.Options{Tier: s3archive.TierBulk, Poll: 20 * time.Millisecond})
	var pe *s3archive.PendingError
	if !errors.As(err, &pe) || !errors.Is(err, context.DeadlineExceeded) || pe.Tier != s3archive.TierBulk {
		t.Errorf("cut-short wait: %v", err)
	}
	// Another account's bucket is refused, not read.
	_, err = s3archive.GetObject(ctx, c, "vault", "hot", s3archive.Options{ExpectedBucketOwner: "111122223333"})
	if !s3archive.IsCode(err, "AccessDenied", "Forbidden") && !strings.Contains(fmt.Sprint(err), "403") {
		t.Errorf("a bucket expected to be another account's: %v, want 403", err)
	}
	out, err := s3archive.GetObject(ctx, c, "vault", "hot", s3archive.Options{ExpectedBucketOwner: "000000000000"})
	readAll(t, out, err)
}

// TestGetObjectMoto runs the same contract against moto, an S3 that is
// not firn, so nothing depends on firn's extensions.
func TestGetObjectMoto(t *testing.T) {
	endpoint := testenv.Moto(t)
	c := client(endpoint, "testing", "testing")
	if _, err := c.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String("vault")}); err != nil {
		t.Fatal(err)
	}
	testArchiveGet(t, c, "vault", 0)
}
