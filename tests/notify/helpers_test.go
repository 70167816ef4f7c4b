package notify

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awscreds "github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/firnhq/firn/internal/config"
	"github.com/firnhq/firn/internal/testenv"
	"github.com/firnhq/firn/internal/testenv/firntest"
)

func suffix() string {
	b := make([]byte, 4)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// startFirn starts an in-process server with the given targets and
// fast retries. With retries at most 500 ms apart, the default 100
// attempts would dead-letter the event at the head of the queue after
// about 45 s of broker outage, which a loaded machine's outage tests
// reach (the defaults, up to 5 minutes apart, take 7.6 hours); these
// tests are about outages, so attempts are not limited here.
func startFirn(t *testing.T, targets ...config.Target) *s3.Client {
	t.Helper()
	return client(firntest.Start(t, "AK", "SK", func(cfg *config.Server) {
		cfg.RestoreLatency = "Expedited=0s,Standard=200ms,Bulk=1s"
		cfg.Targets = targets
		cfg.NotifyRetryMin, cfg.NotifyRetryMax = 50*time.Millisecond, 500*time.Millisecond
		cfg.NotifyMaxAttempts = 1 << 30
	}))
}

func client(endpoint string) *s3.Client {
	return s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(endpoint), UsePathStyle: true,
		Credentials: awscreds.NewStaticCredentialsProvider("AK", "SK", "")})
}

// configure creates bucket with one queue configuration sending events
// (e.g. "s3:ObjectCreated:*") to the target name.
func configure(t *testing.T, c *s3.Client, bucket, name string, events ...types.Event) {
	t.Helper()
	ctx := context.Background()
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	_, err := c.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{Bucket: aws.String(bucket),
		NotificationConfiguration: &types.NotificationConfiguration{QueueConfigurations: []types.QueueConfiguration{{
			Id: aws.String("cfg"), QueueArn: aws.String("arn:aws:sqs:us-east-1:000000000000:" + name), Events: events}}}})
	if err != nil {
		t.Fatal(err)
	}
}

// record is one event message as consumers read it.
type record struct {
	EventName string `json:"eventName"`
	S3        struct {
		Object struct {
			Key       string `json:"key"`
			Size      int64  `json:"size"`
			Sequencer string `json:"sequencer"`
		} `json:"object"`
	} `json:"s3"`
	GlacierEventData *struct {
		RestoreEventData struct {
			Expiry string `json:"lifecycleRestorationExpiryTime"`
		} `json:"restoreEventData"`
	} `json:"glacierEventData"`
}

// parse returns the record of an event message, nil for a test event.
func parse(t *testing.T, body []byte) *record {
	t.Helper()
	var m struct {
		Records []record
		Event   string
	}
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("message %s: %v", body, err)
	}
	if m.Event == "s3:TestEvent" {
		return nil
	}
	if len(m.Records) != 1 {
		t.Fatalf("message with %d records: %s", len(m.Records), body)
	}
	return &m.Records[0]
}

// putMany writes n objects key-00000... with conc writers and returns
// the keys acknowledged.
func putMany(t *testing.T, c *s3.Client, bucket string, n, conc int, during func(i int)) []string {
	t.Helper()
	var mu sync.Mutex
	var acked []string
	next := make(chan int)
	var wg sync.WaitGroup
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				key := fmt.Sprintf("key-%05d", i)
				_, err := c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key),
					Body: strings.NewReader(key)})
				if err != nil {
					t.Logf("PUT %s: %v", key, err)
				}
				if err == nil {
					mu.Lock()
					acked = append(acked, key)
					mu.Unlock()
				}
			}
		}()
	}
	for i := range n {
		if during != nil {
			during(i)
		}
		next <- i
	}
	close(next)
	wg.Wait()
	return acked
}

// natsServer is a private nats-server with JetStream, which a test may
// stop and start again on the same port and store.
type natsServer struct {
	t    *testing.T
	bin  string
	port int
	dir  string
	cmd  *exec.Cmd
}

func startNATS(t *testing.T) *natsServer {
	t.Helper()
	bin, err := exec.LookPath("nats-server")
	if err != nil {
		bin = "/usr/sbin/nats-server"
	}
	if _, err := os.Stat(bin); err != nil {
		if os.Getenv("FIRN_REQUIRE_SERVICES") == "1" {
			t.Fatalf("nats-server not installed: %v", err)
		}
		t.Skipf("nats-server not installed: %v", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	s := &natsServer{t: t, bin: bin, port: port, dir: t.TempDir()}
	s.start()
	t.Cleanup(s.stop)
	return s
}

func (s *natsServer) url() string { return fmt.Sprintf("nats://127.0.0.1:%d", s.port) }

func (s *natsServer) start() {
	s.t.Helper()
	s.cmd = exec.Command(s.bin, "-a", "127.0.0.1", "-p", fmt.Sprint(s.port), "-js", "-sd", filepath.Join(s.dir, "js"))
	s.cmd.Stdout, s.cmd.Stderr = io.Discard, io.Discard
	if err := s.cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", s.port)); err == nil {
			c.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.t.Fatal("nats-server did not start")
}

func (s *natsServer) stop() {
	if s.cmd != nil && s.cmd.Process != nil {
		s.cmd.Process.Kill()
		s.cmd.Wait()
		s.cmd = nil
	}
}

// startProxy starts a testenv.Proxy to backend, closed with the test.
func startProxy(t *testing.T, backend string) *testenv.Proxy {
	t.Helper()
	p, err := testenv.NewProxy(backend)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}
