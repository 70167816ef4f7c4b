package lifecycle

import (
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Validate checks c as S3 checks a PutBucketLifecycleConfiguration body
// and returns the first fault found as an *Error, or nil. It checks the
// schema of every rule first (MalformedXML), then the number of rules and
// their IDs, then each rule's meaning in document order, then, for a
// Lifecycle V1 configuration, overlapping prefixes. Rules without an ID
// are accepted.
func (c *Configuration) Validate() error {
	for i := range c.Rules {
		if err := c.Rules[i].checkSchema(); err != nil {
			return err
		}
	}
	switch {
	case len(c.Rules) == 0:
		return invalidRequest("At least one lifecycle rule must be specified.")
	case len(c.Rules) > MaxRules:
		return invalidRequest("The number of lifecycle rules must not exceed the allowed limit of %d rules.", MaxRules)
	}
	ids := make(map[string]bool, len(c.Rules))
	for _, r := range c.Rules {
		if r.ID == "" {
			continue
		}
		if utf8.RuneCountInString(r.ID) > MaxIDLength {
			return invalidArgument("ID length should not exceed allowed limit of %d", MaxIDLength)
		}
		if ids[r.ID] {
			return invalidArgument("Rule ID must be unique. Found same ID for more than one rule")
		}
		ids[r.ID] = true
	}
	// The first rule decides which version of the API the document is
	// written for.
	v2 := c.Rules[0].Filter != nil
	for i := range c.Rules {
		if err := c.Rules[i].check(v2); err != nil {
			return err
		}
	}
	if !v2 {
		return overlappingPrefixes(c.Rules)
	}
	return nil
}

// checkSchema finds what S3's schema validation refuses: a bad status, a
// rule selecting no objects, filters with several predicates not in And
// (or an And with fewer than two), actions missing a required element or
// naming more than one of their alternatives, unknown storage classes.
func (r *Rule) checkSchema() error {
	if r.Status != Enabled && r.Status != Disabled {
		return malformed()
	}
	if r.Filter == nil && r.Prefix == nil {
		return malformed()
	}
	if f := r.Filter; f != nil {
		if count(f.Prefix != nil, f.Tag != nil, f.ObjectSizeGreaterThan != nil, f.ObjectSizeLessThan != nil, f.And != nil) > 1 {
			return malformed()
		}
		if f.Tag != nil && f.Tag.Key == "" {
			return malformed()
		}
		if a := f.And; a != nil {
			if count(a.Prefix != nil, a.ObjectSizeGreaterThan != nil, a.ObjectSizeLessThan != nil)+len(a.Tags) < 2 {
				return malformed()
			}
			for _, t := range a.Tags {
				if t.Key == "" {
					return malformed()
				}
			}
		}
	}
	for _, t := range r.Transitions {
		if count(t.Days != nil, t.Date != nil) != 1 || !ValidTransitionClass(t.StorageClass) {
			return malformed()
		}
	}
	if e := r.Expiration; e != nil && count(e.Days != nil, e.Date != nil, e.ExpiredObjectDeleteMarker != nil) != 1 {
		return malformed()
	}
	for _, t := range r.NoncurrentVersionTransitions {
		if t.NoncurrentDays == nil || !ValidTransitionClass(t.StorageClass) {
			return malformed()
		}
	}
	if e := r.NoncurrentVersionExpiration; e != nil && e.NoncurrentDays == nil {
		return malformed()
	}
	if a := r.AbortIncompleteMultipartUpload; a != nil && a.DaysAfterInitiation == nil {
		return malformed()
	}
	return nil
}

func count(bs ...bool) int {
	n := 0
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}

// check finds faults in the meaning of a rule whose schema is valid.
func (r *Rule) check(v2 bool) error {
	switch {
	case v2 && r.Prefix != nil:
		return invalidRequest("Base level prefix cannot be used in Lifecycle V2, prefixes are only supported in the Filter.")
	case !v2 && r.Filter != nil:
		return invalidRequest("Filter element can only be used in Lifecycle V2.")
	case !v2 && r.hasNewerNoncurrentVersions():
		return invalidRequest("NewerNoncurrentVersions element can only be used in Lifecycle V2.")
	}
	if err := r.checkFilter(); err != nil {
		return err
	}
	if r.Expiration == nil && len(r.Transitions) == 0 && len(r.NoncurrentVersionTransitions) == 0 &&
		r.NoncurrentVersionExpiration == nil && r.AbortIncompleteMultipartUpload == nil {
		return invalidRequest("At least one action needs to be specified in a rule")
	}
	gt, lt := r.sizes()
	sized, tagged := gt != nil || lt != nil, len(r.tags()) > 0
	if e := r.Expiration; e != nil {
		switch {
		case e.Days != nil && *e.Days <= 0:
			return invalidArgument("'Days' for Expiration action must be a positive integer")
		case e.Date != nil && !isMidnight(*e.Date):
			return errNotMidnight()
		case e.ExpiredObjectDeleteMarker != nil && tagged:
			return invalidRequest("ExpiredObjectDeleteMarker cannot be specified with Tags.")
		case e.ExpiredObjectDeleteMarker != nil && sized:
			return invalidRequest("ExpiredObjectDeleteMarker cannot be specified with Object Size.")
		}
	}
	if err := r.checkTransitions(); err != nil {
		return err
	}
	if err := r.checkNoncurrent(); err != nil {
		return err
	}
	if a := r.AbortIncompleteMultipartUpload; a != nil {
		switch {
		case *a.DaysAfterInitiation <= 0:
			return invalidArgument("'DaysAfterInitiation' for AbortIncompleteMultipartUpload action must be a positive integer")
		case tagged:
			return invalidRequest("AbortIncompleteMultipartUpload cannot be specified with Tags.")
		case sized:
			return invalidRequest("AbortIncompleteMultipartUpload cannot be specified with Object Size.")
		}
	}
	return nil
}

func (r *Rule) hasNewerNoncurrentVersions() bool {
	for _, t := range r.NoncurrentVersionTransitions {
		if t.NewerNoncurrentVersions != nil {
			return true
		}
	}
	return r.NoncurrentVersionExpiration != nil && r.NoncurrentVersionExpiration.NewerNoncurrentVersions != nil
}

// checkFilter checks the size bounds and tag keys of the rule's filter.
func (r *Rule) checkFilter() error {
	gt, lt := r.sizes()
	if gt != nil && (*gt < 0 || *gt > MaxObjectSize) {
		return invalidRequest("'ObjectSizeGreaterThan' should be between 0 and %d.", MaxObjectSize)
	}
	if lt != nil && (*lt < 1 || *lt > MaxObjectSize) {
		return invalidRequest("'ObjectSizeLessThan' should be between 1 and %d.", MaxObjectSize)
	}
	if gt != nil && lt != nil && *lt <= *gt {
		return invalidRequest("'ObjectSizeLessThan' has to be a value greater than 'ObjectSizeGreaterThan'.")
	}
	seen := map[string]bool{}
	for _, t := range r.tags() {
		if seen[t.Key] {
			return invalidRequest("Duplicate Tag Keys are not allowed.")
		}
		seen[t.Key] = true
	}
	return nil
}

// step is one transition of a rule, current or noncurrent, reduced to
// what the ordering checks need.
type step struct {
	class string
	days  int
	date  time.Time
	dated bool
}

// checkTransitions checks a rule's Transitions and how they sit with its
// Expiration.
func (r *Rule) checkTransitions() error {
	steps := make([]step, 0, len(r.Transitions))
	for _, t := range r.Transitions {
		s := step{class: t.StorageClass}
		if t.Date != nil {
			if !isMidnight(*t.Date) {
				return errNotMidnight()
			}
			s.date, s.dated = *t.Date, true
		} else {
			s.days = *t.Days
			if s.days < 0 {
				return invalidArgument("'Days' in Transition action must be nonnegative")
			}
			if infrequentAccess(t.StorageClass) && s.days < 30 {
				return invalidArgument("'Days' in Transition action must be greater than or equal to 30 for storageClass '%s'", t.StorageClass)
			}
		}
		steps = append(steps, s)
	}
	filter := r.filterString()
	if err := checkSteps(steps, "Transition", "Days", filter); err != nil {
		return err
	}
	e := r.Expiration
	if e == nil || (e.Days == nil && e.Date == nil) || len(steps) == 0 {
		return nil
	}
	if (e.Date != nil) != steps[0].dated {
		return invalidRequest("Found mixed 'Date' and 'Days' based Expiration and Transition actions in lifecycle rule for filter '%s'", filter)
	}
	for _, s := range steps {
		if e.Date != nil && !e.Date.After(s.date) {
			return invalidArgument("'Date' in the Expiration action for filter '%s' must be greater than 'Date' in the Transition action", filter)
		}
		if e.Days != nil && *e.Days <= s.days {
			return invalidArgument("'Days' in the Expiration action for filter '%s' must be greater than 'Days' in the Transition action", filter)
		}
	}
	return nil
}

// checkNoncurrent checks a rule's NoncurrentVersionTransitions and
// NoncurrentVersionExpiration.
func (r *Rule) checkNoncurrent() error {
	steps := make([]step, 0, len(r.NoncurrentVersionTransitions))
	for _, t := range r.NoncurrentVersionTransitions {
		days := *t.NoncurrentDays
		if days < 0 {
			return invalidArgument("'NoncurrentDays' in NoncurrentVersionTransition action must be nonnegative")
		}
		if infrequentAccess(t.StorageClass) && days < 30 {
			return invalidArgument("'NoncurrentDays' in NoncurrentVersionTransition action must be greater than or equal to 30 for storageClass '%s'", t.StorageClass)
		}
		if err := checkNewer(t.NewerNoncurrentVersions); err != nil {
			return err
		}
		steps = append(steps, step{class: t.StorageClass, days: days})
	}
	filter := r.filterString()
	if err := checkSteps(steps, "NoncurrentVersionTransition", "NoncurrentDays", filter); err != nil {
		return err
	}
	e := r.NoncurrentVersionExpiration
	if e == nil {
		return nil
	}
	if *e.NoncurrentDays <= 0 {
		return invalidArgument("'NoncurrentDays' for NoncurrentVersionExpiration action must be a positive integer")
	}
	if err := checkNewer(e.NewerNoncurrentVersions); err != nil {
		return err
	}
	for _, s := range steps {
		if *e.NoncurrentDays <= s.days {
			return invalidArgument("'NoncurrentDays' in the NoncurrentVersionExpiration action for filter '%s' must be greater than 'NoncurrentDays' in the NoncurrentVersionTransition action", filter)
		}
	}
	return nil
}

func checkNewer(n *int) error {
	switch {
	case n == nil:
		return nil
	case *n < 1:
		return invalidArgument("'NewerNoncurrentVersions' must be a positive integer")
	case *n > MaxNewerVersions:
		return invalidArgument("'NewerNoncurrentVersions' must not exceed %d", MaxNewerVersions)
	}
	return nil
}

// checkSteps checks the transitions of one kind within a rule against
// each other: distinct classes, all by days or all by date, colder
// classes strictly later, and GLACIER_IR, GLACIER and DEEP_ARCHIVE at
// least 30 days after STANDARD_IA or ONEZONE_IA.
func checkSteps(steps []step, action, field, filter string) error {
	seen := map[string]bool{}
	for _, s := range steps {
		if seen[s.class] {
			return invalidRequest("'StorageClass' must be different for '%s' actions in same 'Rule' with filter '%s'", action, filter)
		}
		seen[s.class] = true
	}
	for _, s := range steps {
		if s.dated != steps[0].dated {
			return invalidRequest("Found mixed 'Date' and 'Days' based %s actions in lifecycle rule for filter '%s'", action, filter)
		}
	}
	if len(steps) > 0 && steps[0].dated {
		field = "Date"
	}
	for i, a := range steps {
		for _, b := range steps[i+1:] {
			warm, cold := a, b
			if orderRank[warm.class] > orderRank[cold.class] {
				warm, cold = cold, warm
			}
			if orderRank[warm.class] == orderRank[cold.class] {
				continue
			}
			later := cold.days > warm.days
			if cold.dated {
				later = cold.date.After(warm.date)
			}
			if !later {
				return invalidArgument("'%s' in the %s action for StorageClass '%s' for filter '%s' must be greater than '%s' in the %s action for StorageClass '%s' for filter '%s'",
					field, action, cold.class, filter, field, action, warm.class, filter)
			}
			if !cold.dated && infrequentAccess(warm.class) && cold.days-warm.days < 30 {
				return invalidArgument("'%s' in the %s action for StorageClass '%s' for filter '%s' must be greater than '%s' in the %s action for StorageClass '%s' for filter '%s' by at least 30 days",
					field, action, cold.class, filter, field, action, warm.class, filter)
			}
		}
	}
	return nil
}

func isMidnight(t time.Time) bool {
	t = t.UTC()
	return t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 && t.Nanosecond() == 0
}

func errNotMidnight() *Error { return invalidArgument("'Date' must be at midnight GMT") }

// filterString renders the rule's filter as S3 does in its messages:
// "(prefix=logs/)", "(tag={key=k, value=v})",
// "(prefix=doc/ and objectsizelessthan=120120)"; "()" for an empty filter.
func (r *Rule) filterString() string {
	var parts []string
	add := func(prefix *string, tags []Tag, gt, lt *int64) {
		if prefix != nil {
			parts = append(parts, "prefix="+*prefix)
		}
		for _, t := range tags {
			parts = append(parts, "tag={key="+t.Key+", value="+t.Value+"}")
		}
		if gt != nil {
			parts = append(parts, "objectsizegreaterthan="+strconv.FormatInt(*gt, 10))
		}
		if lt != nil {
			parts = append(parts, "objectsizelessthan="+strconv.FormatInt(*lt, 10))
		}
	}
	switch f := r.Filter; {
	case r.Prefix != nil:
		add(r.Prefix, nil, nil, nil)
	case f == nil:
	case f.And != nil:
		add(f.And.Prefix, f.And.Tags, f.And.ObjectSizeGreaterThan, f.And.ObjectSizeLessThan)
	default:
		var tags []Tag
		if f.Tag != nil {
			tags = []Tag{*f.Tag}
		}
		add(f.Prefix, tags, f.ObjectSizeGreaterThan, f.ObjectSizeLessThan)
	}
	return "(" + strings.Join(parts, " and ") + ")"
}

// overlappingPrefixes refuses a Lifecycle V1 configuration in which two
// rules whose prefixes overlap (one starts with the other) take the same
// kind of action.
func overlappingPrefixes(rules []Rule) error {
	kinds := []struct {
		name string
		has  func(*Rule) bool
	}{
		{"Expiration", func(r *Rule) bool { return r.Expiration != nil }},
		{"Transition", func(r *Rule) bool { return len(r.Transitions) > 0 }},
		{"NoncurrentVersionExpiration", func(r *Rule) bool { return r.NoncurrentVersionExpiration != nil }},
		{"NoncurrentVersionTransition", func(r *Rule) bool { return len(r.NoncurrentVersionTransitions) > 0 }},
		{"AbortIncompleteMultipartUpload", func(r *Rule) bool { return r.AbortIncompleteMultipartUpload != nil }},
	}
	for _, k := range kinds {
		var prefixes []string
		for i := range rules {
			if k.has(&rules[i]) {
				prefixes = append(prefixes, rules[i].KeyPrefix())
			}
		}
		// Sorted, a prefix that another starts with comes right before
		// one that starts with it, or before an equal one.
		sort.Strings(prefixes)
		for i := 1; i < len(prefixes); i++ {
			if strings.HasPrefix(prefixes[i], prefixes[i-1]) {
				return invalidRequest("Found overlapping prefixes '%s' and '%s' for same action type '%s'", prefixes[i-1], prefixes[i], k.name)
			}
		}
	}
	return nil
}
