package lifecycle

import (
	"crypto/sha512"
	"encoding/base64"
	"encoding/xml"
	"strconv"
	"strings"
	"time"

	"github.com/firnhq/firn/internal/s3xml"
)

// Parse decodes the body of PutBucketLifecycleConfiguration and checks it
// as S3 does (see Validate). Rules without an ID get a generated one. A
// refused body is an *Error.
func Parse(body []byte) (*Configuration, error) {
	w, err := decode(body)
	if err != nil {
		return nil, err
	}
	c, err := w.configuration()
	if err != nil {
		return nil, err
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	c.assignIDs()
	return c, nil
}

// The wire form of a document. Every element is a slice so that a
// repeated element can be told from a single one, and unknown elements
// are collected so they can be refused.
type (
	xmlConfig struct {
		XMLName xml.Name  `xml:"LifecycleConfiguration"`
		Rules   []xmlRule `xml:"Rule"`
		Unknown []xmlAny  `xml:",any"`
	}
	xmlAny struct {
		XMLName xml.Name
	}
	xmlRule struct {
		ID                             []string                  `xml:"ID"`
		Prefix                         []string                  `xml:"Prefix"`
		Filter                         []xmlFilter               `xml:"Filter"`
		Status                         []string                  `xml:"Status"`
		Transition                     []xmlTransition           `xml:"Transition"`
		Expiration                     []xmlExpiration           `xml:"Expiration"`
		NoncurrentVersionTransition    []xmlNoncurrentTransition `xml:"NoncurrentVersionTransition"`
		NoncurrentVersionExpiration    []xmlNoncurrentExpiration `xml:"NoncurrentVersionExpiration"`
		AbortIncompleteMultipartUpload []xmlAbort                `xml:"AbortIncompleteMultipartUpload"`
		Unknown                        []xmlAny                  `xml:",any"`
	}
	xmlFilter struct {
		Prefix                []string `xml:"Prefix"`
		Tag                   []xmlTag `xml:"Tag"`
		ObjectSizeGreaterThan []string `xml:"ObjectSizeGreaterThan"`
		ObjectSizeLessThan    []string `xml:"ObjectSizeLessThan"`
		And                   []xmlAnd `xml:"And"`
		Unknown               []xmlAny `xml:",any"`
	}
	xmlAnd struct {
		Prefix                []string `xml:"Prefix"`
		Tag                   []xmlTag `xml:"Tag"`
		ObjectSizeGreaterThan []string `xml:"ObjectSizeGreaterThan"`
		ObjectSizeLessThan    []string `xml:"ObjectSizeLessThan"`
		Unknown               []xmlAny `xml:",any"`
	}
	xmlTag struct {
		Key     []string `xml:"Key"`
		Value   []string `xml:"Value"`
		Unknown []xmlAny `xml:",any"`
	}
	xmlTransition struct {
		Date         []string `xml:"Date"`
		Days         []string `xml:"Days"`
		StorageClass []string `xml:"StorageClass"`
		Unknown      []xmlAny `xml:",any"`
	}
	xmlExpiration struct {
		Date                      []string `xml:"Date"`
		Days                      []string `xml:"Days"`
		ExpiredObjectDeleteMarker []string `xml:"ExpiredObjectDeleteMarker"`
		Unknown                   []xmlAny `xml:",any"`
	}
	xmlNoncurrentTransition struct {
		NoncurrentDays          []string `xml:"NoncurrentDays"`
		StorageClass            []string `xml:"StorageClass"`
		NewerNoncurrentVersions []string `xml:"NewerNoncurrentVersions"`
		Unknown                 []xmlAny `xml:",any"`
	}
	xmlNoncurrentExpiration struct {
		NoncurrentDays          []string `xml:"NoncurrentDays"`
		NewerNoncurrentVersions []string `xml:"NewerNoncurrentVersions"`
		Unknown                 []xmlAny `xml:",any"`
	}
	xmlAbort struct {
		DaysAfterInitiation []string `xml:"DaysAfterInitiation"`
		Unknown             []xmlAny `xml:",any"`
	}
)

// decode reads a well-formed document whose root is
// LifecycleConfiguration (see DecodeDocument).
func decode(body []byte) (*xmlConfig, error) {
	var w xmlConfig
	if err := DecodeDocument(body, &w); err != nil {
		return nil, err
	}
	return &w, nil
}

// DecodeDocument decodes body, an S3 configuration document, into v (a
// struct whose XMLName names the root element): one element, in any
// namespace, with nothing but whitespace, comments and processing
// instructions around it. Anything else is MalformedXML.
func DecodeDocument(body []byte, v any) error {
	if err := s3xml.Decode(body, v); err != nil {
		return malformed()
	}
	return nil
}

// configuration converts the wire form, refusing unknown and repeated
// elements and values that are not of their element's type.
func (w *xmlConfig) configuration() (*Configuration, error) {
	if len(w.Unknown) > 0 {
		return nil, malformed()
	}
	c := &Configuration{Rules: make([]Rule, 0, len(w.Rules))}
	for i := range w.Rules {
		r, err := w.Rules[i].rule()
		if err != nil {
			return nil, err
		}
		c.Rules = append(c.Rules, r)
	}
	return c, nil
}

func (w *xmlRule) rule() (Rule, error) {
	var r Rule
	if len(w.Unknown) > 0 || len(w.ID) > 1 || len(w.Prefix) > 1 || len(w.Filter) > 1 ||
		len(w.Status) != 1 || len(w.Expiration) > 1 || len(w.NoncurrentVersionExpiration) > 1 ||
		len(w.AbortIncompleteMultipartUpload) > 1 {
		return r, malformed()
	}
	if len(w.ID) == 1 {
		r.ID = w.ID[0]
	}
	r.Status = w.Status[0]
	r.Prefix = optString(w.Prefix)
	var err error
	if len(w.Filter) == 1 {
		if r.Filter, err = w.Filter[0].filter(); err != nil {
			return r, err
		}
	}
	for _, t := range w.Transition {
		if len(t.Unknown) > 0 || len(t.StorageClass) != 1 || len(t.Date) > 1 || len(t.Days) > 1 {
			return r, malformed()
		}
		tr := Transition{StorageClass: t.StorageClass[0]}
		if tr.Days, err = optInt(t.Days); err != nil {
			return r, err
		}
		if tr.Date, err = optDate(t.Date); err != nil {
			return r, err
		}
		r.Transitions = append(r.Transitions, tr)
	}
	if len(w.Expiration) == 1 {
		e := w.Expiration[0]
		if len(e.Unknown) > 0 || len(e.Date) > 1 || len(e.Days) > 1 || len(e.ExpiredObjectDeleteMarker) > 1 {
			return r, malformed()
		}
		r.Expiration = &Expiration{}
		if r.Expiration.Days, err = optInt(e.Days); err != nil {
			return r, err
		}
		if r.Expiration.Date, err = optDate(e.Date); err != nil {
			return r, err
		}
		if r.Expiration.ExpiredObjectDeleteMarker, err = optBool(e.ExpiredObjectDeleteMarker); err != nil {
			return r, err
		}
	}
	for _, t := range w.NoncurrentVersionTransition {
		if len(t.Unknown) > 0 || len(t.StorageClass) != 1 || len(t.NoncurrentDays) > 1 || len(t.NewerNoncurrentVersions) > 1 {
			return r, malformed()
		}
		tr := NoncurrentVersionTransition{StorageClass: t.StorageClass[0]}
		if tr.NoncurrentDays, err = optInt(t.NoncurrentDays); err != nil {
			return r, err
		}
		if tr.NewerNoncurrentVersions, err = optInt(t.NewerNoncurrentVersions); err != nil {
			return r, err
		}
		r.NoncurrentVersionTransitions = append(r.NoncurrentVersionTransitions, tr)
	}
	if len(w.NoncurrentVersionExpiration) == 1 {
		e := w.NoncurrentVersionExpiration[0]
		if len(e.Unknown) > 0 || len(e.NoncurrentDays) > 1 || len(e.NewerNoncurrentVersions) > 1 {
			return r, malformed()
		}
		r.NoncurrentVersionExpiration = &NoncurrentVersionExpiration{}
		if r.NoncurrentVersionExpiration.NoncurrentDays, err = optInt(e.NoncurrentDays); err != nil {
			return r, err
		}
		if r.NoncurrentVersionExpiration.NewerNoncurrentVersions, err = optInt(e.NewerNoncurrentVersions); err != nil {
			return r, err
		}
	}
	if len(w.AbortIncompleteMultipartUpload) == 1 {
		a := w.AbortIncompleteMultipartUpload[0]
		if len(a.Unknown) > 0 || len(a.DaysAfterInitiation) > 1 {
			return r, malformed()
		}
		r.AbortIncompleteMultipartUpload = &AbortIncompleteMultipartUpload{}
		if r.AbortIncompleteMultipartUpload.DaysAfterInitiation, err = optInt(a.DaysAfterInitiation); err != nil {
			return r, err
		}
	}
	return r, nil
}

func (w *xmlFilter) filter() (*Filter, error) {
	if len(w.Unknown) > 0 || len(w.Prefix) > 1 || len(w.Tag) > 1 || len(w.And) > 1 ||
		len(w.ObjectSizeGreaterThan) > 1 || len(w.ObjectSizeLessThan) > 1 {
		return nil, malformed()
	}
	f := &Filter{Prefix: optString(w.Prefix)}
	var err error
	if len(w.Tag) == 1 {
		t, err := w.Tag[0].tag()
		if err != nil {
			return nil, err
		}
		f.Tag = &t
	}
	if f.ObjectSizeGreaterThan, err = optInt64(w.ObjectSizeGreaterThan); err != nil {
		return nil, err
	}
	if f.ObjectSizeLessThan, err = optInt64(w.ObjectSizeLessThan); err != nil {
		return nil, err
	}
	if len(w.And) == 1 {
		a := w.And[0]
		if len(a.Unknown) > 0 || len(a.Prefix) > 1 || len(a.ObjectSizeGreaterThan) > 1 || len(a.ObjectSizeLessThan) > 1 {
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
		if f.And.ObjectSizeGreaterThan, err = optInt64(a.ObjectSizeGreaterThan); err != nil {
			return nil, err
		}
		if f.And.ObjectSizeLessThan, err = optInt64(a.ObjectSizeLessThan); err != nil {
			return nil, err
		}
	}
	return f, nil
}

func (w *xmlTag) tag() (Tag, error) {
	if len(w.Unknown) > 0 || len(w.Key) != 1 || len(w.Value) != 1 {
		return Tag{}, malformed()
	}
	return Tag{Key: w.Key[0], Value: w.Value[0]}, nil
}

func optString(v []string) *string {
	if len(v) == 0 {
		return nil
	}
	s := v[0]
	return &s
}

// optInt reads an xs:int.
func optInt(v []string) (*int, error) {
	if len(v) == 0 {
		return nil, nil
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v[0]), 10, 32)
	if err != nil {
		return nil, malformed()
	}
	i := int(n)
	return &i, nil
}

// optInt64 reads an xs:long.
func optInt64(v []string) (*int64, error) {
	if len(v) == 0 {
		return nil, nil
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v[0]), 10, 64)
	if err != nil {
		return nil, malformed()
	}
	return &n, nil
}

// optBool reads an xs:boolean.
func optBool(v []string) (*bool, error) {
	if len(v) == 0 {
		return nil, nil
	}
	var b bool
	switch strings.TrimSpace(v[0]) {
	case "true", "1":
		b = true
	case "false", "0":
	default:
		return nil, malformed()
	}
	return &b, nil
}

// dateLayouts are the ISO 8601 forms a Date is accepted in: a full
// timestamp with a zone (fractional seconds allowed), one without (taken
// as UTC), or a plain date.
var dateLayouts = []string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02"}

// optDate reads an ISO 8601 timestamp; any other form is MalformedXML.
// Whether it is at midnight is Validate's concern.
func optDate(v []string) (*time.Time, error) {
	if len(v) == 0 {
		return nil, nil
	}
	s := strings.TrimSpace(v[0])
	for _, layout := range dateLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			t = t.UTC()
			return &t, nil
		}
	}
	return nil, malformed()
}

// assignIDs gives every rule without an ID one derived from its content
// and position, 48 base64 characters like the IDs S3 generates, and
// distinct from every other ID.
func (c *Configuration) assignIDs() {
	taken := make(map[string]bool, len(c.Rules))
	for _, r := range c.Rules {
		if r.ID != "" {
			taken[r.ID] = true
		}
	}
	for i := range c.Rules {
		r := &c.Rules[i]
		if r.ID != "" {
			continue
		}
		seed := append(marshalRule(r), strconv.Itoa(i)...)
		for {
			sum := sha512.Sum512(seed)
			id := base64.StdEncoding.EncodeToString(sum[:36])
			if !taken[id] {
				r.ID, taken[id] = id, true
				break
			}
			seed = sum[:]
		}
	}
}
