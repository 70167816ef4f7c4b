package target

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// amqpChannel connects a test client to RabbitMQ, skipping when it is
// absent.
func amqpChannel(t *testing.T) (string, *amqp.Channel) {
	t.Helper()
	addr := serviceAddr("RABBITMQ", "127.0.0.1:5672")
	needService(t, "RabbitMQ", addr)
	conn, err := amqp.DialConfig("amqp://guest:guest@"+addr+"/", amqp.Config{Dial: amqp.DefaultDial(3 * time.Second)})
	if err != nil {
		t.Skipf("RabbitMQ not reachable at %s: %v", addr, err)
	}
	t.Cleanup(func() { conn.Close() })
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	return addr, ch
}

// getAll takes n messages from queue, failing t after 5 s.
func getAll(t *testing.T, ch *amqp.Channel, queue string, n int) []amqp.Delivery {
	t.Helper()
	var out []amqp.Delivery
	deadline := time.Now().Add(5 * time.Second)
	for len(out) < n && time.Now().Before(deadline) {
		d, ok, err := ch.Get(queue, true)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			time.Sleep(20 * time.Millisecond)
			continue
		}
		out = append(out, d)
	}
	if len(out) != n {
		t.Fatalf("got %d messages from %s, want %d", len(out), queue, n)
	}
	return out
}

func checkDeliveries(t *testing.T, ds []amqp.Delivery, msgs []Message, key string) {
	t.Helper()
	for i, d := range ds {
		m := msgs[i]
		if d.MessageId != m.ID || !bytes.Equal(d.Body, m.Body) {
			t.Errorf("message %d: id %q body %q; want %q %q", i, d.MessageId, d.Body, m.ID, m.Body)
		}
		if d.ContentType != "application/json" || d.DeliveryMode != amqp.Persistent || d.Type != m.Event {
			t.Errorf("message %d: content type %q, delivery mode %d, type %q", i, d.ContentType, d.DeliveryMode, d.Type)
		}
		if d.RoutingKey != key {
			t.Errorf("message %d: routing key %q, want %q", i, d.RoutingKey, key)
		}
	}
}

func TestAMQPDefaultExchange(t *testing.T) {
	addr, ch := amqpChannel(t)
	queue := "firn-test-" + suffix(t)
	t.Cleanup(func() { _, _ = ch.QueueDelete(queue, false, false, false) })
	tg := openTarget(t, Spec{Name: "rabbit", Kind: KindAMQP, URL: "amqp://guest:guest@" + addr + "/",
		Options: map[string]string{"declare_queue": queue}})
	msgs := testMsgs("amqp-"+suffix(t), 6)
	mustSend(t, tg, msgs)
	checkDeliveries(t, getAll(t, ch, queue, len(msgs)), msgs, queue)
}

func TestAMQPExchange(t *testing.T) {
	addr, ch := amqpChannel(t)
	sfx := suffix(t)
	exchange, queue := "firn-test-x-"+sfx, "firn-test-q-"+sfx
	t.Cleanup(func() {
		_, _ = ch.QueueDelete(queue, false, false, false)
		_ = ch.ExchangeDelete(exchange, false, false)
	})
	tg := openTarget(t, Spec{Name: "rabbit", Kind: KindAMQP, URL: "amqp://guest:guest@" + addr + "/",
		Options: map[string]string{"exchange": exchange, "declare_queue": queue}})
	msgs := testMsgs("amqpx-"+sfx, 4)
	mustSend(t, tg, msgs)
	checkDeliveries(t, getAll(t, ch, queue, len(msgs)), msgs, "ObjectCreated:Put")
}

func TestAMQPUnroutableIsError(t *testing.T) {
	addr, _ := amqpChannel(t)
	tg := openTarget(t, Spec{Name: "rabbit", Kind: KindAMQP, URL: "amqp://guest:guest@" + addr + "/", Timeout: 5 * time.Second,
		Options: map[string]string{"routing_key": "firn-nowhere-" + suffix(t)}})
	n, err := tg.Send(context.Background(), testMsgs("lost", 3))
	if err == nil || n != 0 || !strings.Contains(err.Error(), "unroutable") {
		t.Fatalf("Send to no queue = %d, %v; want 0 and an unroutable error", n, err)
	}
	// Without mandatory the broker accepts and drops them.
	tg2 := openTarget(t, Spec{Name: "rabbit", Kind: KindAMQP, URL: "amqp://guest:guest@" + addr + "/",
		Options: map[string]string{"routing_key": "firn-nowhere-" + suffix(t), "mandatory": "false"}})
	mustSend(t, tg2, testMsgs("dropped", 2))
}

func TestAMQPErrorsHidePassword(t *testing.T) {
	addr, _ := amqpChannel(t)
	tg := openTarget(t, Spec{Name: "rabbit", Kind: KindAMQP, URL: "amqp://guest:Wr0ngPassw0rd@" + addr + "/", Timeout: 5 * time.Second,
		Options: map[string]string{"declare_queue": "firn-test-never"}})
	n, err := tg.Send(context.Background(), testMsgs("pw", 1))
	if err == nil || n != 0 {
		t.Fatalf("Send with a wrong password = %d, %v", n, err)
	}
	t.Logf("wrong password: %v", err)
	if strings.Contains(err.Error(), "Wr0ngPassw0rd") {
		t.Fatalf("error holds the password: %v", err)
	}
}

func TestAMQPReconnect(t *testing.T) {
	addr, ch := amqpChannel(t)
	p := newProxy(t, addr)
	queue := "firn-test-" + suffix(t)
	t.Cleanup(func() { _, _ = ch.QueueDelete(queue, false, false, false) })
	tg := openTarget(t, Spec{Name: "rabbit", Kind: KindAMQP, URL: "amqp://guest:guest@" + p.Addr() + "/", Timeout: 3 * time.Second,
		Options: map[string]string{"declare_queue": queue}})
	checkReconnect(t, tg, p)
	getAll(t, ch, queue, 4)
}
