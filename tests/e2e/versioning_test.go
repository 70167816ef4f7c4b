package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestVersioningAWSCLIv2 is scenario C's versioned backup bucket and its
// clean-up (step 10) with the AWS CLI v2: versioning is turned on and
// reads back, every put makes a version, a delete leaves a marker, the
// bucket cannot be deleted while versions or markers remain, and
// deleting every version and marker listed by list-object-versions (with
// delete-objects, as clean-up scripts do) lets delete-bucket succeed.
func TestVersioningAWSCLIv2(t *testing.T) {
	cli, err := findAWSCLIv2()
	need(t, "AWS CLI v2", err)
	testVersioningCLI(t, cli, "e2e-versioning-v2")
}

// cliVersion and cliMarker are entries of list-object-versions.
type cliVersion struct {
	Key, VersionId, ETag string
	IsLatest             bool
	Size                 int64
}

type cliMarker struct {
	Key, VersionId string
	IsLatest       bool
}

type cliVersions struct {
	Versions      []cliVersion
	DeleteMarkers []cliMarker
}

// cliDeleted is the answer of delete-objects.
type cliDeleted struct {
	Deleted []struct {
		Key, VersionId, DeleteMarkerVersionId string
		DeleteMarker                          bool
	}
	Errors []any
}

func testVersioningCLI(t *testing.T, argv []string, bucket string) {
	a := newAWSCLI(t, argv)
	c := a.client
	// fail runs an s3api command that must fail and returns its stderr.
	fail := func(args ...string) string {
		t.Helper()
		full := append(append(append(append([]string{}, argv[1:]...), "s3api"), args...), "--endpoint-url", srv.Endpoint)
		_, stderr, err := c.exec(argv[0], full...)
		if err == nil {
			t.Errorf("aws s3api %s succeeded, want an error", strings.Join(args, " "))
		}
		return stderr
	}
	// jsonOut runs an s3api command and decodes its output into v; the
	// CLI prints nothing for an empty answer.
	jsonOut := func(v any, args ...string) {
		t.Helper()
		out := a.run(append(append([]string{"s3api"}, args...), "--output", "json")...)
		if strings.TrimSpace(out) == "" {
			return
		}
		if err := json.Unmarshal([]byte(out), v); err != nil {
			t.Fatalf("aws s3api %s: decode %q: %v", args[0], tail(out, 2000), err)
		}
	}
	getStatus := func() string {
		t.Helper()
		var v struct{ Status string }
		jsonOut(&v, "get-bucket-versioning", "--bucket", bucket)
		return v.Status
	}
	list := func() cliVersions {
		t.Helper()
		var l cliVersions
		jsonOut(&l, "list-object-versions", "--bucket", bucket)
		return l
	}

	a.api(nil, "create-bucket", "--bucket", bucket)
	if got := getStatus(); got != "" {
		t.Errorf("get-bucket-versioning of a new bucket: Status %q, want none", got)
	}
	a.api(nil, "put-bucket-versioning", "--bucket", bucket, "--versioning-configuration", "Status=Enabled")
	if got := getStatus(); got != "Enabled" {
		t.Fatalf("get-bucket-versioning after enabling: Status %q, want Enabled", got)
	}

	// The same backup three times, and another key.
	const dump, logKey = "backups/full/db.dump", "backups/incremental/log.txt"
	up, down := c.path("up"), c.path("down")
	if err := os.MkdirAll(down, 0o755); err != nil { // get-object does not create directories
		t.Fatal(err)
	}
	var files []string
	var ids []string
	for i := range 3 {
		f := filepath.Join(up, "dump"+string(rune('1'+i)))
		writeFile(t, f, uint64(20+i), 10<<10+i)
		files = append(files, f)
		var put struct{ ETag, VersionId string }
		a.api(&put, "put-object", "--bucket", bucket, "--key", dump, "--body", f)
		if put.VersionId == "" || put.VersionId == "null" || slices.Contains(ids, put.VersionId) {
			t.Fatalf("put-object #%d: VersionId %q, want a new version ID (earlier: %q)", i+1, put.VersionId, ids)
		}
		ids = append(ids, put.VersionId)
	}
	logFile := filepath.Join(up, "log.txt")
	writeFile(t, logFile, 30, 3000)
	var put struct{ VersionId string }
	a.api(&put, "put-object", "--bucket", bucket, "--key", logKey, "--body", logFile)
	logID := put.VersionId
	if logID == "" || logID == "null" {
		t.Fatalf("put-object %s: VersionId %q, want a version ID", logKey, logID)
	}

	// Older versions stay readable.
	a.api(nil, "get-object", "--bucket", bucket, "--key", dump, "--version-id", ids[0], filepath.Join(down, "v1"))
	sameFile(t, files[0], filepath.Join(down, "v1"))
	a.api(nil, "get-object", "--bucket", bucket, "--key", dump, filepath.Join(down, "current"))
	sameFile(t, files[2], filepath.Join(down, "current"))

	// Deleting the log leaves a delete marker.
	var del struct {
		DeleteMarker bool
		VersionId    string
	}
	a.api(&del, "delete-object", "--bucket", bucket, "--key", logKey)
	if !del.DeleteMarker || del.VersionId == "" || del.VersionId == "null" {
		t.Fatalf("delete-object in a versioned bucket: %+v, want DeleteMarker true and the marker's version ID", del)
	}
	if stderr := fail("get-object", "--bucket", bucket, "--key", logKey, filepath.Join(down, "log.txt")); !strings.Contains(stderr, "NoSuchKey") {
		t.Errorf("get-object of a deleted key: stderr %q, want NoSuchKey", tail(stderr, 1000))
	}

	l := list()
	var gotV, wantV []string
	for _, v := range l.Versions {
		gotV = append(gotV, v.Key+"@"+v.VersionId+map[bool]string{true: " latest", false: ""}[v.IsLatest])
	}
	wantV = []string{dump + "@" + ids[2] + " latest", dump + "@" + ids[1], dump + "@" + ids[0], logKey + "@" + logID}
	if !slices.Equal(gotV, wantV) {
		t.Errorf("list-object-versions Versions:\n got  %q\n want %q", gotV, wantV)
	}
	if len(l.DeleteMarkers) != 1 || l.DeleteMarkers[0] != (cliMarker{Key: logKey, VersionId: del.VersionId, IsLatest: true}) {
		t.Errorf("list-object-versions DeleteMarkers: %+v, want one latest marker %s@%s", l.DeleteMarkers, logKey, del.VersionId)
	}

	// Versions and markers keep the bucket.
	if stderr := fail("delete-bucket", "--bucket", bucket); !strings.Contains(stderr, "BucketNotEmpty") {
		t.Errorf("delete-bucket with versions left: stderr %q, want BucketNotEmpty", tail(stderr, 1000))
	}

	// Clean-up: every version, then every delete marker, with
	// delete-objects fed from list-object-versions.
	for _, step := range []struct {
		name, query string
		want        map[string]string // version ID -> key
		markers     bool
	}{
		{"versions", "{Objects: Versions[].{Key: Key, VersionId: VersionId}}",
			map[string]string{ids[0]: dump, ids[1]: dump, ids[2]: dump, logID: logKey}, false},
		{"markers", "{Objects: DeleteMarkers[].{Key: Key, VersionId: VersionId}}",
			map[string]string{del.VersionId: logKey}, true},
	} {
		doc := a.run("s3api", "list-object-versions", "--bucket", bucket, "--output", "json", "--query", step.query)
		var req struct {
			Objects []struct{ Key, VersionId string }
		}
		if err := json.Unmarshal([]byte(doc), &req); err != nil || len(req.Objects) != len(step.want) {
			t.Fatalf("list-object-versions --query for the %s: %q (%v), want %d objects", step.name, tail(doc, 1000), err, len(step.want))
		}
		f := c.path(step.name + ".json")
		if err := os.WriteFile(f, []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
		var out cliDeleted
		a.api(&out, "delete-objects", "--bucket", bucket, "--delete", "file://"+f)
		if len(out.Errors) != 0 {
			t.Errorf("delete-objects of the %s: errors %v, want none", step.name, out.Errors)
		}
		got := map[string]string{}
		for _, d := range out.Deleted {
			got[d.VersionId] = d.Key
			if d.DeleteMarker != step.markers {
				t.Errorf("delete-objects of the %s: %s@%s DeleteMarker %v, want %v", step.name, d.Key, d.VersionId, d.DeleteMarker, step.markers)
			}
			if step.markers && d.DeleteMarkerVersionId != d.VersionId {
				t.Errorf("delete-objects of the %s: %s@%s DeleteMarkerVersionId %q, want %q", step.name, d.Key, d.VersionId, d.DeleteMarkerVersionId, d.VersionId)
			}
		}
		if len(got) != len(step.want) || len(out.Deleted) != len(step.want) {
			t.Errorf("delete-objects of the %s: deleted %v, want %v", step.name, got, step.want)
		}
		for id, key := range step.want {
			if got[id] != key {
				t.Errorf("delete-objects of the %s: %s@%s not reported deleted (deleted: %v)", step.name, key, id, got)
			}
		}
	}
	if l := list(); len(l.Versions) != 0 || len(l.DeleteMarkers) != 0 {
		t.Fatalf("list-object-versions after the clean-up: %+v, want nothing", l)
	}

	a.api(nil, "delete-bucket", "--bucket", bucket)
	if stderr := fail("head-bucket", "--bucket", bucket); !strings.Contains(stderr, "404") && !strings.Contains(stderr, "Not Found") {
		t.Errorf("head-bucket after delete-bucket: stderr %q, want 404", tail(stderr, 1000))
	}
}
