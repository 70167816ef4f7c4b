package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/firnhq/firn/internal/app"
	"github.com/firnhq/firn/internal/config"
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
	closer.Close()
	code, out, errs := runCLI(t, "admin", "lifecycle", "status", "--data", dir, "--json")
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
