package retrieval

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// Strategy is a data retrieval policy strategy. The zero Strategy is None.
type Strategy uint8

// The strategies of a data retrieval policy.
const (
	// None accepts every retrieval ("No Retrieval Limit"); the default.
	None Strategy = iota
	// FreeTier keeps Standard retrievals within the daily free allowance
	// ("Free Tier Only").
	FreeTier
	// BytesPerHour caps the peak retrieval rate of Standard jobs in
	// progress ("Max Retrieval Rate").
	BytesPerHour
)

var strategyNames = [...]string{None: "None", FreeTier: "FreeTier", BytesPerHour: "BytesPerHour"}

// String returns the Glacier name of s: "None", "FreeTier" or
// "BytesPerHour" ("Strategy(n)" for an invalid value).
func (s Strategy) String() string {
	if int(s) < len(strategyNames) {
		return strategyNames[s]
	}
	return "Strategy(" + strconv.Itoa(int(s)) + ")"
}

// ParseStrategy returns the strategy Glacier spells name (case-sensitive).
func ParseStrategy(name string) (Strategy, bool) {
	for i, n := range strategyNames {
		if n == name {
			return Strategy(i), true
		}
	}
	return 0, false
}

// Policy is a data retrieval policy. The zero Policy is the default:
// Strategy None.
type Policy struct {
	Strategy Strategy
	// BytesPerHour is the peak retrieval rate allowed, in bytes per model
	// hour. It is set (≥ 1) exactly when Strategy is BytesPerHour.
	BytesPerHour int64
}

// Glacier error codes carried by InvalidPolicyError.Code.
const (
	// CodeInvalidParameterValue: a member has a value Glacier refuses
	// (HTTP 400).
	CodeInvalidParameterValue = "InvalidParameterValueException"
	// CodeMissingParameterValue: a required member is missing (HTTP 400).
	CodeMissingParameterValue = "MissingParameterValueException"
	// CodeSerialization: the body is not well-formed JSON or a member has
	// the wrong JSON type (HTTP 400).
	CodeSerialization = "SerializationException"
)

// ErrInvalidPolicy is wrapped by every *InvalidPolicyError.
var ErrInvalidPolicy = errors.New("retrieval: invalid data retrieval policy")

// InvalidPolicyError says why a policy document or Policy is invalid, as
// Glacier would: Code is the Glacier error code to answer with (one of the
// Code constants, all HTTP 400) and Message its message. It wraps
// ErrInvalidPolicy.
type InvalidPolicyError struct {
	Code    string
	Message string
}

func (e *InvalidPolicyError) Error() string {
	return "retrieval: " + e.Code + ": " + e.Message
}

// Unwrap returns ErrInvalidPolicy.
func (e *InvalidPolicyError) Unwrap() error { return ErrInvalidPolicy }

func invalid(format string, args ...any) error {
	return &InvalidPolicyError{Code: CodeInvalidParameterValue, Message: fmt.Sprintf(format, args...)}
}

func missing(member string) error {
	return &InvalidPolicyError{Code: CodeMissingParameterValue, Message: "Required parameter missing: " + member}
}

func malformed(format string, args ...any) error {
	return &InvalidPolicyError{Code: CodeSerialization, Message: fmt.Sprintf(format, args...)}
}

// Validate reports whether p is a policy Glacier would accept: a known
// Strategy, and BytesPerHour ≥ 1 exactly when Strategy is BytesPerHour.
// The error is an *InvalidPolicyError.
func (p Policy) Validate() error {
	switch p.Strategy {
	case None, FreeTier:
		if p.BytesPerHour != 0 {
			return invalid("BytesPerHour can only be set when Strategy is BytesPerHour, not %s", p.Strategy)
		}
	case BytesPerHour:
		if p.BytesPerHour <= 0 {
			return invalid("Invalid BytesPerHour: %d; it must be between 1 and %d", p.BytesPerHour, int64(1<<63-1))
		}
	default:
		return invalid("Invalid Strategy: %s", p.Strategy)
	}
	return nil
}

// String describes p in a line: "None", "FreeTier" or
// "BytesPerHour(10737418240)".
func (p Policy) String() string {
	if p.Strategy == BytesPerHour {
		return "BytesPerHour(" + strconv.FormatInt(p.BytesPerHour, 10) + ")"
	}
	return p.Strategy.String()
}

// appendRules appends the inner Glacier document of p,
// {"Rules":[{"Strategy":"BytesPerHour","BytesPerHour":N}]}, with
// BytesPerHour present only for that strategy. p must be valid.
func (p Policy) appendRules(b []byte) []byte {
	b = append(b, `{"Rules":[{"Strategy":"`...)
	b = append(b, p.Strategy.String()...)
	b = append(b, '"')
	if p.Strategy == BytesPerHour {
		b = append(b, `,"BytesPerHour":`...)
		b = strconv.AppendInt(b, p.BytesPerHour, 10)
	}
	return append(b, "}]}"...)
}

// MarshalJSON returns the Glacier GetDataRetrievalPolicy output for p,
// {"Policy":{"Rules":[{"Strategy":"BytesPerHour","BytesPerHour":N}]}},
// with BytesPerHour present only for that strategy. It fails with an
// *InvalidPolicyError if p is not valid. Parse reads it back.
func (p Policy) MarshalJSON() ([]byte, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	b := append(make([]byte, 0, 80), `{"Policy":`...)
	b = p.appendRules(b)
	return append(b, '}'), nil
}

// RulesJSON returns the inner document of p, {"Rules":[...]}, the shape
// of the AWS CLI's --policy argument. It fails like MarshalJSON.
func (p Policy) RulesJSON() ([]byte, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return p.appendRules(nil), nil
}

// UnmarshalJSON parses and validates data like Parse.
func (p *Policy) UnmarshalJSON(data []byte) error {
	q, err := Parse(data)
	if err != nil {
		return err
	}
	*p = q
	return nil
}

// Parse parses and validates a SetDataRetrievalPolicy request body,
// {"Policy":{"Rules":[{"Strategy":"...","BytesPerHour":N}]}}. Member names
// are case-sensitive and unknown members are ignored, as in the Glacier
// API; a JSON null counts as absent, and an empty body as {}. Errors are
// *InvalidPolicyError with Glacier's code:
//
//   - SerializationException: not one JSON object, or a member of the
//     wrong JSON type, or a BytesPerHour that is not an integer fitting a
//     signed 64-bit long;
//   - MissingParameterValueException: no Policy, no Rules, no Strategy, or
//     no BytesPerHour with Strategy BytesPerHour;
//   - InvalidParameterValueException: not exactly one rule, an unknown
//     Strategy, BytesPerHour set with another strategy, BytesPerHour ≤ 0.
func Parse(data []byte) (Policy, error) {
	top, err := object(data, "The request body")
	if err != nil {
		return Policy{}, err
	}
	raw, ok := member(top, "Policy")
	if !ok {
		return Policy{}, missing("Policy")
	}
	return ParseRules(raw)
}

// ParseRules parses and validates the inner policy document,
// {"Rules":[...]}, as Parse does for the value of its Policy member.
func ParseRules(data []byte) (Policy, error) {
	obj, err := object(data, "Policy")
	if err != nil {
		return Policy{}, err
	}
	raw, ok := member(obj, "Rules")
	if !ok {
		return Policy{}, missing("Rules")
	}
	var rules []json.RawMessage
	if err := decodeOne(raw, &rules); err != nil || len(raw) == 0 || raw[0] != '[' {
		return Policy{}, malformed("Rules must be a list of rules")
	}
	if len(rules) != 1 {
		return Policy{}, invalid("Invalid number of rules: %d; a data retrieval policy must have exactly one rule", len(rules))
	}
	rule, err := object(rules[0], "Rules[0]")
	if err != nil {
		return Policy{}, err
	}

	var p Policy
	raw, ok = member(rule, "Strategy")
	if !ok {
		return Policy{}, missing("Strategy")
	}
	var name string
	if err := decodeOne(raw, &name); err != nil || raw[0] != '"' {
		return Policy{}, malformed("Strategy must be a string")
	}
	if p.Strategy, ok = ParseStrategy(name); !ok {
		return Policy{}, invalid("Invalid Strategy: %q; valid values are BytesPerHour, FreeTier and None", name)
	}

	raw, set := member(rule, "BytesPerHour")
	if set {
		if c := raw[0]; c != '-' && (c < '0' || c > '9') {
			return Policy{}, malformed("BytesPerHour must be a number")
		}
		var num json.Number
		if err := decodeOne(raw, &num); err != nil {
			return Policy{}, malformed("BytesPerHour must be a number")
		}
		n, err := strconv.ParseInt(num.String(), 10, 64)
		if err != nil {
			return Policy{}, malformed("BytesPerHour must be an integer between 1 and %d, not %.40s", int64(1<<63-1), num.String())
		}
		if p.Strategy != BytesPerHour {
			return Policy{}, invalid("BytesPerHour can only be set when Strategy is BytesPerHour, not %s", p.Strategy)
		}
		if n <= 0 {
			return Policy{}, invalid("Invalid BytesPerHour: %d; it must be between 1 and %d", n, int64(1<<63-1))
		}
		p.BytesPerHour = n
	} else if p.Strategy == BytesPerHour {
		return Policy{}, missing("BytesPerHour (required when Strategy is BytesPerHour)")
	}
	return p, nil
}

// object decodes data as one JSON object (an empty or null document is an
// empty object), keeping member names case-sensitive.
func object(data []byte, what string) (map[string]json.RawMessage, error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return nil, nil
	}
	if !json.Valid(data) {
		return nil, malformed("%s is not well-formed JSON", what)
	}
	var m map[string]json.RawMessage
	if err := decodeOne(data, &m); err != nil || (data[0] != '{' && data[0] != 'n') {
		return nil, malformed("%s must be a JSON object", what)
	}
	return m, nil
}

// member returns the value of a member that is present and not null.
func member(obj map[string]json.RawMessage, name string) (json.RawMessage, bool) {
	raw, ok := obj[name]
	raw = bytes.TrimSpace(raw)
	if !ok || len(raw) == 0 || string(raw) == "null" {
		return nil, false
	}
	return raw, true
}

// decodeOne decodes exactly one JSON value from data into v.
func decodeOne(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("trailing data after the JSON value")
	}
	return nil
}
