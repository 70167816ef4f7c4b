package e2e

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// resticTree is a few hundred files in nested directories with assorted
// sizes and modes, a 30 MiB file, an empty file, an empty directory and
// symlinks.
func resticTree() []fileSpec {
	var specs []fileSpec
	modes := []fs.FileMode{0o644, 0o600, 0o755, 0o640}
	for d := 0; d < 10; d++ {
		for s := 0; s < 3; s++ {
			for f := 0; f < 10; f++ {
				n := d*30 + s*10 + f
				specs = append(specs, fileSpec{path: fmt.Sprintf("d%02d/s%d/f%03d.dat", d, s, n), size: (n * 7919) % 20000,
					mode: modes[n%len(modes)]})
			}
		}
	}
	return append(specs,
		fileSpec{path: "big/thirty.bin", size: 30 * MiB},
		fileSpec{path: "empty", size: 0},
		fileSpec{path: "a/b/c/d/e/deep.txt", size: 123},
		fileSpec{path: "private", dir: true, mode: 0o700},
		fileSpec{path: "private/secret.txt", size: 42, mode: 0o600},
		fileSpec{path: "emptydir", dir: true, mode: 0o755},
		fileSpec{path: "name with spaces/ünïcödé ✓.txt", size: 99},
		fileSpec{path: "links/to-file", link: "../d00/s0/f000.dat"},
		fileSpec{path: "links/to-dir", link: "../a/b"},
		fileSpec{path: "links/dangling", link: "does/not/exist"},
	)
}

func TestRestic(t *testing.T) {
	bin, err := lookTool("restic", "restic ", "version")
	need(t, "restic", err)
	const bucket = "e2e-restic"
	c := newClient(t)
	c.env = append(c.env, "RESTIC_REPOSITORY=s3:"+srv.Endpoint+"/"+bucket, "RESTIC_PASSWORD=e2e restic password",
		"AWS_ACCESS_KEY_ID="+accessKey, "AWS_SECRET_ACCESS_KEY="+secretKey, "AWS_DEFAULT_REGION="+region,
		"RESTIC_CACHE_DIR="+c.path(".cache", "restic"))
	r := func(args ...string) string {
		t.Helper()
		out := c.runAll(bin, args...)
		// restic retries failed requests by itself; on loopback a retry
		// shows a server problem.
		if strings.Contains(out, "retrying after") {
			t.Errorf("restic %s retried requests:\n%s", args[0], tail(out, 3000))
		}
		return out
	}
	t.Logf("client: %s", strings.TrimSpace(r("version")))

	src := c.path("src")
	writeTree(t, src, resticTree())

	// restic creates the bucket itself.
	r("init")
	r("backup", "--quiet", "--host", "e2e", src)
	var snaps []struct {
		ID    string   `json:"id"`
		Paths []string `json:"paths"`
	}
	if err := json.Unmarshal([]byte(c.run(bin, "snapshots", "--json")), &snaps); err != nil {
		t.Fatal(err)
	}
	if len(snaps) != 1 || len(snaps[0].Paths) != 1 || snaps[0].Paths[0] != src {
		t.Fatalf("restic snapshots: %+v, want one snapshot of %s", snaps, src)
	}
	out := r("check", "--read-data")
	if !strings.Contains(out, "no errors were found") {
		t.Errorf("restic check --read-data:\n%s", tail(out, 4000))
	}

	target := c.path("restore")
	r("restore", "latest", "--target", target)
	compareTrees(t, src, filepath.Join(target, src), true)

	// A second backup finds every file unchanged, from the metadata it
	// reads back from the server.
	out = r("backup", "--host", "e2e", src)
	if !regexp.MustCompile(`Files:\s+0 new,\s+0 changed,\s+305 unmodified`).MatchString(out) {
		t.Errorf("second restic backup of an unchanged tree:\n%s", tail(out, 3000))
	}
	r("forget", "--keep-last", "1", "--prune")
	out = r("check")
	if !strings.Contains(out, "no errors were found") {
		t.Errorf("restic check after prune:\n%s", tail(out, 4000))
	}
}
