package schedule

import (
	"strings"
	"testing"
	"time"
)

func at(s string) time.Time {
	t, err := time.Parse("2006-01-02T15:04", s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestNext(t *testing.T) {
	for _, tc := range []struct {
		expr, after, want string // want "" means never
	}{
		// The spec's examples (§9.1).
		{"cron(0 10 * * ? *)", "2026-03-01T09:00", "2026-03-01T10:00"},
		{"cron(0 10 * * ? *)", "2026-03-01T10:00", "2026-03-02T10:00"},
		{"cron(15 12 * * ? *)", "2026-03-01T12:15", "2026-03-02T12:15"},
		{"cron(0 18 ? * MON-FRI *)", "2026-03-06T18:00", "2026-03-09T18:00"}, // Friday -> Monday
		{"cron(0 18 ? * MON-FRI *)", "2026-03-09T17:59", "2026-03-09T18:00"},
		{"cron(0 8 1 * ? *)", "2026-03-01T08:00", "2026-04-01T08:00"},
		{"cron(0/15 * * * ? *)", "2026-03-01T10:07", "2026-03-01T10:15"},
		{"cron(0/15 * * * ? *)", "2026-03-01T10:45", "2026-03-01T11:00"},
		{"cron(0/5 8-17 ? * MON-FRI *)", "2026-03-06T17:55", "2026-03-09T08:00"},
		{"cron(0/5 8-17 ? * MON-FRI *)", "2026-03-09T08:02", "2026-03-09T08:05"},
		{"cron(0 20 * * ? *)", "2026-03-01T20:30", "2026-03-02T20:00"},
		{"cron(1/10 * * * ? *)", "2026-03-01T10:01", "2026-03-01T10:11"},
		// Scenario C: daily incremental at 02:00, weekly full Sunday 01:00.
		{"cron(0 2 * * ? *)", "2026-03-01T00:00", "2026-03-01T02:00"},
		{"cron(0 2 * * ? *)", "2026-03-01T02:00", "2026-03-02T02:00"},
		{"cron(0 2 * * ? *)", "2026-12-31T23:59", "2027-01-01T02:00"},
		{"cron(0 1 ? * SUN *)", "2026-03-01T00:00", "2026-03-01T01:00"}, // a Sunday
		{"cron(0 1 ? * SUN *)", "2026-03-01T01:00", "2026-03-08T01:00"},
		{"cron(0 1 ? * 1 *)", "2026-03-02T00:00", "2026-03-08T01:00"},
		{"cron(0 1 ? * sun *)", "2026-03-02T00:00", "2026-03-08T01:00"},
		// L, W and #.
		{"cron(0 0 L * ? *)", "2028-02-01T00:00", "2028-02-29T00:00"},
		{"cron(0 0 L * ? *)", "2027-02-01T00:00", "2027-02-28T00:00"},
		{"cron(0 0 3W * ? *)", "2026-01-01T00:00", "2026-01-02T00:00"},  // the 3rd is a Saturday
		{"cron(0 0 3W * ? *)", "2026-04-30T00:00", "2026-05-04T00:00"},  // the 3rd is a Sunday
		{"cron(0 0 1W * ? *)", "2026-07-31T00:00", "2026-08-03T00:00"},  // Saturday the 1st: Monday the 3rd
		{"cron(0 0 28W 2 ? *)", "2027-01-01T00:00", "2027-02-26T00:00"}, // Sunday the 28th, the last day: Friday
		{"cron(0 0 ? * 3#2 *)", "2026-03-01T00:00", "2026-03-10T00:00"}, // second Tuesday
		{"cron(0 0 ? * TUE#2 *)", "2026-03-10T00:00", "2026-04-14T00:00"},
		{"cron(0 0 ? * L *)", "2026-03-01T00:00", "2026-03-07T00:00"}, // last day of the week: Saturday
		// Lists, ranges, steps, names, years.
		{"cron(0,30 9-10 ? JAN,MAR-APR MON *)", "2026-03-02T10:30", "2026-03-09T09:00"},
		{"cron(0 0 29 2 ? *)", "2026-03-01T00:00", "2028-02-29T00:00"},
		{"cron(0 0 1 1 ? 2030)", "2026-03-01T00:00", "2030-01-01T00:00"},
		{"cron(0 0 1 1 ? 2030)", "2030-01-01T00:00", ""},
		{"cron(0 0 1 1 ? 2020-2199/10)", "2026-03-01T00:00", "2030-01-01T00:00"},
		{"cron( 0  2 * * ? * )", "2026-03-01T00:00", "2026-03-01T02:00"},
		// Classic cron lines.
		{"0 3 * * *", "2026-03-01T03:00", "2026-03-02T03:00"},
		{"*/15 * * * *", "2026-03-01T10:07", "2026-03-01T10:15"},
		{"0 9 * * 1-5", "2026-03-06T09:00", "2026-03-09T09:00"},
		{"0 9 * * MON-FRI", "2026-03-06T09:00", "2026-03-09T09:00"},
		{"0 9 * JUL WED", "2026-03-06T09:00", "2026-07-01T09:00"},
		{"0 0 1,15 * 5", "2026-03-01T00:00", "2026-03-06T00:00"}, // 1st, 15th or a Friday
		{"0 0 * * 7", "2026-03-01T00:00", "2026-03-08T00:00"},
		{"0 0 * * sun", "2026-03-01T00:00", "2026-03-08T00:00"},
		{"30 4 1 jan-mar *", "2026-03-02T00:00", "2027-01-01T04:30"},
		{"@weekly", "2026-03-01T00:00", "2026-03-08T00:00"},
		{"@hourly", "2026-03-01T00:00", "2026-03-01T01:00"},
		// Times between minutes and outside UTC.
		{"cron(0 2 * * ? *)", "2026-03-01T01:59", "2026-03-01T02:00"},
	} {
		s, err := Parse(tc.expr)
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.expr, err)
			continue
		}
		got := s.Next(at(tc.after))
		if tc.want == "" {
			if !got.IsZero() {
				t.Errorf("%s after %s: got %v, want never", tc.expr, tc.after, got)
			}
			continue
		}
		if want := at(tc.want); !got.Equal(want) || got.Location() != time.UTC {
			t.Errorf("%s after %s: got %v, want %v", tc.expr, tc.after, got, want)
		}
	}
}

func TestNextIsUTCAndStrict(t *testing.T) {
	s, _ := Parse("cron(0 2 * * ? *)")
	berlin := time.FixedZone("CET", 3600)
	// 02:30 in Berlin is 01:30 UTC: the next run is 02:00 UTC that day.
	got := s.Next(time.Date(2026, 3, 1, 2, 30, 0, 0, berlin))
	if want := at("2026-03-01T02:00"); !got.Equal(want) {
		t.Errorf("got %v, want %v", got, want)
	}
	// Seconds into a firing minute: the next one.
	got = s.Next(at("2026-03-01T02:00").Add(30 * time.Second))
	if want := at("2026-03-02T02:00"); !got.Equal(want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestRate(t *testing.T) {
	start := at("2026-03-01T10:20")
	for _, tc := range []struct {
		expr  string
		every time.Duration
		after string
		want  string
	}{
		{"rate(1 day)", 24 * time.Hour, "2026-03-01T10:20", "2026-03-02T10:20"},
		{"rate(1 day)", 24 * time.Hour, "2026-03-05T00:00", "2026-03-05T10:20"},
		{"rate(7 days)", 7 * 24 * time.Hour, "2026-03-01T11:00", "2026-03-08T10:20"},
		{"rate(5 minutes)", 5 * time.Minute, "2026-03-01T10:24", "2026-03-01T10:25"},
		{"rate(1 minute)", time.Minute, "2026-03-01T10:20", "2026-03-01T10:21"},
		{"rate(1 hour)", time.Hour, "2026-03-01T12:20", "2026-03-01T13:20"},
		{"rate(12 hours)", 12 * time.Hour, "2026-03-01T09:00", "2026-03-01T10:20"}, // before Start: Start
	} {
		s, err := Parse(tc.expr)
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.expr, err)
			continue
		}
		r := s.(*Rate)
		if r.Every != tc.every || r.String() != tc.expr {
			t.Errorf("%s: every %v (%s), want %v", tc.expr, r.Every, r, tc.every)
		}
		r.Start = start
		if got, want := r.Next(at(tc.after)), at(tc.want); !got.Equal(want) {
			t.Errorf("%s after %s: got %v, want %v", tc.expr, tc.after, got, want)
		}
	}
	// Without a start, rates count from the Unix epoch.
	s, _ := Parse("rate(1 day)")
	if got, want := s.Next(at("2026-03-01T10:20")), at("2026-03-02T00:00"); !got.Equal(want) {
		t.Errorf("rate(1 day) from the epoch: got %v, want %v", got, want)
	}
	// Long spans do not overflow.
	s, _ = Parse("rate(1 minute)")
	if got, want := s.Next(time.Date(2400, 1, 1, 0, 0, 0, 0, time.UTC)), time.Date(2400, 1, 1, 0, 1, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("rate(1 minute) in 2400: got %v, want %v", got, want)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ expr, want string }{
		{"", "empty"},
		{"   ", "empty"},
		{"cron(0 2 * * ?)", "exactly six fields"},
		{"cron(0 2 * * ? * *)", "exactly six fields"},
		{"cron 0 2 * * ? *", "want cron("},
		{"cron(0 2 * * * *)", "exactly one of them must be ?"},
		{"cron(0 2 1 * MON *)", "exactly one of them must be ?"},
		{"cron(0 2 ? * ? *)", "both ?"},
		{"cron(? 2 * * ? *)", "? is allowed only in day-of-month or day-of-week"},
		{"cron(0 2 * ? ? *)", "? is allowed only"},
		{"cron(0 2 1,? * ? *)", "? must stand alone"},
		{"cron(0 2 ? * 1,? *)", "? must stand alone"},
		{"cron(0 2 * L ? *)", "L is allowed only in day-of-month or day-of-week"},
		{"cron(0 2 ? * 1W *)", "W is allowed only in day-of-month"},
		{"cron(0 2 1#2 * ? *)", "# is allowed only in day-of-week"},
		{"cron(0 2 ? * 3#1,6#3 *)", "one expression only"},
		{"cron(0 2 ? * 3#6 *)", "runs 1-5"},
		{"cron(0 2 ? * 8#1 *)", "WEEKDAY#N"},
		{"cron(0 2 LW * ? *)", "LW (last weekday of the month) is not supported"},
		{"cron(0 2 L-3 * ? *)", "not supported"},
		{"cron(0 2 1,L * ? *)", "L must stand alone"},
		{"cron(0 2 ? * 5L *)", "nL (the last given weekday of the month) is not supported"},
		{"cron(0 2 1-5W * ? *)", "W takes one day"},
		{"cron(0 2 32W * ? *)", "out of range"},
		{"cron(60 2 * * ? *)", `minutes "60": "60" is not a value 0-59`},
		{"cron(0 24 * * ? *)", "hours"},
		{"cron(0 2 0 * ? *)", "day-of-month"},
		{"cron(0 2 * 13 ? *)", "month"},
		{"cron(0 2 * FOO ? *)", "JAN-DEC"},
		{"cron(0 2 ? * 0 *)", "day-of-week \"0\": \"0\" is not a value 1-7"},
		{"cron(0 2 ? * 8 *)", "1-7 or SUN-SAT"},
		{"cron(0 2 * * ? 1969)", "year"},
		{"cron(0 2 * * ? 2200)", "1970-2199"},
		{"cron(0 2 30 2 ? *)", "day 30 never occurs in the months given"},
		{"cron(0/0 2 * * ? *)", "step"},
		{"cron(*/x 2 * * ? *)", "step"},
		{"cron(5-1 2 * * ? *)", "runs backwards"},
		{"cron(0 2 ? * FRI-MON *)", "runs backwards"},
		{"cron(0,,5 2 * * ? *)", "empty list element"},
		{"cron(-1 2 * * ? *)", "range"},
		{"rate(1 days)", "unit must be singular"},
		{"rate(5 hour)", "must be plural"},
		{"rate(0 minutes)", "at least 1"},
		{"rate(1 week)", "want rate(value unit)"},
		{"rate(-1 minutes)", "want rate(value unit)"},
		{"rate(1  day)", "want rate(value unit)"},
		{"rate(1.5 hours)", "want rate(value unit)"},
		{"rate(99999999 days)", "longer than"},
		{"rate(99999999999999999999 days)", "at least 1"},
		{"at(2026-01-01T00:00:00)", "not supported"},
		{"@reboot", "unknown shorthand"},
		{"0 2 * * ?", "only accepted in cron(...)"},
		{"0 2 L * *", "only accepted in cron(...)"},
		{"0 2 * *", "five fields"},
		{"0 2 * * * *", "write EventBridge expressions as cron("},
		{"0 0 31 4,6 *", "never occurs"},
		{"0 0 * * 8", "0-7"},
		{"cron(" + strings.Repeat("1,", 130) + "1 * * * ? *)", "longer than 256"},
	} {
		_, err := Parse(tc.expr)
		if err == nil {
			t.Errorf("Parse(%q): no error, want one containing %q", tc.expr, tc.want)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%q): %v; want it to contain %q", tc.expr, err, tc.want)
		}
		var se *Error
		if e, ok := err.(*Error); !ok {
			t.Errorf("Parse(%q): error %T, want %T", tc.expr, err, se)
		} else if e.Expr == "" && strings.TrimSpace(tc.expr) != "" {
			t.Errorf("Parse(%q): error names no expression", tc.expr)
		}
	}
}

// checkNext checks the invariants of s.Next at after.
func checkNext(t *testing.T, s Schedule, after time.Time) {
	n := s.Next(after)
	if n.IsZero() {
		return
	}
	if !n.After(after) {
		t.Fatalf("%s: Next(%v) = %v, not after it", s, after, n)
	}
	if n.Location() != time.UTC {
		t.Fatalf("%s: Next(%v) = %v, not UTC", s, after, n)
	}
	c, ok := s.(*Cron)
	if !ok {
		return
	}
	if n.Second() != 0 || n.Nanosecond() != 0 {
		t.Fatalf("%s: Next(%v) = %v, not a whole minute", s, after, n)
	}
	// No firing time is skipped: from a minute before n, n is next again.
	if prev := n.Add(-time.Minute); !prev.Before(after) {
		if again := c.Next(prev); !again.Equal(n) {
			t.Fatalf("%s: Next(%v) = %v but Next(%v) = %v", s, after, n, prev, again)
		}
	}
	y, m, d := n.Date()
	if !c.dayMatches(y, m, d) || !c.hours.has(n.Hour()) || !c.minutes.has(n.Minute()) || !c.months.has(int(m)-1) {
		t.Fatalf("%s: Next(%v) = %v does not match the expression", s, after, n)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"cron(0 2 * * ? *)", "cron(0 1 ? * SUN *)", "cron(0/5 8-17 ? * MON-FRI *)", "cron(0 0 L * ? *)",
		"cron(0 0 3W * ? *)", "cron(0 0 ? * 3#2 *)", "cron(0 0 ? * L *)", "cron(0 0 1 1 ? 2030)", "rate(1 day)",
		"rate(5 minutes)", "0 3 * * *", "*/15 * * * *", "0 0 1,15 * 5", "@weekly", "cron(0 2 30 2 ? *)",
		"cron(0 0 29 2 ? 2100-2199/4)", "rate(1 days)", "cron(0 2 ? * 3#1,6#3 *)",
	} {
		f.Add(s)
	}
	base := []time.Time{at("2026-03-01T02:00"), at("1969-12-31T23:59"), at("2199-12-31T23:59"), at("2028-02-28T23:59")}
	f.Fuzz(func(t *testing.T, expr string) {
		s, err := Parse(expr)
		if err != nil {
			if s != nil {
				t.Fatalf("Parse(%q): schedule and error", expr)
			}
			var se *Error
			if e, ok := err.(*Error); !ok || e.Msg == "" {
				t.Fatalf("Parse(%q): error %T %v, want a %T with a message", expr, err, err, se)
			}
			return
		}
		for _, b := range base {
			checkNext(t, s, b)
		}
		// The expression reparses to the same schedule.
		s2, err := Parse(s.String())
		if err != nil {
			t.Fatalf("Parse(%q) ok, Parse(String() = %q): %v", expr, s.String(), err)
		}
		if a, b := s.Next(base[0]), s2.Next(base[0]); !a.Equal(b) {
			t.Fatalf("%q: Next %v, reparsed %v", expr, a, b)
		}
	})
}
