package bench

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/firnhq/firn/internal/testenv"
)

// The notification benchmarks need NATS with JetStream on 127.0.0.1:4222.
const natsAddr = "127.0.0.1:4222"

var (
	natsUp     bool
	benchSfx   = fmt.Sprint(os.Getpid())
	liveStream = "FIRNBENCH" + benchSfx
	liveSubj   = "firn.bench." + benchSfx
	// The drain target reaches NATS through drainGate, closed until
	// BenchmarkNotifyDrainNATS opens it, so events pile up first.
	drainStream = "FIRNDRAIN" + benchSfx
	drainSubj   = "firn.drain." + benchSfx
	drainGate   *testenv.Proxy
)

// notifyConfig writes a config file declaring the benchmark targets
// when NATS is reachable ("" otherwise).
func notifyConfig(dir string) (string, error) {
	c, err := net.DialTimeout("tcp", natsAddr, time.Second)
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench: NATS not reachable at %s, notification benchmarks will skip: %v\n", natsAddr, err)
		return "", nil
	}
	c.Close()
	natsUp = true
	if drainGate, err = testenv.NewProxy(natsAddr); err != nil {
		return "", err
	}
	drainGate.Down()
	path := filepath.Join(dir, "notify.toml")
	cfg := fmt.Sprintf(`notify-retry-min = "20ms"
notify-retry-max = "50ms"
notify-max-attempts = -1

[[targets]]
name = "live"
kind = "nats"
url = "nats://%s"
subject = "%s"
stream = "%s"

[[targets]]
name = "drain"
kind = "nats"
url = "nats://%s"
subject = "%s"
stream = "%s"
`, natsAddr, liveSubj, liveStream, drainGate.Addr(), drainSubj, drainStream)
	return path, os.WriteFile(path, []byte(cfg), 0o600)
}

func needNATS(b *testing.B) jetstream.JetStream {
	if !natsUp {
		b.Skip("NATS not reachable at " + natsAddr)
	}
	nc, err := nats.Connect("nats://" + natsAddr)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		b.Fatal(err)
	}
	return js
}

// notifiedBucket creates bucket with its ObjectCreated events going to
// target.
func notifiedBucket(b *testing.B, bucket, target string) {
	ensureBucket(b, bucket)
	_, err := client().PutBucketNotificationConfiguration(context.Background(), &s3.PutBucketNotificationConfigurationInput{Bucket: aws.String(bucket),
		NotificationConfiguration: &types.NotificationConfiguration{QueueConfigurations: []types.QueueConfiguration{{
			QueueArn: aws.String("arn:aws:sqs:us-east-1:000000000000:" + target), Events: []types.Event{"s3:ObjectCreated:*"}}}}})
	if err != nil {
		b.Fatal(err)
	}
}

// streamCount returns how many messages stream holds (0 if it does not
// exist yet).
func streamCount(b *testing.B, js jetstream.JetStream, stream string) uint64 {
	s, err := js.Stream(context.Background(), stream)
	if err != nil {
		return 0
	}
	info, err := s.Info(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	return info.State.Msgs
}

func waitCount(b *testing.B, js jetstream.JetStream, stream string, want uint64) {
	deadline := time.Now().Add(5 * time.Minute)
	for streamCount(b, js, stream) < want {
		if time.Now().After(deadline) {
			b.Fatalf("stream %s: %d messages, want %d", stream, streamCount(b, js, stream), want)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// BenchmarkPut4KiBNotify is BenchmarkPut4KiB into a bucket whose
// ObjectCreated events go to NATS JetStream, delivered while the PUTs run
// (compare its ops/s with BenchmarkPut4KiB's). It also reports the
// events/s that reached the stream by the end.
func BenchmarkPut4KiBNotify(b *testing.B) {
	js := needNATS(b)
	notifiedBucket(b, "notified", "live")
	before := streamCount(b, js, liveStream)
	start := time.Now()
	benchPut(b, "notified", 4<<10, 16, 2000)
	waitCount(b, js, liveStream, before+uint64(b.N))
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
}

// BenchmarkNotifyDrainNATS measures delivery alone: b.N events wait in
// the outbox while the drain target cannot reach NATS, then the way
// opens and the time until all are in the stream gives events/s.
func BenchmarkNotifyDrainNATS(b *testing.B) {
	js := needNATS(b)
	notifiedBucket(b, "drain", "drain")
	drainGate.Up()
	waitCount(b, js, drainStream, 1) // the stream exists, the test event is in
	drainGate.Down()
	before := streamCount(b, js, drainStream)
	c := client()
	p := payload(4 << 10)
	var wg sync.WaitGroup
	next := make(chan int)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if _, err := c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String("drain"),
					Key: aws.String(fmt.Sprintf("d/%08d", i)), Body: bytes.NewReader(p)}); err != nil {
					b.Error(err)
				}
			}
		}()
	}
	for i := range b.N {
		next <- i
	}
	close(next)
	wg.Wait()
	if got := streamCount(b, js, drainStream); got != before {
		b.Fatalf("%d events delivered while the way was closed", got-before)
	}
	b.ResetTimer()
	drainGate.Up()
	waitCount(b, js, drainStream, before+uint64(b.N))
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	drainGate.Down()
}

// deleteStreams removes the benchmarks' streams (at the end of the run:
// the server's targets keep using them between benchmarks).
func deleteStreams() {
	if !natsUp {
		return
	}
	nc, err := nats.Connect("nats://" + natsAddr)
	if err != nil {
		return
	}
	defer nc.Close()
	if js, err := jetstream.New(nc); err == nil {
		js.DeleteStream(context.Background(), liveStream)
		js.DeleteStream(context.Background(), drainStream)
	}
}
