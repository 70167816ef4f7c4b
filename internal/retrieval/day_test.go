package retrieval

import (
	"math"
	"testing"
	"time"
)

func TestDay(t *testing.T) {
	utc := func(y int, m time.Month, d, h, min, s, ns int) time.Time {
		return time.Date(y, m, d, h, min, s, ns, time.UTC)
	}
	for _, tc := range []struct {
		t    time.Time
		day  time.Duration
		want int64
	}{
		{utc(1970, 1, 1, 0, 0, 0, 0), 0, 0},
		{utc(1970, 1, 1, 23, 59, 59, 999999999), 24 * time.Hour, 0},
		{utc(1970, 1, 2, 0, 0, 0, 0), 24 * time.Hour, 1},
		{utc(1969, 12, 31, 23, 59, 59, 999999999), 24 * time.Hour, -1},
		{utc(1969, 12, 31, 0, 0, 0, 0), 24 * time.Hour, -1},
		{utc(1969, 12, 30, 23, 59, 59, 0), 24 * time.Hour, -2},
		{utc(2026, 3, 1, 12, 0, 0, 0), 24 * time.Hour, 20513},
		// Another time zone names the same instant.
		{time.Date(2026, 3, 1, 1, 0, 0, 0, time.FixedZone("CET", 3600)), 24 * time.Hour, 20513},
		{utc(2026, 3, 1, 0, 0, 0, 0), time.Hour, 20513 * 24},
		{utc(2026, 3, 1, 0, 0, 1, 0), time.Second, 20513*86400 + 1},
		{utc(2026, 3, 1, 0, 0, 0, 250e6), 100 * time.Millisecond, (20513*86400)*10 + 2},
		{utc(1969, 12, 31, 23, 59, 59, 950e6), 100 * time.Millisecond, -1},
		{utc(1, 1, 1, 0, 0, 0, 0), 24 * time.Hour, -719162},
	} {
		got := Day(tc.t, tc.day)
		if got != tc.want {
			t.Errorf("Day(%s, %s) = %d, want %d", tc.t.Format(time.RFC3339Nano), tc.day, got, tc.want)
		}
		start := DayStart(got, tc.day)
		if Day(start, tc.day) != got || start.After(tc.t) || !tc.t.Before(start.Add(dayLengthOr(tc.day))) {
			t.Errorf("DayStart(%d, %s) = %s does not begin the day of %s", got, tc.day, start, tc.t)
		}
	}
}

func TestDaysInMonth(t *testing.T) {
	day := func(y int, m time.Month, d int) int64 {
		return Day(time.Date(y, m, d, 0, 0, 0, 0, time.UTC), 24*time.Hour)
	}
	for _, tc := range []struct {
		day  int64
		want int
	}{
		{0, 31},                        // January 1970
		{-1, 31},                       // December 1969
		{day(2026, 2, 28), 28},         //
		{day(2028, 2, 1), 29},          // leap year
		{day(2100, 2, 1), 28},          // not a leap year
		{day(2000, 2, 29), 29},         // leap year (400)
		{day(2026, 4, 30), 30},         //
		{day(2026, 12, 31), 31},        //
		{day(1600, 2, 10), 29},         // before the epoch
		{math.MaxInt64, 0},             // checked below: only in range
		{math.MinInt64, 0},             //
		{day(2026, 3, 1) + 146097, 31}, // the calendar repeats every 400 years
	} {
		got := DaysInMonth(tc.day)
		if tc.want == 0 {
			if got < 28 || got > 31 {
				t.Errorf("DaysInMonth(%d) = %d", tc.day, got)
			}
			continue
		}
		if got != tc.want {
			t.Errorf("DaysInMonth(%d) = %d, want %d", tc.day, got, tc.want)
		}
	}
}

func TestDailyFreeAllowance(t *testing.T) {
	march := Day(time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC), 0)
	feb := Day(time.Date(2026, 2, 10, 0, 0, 0, 0, time.UTC), 0)
	for _, tc := range []struct {
		cfg  Config
		day  int64
		want int64
	}{
		{Config{}, march, 10 << 30 / 31},
		{Config{}, feb, 10 << 30 / 28},
		{Config{FreeTierMonthlyBytes: 31}, march, 1},
		{Config{FreeTierMonthlyBytes: 30}, march, 0},
		{Config{FreeTierMonthlyBytes: -1}, march, 0},
		{Config{FreeTierMonthlyBytes: math.MaxInt64}, feb, math.MaxInt64 / 28},
	} {
		if got := tc.cfg.DailyFreeAllowance(tc.day); got != tc.want {
			t.Errorf("%+v.DailyFreeAllowance(%d) = %d, want %d", tc.cfg, tc.day, got, tc.want)
		}
	}
}
