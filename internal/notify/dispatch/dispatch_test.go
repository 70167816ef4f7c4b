package dispatch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/firnhq/firn/internal/meta"
	"github.com/firnhq/firn/internal/meta/sqlite"
	"github.com/firnhq/firn/internal/notify"
	"github.com/firnhq/firn/internal/notify/target"
)

// recorder collects what the fake targets of one or more dispatchers
// (nodes) are sent.
type recorder struct {
	mu        sync.Mutex
	delivered []delivery
	attempts  []attempt
	inflight  map[string]int // Sends under way, by target name
	overlap   bool           // two Sends to one target at once
	opened    []target.Spec
	fail      map[string]func(target.Message) error // by target name
	hooks     map[string]func(context.Context, []target.Message)
}

type delivery struct {
	node, target string
	msg          target.Message
	at           time.Time
}

type attempt struct {
	node, target string
	ids          []string // of the messages given
	at           time.Time
}

func newRecorder() *recorder {
	return &recorder{inflight: map[string]int{}, fail: map[string]func(target.Message) error{},
		hooks: map[string]func(context.Context, []target.Message){}}
}

// opener returns a Config.Open for node.
func (r *recorder) opener(node string) func(context.Context, target.Spec) (target.Target, error) {
	return func(ctx context.Context, s target.Spec) (target.Target, error) {
		if err := s.Validate(); err != nil {
			return nil, err
		}
		r.mu.Lock()
		r.opened = append(r.opened, s)
		r.mu.Unlock()
		return &fakeTarget{rec: r, node: node, name: s.Name}, nil
	}
}

// setFail makes target name fail the messages fn returns an error for
// (nil: deliver everything).
func (r *recorder) setFail(name string, fn func(target.Message) error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fail[name] = fn
}

func (r *recorder) setHook(name string, fn func(context.Context, []target.Message)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.hooks[name] = fn
}

// messages returns what target name received, in order.
func (r *recorder) messages(name string) []target.Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []target.Message
	for _, d := range r.delivered {
		if d.target == name {
			out = append(out, d.msg)
		}
	}
	return out
}

func (r *recorder) deliveries() []delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.delivered)
}

func (r *recorder) attemptsOf(name string) []attempt {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []attempt
	for _, a := range r.attempts {
		if a.target == name {
			out = append(out, a)
		}
	}
	return out
}

// fakeTarget delivers to its recorder.
type fakeTarget struct {
	rec        *recorder
	node, name string
	closed     bool
}

func (f *fakeTarget) Send(ctx context.Context, msgs []target.Message) (int, error) {
	r := f.rec
	r.mu.Lock()
	if f.closed {
		r.mu.Unlock()
		return 0, target.ErrClosed
	}
	r.inflight[f.name]++
	if r.inflight[f.name] > 1 {
		r.overlap = true
	}
	if len(msgs) > 0 {
		a := attempt{node: f.node, target: f.name, at: time.Now()}
		for _, m := range msgs {
			a.ids = append(a.ids, m.ID)
		}
		r.attempts = append(r.attempts, a)
	}
	fail, hook := r.fail[f.name], r.hooks[f.name]
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		r.inflight[f.name]--
		r.mu.Unlock()
	}()
	if hook != nil {
		hook(ctx, msgs)
	}
	for i, m := range msgs {
		if err := ctx.Err(); err != nil {
			return i, err
		}
		if fail != nil {
			if err := fail(m); err != nil {
				return i, fmt.Errorf("fake %s: %w", f.name, err)
			}
		}
		r.mu.Lock()
		r.delivered = append(r.delivered, delivery{node: f.node, target: f.name, msg: m, at: time.Now()})
		r.mu.Unlock()
	}
	return len(msgs), nil
}

func (f *fakeTarget) Close() error {
	f.rec.mu.Lock()
	defer f.rec.mu.Unlock()
	f.closed = true
	return nil
}

func openStore(t *testing.T) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// newDispatcher returns a Dispatcher of st delivering to rec's fakes as
// node, with fast timings unless c sets them.
func newDispatcher(t *testing.T, st *sqlite.Store, rec *recorder, node string, c Config) *Dispatcher {
	t.Helper()
	c.Store, c.Owner, c.Open = st, node, rec.opener(node)
	if c.Region == "" {
		c.Region = "eu-west-1"
	}
	if c.Poll == 0 {
		c.Poll = 10 * time.Millisecond
	}
	if c.Reload == 0 {
		c.Reload = 50 * time.Millisecond
	}
	if c.RetryMin == 0 {
		c.RetryMin, c.RetryMax = 10*time.Millisecond, 50*time.Millisecond
	}
	d, err := New(t.Context(), c)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// start runs d until the returned stop (also a cleanup) is called; stop
// returns once Run has.
func start(t *testing.T, d *Dispatcher) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		d.Run(ctx)
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Error("Run did not return")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// spec is a valid target spec of name (a webhook: the fakes stand in for
// every kind).
func spec(name string) target.Spec {
	return target.Spec{Name: name, Kind: target.KindWebhook, URL: "http://hooks.example.com/" + name}
}

var when = time.Date(2026, 3, 4, 5, 6, 7, 891e6, time.UTC)

// event returns an ObjectCreated:Put event about key, as package object
// records it.
func event(key string) notify.Event {
	return notify.Event{Name: "ObjectCreated:Put", Time: when, Region: "eu-west-1", ConfigurationID: "cfg",
		Bucket: "photos", Key: key, Size: int64(len(key)), ETag: "0123456789abcdef0123456789abcdef",
		Principal: "AKIDEXAMPLE", SourceIP: "192.0.2.7", RequestID: "RQ" + key, HostID: "H" + key}
}

// appendEvent writes e to the outbox for targets, as one event.
func appendEvent(t *testing.T, st *sqlite.Store, e notify.Event, targets ...string) {
	t.Helper()
	p, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	entries := make([]meta.OutboxEntry, len(targets))
	for i, name := range targets {
		entries[i] = meta.OutboxEntry{Target: name, Payload: p, Time: e.Time}
	}
	if err := st.AppendOutbox(context.Background(), entries); err != nil {
		t.Fatal(err)
	}
}

// waitFor polls cond until it holds, failing t after 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func keysOf(msgs []target.Message) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = m.Key
	}
	return out
}

func statusOf(t *testing.T, d *Dispatcher, name string) Status {
	t.Helper()
	st, err := d.Status(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range st {
		if s.Name == name {
			return s
		}
	}
	return Status{}
}

var idPattern = regexp.MustCompile(`^([0-9A-F]{16})-(.+)$`)

// TestDeliverInOrder: events appended to the outbox reach their targets
// in order, as AWS's JSON with the outbox's sequencer, with IDs
// "<sequencer>-<target>"; an event fanned out to two targets has one
// sequencer; the test event is rendered as s3:TestEvent; a record that
// cannot be decoded goes to the dead letters without holding back the
// rest.
func TestDeliverInOrder(t *testing.T) {
	st := openStore(t)
	rec := newRecorder()
	d := newDispatcher(t, st, rec, "n1", Config{Targets: []target.Spec{spec("a"), spec("b")}})
	byKey := map[string]notify.Event{}
	var want []string
	add := func(i int) {
		e := event(fmt.Sprintf("dir/k%02d", i))
		byKey[e.Key] = e
		want = append(want, e.Key)
		appendEvent(t, st, e, "a", "b")
	}
	// Some events are waiting before the dispatcher starts, some come
	// while it runs.
	for i := range 10 {
		add(i)
	}
	test := notify.Event{Name: notify.TestEventName, Time: when, Region: "eu-west-1", Bucket: "photos", RequestID: "RQT", HostID: "HT"}
	appendEvent(t, st, test, "a")
	if err := st.AppendOutbox(t.Context(), []meta.OutboxEntry{{Target: "a", Payload: []byte("not json")}}); err != nil {
		t.Fatal(err)
	}
	start(t, d)
	for i := 10; i < 30; i++ {
		add(i)
		d.Notify()
	}
	waitFor(t, "30 events at b", func() bool { return len(rec.messages("b")) >= 30 })
	waitFor(t, "31 messages at a", func() bool { return len(rec.messages("a")) >= 31 })

	a, b := rec.messages("a"), rec.messages("b")
	if len(a) != 31 || len(b) != 30 {
		t.Fatalf("a got %d messages, b %d; want 31 and 30", len(a), len(b))
	}
	// a: 10 events, the test event, 20 events.
	if a[10].Event != notify.TestEventName {
		t.Fatalf("a's 11th message is %q, want the test event", a[10].Event)
	}
	if got, want := string(a[10].Body), string(notify.TestMessage("photos", "RQT", "HT", when)); got != want {
		t.Errorf("test event body:\n%s\nwant\n%s", got, want)
	}
	events := append(slices.Clone(a[:10]), a[11:]...)
	if got := strings.Join(keysOf(events), ","); got != strings.Join(want, ",") {
		t.Errorf("a's keys: %s\nwant %s", got, strings.Join(want, ","))
	}
	if got := strings.Join(keysOf(b), ","); got != strings.Join(want, ",") {
		t.Errorf("b's keys: %s\nwant %s", got, strings.Join(want, ","))
	}
	last := ""
	for _, m := range a {
		sm := idPattern.FindStringSubmatch(m.ID)
		if sm == nil || sm[2] != "a" {
			t.Fatalf("message ID %q: want <16 hex digits>-a", m.ID)
		}
		if sm[1] <= last {
			t.Errorf("sequencer %s after %s: not increasing", sm[1], last)
		}
		last = sm[1]
		if m.Event == notify.TestEventName {
			continue
		}
		e := byKey[m.Key]
		if m.Event != "ObjectCreated:Put" || m.Bucket != "photos" {
			t.Errorf("message %s: event %q bucket %q", m.ID, m.Event, m.Bucket)
		}
		if got, want := string(m.Body), string(notify.Render(e, sm[1])); got != want {
			t.Errorf("body of %s:\n%s\nwant\n%s", m.ID, got, want)
		}
		var parsed struct {
			Records []struct {
				EventName string `json:"eventName"`
				S3        struct {
					Object struct {
						Key, Sequencer string
					} `json:"object"`
				} `json:"s3"`
			}
		}
		if err := json.Unmarshal(m.Body, &parsed); err != nil || len(parsed.Records) != 1 ||
			parsed.Records[0].EventName != "ObjectCreated:Put" || parsed.Records[0].S3.Object.Sequencer != sm[1] {
			t.Errorf("body of %s: %s (%v)", m.ID, m.Body, err)
		}
	}
	// One event fanned out to a and b: one sequencer, two IDs.
	for i, m := range b {
		if !strings.HasSuffix(m.ID, "-b") || strings.TrimSuffix(m.ID, "-b") != strings.TrimSuffix(events[i].ID, "-a") {
			t.Errorf("b's message %d has ID %q, a's %q: want the same sequencer", i, m.ID, events[i].ID)
		}
	}
	// The undecodable record is a dead letter; nothing is left pending.
	waitFor(t, "empty outbox", func() bool {
		s := statusOf(t, d, "a")
		return s.Pending == 0 && s.Dead == 1
	})
	dead, err := d.Dead(t.Context(), "a", 10)
	if err != nil || len(dead) != 1 || dead[0].Attempts != 1 || dead[0].LastError == "" {
		t.Fatalf("dead letters of a: %+v, %v", dead, err)
	}
	waitFor(t, "b's outbox acknowledged", func() bool { return statusOf(t, d, "b").Pending == 0 })
	if s := statusOf(t, d, "b"); s.Dead != 0 || s.Failing != 0 || !s.Declared || s.Kind != target.KindWebhook {
		t.Errorf("status of b: %+v", s)
	}
}

// TestRetryBackoffDead: a message the target refuses is retried with
// doubling waits, holding back the target's later events; after
// MaxAttempts it becomes a dead letter and the rest flows; Requeue
// delivers it again, with the same ID, after the events written since.
func TestRetryBackoffDead(t *testing.T) {
	st := openStore(t)
	rec := newRecorder()
	const min, max, attempts = 20 * time.Millisecond, 80 * time.Millisecond, 4
	d := newDispatcher(t, st, rec, "n1", Config{Targets: []target.Spec{spec("t")}, RetryMin: min, RetryMax: max, MaxAttempts: attempts})
	var mu sync.Mutex
	refuse := true
	rec.setFail("t", func(m target.Message) error {
		mu.Lock()
		defer mu.Unlock()
		if refuse && m.Key == "k1" {
			return errors.New("broker says no")
		}
		return nil
	})
	appendEvent(t, st, event("k0"), "t")
	appendEvent(t, st, event("k1"), "t")
	appendEvent(t, st, event("k2"), "t")
	start(t, d)

	// While k1 fails, k2 waits behind it.
	waitFor(t, "a failure recorded", func() bool { return statusOf(t, d, "t").Failing == 1 })
	s := statusOf(t, d, "t")
	if s.Pending != 2 || !strings.Contains(s.LastError, "broker says no") || s.Owner != "n1" ||
		!s.LeaseUntil.After(time.Now()) || !s.Oldest.Equal(when) || s.OldestAge <= 0 {
		t.Errorf("status while failing: %+v", s)
	}
	if got := keysOf(rec.messages("t")); strings.Join(got, ",") != "k0" {
		t.Errorf("delivered while k1 fails: %v, want k0 only", got)
	}

	waitFor(t, "k1 among the dead letters", func() bool { return statusOf(t, d, "t").Dead == 1 })
	waitFor(t, "k2 delivered", func() bool { return len(rec.messages("t")) == 2 })
	if got := keysOf(rec.messages("t")); strings.Join(got, ",") != "k0,k2" {
		t.Errorf("delivered: %v, want k0,k2", got)
	}
	dead, err := d.Dead(t.Context(), "t", 10)
	if err != nil || len(dead) != 1 {
		t.Fatalf("dead letters: %+v, %v", dead, err)
	}
	dl := dead[0]
	k1ID := dl.ID
	if dl.Target != "t" || dl.Key != "k1" || dl.Bucket != "photos" || dl.Event != "ObjectCreated:Put" ||
		dl.Attempts != attempts || !strings.Contains(dl.LastError, "broker says no") || dl.Died.IsZero() || !dl.Created.Equal(when) {
		t.Errorf("dead letter: %+v", dl)
	}
	// Attempts at k1: MaxAttempts of them, the waits doubling from
	// RetryMin up to RetryMax.
	var at []time.Time
	for _, a := range rec.attemptsOf("t") {
		if slices.Contains(a.ids, k1ID) {
			at = append(at, a.at)
		}
	}
	if len(at) != attempts {
		t.Fatalf("%d attempts at k1, want %d", len(at), attempts)
	}
	wait := min
	for i := 1; i < len(at); i++ {
		// A little slack: the fake stamps its attempt just after the
		// dispatcher reads the clock.
		if gap := at[i].Sub(at[i-1]); gap < wait-2*time.Millisecond {
			t.Errorf("attempt %d came %v after the one before, want at least %v", i+1, gap, wait)
		}
		wait = wait * 2
		if wait > max {
			wait = max
		}
	}
	waitFor(t, "k2 acknowledged", func() bool { return statusOf(t, d, "t").Pending == 0 })
	if s := statusOf(t, d, "t"); s.Failing != 0 || s.Dead != 1 {
		t.Errorf("status after giving up: %+v", s)
	}

	// A later event, then the dead letter requeued: it comes after.
	appendEvent(t, st, event("k3"), "t")
	d.Notify()
	waitFor(t, "k3 delivered", func() bool { return len(rec.messages("t")) == 3 })
	mu.Lock()
	refuse = false
	mu.Unlock()
	n, err := d.Requeue(t.Context(), "t")
	if err != nil || n != 1 {
		t.Fatalf("Requeue: %d, %v", n, err)
	}
	waitFor(t, "k1 delivered", func() bool { return len(rec.messages("t")) == 4 })
	msgs := rec.messages("t")
	if got := keysOf(msgs); strings.Join(got, ",") != "k0,k2,k3,k1" {
		t.Errorf("delivered: %v, want k0,k2,k3,k1", got)
	}
	if msgs[3].ID != k1ID {
		t.Errorf("requeued k1 has ID %q, want %q as before", msgs[3].ID, k1ID)
	}
	if dead, err := d.Dead(t.Context(), "", 10); err != nil || len(dead) != 0 {
		t.Errorf("dead letters after requeue: %+v, %v", dead, err)
	}
	if n, err := d.Requeue(t.Context(), "t"); err != nil || n != 0 {
		t.Errorf("second Requeue: %d, %v", n, err)
	}
}

// TestNeverDead: a negative MaxAttempts retries for ever.
func TestNeverDead(t *testing.T) {
	st := openStore(t)
	rec := newRecorder()
	d := newDispatcher(t, st, rec, "n1", Config{Targets: []target.Spec{spec("t")}, RetryMin: time.Millisecond, RetryMax: 2 * time.Millisecond, MaxAttempts: -1})
	rec.setFail("t", func(target.Message) error { return errors.New("down") })
	appendEvent(t, st, event("k"), "t")
	start(t, d)
	waitFor(t, "many attempts", func() bool { return len(rec.attemptsOf("t")) > 15 })
	if s := statusOf(t, d, "t"); s.Dead != 0 || s.Pending != 1 || s.Failing != 1 {
		t.Errorf("status: %+v", s)
	}
}

func TestBackoffAndDefaults(t *testing.T) {
	st := openStore(t)
	d, err := New(t.Context(), Config{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	c := d.cfg
	if c.Lease != 30*time.Second || c.Poll != time.Second || c.Batch != 256 || c.RetryMin != time.Second ||
		c.RetryMax != 5*time.Minute || c.MaxAttempts != 100 || c.Reload != 10*time.Second || !strings.HasPrefix(c.Owner, "node-") {
		t.Errorf("defaults: %+v", c)
	}
	d.cfg.RetryMin, d.cfg.RetryMax = time.Second, 5*time.Second
	for n, want := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 5 * time.Second, 5 * time.Second} {
		if got := d.backoff(n); got != want {
			t.Errorf("backoff after %d failures: %v, want %v", n+1, got, want)
		}
	}
}

// TestAddRemoveList: targets added at run time are kept in the metadata
// store (shared by every dispatcher on it), listed with secrets redacted
// beside those of the configuration; names are unique, configuration
// targets cannot be removed, invalid specs are refused.
func TestAddRemoveList(t *testing.T) {
	st := openStore(t)
	rec := newRecorder()
	nats := target.Spec{Name: "cfg", Kind: target.KindNATS, URL: "nats://127.0.0.1:4222", Options: map[string]string{"subject": "firn.events"}}
	d := newDispatcher(t, st, rec, "n1", Config{Targets: []target.Spec{nats}})
	start(t, d)
	ctx := t.Context()
	hook := target.Spec{Name: "hook", Kind: target.KindWebhook, URL: "https://user:s3cr3t-pw@hooks.example.com/in?token=t0k3n&x=1",
		Options: map[string]string{"secret": "hmac-key", "header.Authorization": "Bearer abc"}, Timeout: 3 * time.Second}
	if err := d.Add(ctx, hook); err != nil {
		t.Fatal(err)
	}
	list := d.List()
	if len(list) != 2 || list[0].Name != "cfg" || !list[0].Static || list[1].Name != "hook" || list[1].Static {
		t.Fatalf("List: %+v", list)
	}
	h := list[1]
	if h.ARN != "arn:aws:sqs:eu-west-1:000000000000:hook" || list[0].ARN != "arn:aws:sqs:eu-west-1:000000000000:cfg" {
		t.Errorf("ARNs: %q, %q", h.ARN, list[0].ARN)
	}
	shown, _ := json.Marshal(list)
	for _, secret := range []string{"s3cr3t-pw", "t0k3n", "hmac-key", "Bearer abc"} {
		if strings.Contains(string(shown), secret) {
			t.Errorf("List shows secret %q: %s", secret, shown)
		}
	}
	if h.Options["secret"] != "REDACTED" || h.Options["header.Authorization"] != "REDACTED" || !strings.Contains(h.URL, "hooks.example.com") ||
		h.Kind != target.KindWebhook || h.Timeout != 3*time.Second {
		t.Errorf("listed hook: %+v", h)
	}
	// Kept in the store as given, secrets included.
	raw, err := st.GetSetting(ctx, settingName)
	if err != nil || !strings.Contains(string(raw), "s3cr3t-pw") || !strings.Contains(string(raw), `"name":"hook"`) {
		t.Errorf("stored targets: %s, %v", raw, err)
	}
	// Another node sees it.
	other := newDispatcher(t, st, newRecorder(), "n2", Config{})
	if l := other.List(); len(l) != 1 || l[0].Name != "hook" {
		t.Errorf("another node lists %+v", l)
	}

	for _, c := range []struct {
		what string
		s    target.Spec
		want error
	}{
		{"duplicate", spec("hook"), ErrTargetExists},
		{"a configuration target's name", spec("cfg"), ErrStaticTarget},
		{"kafka", target.Spec{Name: "k", Kind: "kafka", URL: "kafka://b:9092"}, ErrInvalidTarget},
		{"bad name", target.Spec{Name: "no spaces", Kind: target.KindWebhook, URL: "http://h/"}, ErrInvalidTarget},
		{"missing option", target.Spec{Name: "r", Kind: target.KindRedis, URL: "redis://h:6379"}, ErrInvalidTarget},
		{"wrong scheme", target.Spec{Name: "w", Kind: target.KindWebhook, URL: "ftp://h/"}, ErrInvalidTarget},
	} {
		if err := d.Add(ctx, c.s); !errors.Is(err, c.want) {
			t.Errorf("Add %s: %v, want %v", c.what, err, c.want)
		}
	}
	// An invalid spec's error does not quote its secrets.
	err = d.Add(ctx, target.Spec{Name: "bad", Kind: target.KindWebhook, URL: "https://u:pw-secret@h/", Options: map[string]string{"nope": "x"}})
	if !errors.Is(err, ErrInvalidTarget) || strings.Contains(err.Error(), "pw-secret") {
		t.Errorf("Add with an unknown option: %v", err)
	}
	if err := d.Remove(ctx, "cfg"); !errors.Is(err, ErrStaticTarget) {
		t.Errorf("Remove cfg: %v, want ErrStaticTarget", err)
	}
	if err := d.Remove(ctx, "nope"); !errors.Is(err, ErrNoSuchTarget) {
		t.Errorf("Remove nope: %v, want ErrNoSuchTarget", err)
	}
	if err := d.Remove(ctx, "hook"); err != nil {
		t.Fatal(err)
	}
	if l := d.List(); len(l) != 1 || l[0].Name != "cfg" {
		t.Errorf("List after Remove: %+v", l)
	}
	if err := d.Remove(ctx, "hook"); !errors.Is(err, ErrNoSuchTarget) {
		t.Errorf("second Remove: %v", err)
	}
	// The name is free again.
	if err := d.Add(ctx, spec("hook")); err != nil {
		t.Errorf("Add again: %v", err)
	}
	// An invalid target of the configuration stops New.
	if _, err := New(ctx, Config{Store: st, Targets: []target.Spec{{Name: "x", Kind: "kafka", URL: "kafka://h"}}}); err == nil {
		t.Error("New with a kafka target: no error")
	}
	if _, err := New(ctx, Config{Store: st, Targets: []target.Spec{spec("x"), spec("x")}}); err == nil {
		t.Error("New with a target declared twice: no error")
	}
}

// TestTest: Test sends s3:TestEvent now, outside the outbox.
func TestTest(t *testing.T) {
	st := openStore(t)
	rec := newRecorder()
	d := newDispatcher(t, st, rec, "n1", Config{Targets: []target.Spec{spec("t")}})
	if err := d.Test(t.Context(), "t"); err != nil {
		t.Fatal(err)
	}
	rec.mu.Lock()
	opened := slices.Clone(rec.opened)
	rec.mu.Unlock()
	if len(opened) != 1 || opened[0].Name != "t" || opened[0].URL != spec("t").URL {
		t.Errorf("opened %+v, want t's spec", opened)
	}
	msgs := rec.messages("t")
	if len(msgs) != 1 || msgs[0].Event != notify.TestEventName || !strings.HasPrefix(msgs[0].ID, "test-") {
		t.Fatalf("test message: %+v", msgs)
	}
	var body map[string]string
	if err := json.Unmarshal(msgs[0].Body, &body); err != nil || body["Event"] != "s3:TestEvent" || body["Service"] != "Amazon S3" {
		t.Errorf("test body %s: %v", msgs[0].Body, err)
	}
	rec.setFail("t", func(target.Message) error { return errors.New("unreachable") })
	if err := d.Test(t.Context(), "t"); err == nil || !strings.Contains(err.Error(), "unreachable") {
		t.Errorf("Test of a failing target: %v", err)
	}
	if err := d.Test(t.Context(), "nope"); !errors.Is(err, ErrNoSuchTarget) {
		t.Errorf("Test nope: %v", err)
	}
	if s := statusOf(t, d, "t"); s.Pending != 0 || s.Dead != 0 {
		t.Errorf("Test left outbox records: %+v", s)
	}
}

// TestResolve: the sqs, sns and lambda ARNs of a declared target name it,
// whatever their region and account; a target another node just added
// is found.
func TestResolve(t *testing.T) {
	st := openStore(t)
	d := newDispatcher(t, st, newRecorder(), "n1", Config{Targets: []target.Spec{spec("q")}})
	// Another node adds a target: the first miss reloads the targets.
	if err := newDispatcher(t, st, newRecorder(), "n2", Config{}).reg.add(t.Context(), spec("late")); err != nil {
		t.Fatal(err)
	}
	if name, ok := d.Resolve("arn:aws:sns:eu-west-1:000000000000:late"); name != "late" || !ok {
		t.Errorf("Resolve of a target added on another node: %q, %v", name, ok)
	}
	for _, c := range []struct {
		arn, name string
		ok        bool
	}{
		{"arn:aws:sqs:eu-west-1:000000000000:q", "q", true},
		{"arn:aws:sqs:us-east-1:123456789012:q", "q", true},
		{"arn:aws:sns:eu-west-1:000000000000:q", "q", true},
		{"arn:aws:lambda:eu-west-1:000000000000:function:q", "q", true},
		{"arn:aws:lambda:eu-west-1:000000000000:q", "q", true},
		{"arn:aws:lambda:eu-west-1:000000000000:function:q:prod", "q:prod", false},
		{"arn:aws:sqs:eu-west-1:000000000000:nope", "nope", false},
		{"arn:aws:sqs::000000000000:q", "", false},
		{"arn:aws:s3:::q", "", false},
		{"q", "", false},
	} {
		if name, ok := d.Resolve(c.arn); name != c.name || ok != c.ok {
			t.Errorf("Resolve(%s) = %q, %v; want %q, %v", c.arn, name, ok, c.name, c.ok)
		}
	}
}

// TestUndeclaredTarget: events for a name no target has (removed, or not
// declared yet) stay in the outbox, shown as not declared, and are
// delivered once a target of that name is declared.
func TestUndeclaredTarget(t *testing.T) {
	st := openStore(t)
	rec := newRecorder()
	d := newDispatcher(t, st, rec, "n1", Config{})
	start(t, d)
	ctx := t.Context()
	if err := d.Add(ctx, spec("tmp")); err != nil {
		t.Fatal(err)
	}
	if err := d.Remove(ctx, "tmp"); err != nil {
		t.Fatal(err)
	}
	appendEvent(t, st, event("k1"), "tmp")
	appendEvent(t, st, event("k2"), "tmp")
	appendEvent(t, st, event("k3"), "never")
	d.Notify()
	time.Sleep(100 * time.Millisecond) // a few polls and a reload
	if n := len(rec.messages("tmp")); n != 0 {
		t.Fatalf("%d events delivered to a removed target", n)
	}
	all, err := d.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 || all[0].Name != "never" || all[1].Name != "tmp" {
		t.Fatalf("status: %+v", all)
	}
	for _, s := range all {
		if s.Declared || s.Kind != "" || s.Oldest.IsZero() || s.Pending == 0 {
			t.Errorf("status of %s: %+v", s.Name, s)
		}
	}
	if all[1].Pending != 2 {
		t.Errorf("tmp pending %d, want 2", all[1].Pending)
	}
	if err := d.Add(ctx, spec("tmp")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "tmp's events", func() bool { return len(rec.messages("tmp")) == 2 })
	if got := keysOf(rec.messages("tmp")); strings.Join(got, ",") != "k1,k2" {
		t.Errorf("delivered %v", got)
	}
	waitFor(t, "tmp's events acknowledged", func() bool { s := statusOf(t, d, "tmp"); return s.Declared && s.Pending == 0 })
}

// TestReloadPicksUpTargets: a target another node (or the admin command)
// adds is delivered by a running dispatcher after its next reload, and
// one it removes stops being delivered.
func TestReloadPicksUpTargets(t *testing.T) {
	st := openStore(t)
	rec := newRecorder()
	d := newDispatcher(t, st, rec, "n1", Config{})
	start(t, d)
	admin := newDispatcher(t, st, newRecorder(), "admin", Config{})
	if err := admin.reg.add(t.Context(), spec("x")); err != nil {
		t.Fatal(err)
	}
	appendEvent(t, st, event("k1"), "x")
	waitFor(t, "x's event", func() bool { return len(rec.messages("x")) == 1 })
	if err := admin.reg.remove(t.Context(), "x"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(150 * time.Millisecond) // reloads every 50 ms
	appendEvent(t, st, event("k2"), "x")
	d.Notify()
	time.Sleep(100 * time.Millisecond)
	if n := len(rec.messages("x")); n != 1 {
		t.Errorf("%d events delivered to x after its removal, want 1", n)
	}
}

// TestTwoNodes: two dispatchers on one store deliver a target one at a
// time: the lease holder alone while it runs, the other once its lease
// runs out after it stops. No event is lost.
func TestTwoNodes(t *testing.T) {
	st := openStore(t)
	rec := newRecorder()
	const lease = 200 * time.Millisecond
	targets := []target.Spec{spec("t")}
	d1 := newDispatcher(t, st, rec, "n1", Config{Targets: targets, Lease: lease})
	d2 := newDispatcher(t, st, rec, "n2", Config{Targets: targets, Lease: lease})
	stops := map[string]func(){"n1": start(t, d1), "n2": start(t, d2)}
	var ids []string
	put := func(from, to int) {
		for i := from; i < to; i++ {
			appendEvent(t, st, event(fmt.Sprintf("k%03d", i)), "t")
			d1.Notify()
			d2.Notify()
			if i%10 == 9 {
				time.Sleep(20 * time.Millisecond)
			}
		}
	}
	put(0, 60)
	waitFor(t, "60 events", func() bool { return len(rec.messages("t")) >= 60 })
	first := rec.deliveries()
	holder := first[0].node
	for _, dl := range first {
		if dl.node != holder {
			t.Fatalf("events delivered by %s and %s while both run", holder, dl.node)
		}
	}
	if got := keysOf(rec.messages("t")); len(got) != 60 || !slices.IsSorted(got) {
		t.Fatalf("delivered %d events, in order: %v", len(got), slices.IsSorted(got))
	}
	for _, m := range rec.messages("t") {
		ids = append(ids, m.ID)
	}
	stops[holder]()
	stopped := time.Now()
	next := map[string]string{"n1": "n2", "n2": "n1"}[holder]
	survivor := map[string]*Dispatcher{"n1": d1, "n2": d2}[next]
	s := statusOf(t, survivor, "t")
	if s.Owner != holder {
		t.Fatalf("lease of t after %s stopped: %+v", holder, s)
	}
	leaseEnd := s.LeaseUntil
	put(60, 90)
	waitFor(t, "90 events", func() bool {
		seen := map[string]bool{}
		for _, m := range rec.messages("t") {
			seen[m.Key] = true
		}
		return len(seen) == 90
	})
	var after []delivery
	for _, dl := range rec.deliveries()[len(first):] {
		after = append(after, dl)
		if dl.node != next {
			t.Errorf("%s delivered %s after stopping", dl.node, dl.msg.Key)
		}
		if dl.at.Before(leaseEnd) {
			t.Errorf("%s delivered %s at %v, before %s's lease ended at %v", dl.node, dl.msg.Key, dl.at, holder, leaseEnd)
		}
	}
	t.Logf("%s took over %v after %s stopped", next, after[0].at.Sub(stopped).Round(time.Millisecond), holder)
	count := map[string]int{}
	for _, m := range rec.messages("t") {
		count[m.ID]++
	}
	for id, n := range count {
		if n > 1 {
			t.Logf("event %s delivered %d times", id, n)
		}
	}
	if len(count) != 90 {
		t.Errorf("%d distinct events delivered, want 90", len(count))
	}
	rec.mu.Lock()
	overlap := rec.overlap
	rec.mu.Unlock()
	if overlap {
		t.Error("two Sends to t at once")
	}
	waitFor(t, "the outbox acknowledged", func() bool { return statusOf(t, survivor, "t").Pending == 0 })
	if s := statusOf(t, survivor, "t"); s.Owner != next {
		t.Errorf("status at the end: %+v", s)
	}
}

// TestAddOutlivesItsContext: a target added with a context that ends
// right after (an admin API request's) is delivered by the running
// dispatcher.
func TestAddOutlivesItsContext(t *testing.T) {
	st := openStore(t)
	rec := newRecorder()
	d := newDispatcher(t, st, rec, "n1", Config{})
	start(t, d)
	ctx, cancel := context.WithCancel(t.Context())
	if err := d.Add(ctx, spec("late")); err != nil {
		t.Fatal(err)
	}
	cancel() // the request is over
	appendEvent(t, st, event("k1"), "late")
	d.Notify()
	deadline := time.Now().Add(3 * time.Second) // 60 reloads
	for len(rec.messages("late")) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the event of a target added with a context since ended is never delivered")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestRemoveWhileWriting: removing a target whose delivery is under way
// while an object write's EventFunc calls Notify (as package object's
// does, inside the store's write transaction) completes.
func TestRemoveWhileWriting(t *testing.T) {
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	rec := newRecorder()
	d := newDispatcher(t, st, rec, "n1", Config{})
	ctx, cancel := context.WithCancel(context.Background())
	if err := st.CreateBucket(ctx, meta.Bucket{Name: "photos", Created: when}); err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(context.Background())
	defer stop()
	go d.Run(runCtx)
	// Add starts the target's loop in Run's context.
	if err := d.Add(ctx, spec("slow")); err != nil {
		t.Fatal(err)
	}
	entered, inTx := make(chan struct{}), make(chan struct{})
	var once sync.Once
	rec.setHook("slow", func(sctx context.Context, _ []target.Message) {
		once.Do(func() {
			close(entered)
			<-sctx.Done() // Remove cancels the loop, holding the dispatcher's lock
			go func() {
				wctx := meta.WithEvents(context.Background(), func(old, new *meta.Object) ([]meta.OutboxEntry, error) {
					close(inTx)
					d.Notify()
					return nil, nil
				})
				st.PutObject(wctx, &meta.Object{Bucket: "photos", Key: "k", VersionID: meta.NullVersion, Size: 1, ETag: "e",
					LastModified: when, StorageClass: "STANDARD", Inline: []byte("x")}, nil)
			}()
			<-inTx // the write is in its transaction when the Send fails
		})
	})
	appendEvent(t, st, event("k1"), "slow")
	select {
	case <-entered:
	case <-time.After(10 * time.Second):
		t.Fatal("the event was never sent")
	}
	done := make(chan error, 1)
	go func() { done <- d.Remove(ctx, "slow") }()
	select {
	case err := <-done:
		if err != nil {
			t.Error(err)
		}
	case <-time.After(5 * time.Second):
		// Deadlocked: leave the store open (closing it would wait for
		// the stuck writer).
		t.Fatal("Remove deadlocked: sync waits for the loop, the loop's AckOutbox for the writer, the writer's EventFunc for Notify's lock")
	}
	cancel()
	st.Close()
}

// TestAddWhileWriting: adding a target while an object write's EventFunc
// resolves ARNs (as package object's does, inside the store's write
// transaction) completes.
func TestAddWhileWriting(t *testing.T) {
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	d := newDispatcher(t, st, newRecorder(), "n1", Config{Targets: []target.Spec{spec("t")}})
	ctx, cancel := context.WithCancel(context.Background())
	if err := st.CreateBucket(ctx, meta.Bucket{Name: "photos", Created: when}); err != nil {
		t.Fatal(err)
	}
	inTx, gate := make(chan struct{}), make(chan struct{})
	wrote := make(chan error, 1)
	go func() {
		wctx := meta.WithEvents(ctx, func(old, new *meta.Object) ([]meta.OutboxEntry, error) {
			close(inTx)
			<-gate
			name, ok := d.Resolve("arn:aws:sqs:eu-west-1:000000000000:t")
			if !ok {
				return nil, errors.New("t not resolved")
			}
			return []meta.OutboxEntry{{Target: name, Payload: []byte("{}")}}, nil
		})
		_, err := st.PutObject(wctx, &meta.Object{Bucket: "photos", Key: "k", VersionID: meta.NullVersion, Size: 1, ETag: "e",
			LastModified: when, StorageClass: "STANDARD", Inline: []byte("x")}, nil)
		wrote <- err
	}()
	<-inTx
	added := make(chan error, 1)
	go func() { added <- d.Add(ctx, spec("x")) }()
	time.Sleep(50 * time.Millisecond) // Add waits for the writer
	close(gate)
	for _, c := range []struct {
		what string
		ch   chan error
	}{{"the write", wrote}, {"Add", added}} {
		select {
		case err := <-c.ch:
			if err != nil {
				t.Errorf("%s: %v", c.what, err)
			}
		case <-time.After(5 * time.Second):
			// Deadlocked: leave the store open (closing it would wait
			// for the stuck writer).
			t.Fatalf("%s deadlocked: the registry's lock is held across the store write that waits for the writer, whose EventFunc waits for that lock in Resolve", c.what)
		}
	}
	cancel()
	st.Close()
}
