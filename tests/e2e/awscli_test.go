package e2e

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// findAWSCLIv2 finds AWS CLI v2 (Debian's awscli package installs it as
// /usr/bin/aws; the aws first on PATH may be v1).
func findAWSCLIv2() ([]string, error) {
	var errs []error
	for _, c := range []string{"/usr/bin/aws", "aws"} {
		p, err := lookTool(c, "aws-cli/2.", "--version")
		if err == nil {
			return []string{p}, nil
		}
		errs = append(errs, err)
	}
	return nil, errors.Join(errs...)
}

// realPython resolves python3 on PATH to the interpreter itself (pyenv's
// shim needs the real HOME, which the clients do not get).
func realPython() (string, error) {
	p, err := exec.LookPath("python3")
	if err != nil {
		return "", err
	}
	out, err := exec.Command(p, "-c", "import sys; print(sys.executable)").Output()
	if err != nil {
		return "", fmt.Errorf("%s: %v", p, err)
	}
	exe := strings.TrimSpace(string(out))
	if exe == "" {
		return "", fmt.Errorf("%s reports no sys.executable", p)
	}
	return exe, nil
}

// findAWSCLIv1 finds AWS CLI v1, the awscli module of the python3 on PATH.
func findAWSCLIv1() ([]string, error) {
	py, err := realPython()
	if err != nil {
		return nil, err
	}
	out, err := exec.Command(py, "-m", "awscli", "--version").CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("%s -m awscli --version: %v: %s", py, err, tail(string(out), 300))
	}
	if !strings.Contains(string(out), "aws-cli/1.") {
		return nil, fmt.Errorf("%s -m awscli is %q, not AWS CLI v1", py, strings.TrimSpace(string(out)))
	}
	return []string{py, "-m", "awscli"}, nil
}

func TestAWSCLIv2(t *testing.T) {
	cli, err := findAWSCLIv2()
	need(t, "AWS CLI v2", err)
	testAWSCLI(t, cli, "e2e-awscli-v2")
}

func TestAWSCLIv1(t *testing.T) {
	cli, err := findAWSCLIv1()
	need(t, "AWS CLI v1 (python3 -m awscli)", err)
	testAWSCLI(t, cli, "e2e-awscli-v1")
}

// awsCLI runs one AWS CLI.
type awsCLI struct {
	*client
	argv     []string
	endpoint string // the server's; "" for the shared one (srv)
}

func (a *awsCLI) run(args ...string) string {
	a.t.Helper()
	endpoint := a.endpoint
	if endpoint == "" {
		endpoint = srv.Endpoint
	}
	full := append(append(append([]string{}, a.argv[1:]...), args...), "--endpoint-url", endpoint)
	return a.client.run(a.argv[0], full...)
}

// s3 runs an `aws s3` command, quietly where it can be.
func (a *awsCLI) s3(args ...string) string {
	a.t.Helper()
	switch args[0] {
	case "cp", "mv", "sync":
		args = append(args, "--only-show-errors", "--no-progress")
	case "rm":
		args = append(args, "--only-show-errors")
	}
	return a.run(append([]string{"s3"}, args...)...)
}

// api runs an `aws s3api` command and decodes its JSON output into v
// (unless v is nil).
func (a *awsCLI) api(v any, args ...string) {
	a.t.Helper()
	out := a.run(append(append([]string{"s3api"}, args...), "--output", "json")...)
	if v == nil {
		return
	}
	if err := json.Unmarshal([]byte(out), v); err != nil {
		a.t.Fatalf("aws s3api %s: decode %q: %v", args[0], tail(out, 2000), err)
	}
}

// newAWSCLI prepares argv (an AWS CLI) with a private config pointing at
// the server.
func newAWSCLI(t *testing.T, argv []string) *awsCLI {
	c := newClient(t)
	awsDir := c.path(".aws")
	if err := os.MkdirAll(awsDir, 0o700); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(awsDir, "config")
	creds := filepath.Join(awsDir, "credentials")
	os.WriteFile(cfg, []byte("[default]\nregion = us-east-1\ns3 =\n  addressing_style = path\n"), 0o600)
	os.WriteFile(creds, []byte(""), 0o600)
	c.env = append(c.env, "AWS_ACCESS_KEY_ID="+accessKey, "AWS_SECRET_ACCESS_KEY="+secretKey, "AWS_DEFAULT_REGION="+region,
		"AWS_CONFIG_FILE="+cfg, "AWS_SHARED_CREDENTIALS_FILE="+creds, "AWS_EC2_METADATA_DISABLED=true", "AWS_PAGER=",
		"AWS_CLI_AUTO_PROMPT=off",
		// No retries: on loopback a request that needs one shows a server
		// problem, which a silent retry would hide.
		"AWS_RETRY_MODE=standard", "AWS_MAX_ATTEMPTS=1")
	a := &awsCLI{client: c, argv: argv}
	return a
}

func testAWSCLI(t *testing.T, argv []string, bucket string) {
	a := newAWSCLI(t, argv)
	c := a.client
	out := a.run("--version")
	t.Logf("client: %s", strings.TrimSpace(out))

	s3b := "s3://" + bucket
	a.s3("mb", s3b)

	// cp up and down: one file above the default 8 MiB multipart
	// threshold, one small.
	up, down := c.path("up"), c.path("down")
	small := filepath.Join(up, "small.txt")
	big := filepath.Join(up, "big.bin")
	writeFile(t, small, 1, 3000)
	writeFile(t, big, 2, 20*MiB+123)
	a.s3("cp", small, s3b+"/cp/small.txt")
	a.s3("cp", big, s3b+"/cp/big.bin")
	a.s3("cp", s3b+"/cp/small.txt", filepath.Join(down, "small.txt"))
	a.s3("cp", s3b+"/cp/big.bin", filepath.Join(down, "big.bin"))
	sameFile(t, small, filepath.Join(down, "small.txt"))
	sameFile(t, big, filepath.Join(down, "big.bin"))
	var head struct {
		ContentLength int64
		ETag          string
	}
	a.api(&head, "head-object", "--bucket", bucket, "--key", "cp/big.bin")
	if head.ContentLength != 20*MiB+123 || !strings.HasSuffix(head.ETag, `-3"`) {
		t.Errorf("head-object cp/big.bin: ContentLength %d ETag %s, want %d and a 3-part multipart ETag", head.ContentLength, head.ETag, 20*MiB+123)
	}

	// sync a tree up and back down.
	tree := c.path("tree")
	writeTree(t, tree, s3Tree(9*MiB+5))
	a.s3("sync", tree, s3b+"/tree/")
	back := c.path("tree-back")
	a.s3("sync", s3b+"/tree/", back)
	compareTrees(t, tree, back, false)
	// A second sync has nothing to do: sizes and times listed by the
	// server must match the local files.
	if out := a.run("s3", "sync", tree, s3b+"/tree/", "--dryrun", "--no-progress"); strings.TrimSpace(out) != "" {
		t.Errorf("second sync up would copy again:\n%s", tail(out, 2000))
	}
	if out := a.run("s3", "sync", s3b+"/tree/", back, "--dryrun", "--no-progress"); strings.TrimSpace(out) != "" {
		t.Errorf("second sync down would copy again:\n%s", tail(out, 2000))
	}

	// ls --recursive lists every key with its size.
	listed := map[string]string{}
	lsLine := regexp.MustCompile(`^\S+ \S+\s+(\d+) (.+)$`)
	for _, l := range readLines(a.s3("ls", s3b, "--recursive")) {
		m := lsLine.FindStringSubmatch(l)
		if m == nil {
			t.Errorf("ls --recursive: unexpected line %q", l)
			continue
		}
		listed[m[2]] = m[1]
	}
	wantKeys := map[string]string{"cp/small.txt": "3000", "cp/big.bin": fmt.Sprint(20*MiB + 123)}
	for k, e := range scanTree(t, tree) {
		if e.kind == "file" {
			wantKeys["tree/"+k] = fmt.Sprint(e.size)
		}
	}
	for k, size := range wantKeys {
		if listed[k] != size {
			t.Errorf("ls --recursive: %q has size %q, want %s", k, listed[k], size)
		}
	}
	if len(listed) != len(wantKeys) {
		t.Errorf("ls --recursive listed %d keys, want %d", len(listed), len(wantKeys))
	}

	testAWSAPI(t, a, bucket, up, down)

	a.s3("rm", s3b, "--recursive")
	if out := a.s3("ls", s3b, "--recursive"); strings.TrimSpace(out) != "" {
		t.Errorf("bucket not empty after rm --recursive:\n%s", tail(out, 2000))
	}
	a.s3("rb", s3b)
	var buckets struct{ Buckets []struct{ Name string } }
	a.api(&buckets, "list-buckets")
	for _, b := range buckets.Buckets {
		if b.Name == bucket {
			t.Errorf("bucket %s still listed after rb", bucket)
		}
	}
}

// testAWSAPI exercises `aws s3api` calls.
func testAWSAPI(t *testing.T, a *awsCLI, bucket, up, down string) {
	small := filepath.Join(up, "small.txt")

	// Storage class.
	a.api(nil, "put-object", "--bucket", bucket, "--key", "api/glacier.txt", "--body", small, "--storage-class", "GLACIER")
	var h struct {
		StorageClass  string
		ContentLength int64
		ContentType   string
		Metadata      map[string]string
	}
	a.api(&h, "head-object", "--bucket", bucket, "--key", "api/glacier.txt")
	if h.StorageClass != "GLACIER" || h.ContentLength != 3000 {
		t.Errorf("head-object api/glacier.txt: StorageClass %q ContentLength %d, want GLACIER and 3000", h.StorageClass, h.ContentLength)
	}

	// copy-object replacing the metadata.
	a.api(nil, "put-object", "--bucket", bucket, "--key", "api/src.txt", "--body", small, "--metadata", "orig=yes",
		"--content-type", "application/x-original")
	a.api(nil, "copy-object", "--bucket", bucket, "--key", "api/copy.txt", "--copy-source", bucket+"/api/src.txt",
		"--metadata-directive", "REPLACE", "--metadata", "color=blue,size=large", "--content-type", "text/plain")
	h.Metadata = nil
	a.api(&h, "head-object", "--bucket", bucket, "--key", "api/copy.txt")
	if h.ContentType != "text/plain" || len(h.Metadata) != 2 || h.Metadata["color"] != "blue" || h.Metadata["size"] != "large" || h.ContentLength != 3000 {
		t.Errorf("head-object of the copy: ContentType %q Metadata %v ContentLength %d, want text/plain, {color:blue size:large}, 3000",
			h.ContentType, h.Metadata, h.ContentLength)
	}
	a.api(nil, "get-object", "--bucket", bucket, "--key", "api/copy.txt", filepath.Join(down, "copy.txt"))
	sameFile(t, small, filepath.Join(down, "copy.txt"))

	// Tagging.
	a.api(nil, "put-object-tagging", "--bucket", bucket, "--key", "api/copy.txt",
		"--tagging", `TagSet=[{Key=project,Value=firn},{Key=stage,Value=e2e test}]`)
	var tags struct{ TagSet []struct{ Key, Value string } }
	a.api(&tags, "get-object-tagging", "--bucket", bucket, "--key", "api/copy.txt")
	got := map[string]string{}
	for _, tg := range tags.TagSet {
		got[tg.Key] = tg.Value
	}
	if len(got) != 2 || got["project"] != "firn" || got["stage"] != "e2e test" {
		t.Errorf("get-object-tagging: %+v, want project=firn, stage=e2e test", tags.TagSet)
	}

	// list-objects-v2 with a delimiter, over the synced tree.
	var l struct {
		Contents       []struct{ Key string }
		CommonPrefixes []struct{ Prefix string }
		KeyCount       int
	}
	a.api(&l, "list-objects-v2", "--bucket", bucket, "--prefix", "tree/", "--delimiter", "/")
	var keys, prefixes []string
	for _, c := range l.Contents {
		keys = append(keys, c.Key)
	}
	for _, p := range l.CommonPrefixes {
		prefixes = append(prefixes, p.Prefix)
	}
	wantKeys := "tree/a.txt tree/empty.txt"
	wantPrefixes := "tree/big/ tree/dir1/ tree/many/ tree/with space/ tree/日本語/"
	if strings.Join(keys, " ") != wantKeys || strings.Join(prefixes, " ") != wantPrefixes {
		t.Errorf("list-objects-v2 --prefix tree/ --delimiter /:\n keys %q\n want %q\n prefixes %q\n want %q",
			keys, wantKeys, prefixes, wantPrefixes)
	}

	// A multipart upload by hand: two parts, 5 MiB and 1 MiB + 1.
	var cr struct{ UploadId string }
	a.api(&cr, "create-multipart-upload", "--bucket", bucket, "--key", "api/mpu.bin")
	if cr.UploadId == "" {
		t.Fatal("create-multipart-upload returned no UploadId")
	}
	p1 := writeFile(t, filepath.Join(up, "part1"), 11, 5*MiB)
	p2 := writeFile(t, filepath.Join(up, "part2"), 12, MiB+1)
	type part struct {
		ETag       string
		PartNumber int
	}
	var parts []part
	for i, f := range []string{"part1", "part2"} {
		var pr struct{ ETag string }
		a.api(&pr, "upload-part", "--bucket", bucket, "--key", "api/mpu.bin", "--upload-id", cr.UploadId,
			"--part-number", fmt.Sprint(i+1), "--body", filepath.Join(up, f))
		parts = append(parts, part{pr.ETag, i + 1})
	}
	doc, _ := json.Marshal(map[string]any{"Parts": parts})
	mpuJSON := filepath.Join(up, "mpu.json")
	os.WriteFile(mpuJSON, doc, 0o644)
	var done struct{ ETag, Key string }
	a.api(&done, "complete-multipart-upload", "--bucket", bucket, "--key", "api/mpu.bin", "--upload-id", cr.UploadId,
		"--multipart-upload", "file://"+mpuJSON)
	if !strings.HasSuffix(done.ETag, `-2"`) || done.Key != "api/mpu.bin" {
		t.Errorf("complete-multipart-upload: ETag %s Key %q, want a 2-part ETag and api/mpu.bin", done.ETag, done.Key)
	}
	whole := append(append([]byte{}, p1...), p2...)
	os.WriteFile(filepath.Join(up, "mpu.bin"), whole, 0o644)
	a.api(nil, "get-object", "--bucket", bucket, "--key", "api/mpu.bin", filepath.Join(down, "mpu.bin"))
	sameFile(t, filepath.Join(up, "mpu.bin"), filepath.Join(down, "mpu.bin"))

	// Ranged get across the part boundary.
	first := 5*MiB - 100
	var rg struct {
		ContentLength int64
		ContentRange  string
	}
	a.api(&rg, "get-object", "--bucket", bucket, "--key", "api/mpu.bin", "--range", fmt.Sprintf("bytes=%d-%d", first, first+199),
		filepath.Join(down, "range.bin"))
	wantRange := fmt.Sprintf("bytes %d-%d/%d", first, first+199, len(whole))
	if rg.ContentLength != 200 || rg.ContentRange != wantRange {
		t.Errorf("get-object --range: ContentLength %d ContentRange %q, want 200 and %q", rg.ContentLength, rg.ContentRange, wantRange)
	}
	os.WriteFile(filepath.Join(up, "range.bin"), whole[first:first+200], 0o644)
	sameFile(t, filepath.Join(up, "range.bin"), filepath.Join(down, "range.bin"))
}
