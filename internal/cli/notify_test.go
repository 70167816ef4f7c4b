package cli

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/firnhq/firn/internal/notify/target"
	"github.com/firnhq/firn/internal/testenv"
)

func TestParseNotify(t *testing.T) {
	env := func(vars map[string]string) func(string) string {
		return func(k string) string { return vars[k] }
	}
	smtpEnv := env(map[string]string{envSMTPURL: "smtp://mailer:hunter2-smtp@mail.example.com:587", envSMTPFrom: "Firn <firn@example.com>"})
	for _, tc := range []struct {
		dest string
		env  func(string) string
		want target.Spec // Name and Timeout aside
	}{
		{"https://hooks.example.com/firn?x=1", nil, target.Spec{Kind: "webhook", URL: "https://hooks.example.com/firn?x=1"}},
		{"http://user:pw@127.0.0.1:8080/h", nil, target.Spec{Kind: "webhook", URL: "http://user:pw@127.0.0.1:8080/h"}},
		{"HTTPS://hooks.example.com/", nil, target.Spec{Kind: "webhook", URL: "HTTPS://hooks.example.com/"}},
		{"nats://127.0.0.1:4222/restores.done", nil, target.Spec{Kind: "nats", URL: "nats://127.0.0.1:4222",
			Options: map[string]string{"subject": "restores.done"}}},
		{"nats://tok@nats.example.com/a.b?stream=RESTORES", nil, target.Spec{Kind: "nats", URL: "nats://tok@nats.example.com",
			Options: map[string]string{"subject": "a.b", "stream": "RESTORES"}}},
		{"mailto:ops@example.com", smtpEnv, target.Spec{Kind: "smtp", URL: "smtp://mailer:hunter2-smtp@mail.example.com:587",
			Options: map[string]string{"to": "<ops@example.com>", "from": "Firn <firn@example.com>"}}},
		{"MAILTO:a@example.com,b%40example.org", smtpEnv, target.Spec{Kind: "smtp", URL: "smtp://mailer:hunter2-smtp@mail.example.com:587",
			Options: map[string]string{"to": "<a@example.com>, <b@example.org>", "from": "Firn <firn@example.com>"}}},
		{"ops@example.com", env(map[string]string{envSMTPURL: "smtps://mail.example.com?starttls=never&subject_prefix=[restore]"}),
			target.Spec{Kind: "smtp", URL: "smtps://mail.example.com",
				Options: map[string]string{"to": "<ops@example.com>", "from": defaultSender(), "starttls": "never", "subject_prefix": "[restore]"}}},
	} {
		e := tc.env
		if e == nil {
			e = env(nil)
		}
		got, err := parseNotify(tc.dest, e)
		if err != nil {
			t.Errorf("parseNotify(%q): %v", tc.dest, err)
			continue
		}
		if got.Timeout != notifyTimeout || got.Name == "" {
			t.Errorf("parseNotify(%q): name %q, timeout %v", tc.dest, got.Name, got.Timeout)
		}
		got.Name, got.Timeout = "", 0
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("parseNotify(%q) = %+v, want %+v", tc.dest, got, tc.want)
		}
	}
	if !strings.HasPrefix(defaultSender(), "firn@") {
		t.Errorf("default sender %q", defaultSender())
	}

	const secret = "hunter2-secret"
	for _, tc := range []struct {
		dest string
		env  func(string) string
		want string // in the error
	}{
		{"", nil, "empty destination"},
		{"ftp://host/x", nil, `scheme "ftp"`},
		{"amqp://guest:" + secret + "@rabbit/", nil, `scheme "amqp"`},
		{"hooks.example.com/x", nil, "want https://"},
		{"https://", nil, "no host"},
		{"https://user:" + secret + "@/x", nil, "no host"},
		{"nats://127.0.0.1:4222", nil, "give the subject"},
		{"nats://127.0.0.1:4222/", nil, "give the subject"},
		{"nats://u:" + secret + "@127.0.0.1:4222/", nil, "give the subject"},
		{"nats://127.0.0.1/a.*", nil, "wildcard"},
		{"nats://127.0.0.1/a..b", nil, "empty subject token"},
		{"nats://127.0.0.1/a.b?stream=bad.name", nil, "stream"},
		{"nats://u:" + secret + "@127.0.0.1/a.b?queue=x", nil, `query parameter "queue"`},
		{"ops@example.com", nil, envSMTPURL},
		{"mailto:ops@example.com", env(map[string]string{envSMTPURL: ""}), envSMTPURL},
		{"mailto:ops@example.com?subject=hi", env(map[string]string{envSMTPURL: "smtp://m"}), "addresses only"},
		{"not an address@", env(map[string]string{envSMTPURL: "smtp://m"}), "not an email address"},
		{"ops@example.com", env(map[string]string{envSMTPURL: "http://u:" + secret + "@mail.example.com"}), `scheme "http"`},
		{"ops@example.com", env(map[string]string{envSMTPURL: "smtp://u:" + secret + "@mail.example.com?tls=1"}), `query parameter "tls"`},
		{"ops@example.com", env(map[string]string{envSMTPURL: "smtp://u:" + secret + "@mail.example.com", envSMTPFrom: "not-an-address"}), "option from"},
		{"ops@example.com", env(map[string]string{envSMTPURL: "smtp://u:" + secret + "@mail.example.com?starttls=maybe"}), "option starttls"},
	} {
		e := tc.env
		if e == nil {
			e = env(nil)
		}
		_, err := parseNotify(tc.dest, e)
		if err == nil {
			t.Errorf("parseNotify(%q): no error", tc.dest)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("parseNotify(%q): %v, want %q in it", tc.dest, err, tc.want)
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("parseNotify(%q): the error shows the secret: %v", tc.dest, err)
		}
	}

	// The flags: numbered names, the webhook secret from the environment
	// (webhooks only), and a missing secret variable refused.
	f := notifyFlags{dests: stringList{"https://h.example.com/", "nats://n.example.com/s"}, secretEnv: "HOOK_SECRET"}
	specs, err := f.specs(env(map[string]string{"HOOK_SECRET": secret}))
	if err != nil || len(specs) != 2 || specs[0].Name != "notify-1" || specs[1].Name != "notify-2" ||
		specs[0].Options["secret"] != secret || specs[1].Options["secret"] != "" {
		t.Errorf("specs: %+v, %v", specs, err)
	}
	if _, err := f.specs(env(nil)); err == nil || !strings.Contains(err.Error(), "HOOK_SECRET") {
		t.Errorf("specs without the secret variable: %v", err)
	}
	f.dests = stringList{"https://h.example.com/", "bad"}
	if _, err := f.specs(env(map[string]string{"HOOK_SECRET": secret})); err == nil || !strings.Contains(err.Error(), "--notify #2") {
		t.Errorf("specs with a bad second destination: %v", err)
	}
}

// TestNotifyID: IDs are stable, and differ by object, version, event
// and (for Completed) the restore's expiry.
func TestNotifyID(t *testing.T) {
	exp := time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC)
	id := notifyID("b", "k", "", eventRestoreCompleted, exp)
	if id != notifyID("b", "k", "", eventRestoreCompleted, exp.In(time.FixedZone("x", 3600))) || !strings.HasPrefix(id, "firn-") || len(id) != 5+32 {
		t.Fatalf("id %q is not stable or well formed", id)
	}
	seen := map[string]bool{id: true}
	for _, other := range []string{
		notifyID("b", "k2", "", eventRestoreCompleted, exp),
		notifyID("b2", "k", "", eventRestoreCompleted, exp),
		notifyID("b", "k", "v1", eventRestoreCompleted, exp),
		notifyID("b", "k", "", eventRestoreCompleted, exp.AddDate(0, 0, 1)),
		notifyID("b", "k", "", eventRestorePost, exp),
		notifyID("bk", "", "", eventRestoreCompleted, exp),
	} {
		if seen[other] {
			t.Errorf("id %q repeats", other)
		}
		seen[other] = true
	}
	if notifyID("b", "k", "", eventRestorePost, exp) != notifyID("b", "k", "", eventRestorePost, time.Time{}) {
		t.Error("the Post id depends on the expiry")
	}
}

// recordTarget is a target.Target that records its Sends and delivers
// at most okUntil messages in all (negative: all).
type recordTarget struct {
	mu      sync.Mutex
	sizes   []int
	ids     []string
	okUntil int
}

func (r *recordTarget) Send(_ context.Context, msgs []target.Message) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sizes = append(r.sizes, len(msgs))
	for i, m := range msgs {
		if r.okUntil >= 0 && len(r.ids) >= r.okUntil {
			return i, errors.New("target rec (test): broker down")
		}
		r.ids = append(r.ids, m.ID)
	}
	return len(msgs), nil
}

func (r *recordTarget) Close() error { return nil }

// TestNotifierBatches: messages go out in Sends of at most 100, in
// order; a failing destination is retried once, then its remaining
// messages are counted and warned about, while the others get all.
func TestNotifierBatches(t *testing.T) {
	msgs := make([]target.Message, 250)
	for i := range msgs {
		msgs[i] = target.Message{ID: fmt.Sprint(i)}
	}
	good, bad := &recordTarget{okUntil: -1}, &recordTarget{okUntil: 130}
	var stderr bytes.Buffer
	warned := 0
	n := &notifier{prog: "firn test", stderr: &stderr, targets: []target.Target{good, bad}, batch: notifyBatch,
		retryWait: time.Millisecond, beforeWarn: func() { warned++ }}
	n.send(context.Background(), msgs)
	if !reflect.DeepEqual(good.sizes, []int{100, 100, 50}) || len(good.ids) != 250 || good.ids[249] != "249" {
		t.Errorf("good target: sends %v, %d messages", good.sizes, len(good.ids))
	}
	// 100, then 100 failing after 30, then the retry of the other 70.
	if !reflect.DeepEqual(bad.sizes, []int{100, 100, 70}) || len(bad.ids) != 130 {
		t.Errorf("failing target: sends %v, %d messages", bad.sizes, len(bad.ids))
	}
	if sent, failed := n.counts(); sent != 380 || failed != 120 {
		t.Errorf("counts: %d sent, %d failed", sent, failed)
	}
	if w := stderr.String(); strings.Count(w, "warning") != 1 || !strings.Contains(w, "firn test: warning: 120 of 250 notifications not delivered: target rec (test): broker down") || warned != 1 {
		t.Errorf("warnings (%d): %q", warned, w)
	}
	result := map[string]any{}
	n.addCounts(result)
	if result["notified"] != 380 || result["notify_errors"] != 120 {
		t.Errorf("JSON counts: %v", result)
	}
	var none *notifier
	none.send(context.Background(), msgs) // no --notify: nothing
	none.addCounts(result)
	none.close()
}

// hookCall is one POST a test webhook received.
type hookCall struct {
	ID, Event, Signature string
	Body                 []byte
}

// testHook is a webhook receiver answering status.
type testHook struct {
	URL   string
	mu    sync.Mutex
	calls []hookCall
}

func startHook(t *testing.T, status int, answer string) *testHook {
	t.Helper()
	h := &testHook{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		h.calls = append(h.calls, hookCall{r.Header.Get(target.HeaderEventID), r.Header.Get(target.HeaderEvent), r.Header.Get(target.HeaderSignature), body})
		h.mu.Unlock()
		w.WriteHeader(status)
		io.WriteString(w, answer)
	}))
	t.Cleanup(srv.Close)
	h.URL = srv.URL + "/hook"
	return h
}

func (h *testHook) received() []hookCall {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]hookCall(nil), h.calls...)
}

// s3Message is what a consumer of S3 notifications reads.
type s3Message struct {
	Records []struct {
		EventSource  string `json:"eventSource"`
		AWSRegion    string `json:"awsRegion"`
		EventTime    string `json:"eventTime"`
		EventName    string `json:"eventName"`
		UserIdentity struct {
			PrincipalID string `json:"principalId"`
		} `json:"userIdentity"`
		S3 struct {
			Bucket struct {
				Name string `json:"name"`
			} `json:"bucket"`
			Object struct {
				Key       string `json:"key"`
				Size      *int64 `json:"size"`
				ETag      string `json:"eTag"`
				VersionID string `json:"versionId"`
			} `json:"object"`
		} `json:"s3"`
		GlacierEventData *struct {
			RestoreEventData struct {
				Expiry string `json:"lifecycleRestorationExpiryTime"`
				Class  string `json:"lifecycleRestoreStorageClass"`
			} `json:"restoreEventData"`
		} `json:"glacierEventData"`
	} `json:"Records"`
}

// parseS3Message decodes body, failing t unless it holds one record.
func parseS3Message(t *testing.T, body []byte) s3Message {
	t.Helper()
	var m s3Message
	if err := json.Unmarshal(body, &m); err != nil || len(m.Records) != 1 {
		t.Fatalf("not an S3 event message (%v): %s", err, body)
	}
	return m
}

// checkRestoreMessage checks a message about bucket/key (key as S3
// encodes it in messages) of size bytes.
func checkRestoreMessage(t *testing.T, body []byte, event, bucket, encodedKey string, size int64) s3Message {
	t.Helper()
	m := parseS3Message(t, body)
	r := m.Records[0]
	if r.EventName != event || r.EventSource != "aws:s3" || r.AWSRegion != "us-east-1" || r.UserIdentity.PrincipalID != notifyPrincipal ||
		r.S3.Bucket.Name != bucket || r.S3.Object.Key != encodedKey || r.S3.Object.Size == nil || *r.S3.Object.Size != size {
		t.Errorf("message %s", body)
	}
	if tm, err := time.Parse("2006-01-02T15:04:05.000Z", r.EventTime); err != nil || time.Since(tm) > time.Minute || time.Since(tm) < -time.Minute {
		t.Errorf("eventTime %q", r.EventTime)
	}
	switch {
	case event == eventRestoreCompleted && (r.GlacierEventData == nil || r.GlacierEventData.RestoreEventData.Class == ""):
		t.Errorf("Completed without glacierEventData: %s", body)
	case event == eventRestorePost && r.GlacierEventData != nil:
		t.Errorf("Post with glacierEventData: %s", body)
	}
	return m
}

// TestGetNotifyNATS: `firn get --notify nats://…/SUBJECT?stream=NAME`
// creates the stream and publishes both events to it.
func TestGetNotifyNATS(t *testing.T) {
	addr := "127.0.0.1:4222"
	if v := os.Getenv("FIRN_TEST_NATS_ADDR"); v != "" {
		addr = v
	}
	testenv.Service(t, "NATS", addr)
	nc, err := nats.Connect("nats://"+addr, nats.Timeout(2*time.Second))
	if err != nil {
		t.Skipf("NATS not reachable at %s: %v", addr, err)
	}
	t.Cleanup(nc.Close) // after the stream's deletion below
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := js.AccountInfo(ctx); err != nil {
		t.Skipf("NATS at %s has no JetStream: %v", addr, err)
	}
	var b [5]byte
	rand.Read(b[:])
	sfx := hex.EncodeToString(b[:])
	stream, subject := "FIRN_CLI_"+sfx, "firn.test."+sfx
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := js.DeleteStream(ctx, stream); err != nil {
			t.Errorf("delete stream %s: %v", stream, err)
		}
	})

	endpoint, c, _ := startClientTarget(t, "Expedited=0s,Standard=300ms,Bulk=1s")
	c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("natsb")})
	body := bytes.Repeat([]byte("n"), 777)
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("natsb"), Key: aws.String("cold/x.bin"), Body: bytes.NewReader(body),
		StorageClass: types.StorageClassGlacier}); err != nil {
		t.Fatal(err)
	}
	dest := fmt.Sprintf("nats://%s/%s?stream=%s", addr, subject, stream)
	code, out, errs := runCLI(t, "get", "s3://natsb/cold/x.bin", t.TempDir()+"/x.bin", "--notify", dest, "--json", "--timeout", "20s",
		"--endpoint-url", endpoint)
	if code != ExitOK || !strings.Contains(out, `"notify_errors": 0`) || !strings.Contains(out, `"notified": 2`) {
		t.Fatalf("get --notify nats: exit %d, %s, stderr %q", code, out, errs)
	}
	cons, err := js.OrderedConsumer(ctx, stream, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	batch, err := cons.Fetch(3, jetstream.FetchMaxWait(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	var events []string
	for m := range batch.Messages() {
		msg := checkRestoreMessage(t, m.Data(), m.Headers().Get("Firn-Event"), "natsb", "cold/x.bin", int64(len(body)))
		events = append(events, msg.Records[0].EventName)
		if m.Subject() != subject || m.Headers().Get(jetstream.MsgIDHeader) != notifyID("natsb", "cold/x.bin", "", msg.Records[0].EventName, expiryOf(t, msg)) {
			t.Errorf("message on %q, id %q", m.Subject(), m.Headers().Get(jetstream.MsgIDHeader))
		}
	}
	if !reflect.DeepEqual(events, []string{eventRestorePost, eventRestoreCompleted}) {
		t.Errorf("stream holds %v, want Post then Completed", events)
	}
}

// expiryOf returns the restore expiry a Completed message carries.
func expiryOf(t *testing.T, m s3Message) time.Time {
	t.Helper()
	g := m.Records[0].GlacierEventData
	if g == nil {
		return time.Time{}
	}
	tm, err := time.Parse("2006-01-02T15:04:05.000Z", g.RestoreEventData.Expiry)
	if err != nil {
		t.Errorf("expiry %q: %v", g.RestoreEventData.Expiry, err)
	}
	return tm
}
