package lifecycle

import (
	"math"
	"strings"
	"time"
)

// Object is one version of a key, as the lifecycle sees it. Its zero
// value is a current version of an empty STANDARD object created at the
// zero time.
type Object struct {
	Key          string
	Size         int64
	Tags         map[string]string
	StorageClass string    // "" is STANDARD
	Created      time.Time // Last-Modified: what day counts start from

	// Versioned reports that expiring the current version keeps its
	// data: the bucket's versioning is Enabled, or Suspended and this
	// version's ID is not "null", so Expiration adds a delete marker
	// rather than deleting. It decides whether Expiration or a
	// Transition due at the same time wins.
	Versioned bool

	// IsDeleteMarker reports that the version is a delete marker.
	IsDeleteMarker bool
	// OnlyVersion reports that no other version of the key exists; for a
	// current delete marker that makes it an expired object delete
	// marker.
	OnlyVersion bool

	// Noncurrent reports that a newer version exists.
	Noncurrent bool
	// NoncurrentSince is when the version became noncurrent: the
	// creation of its successor. Zero means Created.
	NoncurrentSince time.Time
	// NewerNoncurrent is how many noncurrent versions of the key are
	// newer than this one.
	NewerNoncurrent int
}

// Options are the bucket-wide settings evaluation depends on. The zero
// value means 24-hour days and the default minimum object size.
type Options struct {
	// DayLength is the length of a model day (clock.Clock.DayLength);
	// 0 means 24 hours.
	DayLength time.Duration
	// MinimumSize is the bucket's
	// x-amz-transition-default-minimum-object-size.
	MinimumSize MinimumSize
}

func (o Options) day() time.Duration {
	if o.DayLength <= 0 {
		return 24 * time.Hour
	}
	return o.DayLength
}

// Kind is what an action does.
type Kind int

// The actions a lifecycle rule takes on an object version.
const (
	// KindTransition moves the current version to StorageClass.
	KindTransition Kind = iota + 1
	// KindExpire expires the current version: the caller deletes it, or adds
	// a delete marker in a versioned bucket.
	KindExpire
	// KindExpireDeleteMarker removes a current delete marker that is the
	// only version of its key.
	KindExpireDeleteMarker
	// KindNoncurrentTransition moves a noncurrent version to StorageClass.
	KindNoncurrentTransition
	// KindNoncurrentExpire permanently deletes a noncurrent version (or
	// noncurrent delete marker).
	KindNoncurrentExpire
)

var kindNames = [...]string{"", "Transition", "Expire", "ExpireDeleteMarker", "NoncurrentTransition", "NoncurrentExpire"}

func (k Kind) String() string {
	if k <= 0 || int(k) >= len(kindNames) {
		return "Kind(?)"
	}
	return kindNames[k]
}

// Action is something a rule will do to an object version.
type Action struct {
	Kind         Kind
	StorageClass string    // target class of a transition
	Due          time.Time // when it becomes due, in UTC
	RuleID       string
}

// DueAfter is when an action set for days days after base becomes due:
// base plus that many model days, rounded up to the next model-day
// boundary (00:00 UTC with 24-hour days). An instant exactly on a
// boundary moves to the next one. Boundaries are multiples of day since
// the Unix epoch, as in object.NextMidnight.
func DueAfter(base time.Time, days int, day time.Duration) time.Time {
	if day <= 0 {
		day = 24 * time.Hour
	}
	if day%time.Second == 0 {
		// Whole-second days: count in seconds, which neither overflows
		// for any int day count nor depends on UnixNano's range.
		s := int64(day / time.Second)
		n := base.Unix() + int64(days)*s
		return time.Unix((floorDiv(n, s)+1)*s, 0).UTC()
	}
	d := int64(day)
	add := int64(days) * d
	if days != 0 && add/int64(days) != d {
		return time.Unix(math.MaxInt64/2, 0).UTC()
	}
	n := base.UnixNano() + add
	return time.Unix(0, (floorDiv(n, d)+1)*d).UTC()
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// Next returns the first action that becomes due on obj, resolved
// against every other action due at the same instant (see Evaluate), or
// false when no rule will ever act on it.
func (c *Configuration) Next(obj Object, opt Options) (Action, bool) {
	cands := c.candidates(obj, opt)
	if len(cands) == 0 {
		return Action{}, false
	}
	first := cands[0].Due
	for _, a := range cands[1:] {
		if a.Due.Before(first) {
			first = a.Due
		}
	}
	return resolve(cands, first, obj)
}

// Evaluate returns the action to take on obj at now, or false when
// nothing is due. Of all actions due by then, it picks as S3 does:
// permanent deletion beats transition; a transition beats the creation
// of a delete marker; among transitions the coldest (cheapest) class
// wins, Intelligent-Tiering beating all but GLACIER and DEEP_ARCHIVE;
// between equal actions the earliest due, then the first rule, wins.
func (c *Configuration) Evaluate(obj Object, now time.Time, opt Options) (Action, bool) {
	return resolve(c.candidates(obj, opt), now, obj)
}

// Schedule plays obj's future: every action the configuration will take
// on it, in order, each applied before the next is looked for. A current
// version expired in a versioned bucket goes on as a noncurrent version.
func (c *Configuration) Schedule(obj Object, opt Options) []Action {
	var plan []Action
	for range 32 {
		a, ok := c.Next(obj, opt)
		if !ok {
			break
		}
		plan = append(plan, a)
		switch a.Kind {
		case KindTransition, KindNoncurrentTransition:
			obj.StorageClass = a.StorageClass
			continue
		case KindExpire:
			if obj.Versioned {
				obj.Noncurrent, obj.NoncurrentSince, obj.NewerNoncurrent = true, a.Due, 0
				continue
			}
		}
		break
	}
	return plan
}

// ExpirationHeader returns the value of the x-amz-expiration header for
// obj, or "" when no enabled rule expires it: the earliest Expiration by
// Days or Date of the rules that select it, as
// `expiry-date="Fri, 23 Dec 2012 00:00:00 GMT", rule-id="ID"`. Only
// current versions that are not delete markers have one; the rule ID is
// written as it is.
func (c *Configuration) ExpirationHeader(obj Object, opt Options) string {
	if c == nil || obj.Noncurrent || obj.IsDeleteMarker {
		return ""
	}
	var best *Action
	for i := range c.Rules {
		r := &c.Rules[i]
		e := r.Expiration
		if !r.Enabled() || e == nil || !r.Matches(obj.Key, obj.Size, obj.Tags) {
			continue
		}
		var due time.Time
		switch {
		case e.Days != nil:
			due = DueAfter(obj.Created, *e.Days, opt.day())
		case e.Date != nil:
			due = e.Date.UTC()
		default:
			continue
		}
		if best == nil || due.Before(best.Due) {
			best = &Action{Kind: KindExpire, Due: due, RuleID: r.ID}
		}
	}
	if best == nil {
		return ""
	}
	return `expiry-date="` + best.Due.Format(httpDate) + `", rule-id="` + best.RuleID + `"`
}

// httpDate is the HTTP-date format (RFC 7231 IMF-fixdate).
const httpDate = "Mon, 02 Jan 2006 15:04:05 GMT"

// AbortDue returns when a multipart upload of key started at initiated
// is aborted by the configuration, and by which rule: the earliest
// AbortIncompleteMultipartUpload of the enabled rules whose prefix the
// key has. It is also the x-amz-abort-date and x-amz-abort-rule-id of
// CreateMultipartUpload and ListParts.
func (c *Configuration) AbortDue(key string, initiated time.Time, opt Options) (due time.Time, ruleID string, ok bool) {
	if c == nil {
		return time.Time{}, "", false
	}
	for i := range c.Rules {
		r := &c.Rules[i]
		a := r.AbortIncompleteMultipartUpload
		if !r.Enabled() || a == nil || a.DaysAfterInitiation == nil || len(r.tags()) > 0 {
			continue
		}
		if gt, lt := r.sizes(); gt != nil || lt != nil || !strings.HasPrefix(key, r.KeyPrefix()) {
			continue
		}
		d := DueAfter(initiated, *a.DaysAfterInitiation, opt.day())
		if !ok || d.Before(due) {
			due, ruleID, ok = d, r.ID, true
		}
	}
	return due, ruleID, ok
}

// candidates lists every action an enabled rule would take on obj, with
// its due time, in rule order.
func (c *Configuration) candidates(obj Object, opt Options) []Action {
	if c == nil {
		return nil
	}
	day := opt.day()
	from := obj.StorageClass
	if from == "" {
		from = Standard
	}
	var out []Action
	for i := range c.Rules {
		r := &c.Rules[i]
		if !r.Enabled() || !r.Matches(obj.Key, obj.Size, obj.Tags) {
			continue
		}
		gt, _ := r.sizes()
		// A rule's own lower size bound replaces the default minimum.
		small := func(class string) bool { return gt == nil && opt.MinimumSize.blocks(obj.Size, class) }
		add := func(k Kind, class string, due time.Time) {
			out = append(out, Action{Kind: k, StorageClass: class, Due: due, RuleID: r.ID})
		}
		switch {
		case !obj.Noncurrent && obj.IsDeleteMarker:
			e := r.Expiration
			if !obj.OnlyVersion || e == nil {
				continue
			}
			switch {
			case e.ExpiredObjectDeleteMarker != nil && *e.ExpiredObjectDeleteMarker:
				add(KindExpireDeleteMarker, "", DueAfter(obj.Created, 0, day))
			case e.Days != nil:
				add(KindExpireDeleteMarker, "", DueAfter(obj.Created, *e.Days, day))
			}
		case !obj.Noncurrent:
			for _, t := range r.Transitions {
				if !CanTransition(from, t.StorageClass) || small(t.StorageClass) {
					continue
				}
				if t.Date != nil {
					add(KindTransition, t.StorageClass, t.Date.UTC())
				} else if t.Days != nil {
					add(KindTransition, t.StorageClass, DueAfter(obj.Created, *t.Days, day))
				}
			}
			if e := r.Expiration; e != nil {
				if e.Date != nil {
					add(KindExpire, "", e.Date.UTC())
				} else if e.Days != nil {
					add(KindExpire, "", DueAfter(obj.Created, *e.Days, day))
				}
			}
		default:
			since := obj.NoncurrentSince
			if since.IsZero() {
				since = obj.Created
			}
			for _, t := range r.NoncurrentVersionTransitions {
				if obj.IsDeleteMarker || t.NoncurrentDays == nil || !keeps(t.NewerNoncurrentVersions, obj) ||
					!CanTransition(from, t.StorageClass) || small(t.StorageClass) {
					continue
				}
				add(KindNoncurrentTransition, t.StorageClass, DueAfter(since, *t.NoncurrentDays, day))
			}
			if e := r.NoncurrentVersionExpiration; e != nil && e.NoncurrentDays != nil && keeps(e.NewerNoncurrentVersions, obj) {
				add(KindNoncurrentExpire, "", DueAfter(since, *e.NoncurrentDays, day))
			}
		}
	}
	return out
}

// keeps reports whether a NewerNoncurrentVersions of n lets the action
// reach obj: the n newest noncurrent versions are retained.
func keeps(n *int, obj Object) bool { return n == nil || obj.NewerNoncurrent >= *n }

// resolve picks, among the candidates due by now, the one S3 would take.
func resolve(cands []Action, now time.Time, obj Object) (Action, bool) {
	var best *Action
	for i := range cands {
		a := &cands[i]
		if a.Due.After(now) {
			continue
		}
		if best == nil || beats(a, best, obj) {
			best = a
		}
	}
	if best == nil {
		return Action{}, false
	}
	return *best, true
}

// beats reports whether a should be taken rather than b, both due.
func beats(a, b *Action, obj Object) bool {
	ra, rb := weight(a, obj), weight(b, obj)
	if ra != rb {
		return ra > rb
	}
	if a.Kind == b.Kind && (a.Kind == KindTransition || a.Kind == KindNoncurrentTransition) && a.StorageClass != b.StorageClass {
		return preference[a.StorageClass] > preference[b.StorageClass]
	}
	// The same action: the earliest due wins, then the first rule (b).
	return a.Due.Before(b.Due)
}

// weight orders kinds of action by precedence: deletions first, then
// transitions, then the creation of a delete marker.
func weight(a *Action, obj Object) int {
	switch a.Kind {
	case KindNoncurrentExpire, KindExpireDeleteMarker:
		return 3
	case KindExpire:
		if obj.Versioned {
			return 1
		}
		return 3
	}
	return 2
}
