package e2e

import (
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

func TestRclone(t *testing.T) {
	bin, err := lookTool("rclone", "rclone v", "version")
	need(t, "rclone", err)
	c := newClient(t)
	conf := c.path("rclone.conf")
	if err := os.WriteFile(conf, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	c.env = append(c.env, "RCLONE_CONFIG="+conf,
		"RCLONE_CONFIG_FIRN_TYPE=s3", "RCLONE_CONFIG_FIRN_PROVIDER=Other", "RCLONE_CONFIG_FIRN_ENDPOINT="+srv.Endpoint,
		"RCLONE_CONFIG_FIRN_ACCESS_KEY_ID="+accessKey, "RCLONE_CONFIG_FIRN_SECRET_ACCESS_KEY="+secretKey,
		"RCLONE_CONFIG_FIRN_REGION="+region, "RCLONE_CONFIG_FIRN_FORCE_PATH_STYLE=true",
		// Multipart above 1 MiB, in 5 MiB parts (the smallest S3 allows).
		"RCLONE_S3_UPLOAD_CUTOFF=1M", "RCLONE_S3_CHUNK_SIZE=5M",
		// No retries: on loopback a request that needs one shows a server
		// problem, which a silent retry would hide.
		"RCLONE_RETRIES=1", "RCLONE_LOW_LEVEL_RETRIES=1")
	rc := func(args ...string) string {
		t.Helper()
		return c.runAll(bin, args...)
	}
	t.Logf("client: %s", strings.SplitN(rc("version"), "\n", 2)[0])

	const bucket = "e2e-rclone"
	remote := "firn:" + bucket
	rc("mkdir", remote)

	// A tree with files of 1, 6 and 12 MiB: multipart uploads of 1, 2
	// and 3 parts.
	tree := c.path("tree")
	writeTree(t, tree, s3Tree(6*MiB+3, 12*MiB+5))
	out := rc("copy", tree, remote+"/tree", "--log-level", "DEBUG")
	if n := len(regexp.MustCompile(`multipart upload starting chunk \d+`).FindAllString(out, -1)); n != 6 {
		t.Errorf("rclone copy uploaded %d multipart chunks, want 1+2+3", n)
	}
	// A second copy finds everything up to date (size and modification
	// time, which rclone keeps in user metadata).
	if out := rc("copy", tree, remote+"/tree", "--dry-run", "-v"); strings.Contains(out, "Skipped") {
		t.Errorf("second rclone copy would transfer again:\n%s", tail(out, 4000))
	}

	out = rc("check", tree, remote+"/tree")
	if !strings.Contains(out, " 0 differences found") {
		t.Errorf("rclone check found differences:\n%s", tail(out, 4000))
	}
	// Multipart objects have no MD5 ETag; rclone keeps their MD5 in user
	// metadata, which the server must return for them to be checked.
	if strings.Contains(out, "could not be checked") || strings.Contains(out, "ERROR") {
		t.Errorf("rclone check could not check everything:\n%s", tail(out, 4000))
	}
	files := map[string]bool{}
	for p, e := range scanTree(t, tree) {
		if e.kind == "file" {
			files[p] = true
		}
	}
	if m := regexp.MustCompile(`(\d+) matching files`).FindStringSubmatch(out); m == nil || m[1] != strconv.Itoa(len(files)) {
		t.Errorf("rclone check: want %d matching files in:\n%s", len(files), tail(out, 4000))
	}

	// lsf lists every file.
	var want []string
	for p := range files {
		want = append(want, p)
	}
	sort.Strings(want)
	got := readLines(c.run(bin, "lsf", "-R", "--files-only", remote+"/tree"))
	sort.Strings(got)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("rclone lsf -R:\n got %q\nwant %q", got, want)
	}
	sizes := readLines(c.run(bin, "lsf", "--format", "ps", "--separator", "|", remote+"/tree/big"))
	sort.Strings(sizes)
	if strings.Join(sizes, " ") != "large-0.bin|6291459 large-1.bin|12582917" {
		t.Errorf("rclone lsf --format ps tree/big: %q", sizes)
	}

	// Copy back down and compare.
	back := c.path("back")
	rc("copy", remote+"/tree", back)
	compareTrees(t, tree, back, false)

	// Delete part of the tree, then the rest.
	rc("delete", remote+"/tree", "--include", "many/**")
	got = readLines(c.run(bin, "lsf", "-R", "--files-only", remote+"/tree"))
	if len(got) != len(files)-25 {
		t.Errorf("after deleting many/**, lsf lists %d files, want %d: %q", len(got), len(files)-25, got)
	}
	for _, p := range got {
		if strings.HasPrefix(p, "many/") {
			t.Errorf("%s still listed after rclone delete", p)
		}
	}
	rc("delete", remote)
	if got := readLines(c.run(bin, "lsf", "-R", remote)); len(got) != 0 {
		t.Errorf("bucket not empty after rclone delete: %q", got)
	}
	rc("rmdir", remote)
	for _, l := range readLines(c.run(bin, "lsd", "firn:")) {
		if strings.HasSuffix(l, " "+bucket) {
			t.Errorf("bucket still listed after rclone rmdir: %q", l)
		}
	}
}
