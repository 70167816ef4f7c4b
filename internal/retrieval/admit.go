package retrieval

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"slices"
	"time"
)

// Restore tiers, as S3 and Glacier spell them.
const (
	TierExpedited = "Expedited"
	TierStandard  = "Standard"
	TierBulk      = "Bulk"
)

func knownTier(t string) bool {
	return t == TierStandard || t == TierBulk || t == TierExpedited
}

// DefaultFreeTierMonthlyBytes is the FreeTier allowance when
// Config.FreeTierMonthlyBytes is 0: AWS's "10 GB of your Amazon Glacier
// data per month for free", read as AWS bills, in binary gigabytes
// (10 × 2^30 bytes).
const DefaultFreeTierMonthlyBytes int64 = 10 << 30

// DefaultStandardHours is the duration, in model hours, given to a job
// whose Duration is 0: about what a Standard retrieval takes on AWS.
const DefaultStandardHours = 4

// Config holds the settings of admission that are not part of the policy.
// The zero Config is usable: 24-hour days and the default allowance.
type Config struct {
	// DayLength is the length of a model day (clock.Clock.DayLength);
	// 24 hours when ≤ 0.
	DayLength time.Duration
	// FreeTierMonthlyBytes is the FreeTier allowance for a month;
	// DefaultFreeTierMonthlyBytes when 0. A negative value means no free
	// allowance: FreeTier then refuses every Standard retrieval of one
	// byte or more.
	FreeTierMonthlyBytes int64
}

// DailyFreeAllowance returns the FreeTier allowance of model day day: the
// monthly allowance divided by the number of days in that day's month
// (DaysInMonth), rounded down.
func (c Config) DailyFreeAllowance(day int64) int64 {
	monthly := c.FreeTierMonthlyBytes
	switch {
	case monthly == 0:
		monthly = DefaultFreeTierMonthlyBytes
	case monthly < 0:
		return 0
	}
	return monthly / int64(DaysInMonth(day))
}

// StandardDuration returns the wall-clock duration of DefaultStandardHours
// model hours.
func (c Config) StandardDuration() time.Duration {
	return dayLengthOr(c.DayLength) / 24 * DefaultStandardHours
}

// Job is a restore (retrieval) job, accepted or asked for.
type Job struct {
	// Tier is TierStandard, TierBulk or TierExpedited.
	Tier string
	// Bytes is the size retrieved, ≥ 0.
	Bytes int64
	// Start is when the job was accepted. For the job being judged, the
	// zero Start means the now passed to Admit.
	Start time.Time
	// Duration is how long the job is expected to take, in wall-clock
	// time; 0 means Config.StandardDuration. It must not be negative.
	Duration time.Duration
}

// ErrInvalidJob is returned (wrapped) by Admit for a job it cannot judge:
// an unknown tier, or a negative size or duration. It is a programming
// error of the caller, not a policy decision.
var ErrInvalidJob = errors.New("retrieval: invalid job")

// ErrPolicyEnforced is wrapped by every *EnforcedError.
var ErrPolicyEnforced = errors.New("retrieval: request denied by the current data retrieval policy")

// EnforcedError is Admit's refusal of a job. It wraps ErrPolicyEnforced.
type EnforcedError struct {
	// Policy is the policy that refused the job.
	Policy Policy
	// Limit is what the policy allows: the quota in bytes per hour for
	// BytesPerHour, today's allowance in bytes for FreeTier.
	Limit int64
	// Would is what accepting the job would have reached, in the same
	// unit (saturated at math.MaxInt64).
	Would int64
	// Detail explains the refusal in a sentence for the client.
	Detail string
}

func (e *EnforcedError) Error() string {
	return ErrPolicyEnforced.Error() + ": " + e.Detail
}

// Unwrap returns ErrPolicyEnforced.
func (e *EnforcedError) Unwrap() error { return ErrPolicyEnforced }

// Admit decides whether a new restore job req may start at now under
// policy p, given the jobs already accepted. It returns nil to accept, an
// *EnforcedError (errors.Is ErrPolicyEnforced) to refuse, or an error
// wrapping ErrInvalidJob when req or an accepted job is malformed, or
// ErrInvalidPolicy when p itself is not valid.
//
// Only Standard jobs are governed: Expedited and Bulk jobs are always
// accepted and ignored in accepted, and so is a job of zero bytes, which
// adds nothing to any total. Under None every job is accepted;
// under FreeTier a Standard job is refused if the bytes of the Standard
// jobs accepted during the current model day (those whose Start falls on
// Day(now)) plus req.Bytes would exceed the day's allowance; under
// BytesPerHour it is refused if its own rate plus the highest total rate
// of the accepted Standard jobs at any instant of its window
// [req.Start, req.Start+req.Duration) would exceed p.BytesPerHour.
//
// Admit judges req alone and never re-evaluates the accepted jobs, which
// may well exceed the current policy (they were accepted under another).
// It does not modify accepted and has no side effects: recording an
// accepted job is the caller's business (see the package Caveats).
func (p Policy) Admit(now time.Time, req Job, accepted []Job, cfg Config) error {
	if err := checkJob(req); err != nil {
		return err
	}
	if err := p.Validate(); err != nil {
		return fmt.Errorf("retrieval: admit under an invalid policy: %w", err)
	}
	if req.Tier != TierStandard || p.Strategy == None || req.Bytes == 0 {
		return nil
	}
	for i := range accepted {
		if err := checkJob(accepted[i]); err != nil {
			return fmt.Errorf("accepted job %d: %w", i, err)
		}
	}
	if req.Start.IsZero() {
		req.Start = now
	}
	switch p.Strategy {
	case FreeTier:
		return p.admitFreeTier(now, req, accepted, cfg)
	default: // BytesPerHour
		return p.admitRate(req, accepted, cfg)
	}
}

func checkJob(j Job) error {
	switch {
	case !knownTier(j.Tier):
		return fmt.Errorf("%w: unknown tier %q", ErrInvalidJob, j.Tier)
	case j.Bytes < 0:
		return fmt.Errorf("%w: negative size %d", ErrInvalidJob, j.Bytes)
	case j.Duration < 0:
		return fmt.Errorf("%w: negative duration %s", ErrInvalidJob, j.Duration)
	}
	return nil
}

func (p Policy) admitFreeTier(now time.Time, req Job, accepted []Job, cfg Config) error {
	today := Day(now, cfg.DayLength)
	allowance := cfg.DailyFreeAllowance(today)
	used := int64(0)
	for _, j := range accepted {
		if j.Tier == TierStandard && Day(j.Start, cfg.DayLength) == today {
			used = addSat(used, j.Bytes)
		}
	}
	would := addSat(used, req.Bytes)
	if would <= allowance {
		return nil
	}
	return &EnforcedError{
		Policy: p, Limit: allowance, Would: would,
		Detail: fmt.Sprintf("FreeTier: retrieving %d bytes would bring today's Standard retrievals to %d bytes, over the daily free allowance of %d bytes (%d already used)",
			req.Bytes, would, allowance, used),
	}
}

func (p Policy) admitRate(req Job, accepted []Job, cfg Config) error {
	from := req.Start
	to := from.Add(cfg.duration(req))
	own := cfg.Rate(req)
	peak := peakRate(accepted, from, to, cfg)
	peak.Add(peak, big.NewInt(own))
	if peak.Cmp(big.NewInt(p.BytesPerHour)) <= 0 {
		return nil
	}
	would := int64(math.MaxInt64)
	if peak.IsInt64() {
		would = peak.Int64()
	}
	return &EnforcedError{
		Policy: p, Limit: p.BytesPerHour, Would: would,
		Detail: fmt.Sprintf("BytesPerHour: this retrieval (%d bytes/hour) would bring the peak retrieval rate of jobs in progress to %s bytes/hour, over the quota of %d bytes/hour",
			own, peak, p.BytesPerHour),
	}
}

// duration returns j.Duration, or the default Standard duration for 0.
func (c Config) duration(j Job) time.Duration {
	if j.Duration > 0 {
		return j.Duration
	}
	return c.StandardDuration()
}

// Rate returns the retrieval rate of j in bytes per model hour: j.Bytes
// divided by its duration in model hours (DayLength/24 each; exactly
// DefaultStandardHours when j.Duration is 0), rounded up, and saturated
// at math.MaxInt64.
func (c Config) Rate(j Job) int64 {
	if j.Bytes <= 0 {
		return 0
	}
	var num, den *big.Int
	if j.Duration <= 0 {
		// Exactly DefaultStandardHours model hours, whatever rounding
		// StandardDuration's nanoseconds carry.
		num, den = big.NewInt(j.Bytes), big.NewInt(DefaultStandardHours)
	} else {
		// rate = ceil(Bytes * DayLength / (24 * Duration)), exactly.
		num = new(big.Int).Mul(big.NewInt(j.Bytes), big.NewInt(int64(dayLengthOr(c.DayLength))))
		den = new(big.Int).Mul(big.NewInt(24), big.NewInt(int64(j.Duration)))
	}
	num.Add(num, den).Sub(num, big.NewInt(1))
	num.Quo(num, den)
	if !num.IsInt64() {
		return math.MaxInt64
	}
	return num.Int64()
}

// rateEvent is a change of the total rate at an instant.
type rateEvent struct {
	at    time.Time
	delta int64 // +rate when a job starts, -rate when it ends
}

// peakRate returns the highest total rate of the Standard jobs among
// accepted at any instant of [from, to), in bytes per model hour (0 when
// none overlaps). Each job counts during [Start, Start+Duration).
func peakRate(accepted []Job, from, to time.Time, cfg Config) *big.Int {
	var events []rateEvent
	for _, j := range accepted {
		if j.Tier != TierStandard {
			continue
		}
		start, end := j.Start, j.Start.Add(cfg.duration(j))
		if !start.Before(to) || !end.After(from) {
			continue // no overlap with [from, to)
		}
		r := cfg.Rate(j)
		if r == 0 {
			continue
		}
		if start.Before(from) {
			start = from
		}
		events = append(events, rateEvent{start, r})
		if end.Before(to) {
			events = append(events, rateEvent{end, -r})
		}
	}
	// At one instant, ends come before starts: intervals are half-open,
	// so a job ending at t and one starting at t never overlap.
	slices.SortFunc(events, func(a, b rateEvent) int {
		if c := a.at.Compare(b.at); c != 0 {
			return c
		}
		switch {
		case a.delta < 0 && b.delta > 0:
			return -1
		case a.delta > 0 && b.delta < 0:
			return 1
		}
		return 0
	})
	var sum, peak, d big.Int
	for _, e := range events {
		sum.Add(&sum, d.SetInt64(e.delta))
		if sum.Cmp(&peak) > 0 {
			peak.Set(&sum)
		}
	}
	return &peak
}

// addSat adds two non-negative values, saturating at math.MaxInt64.
func addSat(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}
