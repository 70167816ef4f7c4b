package lifecycle

import (
	"strings"
	"time"
)

// Namespace is the XML namespace of S3 documents.
const Namespace = "http://s3.amazonaws.com/doc/2006-03-01/"

// Limits S3 puts on a configuration.
const (
	MaxRules         = 1000 // rules in one configuration
	MaxIDLength      = 255  // characters in a rule ID
	MaxNewerVersions = 100  // NewerNoncurrentVersions
	// MaxObjectSize bounds ObjectSizeGreaterThan and ObjectSizeLessThan.
	MaxObjectSize int64 = 1099511627776000
)

// Rule statuses.
const (
	Enabled  = "Enabled"
	Disabled = "Disabled"
)

// Configuration is a bucket's lifecycle configuration: the
// LifecycleConfiguration document of Put/GetBucketLifecycleConfiguration.
// Optional elements are pointers (or empty slices) so that a missing
// element and a zero value stay apart, as S3 tells them apart.
type Configuration struct {
	Rules []Rule
}

// Rule is one lifecycle rule. It selects objects by Filter or, in the
// deprecated first version of the API, by Prefix (exactly one of the
// two), and holds at least one action.
type Rule struct {
	// ID names the rule, at most 255 characters. Parse fills in a
	// generated one when the document has none.
	ID string
	// Status is Enabled or Disabled; disabled rules are kept but never
	// act.
	Status string
	// Filter selects the objects the rule applies to (Lifecycle V2).
	Filter *Filter
	// Prefix is the rule-level key prefix of Lifecycle V1.
	Prefix *string

	Transitions                    []Transition
	Expiration                     *Expiration
	NoncurrentVersionTransitions   []NoncurrentVersionTransition
	NoncurrentVersionExpiration    *NoncurrentVersionExpiration
	AbortIncompleteMultipartUpload *AbortIncompleteMultipartUpload
}

// Filter selects objects by key prefix, tag and size. It holds at most one
// of its fields; an empty Filter selects every object. Several predicates
// go into And.
type Filter struct {
	Prefix                *string
	Tag                   *Tag
	ObjectSizeGreaterThan *int64
	ObjectSizeLessThan    *int64
	And                   *And
}

// And combines two or more predicates, all of which must hold.
type And struct {
	Prefix                *string
	Tags                  []Tag
	ObjectSizeGreaterThan *int64
	ObjectSizeLessThan    *int64
}

// Tag is an object tag a filter requires: key and value must both match.
type Tag struct {
	Key   string
	Value string
}

// Transition moves current versions to StorageClass a number of Days
// after creation, or on a Date (exactly one of the two).
type Transition struct {
	Days         *int
	Date         *time.Time
	StorageClass string
}

// Expiration expires current versions a number of Days after creation or
// on a Date, or (ExpiredObjectDeleteMarker) removes delete markers that
// no longer hide any version. Exactly one of the three is set.
type Expiration struct {
	Days                      *int
	Date                      *time.Time
	ExpiredObjectDeleteMarker *bool
}

// NoncurrentVersionTransition moves noncurrent versions to StorageClass
// NoncurrentDays after they became noncurrent, keeping the
// NewerNoncurrentVersions newest noncurrent versions where they are.
type NoncurrentVersionTransition struct {
	NoncurrentDays          *int
	NewerNoncurrentVersions *int
	StorageClass            string
}

// NoncurrentVersionExpiration permanently deletes noncurrent versions
// NoncurrentDays after they became noncurrent, keeping the
// NewerNoncurrentVersions newest noncurrent versions.
type NoncurrentVersionExpiration struct {
	NoncurrentDays          *int
	NewerNoncurrentVersions *int
}

// AbortIncompleteMultipartUpload aborts multipart uploads
// DaysAfterInitiation days after they were started.
type AbortIncompleteMultipartUpload struct {
	DaysAfterInitiation *int
}

// Enabled reports whether the rule acts.
func (r *Rule) Enabled() bool { return r.Status == Enabled }

// KeyPrefix returns the key prefix every object the rule selects starts
// with ("" when the rule has none), whatever form the rule gives it in.
func (r *Rule) KeyPrefix() string {
	switch {
	case r.Prefix != nil:
		return *r.Prefix
	case r.Filter == nil:
		return ""
	case r.Filter.Prefix != nil:
		return *r.Filter.Prefix
	case r.Filter.And != nil && r.Filter.And.Prefix != nil:
		return *r.Filter.And.Prefix
	}
	return ""
}

// tags returns the tags the rule's filter requires.
func (r *Rule) tags() []Tag {
	switch {
	case r.Filter == nil:
		return nil
	case r.Filter.Tag != nil:
		return []Tag{*r.Filter.Tag}
	case r.Filter.And != nil:
		return r.Filter.And.Tags
	}
	return nil
}

// sizes returns the rule's size bounds, nil when absent.
func (r *Rule) sizes() (gt, lt *int64) {
	switch {
	case r.Filter == nil:
		return nil, nil
	case r.Filter.And != nil:
		return r.Filter.And.ObjectSizeGreaterThan, r.Filter.And.ObjectSizeLessThan
	}
	return r.Filter.ObjectSizeGreaterThan, r.Filter.ObjectSizeLessThan
}

// Matches reports whether the rule's filter selects an object with this
// key, size and tags. Size bounds are exclusive; each tag must be present
// with exactly that value, other tags don't matter. The rule's status is
// not looked at.
func (r *Rule) Matches(key string, size int64, tags map[string]string) bool {
	if !strings.HasPrefix(key, r.KeyPrefix()) {
		return false
	}
	for _, t := range r.tags() {
		if v, ok := tags[t.Key]; !ok || v != t.Value {
			return false
		}
	}
	gt, lt := r.sizes()
	if gt != nil && size <= *gt {
		return false
	}
	if lt != nil && size >= *lt {
		return false
	}
	return true
}
