package cli

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/firnhq/firn/internal/adminapi"
	"github.com/firnhq/firn/internal/app"
	"github.com/firnhq/firn/internal/config"
)

// TestAdminArchive: `firn admin archive flush|compact|scrub` reach the
// running server with the root credentials it generated into its data
// directory, print its reports as JSON or text, and scrub exits 3 when
// objects are damaged beyond the parity; other credentials fail with
// AccessDenied, bad arguments with the usage exit code.
func TestAdminArchive(t *testing.T) {
	ctx := context.Background()
	cfg := config.Defaults()
	cfg.Data, cfg.Address, cfg.AuditLog = t.TempDir(), "127.0.0.1:0", "off"
	srv, err := app.Start(ctx, cfg, slog.New(slog.DiscardHandler), io.Discard) // generates root credentials
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Shutdown(ctx) })
	t.Setenv("FIRN_ACCESS_KEY", "")
	t.Setenv("FIRN_SECRET_KEY", "")
	t.Setenv("AWS_CA_BUNDLE", "")
	endpoint := "http://" + srv.Addr()
	ak, sk, err := app.StoredRootCredentials(cfg.Data)
	if err != nil {
		t.Fatal(err)
	}
	c := s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(endpoint), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(ak, sk, "")})
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("cold")}); err != nil {
		t.Fatal(err)
	}
	for i := range 4 {
		b := make([]byte, 30000)
		rand.Read(b)
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("cold"), Key: aws.String(string(rune('a' + i))),
			Body: bytes.NewReader(b), StorageClass: types.StorageClassDeepArchive}); err != nil {
			t.Fatal(err)
		}
	}
	for _, k := range []string{"b", "c", "d"} {
		if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("cold"), Key: aws.String(k)}); err != nil {
			t.Fatal(err)
		}
	}
	archive := func(args ...string) (int, string, string) {
		t.Helper()
		return runCLI(t, append([]string{"admin", "archive"}, append(args, "--data", cfg.Data, "--endpoint-url", endpoint)...)...)
	}

	code, out, errs := archive("flush", "--json")
	if code != ExitOK || !strings.Contains(out, `"result": "sealed"`) {
		t.Fatalf("flush --json: exit %d, out %q, err %q", code, out, errs)
	}
	var rep adminapi.CompactReport
	code, out, errs = archive("compact", "--json")
	if err := json.Unmarshal([]byte(out), &rep); code != ExitOK || err != nil || rep.Packs != 0 || rep.MinAgeDays != 180 {
		t.Errorf("compact --json: exit %d, %+v (%v), err %q; want nothing done", code, rep, err, errs)
	}
	code, out, _ = archive("compact")
	if code != ExitOK || !strings.Contains(out, "no pack to compact") || !strings.Contains(out, "180 model days") {
		t.Errorf("compact: exit %d, out %q", code, out)
	}
	code, out, errs = archive("compact", "--force", "--live-ratio", "0.9", "--json")
	rep = adminapi.CompactReport{}
	if err := json.Unmarshal([]byte(out), &rep); code != ExitOK || err != nil || rep.Packs != 1 || rep.Objects != 1 || !rep.Force || rep.LiveRatio != 0.9 {
		t.Fatalf("compact --force --json: exit %d, %+v (%v), err %q", code, rep, err, errs)
	}
	if code, out, errs := archive("flush"); code != ExitOK || !strings.Contains(out, "sealed") {
		t.Fatalf("flush: exit %d, out %q, err %q", code, out, errs)
	}

	var scrub adminapi.ScrubReport
	code, out, errs = archive("scrub", "--json")
	if err := json.Unmarshal([]byte(out), &scrub); code != ExitOK || err != nil || scrub.Packs != 1 || scrub.Objects != 1 || len(scrub.Unrecoverable) != 0 {
		t.Errorf("scrub --json: exit %d, %+v (%v), err %q", code, scrub, err, errs)
	}
	// Damage 3 of the 6 shards in full: beyond the 2 parity shards.
	files, _ := filepath.Glob(filepath.Join(cfg.Data, "archive", "*.shard"))
	sort.Strings(files)
	if len(files) != 6 {
		t.Fatalf("shard files %v, want 6", files)
	}
	for _, f := range files[:3] {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i := 64; i < len(b); i++ {
			b[i] ^= 0x5a
		}
		if err := os.WriteFile(f, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	code, out, errs = archive("scrub")
	if code != ExitDamage || !strings.Contains(out, "unrecoverable objects: 1") || !strings.Contains(out, "s3://cold/a ") {
		t.Errorf("scrub of a pack damaged beyond parity: exit %d, out %q, err %q; want %d and the object listed", code, out, errs, ExitDamage)
	}
	scrub = adminapi.ScrubReport{}
	code, out, _ = archive("scrub", "--json")
	if err := json.Unmarshal([]byte(out), &scrub); code != ExitDamage || err != nil || len(scrub.Unrecoverable) != 1 ||
		scrub.Unrecoverable[0].Bucket != "cold" || scrub.Unrecoverable[0].Key != "a" || len(scrub.Unrecoverable[0].Blob) != 32 {
		t.Errorf("scrub --json of a pack damaged beyond parity: exit %d, %+v (%v)", code, scrub, err)
	}

	// Credentials from the environment win over the data directory's.
	t.Setenv("FIRN_ACCESS_KEY", "NOTROOT")
	t.Setenv("FIRN_SECRET_KEY", "whatever")
	if code, _, errs := archive("flush"); code != ExitFailure || !strings.Contains(errs, "AccessDenied") {
		t.Errorf("flush with other credentials: exit %d, err %q; want %d and AccessDenied", code, errs, ExitFailure)
	}
	t.Setenv("FIRN_ACCESS_KEY", ak)
	t.Setenv("FIRN_SECRET_KEY", sk)
	if code, _, errs := runCLI(t, "admin", "archive", "flush", "--data", t.TempDir(), "--endpoint-url", endpoint, "--json"); code != ExitOK {
		t.Errorf("flush with FIRN_ACCESS_KEY and no credentials file: exit %d, err %q", code, errs)
	}
	t.Setenv("FIRN_ACCESS_KEY", "")
	t.Setenv("FIRN_SECRET_KEY", "")
	if code, _, errs := runCLI(t, "admin", "archive", "flush", "--data", t.TempDir(), "--endpoint-url", endpoint); code != ExitUsage || !strings.Contains(errs, "FIRN_ACCESS_KEY") {
		t.Errorf("flush without any credentials: exit %d, err %q; want %d", code, errs, ExitUsage)
	}

	for _, bad := range [][]string{
		{"admin", "archive"},
		{"admin", "archive", "vacuum"},
		{"admin", "archive", "scrub", "--force"},
		{"admin", "archive", "flush", "--live-ratio", "0.5"},
		{"admin", "archive", "compact", "--live-ratio", "0"},
		{"admin", "archive", "compact", "--live-ratio", "1.5"},
		{"admin", "archive", "scrub", "extra"},
		{"admin", "archive", "scrub", "--endpoint-url", "ftp://x"},
	} {
		if code, _, _ := runCLI(t, bad...); code != ExitUsage {
			t.Errorf("%v: exit %d, want %d", bad, code, ExitUsage)
		}
	}
	// Nothing listening there.
	if code, _, _ := runCLI(t, "admin", "archive", "flush", "--data", cfg.Data, "--endpoint-url", "http://127.0.0.1:1"); code != ExitFailure {
		t.Errorf("flush of an unreachable server: exit %d, want %d", code, ExitFailure)
	}
}

func TestDefaultAdminEndpoint(t *testing.T) {
	for _, tt := range []struct {
		env  map[string]string
		want string
	}{
		{nil, "http://127.0.0.1:9000"},
		{map[string]string{"FIRN_ADDRESS": "0.0.0.0:7000"}, "http://127.0.0.1:7000"},
		{map[string]string{"FIRN_ADDRESS": ":7000", "FIRN_TLS_CERT": "/etc/firn/cert.pem"}, "https://127.0.0.1:7000"},
		{map[string]string{"FIRN_ADDRESS": "[::]:7000"}, "http://127.0.0.1:7000"},
		{map[string]string{"FIRN_ADDRESS": "s3.example.net:443", "FIRN_TLS_CERT": "c"}, "https://s3.example.net:443"},
	} {
		if got := defaultAdminEndpoint(func(k string) string { return tt.env[k] }); got != tt.want {
			t.Errorf("%v: got %q, want %q", tt.env, got, tt.want)
		}
	}
}
