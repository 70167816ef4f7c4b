package s3xml

import (
	"encoding/xml"
	"errors"
	"testing"
)

type doc struct {
	XMLName xml.Name `xml:"Doc"`
	A       string   `xml:"A"`
}

func TestDecode(t *testing.T) {
	for _, c := range []struct {
		body string
		ok   bool
	}{
		{`<Doc><A>x</A></Doc>`, true},
		{"<?xml version=\"1.0\"?>\n<!-- c --><Doc xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><A>x</A></Doc>\n", true},
		{``, false},
		{`text<Doc/>`, false},
		{`<Doc/><Doc/>`, false},
		{`<Doc/>trailing`, false},
		{`<Other/>`, false},
		{`<Doc><A>x</Doc>`, false},
		{`</Doc>`, false},
	} {
		var d doc
		err := Decode([]byte(c.body), &d)
		if c.ok != (err == nil) || err != nil && !errors.Is(err, ErrMalformed) {
			t.Errorf("%q: %v, want ok %v", c.body, err, c.ok)
		}
		if c.ok && d.A != "x" {
			t.Errorf("%q: decoded %+v", c.body, d)
		}
	}
}
