package backup

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/firnhq/firn/internal/backup/repo"
)

// Policy says which snapshots to keep in each group (same host and same
// sources). Each rule keeps the newest snapshot of each of the last N
// periods (hours, days, ISO weeks, months, years) that have one; Last
// keeps the N newest. A snapshot kept by any rule is kept.
type Policy struct {
	Last, Hourly, Daily, Weekly, Monthly, Yearly int
}

// Empty reports whether p keeps nothing (and would remove everything).
func (p Policy) Empty() bool { return p == Policy{} }

// Decision is what a policy does with one snapshot.
type Decision struct {
	Snapshot *repo.Snapshot
	Keep     bool
	Reasons  []string // the rules that keep it: "daily", "weekly", ...
}

// GroupKey names a snapshot's group: host and sources.
func GroupKey(sn *repo.Snapshot) string {
	k := sn.Host + " " + strings.Join(sn.Paths, ",")
	if sn.StdinName != "" {
		k += " <" + sn.StdinName + ">"
	}
	return k
}

// ApplyPolicy decides, per group, which snapshots p keeps, with periods
// counted in loc (nil: UTC). The result holds one decision per snapshot,
// newest first within each group, groups sorted by key.
func ApplyPolicy(sns []*repo.Snapshot, p Policy, loc *time.Location) []Decision {
	if loc == nil {
		loc = time.UTC
	}
	groups := map[string][]*repo.Snapshot{}
	var keys []string
	for _, sn := range sns {
		k := GroupKey(sn)
		if groups[k] == nil {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], sn)
	}
	sort.Strings(keys)
	type rule struct {
		name   string
		n      int
		period func(time.Time) string
	}
	rules := []rule{
		{"last", p.Last, nil},
		{"hourly", p.Hourly, func(t time.Time) string { return t.Format("2006-01-02 15") }},
		{"daily", p.Daily, func(t time.Time) string { return t.Format("2006-01-02") }},
		{"weekly", p.Weekly, func(t time.Time) string { y, w := t.ISOWeek(); return fmt.Sprintf("%d-W%02d", y, w) }},
		{"monthly", p.Monthly, func(t time.Time) string { return t.Format("2006-01") }},
		{"yearly", p.Yearly, func(t time.Time) string { return t.Format("2006") }},
	}
	var out []Decision
	for _, k := range keys {
		g := groups[k]
		sort.SliceStable(g, func(i, j int) bool { return g[i].Time.After(g[j].Time) })
		left := make([]int, len(rules))
		last := make([]string, len(rules))
		for i, r := range rules {
			left[i] = r.n
			last[i] = "\x00"
		}
		for _, sn := range g {
			d := Decision{Snapshot: sn}
			t := sn.Time.In(loc)
			for i, r := range rules {
				if left[i] <= 0 {
					continue
				}
				if r.period == nil {
					left[i]--
					d.Reasons = append(d.Reasons, r.name)
					continue
				}
				if per := r.period(t); per != last[i] {
					last[i] = per
					left[i]--
					d.Reasons = append(d.Reasons, r.name)
				}
			}
			d.Keep = len(d.Reasons) > 0
			out = append(out, d)
		}
	}
	return out
}

// Forget applies p to the snapshots of r and, unless dryRun, removes
// those it does not keep. It returns the decisions. Data is freed only by
// Prune.
func Forget(ctx context.Context, r *repo.Repository, p Policy, loc *time.Location, dryRun bool) ([]Decision, error) {
	if p.Empty() {
		return nil, fmt.Errorf("forget: empty policy would remove every snapshot; give at least one --keep rule")
	}
	sns, err := r.Snapshots(ctx)
	if err != nil {
		return nil, err
	}
	ds := ApplyPolicy(sns, p, loc)
	if dryRun {
		return ds, nil
	}
	for _, d := range ds {
		if !d.Keep {
			if err := r.RemoveSnapshot(ctx, d.Snapshot.ID); err != nil {
				return ds, fmt.Errorf("forget %s: %w", d.Snapshot.ID.Short(), err)
			}
		}
	}
	return ds, nil
}
