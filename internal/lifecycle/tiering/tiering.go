package tiering

import (
	"fmt"
	"strings"

	"github.com/firnhq/firn/internal/lifecycle"
)

// Access tiers a Tiering may name, as S3 spells them.
const (
	ArchiveAccess     = "ARCHIVE_ACCESS"
	DeepArchiveAccess = "DEEP_ARCHIVE_ACCESS"
)

// Configuration statuses.
const (
	Enabled  = "Enabled"
	Disabled = "Disabled"
)

// Limits S3 puts on Intelligent-Tiering configurations.
const (
	// MaxConfigurations is the number of configurations a bucket may
	// hold.
	MaxConfigurations = 1000
	// MinArchiveDays and MinDeepArchiveDays are the fewest days without
	// access a Tiering may name for each tier; MaxDays the most (two
	// years) for both.
	MinArchiveDays     = 90
	MinDeepArchiveDays = 180
	MaxDays            = 730
	// PageSize is how many configurations one
	// ListBucketIntelligentTieringConfigurations answer holds at most.
	PageSize = 100
)

// Configuration is one IntelligentTieringConfiguration. Its fields carry
// JSON names because the object service stores it as JSON.
type Configuration struct {
	// ID names the configuration within its bucket.
	ID string `json:"id"`
	// Filter selects the objects the configuration applies to; nil
	// selects the whole bucket.
	Filter *Filter `json:"filter,omitempty"`
	// Status is Enabled or Disabled; a disabled configuration is kept
	// but archives nothing.
	Status string `json:"status"`
	// Tierings are the archive tiers the configuration opts into, at
	// most one per access tier, in document order.
	Tierings []Tiering `json:"tierings"`
}

// Filter selects objects by key prefix and tags. It holds at most one of
// its fields; an empty Filter selects every object.
type Filter struct {
	Prefix *string        `json:"prefix,omitempty"`
	Tag    *lifecycle.Tag `json:"tag,omitempty"`
	And    *And           `json:"and,omitempty"`
}

// And combines a prefix and tags (two predicates or more), all of which
// must hold.
type And struct {
	Prefix *string         `json:"prefix,omitempty"`
	Tags   []lifecycle.Tag `json:"tags,omitempty"`
}

// Tiering moves matching objects to AccessTier once they have gone Days
// days without access.
type Tiering struct {
	Days       int    `json:"days"`
	AccessTier string `json:"accessTier"`
}

// Enabled reports whether the configuration is in force.
func (c *Configuration) Enabled() bool { return c.Status == Enabled }

// TierDays returns the days without access after which the configuration
// moves objects to tier, and whether it names that tier at all.
func (c *Configuration) TierDays(tier string) (int, bool) {
	for _, t := range c.Tierings {
		if t.AccessTier == tier {
			return t.Days, true
		}
	}
	return 0, false
}

// Matches reports whether the configuration's filter selects the object
// with key and tags (whatever its status).
func (c *Configuration) Matches(key string, tags map[string]string) bool {
	f := c.Filter
	if f == nil {
		return true
	}
	has := func(t lifecycle.Tag) bool { v, ok := tags[t.Key]; return ok && v == t.Value }
	switch {
	case f.Prefix != nil:
		return strings.HasPrefix(key, *f.Prefix)
	case f.Tag != nil:
		return has(*f.Tag)
	case f.And != nil:
		if f.And.Prefix != nil && !strings.HasPrefix(key, *f.And.Prefix) {
			return false
		}
		for _, t := range f.And.Tags {
			if !has(t) {
				return false
			}
		}
	}
	return true
}

// Error codes a configuration can be refused with: lifecycle's, and
// one the caller gives.
const (
	CodeMalformedXML    = lifecycle.CodeMalformedXML
	CodeInvalidArgument = lifecycle.CodeInvalidArgument
	CodeInvalidRequest  = lifecycle.CodeInvalidRequest
	// CodeTooManyConfigurations is the caller's: a new configuration for
	// a bucket that already holds MaxConfigurations.
	CodeTooManyConfigurations = "TooManyConfigurations"
)

// MsgTooManyConfigurations is S3's documented cause of
// TooManyConfigurations.
const MsgTooManyConfigurations = "You are attempting to create a new configuration but have already reached the 1,000-configuration limit."

// msgMalformedXML is S3's message for MalformedXML.
const msgMalformedXML = "The XML you provided was not well-formed or did not validate against our published schema"

// Error is a refused configuration: S3's error code and message, as for
// lifecycle configurations (the protocol layer answers it with Status,
// 400).
type Error = lifecycle.Error

func malformed() *Error { return &Error{Code: CodeMalformedXML, Message: msgMalformedXML} }

func invalidArgument(format string, args ...any) *Error {
	return &Error{Code: CodeInvalidArgument, Message: fmt.Sprintf(format, args...)}
}
