package app

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// adminCall sends a root-signed admin API request and returns the status
// and body.
func adminCall(t *testing.T, addr, method, path, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+addr+"/_firn/admin/v1/"+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(body))
	hash := hex.EncodeToString(sum[:])
	req.Header.Set("X-Amz-Content-Sha256", hash)
	if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: "AK", SecretAccessKey: "SK"}, req, hash, "s3", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestAdminTargetsAPI: a target added through the admin API is listed
// with its secrets redacted, answers a test, receives the events of a
// bucket that names it (its delivery loop outlives the admin request),
// shows in the status, and is removed; a bad spec is refused.
func TestAdminTargetsAPI(t *testing.T) {
	ctx := context.Background()
	rc := &receiver{t: t, secret: "api-secret"}
	hook := httptest.NewServer(rc)
	defer hook.Close()
	srv, c := startFirn(t, "AK", "SK", nil, nil)
	addr := srv.Addr()
	url := strings.Replace(hook.URL, "http://", "http://user:url-password@", 1)
	st, body := adminCall(t, addr, http.MethodPost, "targets",
		`{"name":"hooky","kind":"webhook","url":"`+url+`/in","options":{"secret":"api-secret"}}`)
	if st != http.StatusOK || strings.Contains(body, "url-password") || strings.Contains(body, "api-secret") ||
		!strings.Contains(body, "arn:aws:sqs:us-east-1:000000000000:hooky") {
		t.Fatalf("add: %d %s", st, body)
	}
	if st, body := adminCall(t, addr, http.MethodPost, "targets", `{"name":"hooky","kind":"webhook","url":"http://x/"}`); st != http.StatusConflict {
		t.Errorf("add twice: %d %s", st, body)
	}
	if st, body := adminCall(t, addr, http.MethodPost, "targets", `{"name":"bad","kind":"kafka","url":"kafka://x/"}`); st != http.StatusBadRequest {
		t.Errorf("add a kafka target: %d %s", st, body)
	}
	if st, body := adminCall(t, addr, http.MethodGet, "targets", ""); st != http.StatusOK || !strings.Contains(body, `"hooky"`) ||
		strings.Contains(body, "url-password") || strings.Contains(body, "api-secret") {
		t.Fatalf("list: %d %s", st, body)
	}
	if st, body := adminCall(t, addr, http.MethodPost, "targets/hooky/test", ""); st != http.StatusOK {
		t.Fatalf("test: %d %s", st, body)
	}
	if got := rc.waitFor(t, 1); len(got) != 1 || got[0] != "TestEvent" {
		t.Fatalf("after the test: %v", got)
	}
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("hooked")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{Bucket: aws.String("hooked"),
		NotificationConfiguration: &types.NotificationConfiguration{LambdaFunctionConfigurations: []types.LambdaFunctionConfiguration{{
			LambdaFunctionArn: aws.String("arn:aws:lambda:us-east-1:000000000000:function:hooky"), Events: []types.Event{"s3:ObjectCreated:*"}}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("hooked"), Key: aws.String("x"), Body: bytes.NewReader([]byte("x"))}); err != nil {
		t.Fatal(err)
	}
	if got := rc.waitFor(t, 3); strings.Join(got, ",") != "TestEvent,TestEvent,ObjectCreated:Put x" {
		t.Fatalf("events: %v", got)
	}
	st, body = adminCall(t, addr, http.MethodGet, "notifications/status", "")
	var status []struct {
		Name     string `json:"name"`
		Declared bool   `json:"declared"`
		Pending  int64  `json:"pending"`
	}
	if err := json.Unmarshal([]byte(body), &status); st != http.StatusOK || err != nil || len(status) != 1 || status[0].Name != "hooky" || !status[0].Declared {
		t.Fatalf("status: %d %s %v", st, body, err)
	}
	if st, body := adminCall(t, addr, http.MethodDelete, "targets/hooky", ""); st != http.StatusNoContent {
		t.Fatalf("remove: %d %s", st, body)
	}
	if st, _ := adminCall(t, addr, http.MethodDelete, "targets/hooky", ""); st != http.StatusNotFound {
		t.Errorf("remove twice: %d", st)
	}
}
