// Package preview works out what a lifecycle configuration will do to a
// set of objects and when, without doing any of it: the plan behind
// `firn lifecycle preview`.
//
// It is pure. The caller lists the objects (and fetches their tags when
// NeedsTags says a rule looks at them); Plan plays each object's future
// with lifecycle.Configuration.Schedule, the same evaluator the server's
// engine uses, so the preview and the server agree on every date.
package preview

import (
	"sort"
	"strings"
	"time"

	"github.com/firnhq/firn/internal/lifecycle"
)

// Entry is one object and the actions planned for it, in order.
type Entry struct {
	Key          string             `json:"key"`
	Size         int64              `json:"size"`
	StorageClass string             `json:"storage_class"`
	LastModified time.Time          `json:"last_modified"`
	Actions      []lifecycle.Action `json:"-"`
}

// RuleSummary is what one rule does in the window: how many objects it
// acts on and their bytes, and how many actions of each kind.
type RuleSummary struct {
	RuleID  string `json:"rule_id"`
	Objects int    `json:"objects"`
	Bytes   int64  `json:"bytes"`
	// Actions counts actions by "Kind" or "Kind:CLASS", e.g.
	// "Transition:GLACIER" or "Expire".
	Actions map[string]int `json:"actions"`
}

// Plan is the result of a preview.
type Plan struct {
	// Now is when the preview was made; Until is the end of the window
	// (zero: no limit).
	Now   time.Time `json:"now"`
	Until time.Time `json:"until,omitzero"`
	// Objects is every object looked at; Entries only those with at least
	// one action in the window, in key order.
	Objects int     `json:"objects"`
	Entries []Entry `json:"entries"`
	// Rules has one summary per rule of the configuration, in its order,
	// acting or not.
	Rules []RuleSummary `json:"rules"`
}

// NeedsTags reports whether an enabled rule that could select key
// filters on tags: only then are the object's tags worth fetching.
func NeedsTags(c *lifecycle.Configuration, key string) bool {
	if c == nil {
		return false
	}
	for i := range c.Rules {
		r := &c.Rules[i]
		if !r.Enabled() || r.Filter == nil || !strings.HasPrefix(key, r.KeyPrefix()) {
			continue
		}
		if r.Filter.Tag != nil || (r.Filter.And != nil && len(r.Filter.And.Tags) > 0) {
			return true
		}
	}
	return false
}

// Make plans objs under c: each object's schedule, cut at until (zero:
// no limit). Actions already due before now are kept: the engine applies
// them at its next pass.
func Make(c *lifecycle.Configuration, objs []lifecycle.Object, opt lifecycle.Options, now, until time.Time) Plan {
	p := Plan{Now: now, Until: until, Objects: len(objs), Entries: []Entry{}}
	idx := map[string]int{}
	if c != nil {
		for _, r := range c.Rules {
			idx[r.ID] = len(p.Rules)
			p.Rules = append(p.Rules, RuleSummary{RuleID: r.ID, Actions: map[string]int{}})
		}
	}
	for _, o := range objs {
		var acts []lifecycle.Action
		for _, a := range c.Schedule(o, opt) {
			if !until.IsZero() && a.Due.After(until) {
				break
			}
			acts = append(acts, a)
		}
		if len(acts) == 0 {
			continue
		}
		class := o.StorageClass
		if class == "" {
			class = lifecycle.Standard
		}
		p.Entries = append(p.Entries, Entry{Key: o.Key, Size: o.Size, StorageClass: class, LastModified: o.Created, Actions: acts})
		seen := map[string]bool{}
		for _, a := range acts {
			i, ok := idx[a.RuleID]
			if !ok {
				continue
			}
			s := &p.Rules[i]
			s.Actions[ActionName(a)]++
			if !seen[a.RuleID] {
				seen[a.RuleID] = true
				s.Objects++
				s.Bytes += o.Size
			}
		}
	}
	sort.SliceStable(p.Entries, func(i, j int) bool { return p.Entries[i].Key < p.Entries[j].Key })
	return p
}

// ActionName names an action for people: "Transition:GLACIER",
// "Expire", "NoncurrentExpire".
func ActionName(a lifecycle.Action) string {
	if a.StorageClass != "" {
		return a.Kind.String() + ":" + a.StorageClass
	}
	return a.Kind.String()
}
