package e2e

import (
	"bytes"
	"crypto/md5"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/firnhq/firn/internal/sse"
)

// TestEncryptionAWSCLIv2 drives server-side encryption with the AWS CLI
// v2 against a firn started with --master-key-file: the bucket default
// encryption (get/put/delete-bucket-encryption), `aws s3 cp --sse
// AES256` up and down (single and multipart), `aws s3 cp --sse-c` with a
// customer key (the download needs it), a copy out of SSE-C, and, once
// the server is stopped, that no file of its data directory holds the
// uploaded plaintext or the keys.
func TestEncryptionAWSCLIv2(t *testing.T) {
	cli, err := findAWSCLIv2()
	need(t, "AWS CLI v2", err)

	dir := t.TempDir()
	// The master key lives outside the data directory (dir/data-N).
	keyLine := sse.GenerateKeyLine("k1")
	keyFile := filepath.Join(dir, "master.key")
	if err := os.WriteFile(keyFile, []byte("# firn e2e\n"+keyLine+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := startServer(dir, "--master-key-file", keyFile)
	if err != nil {
		if s != nil {
			t.Log(s.logTail(0, 100))
		}
		t.Fatal(err)
	}
	running := true
	defer func() {
		if running {
			s.stop()
		}
	}()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("firn (master key) server log:\n%s", s.logTail(0, 120))
		}
	})

	a := newAWSCLI(t, cli)
	a.endpoint = s.Endpoint
	c := a.client
	// fail runs an aws command that must fail and returns its stderr.
	fail := func(args ...string) string {
		t.Helper()
		full := append(append(append([]string{}, cli[1:]...), args...), "--endpoint-url", s.Endpoint)
		_, stderr, err := c.exec(cli[0], full...)
		if err == nil {
			t.Errorf("aws %s succeeded, want an error", strings.Join(args, " "))
		}
		return stderr
	}
	const bucket = "e2e-encryption"
	s3b := "s3://" + bucket
	a.s3("mb", s3b)

	type encConfig struct {
		ServerSideEncryptionConfiguration struct {
			Rules []struct {
				ApplyServerSideEncryptionByDefault struct{ SSEAlgorithm string }
			}
		}
	}
	getAlg := func(what string) string {
		t.Helper()
		var cfg encConfig
		a.api(&cfg, "get-bucket-encryption", "--bucket", bucket)
		rules := cfg.ServerSideEncryptionConfiguration.Rules
		if len(rules) != 1 {
			t.Fatalf("get-bucket-encryption %s: %d rules, want 1", what, len(rules))
		}
		return rules[0].ApplyServerSideEncryptionByDefault.SSEAlgorithm
	}
	if got := getAlg("of a new bucket"); got != "AES256" {
		t.Errorf("get-bucket-encryption of a new bucket: SSEAlgorithm %q, want the AES256 default", got)
	}
	a.api(nil, "put-bucket-encryption", "--bucket", bucket, "--server-side-encryption-configuration",
		`{"Rules":[{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"AES256"}}]}`)
	if got := getAlg("after put-bucket-encryption"); got != "AES256" {
		t.Errorf("get-bucket-encryption after put-bucket-encryption AES256: %q", got)
	}
	if stderr := fail("s3api", "put-bucket-encryption", "--bucket", bucket, "--server-side-encryption-configuration",
		`{"Rules":[{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"aws:kms"}}]}`); !strings.Contains(stderr, "InvalidArgument") {
		t.Errorf("put-bucket-encryption aws:kms without a KMS: stderr %q, want InvalidArgument", tail(stderr, 600))
	}

	// Files whose content holds a marker, to look for at rest later.
	const marker = "FIRN-E2E-PLAINTEXT-MARKER-3kQz"
	up, down := c.path("up"), c.path("down")
	marked := func(name string, seed uint64, n int) string {
		t.Helper()
		p := filepath.Join(up, name)
		b := writeFile(t, p, seed, n)
		for off := 0; off+len(marker) <= n; off += 4096 {
			copy(b[off:], marker)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	small := marked("small.bin", 71, 70000)
	big := marked("big.bin", 72, 20*MiB+123) // over the CLI's 8 MiB multipart threshold

	type head struct {
		ContentLength        int64
		ServerSideEncryption string
		SSECustomerAlgorithm string
		SSECustomerKeyMD5    string
	}

	// SSE-S3.
	a.s3("cp", small, s3b+"/s3/small.bin", "--sse", "AES256")
	a.s3("cp", big, s3b+"/s3/big.bin", "--sse", "AES256")
	a.s3("cp", s3b+"/s3/small.bin", filepath.Join(down, "s3-small.bin"))
	a.s3("cp", s3b+"/s3/big.bin", filepath.Join(down, "s3-big.bin"))
	sameFile(t, small, filepath.Join(down, "s3-small.bin"))
	sameFile(t, big, filepath.Join(down, "s3-big.bin"))
	for _, k := range []string{"s3/small.bin", "s3/big.bin"} {
		var h head
		a.api(&h, "head-object", "--bucket", bucket, "--key", k)
		if h.ServerSideEncryption != "AES256" || h.SSECustomerAlgorithm != "" {
			t.Errorf("head-object %s: ServerSideEncryption %q SSECustomerAlgorithm %q, want AES256 and none", k, h.ServerSideEncryption, h.SSECustomerAlgorithm)
		}
	}
	// Without --sse: the bucket default.
	var put struct{ ServerSideEncryption string }
	a.api(&put, "put-object", "--bucket", bucket, "--key", "s3/default.bin", "--body", small)
	if put.ServerSideEncryption != "AES256" {
		t.Errorf("put-object without --sse: ServerSideEncryption %q, want the AES256 default", put.ServerSideEncryption)
	}

	// SSE-C, with a customer key file of 32 raw bytes.
	keyRaw := make([]byte, 32)
	if _, err := rand.Read(keyRaw); err != nil {
		t.Fatal(err)
	}
	custKey := c.path("customer.key")
	if err := os.WriteFile(custKey, keyRaw, 0o600); err != nil {
		t.Fatal(err)
	}
	sum := md5.Sum(keyRaw)
	keyMD5 := base64.StdEncoding.EncodeToString(sum[:])
	ssec := []string{"--sse-c", "AES256", "--sse-c-key", "fileb://" + custKey}

	a.s3(append([]string{"cp", small, s3b + "/c/small.bin"}, ssec...)...)
	a.s3(append([]string{"cp", big, s3b + "/c/big.bin"}, ssec...)...)
	a.s3(append([]string{"cp", s3b + "/c/small.bin", filepath.Join(down, "c-small.bin")}, ssec...)...)
	a.s3(append([]string{"cp", s3b + "/c/big.bin", filepath.Join(down, "c-big.bin")}, ssec...)...)
	sameFile(t, small, filepath.Join(down, "c-small.bin"))
	sameFile(t, big, filepath.Join(down, "c-big.bin"))
	var h head
	a.api(&h, "head-object", "--bucket", bucket, "--key", "c/small.bin", "--sse-customer-algorithm", "AES256",
		"--sse-customer-key", "fileb://"+custKey)
	if h.SSECustomerAlgorithm != "AES256" || h.SSECustomerKeyMD5 != keyMD5 || h.ServerSideEncryption != "" || h.ContentLength != 70000 {
		t.Errorf("head-object of the SSE-C object: %+v, want SSECustomerAlgorithm AES256, SSECustomerKeyMD5 %s, no ServerSideEncryption, 70000 bytes", h, keyMD5)
	}
	// Without the key, or with another one, nothing comes back.
	if stderr := fail("s3", "cp", s3b+"/c/small.bin", filepath.Join(down, "nokey.bin"), "--only-show-errors"); !strings.Contains(stderr, "400") && !strings.Contains(stderr, "Bad Request") {
		t.Errorf("cp of an SSE-C object without the key: stderr %q, want a 400", tail(stderr, 600))
	}
	if _, err := os.Stat(filepath.Join(down, "nokey.bin")); err == nil {
		t.Errorf("cp without the key wrote a file")
	}
	if stderr := fail("s3api", "get-object", "--bucket", bucket, "--key", "c/small.bin", filepath.Join(down, "nokey2.bin")); !strings.Contains(stderr, "InvalidRequest") {
		t.Errorf("get-object of an SSE-C object without the key: stderr %q, want InvalidRequest", tail(stderr, 600))
	}
	otherKey := c.path("other.key")
	other := make([]byte, 32)
	rand.Read(other)
	os.WriteFile(otherKey, other, 0o600)
	if stderr := fail("s3api", "get-object", "--bucket", bucket, "--key", "c/small.bin", "--sse-customer-algorithm", "AES256",
		"--sse-customer-key", "fileb://"+otherKey, filepath.Join(down, "other.bin")); !strings.Contains(stderr, "AccessDenied") {
		t.Errorf("get-object of an SSE-C object with another key: stderr %q, want AccessDenied", tail(stderr, 600))
	}

	// A copy out of SSE-C (the source's key in the copy-source headers)
	// into SSE-S3.
	// (Not fatal: the checks at rest below run either way.)
	cpArgs := append(append([]string{}, cli[1:]...), "s3", "cp", s3b+"/c/small.bin", s3b+"/s3/from-c.bin", "--sse-c-copy-source", "AES256",
		"--sse-c-copy-source-key", "fileb://"+custKey, "--sse", "AES256", "--only-show-errors", "--endpoint-url", s.Endpoint)
	if _, _, err := c.exec(cli[0], cpArgs...); err != nil {
		t.Errorf("copy out of SSE-C with the source's key: %v", err)
	} else {
		a.s3("cp", s3b+"/s3/from-c.bin", filepath.Join(down, "from-c.bin"))
		sameFile(t, small, filepath.Join(down, "from-c.bin"))
		var h head
		a.api(&h, "head-object", "--bucket", bucket, "--key", "s3/from-c.bin")
		if h.ServerSideEncryption != "AES256" || h.SSECustomerAlgorithm != "" {
			t.Errorf("head-object of the copy: %+v, want ServerSideEncryption AES256 and no SSE-C", h)
		}
	}

	// delete-bucket-encryption: the default is still AES256.
	a.api(nil, "delete-bucket-encryption", "--bucket", bucket)
	if got := getAlg("after delete-bucket-encryption"); got != "AES256" {
		t.Errorf("get-bucket-encryption after delete-bucket-encryption: %q, want the AES256 default", got)
	}

	// At rest: stop the server (everything flushed) and look at every
	// file of its data directories.
	running = false
	if err := s.stop(); err != nil {
		t.Errorf("firn did not shut down cleanly: %v", err)
	}
	logged, _ := os.ReadFile(s.logPath)
	for _, l := range readLines(string(logged)) {
		if strings.Contains(l, "level=ERROR") {
			t.Errorf("firn logged an error: %s", l)
		}
	}
	_, b64, _ := strings.Cut(keyLine, ":")
	master, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatal(err)
	}
	needles := map[string][]byte{"plaintext marker": []byte(marker), "customer key": keyRaw,
		"customer key (base64)": []byte(base64.StdEncoding.EncodeToString(keyRaw)), "master key": master, "master key (base64)": []byte(b64)}
	found, files := scanDataDirs(t, dir, needles)
	if files < 5 {
		t.Errorf("only %d files in the data directories: the scan looked at nothing", files)
	}
	for name, paths := range found {
		t.Errorf("%s found at rest in %v", name, paths)
	}

	// The same scan of the shared server, which has no master key, finds
	// the same file stored in clear: the scan looks where the bytes go.
	plain := newAWSCLI(t, cli)
	plain.s3("mb", "s3://e2e-encryption-baseline")
	plain.s3("cp", small, "s3://e2e-encryption-baseline/small.bin")
	found, _ = scanDataDirs(t, filepath.Dir(srv.logPath), map[string][]byte{"plaintext marker": []byte(marker)})
	if len(found["plaintext marker"]) == 0 {
		t.Errorf("baseline: the marker of a file uploaded without encryption is not found in the shared server's data directory: the scan misses where the bytes are")
	}
	plain.s3("rm", "s3://e2e-encryption-baseline", "--recursive")
	plain.s3("rb", "s3://e2e-encryption-baseline")
}

// scanDataDirs reads every file of the data directories (data-*) under
// dir and returns, for every needle, the files that hold it, and how
// many files it read.
func scanDataDirs(t *testing.T, dir string, needles map[string][]byte) (map[string][]string, int) {
	t.Helper()
	dataDirs, _ := filepath.Glob(filepath.Join(dir, "data-*"))
	if len(dataDirs) == 0 {
		t.Fatalf("no data directory under %s", dir)
	}
	found := map[string][]string{}
	files := 0
	for _, d := range dataDirs {
		err := filepath.WalkDir(d, func(path string, de fs.DirEntry, err error) error {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // a temporary file gone
			}
			if err != nil {
				return err
			}
			if !de.Type().IsRegular() {
				return nil
			}
			b, err := os.ReadFile(path)
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			if err != nil {
				return err
			}
			files++
			for name, n := range needles {
				if bytes.Contains(b, n) {
					found[name] = append(found[name], path)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatalf("walk %s: %v", d, err)
		}
	}
	return found, files
}
