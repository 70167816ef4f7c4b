package e2e

import (
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
)

// scenarioCPolicy is scenario C's lifecycle configuration, as the user
// story gives it to `aws s3api put-bucket-lifecycle-configuration`.
const scenarioCPolicy = `{"Rules": [{
  "ID": "backup-lifecycle-rule", "Status": "Enabled", "Filter": {"Prefix": ""},
  "Transitions": [{"Days": 30, "StorageClass": "STANDARD_IA"},
                  {"Days": 90, "StorageClass": "GLACIER"},
                  {"Days": 365, "StorageClass": "DEEP_ARCHIVE"}],
  "NoncurrentVersionTransitions": [{"NoncurrentDays": 30, "StorageClass": "STANDARD_IA"},
                                   {"NoncurrentDays": 90, "StorageClass": "GLACIER"}],
  "NoncurrentVersionExpiration": {"NoncurrentDays": 2555}}]}`

// badPolicy moves objects to STANDARD_IA before the 30 days S3 requires.
const badPolicy = `{"Rules": [{"ID": "too-soon", "Status": "Enabled", "Filter": {"Prefix": "tmp/"},
  "Transitions": [{"Days": 10, "StorageClass": "STANDARD_IA"}]}]}`

// legacyPolicy is a Lifecycle V1 configuration (rule-level Prefix), for
// the deprecated put-bucket-lifecycle.
const legacyPolicy = `{"Rules": [{"ID": "logs", "Prefix": "logs/", "Status": "Enabled", "Expiration": {"Days": 7}}]}`

func TestLifecycleAWSCLIv2(t *testing.T) {
	cli, err := findAWSCLIv2()
	need(t, "AWS CLI v2", err)
	testLifecycleCLI(t, cli, "e2e-lifecycle-v2")
}

func TestLifecycleAWSCLIv1(t *testing.T) {
	cli, err := findAWSCLIv1()
	need(t, "AWS CLI v1 (python3 -m awscli)", err)
	testLifecycleCLI(t, cli, "e2e-lifecycle-v1")
}

// rulesOf decodes the Rules of a lifecycle configuration in JSON.
func rulesOf(t *testing.T, doc string) any {
	t.Helper()
	var v struct{ Rules any }
	if err := json.Unmarshal([]byte(doc), &v); err != nil {
		t.Fatalf("decode %q: %v", tail(doc, 500), err)
	}
	return v.Rules
}

func testLifecycleCLI(t *testing.T, argv []string, bucket string) {
	a := newAWSCLI(t, argv)
	c := a.client
	a.s3("mb", "s3://"+bucket)
	defer a.s3("rb", "s3://"+bucket)
	policy := c.path("policy.json")
	for name, doc := range map[string]string{policy: scenarioCPolicy, c.path("bad.json"): badPolicy, c.path("legacy.json"): legacyPolicy} {
		if err := os.WriteFile(name, []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
	}

	// Clients older than the header (2024) print nothing.
	var put struct{ TransitionDefaultMinimumObjectSize string }
	if out := a.run("s3api", "put-bucket-lifecycle-configuration", "--bucket", bucket, "--lifecycle-configuration", "file://"+policy,
		"--output", "json"); strings.TrimSpace(out) != "" {
		if err := json.Unmarshal([]byte(out), &put); err != nil {
			t.Fatalf("put-bucket-lifecycle-configuration: decode %q: %v", tail(out, 500), err)
		}
	}
	if put.TransitionDefaultMinimumObjectSize != "" && put.TransitionDefaultMinimumObjectSize != "all_storage_classes_128K" {
		t.Errorf("put: TransitionDefaultMinimumObjectSize %q, want all_storage_classes_128K", put.TransitionDefaultMinimumObjectSize)
	}
	getRules := func() any {
		t.Helper()
		out := a.run("s3api", "get-bucket-lifecycle-configuration", "--bucket", bucket, "--output", "json")
		return rulesOf(t, out)
	}
	if got, want := getRules(), rulesOf(t, scenarioCPolicy); !reflect.DeepEqual(got, want) {
		t.Errorf("get-bucket-lifecycle-configuration:\ngot  %v\nwant %v", got, want)
	}

	// A policy S3 refuses is refused with S3's code and message, and the
	// configuration stays.
	full := append(append(append([]string{}, argv[1:]...), "s3api", "put-bucket-lifecycle-configuration", "--bucket", bucket,
		"--lifecycle-configuration", "file://"+c.path("bad.json")), "--endpoint-url", srv.Endpoint)
	_, stderr, err := c.exec(argv[0], full...)
	if err == nil {
		t.Errorf("put of a policy with STANDARD_IA at 10 days succeeded")
	} else if !strings.Contains(stderr, "InvalidArgument") ||
		!strings.Contains(stderr, "'Days' in Transition action must be greater than or equal to 30 for storageClass 'STANDARD_IA'") {
		t.Errorf("put of a bad policy: stderr %q, want InvalidArgument with S3's message", tail(stderr, 1000))
	}
	if got, want := getRules(), rulesOf(t, scenarioCPolicy); !reflect.DeepEqual(got, want) {
		t.Errorf("configuration after a refused put:\ngot  %v\nwant %v", got, want)
	}

	// The deprecated operation, with a V1 document, on the same endpoint.
	a.api(nil, "put-bucket-lifecycle", "--bucket", bucket, "--lifecycle-configuration", "file://"+c.path("legacy.json"))
	if got, want := getRules(), rulesOf(t, legacyPolicy); !reflect.DeepEqual(got, want) {
		t.Errorf("configuration after put-bucket-lifecycle:\ngot  %v\nwant %v", got, want)
	}

	a.api(nil, "delete-bucket-lifecycle", "--bucket", bucket)
	full = append(append(append([]string{}, argv[1:]...), "s3api", "get-bucket-lifecycle-configuration", "--bucket", bucket),
		"--endpoint-url", srv.Endpoint)
	if _, stderr, err := c.exec(argv[0], full...); err == nil || !strings.Contains(stderr, "NoSuchLifecycleConfiguration") {
		t.Errorf("get after delete-bucket-lifecycle: err %v, stderr %q; want NoSuchLifecycleConfiguration", err, tail(stderr, 1000))
	}
}
