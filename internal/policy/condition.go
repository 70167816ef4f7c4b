package policy

import (
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// family is what kind of values an operator compares.
type family uint8

const (
	famString family = iota
	famStringIgnoreCase
	famStringLike
	famNumeric
	famDate
	famBool
	famBinary
	famIP
	famArn
	famNull
)

// comparison of a request value (left) with a policy value (right).
type comparison uint8

const (
	cmpEq comparison = iota
	cmpLt
	cmpLe
	cmpGt
	cmpGe
)

type operator struct {
	fam     family
	cmp     comparison
	negated bool // the operator is the negation of a positive one
}

// operators maps each base condition operator (without set qualifier or
// IfExists suffix) to what it does. Operator names are case-sensitive.
var operators = map[string]operator{
	"StringEquals":              {fam: famString},
	"StringNotEquals":           {fam: famString, negated: true},
	"StringEqualsIgnoreCase":    {fam: famStringIgnoreCase},
	"StringNotEqualsIgnoreCase": {fam: famStringIgnoreCase, negated: true},
	"StringLike":                {fam: famStringLike},
	"StringNotLike":             {fam: famStringLike, negated: true},
	"NumericEquals":             {fam: famNumeric},
	"NumericNotEquals":          {fam: famNumeric, negated: true},
	"NumericLessThan":           {fam: famNumeric, cmp: cmpLt},
	"NumericLessThanEquals":     {fam: famNumeric, cmp: cmpLe},
	"NumericGreaterThan":        {fam: famNumeric, cmp: cmpGt},
	"NumericGreaterThanEquals":  {fam: famNumeric, cmp: cmpGe},
	"DateEquals":                {fam: famDate},
	"DateNotEquals":             {fam: famDate, negated: true},
	"DateLessThan":              {fam: famDate, cmp: cmpLt},
	"DateLessThanEquals":        {fam: famDate, cmp: cmpLe},
	"DateGreaterThan":           {fam: famDate, cmp: cmpGt},
	"DateGreaterThanEquals":     {fam: famDate, cmp: cmpGe},
	"Bool":                      {fam: famBool},
	"BinaryEquals":              {fam: famBinary},
	"IpAddress":                 {fam: famIP},
	"NotIpAddress":              {fam: famIP, negated: true},
	"ArnEquals":                 {fam: famArn},
	"ArnLike":                   {fam: famArn},
	"ArnNotEquals":              {fam: famArn, negated: true},
	"ArnNotLike":                {fam: famArn, negated: true},
	"Null":                      {fam: famNull},
}

// qualifier is a condition's set operator for multivalued keys.
type qualifier uint8

const (
	qualNone   qualifier = iota
	qualForAny           // ForAnyValue:
	qualForAll           // ForAllValues:
)

// condition is one key of one operator block: all of a statement's
// conditions must hold; the values of one condition are alternatives.
type condition struct {
	op       operator
	qual     qualifier
	ifExists bool
	lkey     string // the condition key, lower-cased
	values   []condValue
}

// condValue is one policy value of a condition, parsed for its family.
type condValue struct {
	raw  string
	pat  pattern // string and ARN families
	num  float64
	at   time.Time
	ip   netip.Prefix
	flag bool // Bool and Null
}

// parseOperator splits an operator name such as
// "ForAnyValue:StringLikeIfExists" into set qualifier, base operator and
// IfExists suffix.
func parseOperator(name string) (qual qualifier, op operator, ifExists bool, ok bool) {
	base := name
	if rest, found := strings.CutPrefix(base, "ForAnyValue:"); found {
		qual, base = qualForAny, rest
	} else if rest, found := strings.CutPrefix(base, "ForAllValues:"); found {
		qual, base = qualForAll, rest
	}
	if rest, found := strings.CutSuffix(base, "IfExists"); found {
		base, ifExists = rest, true
	}
	op, ok = operators[base]
	if ok && op.fam == famNull && (ifExists || qual != qualNone) {
		ok = false
	}
	return qual, op, ifExists, ok
}

// holds reports whether the condition is true for the request.
//
// A key that is absent (or has no values) makes IfExists conditions and
// ForAllValues true, ForAnyValue false, negated operators (StringNotEquals,
// NotIpAddress, ...) true and every other operator false. Otherwise, for a
// plain operator, some request value must match some policy value (for a
// negated operator: no request value may match any policy value);
// ForAnyValue needs one request value that passes, ForAllValues needs
// every request value to pass, where a value passes a negated operator
// when it matches none of the policy values.
func (c *condition) holds(req *evalRequest) bool {
	vals, present := req.values(c.lkey)
	if c.op.fam == famNull {
		for _, v := range c.values {
			if v.flag != present { // "true" asks for an absent key
				return true
			}
		}
		return false
	}
	if !present {
		switch {
		case c.ifExists, c.qual == qualForAll:
			return true
		case c.qual == qualForAny:
			return false
		}
		return c.op.negated
	}
	switch c.qual {
	case qualForAll:
		for _, v := range vals {
			if c.matchesAny(v, req) == c.op.negated {
				return false
			}
		}
		return true
	case qualForAny:
		for _, v := range vals {
			if c.matchesAny(v, req) != c.op.negated {
				return true
			}
		}
		return false
	}
	for _, v := range vals {
		if c.matchesAny(v, req) {
			return !c.op.negated
		}
	}
	return c.op.negated
}

// matchesAny reports whether the request value v matches at least one of
// the condition's policy values under the positive form of its operator.
func (c *condition) matchesAny(v string, req *evalRequest) bool {
	switch c.op.fam {
	case famNumeric:
		n, ok := parseNumber(v)
		if !ok {
			return false
		}
		for i := range c.values {
			if compare(cmpFloat(n, c.values[i].num), c.op.cmp) {
				return true
			}
		}
		return false
	case famDate:
		t, ok := parseDate(v)
		if !ok {
			return false
		}
		for i := range c.values {
			if compare(t.Compare(c.values[i].at), c.op.cmp) {
				return true
			}
		}
		return false
	case famBool:
		b, ok := parseBool(v)
		if !ok {
			return false
		}
		for i := range c.values {
			if c.values[i].flag == b {
				return true
			}
		}
		return false
	case famIP:
		addr, err := netip.ParseAddr(v)
		if err != nil {
			return false
		}
		addr = addr.Unmap()
		for i := range c.values {
			if c.values[i].ip.Contains(addr) {
				return true
			}
		}
		return false
	case famBinary:
		for i := range c.values {
			if c.values[i].raw == v {
				return true
			}
		}
		return false
	case famStringLike:
		s := []rune(v)
		for i := range c.values {
			if toks, ok := c.values[i].pat.flatten(req); ok && matchTokens(toks, s) {
				return true
			}
		}
		return false
	case famArn:
		for i := range c.values {
			if arnMatches(&c.values[i].pat, v, req) {
				return true
			}
		}
		return false
	}
	for i := range c.values { // famString, famStringIgnoreCase
		want, ok := c.values[i].pat.expand(req)
		if !ok {
			continue
		}
		if want == v || (c.op.fam == famStringIgnoreCase && strings.EqualFold(want, v)) {
			return true
		}
	}
	return false
}

// arnMatches compares an ARN with an ArnEquals/ArnLike policy value: each
// of the six colon-separated components is matched on its own, and each may
// hold '*' and '?' wildcards.
func arnMatches(p *pattern, v string, req *evalRequest) bool {
	toks, ok := p.flatten(req)
	if !ok {
		return false
	}
	want := splitTokens(toks, 6)
	got := strings.SplitN(v, ":", 6)
	if len(want) != 6 || len(got) != 6 {
		return false
	}
	for i := range want {
		if !matchTokens(want[i], []rune(got[i])) {
			return false
		}
	}
	return true
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func compare(c int, how comparison) bool {
	switch how {
	case cmpLt:
		return c < 0
	case cmpLe:
		return c <= 0
	case cmpGt:
		return c > 0
	case cmpGe:
		return c >= 0
	}
	return c == 0
}

// parseNumber reads a decimal number: an optional sign, digits, an
// optional fraction and an optional exponent. Hexadecimal, NaN and
// infinities are refused.
func parseNumber(s string) (float64, bool) {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits := 0
	for i < len(s) && isDigit(s[i]) {
		i++
		digits++
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && isDigit(s[i]) {
			i++
			digits++
		}
	}
	if digits == 0 {
		return 0, false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		exp := 0
		for i < len(s) && isDigit(s[i]) {
			i++
			exp++
		}
		if exp == 0 {
			return 0, false
		}
	}
	if i != len(s) {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, false
	}
	return f, true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// dateLayouts are the ISO 8601 forms accepted for dates, besides epoch
// seconds. A form without a zone is UTC.
var dateLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05Z0700",
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02T15:04",
	"20060102T150405Z",
	"2006-01-02",
}

// parseDate reads an ISO 8601 date or date-time, or a number of seconds
// since the Unix epoch.
func parseDate(s string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, false
	}
	if f, ok := parseNumber(s); ok && !strings.ContainsAny(s, "eE") {
		if f > 1e13 || f < -1e13 {
			return time.Time{}, false
		}
		sec := int64(f)
		nsec := int64((f - float64(sec)) * 1e9)
		return time.Unix(sec, nsec).UTC(), true
	}
	for _, layout := range dateLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// parseBool reads "true" or "false" in any case.
func parseBool(s string) (bool, bool) {
	switch {
	case strings.EqualFold(s, "true"):
		return true, true
	case strings.EqualFold(s, "false"):
		return false, true
	}
	return false, false
}

// parsePrefix reads a CIDR block or a single address (a /32 or /128).
func parsePrefix(s string) (netip.Prefix, bool) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, false
		}
		if p.Addr().Is4In6() {
			bits := p.Bits() - 96
			if bits < 0 {
				return netip.Prefix{}, false
			}
			p = netip.PrefixFrom(p.Addr().Unmap(), bits)
		}
		return p.Masked(), true
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, false
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), true
}
