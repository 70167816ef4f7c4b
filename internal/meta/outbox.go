package meta

import (
	"context"
	"time"
)

// OutboxEntry is an event to deliver to one target, written by a Store in
// the same transaction as the change it describes (see WithEvents) or on
// its own (AppendOutbox). The Store does not interpret it.
type OutboxEntry struct {
	// Target names the destination (a notification target's name).
	Target string
	// Payload is the event record (package notify's Event, as JSON).
	Payload []byte
	// Time is when the event happened (zero: when it is written).
	Time time.Time
}

// OutboxRecord is a pending outbox entry.
type OutboxRecord struct {
	// ID orders a target's records: they are delivered in ID order.
	ID int64
	// Seq is the event's sequence number, shared by the records that one
	// event produced for several targets and increasing in commit order
	// (the S3 sequencer of the event).
	Seq      int64
	Target   string
	Payload  []byte
	Created  time.Time
	Attempts int
	// NextTry is when a failed record may be tried again.
	NextTry   time.Time
	LastError string
	// Died is when a dead-letter record was given up on.
	Died time.Time
}

// OutboxStat summarises one target's outbox.
type OutboxStat struct {
	Target  string
	Pending int64
	// Oldest is when the oldest pending record was written (zero: none).
	Oldest time.Time
	// Failing counts pending records that failed at least once; LastError
	// is the most recent failure among them.
	Failing   int64
	LastError string
	// Dead counts records moved to the dead-letter table.
	Dead int64
	// Owner holds the target's delivery lease until LeaseUntil.
	Owner      string
	LeaseUntil time.Time
}

// OutboxFailure records a failed delivery of a record.
type OutboxFailure struct {
	ID    int64
	Error string
	// NextTry is when to try again; Dead moves the record to the
	// dead-letter table instead.
	NextTry time.Time
	Dead    bool
}

// EventFunc returns the outbox entries that a change to one object
// version produces: old is the version before the change (nil if it did
// not exist), new the version after it (nil if it was removed; a delete
// marker when one was added). A Store calls it inside the transaction of
// the change, once per version changed, and writes the entries it returns
// with the change, atomically; an error aborts the change and is
// returned. It must not write to the Store (reading its committed state
// is allowed) and should not block.
type EventFunc func(old, new *Object) ([]OutboxEntry, error)

type eventsKey struct{}

// WithEvents returns a context whose Store writes record, in the same
// transaction, the outbox entries fn returns for each version they change.
func WithEvents(ctx context.Context, fn EventFunc) context.Context {
	return context.WithValue(ctx, eventsKey{}, fn)
}

// EventsFrom returns the EventFunc of ctx, or nil.
func EventsFrom(ctx context.Context) EventFunc {
	fn, _ := ctx.Value(eventsKey{}).(EventFunc)
	return fn
}

// OutboxStore keeps the events waiting for delivery: the transactional
// outbox. It is part of Store.
//
// Each target's records are delivered in ID order by one holder of the
// target's lease at a time, so several nodes can run dispatchers safely
// and a crashed one's lease runs out. A record leaves the outbox when it
// is acknowledged (delivered) or moved to the dead-letter table.
type OutboxStore interface {
	// AppendOutbox writes entries that no object change carries (test
	// events, client events), as one event.
	AppendOutbox(ctx context.Context, entries []OutboxEntry) error
	// ClaimOutbox takes or renews the delivery lease of target for owner
	// until now+lease, unless another owner holds an unexpired one, and
	// returns up to limit of target's first pending records with an ID
	// above after (records delivered but not yet acknowledged), in ID
	// order, stopping before the first not due at now (so a record
	// waiting to be retried holds back those after it). held reports
	// whether owner holds the lease; when not, records is empty.
	ClaimOutbox(ctx context.Context, target, owner string, now time.Time, lease time.Duration, after int64, limit int) (records []OutboxRecord, held bool, err error)
	// AckOutbox removes delivered records of target and records failures,
	// if owner still holds its lease; otherwise it changes nothing and
	// returns ErrLeaseLost.
	AckOutbox(ctx context.Context, target, owner string, delivered []int64, failed []OutboxFailure, now time.Time) error
	// OutboxTargets returns the names of the targets with pending records.
	OutboxTargets(ctx context.Context) ([]string, error)
	// OutboxStats summarises the outbox of every target that has pending
	// or dead records or a lease.
	OutboxStats(ctx context.Context) ([]OutboxStat, error)
	// DeadOutbox returns up to limit dead-letter records of target
	// (every target when ""), oldest first.
	DeadOutbox(ctx context.Context, target string, limit int) ([]OutboxRecord, error)
	// RequeueDead moves target's dead-letter records back into the
	// outbox, in their order, to be tried again; it returns how many.
	RequeueDead(ctx context.Context, target string) (int, error)
}
