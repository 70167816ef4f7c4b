package notify

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/firnhq/firn/internal/config"
	"github.com/firnhq/firn/internal/testenv"
)

const outageObjects = 10000

// checkAll reports the keys missing from got (a count per key) and the
// duplicates, failing t for any acknowledged key without its event.
func checkAll(t *testing.T, acked []string, got map[string]int) {
	t.Helper()
	if len(acked) != outageObjects {
		t.Errorf("%d of %d writes acknowledged: a broker outage must not fail writes", len(acked), outageObjects)
	}
	missing, dups := 0, 0
	for _, k := range acked {
		switch n := got[k]; {
		case n == 0:
			missing++
		case n > 1:
			dups += n - 1
		}
	}
	t.Logf("%d objects written, %d events received for them, %d duplicates, %d missing", len(acked), len(got), dups, missing)
	if missing > 0 {
		t.Errorf("%d acknowledged writes have no event", missing)
	}
}

// TestOutageNATS: the NATS server is killed while 10,000 objects are
// written and started again (same port, same JetStream store): every
// event arrives in the stream.
func TestOutageNATS(t *testing.T) {
	ns := startNATS(t)
	sfx := suffix()
	stream, subject := "FIRNOUT"+sfx, "firn.outage."+sfx
	c := startFirn(t, config.Target{Name: "jet", Kind: "nats", URL: ns.url(), Options: map[string]string{"subject": subject, "stream": stream}})
	configure(t, c, "outage-nats", "jet", "s3:ObjectCreated:*")
	acked := putMany(t, c, "outage-nats", outageObjects, 16, func(i int) {
		switch i {
		case outageObjects / 5:
			ns.stop()
		case outageObjects * 3 / 5:
			ns.start()
		}
	})
	got := map[string]int{}
	nc, err := nats.Connect(ns.url())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var cons jetstream.Consumer
	deadline := time.Now().Add(3 * time.Minute)
	for cons == nil && time.Now().Before(deadline) {
		if cons, err = js.OrderedConsumer(ctx, stream, jetstream.OrderedConsumerConfig{}); err != nil {
			cons = nil
			time.Sleep(200 * time.Millisecond)
		}
	}
	if cons == nil {
		t.Fatalf("stream %s never appeared: %v", stream, err)
	}
	for len(got) < len(acked) && time.Now().Before(deadline) {
		batch, err := cons.Fetch(1000, jetstream.FetchMaxWait(time.Second))
		if err != nil {
			continue
		}
		for m := range batch.Messages() {
			if r := parse(t, m.Data()); r != nil {
				got[r.S3.Object.Key]++
			}
		}
	}
	checkAll(t, acked, got)
}

// TestOutageRabbitMQ: RabbitMQ becomes unreachable (every connection cut
// and new ones refused) while 10,000 objects are written, then comes
// back: every event arrives in the queue.
func TestOutageRabbitMQ(t *testing.T) {
	addr := testenv.Service(t, "RabbitMQ", "127.0.0.1:5672")
	proxy := startProxy(t, addr)
	queue := "firn-outage-" + suffix()
	c := startFirn(t, config.Target{Name: "rabbit", Kind: "amqp", URL: "amqp://guest:guest@" + proxy.Addr() + "/",
		Options: map[string]string{"declare_queue": queue}})
	configure(t, c, "outage-amqp", "rabbit", "s3:ObjectCreated:*")
	acked := putMany(t, c, "outage-amqp", outageObjects, 16, func(i int) {
		switch i {
		case outageObjects / 5:
			proxy.Down()
		case outageObjects * 3 / 5:
			proxy.Up()
		}
	})
	conn, err := amqp.Dial("amqp://guest:guest@" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	defer ch.QueueDelete(queue, false, false, false)
	got := map[string]int{}
	deadline := time.Now().Add(3 * time.Minute)
	for len(got) < len(acked) && time.Now().Before(deadline) {
		d, ok, err := ch.Get(queue, true)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			time.Sleep(50 * time.Millisecond)
			continue
		}
		if r := parse(t, d.Body); r != nil {
			got[r.S3.Object.Key]++
		}
	}
	checkAll(t, acked, got)
}
