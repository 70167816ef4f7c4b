// Package s3xml reads the XML documents S3 configuration APIs take
// (lifecycle, Intelligent-Tiering, notification configurations) with
// S3's strictness: exactly one root element, in any namespace, with
// nothing but white space, comments and processing instructions around
// it.
package s3xml

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
)

// ErrMalformed is returned for a document S3 would answer with
// MalformedXML.
var ErrMalformed = errors.New("s3xml: malformed document")

// Decode decodes body into v, a struct whose XMLName names the root
// element. Anything but one well-formed element that decodes into v is
// ErrMalformed.
func Decode(body []byte, v any) error {
	dec := xml.NewDecoder(bytes.NewReader(body))
	var start *xml.StartElement
	for start == nil {
		tok, err := dec.Token()
		if err != nil {
			return ErrMalformed
		}
		switch t := tok.(type) {
		case xml.StartElement:
			start = &t
		case xml.CharData:
			if len(bytes.TrimSpace(t)) != 0 {
				return ErrMalformed
			}
		case xml.EndElement:
			return ErrMalformed
		}
	}
	if err := dec.DecodeElement(v, start); err != nil {
		return ErrMalformed
	}
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return ErrMalformed
		}
		switch t := tok.(type) {
		case xml.CharData:
			if len(bytes.TrimSpace(t)) != 0 {
				return ErrMalformed
			}
		case xml.Comment, xml.ProcInst, xml.Directive:
		default:
			return ErrMalformed
		}
	}
}
