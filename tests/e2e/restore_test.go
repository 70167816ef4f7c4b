package e2e

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestAWSCLIRestore: an object put into GLACIER with the AWS CLI is
// refused by get-object until restore-object's job has run, then served
// byte for byte, with head-object reporting the restore.
func TestAWSCLIRestore(t *testing.T) {
	cli, err := findAWSCLIv2()
	need(t, "AWS CLI v2", err)
	a := newAWSCLI(t, cli)
	const bucket = "e2e-restore"
	a.s3("mb", "s3://"+bucket)
	src, got := a.client.path("cold.bin"), a.client.path("got.bin")
	writeFile(t, src, 7, 300<<10)
	a.api(nil, "put-object", "--bucket", bucket, "--key", "cold.bin", "--body", src, "--storage-class", "GLACIER")

	var head struct {
		StorageClass string
		Restore      string
	}
	a.api(&head, "head-object", "--bucket", bucket, "--key", "cold.bin")
	if head.StorageClass != "GLACIER" || head.Restore != "" {
		t.Errorf("head-object: %+v, want GLACIER and no restore", head)
	}
	_, stderr, err := a.client.exec(a.argv[0], append(append([]string{}, a.argv[1:]...), "s3api", "get-object",
		"--bucket", bucket, "--key", "cold.bin", got, "--endpoint-url", srv.Endpoint)...)
	if err == nil || !strings.Contains(stderr, "InvalidObjectState") {
		t.Fatalf("get-object of a GLACIER object: err %v, stderr %q; want InvalidObjectState", err, stderr)
	}

	a.api(nil, "restore-object", "--bucket", bucket, "--key", "cold.bin",
		"--restore-request", `{"Days":2,"GlacierJobParameters":{"Tier":"Standard"}}`)
	deadline := time.Now().Add(30 * time.Second)
	for {
		a.api(&head, "head-object", "--bucket", bucket, "--key", "cold.bin")
		if strings.HasPrefix(head.Restore, `ongoing-request="false", expiry-date=`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("restore did not complete: %+v", head)
		}
		time.Sleep(200 * time.Millisecond)
	}
	a.api(nil, "get-object", "--bucket", bucket, "--key", "cold.bin", got)
	sameFile(t, src, got)
}

// TestAWSCLIRetrievalPolicy is scenario D: the operator sets a data
// retrieval policy with `aws glacier`, and a Standard restore that would
// exceed it is refused at once while Bulk is not.
func TestAWSCLIRetrievalPolicy(t *testing.T) {
	cli, err := findAWSCLIv2()
	need(t, "AWS CLI v2", err)
	a := newAWSCLI(t, cli)
	const bucket = "e2e-policy"
	a.s3("mb", "s3://"+bucket)
	src := a.client.path("cold.bin")
	writeFile(t, src, 9, 64<<10)
	a.api(nil, "put-object", "--bucket", bucket, "--key", "cold.bin", "--body", src, "--storage-class", "GLACIER")

	var got struct {
		Policy struct {
			Rules []struct {
				Strategy     string
				BytesPerHour int64
			}
		}
	}
	a.run("glacier", "get-data-retrieval-policy", "--account-id", "-", "--output", "json")
	a.run("glacier", "set-data-retrieval-policy", "--account-id", "-",
		"--policy", `{"Rules":[{"Strategy":"BytesPerHour","BytesPerHour":1024}]}`)
	defer a.run("glacier", "set-data-retrieval-policy", "--account-id", "-", "--policy", `{"Rules":[{"Strategy":"None"}]}`)
	out := a.run("glacier", "get-data-retrieval-policy", "--account-id", "-", "--output", "json")
	if err := json.Unmarshal([]byte(out), &got); err != nil || len(got.Policy.Rules) != 1 ||
		got.Policy.Rules[0].Strategy != "BytesPerHour" || got.Policy.Rules[0].BytesPerHour != 1024 {
		t.Fatalf("get-data-retrieval-policy: %q (%v)", out, err)
	}

	restore := func(tier string) (string, error) {
		_, stderr, err := a.client.exec(a.argv[0], append(append([]string{}, a.argv[1:]...), "s3api", "restore-object",
			"--bucket", bucket, "--key", "cold.bin", "--endpoint-url", srv.Endpoint,
			"--restore-request", `{"Days":1,"GlacierJobParameters":{"Tier":"`+tier+`"}}`)...)
		return stderr, err
	}
	// 64 KiB over a 4-hour Standard window is 16 KiB/h: over the quota.
	if stderr, err := restore("Standard"); err == nil || !strings.Contains(stderr, "PolicyEnforcedException") {
		t.Errorf("Standard restore over the policy: err %v, stderr %q; want PolicyEnforcedException", err, stderr)
	}
	if stderr, err := restore("Bulk"); err != nil {
		t.Errorf("Bulk restore under BytesPerHour: %v %s", err, stderr)
	}
}
