// Package clock is firn's single source of time.
//
// Business logic never calls time.Now directly: it is given a Clock. The
// real clock honours --day-length: a model "day" may last less than 24
// hours of wall time, so that lifecycle ages, restore latencies and expiry
// play out faster in tests and demos. Wall-clock instants (Last-Modified,
// SigV4 request dates) always come from Now, which is real time; Days and
// Sleep-like durations are scaled through DayLength.
package clock

import (
	"sync"
	"time"
)

// Clock tells the time and the length of a model day.
type Clock interface {
	// Now returns the current wall-clock time.
	Now() time.Time
	// DayLength is how long one model day lasts in wall time (24h by default).
	DayLength() time.Duration
}

// Real is the system clock with a configurable day length. Its zero value
// is the system clock with 24-hour days.
type Real struct {
	Day time.Duration
}

// Now returns time.Now().
func (r Real) Now() time.Time { return time.Now() }

// DayLength returns r.Day, or 24h when unset.
func (r Real) DayLength() time.Duration {
	if r.Day <= 0 {
		return 24 * time.Hour
	}
	return r.Day
}

// Fake is a manually advanced clock for tests.
type Fake struct {
	mu  sync.Mutex // guards now and day
	now time.Time
	day time.Duration
}

// NewFake returns a fake clock reading t, with 24-hour days.
func NewFake(t time.Time) *Fake { return &Fake{now: t, day: 24 * time.Hour} }

// Now returns the fake time.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// DayLength returns the fake day length.
func (f *Fake) DayLength() time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.day
}

// Advance moves the fake time forward by d.
func (f *Fake) Advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
}

// SetDayLength changes the fake day length.
func (f *Fake) SetDayLength(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.day = d
}
