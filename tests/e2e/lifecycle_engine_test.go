package e2e

import (
	"os"
	"strings"
	"testing"
	"time"
)

// TestLifecycleEngineAWSCLI: scenario C's lifecycle JSON and scenario
// A's trash rule, put with the AWS CLI on a server whose model day lasts
// 100 ms, move objects to STANDARD_IA, GLACIER and DEEP_ARCHIVE on their
// days (never before: an action is due at the first model midnight
// after creation + N days), and the listings keep the objects with their
// new classes, and noncurrent versions follow the noncurrent rules.
func TestLifecycleEngineAWSCLI(t *testing.T) {
	cli, err := findAWSCLIv2()
	need(t, "AWS CLI v2", err)
	const day = 100 * time.Millisecond
	s, err := startServer(t.TempDir(), "--day-length", day.String())
	if err != nil {
		t.Fatal(err)
	}
	defer s.stop()
	a := newAWSCLI(t, cli)
	a.endpoint = s.Endpoint
	c := a.client
	a.s3("mb", "s3://backups")
	a.s3("mb", "s3://trash")
	policy, trash := c.path("policy.json"), c.path("trash.json")
	os.WriteFile(policy, []byte(scenarioCPolicy), 0o600)
	os.WriteFile(trash, []byte(`{"Rules": [{"ID": "to-glacier", "Status": "Enabled", "Filter": {"Prefix": ""},
		"Transitions": [{"Days": 0, "StorageClass": "GLACIER"}]}]}`), 0o600)
	a.api(nil, "put-bucket-lifecycle-configuration", "--bucket", "backups", "--lifecycle-configuration", "file://"+policy)
	a.api(nil, "put-bucket-lifecycle-configuration", "--bucket", "trash", "--lifecycle-configuration", "file://"+trash)

	body := c.path("db.dump")
	writeFile(t, body, 3, 200<<10) // over the 128 KiB transition minimum
	// Scenario C's bucket is versioned: the first dump becomes a
	// noncurrent version when the second is written.
	a.api(nil, "put-bucket-versioning", "--bucket", "backups", "--versioning-configuration", "Status=Enabled")
	before := time.Now()
	a.api(nil, "put-object", "--bucket", "backups", "--key", "backups/full/2026-11-22/db.dump", "--body", body)
	a.api(nil, "put-object", "--bucket", "backups", "--key", "backups/full/2026-11-22/db.dump", "--body", body)
	a.api(nil, "put-object", "--bucket", "trash", "--key", "deleted/report.pdf", "--body", body)
	after := time.Now()

	classOf := func(bucket, key string) string {
		var h struct{ StorageClass string }
		a.api(&h, "head-object", "--bucket", bucket, "--key", key)
		if h.StorageClass == "" {
			return "STANDARD" // S3 omits the header for STANDARD
		}
		return h.StorageClass
	}
	for _, step := range []struct {
		days  int
		class string
	}{{30, "STANDARD_IA"}, {90, "GLACIER"}, {365, "DEEP_ARCHIVE"}} {
		earliest := before.Add(time.Duration(step.days) * day)
		latest := after.Add(time.Duration(step.days+1)*day + 5*time.Second)
		for {
			got := classOf("backups", "backups/full/2026-11-22/db.dump")
			now := time.Now()
			if got == step.class {
				if now.Before(earliest) {
					t.Fatalf("%s after %.1f model days, before day %d", got, float64(now.Sub(before))/float64(day), step.days)
				}
				t.Logf("%s reached after %.1f model days", got, float64(now.Sub(before))/float64(day))
				break
			}
			if now.After(latest) {
				t.Fatalf("still %s at %.1f model days, want %s from day %d", got, float64(now.Sub(before))/float64(day), step.class, step.days)
			}
			time.Sleep(day / 2)
		}
	}
	var list struct {
		Contents []struct{ Key, StorageClass string }
	}
	a.api(&list, "list-objects-v2", "--bucket", "trash")
	if len(list.Contents) != 1 || list.Contents[0].StorageClass != "GLACIER" {
		t.Errorf("trash listing: %+v, want the deleted file listed as GLACIER", list.Contents)
	}
	a.api(&list, "list-objects-v2", "--bucket", "backups")
	if len(list.Contents) != 1 || list.Contents[0].StorageClass != "DEEP_ARCHIVE" {
		t.Errorf("backups listing: %+v, want the dump listed as DEEP_ARCHIVE", list.Contents)
	}
	// The noncurrent version went to STANDARD_IA at 30 days and GLACIER
	// at 90 (NoncurrentVersionTransitions); it expires only at 2555.
	var versions struct {
		Versions []struct {
			StorageClass string
			IsLatest     bool
		}
	}
	a.api(&versions, "list-object-versions", "--bucket", "backups")
	if len(versions.Versions) != 2 || versions.Versions[1].IsLatest || versions.Versions[1].StorageClass != "GLACIER" {
		t.Errorf("versions after 365 model days: %+v, want the noncurrent one in GLACIER", versions.Versions)
	}
	_, stderr, err := c.exec(a.argv[0], append(append([]string{}, a.argv[1:]...), "s3api", "get-object", "--bucket", "backups",
		"--key", "backups/full/2026-11-22/db.dump", c.path("got"), "--endpoint-url", s.Endpoint)...)
	if err == nil || !strings.Contains(stderr, "InvalidObjectState") {
		t.Errorf("get-object of the DEEP_ARCHIVE dump: %v, %q; want InvalidObjectState", err, tail(stderr, 300))
	}
}
