package daemon_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	s3be "github.com/firnhq/firn/internal/backup/backend/s3"
	"github.com/firnhq/firn/internal/backup/daemon"
	"github.com/firnhq/firn/internal/backup/repo"
	"github.com/firnhq/firn/internal/config"
	"github.com/firnhq/firn/internal/testenv/firntest"
)

const testPassword = "correct horse battery staple"

// fakeClock is a Clock that moves only when told to.
type fakeClock struct {
	mu      sync.Mutex // guards now and waiters
	now     time.Time
	waiters []fakeWaiter
}

type fakeWaiter struct {
	at time.Time
	ch chan time.Time
}

func newFakeClock(t time.Time) *fakeClock { return &fakeClock{now: t} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	if d <= 0 {
		ch <- c.now
		return ch
	}
	c.waiters = append(c.waiters, fakeWaiter{c.now.Add(d), ch})
	return ch
}

// Advance moves the clock and fires the waiters that are due.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	keep := c.waiters[:0]
	for _, w := range c.waiters {
		if w.at.After(c.now) {
			keep = append(keep, w)
			continue
		}
		w.ch <- c.now
	}
	c.waiters = keep
}

// waitForWaiter blocks until someone (the scheduler) waits on the clock.
func (c *fakeClock) waitForWaiter(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		c.mu.Lock()
		n := len(c.waiters)
		c.mu.Unlock()
		if n > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the scheduler never waited on the clock")
		}
		time.Sleep(time.Millisecond)
	}
}

// endpoint is an in-process firn server.
type endpoint struct {
	url string
	s3  *s3.Client
}

// startFirn starts firn on a loopback port, points the AWS chain at its
// credentials and creates bucket "backups".
func startFirn(t *testing.T) *endpoint {
	t.Helper()
	const ak, sk = "FIRNDAEMONTESTKEY001", "daemon/test/secret/0123456789abcdefghij"
	url := firntest.Start(t, ak, sk, func(cfg *config.Server) {
		cfg.GCEvery = 0
		cfg.RestoreLatency = "Expedited=0s,Standard=0s,Bulk=0s"
	})
	t.Setenv("AWS_ACCESS_KEY_ID", ak)
	t.Setenv("AWS_SECRET_ACCESS_KEY", sk)
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	ep := &endpoint{url: url}
	ep.s3 = s3.New(s3.Options{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider(ak, sk, ""),
		BaseEndpoint: aws.String(ep.url), UsePathStyle: true})
	if _, err := ep.s3.CreateBucket(t.Context(), &s3.CreateBucketInput{Bucket: aws.String("backups")}); err != nil {
		t.Fatalf("CreateBucket: %v", err)
	}
	return ep
}

// initRepo creates a repository at s3://backups/prefix with data packs
// in class and returns its URL.
func (ep *endpoint) initRepo(t *testing.T, prefix, class string) string {
	t.Helper()
	u := "s3://backups/" + prefix
	be, err := s3be.Open(t.Context(), s3be.Config{URL: u, Endpoint: ep.url})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := repo.Init(t.Context(), be, []byte(testPassword), repo.InitOptions{PackSize: 64 << 10, DataStorageClass: class,
		KDF: repo.KDFParams{N: 1024, R: 8, P: 1}}); err != nil {
		t.Fatal(err)
	}
	return u
}

// openRepo opens the repository at u.
func (ep *endpoint) openRepo(t *testing.T, u string) *repo.Repository {
	t.Helper()
	be, err := s3be.Open(t.Context(), s3be.Config{URL: u, Endpoint: ep.url})
	if err != nil {
		t.Fatal(err)
	}
	r, err := repo.Open(t.Context(), be, []byte(testPassword), repo.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.LoadIndex(t.Context()); err != nil {
		t.Fatal(err)
	}
	return r
}

// keys lists the keys of bucket "backups" under prefix.
func (ep *endpoint) keys(t *testing.T, prefix string) []string {
	t.Helper()
	out, err := ep.s3.ListObjectsV2(t.Context(), &s3.ListObjectsV2Input{Bucket: aws.String("backups"), Prefix: aws.String(prefix)})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, o := range out.Contents {
		keys = append(keys, aws.ToString(o.Key))
	}
	return keys
}

// loadConfig writes text (with {{dir}} and {{endpoint}} replaced) as a
// jobs file and loads it.
func loadConfig(t *testing.T, ep *endpoint, dir, text string) *daemon.Config {
	t.Helper()
	text = strings.NewReplacer("{{dir}}", dir, "{{endpoint}}", ep.url).Replace(text)
	path := filepath.Join(dir, "jobs.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := daemon.LoadConfig(path)
	if err != nil {
		t.Fatalf("LoadConfig: %v\n%s", err, text)
	}
	return cfg
}

// getenv gives the daemon the test password.
func getenv(k string) string {
	if k == "FIRN_BACKUP_PASSWORD" {
		return testPassword
	}
	return ""
}

// newDaemon makes a daemon whose records go to the returned channel.
func newDaemon(t *testing.T, cfg *daemon.Config, clk daemon.Clock, notify ...daemon.Sender) (*daemon.Daemon, chan daemon.Record) {
	t.Helper()
	runs := make(chan daemon.Record, 100)
	d, err := daemon.New(cfg, daemon.Options{Clock: clk, Getenv: getenv, Notify: notify, Program: "firn test",
		AfterRun: func(r daemon.Record) { runs <- r }})
	if err != nil {
		t.Fatalf("daemon.New: %v", err)
	}
	t.Cleanup(func() { d.Stop(context.Background()) })
	return d, runs
}

func waitRun(t *testing.T, runs chan daemon.Record) daemon.Record {
	t.Helper()
	select {
	case r := <-runs:
		return r
	case <-time.After(2 * time.Minute):
		t.Fatal("no run finished")
	}
	return daemon.Record{}
}

// scrape reads the daemon's /metrics over HTTP.
func scrape(t *testing.T, d *daemon.Daemon) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get("http://" + d.MetricsAddr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %s", resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return fams
}

// metric returns the value of series name{labels} ("k=v" pairs), or
// fails the test when it does not exist.
func metric(t *testing.T, fams map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	t.Helper()
	mf := fams[name]
	if mf == nil {
		t.Fatalf("no metric %s", name)
	}
next:
	for _, m := range mf.Metric {
		got := map[string]string{}
		for _, lp := range m.Label {
			got[lp.GetName()] = lp.GetValue()
		}
		for _, l := range labels {
			k, v, _ := strings.Cut(l, "=")
			if got[k] != v {
				continue next
			}
		}
		switch {
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Counter != nil:
			return m.Counter.GetValue()
		}
	}
	t.Fatalf("no series %s%v", name, labels)
	return 0
}

// hook is a webhook receiver.
type hook struct {
	url  string
	msgs chan hookMsg
}

type hookMsg struct {
	event string
	body  []byte
}

func newHook(t *testing.T) *hook {
	h := &hook{msgs: make(chan hookMsg, 100)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b bytes.Buffer
		b.ReadFrom(r.Body)
		h.msgs <- hookMsg{r.Header.Get("X-Firn-Event"), b.Bytes()}
	}))
	t.Cleanup(srv.Close)
	h.url = srv.URL
	return h
}

func (h *hook) next(t *testing.T) hookMsg {
	t.Helper()
	select {
	case m := <-h.msgs:
		return m
	case <-time.After(time.Minute):
		t.Fatal("no notification arrived")
	}
	return hookMsg{}
}
