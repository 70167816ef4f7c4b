// Package dispatch moves events from the transactional outbox (package
// meta) to their notification targets (package notify/target): one
// delivery loop per target, holding the target's lease in the metadata
// store so that one node at a time delivers it, in outbox order, at
// least once. A failed delivery is retried with exponential backoff and
// holds back the target's later events, so each object's events arrive
// in order; after MaxAttempts the event moves to the dead letters.
//
// The Dispatcher is also the registry of targets: those of the server
// configuration and those added at run time (kept in the metadata
// store, shared by every node), and it implements what the object
// service needs of targets (object.NotificationTargets).
package dispatch

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/firnhq/firn/internal/clock"
	"github.com/firnhq/firn/internal/meta"
	"github.com/firnhq/firn/internal/notify"
	"github.com/firnhq/firn/internal/notify/target"
)

// Store is what the dispatcher needs of the metadata store.
type Store interface {
	meta.OutboxStore
	meta.SettingStore
}

// Config assembles a Dispatcher.
type Config struct {
	Store  Store
	Region string
	// Targets are the targets of the server configuration.
	Targets []target.Spec
	Clock   clock.Clock
	Log     *slog.Logger // nil: discard
	// Owner names this node in leases; "" picks a random name.
	Owner string
	// Lease is how long a node holds a target (default 30 s); Poll how
	// often an idle target's outbox is read (default 1 s; Notify wakes
	// the loops sooner); Batch how many events one Send carries
	// (default 256).
	Lease time.Duration
	Poll  time.Duration
	Batch int
	// RetryMin and RetryMax bound the backoff between attempts
	// (defaults 1 s and 5 min); MaxAttempts moves an event to the dead
	// letters after that many failed attempts (default 100; negative:
	// never).
	RetryMin, RetryMax time.Duration
	MaxAttempts        int
	// Reload is how often targets added or removed on other nodes are
	// noticed (default 10 s).
	Reload time.Duration
	// AckEvery and AckMax bound how long, and for how many records, a
	// loop keeps deliveries before acknowledging them in the store
	// (defaults 200 ms and 1,000): a crash delivers those again.
	AckEvery time.Duration
	AckMax   int
	// Linger is how long a loop woken by Notify waits before reading the
	// outbox, so that the events of concurrent writes travel (and are
	// acknowledged in the store) together rather than one write each
	// (default 10 ms; negative: none).
	Linger time.Duration
	// Open opens a target (default target.Open); tests replace it.
	Open func(ctx context.Context, s target.Spec) (target.Target, error)
}

// Dispatcher delivers the outbox. It is safe for concurrent use.
type Dispatcher struct {
	cfg Config
	reg *registry
	log *slog.Logger

	syncMu   sync.Mutex       // serialises sync
	mu       sync.Mutex       // guards loops, reloaded, runCtx; never held while waiting
	loops    map[string]*loop // running delivery loops by target name
	reloaded time.Time        // when Resolve last reloaded the targets
	runCtx   context.Context  // Run's context while it runs
	wg       sync.WaitGroup
}

// loop is one target's delivery loop.
type loop struct {
	spec   target.Spec
	wake   chan struct{}
	cancel context.CancelFunc
	done   chan struct{}
}

// New returns a Dispatcher; Run starts its delivery.
func New(ctx context.Context, c Config) (*Dispatcher, error) {
	if c.Clock == nil {
		c.Clock = clock.Real{}
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	if c.Owner == "" {
		b := make([]byte, 6)
		rand.Read(b)
		c.Owner = "node-" + hex.EncodeToString(b)
	}
	if c.Lease <= 0 {
		c.Lease = 30 * time.Second
	}
	if c.Poll <= 0 {
		c.Poll = time.Second
	}
	if c.Batch <= 0 {
		c.Batch = 256
	}
	if c.RetryMin <= 0 {
		c.RetryMin = time.Second
	}
	if c.RetryMax <= 0 {
		c.RetryMax = max(5*time.Minute, c.RetryMin)
	}
	if c.RetryMax < c.RetryMin {
		c.RetryMax = c.RetryMin
	}
	if c.MaxAttempts == 0 {
		c.MaxAttempts = 100
	}
	if c.Reload <= 0 {
		c.Reload = 10 * time.Second
	}
	if c.AckEvery <= 0 {
		c.AckEvery = 200 * time.Millisecond
	}
	if c.AckMax <= 0 {
		c.AckMax = 1000
	}
	if c.Linger == 0 {
		c.Linger = 10 * time.Millisecond
	}
	if c.Open == nil {
		c.Open = target.Open
	}
	reg, err := newRegistry(c.Store, c.Region, c.Targets)
	if err != nil {
		return nil, err
	}
	if err := reg.load(ctx); err != nil {
		return nil, err
	}
	return &Dispatcher{cfg: c, reg: reg, log: c.Log, loops: map[string]*loop{}}, nil
}

// Resolve returns the name of the target arn names and whether it is
// declared (object.NotificationTargets). A name not known is looked up
// again in the store (at most once a second), so a target another node
// or the admin command just added is found.
func (d *Dispatcher) Resolve(arn string) (string, bool) {
	name, ok := d.reg.resolve(arn)
	if ok || name == "" {
		return name, ok
	}
	d.mu.Lock()
	stale := time.Since(d.reloaded) > time.Second
	if stale {
		d.reloaded = time.Now()
	}
	d.mu.Unlock()
	if stale && d.reg.load(context.Background()) == nil {
		name, ok = d.reg.resolve(arn)
		if ok {
			go d.resync() // start delivering to the target found
		}
		return name, ok
	}
	return name, false
}

// Notify wakes every delivery loop: events were written.
func (d *Dispatcher) Notify() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, l := range d.loops {
		select {
		case l.wake <- struct{}{}:
		default:
		}
	}
}

// Run delivers until ctx ends, then waits for the loops to stop.
func (d *Dispatcher) Run(ctx context.Context) {
	d.mu.Lock()
	d.runCtx = ctx
	d.mu.Unlock()
	d.sync(ctx)
	t := time.NewTicker(d.cfg.Reload)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			d.mu.Lock()
			for _, l := range d.loops {
				l.cancel()
			}
			d.mu.Unlock()
			d.wg.Wait()
			return
		case <-t.C:
			if err := d.reg.load(ctx); err != nil && ctx.Err() == nil {
				d.log.Warn("reload notification targets", "err", err)
			}
			d.sync(ctx)
		}
	}
}

// resync syncs the loops of a running dispatcher with the registry
// (nothing when it does not run: loops live in Run's context).
func (d *Dispatcher) resync() {
	d.mu.Lock()
	run := d.runCtx
	d.mu.Unlock()
	if run != nil {
		d.sync(run)
	}
}

// sync starts a loop for every declared target and stops those of
// targets removed or changed.
func (d *Dispatcher) sync(ctx context.Context) {
	specs, _ := d.reg.all()
	want := map[string]target.Spec{}
	for _, s := range specs {
		want[s.Name] = s
	}
	d.syncMu.Lock()
	defer d.syncMu.Unlock()
	d.mu.Lock()
	if ctx.Err() != nil {
		d.mu.Unlock()
		return
	}
	var stopped []*loop
	for name, l := range d.loops {
		if s, ok := want[name]; !ok || !sameSpec(s, l.spec) {
			l.cancel()
			stopped = append(stopped, l)
			delete(d.loops, name)
		}
	}
	d.mu.Unlock()
	// Wait without d.mu: a stopping loop may be acknowledging, which
	// needs the store's writer, whose transactions call Notify.
	for _, l := range stopped {
		<-l.done
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if ctx.Err() != nil {
		return
	}
	for name, s := range want {
		if _, ok := d.loops[name]; ok {
			continue
		}
		lctx, cancel := context.WithCancel(ctx)
		l := &loop{spec: s, wake: make(chan struct{}, 1), cancel: cancel, done: make(chan struct{})}
		d.loops[name] = l
		d.wg.Add(1)
		go func() {
			defer d.wg.Done()
			defer close(l.done)
			d.deliver(lctx, l)
		}()
	}
}

func sameSpec(a, b target.Spec) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

// pending holds a target's delivered records not yet acknowledged in
// the store. Acknowledging is a write transaction, so a loop gathers
// them for up to AckEvery (or AckMax records) and claims past them
// meanwhile; a crash before the acknowledgement delivers them again,
// which at-least-once allows.
type pending struct {
	ids   []int64
	since time.Time // when the oldest was delivered; zero: none
	last  int64     // the highest id delivered: claims start after it
}

// deliver runs one target's loop: claim, send, acknowledge; wait when
// there is nothing to do or the target failed.
func (d *Dispatcher) deliver(ctx context.Context, l *loop) {
	name := l.spec.Name
	var tgt target.Target
	var p pending
	defer func() {
		d.ack(ctx, name, &p, nil)
		if tgt != nil {
			tgt.Close()
		}
	}()
	woken := false
	for ctx.Err() == nil {
		wait := d.cfg.Poll
		now := d.cfg.Clock.Now().UTC()
		recs, held, err := d.cfg.Store.ClaimOutbox(ctx, name, d.cfg.Owner, now, d.cfg.Lease, p.last, d.cfg.Batch)
		switch {
		case err != nil:
			if ctx.Err() == nil {
				d.log.Warn("read notification outbox", "target", name, "err", err)
			}
		case !held:
			// Another node delivers this target (and will deliver again
			// what this one did not acknowledge).
			p = pending{}
		case len(recs) == 0 && woken:
			// Woken by a write whose commit may not be visible yet:
			// look again soon rather than at the next poll.
			wait = min(wait, 50*time.Millisecond)
		case len(recs) > 0:
			if tgt == nil {
				if tgt, err = d.cfg.Open(ctx, l.spec); err != nil {
					d.log.Warn("open notification target", "target", name, "err", err)
					wait = d.cfg.RetryMin
					break
				}
			}
			delivered, failed, retryIn := d.send(ctx, tgt, name, recs)
			if len(delivered) > 0 {
				if p.since.IsZero() {
					p.since = time.Now()
				}
				p.ids = append(p.ids, delivered...)
				p.last = delivered[len(delivered)-1]
			}
			if len(failed) > 0 || len(p.ids) >= d.cfg.AckMax || time.Since(p.since) >= d.cfg.AckEvery {
				if !d.ack(ctx, name, &p, failed) {
					wait = d.cfg.RetryMin
					break
				}
			}
			if len(failed) == 0 {
				continue // more may be waiting
			}
			if retryIn > 0 {
				wait = retryIn
			}
		}
		if !p.since.IsZero() {
			wait = min(wait, max(0, d.cfg.AckEvery-time.Since(p.since)))
		}
		woken = false
		select {
		case <-ctx.Done():
		case <-l.wake:
			woken = true
			if d.cfg.Linger > 0 {
				select {
				case <-ctx.Done():
				case <-time.After(d.cfg.Linger):
				}
			}
		case <-time.After(wait):
		}
		if !p.since.IsZero() && time.Since(p.since) >= d.cfg.AckEvery {
			d.ack(ctx, name, &p, nil)
		}
	}
}

// ack records p's deliveries and failed in the store and empties p; it
// reports whether that worked. On an error the deliveries will be
// claimed (and delivered) again.
func (d *Dispatcher) ack(ctx context.Context, name string, p *pending, failed []meta.OutboxFailure) bool {
	if len(p.ids) == 0 && len(failed) == 0 {
		return true
	}
	err := d.cfg.Store.AckOutbox(context.WithoutCancel(ctx), name, d.cfg.Owner, p.ids, failed, d.cfg.Clock.Now().UTC())
	if err != nil {
		if !errors.Is(err, meta.ErrLeaseLost) {
			d.log.Warn("acknowledge notifications", "target", name, "err", err)
		}
		*p = pending{}
		return false
	}
	p.ids, p.since = p.ids[:0], time.Time{}
	return true
}

// send delivers recs and returns the ids delivered, in order, and the
// failures to record: records that cannot be rendered (dead at once),
// and the first record the target refused, with when to try it again
// (retryIn; zero when it is given up on).
func (d *Dispatcher) send(ctx context.Context, tgt target.Target, name string, recs []meta.OutboxRecord) (delivered []int64, failed []meta.OutboxFailure, retryIn time.Duration) {
	msgs := make([]target.Message, 0, len(recs))
	now := d.cfg.Clock.Now().UTC()
	var sendable []meta.OutboxRecord
	for _, r := range recs {
		m, err := message(r)
		if err != nil {
			// A record that cannot be rendered never will be.
			failed = append(failed, meta.OutboxFailure{ID: r.ID, Error: err.Error(), Dead: true})
			continue
		}
		msgs = append(msgs, m)
		sendable = append(sendable, r)
	}
	// Each target bounds its own Send; this only guards against one
	// that hangs.
	sctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	n, err := tgt.Send(sctx, msgs)
	for _, r := range sendable[:n] {
		delivered = append(delivered, r.ID)
	}
	if err != nil && n < len(sendable) {
		r := sendable[n]
		f := meta.OutboxFailure{ID: r.ID, Error: err.Error()}
		if d.cfg.MaxAttempts > 0 && r.Attempts+1 >= d.cfg.MaxAttempts {
			f.Dead = true
			d.log.Error("notification given up", "target", name, "event", r.Seq, "attempts", r.Attempts+1, "err", err)
		} else {
			retryIn = d.backoff(r.Attempts)
			f.NextTry = now.Add(retryIn)
			d.log.Warn("notification delivery failed", "target", name, "attempts", r.Attempts+1, "retry_in", retryIn, "err", err)
		}
		failed = append(failed, f)
	}
	return delivered, failed, retryIn
}

// backoff is the wait before attempt n+2 after n+1 failures.
func (d *Dispatcher) backoff(attempts int) time.Duration {
	w := d.cfg.RetryMin
	for range attempts {
		w *= 2
		if w >= d.cfg.RetryMax {
			return d.cfg.RetryMax
		}
	}
	return w
}

// message renders an outbox record as the message its target receives.
func message(r meta.OutboxRecord) (target.Message, error) {
	var e notify.Event
	if err := json.Unmarshal(r.Payload, &e); err != nil {
		return target.Message{}, fmt.Errorf("outbox record %d: %w", r.ID, err)
	}
	seq := notify.Sequencer(r.Seq)
	m := target.Message{ID: seq + "-" + r.Target, Event: e.Name, Bucket: e.Bucket, Key: e.Key}
	if e.Name == notify.TestEventName {
		m.Body = notify.TestMessage(e.Bucket, e.RequestID, e.HostID, e.Time)
	} else {
		m.Body = notify.Render(e, seq)
	}
	return m, nil
}
