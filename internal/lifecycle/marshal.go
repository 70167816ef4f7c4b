package lifecycle

import (
	"encoding/xml"
	"time"
)

// The output form of a document, in the element order S3 writes:
// ID, Filter (or Prefix), Status, then the actions.
type (
	outConfig struct {
		XMLName xml.Name  `xml:"http://s3.amazonaws.com/doc/2006-03-01/ LifecycleConfiguration"`
		Rules   []outRule `xml:"Rule"`
	}
	outRule struct {
		ID                             string                    `xml:"ID,omitempty"`
		Filter                         *outFilter                `xml:"Filter"`
		Prefix                         *string                   `xml:"Prefix"`
		Status                         string                    `xml:"Status"`
		Transitions                    []outTransition           `xml:"Transition"`
		Expiration                     *outExpiration            `xml:"Expiration"`
		NoncurrentVersionTransitions   []outNoncurrentTransition `xml:"NoncurrentVersionTransition"`
		NoncurrentVersionExpiration    *outNoncurrentExpiration  `xml:"NoncurrentVersionExpiration"`
		AbortIncompleteMultipartUpload *outAbort                 `xml:"AbortIncompleteMultipartUpload"`
	}
	outFilter struct {
		Prefix                *string `xml:"Prefix"`
		Tag                   *Tag    `xml:"Tag"`
		ObjectSizeGreaterThan *int64  `xml:"ObjectSizeGreaterThan"`
		ObjectSizeLessThan    *int64  `xml:"ObjectSizeLessThan"`
		And                   *outAnd `xml:"And"`
	}
	outAnd struct {
		Prefix                *string `xml:"Prefix"`
		Tags                  []Tag   `xml:"Tag"`
		ObjectSizeGreaterThan *int64  `xml:"ObjectSizeGreaterThan"`
		ObjectSizeLessThan    *int64  `xml:"ObjectSizeLessThan"`
	}
	outTransition struct {
		Date         string `xml:"Date,omitempty"`
		Days         *int   `xml:"Days"`
		StorageClass string `xml:"StorageClass"`
	}
	outExpiration struct {
		Date                      string `xml:"Date,omitempty"`
		Days                      *int   `xml:"Days"`
		ExpiredObjectDeleteMarker *bool  `xml:"ExpiredObjectDeleteMarker"`
	}
	outNoncurrentTransition struct {
		NoncurrentDays          *int   `xml:"NoncurrentDays"`
		NewerNoncurrentVersions *int   `xml:"NewerNoncurrentVersions"`
		StorageClass            string `xml:"StorageClass"`
	}
	outNoncurrentExpiration struct {
		NoncurrentDays          *int `xml:"NoncurrentDays"`
		NewerNoncurrentVersions *int `xml:"NewerNoncurrentVersions"`
	}
	outAbort struct {
		DaysAfterInitiation *int `xml:"DaysAfterInitiation"`
	}
)

// dateLayout is how Dates are written: ISO 8601 at millisecond precision
// in UTC, as S3 writes them.
const dateLayout = "2006-01-02T15:04:05.000Z"

func formatDate(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(dateLayout)
}

// Marshal returns the document GetBucketLifecycleConfiguration answers
// with: an XML declaration and a LifecycleConfiguration in S3's
// namespace. Elements absent from c are absent from the document.
func (c *Configuration) Marshal() []byte {
	out := outConfig{Rules: make([]outRule, len(c.Rules))}
	for i := range c.Rules {
		out.Rules[i] = toOut(&c.Rules[i])
	}
	b, err := xml.Marshal(out)
	if err != nil {
		// Only unsupported types make xml.Marshal fail; these are fixed.
		panic("lifecycle: marshal: " + err.Error())
	}
	return append([]byte(xml.Header), b...)
}

// marshalRule renders one rule; it seeds generated IDs.
func marshalRule(r *Rule) []byte {
	b, err := xml.Marshal(toOut(r))
	if err != nil {
		panic("lifecycle: marshal: " + err.Error())
	}
	return b
}

func toOut(r *Rule) outRule {
	o := outRule{ID: r.ID, Prefix: r.Prefix, Status: r.Status}
	if f := r.Filter; f != nil {
		o.Filter = &outFilter{Prefix: f.Prefix, Tag: f.Tag, ObjectSizeGreaterThan: f.ObjectSizeGreaterThan, ObjectSizeLessThan: f.ObjectSizeLessThan}
		if a := f.And; a != nil {
			o.Filter.And = &outAnd{Prefix: a.Prefix, Tags: a.Tags, ObjectSizeGreaterThan: a.ObjectSizeGreaterThan, ObjectSizeLessThan: a.ObjectSizeLessThan}
		}
	}
	for _, t := range r.Transitions {
		o.Transitions = append(o.Transitions, outTransition{Date: formatDate(t.Date), Days: t.Days, StorageClass: t.StorageClass})
	}
	if e := r.Expiration; e != nil {
		o.Expiration = &outExpiration{Date: formatDate(e.Date), Days: e.Days, ExpiredObjectDeleteMarker: e.ExpiredObjectDeleteMarker}
	}
	for _, t := range r.NoncurrentVersionTransitions {
		o.NoncurrentVersionTransitions = append(o.NoncurrentVersionTransitions,
			outNoncurrentTransition{NoncurrentDays: t.NoncurrentDays, NewerNoncurrentVersions: t.NewerNoncurrentVersions, StorageClass: t.StorageClass})
	}
	if e := r.NoncurrentVersionExpiration; e != nil {
		o.NoncurrentVersionExpiration = &outNoncurrentExpiration{NoncurrentDays: e.NoncurrentDays, NewerNoncurrentVersions: e.NewerNoncurrentVersions}
	}
	if a := r.AbortIncompleteMultipartUpload; a != nil {
		o.AbortIncompleteMultipartUpload = &outAbort{DaysAfterInitiation: a.DaysAfterInitiation}
	}
	return o
}
