package e2e

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestBoto3Restore runs testdata/boto3_restore.py: the archive classes
// and RestoreObject as boto3 sees them (a GLACIER object refused with
// InvalidObjectState until its restore job has run, then served byte for
// byte; x-amz-restore and its midnight expiry; RestoreAlreadyInProgress;
// the refusals for DEEP_ARCHIVE Expedited and a STANDARD object;
// RestoreStatus in listings), then scenario D through boto3's Glacier
// client: a BytesPerHour data retrieval policy refuses a Standard
// restore with PolicyEnforcedException and accepts a Bulk one.
func TestBoto3Restore(t *testing.T) {
	py, err := findBoto3()
	need(t, "boto3", err)
	script, err := filepath.Abs(filepath.Join("testdata", "boto3_restore.py"))
	if err != nil {
		t.Fatal(err)
	}
	c := newClient(t, "AWS_ACCESS_KEY_ID="+accessKey, "AWS_SECRET_ACCESS_KEY="+secretKey,
		"AWS_DEFAULT_REGION="+region, "AWS_EC2_METADATA_DISABLED=true", "AWS_CONFIG_FILE=/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE=/dev/null", "FIRN_ENDPOINT="+srv.Endpoint, "FIRN_BUCKET=e2e-boto3-restore")
	// The policy is the server's, shared by every test: whatever becomes
	// of the script, leave it at None.
	t.Cleanup(func() {
		if out, _, err := c.exec(py, script, "reset-policy"); err != nil {
			t.Errorf("resetting the data retrieval policy: %v", err)
		} else {
			t.Log(strings.TrimSpace(out))
		}
	})
	out, errOut, err := c.exec(py, script)
	t.Logf("boto3_restore.py:\n%s", strings.TrimSpace(out))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "ALL OK") {
		t.Fatalf("boto3_restore.py did not finish:\n%s\n%s", out, tail(errOut, 3000))
	}
}
