package sigv4

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// botoScript drives boto3 (botocore's signer and aws-chunked encoder)
// against the test server. Arguments: endpoint URL, JSON list of keys.
const botoScript = `
import sys, json, ssl, urllib.request, warnings
warnings.filterwarnings("ignore")
import boto3
from botocore.config import Config
url, keys = sys.argv[1], json.loads(sys.argv[2])
data = bytes(range(256)) * 1200
s3 = boto3.client("s3", endpoint_url=url, region_name="us-east-1",
    aws_access_key_id="AKIAIOSFODNN7EXAMPLE",
    aws_secret_access_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    verify=False, config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))
# Without signature_version="s3v4", botocore presigns with SigV2 for
# custom endpoints, which this package rejects (ErrUnsupportedAlgorithm).
pre = boto3.client("s3", endpoint_url=url, region_name="us-east-1",
    aws_access_key_id="AKIAIOSFODNN7EXAMPLE",
    aws_secret_access_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    verify=False, config=Config(signature_version="s3v4", s3={"addressing_style": "path"}))
ctx = ssl._create_unverified_context()
for k in keys:
    s3.put_object(Bucket="bucket", Key=k, Body=data)
    s3.put_object(Bucket="bucket", Key=k, Body=data, ChecksumAlgorithm="CRC32", ContentType="text/plain", Metadata={"note": "a  b"})
    s3.get_object(Bucket="bucket", Key=k, Range="bytes=0-4")["Body"].read()
    s3.head_object(Bucket="bucket", Key=k)
    s3.delete_object(Bucket="bucket", Key=k)
    u = pre.generate_presigned_url("get_object", Params={"Bucket": "bucket", "Key": k}, ExpiresIn=600)
    urllib.request.urlopen(u, context=ctx).read()
    u = pre.generate_presigned_url("put_object", Params={"Bucket": "bucket", "Key": k}, ExpiresIn=600)
    urllib.request.urlopen(urllib.request.Request(u, data=data, method="PUT"), context=ctx).read()
s3.list_objects_v2(Bucket="bucket", Prefix="a b+c/\u00fc~*", Delimiter="/", StartAfter="x&y=z")
s3.delete_objects(Bucket="bucket", Delete={"Objects": [{"Key": "a"}, {"Key": "b c"}]})
`

// TestBotocore checks compatibility with botocore (boto3, the AWS CLI),
// when python3 and boto3 are installed.
func TestBotocore(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	if err := exec.Command("python3", "-c", "import boto3").Run(); err != nil {
		t.Skip("python3 with boto3 not available")
	}
	data := bytes.Repeat(func() []byte {
		b := make([]byte, 256)
		for i := range b {
			b[i] = byte(i)
		}
		return b
	}(), 1200)
	keysJSON, _ := json.Marshal(specialKey)
	for _, tls := range []bool{true, false} {
		name := "http"
		if tls {
			name = "https"
		}
		t.Run(name, func(t *testing.T) {
			ts := newTestServer(t, tls)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			out, err := exec.CommandContext(ctx, "python3", "-c", botoScript, ts.URL, string(keysJSON)).CombinedOutput()
			ts.mu.Lock()
			defer ts.mu.Unlock()
			streamed := 0
			for _, s := range ts.reqs {
				if s.err != nil {
					t.Errorf("%s %s?%s: %v\nheaders: %v", s.method, s.path, s.query, s.err, s.header)
					continue
				}
				if s.method == http.MethodPut && !bytes.Equal(s.body, data) {
					t.Errorf("PUT %s: body of %d bytes differs", s.path, len(s.body))
				}
				if s.res.Streaming != "" {
					streamed++
					if s.trailer["x-amz-checksum-crc32"] == nil {
						t.Errorf("PUT %s: no crc32 trailer: %v", s.path, s.trailer)
					}
				}
			}
			if err != nil {
				t.Fatalf("boto3 failed: %v\n%s", err, lastLines(string(out), 15))
			}
			if tls && streamed == 0 {
				t.Errorf("boto3 sent no aws-chunked upload over https")
			}
			t.Logf("%d requests verified, %d aws-chunked", len(ts.reqs), streamed)
		})
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
