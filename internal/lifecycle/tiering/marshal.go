package tiering

import (
	"encoding/xml"

	"github.com/firnhq/firn/internal/lifecycle"
)

// The output form of the documents, in the element order of S3's model:
// Id, Filter, Status, Tiering.
type (
	outConfig struct {
		XMLName  xml.Name     `xml:"http://s3.amazonaws.com/doc/2006-03-01/ IntelligentTieringConfiguration"`
		ID       string       `xml:"Id"`
		Filter   *outFilter   `xml:"Filter"`
		Status   string       `xml:"Status"`
		Tierings []outTiering `xml:"Tiering"`
	}
	// outItem is a configuration inside a list, which carries the
	// namespace of its root.
	outItem struct {
		ID       string       `xml:"Id"`
		Filter   *outFilter   `xml:"Filter"`
		Status   string       `xml:"Status"`
		Tierings []outTiering `xml:"Tiering"`
	}
	outFilter struct {
		Prefix *string        `xml:"Prefix"`
		Tag    *lifecycle.Tag `xml:"Tag"`
		And    *outAnd        `xml:"And"`
	}
	outAnd struct {
		Prefix *string         `xml:"Prefix"`
		Tags   []lifecycle.Tag `xml:"Tag"`
	}
	outTiering struct {
		Days       int    `xml:"Days"`
		AccessTier string `xml:"AccessTier"`
	}
	outList struct {
		XMLName               xml.Name  `xml:"http://s3.amazonaws.com/doc/2006-03-01/ ListBucketIntelligentTieringConfigurationsOutput"`
		IsTruncated           bool      `xml:"IsTruncated"`
		ContinuationToken     string    `xml:"ContinuationToken,omitempty"`
		NextContinuationToken string    `xml:"NextContinuationToken,omitempty"`
		Configurations        []outItem `xml:"IntelligentTieringConfiguration"`
	}
)

func toOut(c *Configuration) outItem {
	o := outItem{ID: c.ID, Status: c.Status}
	if f := c.Filter; f != nil {
		o.Filter = &outFilter{Prefix: f.Prefix, Tag: f.Tag}
		if a := f.And; a != nil {
			o.Filter.And = &outAnd{Prefix: a.Prefix, Tags: a.Tags}
		}
	}
	for _, t := range c.Tierings {
		o.Tierings = append(o.Tierings, outTiering(t))
	}
	return o
}

// Marshal returns the document GetBucketIntelligentTieringConfiguration
// answers with: an XML declaration and an IntelligentTieringConfiguration
// in S3's namespace.
func (c *Configuration) Marshal() []byte {
	i := toOut(c)
	return marshal(outConfig{ID: i.ID, Filter: i.Filter, Status: i.Status, Tierings: i.Tierings})
}

// Page is one answer of ListBucketIntelligentTieringConfigurations.
type Page struct {
	Configurations []Configuration
	// ContinuationToken is the token the request carried ("" for none).
	ContinuationToken string
	// NextContinuationToken continues the listing; "" on the last page.
	NextContinuationToken string
}

// MarshalList returns the ListBucketIntelligentTieringConfigurationsOutput
// document of p.
func MarshalList(p Page) []byte {
	out := outList{IsTruncated: p.NextContinuationToken != "", ContinuationToken: p.ContinuationToken,
		NextContinuationToken: p.NextContinuationToken}
	for i := range p.Configurations {
		out.Configurations = append(out.Configurations, toOut(&p.Configurations[i]))
	}
	return marshal(out)
}

func marshal(v any) []byte {
	b, err := xml.Marshal(v)
	if err != nil {
		// Only unsupported types make xml.Marshal fail; these are fixed.
		panic("tiering: marshal: " + err.Error())
	}
	return append([]byte(xml.Header), b...)
}
