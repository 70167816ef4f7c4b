package tiering

import (
	"encoding/xml"
	"strconv"
	"strings"

	"github.com/firnhq/firn/internal/lifecycle"
)

// Parse decodes the body of PutBucketIntelligentTieringConfiguration,
// whose id query parameter is id, and checks it as S3 does (see the
// package comment). A refused body is an *Error.
func Parse(id string, body []byte) (*Configuration, error) {
	w, err := decode(body)
	if err != nil {
		return nil, err
	}
	c, err := w.configuration()
	if err != nil {
		return nil, err
	}
	// S3 refuses a document naming another configuration than the
	// request as not valid against its schema (aws/aws-sdk#336).
	if c.ID != id {
		return nil, malformed()
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// Validate checks c as S3 checks a PUT body (all but the match of its Id
// with the request's) and returns the first fault as an *Error, or nil.
func (c *Configuration) Validate() error {
	if c.ID == "" || (c.Status != Enabled && c.Status != Disabled) || len(c.Tierings) == 0 {
		return malformed()
	}
	if err := c.Filter.check(); err != nil {
		return err
	}
	days := map[string]int{}
	for _, t := range c.Tierings {
		low := 0
		switch t.AccessTier {
		case ArchiveAccess:
			low = MinArchiveDays
		case DeepArchiveAccess:
			low = MinDeepArchiveDays
		default:
			return malformed()
		}
		if _, dup := days[t.AccessTier]; dup {
			return invalidArgument("Only one Tiering per AccessTier is allowed. Found more than one for %s.", t.AccessTier)
		}
		days[t.AccessTier] = t.Days
		if t.Days < low {
			return invalidArgument("Days specified in %s tier should not be less than %d.", t.AccessTier, low)
		}
		if t.Days > MaxDays {
			return invalidArgument("Days specified in %s tier should not be more than %d.", t.AccessTier, MaxDays)
		}
	}
	a, okA := days[ArchiveAccess]
	d, okD := days[DeepArchiveAccess]
	if okA && okD && d <= a {
		return invalidArgument("Days specified in %s tier should be greater than days specified in %s tier.", DeepArchiveAccess, ArchiveAccess)
	}
	return nil
}

// check finds what S3's schema refuses in a filter (more than one
// predicate outside And, fewer than two in it, tags without a key) and
// repeated tag keys.
func (f *Filter) check() error {
	if f == nil {
		return nil
	}
	n := 0
	for _, set := range []bool{f.Prefix != nil, f.Tag != nil, f.And != nil} {
		if set {
			n++
		}
	}
	if n > 1 {
		return malformed()
	}
	if f.Tag != nil && f.Tag.Key == "" {
		return malformed()
	}
	if a := f.And; a != nil {
		n := len(a.Tags)
		if a.Prefix != nil {
			n++
		}
		if n < 2 {
			return malformed()
		}
		keys := make(map[string]bool, len(a.Tags))
		for _, t := range a.Tags {
			if t.Key == "" {
				return malformed()
			}
			if keys[t.Key] {
				return &Error{Code: CodeInvalidRequest, Message: "Duplicate Tag Keys are not allowed."}
			}
			keys[t.Key] = true
		}
	}
	return nil
}

// The wire form of a document. Every element is a slice so that a
// repeated element can be told from a single one, and unknown elements
// are collected so they can be refused.
type (
	xmlConfig struct {
		XMLName  xml.Name     `xml:"IntelligentTieringConfiguration"`
		ID       []string     `xml:"Id"`
		Filter   []xmlFilter  `xml:"Filter"`
		Status   []string     `xml:"Status"`
		Tierings []xmlTiering `xml:"Tiering"`
		Unknown  []xmlAny     `xml:",any"`
	}
	xmlAny struct {
		XMLName xml.Name
	}
	xmlFilter struct {
		Prefix  []string `xml:"Prefix"`
		Tag     []xmlTag `xml:"Tag"`
		And     []xmlAnd `xml:"And"`
		Unknown []xmlAny `xml:",any"`
	}
	xmlAnd struct {
		Prefix  []string `xml:"Prefix"`
		Tag     []xmlTag `xml:"Tag"`
		Unknown []xmlAny `xml:",any"`
	}
	xmlTag struct {
		Key     []string `xml:"Key"`
		Value   []string `xml:"Value"`
		Unknown []xmlAny `xml:",any"`
	}
	xmlTiering struct {
		Days       []string `xml:"Days"`
		AccessTier []string `xml:"AccessTier"`
		Unknown    []xmlAny `xml:",any"`
	}
)

// decode reads a well-formed document whose root is
// IntelligentTieringConfiguration (see lifecycle.DecodeDocument).
func decode(body []byte) (*xmlConfig, error) {
	var w xmlConfig
	if err := lifecycle.DecodeDocument(body, &w); err != nil {
		return nil, err
	}
	return &w, nil
}

// configuration converts the wire form, refusing unknown, missing and
// repeated elements and values that are not of their element's type.
func (w *xmlConfig) configuration() (*Configuration, error) {
	if len(w.Unknown) > 0 || len(w.ID) != 1 || len(w.Status) != 1 || len(w.Filter) > 1 || len(w.Tierings) == 0 {
		return nil, malformed()
	}
	c := &Configuration{ID: w.ID[0], Status: w.Status[0]}
	if len(w.Filter) == 1 {
		f, err := w.Filter[0].filter()
		if err != nil {
			return nil, err
		}
		c.Filter = f
	}
	for _, t := range w.Tierings {
		if len(t.Unknown) > 0 || len(t.Days) != 1 || len(t.AccessTier) != 1 {
			return nil, malformed()
		}
		// Days is an xs:int.
		n, err := strconv.ParseInt(strings.TrimSpace(t.Days[0]), 10, 32)
		if err != nil {
			return nil, malformed()
		}
		c.Tierings = append(c.Tierings, Tiering{Days: int(n), AccessTier: t.AccessTier[0]})
	}
	return c, nil
}

func (w *xmlFilter) filter() (*Filter, error) {
	if len(w.Unknown) > 0 || len(w.Prefix) > 1 || len(w.Tag) > 1 || len(w.And) > 1 {
		return nil, malformed()
	}
	f := &Filter{Prefix: optString(w.Prefix)}
	if len(w.Tag) == 1 {
		t, err := w.Tag[0].tag()
		if err != nil {
			return nil, err
		}
		f.Tag = &t
	}
	if len(w.And) == 1 {
		a := w.And[0]
		if len(a.Unknown) > 0 || len(a.Prefix) > 1 {
			return nil, malformed()
		}
		f.And = &And{Prefix: optString(a.Prefix)}
		for _, wt := range a.Tag {
			t, err := wt.tag()
			if err != nil {
				return nil, err
			}
			f.And.Tags = append(f.And.Tags, t)
		}
	}
	return f, nil
}

func (w *xmlTag) tag() (lifecycle.Tag, error) {
	if len(w.Unknown) > 0 || len(w.Key) != 1 || len(w.Value) != 1 {
		return lifecycle.Tag{}, malformed()
	}
	return lifecycle.Tag{Key: w.Key[0], Value: w.Value[0]}, nil
}

func optString(v []string) *string {
	if len(v) == 0 {
		return nil
	}
	s := v[0]
	return &s
}
