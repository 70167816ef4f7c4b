package e2e

import (
	"os"
	"strings"
	"testing"
	"time"
)

// TestIntelligentTieringArchiveAWSCLI: with 100 ms days, an
// INTELLIGENT_TIERING object under a configuration with ARCHIVE_ACCESS
// at 90 days reaches the archive tier after 90 idle days: HEAD reports
// x-amz-archive-status, GET refuses with InvalidObjectState, and a
// restore without Days (`--restore-request '{}'`) brings it back to
// Frequent Access for good.
func TestIntelligentTieringArchiveAWSCLI(t *testing.T) {
	cli, err := findAWSCLIv2()
	need(t, "AWS CLI v2", err)
	s, err := startServer(t.TempDir(), "--day-length", "100ms")
	if err != nil {
		t.Fatal(err)
	}
	defer s.stop()
	a := newAWSCLI(t, cli)
	a.endpoint = s.Endpoint
	c := a.client
	a.s3("mb", "s3://tiered")
	cfg := c.path("it.json")
	os.WriteFile(cfg, []byte(`{"Id": "archive", "Status": "Enabled", "Tierings": [{"Days": 90, "AccessTier": "ARCHIVE_ACCESS"}]}`), 0o600)
	a.api(nil, "put-bucket-intelligent-tiering-configuration", "--bucket", "tiered", "--id", "archive",
		"--intelligent-tiering-configuration", "file://"+cfg)
	src := c.path("big.bin")
	writeFile(t, src, 3, 300<<10)
	a.api(nil, "put-object", "--bucket", "tiered", "--key", "data/big.bin", "--body", src, "--storage-class", "INTELLIGENT_TIERING")
	var head struct {
		StorageClass  string
		ArchiveStatus string
		Restore       string
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		a.api(&head, "head-object", "--bucket", "tiered", "--key", "data/big.bin")
		if head.ArchiveStatus == "ARCHIVE_ACCESS" || time.Now().After(deadline) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	if head.ArchiveStatus != "ARCHIVE_ACCESS" || head.StorageClass != "INTELLIGENT_TIERING" {
		t.Fatalf("after 90+ idle days: %+v, want INTELLIGENT_TIERING in ARCHIVE_ACCESS", head)
	}
	full := append(append([]string{}, cli[1:]...), "s3api", "get-object", "--bucket", "tiered", "--key", "data/big.bin", c.path("x"),
		"--endpoint-url", s.Endpoint)
	if _, stderr, err := c.exec(cli[0], full...); err == nil || !strings.Contains(stderr, "InvalidObjectState") {
		t.Fatalf("get-object of an archived IT object: %v %q", err, tail(stderr, 300))
	}
	a.api(nil, "restore-object", "--bucket", "tiered", "--key", "data/big.bin", "--restore-request", "{}")
	deadline = time.Now().Add(30 * time.Second)
	for {
		head.ArchiveStatus, head.Restore = "", ""
		a.api(&head, "head-object", "--bucket", "tiered", "--key", "data/big.bin")
		if head.ArchiveStatus == "" || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if head.ArchiveStatus != "" || head.Restore != "" {
		t.Fatalf("after the restore: %+v, want Frequent Access with no restore state", head)
	}
	got := c.path("back.bin")
	a.api(nil, "get-object", "--bucket", "tiered", "--key", "data/big.bin", got)
	sameFile(t, src, got)
}
