package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
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
	"github.com/firnhq/firn/internal/notify/target"
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

// TestGetNotify: `firn get --notify URL` posts ObjectRestore:Post when
// it requests the restore (or finds it running) and
// ObjectRestore:Completed when the object is readable, as S3's event
// JSON, signed with --notify-secret-env; a failing destination is a
// warning and a JSON count, not a failure; a readable object sends
// nothing.
func TestGetNotify(t *testing.T) {
	ctx := context.Background()
	endpoint, c, _ := startClientTarget(t, "Expedited=0s,Standard=300ms,Bulk=1800ms")
	c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("media")})
	body := bytes.Repeat([]byte("tape "), 1000)
	for key, class := range map[string]types.StorageClass{"hot.txt": "", "cold/a b.tar": types.StorageClassGlacier,
		"cold/c.tar": types.StorageClassGlacier, "cold/d.tar": types.StorageClassDeepArchive} {
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("media"), Key: aws.String(key), Body: bytes.NewReader(body), StorageClass: class}); err != nil {
			t.Fatal(err)
		}
	}
	const secret = "s3cr3t-hook-key"
	t.Setenv("HOOK_SECRET", secret)
	dir := t.TempDir()
	type result struct {
		State        string `json:"state"`
		Notified     *int   `json:"notified"`
		NotifyErrors *int   `json:"notify_errors"`
	}
	get := func(args ...string) (result, string) {
		t.Helper()
		args = append([]string{"get"}, append(args, "--json", "--timeout", "20s", "--endpoint-url", endpoint)...)
		code, out, errs := runCLI(t, args...)
		var r result
		if err := json.Unmarshal([]byte(out), &r); code != ExitOK || err != nil || r.Notified == nil || r.NotifyErrors == nil {
			t.Fatalf("%v: exit %d, %q, stderr %q", args, code, out, errs)
		}
		return r, errs
	}

	// Readable at once: nothing to tell.
	hook := startHook(t, http.StatusNoContent, "")
	if r, _ := get("s3://media/hot.txt", filepath.Join(dir, "hot"), "--notify", hook.URL); r.State != "downloaded" || *r.Notified != 0 || *r.NotifyErrors != 0 || len(hook.received()) != 0 {
		t.Fatalf("readable object: %+v, %d calls", r, len(hook.received()))
	}

	// Archived: Post, then Completed, signed.
	r, _ := get("s3://media/cold/a b.tar", filepath.Join(dir, "a"), "--notify", hook.URL, "--notify-secret-env", "HOOK_SECRET")
	calls := hook.received()
	if r.State != "downloaded" || *r.Notified != 2 || *r.NotifyErrors != 0 || len(calls) != 2 {
		t.Fatalf("archived object: %+v, %d calls", r, len(calls))
	}
	for i, want := range []string{eventRestorePost, eventRestoreCompleted} {
		call := calls[i]
		m := checkRestoreMessage(t, call.Body, want, "media", "cold/a+b.tar", int64(len(body)))
		if call.Event != want || call.ID != notifyID("media", "cold/a b.tar", "", want, expiryOf(t, m)) || call.Signature != target.Signature([]byte(secret), call.Body) {
			t.Errorf("call %d: event %q, id %q, signature %q", i, call.Event, call.ID, call.Signature)
		}
		if m.Records[0].S3.Object.ETag == "" {
			t.Errorf("call %d: no eTag: %s", i, call.Body)
		}
	}
	if m := parseS3Message(t, calls[1].Body); m.Records[0].GlacierEventData.RestoreEventData.Class != "GLACIER" ||
		!expiryOf(t, m).After(time.Now()) {
		t.Errorf("Completed's restore data: %s", calls[1].Body)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "a")); !bytes.Equal(got, body) {
		t.Errorf("downloaded %d bytes", len(got))
	}

	// --no-wait: Post only; again, the restore is found running: Post
	// (same ID). Run again, waiting: Post again and Completed.
	hook2 := startHook(t, http.StatusOK, "ok")
	if r, _ := get("s3://media/cold/c.tar", "--tier", "Bulk", "--no-wait", "--notify", hook2.URL); r.State != "restoring" || *r.Notified != 1 {
		t.Fatalf("--no-wait: %+v", r)
	}
	if r, _ := get("s3://media/cold/c.tar", "--tier", "Bulk", "--no-wait", "--notify", hook2.URL); r.State != "restoring" || *r.Notified != 1 {
		t.Fatalf("--no-wait, restore running: %+v", r)
	}
	if r, _ := get("s3://media/cold/c.tar", filepath.Join(dir, "c"), "--tier", "Bulk", "--notify", hook2.URL); r.State != "downloaded" || *r.Notified != 2 {
		t.Fatalf("resumed wait: %+v", r)
	}
	calls = hook2.received()
	var events []string
	for _, c := range calls {
		events = append(events, c.Event)
		checkRestoreMessage(t, c.Body, c.Event, "media", "cold/c.tar", int64(len(body)))
	}
	if !reflect.DeepEqual(events, []string{eventRestorePost, eventRestorePost, eventRestorePost, eventRestoreCompleted}) ||
		calls[0].ID != calls[1].ID || calls[1].ID != calls[2].ID || calls[2].ID == calls[3].ID {
		t.Errorf("--no-wait then wait: events %v", events)
	}

	// A destination answering 500 (echoing the secret): a warning
	// without the secret and a count; the other destination gets all,
	// and the download succeeds.
	bad := startHook(t, http.StatusInternalServerError, "no thanks, "+secret)
	hook3 := startHook(t, http.StatusOK, "")
	r, errs := get("s3://media/cold/d.tar", filepath.Join(dir, "d"), "--notify", bad.URL, "--notify", hook3.URL, "--notify-secret-env", "HOOK_SECRET")
	if r.State != "downloaded" || *r.Notified != 2 || *r.NotifyErrors != 2 || len(hook3.received()) != 2 || len(bad.received()) != 4 {
		t.Errorf("failing destination: %+v, %d good calls, %d bad calls", r, len(hook3.received()), len(bad.received()))
	}
	if strings.Count(errs, "firn get: warning: 1 of 1 notifications not delivered: target notify-1 (webhook)") != 2 || !strings.Contains(errs, "HTTP status 500") ||
		strings.Contains(errs, secret) {
		t.Errorf("warnings: %q", errs)
	}

	// Bad destinations are usage errors, checked before anything runs.
	t.Setenv(envSMTPURL, "")
	for _, bad := range [][]string{
		{"--notify", "ftp://example.com/x"},
		{"--notify", "ops@example.com"},
		{"--notify", "nats://127.0.0.1:4222"},
		{"--notify", hook.URL, "--notify-secret-env", "FIRN_TEST_UNSET_SECRET"},
	} {
		args := append([]string{"get", "s3://media/cold/never.tar", filepath.Join(dir, "never"), "--endpoint-url", endpoint}, bad...)
		if code, _, errs := runCLI(t, args...); code != ExitUsage || !strings.Contains(errs, "firn get: ") {
			t.Errorf("%v: exit %d, %q", bad, code, errs)
		}
	}
}
