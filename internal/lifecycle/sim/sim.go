// Package sim answers "what will this lifecycle policy cost, and save?":
// it plays a bucket's objects forward day by day under a lifecycle
// configuration and prices every month with a price table.
//
// Due dates come from lifecycle.Configuration.Schedule, the evaluator the
// server applies rules with, so the simulation and the server agree on
// which day each object moves. Time runs in whole days from 00:00 UTC on
// the start date; months are calendar months.
//
// # Cost model
//
// Storage is billed per GB-month (GB = 2^30 bytes), a day costing
// 1/(days in its month) of a month. On top of it, per class (defaults in
// DefaultPrices):
//
//   - minimum billable size: smaller objects are billed as that size
//     (128 KiB in STANDARD_IA, ONEZONE_IA and GLACIER_IR);
//   - archive overhead: GLACIER and DEEP_ARCHIVE objects carry 32 KiB
//     billed at the class's rate and 8 KiB at STANDARD's;
//   - minimum storage duration: objects deleted, overwritten or
//     transitioned out of a class before MinDays are charged for the days
//     left, at the class's rate, in the month they leave (30 days for the
//     IA classes, 90 for GLACIER_IR and GLACIER, 180 for DEEP_ARCHIVE);
//   - lifecycle transitions: a request per object moved, priced per 1,000
//     by the target class;
//   - INTELLIGENT_TIERING objects of 128 KiB or more are assumed never
//     read: Frequent for 30 days, Infrequent until day 90, Archive Instant
//     after, plus the monitoring fee.
//
// Requests other than transitions, retrievals and data transfer are the
// same with and without a policy and are not counted.
//
// # Populations
//
// A described Population is simulated with stratified samples rather
// than one object at a time: each day's arrivals of a group stand for
// SizeStrata sizes (quantiles of the size distribution) times
// LifetimeStrata lifetimes (quantiles of the exponential lifetime the
// deletion and overwrite rates give), each carrying its share of the
// objects as a weight. The result is deterministic: the same input gives
// the same output.
//
// # Caveats
//
//   - Noncurrent versions count NewerNoncurrent as 0, so rules with
//     NewerNoncurrentVersions act on every noncurrent version.
//   - Objects of a live bucket already in a class are taken to have
//     entered it when they were created, and only current versions are
//     simulated.
//   - Delete markers and incomplete multipart uploads cost nothing here.
//   - STANDARD is priced at its first tier (first 50 TB) throughout.
package sim

import (
	"errors"
	"math"
	"time"

	"github.com/firnhq/firn/internal/lifecycle"
)

// Defaults of Input.
const (
	DefaultMonths         = 36
	DefaultSizeStrata     = 16
	DefaultLifetimeStrata = 16
)

// daysPerMonth is the month that deletion and overwrite rates are per.
const daysPerMonth = 365.2425 / 12

// Input is what to simulate.
type Input struct {
	// Config is the policy; nil simulates no policy.
	Config *lifecycle.Configuration
	// MinimumSize is the bucket's transition default minimum object size.
	MinimumSize lifecycle.MinimumSize
	// Prices is the price table; zero means DefaultPrices.
	Prices Prices
	// Start is the first day (truncated to 00:00 UTC); Months how many
	// calendar months to run (0: DefaultMonths).
	Start  time.Time
	Months int

	// Exactly one of Population and Objects says what is in the bucket.
	Population *Population
	// Objects are a live bucket's current objects (Key, Size, Tags,
	// StorageClass, Created); Versioned is the bucket's versioning.
	Objects   []lifecycle.Object
	Versioned bool

	// SizeStrata and LifetimeStrata set the sampling of a Population
	// (0: the defaults).
	SizeStrata, LifetimeStrata int
}

// Run is one simulation: months and the total cost.
type Run struct {
	Months []Month `json:"months"`
	Cost   float64 `json:"cost"`
}

// Report compares the policy with no policy.
type Report struct {
	Start  time.Time `json:"start"`
	Months int       `json:"months"`
	Prices string    `json:"prices"`
	// Policy is the run under the configuration; Baseline the run with
	// no lifecycle rules (objects stay in the class they are in: STANDARD
	// for a described population).
	Policy   Run `json:"policy"`
	Baseline Run `json:"baseline"`
	// Savings is Baseline.Cost - Policy.Cost (negative: the policy costs
	// more over the period).
	Savings float64 `json:"savings"`
}

// Simulate runs the input with its policy and without, and compares.
func Simulate(in Input) (Report, error) {
	if (in.Population == nil) == (in.Objects == nil) {
		return Report{}, errors.New("simulate: give a population or a bucket's objects, one of the two")
	}
	if in.Population != nil {
		if err := in.Population.Validate(); err != nil {
			return Report{}, err
		}
	}
	if in.Months <= 0 {
		in.Months = DefaultMonths
	}
	if in.Prices.Classes == nil {
		in.Prices = DefaultPrices()
	}
	if in.SizeStrata <= 0 {
		in.SizeStrata = DefaultSizeStrata
	}
	if in.LifetimeStrata <= 0 {
		in.LifetimeStrata = DefaultLifetimeStrata
	}
	cal := NewCalendar(in.Start, in.Months)
	r := Report{Start: cal.Time(0), Months: in.Months, Prices: in.Prices.Name}
	r.Policy = run(in, in.Config, cal)
	r.Baseline = run(in, nil, cal)
	r.Savings = r.Baseline.Cost - r.Policy.Cost
	return r, nil
}

// Total sums months.
func total(ms []Month) float64 {
	var t float64
	for _, m := range ms {
		t += m.Cost
	}
	return t
}

// unit is a sample: Weight identical objects.
type unit struct {
	obj    lifecycle.Object
	day    int // creation day
	weight float64
	// end is the day the objects stop being current by deletion or
	// overwrite (-1: not within the horizon); share is the part of them
	// overwritten, which come back as new objects on that day.
	end   int
	share float64
	slot  int // the (group, size) slot overwrites come back in
}

type runner struct {
	cfg     *lifecycle.Configuration
	opt     lifecycle.Options
	cal     *Calendar
	led     *Ledger
	pending [][]float64 // per day, per slot: overwritten objects coming back
	slots   int         // slots of a population
}

func run(in Input, cfg *lifecycle.Configuration, cal *Calendar) Run {
	r := &runner{cfg: cfg, opt: lifecycle.Options{MinimumSize: in.MinimumSize}, cal: cal, led: NewLedger(cal, in.Prices)}
	if in.Objects != nil {
		for _, o := range in.Objects {
			o.Versioned = in.Versioned
			o.Noncurrent, o.NoncurrentSince, o.NewerNoncurrent = false, time.Time{}, 0
			r.process(unit{obj: o, day: cal.Day(o.Created), weight: 1, end: -1, slot: -1})
		}
	} else {
		r.population(in)
	}
	ms := r.led.Months()
	return Run{Months: ms, Cost: total(ms)}
}

// slotInfo is what a slot's objects look like.
type slotInfo struct {
	group int
	size  int64
}

func (r *runner) population(in Input) {
	p := in.Population
	h := r.cal.Horizon()
	var slots []slotInfo
	type groupSlots struct{ initial, arrivals []int }
	gs := make([]groupSlots, len(p.Groups))
	for gi, g := range p.Groups {
		add := func(s Size) []int {
			var ids []int
			for _, size := range s.quantiles(in.SizeStrata) {
				ids = append(ids, len(slots))
				slots = append(slots, slotInfo{gi, size})
			}
			return ids
		}
		if g.Initial.Count > 0 {
			gs[gi].initial = add(g.Initial.Size)
		}
		if g.Arrivals.PerMonth > 0 {
			gs[gi].arrivals = add(g.Arrivals.Size)
		}
	}
	r.pending, r.slots = make([][]float64, h), len(slots)
	object := func(s slotInfo, day int) lifecycle.Object {
		g := p.Groups[s.group]
		return lifecycle.Object{Key: g.Prefix + "object", Size: s.size, Tags: g.Tags, Versioned: p.Versioned,
			Created: r.cal.Time(day).Add(12 * time.Hour)}
	}
	// lifetimes returns each lifetime stratum's end day for objects
	// current from day from.
	lifetimes := func(g Group, from int) []int {
		q := g.DeletionRate + g.OverwriteRate
		if q == 0 {
			return []int{-1}
		}
		perDay := -math.Log(1-q) / daysPerMonth
		n := in.LifetimeStrata
		out := make([]int, n)
		for j := range n {
			pj := (float64(j) + 0.5) / float64(n)
			l := max(1, int(math.Ceil(-math.Log(1-pj)/perDay)))
			out[j] = from + l
			if out[j] >= h {
				out[j] = -1
			}
		}
		return out
	}
	spawn := func(slot int, day, from int, weight float64) {
		s := slots[slot]
		g := p.Groups[s.group]
		ends := lifetimes(g, from)
		share := 0.0
		if q := g.DeletionRate + g.OverwriteRate; q > 0 {
			share = g.OverwriteRate / q
		}
		for _, end := range ends {
			r.process(unit{obj: object(s, day), day: day, weight: weight / float64(len(ends)), end: end, share: share, slot: slot})
		}
	}
	// Initial objects, spread over their ages.
	for gi, g := range p.Groups {
		ids := gs[gi].initial
		if len(ids) == 0 {
			continue
		}
		ages := []int{g.Initial.AgeDays}
		if g.Initial.MaxAgeDays > g.Initial.AgeDays {
			n := in.LifetimeStrata
			ages = ages[:0]
			for j := range n {
				span := float64(g.Initial.MaxAgeDays - g.Initial.AgeDays)
				ages = append(ages, g.Initial.AgeDays+int(math.Round(span*(float64(j)+0.5)/float64(n))))
			}
		}
		w := g.Initial.Count / float64(len(ids)) / float64(len(ages))
		for _, id := range ids {
			for _, age := range ages {
				spawn(id, -age, 0, w)
			}
		}
	}
	// Arrivals and the objects that overwrite others, day by day.
	for d := range h {
		m := r.cal.MonthOf(d)
		daysInMonth := r.cal.starts[m+1] - r.cal.starts[m]
		for gi, g := range p.Groups {
			for _, id := range gs[gi].arrivals {
				w := g.Arrivals.PerMonth / float64(daysInMonth) / float64(len(gs[gi].arrivals))
				spawn(id, d, d, w)
			}
		}
		for slot, w := range r.pending[d] {
			if w > 0 {
				spawn(slot, d, d, w)
			}
		}
		r.pending[d] = nil
	}
}

// process plays one unit's future and charges it.
func (r *runner) process(u unit) {
	h := r.cal.Horizon()
	class := u.obj.StorageClass
	if class == "" {
		class = lifecycle.Standard
	}
	seg := Segment{Class: class, Size: u.obj.Size, Weight: u.weight, Start: max(u.day, 0), Entered: u.day}
	emit := func(end int, closed bool) {
		seg.End, seg.Closed = end, closed
		r.led.Add(seg)
	}
	move := func(day int, to string) {
		emit(day, true)
		seg = Segment{Class: to, Size: u.obj.Size, Weight: u.weight, Start: day, Entered: day, Transitioned: true}
	}
	// walk applies plan's actions up to stop (exclusive of actions after
	// it; -1: the horizon) and reports whether the objects are gone.
	walk := func(plan []lifecycle.Action, stop int) (gone, expired bool) {
		for _, a := range plan {
			d := max(r.cal.Day(a.Due), seg.Start)
			if d >= h || (stop >= 0 && d > stop) {
				return false, expired
			}
			switch a.Kind {
			case lifecycle.KindTransition, lifecycle.KindNoncurrentTransition:
				move(d, a.StorageClass)
			case lifecycle.KindExpire:
				if !u.obj.Versioned {
					emit(d, true)
					return true, true
				}
				// A delete marker hides it; Schedule goes on with it
				// as a noncurrent version.
				expired, stop = true, -1
			case lifecycle.KindNoncurrentExpire, lifecycle.KindExpireDeleteMarker:
				emit(d, true)
				return true, expired
			}
		}
		return false, expired
	}
	// Actions already due on the first day (objects older than the
	// policy's day counts, dates in the past) are applied on it as the
	// engine would: one action, the one Evaluate picks among all due.
	obj, overdue := u.obj, false
	if a, ok := r.cfg.Evaluate(obj, r.cal.Time(seg.Start), r.opt); ok && r.cal.Day(a.Due) <= seg.Start {
		switch a.Kind {
		case lifecycle.KindTransition, lifecycle.KindNoncurrentTransition:
			move(seg.Start, a.StorageClass)
			obj.StorageClass = a.StorageClass
		case lifecycle.KindExpire:
			if !obj.Versioned {
				emit(seg.Start, true)
				return
			}
			obj.Noncurrent, obj.NoncurrentSince, obj.NewerNoncurrent = true, a.Due, 0
			overdue = true
		default:
			emit(seg.Start, true)
			return
		}
	}
	stop := u.end
	if overdue {
		stop = -1
	}
	gone, expired := walk(r.cfg.Schedule(obj, r.opt), stop)
	if gone {
		return
	}
	expired = expired || overdue
	if !expired && u.end >= 0 && u.end < h {
		if u.share > 0 && u.slot >= 0 && r.pending != nil {
			if r.pending[u.end] == nil {
				r.pending[u.end] = make([]float64, r.slots)
			}
			r.pending[u.end][u.slot] += u.weight * u.share
		}
		if !u.obj.Versioned {
			emit(u.end, true)
			return
		}
		nc := obj
		nc.StorageClass = seg.Class
		nc.Noncurrent, nc.NoncurrentSince, nc.NewerNoncurrent = true, r.cal.Time(u.end).Add(12*time.Hour), 0
		if gone, _ := walk(r.cfg.Schedule(nc, r.opt), -1); gone {
			return
		}
	}
	emit(-1, false)
}
