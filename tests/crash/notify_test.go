package crash

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/firnhq/firn/internal/testenv"
)

// TestCrashNotifications kills firn with kill -9 in the middle of 10,000
// writes to a bucket whose events go to NATS JetStream, restarts it and
// writes the rest: every acknowledged write's event arrives (writes in
// flight at the kill may or may not have one; duplicates are allowed).
func TestCrashNotifications(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test: skipped with -short")
	}
	addr := testenv.Service(t, "NATS", "127.0.0.1:4222")
	ctx := context.Background()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	sfx := fmt.Sprintf("%d", time.Now().UnixNano())
	stream, subject := "FIRNCRASH"+sfx, "firn.crash."+sfx
	cfgFile := filepath.Join(dir, "firn.toml")
	os.WriteFile(cfgFile, []byte(fmt.Sprintf(`notify-retry-min = "50ms"
notify-retry-max = "500ms"

[[targets]]
name = "jet"
kind = "nats"
url = "nats://%s"
subject = "%s"
stream = "%s"
`, addr, subject, stream)), 0o600)
	nc, err := nats.Connect("nats://" + addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	defer js.DeleteStream(context.Background(), stream)

	srv := startServer(t, data, filepath.Join(dir, "n-0.log"), "--config", cfgFile)
	c, _ := newClient(srv.addr, false)
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("events")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{Bucket: aws.String("events"),
		NotificationConfiguration: &types.NotificationConfiguration{QueueConfigurations: []types.QueueConfiguration{{
			QueueArn: aws.String("arn:aws:sqs:us-east-1:000000000000:jet"), Events: []types.Event{"s3:ObjectCreated:*"}}}}}); err != nil {
		t.Fatal(err)
	}
	const total = 10000
	var acked sync.Map
	var nacked atomic.Int64
	write := func(c *s3.Client, from, to int, stop func() bool) int {
		next := atomic.Int64{}
		next.Store(int64(from))
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for !stop() {
					i := int(next.Add(1) - 1)
					if i >= to {
						return
					}
					key := fmt.Sprintf("key-%05d", i)
					if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("events"), Key: aws.String(key), Body: strings.NewReader(key)}); err == nil {
						acked.Store(key, true)
						nacked.Add(1)
					}
				}
			}()
		}
		wg.Wait()
		return int(next.Load())
	}
	var killed atomic.Bool
	go func() {
		for nacked.Load() < total/2 {
			time.Sleep(time.Millisecond)
		}
		srv.kill()
		killed.Store(true)
	}()
	reached := write(c, 0, total, killed.Load)
	for !killed.Load() {
		time.Sleep(time.Millisecond)
	}
	t.Logf("killed after %d acknowledged writes", nacked.Load())
	srv = startServer(t, data, filepath.Join(dir, "n-1.log"), "--config", cfgFile)
	c, _ = newClient(srv.addr, false)
	write(c, min(reached, total), total, func() bool { return false })

	want := map[string]bool{}
	acked.Range(func(k, _ any) bool { want[k.(string)] = true; return true })
	got := map[string]int{}
	deadline := time.Now().Add(3 * time.Minute)
	var cons jetstream.Consumer
	for cons == nil && time.Now().Before(deadline) {
		if cons, err = js.OrderedConsumer(ctx, stream, jetstream.OrderedConsumerConfig{}); err != nil {
			cons = nil
			time.Sleep(200 * time.Millisecond)
		}
	}
	if cons == nil {
		t.Fatalf("stream %s: %v", stream, err)
	}
	seen := 0
	for seen < len(want) && time.Now().Before(deadline) {
		batch, err := cons.Fetch(1000, jetstream.FetchMaxWait(time.Second))
		if err != nil {
			continue
		}
		for m := range batch.Messages() {
			var msg struct {
				Records []struct {
					S3 struct {
						Object struct {
							Key string `json:"key"`
						} `json:"object"`
					} `json:"s3"`
				}
			}
			if err := json.Unmarshal(m.Data(), &msg); err != nil {
				t.Fatal(err)
			}
			for _, r := range msg.Records {
				k := r.S3.Object.Key
				if got[k]++; got[k] == 1 && want[k] {
					seen++
				}
			}
		}
	}
	dups := 0
	for _, n := range got {
		dups += n - 1
	}
	missing := len(want) - seen
	t.Logf("%d writes acknowledged, %d keys with events, %d duplicates, %d acknowledged without an event", len(want), len(got), dups, missing)
	if missing > 0 {
		t.Errorf("%d acknowledged writes lost their event across kill -9", missing)
	}
}
