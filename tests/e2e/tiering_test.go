package e2e

import (
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
)

// archiveConfig opts objects under logs/ tagged team=a into both archive
// tiers, as `aws s3api put-bucket-intelligent-tiering-configuration`
// takes it.
const archiveConfig = `{"Id": "archive-logs",
  "Filter": {"And": {"Prefix": "logs/", "Tags": [{"Key": "team", "Value": "a"}]}},
  "Status": "Enabled",
  "Tierings": [{"Days": 90, "AccessTier": "ARCHIVE_ACCESS"},
               {"Days": 180, "AccessTier": "DEEP_ARCHIVE_ACCESS"}]}`

// tooSoonConfig archives before the 90 days S3 requires.
const tooSoonConfig = `{"Id": "archive-logs", "Status": "Enabled", "Tierings": [{"Days": 30, "AccessTier": "ARCHIVE_ACCESS"}]}`

func TestTieringAWSCLIv2(t *testing.T) {
	cli, err := findAWSCLIv2()
	need(t, "AWS CLI v2", err)
	testTieringCLI(t, cli, "e2e-tiering-v2")
}

func TestTieringAWSCLIv1(t *testing.T) {
	cli, err := findAWSCLIv1()
	need(t, "AWS CLI v1 (python3 -m awscli)", err)
	testTieringCLI(t, cli, "e2e-tiering-v1")
}

func decodeJSON(t *testing.T, doc string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(doc), &v); err != nil {
		t.Fatalf("decode %q: %v", tail(doc, 500), err)
	}
	return v
}

func testTieringCLI(t *testing.T, argv []string, bucket string) {
	a := newAWSCLI(t, argv)
	c := a.client
	a.s3("mb", "s3://"+bucket)
	defer a.s3("rb", "s3://"+bucket)
	good, bad := c.path("c.json"), c.path("bad.json")
	for name, doc := range map[string]string{good: archiveConfig, bad: tooSoonConfig} {
		if err := os.WriteFile(name, []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
	}
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
	get := func() any {
		t.Helper()
		var out struct{ IntelligentTieringConfiguration any }
		a.api(&out, "get-bucket-intelligent-tiering-configuration", "--bucket", bucket, "--id", "archive-logs")
		return out.IntelligentTieringConfiguration
	}

	a.api(nil, "put-bucket-intelligent-tiering-configuration", "--bucket", bucket, "--id", "archive-logs",
		"--intelligent-tiering-configuration", "file://"+good)
	if got, want := get(), decodeJSON(t, archiveConfig); !reflect.DeepEqual(got, want) {
		t.Errorf("get-bucket-intelligent-tiering-configuration:\ngot  %v\nwant %v", got, want)
	}
	var list struct {
		IsTruncated                         bool
		IntelligentTieringConfigurationList []any
	}
	a.api(&list, "list-bucket-intelligent-tiering-configurations", "--bucket", bucket)
	if list.IsTruncated || len(list.IntelligentTieringConfigurationList) != 1 ||
		!reflect.DeepEqual(list.IntelligentTieringConfigurationList[0], decodeJSON(t, archiveConfig)) {
		t.Errorf("list-bucket-intelligent-tiering-configurations: got %+v, want the one configuration", list)
	}

	// A configuration S3 refuses is refused with S3's code and message,
	// and the stored one stays.
	stderr := fail("put-bucket-intelligent-tiering-configuration", "--bucket", bucket, "--id", "archive-logs",
		"--intelligent-tiering-configuration", "file://"+bad)
	if !strings.Contains(stderr, "InvalidArgument") || !strings.Contains(stderr, "Days specified in ARCHIVE_ACCESS tier should not be less than 90.") {
		t.Errorf("put of a bad configuration: stderr %q, want InvalidArgument with S3's message", tail(stderr, 1000))
	}
	// So is one whose Id is not the request's.
	if stderr := fail("put-bucket-intelligent-tiering-configuration", "--bucket", bucket, "--id", "other",
		"--intelligent-tiering-configuration", "file://"+good); !strings.Contains(stderr, "MalformedXML") {
		t.Errorf("put under another id: stderr %q, want MalformedXML", tail(stderr, 1000))
	}
	if got, want := get(), decodeJSON(t, archiveConfig); !reflect.DeepEqual(got, want) {
		t.Errorf("configuration after refused puts:\ngot  %v\nwant %v", got, want)
	}

	a.api(nil, "delete-bucket-intelligent-tiering-configuration", "--bucket", bucket, "--id", "archive-logs")
	if stderr := fail("get-bucket-intelligent-tiering-configuration", "--bucket", bucket, "--id", "archive-logs"); !strings.Contains(stderr, "NoSuchConfiguration") {
		t.Errorf("get after delete: stderr %q, want NoSuchConfiguration", tail(stderr, 1000))
	}
	list.IntelligentTieringConfigurationList = nil
	a.api(&list, "list-bucket-intelligent-tiering-configurations", "--bucket", bucket)
	if len(list.IntelligentTieringConfigurationList) != 0 {
		t.Errorf("list after delete: got %v, want none", list.IntelligentTieringConfigurationList)
	}
}
