package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// TestRestorePrefix: `firn restore` plans (with the cost a hand
// computation gives), requests and waits for the restore of 1,000
// archived objects under a prefix, with progress; a second run requests
// nothing; `restore status` shows them restored.
func TestRestorePrefix(t *testing.T) {
	ctx := context.Background()
	endpoint, c, _ := startClientTarget(t, "Expedited=0s,Standard=200ms,Bulk=500ms")
	c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("archive")})
	const n, size = 1000, 3000
	body := bytes.Repeat([]byte("x"), size)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			class := types.StorageClassGlacier
			if i%10 == 0 {
				class = types.StorageClassDeepArchive
			}
			if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("archive"), Key: aws.String(fmt.Sprintf("logs/%04d", i)),
				Body: bytes.NewReader(body), StorageClass: class}); err != nil {
				t.Error(err)
			}
		}()
	}
	c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("archive"), Key: aws.String("logs/readme"), Body: strings.NewReader("hot")})
	wg.Wait()

	// The plan, and its cost by hand: GLACIER Standard is $0.01/GB and
	// $0.05 per 1,000 requests, DEEP_ARCHIVE Standard $0.02/GB and $0.10.
	code, out, errs := runCLI(t, "restore", "s3://archive/logs/", "--dry-run", "--json", "--endpoint-url", endpoint)
	var res struct {
		Plan struct {
			Requests int64   `json:"requests"`
			Cost     float64 `json:"estimated_cost_usd"`
			NotArch  int64   `json:"not_archived"`
			ByClass  map[string]struct {
				Objects  int64   `json:"objects"`
				Requests int64   `json:"requests"`
				Cost     float64 `json:"estimated_cost_usd"`
			} `json:"by_class"`
		} `json:"plan"`
	}
	if err := json.Unmarshal([]byte(out), &res); code != ExitOK || err != nil {
		t.Fatalf("dry run: exit %d, %q, %v, stderr %q", code, out, err, errs)
	}
	gb := float64(size) / (1 << 30)
	glacier := 900*gb*0.01 + 0.05*900/1000
	deep := 100*gb*0.02 + 0.10*100/1000
	if p := res.Plan; p.Requests != n || p.NotArch != 1 || p.ByClass["GLACIER"].Objects != 900 || p.ByClass["DEEP_ARCHIVE"].Requests != 100 ||
		math.Abs(p.ByClass["GLACIER"].Cost-glacier) > 1e-9 || math.Abs(p.ByClass["DEEP_ARCHIVE"].Cost-deep) > 1e-9 || math.Abs(p.Cost-glacier-deep) > 1e-9 {
		t.Fatalf("plan: %+v, want 1000 requests costing $%.6f + $%.6f", res.Plan, glacier, deep)
	}
	if !strings.Contains(errs, "GLACIER") || !strings.Contains(errs, "estimated $") {
		t.Errorf("the plan table: %q", errs)
	}
	if code, _, _ := runCLI(t, "restore", "s3://archive/logs/", "--tier", "Expedited", "--dry-run", "--endpoint-url", endpoint); code != ExitUsage {
		t.Errorf("Expedited with DEEP_ARCHIVE objects: exit %d, want %d", code, ExitUsage)
	}

	// The run: requests, progress, waits until all are readable.
	code, _, errs = runCLI(t, "restore", "s3://archive/logs/", "--days", "2", "--wait", "--poll", "100ms", "--endpoint-url", endpoint)
	if code != ExitOK || !strings.Contains(errs, "requested 1000/1000") || !strings.Contains(errs, "ready 1000/1000") {
		t.Fatalf("restore --wait: exit %d, stderr %q", code, errs)
	}
	out2, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("archive"), Key: aws.String("logs/0007")})
	if err != nil {
		t.Fatalf("GET after the bulk restore: %v", err)
	}
	out2.Body.Close()
	// Again: nothing left to request.
	code, out, _ = runCLI(t, "restore", "s3://archive/logs/", "--json", "--endpoint-url", endpoint)
	if code != ExitOK || !strings.Contains(out, `"requested": 0`) {
		t.Errorf("second run: exit %d, %q", code, out)
	}
	code, out, _ = runCLI(t, "restore", "status", "s3://archive/logs/", "--endpoint-url", endpoint)
	if code != ExitOK || !strings.Contains(out, "1001 objects: 0 archived, 0 restoring, 1000 restored") {
		t.Errorf("status: exit %d, tail %q", code, out[max(0, len(out)-200):])
	}
	// A manifest restores just its keys.
	m := filepath.Join(t.TempDir(), "keys")
	os.WriteFile(m, []byte("# two keys\nlogs/0001\nlogs/0002\n"), 0o600)
	if code, out, _ := runCLI(t, "restore", "status", "s3://archive/", "--manifest", m, "--json", "--endpoint-url", endpoint); code != ExitOK || strings.Count(out, `"key"`) != 2 {
		t.Errorf("status of a manifest: exit %d, %q", code, out)
	}
}

// TestRestoreNotify: `firn restore --wait --notify URL` sends, per
// archived object it restores, ObjectRestore:Post and then
// ObjectRestore:Completed; objects that need no restore (not archived,
// already restored) get none; without --wait only Post is sent.
func TestRestoreNotify(t *testing.T) {
	ctx := context.Background()
	endpoint, c, _ := startClientTarget(t, "Expedited=0s,Standard=300ms,Bulk=500ms")
	c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("vault")})
	sizes := map[string]int{"batch/1": 100, "batch/2 two": 200, "batch/3": 300, "batch/hot": 10, "batch/done": 50, "later/x": 1, "later/y": 2}
	for key, n := range sizes {
		class := types.StorageClassGlacier
		if key == "batch/hot" {
			class = ""
		}
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("vault"), Key: aws.String(key), Body: bytes.NewReader(bytes.Repeat([]byte("v"), n)),
			StorageClass: class}); err != nil {
			t.Fatal(err)
		}
	}
	// batch/done is restored before the run.
	if code, _, errs := runCLI(t, "get", "s3://vault/batch/done", filepath.Join(t.TempDir(), "done"), "--tier", "Expedited", "--timeout", "20s",
		"--endpoint-url", endpoint); code != ExitOK {
		t.Fatalf("restore batch/done: %d %s", code, errs)
	}

	hook := startHook(t, http.StatusOK, "")
	code, out, errs := runCLI(t, "restore", "s3://vault/batch/", "--wait", "--poll", "50ms", "--notify", hook.URL, "--json", "--endpoint-url", endpoint)
	var res struct {
		Ready        bool `json:"ready"`
		Notified     int  `json:"notified"`
		NotifyErrors *int `json:"notify_errors"`
	}
	if err := json.Unmarshal([]byte(out), &res); code != ExitOK || err != nil || !res.Ready || res.Notified != 6 || res.NotifyErrors == nil || *res.NotifyErrors != 0 {
		t.Fatalf("restore --wait --notify: exit %d, %q, stderr %q", code, out, errs)
	}
	byKey := map[string][]string{}
	for _, call := range hook.received() {
		m := parseS3Message(t, call.Body)
		key := m.Records[0].S3.Object.Key
		byKey[key] = append(byKey[key], call.Event)
		plain := strings.ReplaceAll(key, "+", " ")
		checkRestoreMessage(t, call.Body, call.Event, "vault", key, int64(sizes[plain]))
		if call.ID != notifyID("vault", plain, "", call.Event, expiryOf(t, m)) {
			t.Errorf("%s %s: id %q", key, call.Event, call.ID)
		}
	}
	want := map[string][]string{}
	for _, k := range []string{"batch/1", "batch/2+two", "batch/3"} {
		want[k] = []string{eventRestorePost, eventRestoreCompleted}
	}
	if !reflect.DeepEqual(byKey, want) {
		t.Errorf("events by key: %v, want %v", byKey, want)
	}

	// Without --wait: Post for each, no Completed.
	hook2 := startHook(t, http.StatusOK, "")
	code, out, errs = runCLI(t, "restore", "s3://vault/later/", "--notify", hook2.URL, "--json", "--endpoint-url", endpoint)
	if code != ExitOK || !strings.Contains(out, `"notified": 2`) {
		t.Fatalf("restore --notify without --wait: exit %d, %q, %q", code, out, errs)
	}
	var events []string
	for _, call := range hook2.received() {
		events = append(events, call.Event+" "+parseS3Message(t, call.Body).Records[0].S3.Object.Key)
	}
	if !reflect.DeepEqual(events, []string{eventRestorePost + " later/x", eventRestorePost + " later/y"}) {
		t.Errorf("events: %v", events)
	}
	if code, _, _ := runCLI(t, "restore", "status", "s3://vault/later/", "--notify", hook2.URL, "--endpoint-url", endpoint); code != ExitUsage {
		t.Errorf("restore status --notify: exit %d, want %d", code, ExitUsage)
	}
}
