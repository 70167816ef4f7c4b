package app

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awscreds "github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/firnhq/firn/internal/config"
)

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
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

// startFirn starts a server with tune applied to its configuration.
func startFirn(t testing.TB, ak, sk string, logs io.Writer, tune func(*config.Server)) (*Server, *s3.Client) {
	t.Helper()
	cfg := config.Defaults()
	cfg.Data = t.TempDir()
	cfg.Address = "127.0.0.1:0"
	cfg.AccessKey, cfg.SecretKey = ak, sk
	cfg.RestoreLatency = "Expedited=0s,Standard=0s,Bulk=0s"
	cfg.RestoreEvery = 20 * time.Millisecond
	if tune != nil {
		tune(&cfg)
	}
	if logs == nil {
		logs = io.Discard
	}
	srv, err := Start(context.Background(), cfg, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})), io.Discard)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	c := s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String("http://" + srv.Addr()), UsePathStyle: true,
		Credentials: awscreds.NewStaticCredentialsProvider(ak, sk, "")})
	return srv, c
}

// TestRemoteTier: with GLACIER mapped to a remote bucket (here another
// firn, which keeps it in its own GLACIER class), the archived bytes
// live only on the remote; a restore asks the remote to restore them,
// waits for it, and serves the object byte for byte.
func TestRemoteTier(t *testing.T) {
	ctx := context.Background()
	const remoteSecret = "remote-secret-key-never-logged"
	_, far := startFirn(t, "remote-ak", remoteSecret, nil, nil)
	if _, err := far.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("tier")}); err != nil {
		t.Fatal(err)
	}
	farSrvAddr := far.Options().BaseEndpoint
	var logs syncBuffer
	_, near := startFirn(t, "near-ak", "near-sk", &logs, func(c *config.Server) {
		c.ClassTiers = "GLACIER=remote"
		c.Remote = config.Remote{Endpoint: *farSrvAddr, Region: "us-east-1", Bucket: "tier", Prefix: "firn/",
			StorageClass: "GLACIER", PathStyle: true, AccessKey: "remote-ak", SecretKey: remoteSecret}
		c.RestoreLease = 300 * time.Millisecond
	})
	if _, err := near.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("data")}); err != nil {
		t.Fatal(err)
	}
	body := bytes.Repeat([]byte("remote tier bytes "), 20000)
	if _, err := near.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("data"), Key: aws.String("cold"),
		Body: bytes.NewReader(body), StorageClass: types.StorageClassGlacier}); err != nil {
		t.Fatal(err)
	}
	// The bytes are on the remote, in its GLACIER class.
	l, err := far.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("tier")})
	if err != nil || len(l.Contents) != 1 || !strings.HasPrefix(*l.Contents[0].Key, "firn/") ||
		l.Contents[0].StorageClass != types.ObjectStorageClassGlacier || *l.Contents[0].Size != int64(len(body)) {
		t.Fatalf("remote bucket: %+v, %v; want one GLACIER blob of %d bytes under firn/", l.Contents, err, len(body))
	}
	if _, err := near.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("data"), Key: aws.String("cold")}); err == nil ||
		!strings.Contains(err.Error(), "InvalidObjectState") {
		t.Fatalf("GET before restore: %v, want InvalidObjectState", err)
	}
	if _, err := near.RestoreObject(ctx, &s3.RestoreObjectInput{Bucket: aws.String("data"), Key: aws.String("cold"),
		RestoreRequest: &types.RestoreRequest{Days: aws.Int32(1), GlacierJobParameters: &types.GlacierJobParameters{Tier: types.TierStandard}}}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		h, err := near.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("data"), Key: aws.String("cold")})
		if err != nil {
			t.Fatal(err)
		}
		if h.Restore != nil && strings.HasPrefix(*h.Restore, `ongoing-request="false"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("restore did not complete: %v\n%s", aws.ToString(h.Restore), logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	out, err := near.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("data"), Key: aws.String("cold")})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(out.Body)
	out.Body.Close()
	if !bytes.Equal(got, body) {
		t.Errorf("GET after restore: %d bytes, want %d identical", len(got), len(body))
	}
	if !strings.Contains(logs.String(), "restore waits for the remote tier") {
		t.Errorf("the near server never waited for the remote's restore; log:\n%s", logs.String())
	}
	if strings.Contains(logs.String(), remoteSecret) {
		t.Errorf("the remote secret key appears in the log")
	}
}

// TestRemoteTierNeedsBucket: mapping a class to the remote tier without
// a remote bucket is a start-up error, not a silent fallback.
func TestRemoteTierNeedsBucket(t *testing.T) {
	cfg := config.Defaults()
	cfg.Data = t.TempDir()
	cfg.Address = "127.0.0.1:0"
	cfg.AccessKey, cfg.SecretKey = "AK", "SK"
	cfg.ClassTiers = "DEEP_ARCHIVE=remote"
	if s, err := Start(context.Background(), cfg, slog.New(slog.DiscardHandler), io.Discard); err == nil {
		s.Shutdown(context.Background())
		t.Fatal("Start succeeded, want an error about remote-bucket")
	} else if !strings.Contains(err.Error(), "remote-bucket") {
		t.Errorf("error %q does not name remote-bucket", err)
	}
}
