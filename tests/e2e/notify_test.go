package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestNotificationsAWSCLI: a webhook target declared in the server's
// config file; the bucket's notification configuration put and read
// with the AWS CLI v2 exactly as a user writes it for AWS (JSON with
// QueueConfigurations and a prefix filter); an overlapping configuration
// is refused with AWS's message; an upload with `aws s3 cp` reaches the
// webhook as AWS's event JSON, and `firn admin target status` shows the
// target with nothing pending.
func TestNotificationsAWSCLI(t *testing.T) {
	cli, err := findAWSCLIv2()
	need(t, "AWS CLI v2", err)
	var mu sync.Mutex
	var got []string
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var m struct {
			Records []struct {
				EventName string `json:"eventName"`
				S3        struct {
					Object struct {
						Key  string `json:"key"`
						Size int64  `json:"size"`
					} `json:"object"`
				} `json:"s3"`
			}
			Event string
		}
		if err := json.Unmarshal(b, &m); err != nil {
			t.Errorf("webhook body: %v", err)
		}
		mu.Lock()
		defer mu.Unlock()
		if m.Event != "" {
			got = append(got, m.Event)
		}
		for _, r := range m.Records {
			got = append(got, r.EventName+" "+r.S3.Object.Key)
		}
	}))
	defer hook.Close()
	dir := t.TempDir()
	cfgFile := dir + "/firn.yaml"
	os.WriteFile(cfgFile, []byte("targets:\n  - name: uploads\n    kind: webhook\n    url: "+hook.URL+"/s3\n    secret: e2e-secret\n"), 0o600)
	s, err := startServer(dir, "--config", cfgFile)
	if err != nil {
		t.Fatal(err)
	}
	defer s.stop()
	a := newAWSCLI(t, cli)
	a.endpoint = s.Endpoint
	c := a.client
	a.s3("mb", "s3://notified")
	n := c.path("n.json")
	os.WriteFile(n, []byte(`{"QueueConfigurations": [{"Id": "incoming", "QueueArn": "arn:aws:sqs:us-east-1:000000000000:uploads",
		"Events": ["s3:ObjectCreated:*"], "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "incoming/"}]}}}]}`), 0o600)
	a.api(nil, "put-bucket-notification-configuration", "--bucket", "notified", "--notification-configuration", "file://"+n)
	var back struct {
		QueueConfigurations []struct {
			Id, QueueArn string
			Events       []string
			Filter       struct {
				Key struct {
					FilterRules []struct{ Name, Value string }
				}
			}
		}
	}
	a.api(&back, "get-bucket-notification-configuration", "--bucket", "notified")
	if len(back.QueueConfigurations) != 1 || back.QueueConfigurations[0].Id != "incoming" ||
		back.QueueConfigurations[0].QueueArn != "arn:aws:sqs:us-east-1:000000000000:uploads" ||
		len(back.QueueConfigurations[0].Filter.Key.FilterRules) != 1 || back.QueueConfigurations[0].Filter.Key.FilterRules[0].Value != "incoming/" {
		t.Fatalf("configuration read back: %+v", back)
	}
	// Two configurations for the same event type with overlapping
	// prefixes: refused, and the saved one stays.
	bad := c.path("bad.json")
	os.WriteFile(bad, []byte(`{"QueueConfigurations": [
		{"QueueArn": "arn:aws:sqs:us-east-1:000000000000:uploads", "Events": ["s3:ObjectCreated:Put"], "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "a/"}]}}},
		{"QueueArn": "arn:aws:sqs:us-east-1:000000000000:uploads", "Events": ["s3:ObjectCreated:*"], "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "a/b/"}]}}}]}`), 0o600)
	full := append(append([]string{}, cli[1:]...), "s3api", "put-bucket-notification-configuration", "--bucket", "notified",
		"--notification-configuration", "file://"+bad, "--endpoint-url", s.Endpoint)
	if _, stderr, err := c.exec(cli[0], full...); err == nil || !strings.Contains(stderr, "InvalidArgument") ||
		!strings.Contains(stderr, "Configurations overlap") {
		t.Fatalf("overlapping configuration: %v %s", err, tail(stderr, 300))
	}
	a.api(&back, "get-bucket-notification-configuration", "--bucket", "notified")
	if len(back.QueueConfigurations) != 1 || back.QueueConfigurations[0].Id != "incoming" {
		t.Fatalf("a refused configuration changed the saved one: %+v", back)
	}
	src := c.path("report 1.csv")
	os.WriteFile(src, []byte("a,b\n1,2\n"), 0o600)
	a.s3("cp", src, "s3://notified/incoming/report 1.csv")
	a.s3("cp", src, "s3://notified/elsewhere/report.csv")
	want := "s3:TestEvent,ObjectCreated:Put incoming/report+1.csv"
	deadline := time.Now().Add(20 * time.Second)
	for {
		mu.Lock()
		g := strings.Join(got, ",")
		mu.Unlock()
		if g == want {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("webhook got %q, want %q", g, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
	out := c.run(s.bin(), "admin", "target", "status", "--data", s.dataDir(), "--config", cfgFile, "--json")
	var st []struct {
		Name     string
		Declared bool
		Pending  int64
	}
	if err := json.Unmarshal([]byte(out), &st); err != nil || len(st) != 1 || st[0].Name != "uploads" || !st[0].Declared || st[0].Pending != 0 {
		t.Fatalf("target status: %s (%v)", out, err)
	}
	if strings.Contains(c.run(s.bin(), "admin", "target", "list", "--data", s.dataDir(), "--config", cfgFile), "e2e-secret") {
		t.Error("target list shows the webhook secret")
	}
}
