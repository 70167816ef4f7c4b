package target

import (
	"bytes"
	"context"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// natsJS connects a test client to NATS, skipping when it is absent.
func natsJS(t *testing.T) (string, jetstream.JetStream) {
	t.Helper()
	addr := serviceAddr("NATS", "127.0.0.1:4222")
	needService(t, "NATS", addr)
	nc, err := nats.Connect("nats://"+addr, nats.Timeout(2*time.Second))
	if err != nil {
		t.Skipf("NATS not reachable at %s: %v", addr, err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if _, err := js.AccountInfo(ctx); err != nil {
		t.Skipf("NATS at %s has no JetStream: %v", addr, err)
	}
	return addr, js
}

func deleteStream(t *testing.T, js jetstream.JetStream, name string) {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = js.DeleteStream(ctx, name)
	})
}

func TestNATSSend(t *testing.T) {
	addr, js := natsJS(t)
	sfx := suffix(t)
	stream, subject := "FIRN_TEST_"+sfx, "firn.test."+sfx
	deleteStream(t, js, stream)
	tg := openTarget(t, Spec{Name: "nats", Kind: KindNATS, URL: "nats://" + addr, Timeout: 5 * time.Second,
		Options: map[string]string{"subject": subject, "stream": stream}})
	msgs := testMsgs("nats-"+sfx, 6)
	mustSend(t, tg, msgs)
	// The same messages again: JetStream drops them as duplicates.
	mustSend(t, tg, msgs)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := js.Stream(ctx, stream)
	if err != nil {
		t.Fatal(err)
	}
	info := s.CachedInfo()
	if info.State.Msgs != uint64(len(msgs)) {
		t.Errorf("stream holds %d messages, want %d", info.State.Msgs, len(msgs))
	}
	if info.Config.Storage != jetstream.FileStorage {
		t.Errorf("storage %v, want file", info.Config.Storage)
	}
	cons, err := js.OrderedConsumer(ctx, stream, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	batch, err := cons.Fetch(len(msgs), jetstream.FetchMaxWait(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	i := 0
	for m := range batch.Messages() {
		if i >= len(msgs) {
			t.Fatalf("extra message %q", m.Data())
		}
		if id := m.Headers().Get("Nats-Msg-Id"); id != msgs[i].ID {
			t.Errorf("message %d: Nats-Msg-Id %q, want %q", i, id, msgs[i].ID)
		}
		if ev := m.Headers().Get("Firn-Event"); ev != msgs[i].Event {
			t.Errorf("message %d: Firn-Event %q", i, ev)
		}
		if !bytes.Equal(m.Data(), msgs[i].Body) || m.Subject() != subject {
			t.Errorf("message %d: %s %q, want %s %q", i, m.Subject(), m.Data(), subject, msgs[i].Body)
		}
		i++
	}
	if batch.Error() != nil || i != len(msgs) {
		t.Fatalf("fetched %d messages (%v), want %d", i, batch.Error(), len(msgs))
	}
}

func TestNATSAddsSubjectToStream(t *testing.T) {
	addr, js := natsJS(t)
	sfx := suffix(t)
	stream := "FIRN_TEST_" + sfx
	deleteStream(t, js, stream)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: stream, Subjects: []string{"firn.other." + sfx}, Storage: jetstream.MemoryStorage}); err != nil {
		t.Fatal(err)
	}
	subject := "firn.test." + sfx
	tg := openTarget(t, Spec{Name: "nats", Kind: KindNATS, URL: "nats://" + addr, Options: map[string]string{"subject": subject, "stream": stream}})
	mustSend(t, tg, testMsgs("add-"+sfx, 2))
	s, err := js.Stream(ctx, stream)
	if err != nil {
		t.Fatal(err)
	}
	subs := s.CachedInfo().Config.Subjects
	if !slices.Contains(subs, subject) || !slices.Contains(subs, "firn.other."+sfx) || s.CachedInfo().State.Msgs != 2 {
		t.Errorf("stream subjects %v, %d messages", subs, s.CachedInfo().State.Msgs)
	}
}

func TestNATSNoStreamIsError(t *testing.T) {
	addr, _ := natsJS(t)
	tg := openTarget(t, Spec{Name: "nats", Kind: KindNATS, URL: "nats://" + addr, Timeout: 5 * time.Second,
		Options: map[string]string{"subject": "firn.nostream." + suffix(t)}})
	n, err := tg.Send(context.Background(), testMsgs("none", 3))
	if err == nil || n != 0 {
		t.Fatalf("Send without a stream = %d, %v; want 0 and an error", n, err)
	}
	t.Logf("no stream: %v", err)
}

func TestNATSReconnect(t *testing.T) {
	addr, js := natsJS(t)
	p := newProxy(t, addr)
	sfx := suffix(t)
	stream := "FIRN_TEST_" + sfx
	deleteStream(t, js, stream)
	tg := openTarget(t, Spec{Name: "nats", Kind: KindNATS, URL: "nats://" + p.Addr(), Timeout: 3 * time.Second,
		Options: map[string]string{"subject": "firn.test." + sfx, "stream": stream}})
	checkReconnect(t, tg, p)
}
