package sim

import (
	"sort"
	"time"

	"github.com/firnhq/firn/internal/lifecycle"
)

// Segment is a stretch of whole days that Weight identical objects of
// Size bytes spend in one storage class. Days count from the start of the
// simulation; day d runs from 00:00 UTC to 00:00 UTC the next day.
type Segment struct {
	Class  string
	Size   int64
	Weight float64
	// Start and End bound the segment: days [Start, End). End < 0 or at
	// or past the horizon means the objects are still there at its end.
	Start, End int
	// Entered is the day the objects entered Class (at most Start; before
	// day 0 for objects already there): minimum storage durations and
	// Intelligent-Tiering's tiers count from it.
	Entered int
	// Closed says the segment ends at End because the objects were
	// deleted, overwritten or transitioned out: leaving before the class's
	// minimum duration is charged for the days left.
	Closed bool
	// Transitioned says a lifecycle transition moved the objects into
	// Class on Start: one transition request each.
	Transitioned bool
}

// ClassMonth is one class in one month: its contents at the end of the
// month and what the month cost, by kind of charge, in dollars.
type ClassMonth struct {
	Class   string  `json:"class"`
	Bytes   float64 `json:"bytes"`   // stored bytes (not billable bytes) at the end of the month
	Objects float64 `json:"objects"` // objects at the end of the month
	// Storage is GB-months of billable bytes (minimum billable size and
	// the archive overhead billed at this class's rate included).
	Storage float64 `json:"storage"`
	// Overhead is the per-object metadata billed at STANDARD's rate
	// (8 KiB per GLACIER or DEEP_ARCHIVE object).
	Overhead float64 `json:"overhead"`
	// EarlyDelete is the minimum-duration charge for objects that left
	// the class (deleted, overwritten, transitioned) too soon.
	EarlyDelete float64 `json:"early_delete"`
	// Transitions is the lifecycle transition requests into the class.
	Transitions float64 `json:"transitions"`
	// Monitoring is Intelligent-Tiering's per-object monitoring fee.
	Monitoring float64 `json:"monitoring"`
}

// Cost is the month's total for the class.
func (c ClassMonth) Cost() float64 {
	return c.Storage + c.Overhead + c.EarlyDelete + c.Transitions + c.Monitoring
}

// Month is one calendar month of a run.
type Month struct {
	Month   int          `json:"month"` // 1-based
	Start   time.Time    `json:"start"`
	Classes []ClassMonth `json:"classes"` // classes holding objects or charged, in ClassOrder
	Cost    float64      `json:"cost"`
}

// ClassOrder is the order classes are reported in, warm to cold.
var ClassOrder = []string{
	lifecycle.Standard, lifecycle.ReducedRedundancy, lifecycle.IntelligentTiering, lifecycle.StandardIA,
	lifecycle.OnezoneIA, lifecycle.GlacierIR, lifecycle.Glacier, lifecycle.DeepArchive,
}

// Calendar maps simulation days to calendar months, and prorates monthly
// prices: a day in a month of n days costs 1/n of a month.
type Calendar struct {
	start  time.Time
	starts []int     // first day of each month; starts[months] is the horizon
	cum    []float64 // cum[d]: months' worth of days before day d
}

// maxMinDays bounds the minimum storage durations the calendar can
// charge past the horizon.
const maxMinDays = 3660

// NewCalendar starts at start (truncated to 00:00 UTC) and runs months
// calendar months.
func NewCalendar(start time.Time, months int) *Calendar {
	start = start.UTC().Truncate(24 * time.Hour)
	c := &Calendar{start: start}
	for m := 0; m <= months; m++ {
		c.starts = append(c.starts, int(start.AddDate(0, m, 0).Sub(start)/(24*time.Hour)))
	}
	n := c.Horizon() + maxMinDays
	c.cum = make([]float64, n+1)
	for d := range n {
		t := start.AddDate(0, 0, d)
		days := time.Date(t.Year(), t.Month()+1, 0, 0, 0, 0, 0, time.UTC).Day()
		c.cum[d+1] = c.cum[d] + 1/float64(days)
	}
	return c
}

// Horizon is the number of days simulated.
func (c *Calendar) Horizon() int { return c.starts[len(c.starts)-1] }

// Months is the number of months simulated.
func (c *Calendar) Months() int { return len(c.starts) - 1 }

// Day returns the day t falls on (negative before the start).
func (c *Calendar) Day(t time.Time) int {
	d := t.Sub(c.start)
	n := int(d / (24 * time.Hour))
	if d < 0 && d%(24*time.Hour) != 0 {
		n--
	}
	return n
}

// Time returns 00:00 UTC on day d.
func (c *Calendar) Time(d int) time.Time { return c.start.AddDate(0, 0, d) }

// MonthOf returns the month index (0-based) of day d, d in [0, Horizon).
func (c *Calendar) MonthOf(d int) int {
	return sort.SearchInts(c.starts, d+1) - 1
}

// frac returns the months' worth of the days [a, b), both clamped to
// what the calendar covers.
func (c *Calendar) frac(a, b int) float64 {
	a = max(0, min(a, len(c.cum)-1))
	b = max(0, min(b, len(c.cum)-1))
	if b <= a {
		return 0
	}
	return c.cum[b] - c.cum[a]
}

// Ledger adds up segments into monthly charges and end-of-month contents.
type Ledger struct {
	cal    *Calendar
	prices Prices
	months []map[string]*ClassMonth
	bytes  map[string][]float64 // per class, per day: change of stored bytes
	objs   map[string][]float64 // per class, per day: change of objects
}

// NewLedger returns an empty ledger over cal, pricing with p.
func NewLedger(cal *Calendar, p Prices) *Ledger {
	l := &Ledger{cal: cal, prices: p, bytes: map[string][]float64{}, objs: map[string][]float64{}}
	for range cal.Months() {
		l.months = append(l.months, map[string]*ClassMonth{})
	}
	return l
}

// price returns the class's prices; a class the table lacks (such as
// REDUCED_REDUNDANCY) is priced as STANDARD.
func (l *Ledger) price(class string) ClassPrice {
	if p, ok := l.prices.Classes[class]; ok {
		return p
	}
	return l.prices.Classes[lifecycle.Standard]
}

func (l *Ledger) cell(m int, class string) *ClassMonth {
	c := l.months[m][class]
	if c == nil {
		c = &ClassMonth{Class: class}
		l.months[m][class] = c
	}
	return c
}

// spread adds perMonth (dollars per month) over days [a, b), month by
// month, to the field of class that f picks.
func (l *Ledger) spread(class string, a, b int, perMonth float64, f func(*ClassMonth) *float64) {
	a, b = max(a, 0), min(b, l.cal.Horizon())
	if b <= a || perMonth == 0 {
		return
	}
	for m := l.cal.MonthOf(a); m < l.cal.Months() && l.cal.starts[m] < b; m++ {
		lo, hi := max(a, l.cal.starts[m]), min(b, l.cal.starts[m+1])
		*f(l.cell(m, class)) += perMonth * l.cal.frac(lo, hi)
	}
}

// Billable returns the bytes an object of size bytes is billed for in
// class at the class's own rate and at STANDARD's rate.
func (p Prices) Billable(class string, size int64) (atClass, atStandard int64) {
	cp, ok := p.Classes[class]
	if !ok {
		return size, 0
	}
	return max(size, cp.MinBillableBytes) + cp.OverheadBytes, cp.OverheadStandardBytes
}

// Add charges a segment.
func (l *Ledger) Add(s Segment) {
	h := l.cal.Horizon()
	if s.Weight == 0 || s.Start >= h {
		return
	}
	open := s.End < 0 || s.End >= h
	end := s.End
	if open {
		end = h
	}
	if end < s.Start {
		end = s.Start
	}
	start := max(s.Start, 0)
	// Contents.
	if l.bytes[s.Class] == nil {
		l.bytes[s.Class] = make([]float64, h+1)
		l.objs[s.Class] = make([]float64, h+1)
	}
	l.bytes[s.Class][start] += s.Weight * float64(s.Size)
	l.objs[s.Class][start] += s.Weight
	l.bytes[s.Class][end] -= s.Weight * float64(s.Size)
	l.objs[s.Class][end] -= s.Weight

	p := l.price(s.Class)
	classBytes, stdBytes := l.prices.Billable(s.Class, s.Size)
	gb := s.Weight * float64(classBytes) / GB
	storage := func(c *ClassMonth) *float64 { return &c.Storage }
	if s.Class == lifecycle.IntelligentTiering && s.Size >= lifecycle.SmallObject {
		// No access assumed: Frequent for 30 days, Infrequent until day
		// 90, Archive Instant after; monitored throughout.
		e := s.Entered
		l.spread(s.Class, start, min(end, e+30), gb*p.StorageGBMonth, storage)
		l.spread(s.Class, max(start, e+30), min(end, e+90), gb*p.InfrequentGBMonth, storage)
		l.spread(s.Class, max(start, e+90), end, gb*p.ArchiveInstantGBMonth, storage)
		l.spread(s.Class, start, end, s.Weight*p.MonitoringPer1000/1000, func(c *ClassMonth) *float64 { return &c.Monitoring })
	} else {
		l.spread(s.Class, start, end, gb*p.StorageGBMonth, storage)
	}
	if stdBytes > 0 {
		l.spread(s.Class, start, end, s.Weight*float64(stdBytes)/GB*l.price(lifecycle.Standard).StorageGBMonth,
			func(c *ClassMonth) *float64 { return &c.Overhead })
	}
	if s.Transitioned && s.Start >= 0 {
		l.cell(l.cal.MonthOf(s.Start), s.Class).Transitions += s.Weight * p.TransitionPer1000 / 1000
	}
	if s.Closed && !open && p.MinDays > 0 && end-s.Entered < p.MinDays {
		// The days left are charged at the rate they would have been
		// stored at, in the month the objects left.
		l.cell(l.cal.MonthOf(end), s.Class).EarlyDelete += gb * p.StorageGBMonth * l.cal.frac(end, s.Entered+p.MinDays)
	}
}

// Months returns the ledger's months.
func (l *Ledger) Months() []Month {
	out := make([]Month, l.cal.Months())
	run := map[string][2]float64{}
	classes := classList(l.bytes, l.months)
	for m := range out {
		out[m] = Month{Month: m + 1, Start: l.cal.Time(l.cal.starts[m])}
		for _, class := range classes {
			r := run[class]
			if b := l.bytes[class]; b != nil {
				for d := l.cal.starts[m]; d < l.cal.starts[m+1]; d++ {
					r[0] += b[d]
					r[1] += l.objs[class][d]
				}
			}
			run[class] = r
			cm := ClassMonth{Class: class}
			if c := l.months[m][class]; c != nil {
				cm = *c
			}
			cm.Bytes, cm.Objects = clean(r[0]), clean(r[1])
			if cm.Objects == 0 && cm.Cost() == 0 {
				continue
			}
			out[m].Classes = append(out[m].Classes, cm)
			out[m].Cost += cm.Cost()
		}
	}
	return out
}

// clean turns the float residue of adding and removing the same amounts
// into zero.
func clean(v float64) float64 {
	if v < 1e-6 && v > -1e-6 {
		return 0
	}
	return v
}

// classList returns every class seen, in ClassOrder, unknown ones last
// in name order.
func classList(bytes map[string][]float64, months []map[string]*ClassMonth) []string {
	seen := map[string]bool{}
	for c := range bytes {
		seen[c] = true
	}
	for _, m := range months {
		for c := range m {
			seen[c] = true
		}
	}
	var out []string
	for _, c := range ClassOrder {
		if seen[c] {
			out = append(out, c)
			delete(seen, c)
		}
	}
	var rest []string
	for c := range seen {
		rest = append(rest, c)
	}
	sort.Strings(rest)
	return append(out, rest...)
}
