package retrieval

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
)

func TestStrategyNames(t *testing.T) {
	for _, tc := range []struct {
		s    Strategy
		name string
	}{{None, "None"}, {FreeTier, "FreeTier"}, {BytesPerHour, "BytesPerHour"}} {
		if got := tc.s.String(); got != tc.name {
			t.Errorf("%d.String() = %q, want %q", tc.s, got, tc.name)
		}
		if got, ok := ParseStrategy(tc.name); !ok || got != tc.s {
			t.Errorf("ParseStrategy(%q) = %v, %v", tc.name, got, ok)
		}
	}
	for _, bad := range []string{"", "none", "bytesperhour", "Freetier", "BytesPerHour ", "Strategy(3)"} {
		if _, ok := ParseStrategy(bad); ok {
			t.Errorf("ParseStrategy(%q) succeeded", bad)
		}
	}
	if got := Strategy(7).String(); got != "Strategy(7)" {
		t.Errorf("Strategy(7).String() = %q", got)
	}
}

func TestPolicyJSONRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		p     Policy
		doc   string
		rules string
	}{
		{Policy{}, `{"Policy":{"Rules":[{"Strategy":"None"}]}}`, `{"Rules":[{"Strategy":"None"}]}`},
		{Policy{Strategy: FreeTier}, `{"Policy":{"Rules":[{"Strategy":"FreeTier"}]}}`, `{"Rules":[{"Strategy":"FreeTier"}]}`},
		{Policy{Strategy: BytesPerHour, BytesPerHour: 10737418240},
			`{"Policy":{"Rules":[{"Strategy":"BytesPerHour","BytesPerHour":10737418240}]}}`,
			`{"Rules":[{"Strategy":"BytesPerHour","BytesPerHour":10737418240}]}`},
		{Policy{Strategy: BytesPerHour, BytesPerHour: 1},
			`{"Policy":{"Rules":[{"Strategy":"BytesPerHour","BytesPerHour":1}]}}`,
			`{"Rules":[{"Strategy":"BytesPerHour","BytesPerHour":1}]}`},
		{Policy{Strategy: BytesPerHour, BytesPerHour: math.MaxInt64},
			`{"Policy":{"Rules":[{"Strategy":"BytesPerHour","BytesPerHour":9223372036854775807}]}}`,
			`{"Rules":[{"Strategy":"BytesPerHour","BytesPerHour":9223372036854775807}]}`},
	} {
		got, err := json.Marshal(tc.p)
		if err != nil {
			t.Fatalf("Marshal(%v): %v", tc.p, err)
		}
		if string(got) != tc.doc {
			t.Errorf("Marshal(%v) = %s, want %s", tc.p, got, tc.doc)
		}
		rules, err := tc.p.RulesJSON()
		if err != nil || string(rules) != tc.rules {
			t.Errorf("RulesJSON(%v) = %s, %v; want %s", tc.p, rules, err, tc.rules)
		}
		back, err := Parse(got)
		if err != nil || back != tc.p {
			t.Errorf("Parse(%s) = %v, %v; want %v", got, back, err, tc.p)
		}
		back, err = ParseRules(rules)
		if err != nil || back != tc.p {
			t.Errorf("ParseRules(%s) = %v, %v; want %v", rules, back, err, tc.p)
		}
		var q Policy
		if err := json.Unmarshal(got, &q); err != nil || q != tc.p {
			t.Errorf("json.Unmarshal(%s) = %v, %v; want %v", got, q, err, tc.p)
		}
		// Embedded in a larger document, as a store might keep it.
		wrapped, err := json.Marshal(struct{ P Policy }{tc.p})
		if err != nil {
			t.Fatal(err)
		}
		var w struct{ P Policy }
		if err := json.Unmarshal(wrapped, &w); err != nil || w.P != tc.p {
			t.Errorf("embedded round trip of %v via %s = %v, %v", tc.p, wrapped, w.P, err)
		}
	}
}

func TestParseAccepts(t *testing.T) {
	for _, tc := range []struct {
		doc  string
		want Policy
	}{
		{` { "Policy" : { "Rules" : [ { "Strategy" : "FreeTier" } ] } } `, Policy{Strategy: FreeTier}},
		// Unknown members are ignored; null counts as absent.
		{`{"Policy":{"Rules":[{"Strategy":"None","BytesPerHour":null,"X":1}],"Y":[]},"Z":{}}`, Policy{}},
		{`{"Policy":{"Rules":[{"BytesPerHour":5,"Strategy":"BytesPerHour"}]}}`, Policy{Strategy: BytesPerHour, BytesPerHour: 5}},
		// Duplicate members: the last one wins, as encoding/json does.
		{`{"Policy":{"Rules":[{"Strategy":"None","Strategy":"FreeTier"}]}}`, Policy{Strategy: FreeTier}},
	} {
		got, err := Parse([]byte(tc.doc))
		if err != nil || got != tc.want {
			t.Errorf("Parse(%s) = %v, %v; want %v", tc.doc, got, err, tc.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	const (
		ser  = CodeSerialization
		miss = CodeMissingParameterValue
		inv  = CodeInvalidParameterValue
	)
	for _, tc := range []struct {
		doc, code, msg string // msg: a substring of the message
	}{
		// Not a JSON object, or members of the wrong JSON type.
		{`{`, ser, "The request body is not well-formed JSON"},
		{"{\"Policy\":{\"Rules\":[{\"Strategy\":\"None\"}]}", ser, "not well-formed JSON"},
		{`[]`, ser, "must be a JSON object"},
		{`"Policy"`, ser, "must be a JSON object"},
		{`{"Policy":{}} {}`, ser, "not well-formed JSON"},
		{`{"Policy":[]}`, ser, "Policy must be a JSON object"},
		{`{"Policy":"None"}`, ser, "Policy must be a JSON object"},
		{`{"Policy":{"Rules":{}}}`, ser, "Rules must be a list"},
		{`{"Policy":{"Rules":"x"}}`, ser, "Rules must be a list"},
		{`{"Policy":{"Rules":[[]]}}`, ser, "Rules[0] must be a JSON object"},
		{`{"Policy":{"Rules":[{"Strategy":1}]}}`, ser, "Strategy must be a string"},
		{`{"Policy":{"Rules":[{"Strategy":["None"]}]}}`, ser, "Strategy must be a string"},
		{`{"Policy":{"Rules":[{"Strategy":"BytesPerHour","BytesPerHour":"5"}]}}`, ser, "BytesPerHour must be a number"},
		{`{"Policy":{"Rules":[{"Strategy":"BytesPerHour","BytesPerHour":true}]}}`, ser, "BytesPerHour must be a number"},
		{`{"Policy":{"Rules":[{"Strategy":"BytesPerHour","BytesPerHour":1.5}]}}`, ser, "must be an integer"},
		{`{"Policy":{"Rules":[{"Strategy":"BytesPerHour","BytesPerHour":1e3}]}}`, ser, "must be an integer"},
		{`{"Policy":{"Rules":[{"Strategy":"BytesPerHour","BytesPerHour":9223372036854775808}]}}`, ser, "must be an integer"},
		{`{"Policy":{"Rules":[{"Strategy":"BytesPerHour","BytesPerHour":-}]}}`, ser, "not well-formed JSON"},
		// Missing members.
		{``, miss, "Required parameter missing: Policy"},
		{`null`, miss, "Required parameter missing: Policy"},
		{`{}`, miss, "Required parameter missing: Policy"},
		{`{"policy":{"Rules":[{"Strategy":"None"}]}}`, miss, "Required parameter missing: Policy"},
		{`{"Policy":null}`, miss, "Required parameter missing: Policy"},
		{`{"Policy":{}}`, miss, "Required parameter missing: Rules"},
		{`{"Policy":{"Rules":null}}`, miss, "Required parameter missing: Rules"},
		{`{"Policy":{"Rules":[{}]}}`, miss, "Required parameter missing: Strategy"},
		{`{"Policy":{"Rules":[null]}}`, miss, "Required parameter missing: Strategy"},
		{`{"Policy":{"Rules":[{"strategy":"None"}]}}`, miss, "Required parameter missing: Strategy"},
		{`{"Policy":{"Rules":[{"Strategy":"BytesPerHour"}]}}`, miss, "Required parameter missing: BytesPerHour"},
		{`{"Policy":{"Rules":[{"Strategy":"BytesPerHour","BytesPerHour":null}]}}`, miss, "Required parameter missing: BytesPerHour"},
		// Invalid values.
		{`{"Policy":{"Rules":[]}}`, inv, "Invalid number of rules: 0"},
		{`{"Policy":{"Rules":[{"Strategy":"None"},{"Strategy":"None"}]}}`, inv, "Invalid number of rules: 2"},
		{`{"Policy":{"Rules":[{"Strategy":"none"}]}}`, inv, `Invalid Strategy: "none"`},
		{`{"Policy":{"Rules":[{"Strategy":""}]}}`, inv, `Invalid Strategy: ""`},
		{`{"Policy":{"Rules":[{"Strategy":"MaxRetrievalRate"}]}}`, inv, "valid values are BytesPerHour, FreeTier and None"},
		{`{"Policy":{"Rules":[{"Strategy":"FreeTier","BytesPerHour":5}]}}`, inv, "BytesPerHour can only be set when Strategy is BytesPerHour, not FreeTier"},
		{`{"Policy":{"Rules":[{"Strategy":"None","BytesPerHour":0}]}}`, inv, "BytesPerHour can only be set when Strategy is BytesPerHour, not None"},
		{`{"Policy":{"Rules":[{"Strategy":"BytesPerHour","BytesPerHour":0}]}}`, inv, "Invalid BytesPerHour: 0"},
		{`{"Policy":{"Rules":[{"Strategy":"BytesPerHour","BytesPerHour":-0}]}}`, inv, "Invalid BytesPerHour: 0"},
		{`{"Policy":{"Rules":[{"Strategy":"BytesPerHour","BytesPerHour":-10737418240}]}}`, inv, "Invalid BytesPerHour: -10737418240; it must be between 1 and 9223372036854775807"},
	} {
		p, err := Parse([]byte(tc.doc))
		var ie *InvalidPolicyError
		if !errors.As(err, &ie) {
			t.Errorf("Parse(%s) = %v, %v; want an InvalidPolicyError", tc.doc, p, err)
			continue
		}
		if !errors.Is(err, ErrInvalidPolicy) {
			t.Errorf("Parse(%s): %v does not wrap ErrInvalidPolicy", tc.doc, err)
		}
		if ie.Code != tc.code || !strings.Contains(ie.Message, tc.msg) {
			t.Errorf("Parse(%s) = %s: %q; want %s with %q", tc.doc, ie.Code, ie.Message, tc.code, tc.msg)
		}
		// json.Unmarshal reports the same error, unwrapped.
		var q Policy
		if err := json.Unmarshal([]byte(tc.doc), &q); err == nil {
			if tc.doc != "" { // Unmarshal refuses an empty document itself
				t.Errorf("json.Unmarshal(%s) succeeded", tc.doc)
			}
		}
	}
}

func TestParseRulesErrors(t *testing.T) {
	for _, tc := range []struct{ doc, code string }{
		{`{}`, CodeMissingParameterValue},
		{`{"Rules":[{"Strategy":"Nope"}]}`, CodeInvalidParameterValue},
		{`{"Policy":{"Rules":[{"Strategy":"None"}]}}`, CodeMissingParameterValue},
		{`[`, CodeSerialization},
	} {
		_, err := ParseRules([]byte(tc.doc))
		var ie *InvalidPolicyError
		if !errors.As(err, &ie) || ie.Code != tc.code {
			t.Errorf("ParseRules(%s) = %v, want code %s", tc.doc, err, tc.code)
		}
	}
}

func TestValidateAndMarshalInvalid(t *testing.T) {
	for _, p := range []Policy{
		{Strategy: None, BytesPerHour: 1},
		{Strategy: FreeTier, BytesPerHour: -1},
		{Strategy: BytesPerHour},
		{Strategy: BytesPerHour, BytesPerHour: -5},
		{Strategy: Strategy(3)},
	} {
		if err := p.Validate(); !errors.Is(err, ErrInvalidPolicy) {
			t.Errorf("Validate(%+v) = %v, want ErrInvalidPolicy", p, err)
		}
		if b, err := json.Marshal(p); err == nil {
			t.Errorf("Marshal(%+v) = %s, want an error", p, b)
		}
		if b, err := p.RulesJSON(); err == nil {
			t.Errorf("RulesJSON(%+v) = %s, want an error", p, b)
		}
	}
}

func TestPolicyString(t *testing.T) {
	for _, tc := range []struct {
		p    Policy
		want string
	}{
		{Policy{}, "None"},
		{Policy{Strategy: FreeTier}, "FreeTier"},
		{Policy{Strategy: BytesPerHour, BytesPerHour: 42}, "BytesPerHour(42)"},
	} {
		if got := tc.p.String(); got != tc.want {
			t.Errorf("%+v.String() = %q, want %q", tc.p, got, tc.want)
		}
	}
}
