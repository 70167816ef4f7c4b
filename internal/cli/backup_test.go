package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/firnhq/firn/internal/backup/backuptest"
	"github.com/firnhq/firn/internal/config"
	"github.com/firnhq/firn/internal/testenv"
	"github.com/firnhq/firn/internal/testenv/firntest"
)

// backupEndpoint is an S3 endpoint for the backup tests.
type backupEndpoint struct {
	url, ak, sk string
}

func startFirnForBackup(t *testing.T) backupEndpoint {
	t.Helper()
	const ak, sk = "FIRNBACKUPTESTKEY001", "backup/test/secret/0123456789abcdefghij"
	url := firntest.Start(t, ak, sk, func(cfg *config.Server) {
		cfg.GCEvery = 0
		cfg.RestoreLatency = "Expedited=0s,Standard=0s,Bulk=0s"
	})
	return backupEndpoint{url, ak, sk}
}

// startMotoForBackup starts moto's S3 server or skips t.
func startMotoForBackup(t *testing.T) backupEndpoint {
	t.Helper()
	return backupEndpoint{testenv.Moto(t), "moto-access-key", "moto-secret-key"}
}

// setup makes bucket on ep and points the AWS chain at ep's credentials
// only (no files, no instance metadata).
func (ep backupEndpoint) setup(t *testing.T, bucket string) {
	t.Helper()
	t.Setenv("AWS_ACCESS_KEY_ID", ep.ak)
	t.Setenv("AWS_SECRET_ACCESS_KEY", ep.sk)
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("FIRN_BACKUP_PASSWORD", "correct horse battery staple")
	t.Setenv("FIRN_BACKUP_REPO", "")
	t.Setenv("FIRN_BACKUP_ENDPOINT_URL", "")
	c := s3.New(s3.Options{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider(ep.ak, ep.sk, ""),
		BaseEndpoint: aws.String(ep.url), UsePathStyle: true})
	if _, err := c.CreateBucket(t.Context(), &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
		t.Fatalf("CreateBucket: %v", err)
	}
}

func TestBackupFirn(t *testing.T) {
	ep := startFirnForBackup(t)
	backupScenario(t, ep)
}

func TestBackupMoto(t *testing.T) {
	ep := startMotoForBackup(t)
	backupScenario(t, ep)
}

// backupScenario runs init, run, run (incremental), snapshots, restore
// (refused while packs are in GLACIER, then with restores), verify,
// forget and prune through the CLI against ep.
func backupScenario(t *testing.T, ep backupEndpoint) {
	ep.setup(t, "backups")
	cache := t.TempDir()
	common := []string{"--endpoint-url", ep.url, "--cache-dir", cache, "--quiet"}
	bk := func(want int, args ...string) (string, string) {
		t.Helper()
		args = append(append([]string{"backup"}, args...), common...)
		code, out, errs := runCLI(t, args...)
		if code != want {
			t.Fatalf("%v: exit %d, want %d\nstdout: %s\nstderr: %s", args, code, want, out, errs)
		}
		return out, errs
	}
	src := filepath.Join(t.TempDir(), "src")
	backuptest.MakeTree(t, src)
	if err := os.WriteFile(filepath.Join(src, "large.bin"), backuptest.RandBytes(3<<20, 42), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chtimes(filepath.Join(src, "large.bin"), time.Unix(1700000000, 0), time.Unix(1700000000, 0))

	repoURL := "s3://backups/hosts/web1"
	out, _ := bk(ExitOK, "init", repoURL, "--storage-class", "GLACIER", "--pack-size", "4KiB", "--scrypt-n", "1024")
	if !strings.Contains(out, "created repository") || !strings.Contains(out, "GLACIER") {
		t.Errorf("init: %q", out)
	}
	t.Setenv("FIRN_BACKUP_REPO", repoURL)
	bk(ExitFailure, "init", repoURL, "--scrypt-n", "1024") // exists

	out, _ = bk(ExitOK, "run", src, "--type", "full", "--tag", "nightly")
	if !strings.Contains(out, "(full)") {
		t.Errorf("first run: %q", out)
	}
	out, _ = bk(ExitOK, "run", src, "--json")
	var stats struct {
		ID     string `json:"id"`
		Type   string `json:"type"`
		Parent string `json:"parent"`
		Stats  struct {
			BytesRead      int64 `json:"bytes_read"`
			BlobsNew       int64 `json:"blobs_new"`
			FilesUnchanged int64 `json:"files_unchanged"`
		} `json:"stats"`
	}
	if err := json.Unmarshal([]byte(out), &stats); err != nil {
		t.Fatalf("run --json: %v\n%s", err, out)
	}
	if stats.Type != "incremental" || stats.Parent == "" || stats.Stats.BytesRead != 0 || stats.Stats.FilesUnchanged != 8 {
		t.Errorf("incremental run of unchanged data: %+v", stats)
	}
	out, _ = bk(ExitOK, "run", "--stdin-name", "db.sql", "--stdin-from-command", "echo 'SELECT 1;'")
	if !strings.Contains(out, "saved") {
		t.Errorf("stdin run: %q", out)
	}

	out, _ = bk(ExitOK, "snapshots", "--json")
	var list []struct {
		ID   string   `json:"id"`
		Type string   `json:"type"`
		Tags []string `json:"tags"`
	}
	if err := json.Unmarshal([]byte(out), &list); err != nil || len(list) != 3 || list[0].Type != "full" || list[0].Tags[0] != "nightly" {
		t.Fatalf("snapshots --json: %v\n%s", err, out)
	}
	out, _ = bk(ExitOK, "snapshots")
	if !strings.Contains(out, list[1].ID[:8]) || !strings.Contains(out, "incremental") {
		t.Errorf("snapshots table: %q", out)
	}

	// The data packs are in GLACIER: restore names them and stops.
	target := t.TempDir()
	out, errs := bk(ExitFailure, "restore", list[1].ID[:8], "--target", target)
	if !strings.Contains(out, "must be restored") || !strings.Contains(out, "data/") || !strings.Contains(out, "GLACIER") ||
		!strings.Contains(errs, "--restore-tier") {
		t.Errorf("restore of archived data:\nstdout %s\nstderr %s", out, errs)
	}
	out, _ = bk(ExitOK, "restore", list[1].ID[:8], "--dry-run", "--json")
	if !strings.Contains(out, `"state": "archived"`) {
		t.Errorf("restore --dry-run --json: %s", out)
	}
	bk(ExitOK, "restore", list[1].ID[:8], "--target", target, "--restore-tier", "Bulk", "--restore-days", "2", "--poll", "50ms")
	backuptest.SameTree(t, src, filepath.Join(target, src))

	out, _ = bk(ExitOK, "verify", "--read-data-subset", "100%")
	if !strings.Contains(out, "no errors found") {
		t.Errorf("verify: %q", out)
	}

	// A new version of the large file, then keep only the newest per group.
	os.WriteFile(filepath.Join(src, "large.bin"), backuptest.RandBytes(3<<20, 43), 0o644)
	bk(ExitOK, "run", src)
	out, _ = bk(ExitOK, "forget", "--keep-last", "1", "--dry-run")
	if !strings.Contains(out, "would remove 2 of 4") {
		t.Errorf("forget --dry-run: %q", out)
	}
	out, _ = bk(ExitOK, "forget", "--keep-last", "1")
	if !strings.Contains(out, "removed 2 of 4") {
		t.Errorf("forget: %q", out)
	}
	out, _ = bk(ExitOK, "prune", "--json")
	var pr struct {
		Deleted []struct {
			Name         string  `json:"name"`
			StorageClass string  `json:"storage_class"`
			EarlyDays    float64 `json:"early_days"`
		} `json:"deleted"`
	}
	if err := json.Unmarshal([]byte(out), &pr); err != nil || len(pr.Deleted) == 0 {
		t.Fatalf("prune: %v\n%s", err, out)
	}
	for _, d := range pr.Deleted {
		if strings.HasPrefix(d.Name, "data/") && (d.StorageClass != "GLACIER" || d.EarlyDays < 89) {
			t.Errorf("deleted %+v: want GLACIER with ~90 early days", d)
		}
	}
	bk(ExitOK, "verify")

	// Usage errors.
	for _, args := range [][]string{
		{"restore", "latest"}, {"run"}, {"run", src, "--type", "weekly"}, {"forget"}, {"verify", "--read-data-subset", "x"}, {"bogus"},
	} {
		code, _, _ := runCLI(t, append(append([]string{"backup"}, args...), common...)...)
		if code != ExitUsage {
			t.Errorf("%v: exit %d, want %d", args, code, ExitUsage)
		}
	}
	t.Setenv("FIRN_BACKUP_PASSWORD", "wrong")
	_, errs = bk(ExitFailure, "snapshots")
	if !strings.Contains(errs, "wrong password") {
		t.Errorf("wrong password: %q", errs)
	}
}
