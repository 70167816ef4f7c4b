// Package document reads lifecycle configurations as users keep them in
// files: the JSON that `aws s3api put-bucket-lifecycle-configuration
// --lifecycle-configuration file://policy.json` takes (and that
// get-bucket-lifecycle-configuration prints), or S3's XML.
//
// Both forms end in lifecycle.Parse, so a file is accepted or refused
// exactly as firn's server (and S3) would accept or refuse it.
package document

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"strconv"

	"github.com/firnhq/firn/internal/lifecycle"
)

// Document is a parsed configuration with the bucket-wide minimum-size
// setting that travels beside it.
type Document struct {
	Config *lifecycle.Configuration
	// MinimumSize is TransitionDefaultMinimumObjectSize when the JSON
	// carries it (get-bucket-lifecycle-configuration prints it), else
	// the default.
	MinimumSize lifecycle.MinimumSize
}

// Parse reads a configuration in either form: XML when the first
// non-blank byte is '<', JSON otherwise.
func Parse(data []byte) (Document, error) {
	t := bytes.TrimSpace(data)
	if len(t) > 0 && t[0] == '<' {
		c, err := lifecycle.Parse(t)
		if err != nil {
			return Document{}, err
		}
		return Document{Config: c, MinimumSize: lifecycle.AllStorageClasses128K}, nil
	}
	return ParseJSON(t)
}

// ParseJSON reads the AWS CLI's JSON shape: {"Rules": [...]}, optionally
// with "TransitionDefaultMinimumObjectSize". Unknown members are refused,
// as the CLI's parameter validation refuses them; nulls count as absent.
func ParseJSON(data []byte) (Document, error) {
	var in jsonConfig
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	if err := dec.Decode(&in); err != nil {
		return Document{}, fmt.Errorf("lifecycle JSON: %w", err)
	}
	if dec.More() {
		return Document{}, fmt.Errorf("lifecycle JSON: data after the configuration")
	}
	ms, err := lifecycle.ParseMinimumSize(in.TransitionDefaultMinimumObjectSize)
	if err != nil {
		return Document{}, err
	}
	body, err := in.xml()
	if err != nil {
		return Document{}, err
	}
	c, err := lifecycle.Parse(body)
	if err != nil {
		return Document{}, err
	}
	return Document{Config: c, MinimumSize: ms}, nil
}

// The JSON shape (member names as in the S3 API model).
type (
	jsonConfig struct {
		Rules                              []jsonRule `json:"Rules"`
		TransitionDefaultMinimumObjectSize string     `json:"TransitionDefaultMinimumObjectSize"`
	}
	jsonRule struct {
		ID                             *string                    `json:"ID"`
		Prefix                         *string                    `json:"Prefix"`
		Filter                         *jsonFilter                `json:"Filter"`
		Status                         *string                    `json:"Status"`
		Transitions                    []jsonTransition           `json:"Transitions"`
		Expiration                     *jsonExpiration            `json:"Expiration"`
		NoncurrentVersionTransitions   []jsonNoncurrentTransition `json:"NoncurrentVersionTransitions"`
		NoncurrentVersionExpiration    *jsonNoncurrentExpiration  `json:"NoncurrentVersionExpiration"`
		AbortIncompleteMultipartUpload *jsonAbort                 `json:"AbortIncompleteMultipartUpload"`
	}
	jsonFilter struct {
		Prefix                *string      `json:"Prefix"`
		Tag                   *jsonTag     `json:"Tag"`
		ObjectSizeGreaterThan *json.Number `json:"ObjectSizeGreaterThan"`
		ObjectSizeLessThan    *json.Number `json:"ObjectSizeLessThan"`
		And                   *jsonAnd     `json:"And"`
	}
	jsonAnd struct {
		Prefix                *string      `json:"Prefix"`
		Tags                  []jsonTag    `json:"Tags"`
		ObjectSizeGreaterThan *json.Number `json:"ObjectSizeGreaterThan"`
		ObjectSizeLessThan    *json.Number `json:"ObjectSizeLessThan"`
	}
	jsonTag struct {
		Key   *string `json:"Key"`
		Value *string `json:"Value"`
	}
	jsonTransition struct {
		Days         *json.Number `json:"Days"`
		Date         *string      `json:"Date"`
		StorageClass *string      `json:"StorageClass"`
	}
	jsonExpiration struct {
		Days                      *json.Number `json:"Days"`
		Date                      *string      `json:"Date"`
		ExpiredObjectDeleteMarker *bool        `json:"ExpiredObjectDeleteMarker"`
	}
	jsonNoncurrentTransition struct {
		NoncurrentDays          *json.Number `json:"NoncurrentDays"`
		NewerNoncurrentVersions *json.Number `json:"NewerNoncurrentVersions"`
		StorageClass            *string      `json:"StorageClass"`
	}
	jsonNoncurrentExpiration struct {
		NoncurrentDays          *json.Number `json:"NoncurrentDays"`
		NewerNoncurrentVersions *json.Number `json:"NewerNoncurrentVersions"`
	}
	jsonAbort struct {
		DaysAfterInitiation *json.Number `json:"DaysAfterInitiation"`
	}
)

// The XML written from it: every value as text, absent members left out,
// so that lifecycle.Parse judges the document as it would a request body.
type (
	xConfig struct {
		XMLName xml.Name `xml:"LifecycleConfiguration"`
		Rules   []xRule  `xml:"Rule"`
	}
	xRule struct {
		ID                             *string         `xml:"ID"`
		Filter                         *xFilter        `xml:"Filter"`
		Prefix                         *string         `xml:"Prefix"`
		Status                         *string         `xml:"Status"`
		Transitions                    []xTransition   `xml:"Transition"`
		Expiration                     *xExpiration    `xml:"Expiration"`
		NoncurrentVersionTransitions   []xNoncurrent   `xml:"NoncurrentVersionTransition"`
		NoncurrentVersionExpiration    *xNoncurrentExp `xml:"NoncurrentVersionExpiration"`
		AbortIncompleteMultipartUpload *xAbort         `xml:"AbortIncompleteMultipartUpload"`
	}
	xFilter struct {
		Prefix                *string `xml:"Prefix"`
		Tag                   *xTag   `xml:"Tag"`
		ObjectSizeGreaterThan *string `xml:"ObjectSizeGreaterThan"`
		ObjectSizeLessThan    *string `xml:"ObjectSizeLessThan"`
		And                   *xAnd   `xml:"And"`
	}
	xAnd struct {
		Prefix                *string `xml:"Prefix"`
		Tags                  []xTag  `xml:"Tag"`
		ObjectSizeGreaterThan *string `xml:"ObjectSizeGreaterThan"`
		ObjectSizeLessThan    *string `xml:"ObjectSizeLessThan"`
	}
	xTag struct {
		Key   *string `xml:"Key"`
		Value *string `xml:"Value"`
	}
	xTransition struct {
		Days         *string `xml:"Days"`
		Date         *string `xml:"Date"`
		StorageClass *string `xml:"StorageClass"`
	}
	xExpiration struct {
		Days                      *string `xml:"Days"`
		Date                      *string `xml:"Date"`
		ExpiredObjectDeleteMarker *string `xml:"ExpiredObjectDeleteMarker"`
	}
	xNoncurrent struct {
		NoncurrentDays          *string `xml:"NoncurrentDays"`
		NewerNoncurrentVersions *string `xml:"NewerNoncurrentVersions"`
		StorageClass            *string `xml:"StorageClass"`
	}
	xNoncurrentExp struct {
		NoncurrentDays          *string `xml:"NoncurrentDays"`
		NewerNoncurrentVersions *string `xml:"NewerNoncurrentVersions"`
	}
	xAbort struct {
		DaysAfterInitiation *string `xml:"DaysAfterInitiation"`
	}
)

func (c *jsonConfig) xml() ([]byte, error) {
	var out xConfig
	for i, r := range c.Rules {
		xr, err := r.xml()
		if err != nil {
			return nil, fmt.Errorf("lifecycle JSON: Rules[%d]: %w", i, err)
		}
		out.Rules = append(out.Rules, xr)
	}
	b, err := xml.Marshal(out)
	if err != nil {
		return nil, fmt.Errorf("lifecycle JSON: %w", err)
	}
	return b, nil
}

func (r *jsonRule) xml() (xRule, error) {
	var firstErr error
	num := func(n *json.Number) *string {
		if n == nil {
			return nil
		}
		s := n.String()
		if _, err := strconv.ParseInt(s, 10, 64); err != nil && firstErr == nil {
			firstErr = fmt.Errorf("%s is not an integer", s)
		}
		return &s
	}
	out := xRule{ID: r.ID, Prefix: r.Prefix, Status: r.Status}
	if f := r.Filter; f != nil {
		out.Filter = &xFilter{Prefix: f.Prefix, ObjectSizeGreaterThan: num(f.ObjectSizeGreaterThan), ObjectSizeLessThan: num(f.ObjectSizeLessThan)}
		if f.Tag != nil {
			out.Filter.Tag = &xTag{f.Tag.Key, f.Tag.Value}
		}
		if a := f.And; a != nil {
			xa := &xAnd{Prefix: a.Prefix, ObjectSizeGreaterThan: num(a.ObjectSizeGreaterThan), ObjectSizeLessThan: num(a.ObjectSizeLessThan)}
			for _, t := range a.Tags {
				xa.Tags = append(xa.Tags, xTag{t.Key, t.Value})
			}
			out.Filter.And = xa
		}
	}
	for _, t := range r.Transitions {
		out.Transitions = append(out.Transitions, xTransition{num(t.Days), t.Date, t.StorageClass})
	}
	if e := r.Expiration; e != nil {
		xe := &xExpiration{Days: num(e.Days), Date: e.Date}
		if e.ExpiredObjectDeleteMarker != nil {
			s := strconv.FormatBool(*e.ExpiredObjectDeleteMarker)
			xe.ExpiredObjectDeleteMarker = &s
		}
		out.Expiration = xe
	}
	for _, t := range r.NoncurrentVersionTransitions {
		out.NoncurrentVersionTransitions = append(out.NoncurrentVersionTransitions,
			xNoncurrent{num(t.NoncurrentDays), num(t.NewerNoncurrentVersions), t.StorageClass})
	}
	if e := r.NoncurrentVersionExpiration; e != nil {
		out.NoncurrentVersionExpiration = &xNoncurrentExp{num(e.NoncurrentDays), num(e.NewerNoncurrentVersions)}
	}
	if a := r.AbortIncompleteMultipartUpload; a != nil {
		out.AbortIncompleteMultipartUpload = &xAbort{num(a.DaysAfterInitiation)}
	}
	return out, firstErr
}
