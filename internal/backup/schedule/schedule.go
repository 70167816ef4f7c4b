// Package schedule parses and evaluates the schedules of backup jobs, in
// UTC, to the minute.
//
// Three forms are accepted:
//
//   - EventBridge cron expressions, cron(minutes hours day-of-month month
//     day-of-week year): exactly six fields, with ",", "-", "*" and "/"
//     in every field, "?" in day-of-month or day-of-week (exactly one of
//     the two must be "?"), and in day-of-month "L" (the last day of the
//     month) or "nW" (the weekday nearest to day n, within the month), in
//     day-of-week "L" (the last day of the week, Saturday) or "d#n" (the
//     n-th weekday d of the month, alone in its field). Day-of-week runs
//     1-7 with 1 = SUN; names JAN-DEC and SUN-SAT are accepted; years run
//     1970-2199. Combinations that EventBridge documents as unsupported,
//     and Quartz extensions it does not list ("LW", "L-3", "5L"), are
//     refused with an error that says so.
//   - EventBridge rate expressions, rate(value unit) with unit minute,
//     minutes, hour, hours, day or days: singular exactly when value is 1.
//   - classic five-field cron lines (minute hour day-of-month month
//     day-of-week) as crontab(5) reads them: day-of-week 0-7 (0 and 7 are
//     Sunday), names, lists, ranges and steps; when both day fields are
//     restricted a day matching either runs (Vixie cron's rule). The
//     shorthands @yearly, @annually, @monthly, @weekly, @daily, @midnight
//     and @hourly are accepted too.
//
// Parse returns a Schedule whose Next gives the first instant strictly
// after a time at which the schedule fires.
package schedule

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// MaxLength is the longest expression accepted, as EventBridge's
// ScheduleExpression.
const MaxLength = 256

// Schedule says when a job runs.
type Schedule interface {
	// Next returns the first instant strictly after after (in UTC, on a
	// whole minute for cron schedules) at which the schedule fires, or
	// the zero time when it never fires again.
	Next(after time.Time) time.Time
	// String returns the expression the schedule was parsed from.
	String() string
}

// Error is a syntax error in an expression.
type Error struct {
	Expr string // the expression (cut to MaxLength)
	Msg  string
}

func (e *Error) Error() string { return fmt.Sprintf("schedule %q: %s", e.Expr, e.Msg) }

func errorf(expr, format string, args ...any) error {
	if len(expr) > MaxLength {
		expr = expr[:MaxLength] + "..."
	}
	return &Error{Expr: expr, Msg: fmt.Sprintf(format, args...)}
}

// Parse parses a cron(...), rate(...) or classic cron expression.
func Parse(expr string) (Schedule, error) {
	s := strings.TrimSpace(expr)
	switch {
	case s == "":
		return nil, errorf(expr, "empty; want cron(m h dom mon dow year), rate(n unit) or a five-field cron line")
	case len(s) > MaxLength:
		return nil, errorf(expr, "longer than %d characters", MaxLength)
	case strings.HasPrefix(s, "rate(") || strings.HasPrefix(s, "rate "):
		r, err := parseRate(s)
		if err != nil {
			return nil, err
		}
		return r, nil
	case strings.HasPrefix(s, "cron(") || strings.HasPrefix(s, "cron "):
		if !strings.HasPrefix(s, "cron(") || !strings.HasSuffix(s, ")") {
			return nil, errorf(s, "want cron(minutes hours day-of-month month day-of-week year)")
		}
		c, err := parseCron(s, strings.TrimSuffix(strings.TrimPrefix(s, "cron("), ")"), true)
		if err != nil {
			return nil, err
		}
		return c, nil
	case strings.HasPrefix(s, "at("):
		return nil, errorf(s, "one-time at(...) schedules are not supported; use cron(...) or rate(...)")
	case strings.HasPrefix(s, "@"):
		line, ok := shorthands[s]
		if !ok {
			return nil, errorf(s, "unknown shorthand (known: @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly)")
		}
		c, err := parseCron(s, line, false)
		if err != nil {
			return nil, err
		}
		return c, nil
	}
	c, err := parseCron(s, s, false)
	if err != nil {
		return nil, err
	}
	return c, nil
}

var shorthands = map[string]string{
	"@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
	"@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
}

// Rate fires every Every, counted from Start.
type Rate struct {
	// Every is the period: a whole number of minutes.
	Every time.Duration
	// Start anchors the schedule: it fires at Start + k·Every for k ≥ 1
	// (EventBridge starts a rate when the rule is created). The zero
	// time means the Unix epoch.
	Start time.Time
	expr  string
}

var rateRE = regexp.MustCompile(`^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$`)

// maxRateDays bounds rate values so that periods stay far from overflow.
const maxRateDays = 36500

func parseRate(s string) (*Rate, error) {
	m := rateRE.FindStringSubmatch(s)
	if m == nil {
		return nil, errorf(s, "want rate(value unit) with a positive whole value, one space, and unit minute(s), hour(s) or day(s)")
	}
	v, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil || v < 1 {
		return nil, errorf(s, "value %s: want a whole number of at least 1", m[1])
	}
	unit := m[2]
	plural := strings.HasSuffix(unit, "s")
	if v == 1 && plural {
		return nil, errorf(s, "with value 1 the unit must be singular (%s)", strings.TrimSuffix(unit, "s"))
	}
	if v > 1 && !plural {
		return nil, errorf(s, "with a value above 1 the unit must be plural (%ss)", unit)
	}
	per := map[string]time.Duration{"minute": time.Minute, "hour": time.Hour, "day": 24 * time.Hour}[strings.TrimSuffix(unit, "s")]
	if time.Duration(v) > maxRateDays*24*time.Hour/per {
		return nil, errorf(s, "period longer than %d days", maxRateDays)
	}
	return &Rate{Every: time.Duration(v) * per, expr: s}, nil
}

// Next returns Start + k·Every for the smallest k ≥ 1 that is after
// after (Start itself when after is before it).
func (r *Rate) Next(after time.Time) time.Time {
	start := r.Start
	if start.IsZero() {
		start = time.Unix(0, 0)
	}
	if after.Before(start) {
		return start.UTC()
	}
	// Count periods in two steps so that long spans do not overflow a
	// Duration.
	const chunk = 100 * 365 * 24 * time.Hour
	for after.Sub(start) >= chunk {
		start = start.Add(chunk / r.Every * r.Every)
	}
	k := after.Sub(start)/r.Every + 1
	return start.Add(k * r.Every).UTC()
}

// String returns the expression.
func (r *Rate) String() string {
	if r.expr != "" {
		return r.expr
	}
	return fmt.Sprintf("every %v", r.Every)
}

// Cron is a cron expression.
type Cron struct {
	expr string
	aws  bool // EventBridge cron(...): year field, '?' semantics

	minutes, hours, doms, months, dows, years bits
	// Day selection. For EventBridge exactly one of domAny and dowAny is
	// set ('?'). For classic lines they mark a field starting with '*'.
	domAny, dowAny bool
	domLast        bool // L in day-of-month
	domNearest     int  // nW: n; 0 for none
	nthDay, nth    int  // d#n in day-of-week: weekday (0 = Sunday) and n; nth 0 for none
}

// bits is a set of small numbers (offsets from a field's minimum).
type bits [4]uint64

func (b *bits) set(i int)      { b[i/64] |= 1 << (i % 64) }
func (b *bits) has(i int) bool { return i >= 0 && i < 256 && b[i/64]&(1<<(i%64)) != 0 }

// next returns the smallest member ≥ i, or -1.
func (b *bits) next(i int) int {
	for ; i < 256; i++ {
		if b.has(i) {
			return i
		}
	}
	return -1
}

// field describes one field of an expression.
type field struct {
	name     string
	min, max int
	names    map[string]int
}

var (
	monthNames = map[string]int{"JAN": 1, "FEB": 2, "MAR": 3, "APR": 4, "MAY": 5, "JUN": 6,
		"JUL": 7, "AUG": 8, "SEP": 9, "OCT": 10, "NOV": 11, "DEC": 12}
	awsDays     = map[string]int{"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}
	classicDays = map[string]int{"SUN": 0, "MON": 1, "TUE": 2, "WED": 3, "THU": 4, "FRI": 5, "SAT": 6}

	fMinutes   = field{"minutes", 0, 59, nil}
	fHours     = field{"hours", 0, 23, nil}
	fDOM       = field{"day-of-month", 1, 31, nil}
	fMonth     = field{"month", 1, 12, monthNames}
	fAWSDOW    = field{"day-of-week", 1, 7, awsDays}
	fClassicDW = field{"day-of-week", 0, 7, classicDays}
	fYear      = field{"year", 1970, 2199, nil}
)

func parseCron(expr, body string, aws bool) (*Cron, error) {
	fs := strings.Fields(body)
	c := &Cron{expr: expr, aws: aws}
	if aws {
		if len(fs) != 6 {
			return nil, errorf(expr, "cron(...) takes exactly six fields (minutes hours day-of-month month day-of-week year), got %d", len(fs))
		}
	} else if len(fs) != 5 {
		if len(fs) == 6 {
			return nil, errorf(expr, "six fields: write EventBridge expressions as cron(minutes hours day-of-month month day-of-week year)")
		}
		return nil, errorf(expr, "a cron line takes five fields (minute hour day-of-month month day-of-week), got %d", len(fs))
	}
	fail := func(f field, format string, args ...any) error {
		return errorf(expr, "%s %s", f.name, fmt.Sprintf(format, args...))
	}
	// Wildcards that belong to other fields, or to cron(...) only.
	for i, s := range fs {
		f := []field{fMinutes, fHours, fDOM, fMonth, fAWSDOW, fYear}[i]
		u := stripNames(s, f)
		if !aws {
			if strings.ContainsAny(u, "?LW#") {
				return nil, fail(f, "%q: ?, L, W and # are only accepted in cron(...) expressions", s)
			}
			continue
		}
		switch {
		case strings.Contains(u, "?") && i != 2 && i != 4:
			return nil, fail(f, "%q: ? is allowed only in day-of-month or day-of-week", s)
		case strings.Contains(u, "L") && i != 2 && i != 4:
			return nil, fail(f, "%q: L is allowed only in day-of-month or day-of-week", s)
		case strings.Contains(u, "W") && i != 2:
			return nil, fail(f, "%q: W is allowed only in day-of-month", s)
		case strings.Contains(u, "#") && i != 4:
			return nil, fail(f, "%q: # is allowed only in day-of-week", s)
		}
	}
	var err error
	if c.minutes, err = parseField(fs[0], fMinutes, fail); err != nil {
		return nil, err
	}
	if c.hours, err = parseField(fs[1], fHours, fail); err != nil {
		return nil, err
	}
	if c.months, err = parseField(fs[3], fMonth, fail); err != nil {
		return nil, err
	}
	if aws {
		err = c.parseAWSDays(fs[2], fs[4], fail)
	} else {
		err = c.parseClassicDays(fs[2], fs[4], fail)
	}
	if err != nil {
		return nil, err
	}
	if aws {
		if c.years, err = parseField(fs[5], fYear, fail); err != nil {
			return nil, err
		}
	}
	if err := c.checkDaysExist(fail); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *Cron) parseAWSDays(dom, dow string, fail func(field, string, ...any) error) error {
	switch {
	case dom == "?" && dow == "?":
		return errorf(c.expr, "day-of-month and day-of-week are both ?: exactly one of them must be ?")
	case dom != "?" && dow != "?":
		return errorf(c.expr, "day-of-month %q and day-of-week %q: exactly one of them must be ? (EventBridge cannot combine them)", dom, dow)
	}
	if strings.Contains(dom, "?") && dom != "?" {
		return fail(fDOM, "%q: ? must stand alone", dom)
	}
	if strings.Contains(dow, "?") && dow != "?" {
		return fail(fAWSDOW, "%q: ? must stand alone", dow)
	}
	c.domAny, c.dowAny = dom == "?", dow == "?"
	if !c.domAny {
		switch {
		case dom == "L":
			c.domLast = true
		case dom == "LW":
			return fail(fDOM, "%q: LW (last weekday of the month) is not supported", dom)
		case strings.HasPrefix(dom, "L-"):
			return fail(fDOM, "%q: L-n (n days before the last) is not supported", dom)
		case strings.Contains(dom, "L"):
			return fail(fDOM, "%q: L must stand alone (the last day of the month)", dom)
		case strings.HasSuffix(dom, "W"):
			n, ok := number(strings.TrimSuffix(dom, "W"))
			if !ok {
				return fail(fDOM, "%q: W takes one day, e.g. 3W (the weekday nearest the 3rd); no lists, ranges or steps", dom)
			}
			if n < 1 || n > 31 {
				return fail(fDOM, "%q: day %d out of range 1-31", dom, n)
			}
			c.domNearest = n
		case strings.Contains(dom, "W"):
			return fail(fDOM, "%q: W follows one day, e.g. 15W", dom)
		default:
			b, err := parseField(dom, fDOM, fail)
			if err != nil {
				return err
			}
			c.doms = b
		}
	}
	if !c.dowAny {
		switch {
		case dow == "L":
			c.dows.set(6) // the last day of the week: Saturday
		case strings.Contains(dow, "#"):
			if strings.Contains(dow, ",") {
				return fail(fAWSDOW, "%q: with # the field takes one expression only (e.g. 3#2, not 3#1,6#3)", dow)
			}
			d, n, _ := strings.Cut(dow, "#")
			wd, ok := value(d, fAWSDOW)
			if !ok {
				return fail(fAWSDOW, "%q: want WEEKDAY#N, WEEKDAY 1-7 or SUN-SAT", dow)
			}
			k, ok := number(n)
			if !ok || k < 1 || k > 5 {
				return fail(fAWSDOW, "%q: the N of WEEKDAY#N runs 1-5", dow)
			}
			c.nthDay, c.nth = wd-1, k
		case strings.HasSuffix(dow, "L"):
			return fail(fAWSDOW, "%q: nL (the last given weekday of the month) is not supported; L alone means the last day of the week", dow)
		case strings.Contains(dow, "L"):
			return fail(fAWSDOW, "%q: L must stand alone (the last day of the week)", dow)
		default:
			b, err := parseField(dow, fAWSDOW, fail)
			if err != nil {
				return err
			}
			for v := 1; v <= 7; v++ {
				if b.has(v - fAWSDOW.min) {
					c.dows.set(v - 1)
				}
			}
		}
	}
	return nil
}

func (c *Cron) parseClassicDays(dom, dow string, fail func(field, string, ...any) error) error {
	var err error
	if c.doms, err = parseField(dom, fDOM, fail); err != nil {
		return err
	}
	b, err := parseField(dow, fClassicDW, fail)
	if err != nil {
		return err
	}
	for v := 0; v <= 7; v++ {
		if b.has(v) {
			c.dows.set(v % 7)
		}
	}
	c.domAny, c.dowAny = strings.HasPrefix(dom, "*"), strings.HasPrefix(dow, "*")
	return nil
}

// checkDaysExist refuses day-of-month selections that no selected month
// has (30 2 ...): such a schedule would never fire.
func (c *Cron) checkDaysExist(fail func(field, string, ...any) error) error {
	if c.domAny || c.domLast || (!c.aws && !c.dowAny) {
		return nil
	}
	first := c.domNearest
	if first == 0 {
		first = c.doms.next(0) + fDOM.min
	}
	for m := 1; m <= 12; m++ {
		if c.months.has(m-fMonth.min) && first <= maxDays[m] {
			return nil
		}
	}
	return fail(fDOM, "day %d never occurs in the months given", first)
}

// stripNames removes the names of f from s (case-insensitively), so that
// the letters of JUL or WED are not taken for wildcards.
func stripNames(s string, f field) string {
	u := strings.ToUpper(s)
	for n := range f.names {
		u = strings.ReplaceAll(u, n, "")
	}
	return u
}

// maxDays is the longest each month gets (February in leap years).
var maxDays = [13]int{0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}

// number parses a short unsigned decimal.
func number(s string) (int, bool) {
	if s == "" || len(s) > 4 {
		return 0, false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(s)
	return n, err == nil
}

// value parses a number or a name of f, checking its range.
func value(s string, f field) (int, bool) {
	if v, ok := f.names[strings.ToUpper(s)]; ok {
		return v, true
	}
	v, ok := number(s)
	if !ok || v < f.min || v > f.max {
		return 0, false
	}
	return v, true
}

// parseField parses a list of terms: * | v | a-b, each optionally
// followed by /step (v/step runs from v to the field's maximum).
func parseField(s string, f field, fail func(field, string, ...any) error) (bits, error) {
	var b bits
	if s == "" {
		return b, fail(f, "is empty")
	}
	for _, term := range strings.Split(s, ",") {
		base, stepStr, hasStep := strings.Cut(term, "/")
		step := 1
		if hasStep {
			n, ok := number(stepStr)
			if !ok || n < 1 {
				return b, fail(f, "%q: step %q: want a whole number of at least 1", s, stepStr)
			}
			step = n
		}
		var lo, hi int
		switch {
		case term == "":
			return b, fail(f, "%q: empty list element", s)
		case base == "*":
			lo, hi = f.min, f.max
		case strings.Contains(base, "-"):
			a, z, _ := strings.Cut(base, "-")
			var ok1, ok2 bool
			lo, ok1 = value(a, f)
			hi, ok2 = value(z, f)
			if !ok1 || !ok2 {
				return b, fail(f, "%q: range %q: want values %s", s, base, f.describe())
			}
			if lo > hi {
				return b, fail(f, "%q: range %q runs backwards", s, base)
			}
		default:
			v, ok := value(base, f)
			if !ok {
				return b, fail(f, "%q: %q is not a value %s", s, base, f.describe())
			}
			lo, hi = v, v
			if hasStep {
				hi = f.max
			}
		}
		for v := lo; v <= hi; v += step {
			b.set(v - f.min)
		}
	}
	return b, nil
}

func (f field) describe() string {
	d := fmt.Sprintf("%d-%d", f.min, f.max)
	switch f.name {
	case "month":
		d += " or JAN-DEC"
	case "day-of-week":
		d += " or SUN-SAT"
	}
	return d
}

// String returns the expression.
func (c *Cron) String() string { return c.expr }

// Next returns the first whole minute after after at which c fires, in
// UTC, or the zero time when there is none (before the year 2200 for
// cron(...); within ten years for a classic line, which then never fires).
func (c *Cron) Next(after time.Time) time.Time {
	t := after.UTC().Truncate(time.Minute).Add(time.Minute)
	limit := t.Year() + 10
	if c.aws {
		limit = fYear.max
		if t.Year() < fYear.min {
			t = time.Date(fYear.min, 1, 1, 0, 0, 0, 0, time.UTC)
		}
	}
	for t.Year() <= limit {
		y, m, d := t.Date()
		switch {
		case c.aws && !c.years.has(y-fYear.min):
			t = time.Date(y+1, 1, 1, 0, 0, 0, 0, time.UTC)
			continue
		case !c.months.has(int(m) - fMonth.min):
			t = time.Date(y, m+1, 1, 0, 0, 0, 0, time.UTC)
			continue
		case !c.dayMatches(y, m, d):
			t = time.Date(y, m, d+1, 0, 0, 0, 0, time.UTC)
			continue
		}
		h := c.hours.next(t.Hour())
		if h < 0 {
			t = time.Date(y, m, d+1, 0, 0, 0, 0, time.UTC)
			continue
		}
		min := 0
		if h == t.Hour() {
			min = t.Minute()
		}
		mi := c.minutes.next(min)
		if mi < 0 || mi > 59 {
			t = time.Date(y, m, d, h+1, 0, 0, 0, time.UTC)
			continue
		}
		return time.Date(y, m, d, h, mi, 0, 0, time.UTC)
	}
	return time.Time{}
}

// daysIn returns the number of days of month m of year y.
func daysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

func (c *Cron) dayMatches(y int, m time.Month, d int) bool {
	wd := int(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Weekday())
	domOK := func() bool {
		switch {
		case c.domLast:
			return d == daysIn(y, m)
		case c.domNearest > 0:
			return d == nearestWeekday(y, m, c.domNearest)
		}
		return c.doms.has(d - fDOM.min)
	}
	dowOK := func() bool {
		if c.nth > 0 {
			return wd == c.nthDay && (d-1)/7+1 == c.nth
		}
		return c.dows.has(wd)
	}
	if c.aws {
		if c.domAny {
			return dowOK()
		}
		return domOK()
	}
	switch {
	case c.domAny && c.dowAny:
		return true
	case c.domAny:
		return dowOK()
	case c.dowAny:
		return domOK()
	}
	return domOK() || dowOK()
}

// nearestWeekday returns the weekday (Monday to Friday) of month m
// nearest to day n without leaving the month, or 0 when the month has no
// day n.
func nearestWeekday(y int, m time.Month, n int) int {
	last := daysIn(y, m)
	if n > last {
		return 0
	}
	switch time.Date(y, m, n, 0, 0, 0, 0, time.UTC).Weekday() {
	case time.Saturday:
		if n == 1 {
			return 3 // Monday the 3rd
		}
		return n - 1
	case time.Sunday:
		if n == last {
			return n - 2 // Friday
		}
		return n + 1
	}
	return n
}
