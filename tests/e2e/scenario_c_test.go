package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/firnhq/firn/internal/sse"
)

const scenarioCTiering = `{"Id": "intelligent-tier", "Filter": {"Prefix": "intelligent-tier/"}, "Status": "Enabled",
  "Tierings": [{"Days": 90, "AccessTier": "ARCHIVE_ACCESS"}, {"Days": 180, "AccessTier": "DEEP_ARCHIVE_ACCESS"}]}`

// TestScenarioCBucketAWSCLIv2: scenario C's steps 1 and 2 with the AWS
// CLI on a server with a master key: the backup bucket gets versioning,
// default encryption (AES256), a public access block with all four
// switches on, the lifecycle and Intelligent-Tiering configurations, and
// every validation call answers as AWS does; a backup written there is
// versioned and encrypted.
func TestScenarioCBucketAWSCLIv2(t *testing.T) {
	cli, err := findAWSCLIv2()
	need(t, "AWS CLI v2", err)
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "master.keys")
	if err := os.WriteFile(keyFile, []byte(sse.GenerateKeyLine("k1")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := startServer(dir, "--master-key-file", keyFile)
	if err != nil {
		t.Fatal(err)
	}
	defer s.stop()
	a := newAWSCLI(t, cli)
	a.endpoint = s.Endpoint
	c := a.client
	const b = "backup-bucket-c"
	write := func(name, doc string) string {
		p := c.path(name)
		if err := os.WriteFile(p, []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
		return "file://" + p
	}

	// Step 1.
	a.api(nil, "create-bucket", "--bucket", b)
	a.api(nil, "put-bucket-versioning", "--bucket", b, "--versioning-configuration", "Status=Enabled")
	a.api(nil, "put-bucket-encryption", "--bucket", b, "--server-side-encryption-configuration",
		`{"Rules":[{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"AES256"}}]}`)
	a.api(nil, "put-public-access-block", "--bucket", b, "--public-access-block-configuration",
		"BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true")
	var ver struct{ Status string }
	a.api(&ver, "get-bucket-versioning", "--bucket", b)
	if ver.Status != "Enabled" {
		t.Errorf("get-bucket-versioning: %+v", ver)
	}
	var enc struct {
		ServerSideEncryptionConfiguration struct {
			Rules []struct {
				ApplyServerSideEncryptionByDefault struct{ SSEAlgorithm string }
			}
		}
	}
	a.api(&enc, "get-bucket-encryption", "--bucket", b)
	if r := enc.ServerSideEncryptionConfiguration.Rules; len(r) != 1 || r[0].ApplyServerSideEncryptionByDefault.SSEAlgorithm != "AES256" {
		t.Errorf("get-bucket-encryption: %+v", enc)
	}
	var pab struct {
		PublicAccessBlockConfiguration map[string]bool
	}
	a.api(&pab, "get-public-access-block", "--bucket", b)
	for _, k := range []string{"BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"} {
		if !pab.PublicAccessBlockConfiguration[k] {
			t.Errorf("get-public-access-block: %s is not true: %+v", k, pab)
		}
	}

	// Step 2.
	a.api(nil, "put-bucket-lifecycle-configuration", "--bucket", b, "--lifecycle-configuration", write("lc.json", scenarioCPolicy))
	a.api(nil, "put-bucket-intelligent-tiering-configuration", "--bucket", b, "--id", "intelligent-tier",
		"--intelligent-tiering-configuration", write("it.json", scenarioCTiering))
	var lc struct {
		Rules []struct {
			ID                           string
			Transitions                  []struct{ Days int }
			NoncurrentVersionTransitions []struct{ NoncurrentDays int }
			NoncurrentVersionExpiration  struct{ NoncurrentDays int }
		}
	}
	a.api(&lc, "get-bucket-lifecycle-configuration", "--bucket", b)
	if len(lc.Rules) != 1 || lc.Rules[0].ID != "backup-lifecycle-rule" || len(lc.Rules[0].Transitions) != 3 ||
		len(lc.Rules[0].NoncurrentVersionTransitions) != 2 || lc.Rules[0].NoncurrentVersionExpiration.NoncurrentDays != 2555 {
		t.Errorf("get-bucket-lifecycle-configuration: %+v", lc)
	}

	// A backup under backups/{type}/{timestamp}/, twice: versioned and
	// encrypted, the older version kept.
	src := c.path("db.dump")
	writeFile(t, src, 7, 3*MiB+17)
	key := "backups/full/2026-12-02T01:00:00Z/db.dump"
	a.s3("cp", src, "s3://"+b+"/"+key)
	writeFile(t, src, 8, 3*MiB+17)
	a.s3("cp", src, "s3://"+b+"/"+key)
	var head struct {
		ServerSideEncryption string
		VersionId            string
	}
	a.api(&head, "head-object", "--bucket", b, "--key", key)
	if head.ServerSideEncryption != "AES256" || head.VersionId == "" || head.VersionId == "null" {
		t.Errorf("head-object: %+v, want AES256 and a version id", head)
	}
	var vs struct {
		Versions []struct {
			VersionId string
			IsLatest  bool
		}
	}
	a.api(&vs, "list-object-versions", "--bucket", b, "--prefix", "backups/")
	if len(vs.Versions) != 2 {
		t.Errorf("list-object-versions: %+v, want 2 versions", vs)
	}
	got := c.path("back")
	a.s3("cp", "s3://"+b+"/"+key, got)
	sameFile(t, src, got)
	// A public ACL is refused under the block.
	full := append(append([]string{}, cli[1:]...), "s3api", "put-object", "--bucket", b, "--key", "public.txt", "--acl", "public-read",
		"--body", src, "--endpoint-url", s.Endpoint)
	if _, stderr, err := c.exec(cli[0], full...); err == nil || !strings.Contains(stderr, "AccessDenied") {
		t.Errorf("put-object --acl public-read: err %v, stderr %q, want AccessDenied", err, tail(stderr, 500))
	}

	// Step 3: the backup automation's least-privilege user, made with
	// `firn admin` beside the running server, does its job with the AWS
	// CLI and is denied the rest.
	firn := filepath.Join(dir, "firn")
	data, _ := filepath.Glob(filepath.Join(dir, "data-*"))
	if len(data) != 1 {
		t.Fatalf("server data directory: %q", data)
	}
	c.run(firn, "admin", "user", "add", "backup-automation", "--data", data[0])
	c.run(firn, "admin", "user", "policy", "backup-automation", "--file", writeFileGet(t, c.path("bp.json"), scenarioCBackupPolicyDoc(b)), "--data", data[0])
	var ak struct {
		ID     string `json:"access_key_id"`
		Secret string `json:"secret_access_key"`
	}
	if err := json.Unmarshal([]byte(c.run(firn, "admin", "key", "create", "backup-automation", "--json", "--data", data[0])), &ak); err != nil || ak.ID == "" {
		t.Fatalf("admin key create: %+v %v", ak, err)
	}
	u := newAWSCLI(t, cli)
	u.endpoint = s.Endpoint
	u.env = append(u.env, "AWS_ACCESS_KEY_ID="+ak.ID, "AWS_SECRET_ACCESS_KEY="+ak.Secret)
	u.s3("cp", src, "s3://"+b+"/backups/incremental/2026-12-03T02:00:00Z/db.dump")
	u.s3("ls", "s3://"+b+"/backups/", "--recursive")
	u.api(nil, "get-bucket-versioning", "--bucket", b)
	u.api(nil, "get-bucket-location", "--bucket", b)
	u.s3("cp", "s3://"+b+"/backups/incremental/2026-12-03T02:00:00Z/db.dump", c.path("u-back"))
	sameFile(t, src, c.path("u-back"))
	a.api(nil, "create-bucket", "--bucket", "not-the-backups")
	for _, args := range [][]string{
		{"s3api", "delete-bucket", "--bucket", b},
		{"s3api", "put-bucket-policy", "--bucket", b, "--policy", scenarioCBackupPolicyDoc(b)},
		{"s3api", "list-objects-v2", "--bucket", "not-the-backups"},
		{"s3api", "put-object", "--bucket", "not-the-backups", "--key", "x", "--body", src},
		{"s3api", "list-buckets"},
	} {
		full := append(append(append([]string{}, cli[1:]...), args...), "--endpoint-url", s.Endpoint)
		if _, stderr, err := u.exec(cli[0], full...); err == nil || !strings.Contains(stderr, "AccessDenied") {
			t.Errorf("%v as the backup user: err %v, stderr %q, want AccessDenied", args, err, tail(stderr, 300))
		}
	}
}

// scenarioCBackupPolicyDoc is scenario C's step 3 identity policy.
func scenarioCBackupPolicyDoc(bucket string) string {
	return `{"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
	  "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket", "s3:GetBucketLocation",
	             "s3:GetBucketVersioning", "s3:RestoreObject"],
	  "Resource": ["arn:aws:s3:::` + bucket + `", "arn:aws:s3:::` + bucket + `/*"]}]}`
}

// writeFileGet writes doc to path and returns path.
func writeFileGet(t *testing.T, path, doc string) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
