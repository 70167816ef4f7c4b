package app

import (
	"context"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/firnhq/firn/internal/audit"
	"github.com/firnhq/firn/internal/config"
)

// TestAuditLog: every request becomes one JSON line with who, what, on
// which bucket and key, how it ended; secrets and signatures never
// appear; the summary lists denied requests.
func TestAuditLog(t *testing.T) {
	ctx := context.Background()
	const secret = "audit-secret-key-must-not-leak"
	var data string
	srv, c := startFirn(t, "AUDITAK", secret, nil, func(cfg *config.Server) { data = cfg.Data })
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("logs")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("logs"), Key: aws.String("a/b.txt"), Body: strings.NewReader("12345")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("logs"), Key: aws.String("missing")}); err == nil {
		t.Fatal("GET of a missing key succeeded")
	}
	// An unsigned request and a presigned-style query with a signature.
	http.Get("http://" + srv.Addr() + "/logs/a/b.txt?X-Amz-Signature=deadbeefcafe")
	http.Get("http://" + srv.Addr() + "/logs/a/b.txt")
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	path := AuditLogPath(data)
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, leak := range []string{secret, "deadbeefcafe", "Signature=", "Credential=", "AWS4-HMAC-SHA256"} {
		if strings.Contains(string(raw), leak) {
			t.Errorf("audit log holds %q", leak)
		}
	}
	sum, err := audit.SummarizeFiles([]string{path}, audit.SummaryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Total < 5 || len(sum.Denied) != 1 || sum.Denied[0].Principal != audit.PrincipalAnonymous {
		t.Errorf("summary: total %d, denied %+v", sum.Total, sum.Denied)
	}
	var put string
	for _, line := range strings.Split(string(raw), "\n") {
		if strings.Contains(line, `"action":"s3:PutObject"`) {
			put = line
		}
	}
	for _, want := range []string{`"principal":"AUDITAK"`, `"bucket":"logs"`, `"key":"a/b.txt"`, `"status":200`, `"bytes_in":`, `"request_id":"`, `"source_ip":"127.0.0.1"`} {
		if !strings.Contains(put, want) {
			t.Errorf("PutObject record %q lacks %s", put, want)
		}
	}
	if !strings.Contains(string(raw), `"error_code":"NoSuchKey"`) {
		t.Errorf("the failed GET is not recorded with its error code:\n%s", raw)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("audit log mode: %v %v", fi.Mode(), err)
	}
}
