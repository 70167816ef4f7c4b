package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestS3cmd(t *testing.T) {
	bin, err := lookTool("s3cmd", "s3cmd version", "--version")
	need(t, "s3cmd", err)
	c := newClient(t)
	host := strings.TrimPrefix(srv.Endpoint, "http://")
	cfg := c.path(".s3cfg")
	conf := fmt.Sprintf(`[default]
access_key = %s
secret_key = %s
host_base = %s
host_bucket = %s
bucket_location = %s
use_https = False
signature_v2 = False
check_ssl_certificate = False
progress_meter = False
multipart_chunk_size_mb = 15
`, accessKey, secretKey, host, host, region)
	if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	warning := regexp.MustCompile(`(?m)^(WARNING|ERROR): .*$`)
	s3 := func(args ...string) string {
		t.Helper()
		out := c.runAll(bin, append([]string{"-c", cfg, "--no-progress"}, args...)...)
		if w := warning.FindAllString(out, 10); w != nil {
			t.Errorf("s3cmd %s: %s", strings.Join(args, " "), strings.Join(w, "\n"))
		}
		return out
	}
	t.Logf("client: %s", strings.TrimSpace(c.runAll(bin, "--version")))

	const bucket = "e2e-s3cmd"
	s3b := "s3://" + bucket
	s3("mb", s3b)

	up, down := c.path("up"), c.path("down")
	small := filepath.Join(up, "small file.txt")
	big := filepath.Join(up, "big.bin")
	writeFile(t, small, 21, 5000)
	writeFile(t, big, 22, 20*MiB+7) // above the 15 MiB chunk: a 2-part upload
	s3("put", small, s3b+"/dir/small file.txt")
	out := s3("put", "--debug", big, s3b+"/dir/big.bin")
	if !strings.Contains(out, "MultiPart: Uploading "+big+" in 2 parts") {
		t.Errorf("s3cmd put of 20 MiB was not a 2-part multipart upload:\n%s", tail(out, 3000))
	}

	s3("get", s3b+"/dir/small file.txt", filepath.Join(down, "small file.txt"))
	s3("get", s3b+"/dir/big.bin", filepath.Join(down, "big.bin"))
	sameFile(t, small, filepath.Join(down, "small file.txt"))
	sameFile(t, big, filepath.Join(down, "big.bin"))

	// ls: the top level shows the directory, --recursive the objects.
	out = s3("ls", s3b)
	if !regexp.MustCompile(`(?m)^\s*DIR\s+` + regexp.QuoteMeta(s3b+"/dir/") + `$`).MatchString(out) {
		t.Errorf("s3cmd ls %s: want DIR %s/dir/ in:\n%s", s3b, s3b, out)
	}
	out = s3("ls", "--recursive", s3b)
	for key, size := range map[string]int{"dir/small file.txt": 5000, "dir/big.bin": 20*MiB + 7} {
		re := regexp.MustCompile(`(?m)^\S+ \S+\s+` + fmt.Sprint(size) + `\s+` + regexp.QuoteMeta(s3b+"/"+key) + `$`)
		if !re.MatchString(out) {
			t.Errorf("s3cmd ls --recursive: want %s with size %d in:\n%s", key, size, out)
		}
	}
	if n := len(readLines(out)); n != 2 {
		t.Errorf("s3cmd ls --recursive listed %d lines, want 2:\n%s", n, out)
	}
	if out := s3("ls"); !strings.Contains(out, s3b) {
		t.Errorf("s3cmd ls: bucket %s not listed:\n%s", bucket, out)
	}

	// info: size, the MD5 of the content (for the multipart object s3cmd
	// reads it from its own metadata), storage class.
	out = s3("info", s3b+"/dir/big.bin")
	for _, want := range []string{"File size: " + fmt.Sprint(20*MiB+7), "MD5 sum:   " + md5hex(t, big), "Storage:   STANDARD"} {
		if !strings.Contains(out, want) {
			t.Errorf("s3cmd info big.bin: want %q in:\n%s", want, out)
		}
	}
	out = s3("info", s3b+"/dir/small file.txt")
	for _, want := range []string{"File size: 5000", "MD5 sum:   " + md5hex(t, small)} {
		if !strings.Contains(out, want) {
			t.Errorf("s3cmd info small file.txt: want %q in:\n%s", want, out)
		}
	}

	s3("del", s3b+"/dir/small file.txt")
	s3("del", s3b+"/dir/big.bin")
	if out := s3("ls", "--recursive", s3b); strings.TrimSpace(out) != "" {
		t.Errorf("bucket not empty after s3cmd del:\n%s", out)
	}
	s3("rb", s3b)
	if out := s3("ls"); strings.Contains(out, s3b) {
		t.Errorf("bucket still listed after s3cmd rb:\n%s", out)
	}
}
