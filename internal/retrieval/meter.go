package retrieval

import (
	"context"
	"fmt"
	"time"

	"github.com/firnhq/firn/internal/clock"
)

// DayTier is the number of bytes retrieved in one tier on one model day.
type DayTier struct {
	Day   int64  // model day index (Day)
	Tier  string // TierStandard, TierBulk or TierExpedited
	Bytes int64
}

// Store keeps the data retrieval policy and the retrieval meter. It is
// implemented over the metadata store (so that every firn node sharing
// that store sees one policy and one meter) and, for tests, by MemStore;
// retrievaltest checks an implementation against these contracts. All
// methods are safe for concurrent use.
type Store interface {
	// AddRetrieved adds bytes (≥ 0) to the total of (day, tier),
	// creating it at 0 if absent. Concurrent calls, from any node, all
	// count: the total is the exact sum of what was added.
	AddRetrieved(ctx context.Context, day int64, tier string, bytes int64) error
	// Retrieved returns the totals of the days fromDay to toDay, both
	// included, ordered by Day then Tier. Pairs nothing was added to are
	// absent; nil (no error) when there are none or fromDay > toDay.
	Retrieved(ctx context.Context, fromDay, toDay int64) ([]DayTier, error)
	// GetPolicy returns the current policy: the last one PutPolicy
	// stored, or the zero Policy (None) if none ever was.
	GetPolicy(ctx context.Context) (Policy, error)
	// PutPolicy replaces the current policy with p, which the caller has
	// validated (Policy.Validate). Once it returns, GetPolicy on any node
	// returns p.
	PutPolicy(ctx context.Context, p Policy) error
}

// Meter records retrieved bytes per model day and tier, for cost reports.
// It is safe for concurrent use.
type Meter struct {
	store Store
	clock clock.Clock
}

// NewMeter returns a Meter that keeps its counts in s and takes the model
// day length from c (clock.Real{} when nil).
func NewMeter(s Store, c clock.Clock) *Meter {
	if c == nil {
		c = clock.Real{}
	}
	return &Meter{store: s, clock: c}
}

// Record adds bytes retrieved in tier to the model day holding at.
// Record a job once, when it is accepted: that is when AWS bills a
// retrieval, and it keeps refused requests (which cost nothing) out of
// the meter. Zero bytes record nothing. An unknown tier or negative bytes
// is an error wrapping ErrInvalidJob.
func (m *Meter) Record(ctx context.Context, at time.Time, tier string, bytes int64) error {
	if err := checkJob(Job{Tier: tier, Bytes: bytes}); err != nil {
		return err
	}
	if bytes == 0 {
		return nil
	}
	day := Day(at, m.clock.DayLength())
	if err := m.store.AddRetrieved(ctx, day, tier, bytes); err != nil {
		return fmt.Errorf("record %d bytes retrieved (%s, day %d): %w", bytes, tier, day, err)
	}
	return nil
}

// Usage returns the bytes retrieved per tier on each model day from the
// day holding from to the day holding to, both included, ordered by day
// then tier; days and tiers without retrievals are absent. DayStart gives
// the instant each day began.
func (m *Meter) Usage(ctx context.Context, from, to time.Time) ([]DayTier, error) {
	dl := m.clock.DayLength()
	out, err := m.store.Retrieved(ctx, Day(from, dl), Day(to, dl))
	if err != nil {
		return nil, fmt.Errorf("read retrieval meter: %w", err)
	}
	return out, nil
}

// DayLength returns the model day length the meter counts in.
func (m *Meter) DayLength() time.Duration { return m.clock.DayLength() }
