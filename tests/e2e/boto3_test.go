package e2e

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// findBoto3 finds the python3 on PATH and checks it has boto3.
func findBoto3() (string, error) {
	py, err := realPython()
	if err != nil {
		return "", err
	}
	if out, err := exec.Command(py, "-c", "import boto3").CombinedOutput(); err != nil {
		return "", fmt.Errorf("%s -c 'import boto3': %v: %s", py, err, tail(string(out), 300))
	}
	return py, nil
}

// TestBoto3 runs testdata/boto3_check.py twice: over HTTP, where botocore
// sends request checksums in headers, and over HTTPS (through the TLS
// tunnel to the same server), where it streams bodies aws-chunked with
// the checksum in a trailer (STREAMING-UNSIGNED-PAYLOAD-TRAILER).
func TestBoto3(t *testing.T) {
	py, err := findBoto3()
	need(t, "boto3", err)
	script, err := filepath.Abs(filepath.Join("testdata", "boto3_check.py"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, endpoint, ca, trailer string
	}{
		{"http", srv.Endpoint, "", "0"},
		{"https", srv.TLSEndpoint, srv.CAFile, "1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newClient(t, "AWS_ACCESS_KEY_ID="+accessKey, "AWS_SECRET_ACCESS_KEY="+secretKey,
				"AWS_DEFAULT_REGION="+region, "AWS_EC2_METADATA_DISABLED=true", "AWS_CONFIG_FILE=/dev/null",
				"AWS_SHARED_CREDENTIALS_FILE=/dev/null", "FIRN_ENDPOINT="+tc.endpoint, "FIRN_CA="+tc.ca,
				"FIRN_BUCKET=e2e-boto3-"+tc.name, "FIRN_EXPECT_TRAILER="+tc.trailer)
			c.env = append(c.env, "FIRN_WORK="+c.home)
			out, errOut, err := c.exec(py, script)
			t.Logf("boto3_check.py:\n%s", strings.TrimSpace(out))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(out, "ALL OK") {
				t.Fatalf("boto3_check.py did not finish:\n%s\n%s", out, tail(errOut, 3000))
			}
		})
	}
}
