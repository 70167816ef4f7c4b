package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/firnhq/firn/internal/app"
	"github.com/firnhq/firn/internal/config"
)

// startClientTarget starts a firn for the client commands with the
// given restore latencies, points the AWS environment at it, and
// returns its endpoint, a client of it and its data directory.
func startClientTarget(t *testing.T, latency string) (string, *s3.Client, string) {
	t.Helper()
	ctx := context.Background()
	cfg := config.Defaults()
	cfg.Data, cfg.Address, cfg.AccessKey, cfg.SecretKey = t.TempDir(), "127.0.0.1:0", "CLIAK", "CLISK"
	cfg.RestoreLatency = latency
	cfg.RestoreEvery = 20 * time.Millisecond
	cfg.AuditLog = "off"
	srv, err := app.Start(ctx, cfg, slog.New(slog.DiscardHandler), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Shutdown(ctx) })
	endpoint := "http://" + srv.Addr()
	t.Setenv("AWS_ACCESS_KEY_ID", "CLIAK")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "CLISK")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	c := s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(endpoint), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider("CLIAK", "CLISK", "")})
	return endpoint, c, cfg.Data
}

// TestGet: `firn get` downloads readable objects at once and archived
// ones after restoring them; --no-wait reports the restore under way.
func TestGet(t *testing.T) {
	ctx := context.Background()
	endpoint, c, data := startClientTarget(t, "Expedited=0s,Standard=300ms,Bulk=1s")
	c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("photos")})
	body := bytes.Repeat([]byte("holiday "), 5000)
	for key, class := range map[string]types.StorageClass{"2026/a.jpg": "", "old/b.tar": types.StorageClassGlacier} {
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("photos"), Key: aws.String(key), Body: bytes.NewReader(body), StorageClass: class}); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	dest := filepath.Join(dir, "a.jpg")
	if code, _, errs := runCLI(t, "get", "s3://photos/2026/a.jpg", dest, "--endpoint-url", endpoint); code != ExitOK {
		t.Fatalf("get of a readable object: exit %d: %s", code, errs)
	}
	if got, _ := os.ReadFile(dest); !bytes.Equal(got, body) {
		t.Errorf("downloaded %d bytes, want the object", len(got))
	}

	// Archived, without waiting: the restore is requested.
	code, out, errs := runCLI(t, "get", "-b", "photos", "-k", "old/b.tar", "-e", "2", "--no-wait", "--json", "--endpoint-url", endpoint)
	var st struct {
		State        string `json:"state"`
		StorageClass string `json:"storage_class"`
	}
	if err := json.Unmarshal([]byte(out), &st); code != ExitOK || err != nil || st.State != "restoring" || st.StorageClass != "GLACIER" {
		t.Fatalf("get --no-wait: exit %d, %q, %q", code, out, errs)
	}
	// Again, waiting this time: it resumes the same restore.
	dest = filepath.Join(dir, "b.tar")
	code, _, errs = runCLI(t, "get", "s3://photos/old/b.tar", dest, "--endpoint-url", endpoint, "--timeout", "20s")
	if code != ExitOK || !strings.Contains(errs, "waiting for the restore") {
		t.Fatalf("get of an archived object: exit %d: %s", code, errs)
	}
	if got, _ := os.ReadFile(dest); !bytes.Equal(got, body) {
		t.Errorf("restored download: %d bytes", len(got))
	}
	if code, out, _ := runCLI(t, "get", "s3://photos/2026/a.jpg", "-", "--endpoint-url", endpoint); code != ExitOK || out != string(body) {
		t.Errorf("get to standard output: exit %d, %d bytes", code, len(out))
	}
	if code, _, errs := runCLI(t, "get", "s3://photos/missing", filepath.Join(dir, "m"), "--endpoint-url", endpoint); code != ExitFailure || !strings.Contains(errs, "404") && !strings.Contains(errs, "NotFound") && !strings.Contains(errs, "NoSuchKey") {
		t.Errorf("get of a missing key: exit %d: %s", code, errs)
	}
	if _, err := os.Stat(filepath.Join(dir, "m")); err == nil {
		t.Error("a failed get left a file")
	}
	if code, _, errs := runCLI(t, "get", "s3://photos/2026/a.jpg", "--expected-bucket-owner", "111122223333", "--endpoint-url", endpoint); code != ExitFailure {
		t.Errorf("get from a bucket of another account: exit %d: %s", code, errs)
	}
	// Restore on GET: the refused GET starts the restore and says when
	// to retry; a retry then reads the object.
	if code, out, errs := runCLI(t, "admin", "bucket", "restore-on-get", "photos", "--tier", "Expedited", "--data", data); code != ExitOK {
		t.Fatalf("restore-on-get: exit %d %q %q", code, out, errs)
	}
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("photos"), Key: aws.String("old/c.tar"), Body: bytes.NewReader(body),
		StorageClass: types.StorageClassDeepArchive}); err != nil {
		t.Fatal(err)
	}
	_, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("photos"), Key: aws.String("old/c.tar")})
	var re *smithyhttp.ResponseError
	if !errors.As(err, &re) || re.HTTPStatusCode() != 403 || re.Response.Header.Get("Retry-After") == "" {
		t.Fatalf("GET of an archived object with restore on GET: %v", err)
	}
	var got []byte
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("photos"), Key: aws.String("old/c.tar")})
		if err == nil {
			got, _ = io.ReadAll(out.Body)
			out.Body.Close()
			break
		}
	}
	if !bytes.Equal(got, body) {
		t.Errorf("a retrying client never got the object (%d bytes)", len(got))
	}
	if code, out, _ := runCLI(t, "admin", "bucket", "restore-on-get", "photos", "--data", data); code != ExitOK || !strings.Contains(out, "Expedited") {
		t.Errorf("show restore-on-get: %d %q", code, out)
	}
	if code, _, _ := runCLI(t, "admin", "bucket", "restore-on-get", "photos", "--off", "--data", data); code != ExitOK {
		t.Errorf("restore-on-get --off: %d", code)
	}
	for _, bad := range [][]string{{"get"}, {"get", "s3://photos/x", "--tier", "Fast"}, {"get", "photos/x"}} {
		if code, _, _ := runCLI(t, bad...); code != ExitUsage {
			t.Errorf("%v: exit %d, want %d", bad, code, ExitUsage)
		}
	}
}
