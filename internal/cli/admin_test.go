package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/firnhq/firn/internal/app"
	"github.com/firnhq/firn/internal/config"
	"github.com/firnhq/firn/internal/meta"
	"github.com/firnhq/firn/internal/object"
)

func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestAdmin(t *testing.T) {
	dir := t.TempDir()
	cfg := config.Defaults()
	cfg.Data, cfg.Address, cfg.AccessKey, cfg.SecretKey = dir, "127.0.0.1:0", "AK", "SK"
	// The admin commands work beside a running server.
	srv, err := app.Start(context.Background(), cfg, slog.New(slog.DiscardHandler), &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown(context.Background())

	if code, out, errs := runCLI(t, "admin", "retrieval-policy", "--data", dir); code != ExitOK || !strings.Contains(out, "None") {
		t.Errorf("policy: exit %d, out %q, err %q; want None", code, out, errs)
	}
	if code, _, errs := runCLI(t, "admin", "retrieval-policy", "--data", dir, "--set", "BytesPerHour", "--bytes-per-hour", "1048576"); code != ExitOK {
		t.Fatalf("set policy: exit %d: %s", code, errs)
	}
	if code, out, _ := runCLI(t, "admin", "retrieval-policy", "--data", dir, "--json"); code != ExitOK ||
		strings.TrimSpace(out) != `{"Policy":{"Rules":[{"Strategy":"BytesPerHour","BytesPerHour":1048576}]}}` {
		t.Errorf("policy JSON: exit %d, got %q", code, out)
	}
	for _, bad := range [][]string{
		{"admin", "retrieval-policy", "--data", dir, "--set", "Cheap"},
		{"admin", "retrieval-policy", "--data", dir, "--set", "BytesPerHour"},
		{"admin", "retrieval-policy", "--data", dir, "--set", "None", "--bytes-per-hour", "5"},
		{"admin", "bogus"},
	} {
		if code, _, _ := runCLI(t, bad...); code != ExitUsage {
			t.Errorf("%v: exit %d, want %d", bad, code, ExitUsage)
		}
	}
	if code, out, _ := runCLI(t, "admin", "restore", "list", "--data", dir, "--json"); code != ExitOK || strings.TrimSpace(out) != "[]" {
		t.Errorf("restore list: exit %d, got %q, want []", code, out)
	}
	if code, out, _ := runCLI(t, "admin", "restore", "list", "--data", dir); code != ExitOK || !strings.HasPrefix(out, "STATE") {
		t.Errorf("restore list table: exit %d, got %q", code, out)
	}
	if code, _, _ := runCLI(t, "admin", "restore", "list", "--data", t.TempDir()); code != ExitFailure {
		t.Errorf("restore list of a non-firn directory: exit %d, want %d", code, ExitFailure)
	}

	// Lifecycle status: one bucket with rules, nothing due yet.
	svc, closer, err := app.OpenAdmin(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.CreateBucket(context.Background(), "logs", "", "AK"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.PutBucketLifecycle(context.Background(), "logs", []byte(`<LifecycleConfiguration><Rule><ID>x</ID><Status>Enabled</Status>
		<Filter/><Expiration><Days>1</Days></Expiration></Rule></LifecycleConfiguration>`), ""); err != nil {
		t.Fatal(err)
	}
	// A pending restore, for restore status.
	if code, out, _ := runCLI(t, "admin", "restore", "status", "--data", dir, "--json"); code != ExitOK || strings.TrimSpace(out) != "[]" {
		t.Errorf("restore status with no jobs: exit %d, got %q, want []", code, out)
	}
	ctx := context.Background()
	if err := svc.CreateBucket(ctx, "cold", "", "AK"); err != nil {
		t.Fatal(err)
	}
	body := strings.Repeat("x", 1000)
	if _, err := svc.PutObject(ctx, object.PutInput{Bucket: "cold", Key: "k", Owner: "AK", Body: strings.NewReader(body),
		Size: int64(len(body)), StorageClass: object.Glacier}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.RestoreObject(ctx, object.RestoreRequest{Bucket: "cold", Key: "k", Days: 1, Tier: object.TierStandard}); err != nil {
		t.Fatal(err)
	}
	closer.Close()
	code, out, errs := runCLI(t, "admin", "restore", "status", "--data", dir, "--json")
	var totals []meta.RestoreTotal
	if err := json.Unmarshal([]byte(out), &totals); code != ExitOK || err != nil ||
		!slices.Equal(totals, []meta.RestoreTotal{{State: meta.RestorePending, Tier: "Standard", Jobs: 1, Bytes: 1000}}) {
		t.Errorf("restore status: exit %d, got %q (%v, %s)", code, out, err, errs)
	}
	if code, out, _ := runCLI(t, "admin", "restore", "status", "--data", dir); code != ExitOK ||
		!strings.Contains(out, "1 restores pending (1000 B), 0 completed") {
		t.Errorf("restore status table: exit %d, got %q", code, out)
	}
	code, out, errs = runCLI(t, "admin", "lifecycle", "status", "--data", dir, "--json")
	var st struct {
		Buckets []string
		Due     int64
	}
	if err := json.Unmarshal([]byte(out), &st); code != ExitOK || err != nil || len(st.Buckets) != 1 || st.Buckets[0] != "logs" || st.Due != 0 {
		t.Errorf("lifecycle status: exit %d, %q (%v), stderr %q", code, out, err, errs)
	}
	if code, out, _ := runCLI(t, "admin", "lifecycle", "status", "--data", dir); code != ExitOK || !strings.Contains(out, "buckets with lifecycle rules: 1") {
		t.Errorf("lifecycle status table: exit %d, %q", code, out)
	}
}
