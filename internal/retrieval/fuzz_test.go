package retrieval

import (
	"encoding/json"
	"errors"
	"testing"
	"time"
)

// FuzzParse checks that Parse never panics, that every error is an
// *InvalidPolicyError with one of the documented codes, and that every
// accepted document yields a valid policy that marshals to a canonical
// document parsing back to the same policy.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`{"Policy":{"Rules":[{"Strategy":"BytesPerHour","BytesPerHour":10737418240}]}}`,
		`{"Policy":{"Rules":[{"Strategy":"FreeTier"}]}}`,
		`{"Policy":{"Rules":[{"Strategy":"None"}]}}`,
		`{"Policy":{"Rules":[{"Strategy":"None"},{"Strategy":"FreeTier"}]}}`,
		`{"Policy":{"Rules":[{"Strategy":"FreeTier","BytesPerHour":1}]}}`,
		`{"Policy":{"Rules":[{"Strategy":"BytesPerHour","BytesPerHour":-1.5e3}]}}`,
		`{"Policy":{"Rules":[{"Strategy":"BytesPerHour","BytesPerHour":"1"}]}}`,
		`{"Policy":{"Rules":[]}}`,
		`{"Policy":null}`,
		`{"Policy":{"Rules":[null]}}`,
		`{"Policy":{"Rules":[{"Strategy":"\u004eone"}]}}`,
		`[{"Policy":1}]`,
		``,
		`null`,
		"{\"Policy\":{\"Rules\":[{\"Strategy\":\"None\xff\"}]}}",
	} {
		f.Add([]byte(s))
	}
	codes := map[string]bool{CodeInvalidParameterValue: true, CodeMissingParameterValue: true, CodeSerialization: true}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse(data)
		if err != nil {
			var ie *InvalidPolicyError
			if !errors.As(err, &ie) || !codes[ie.Code] || ie.Message == "" {
				t.Fatalf("Parse(%q) error %#v is not a documented InvalidPolicyError", data, err)
			}
			return
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("Parse(%q) = %+v, which is invalid: %v", data, p, err)
		}
		doc, err := json.Marshal(p)
		if err != nil {
			t.Fatalf("Marshal(%+v): %v", p, err)
		}
		back, err := Parse(doc)
		if err != nil || back != p {
			t.Fatalf("Parse(Marshal(%+v)) = %+v, %v", p, back, err)
		}
		// Admission under any valid policy never panics and either
		// accepts or refuses.
		now := time.Unix(1e9, 0)
		job := Job{Tier: TierStandard, Bytes: int64(len(data)) * 1e6, Start: now}
		err = p.Admit(now, job, []Job{job, {Tier: TierStandard, Bytes: 1 << 40, Start: now.Add(-time.Hour)}}, Config{})
		if err != nil && !errors.Is(err, ErrPolicyEnforced) {
			t.Fatalf("Admit under %+v: %v", p, err)
		}
	})
}
