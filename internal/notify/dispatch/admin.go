package dispatch

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/firnhq/firn/internal/notify"
	"github.com/firnhq/firn/internal/notify/target"
)

// TargetInfo is a declared target as operators see it: secrets redacted.
type TargetInfo struct {
	target.Spec
	// ARN is the ARN that bucket configurations name it by, in a
	// QueueConfiguration (the sns and lambda forms name it too).
	ARN string `json:"arn"`
	// Static: declared in the server configuration.
	Static bool `json:"static"`
}

// Add declares a target, kept in the metadata store. The spec is
// validated, not tried (see Test).
func (d *Dispatcher) Add(ctx context.Context, s target.Spec) error {
	if err := d.reg.add(ctx, s); err != nil {
		return err
	}
	d.resync()
	return nil
}

// Remove drops a target added with Add. Its pending events stay in the
// outbox until a target of that name is declared again.
func (d *Dispatcher) Remove(ctx context.Context, name string) error {
	if err := d.reg.remove(ctx, name); err != nil {
		return err
	}
	d.resync()
	return nil
}

// List returns the declared targets, by name.
func (d *Dispatcher) List() []TargetInfo {
	specs, static := d.reg.all()
	out := make([]TargetInfo, 0, len(specs))
	for _, s := range specs {
		out = append(out, TargetInfo{Spec: s.Redacted(), ARN: notify.TargetARN("Queue", d.cfg.Region, s.Name), Static: static[s.Name]})
	}
	return out
}

// Test sends an s3:TestEvent to target name now, outside the outbox,
// and reports what the target said.
func (d *Dispatcher) Test(ctx context.Context, name string) error {
	s, ok := d.reg.get(name)
	if !ok {
		return fmt.Errorf("%s: %w", name, ErrNoSuchTarget)
	}
	t, err := d.cfg.Open(ctx, s)
	if err != nil {
		return err
	}
	defer t.Close()
	now := d.cfg.Clock.Now().UTC()
	id := fmt.Sprintf("test-%d", now.UnixNano())
	_, err = t.Send(ctx, []target.Message{{ID: id, Event: notify.TestEventName, Body: notify.TestMessage("", id, "", now)}})
	return err
}

// Status is a target's delivery state.
type Status struct {
	Name string `json:"name"`
	Kind string `json:"kind,omitempty"`
	// Declared is false for events waiting for a target no longer (or
	// not yet) declared.
	Declared bool  `json:"declared"`
	Pending  int64 `json:"pending"`
	// OldestAge is how long the oldest pending event has waited.
	OldestAge time.Duration `json:"oldest_age_ns"`
	Oldest    time.Time     `json:"oldest,omitzero"`
	Failing   int64         `json:"failing"`
	LastError string        `json:"last_error,omitempty"`
	Dead      int64         `json:"dead"`
	// Owner is the node delivering the target (lease until LeaseUntil).
	Owner      string    `json:"owner,omitempty"`
	LeaseUntil time.Time `json:"lease_until,omitzero"`
}

// Status reports every declared target's and every outbox target's
// backlog, oldest pending event, failures and dead letters.
func (d *Dispatcher) Status(ctx context.Context) ([]Status, error) {
	stats, err := d.cfg.Store.OutboxStats(ctx)
	if err != nil {
		return nil, err
	}
	now := d.cfg.Clock.Now().UTC()
	byName := map[string]Status{}
	for _, t := range d.List() {
		byName[t.Name] = Status{Name: t.Name, Kind: t.Kind, Declared: true}
	}
	for _, st := range stats {
		s := byName[st.Target]
		s.Name = st.Target
		s.Pending, s.Failing, s.LastError, s.Dead = st.Pending, st.Failing, st.LastError, st.Dead
		s.Owner, s.LeaseUntil = st.Owner, st.LeaseUntil
		if st.Pending > 0 {
			s.Oldest, s.OldestAge = st.Oldest, now.Sub(st.Oldest)
		}
		byName[st.Target] = s
	}
	out := make([]Status, 0, len(byName))
	for _, name := range slices.Sorted(maps.Keys(byName)) {
		out = append(out, byName[name])
	}
	return out, nil
}

// Dead returns up to limit dead letters of target ("" for all), as the
// messages they would have been.
func (d *Dispatcher) Dead(ctx context.Context, name string, limit int) ([]DeadLetter, error) {
	recs, err := d.cfg.Store.DeadOutbox(ctx, name, limit)
	if err != nil {
		return nil, err
	}
	out := make([]DeadLetter, 0, len(recs))
	for _, r := range recs {
		dl := DeadLetter{Target: r.Target, Created: r.Created, Died: r.Died, Attempts: r.Attempts, LastError: r.LastError}
		if m, err := message(r); err == nil {
			dl.ID, dl.Event, dl.Bucket, dl.Key = m.ID, m.Event, m.Bucket, m.Key
		}
		out = append(out, dl)
	}
	return out, nil
}

// DeadLetter is an event given up on.
type DeadLetter struct {
	Target    string    `json:"target"`
	ID        string    `json:"id"`
	Event     string    `json:"event"`
	Bucket    string    `json:"bucket"`
	Key       string    `json:"key"`
	Created   time.Time `json:"created"`
	Died      time.Time `json:"died"`
	Attempts  int       `json:"attempts"`
	LastError string    `json:"last_error"`
}

// Requeue moves target's dead letters back to be delivered again.
func (d *Dispatcher) Requeue(ctx context.Context, name string) (int, error) {
	n, err := d.cfg.Store.RequeueDead(ctx, name)
	if err == nil && n > 0 {
		d.Notify()
	}
	return n, err
}
