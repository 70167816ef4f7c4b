package e2e

import (
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
