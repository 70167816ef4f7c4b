package policy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// Messages of *Error. Where S3 is known to answer PutBucketPolicy with a
// given MalformedPolicy message, the same text is used here.
const (
	msgFirstByte         = "Policies must be valid JSON and the first byte must be '{'"
	msgInvalidJSON       = "This policy contains invalid Json"
	msgSyntax            = "Invalid policy syntax."
	msgVersion           = "The policy must contain a valid version string"
	msgMissingStatement  = "Missing required field Statement"
	msgEmptyStatement    = "Could not parse the policy: Statement is empty!"
	msgUnknownField      = "Unknown field %s"
	msgInvalidEffect     = "Invalid effect: %s"
	msgMissingElement    = "Statement is missing required element"
	msgMissingPrincipal  = "Missing required field Principal"
	msgIdentityPrincipal = "Policy document should not specify a principal."
	msgInvalidPrincipal  = "Invalid principal in policy"
	msgInvalidAction     = "Policy has invalid action"
	msgInvalidResource   = "Policy has invalid resource"
	msgActionResource    = "Action does not apply to any resource(s) in statement"
	msgConditionType     = "Invalid Condition type : %s"
	msgConditionKey      = "Policy has an invalid condition key"
	msgConditionIP       = "Invalid IP address in Conditions"
)

func fail(msg string, args ...any) error {
	if len(args) > 0 {
		msg = fmt.Sprintf(msg, args...)
	}
	return &Error{Msg: msg}
}

type policyKind uint8

const (
	kindGeneric policyKind = iota
	kindBucket
	kindIdentity
)

type parseOptions struct {
	kind   policyKind
	bucket string
}

// statement is one parsed Statement element.
type statement struct {
	deny bool

	hasPrincipal bool
	notPrincipal bool
	principals   []principal

	notAction bool
	actions   []action

	notResource bool
	resources   []pattern

	conditions []condition
}

// action is one Action or NotAction entry.
type action struct {
	any  bool   // "*"
	toks []rune // lower-cased "service:name" pattern
}

// matches reports whether the statement applies to the request.
func (st *statement) matches(req *evalRequest) bool {
	hit := false
	for i := range st.actions {
		if a := &st.actions[i]; a.any || matchTokens(a.toks, req.action) {
			hit = true
			break
		}
	}
	if hit == st.notAction {
		return false
	}
	hit = false
	for i := range st.resources {
		if toks, ok := st.resources[i].flatten(req); ok && matchTokens(toks, req.resource) {
			hit = true
			break
		}
	}
	if hit == st.notResource {
		return false
	}
	if st.hasPrincipal && matchesPrincipal(st.principals, req) == st.notPrincipal {
		return false
	}
	for i := range st.conditions {
		if !st.conditions[i].holds(req) {
			return false
		}
	}
	return true
}

type member struct {
	key string
	val json.RawMessage
}

// members decodes a JSON object into its members, in document order. It
// fails if raw is not an object or names a member twice.
func members(raw []byte) ([]member, bool) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, false
	}
	var ms []member
	seen := make(map[string]bool)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, false
		}
		key, ok := tok.(string)
		if !ok || seen[key] {
			return nil, false
		}
		seen[key] = true
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, false
		}
		ms = append(ms, member{key: key, val: v})
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return nil, false
	}
	return ms, true
}

// jsonKind returns the first byte of a JSON value: '{', '[', '"', 't',
// 'f', 'n', or a digit or '-' for numbers.
func jsonKind(raw []byte) byte {
	raw = bytes.TrimLeft(raw, " \t\r\n")
	if len(raw) == 0 {
		return 0
	}
	return raw[0]
}

// elements returns the elements of a JSON array, or the value itself when
// it is not an array.
func elements(raw json.RawMessage) ([]json.RawMessage, bool) {
	if jsonKind(raw) != '[' {
		return []json.RawMessage{raw}, true
	}
	var list []json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, false
	}
	return list, true
}

// stringList returns a JSON string, or the strings of a JSON array of
// strings.
func stringList(raw json.RawMessage) ([]string, bool) {
	els, ok := elements(raw)
	if !ok {
		return nil, false
	}
	out := make([]string, 0, len(els))
	for _, el := range els {
		var s string
		if jsonKind(el) != '"' || json.Unmarshal(el, &s) != nil {
			return nil, false
		}
		out = append(out, s)
	}
	return out, true
}

// scalarList returns a condition value: a string, number or boolean, or an
// array of them, each as text.
func scalarList(raw json.RawMessage) ([]string, bool) {
	els, ok := elements(raw)
	if !ok {
		return nil, false
	}
	out := make([]string, 0, len(els))
	for _, el := range els {
		switch jsonKind(el) {
		case '"':
			var s string
			if json.Unmarshal(el, &s) != nil {
				return nil, false
			}
			out = append(out, s)
		case 't', 'f', '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
			out = append(out, string(bytes.TrimSpace(el)))
		default:
			return nil, false
		}
	}
	return out, true
}

func parse(doc []byte, opt parseOptions) (*Policy, error) {
	if jsonKind(doc) != '{' {
		return nil, fail(msgFirstByte)
	}
	if !json.Valid(doc) {
		return nil, fail(msgInvalidJSON)
	}
	ms, ok := members(doc)
	if !ok {
		return nil, fail(msgSyntax)
	}
	p := &Policy{Version: Version2008}
	var stmts json.RawMessage
	for _, m := range ms {
		switch m.key {
		case "Version":
			var v string
			if jsonKind(m.val) != '"' || json.Unmarshal(m.val, &v) != nil || (v != VersionCurrent && v != Version2008) {
				return nil, fail(msgVersion)
			}
			p.Version = v
		case "Id":
			if jsonKind(m.val) != '"' || json.Unmarshal(m.val, &p.ID) != nil {
				return nil, fail(msgSyntax)
			}
		case "Statement":
			stmts = m.val
		default:
			return nil, fail(msgUnknownField, m.key)
		}
	}
	if stmts == nil {
		return nil, fail(msgMissingStatement)
	}
	var list []json.RawMessage
	switch jsonKind(stmts) {
	case '{':
		list = []json.RawMessage{stmts}
	case '[':
		if json.Unmarshal(stmts, &list) != nil {
			return nil, fail(msgSyntax)
		}
		if len(list) == 0 {
			return nil, fail(msgEmptyStatement)
		}
	default:
		return nil, fail(msgSyntax)
	}
	ps := parser{parseOptions: opt, vars: p.Version == VersionCurrent}
	for _, raw := range list {
		st, err := ps.statement(raw)
		if err != nil {
			return nil, err
		}
		p.statements = append(p.statements, st)
	}
	return p, nil
}

type parser struct {
	parseOptions
	vars bool // expand policy variables (VersionCurrent)
}

func (ps *parser) statement(raw json.RawMessage) (statement, error) {
	var st statement
	ms, ok := members(raw)
	if !ok {
		return st, fail(msgSyntax)
	}
	var haveEffect, haveAction, haveResource, havePrincipal bool
	var conditions json.RawMessage
	for _, m := range ms {
		var err error
		switch m.key {
		case "Sid":
			var sid string
			if jsonKind(m.val) != '"' || json.Unmarshal(m.val, &sid) != nil {
				return st, fail(msgSyntax)
			}
		case "Effect":
			var e string
			if jsonKind(m.val) != '"' || json.Unmarshal(m.val, &e) != nil {
				return st, fail(msgSyntax)
			}
			switch e {
			case "Allow":
			case "Deny":
				st.deny = true
			default:
				return st, fail(msgInvalidEffect, e)
			}
			haveEffect = true
		case "Principal", "NotPrincipal":
			if havePrincipal {
				return st, fail(msgSyntax)
			}
			havePrincipal = true
			st.hasPrincipal = true
			st.notPrincipal = m.key == "NotPrincipal"
			st.principals, err = ps.principals(m.val)
		case "Action", "NotAction":
			if haveAction {
				return st, fail(msgSyntax)
			}
			haveAction = true
			st.notAction = m.key == "NotAction"
			st.actions, err = ps.actions(m.val)
		case "Resource", "NotResource":
			if haveResource {
				return st, fail(msgSyntax)
			}
			haveResource = true
			st.notResource = m.key == "NotResource"
			st.resources, err = ps.resources(m.val)
		case "Condition":
			conditions = m.val
		default:
			return st, fail(msgUnknownField, m.key)
		}
		if err != nil {
			return st, err
		}
	}
	switch {
	case ps.kind == kindIdentity && havePrincipal:
		return st, fail(msgIdentityPrincipal)
	case ps.kind == kindBucket && !havePrincipal:
		return st, fail(msgMissingPrincipal)
	case !haveEffect, !haveAction, !haveResource:
		return st, fail(msgMissingElement)
	}
	if conditions != nil {
		var err error
		if st.conditions, err = ps.conditions(conditions); err != nil {
			return st, err
		}
	}
	if ps.kind == kindBucket && !st.notAction && !st.notResource {
		if err := checkActionsApply(&st, ps.bucket); err != nil {
			return st, err
		}
	}
	return st, nil
}

func (ps *parser) principals(raw json.RawMessage) ([]principal, error) {
	switch jsonKind(raw) {
	case '"':
		var s string
		if json.Unmarshal(raw, &s) != nil || s != "*" {
			return nil, fail(msgInvalidPrincipal)
		}
		return []principal{{kind: principalAWS, value: "*", any: true}}, nil
	case '{':
	default:
		return nil, fail(msgInvalidPrincipal)
	}
	ms, ok := members(raw)
	if !ok || len(ms) == 0 {
		return nil, fail(msgInvalidPrincipal)
	}
	var out []principal
	for _, m := range ms {
		kind, ok := principalKinds[m.key]
		if !ok {
			return nil, fail(msgInvalidPrincipal)
		}
		values, ok := stringList(m.val)
		if !ok || len(values) == 0 {
			return nil, fail(msgInvalidPrincipal)
		}
		for _, v := range values {
			p, ok := newPrincipal(kind, v)
			if !ok {
				return nil, fail(msgInvalidPrincipal)
			}
			out = append(out, p)
		}
	}
	return out, nil
}

func (ps *parser) actions(raw json.RawMessage) ([]action, error) {
	values, ok := stringList(raw)
	if !ok || len(values) == 0 {
		return nil, fail(msgInvalidAction)
	}
	out := make([]action, 0, len(values))
	for _, v := range values {
		a, ok := ps.action(v)
		if !ok {
			return nil, fail(msgInvalidAction)
		}
		out = append(out, a)
	}
	return out, nil
}

// action validates one action: "*" or "service:name", where the name may
// hold '*' and '?' wildcards. In a bucket policy the service must be s3
// and the name must match at least one S3 action.
func (ps *parser) action(v string) (action, bool) {
	var a action
	if v == "*" {
		a.any = true
		return a, true
	}
	service, name, ok := strings.Cut(v, ":")
	if !ok || service == "" || name == "" {
		return a, false
	}
	for i := 0; i < len(service); i++ {
		c := service[i]
		if !(isDigit(c) || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '-') {
			return a, false
		}
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(isDigit(c) || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '-' || c == '_' || c == '*' || c == '?') {
			return a, false
		}
	}
	a.toks = compile(strings.ToLower(v), false, true).static
	if ps.kind == kindBucket {
		if !strings.EqualFold(service, "s3") {
			return a, false
		}
		if s3ActionKinds(compile(strings.ToLower(name), false, true).static) == 0 {
			return a, false
		}
	}
	return a, true
}

func (ps *parser) resources(raw json.RawMessage) ([]pattern, error) {
	values, ok := stringList(raw)
	if !ok || len(values) == 0 {
		return nil, fail(msgInvalidResource)
	}
	out := make([]pattern, 0, len(values))
	for _, v := range values {
		p, ok := ps.resource(v)
		if !ok {
			return nil, fail(msgInvalidResource)
		}
		out = append(out, p)
	}
	return out, nil
}

// resource validates one resource: "*" (not in a bucket policy) or an ARN
// of six colon-separated components. In a bucket policy it must be able to
// name the bucket or an object in it.
func (ps *parser) resource(v string) (pattern, bool) {
	p := compile(v, ps.vars, true)
	if v == "*" {
		return p, ps.kind != kindBucket
	}
	parts := strings.SplitN(v, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[1] == "" || parts[2] == "" {
		return p, false
	}
	if ps.kind == kindBucket {
		toks, _ := p.flatten(nil)
		base := "arn:aws:s3:::" + ps.bucket
		if ps.bucket == "" {
			return p, canMatchPrefix(toks, base)
		}
		return p, matchTokens(toks, []rune(base)) || canMatchPrefix(toks, base+"/")
	}
	return p, true
}

// checkActionsApply refuses a bucket-policy statement with an action that
// applies to none of its resources: an object action needs an object ARN,
// a bucket action the bucket ARN.
func checkActionsApply(st *statement, bucket string) error {
	var covered resourceKind
	for i := range st.resources {
		toks, _ := st.resources[i].flatten(nil)
		covered |= resourceKinds(toks, bucket)
	}
	for i := range st.actions {
		a := &st.actions[i]
		kinds := onBucket | onObject | onOther
		if !a.any {
			kinds = s3ActionKinds(a.toks[len("s3:"):])
		}
		if kinds&covered == 0 {
			return fail(msgActionResource)
		}
	}
	return nil
}

// resourceKinds says whether resource tokens (variables counted as '*')
// can name the bucket (onBucket) and objects in it (onObject). With bucket
// "", any bucket will do.
func resourceKinds(toks []rune, bucket string) resourceKind {
	var kinds resourceKind
	if bucket != "" {
		base := "arn:aws:s3:::" + bucket
		if matchTokens(toks, []rune(base)) {
			kinds |= onBucket
		}
		if canMatchPrefix(toks, base+"/") {
			kinds |= onObject
		}
		return kinds
	}
	for _, rest := range afterPrefix(toks, "arn:aws:s3:::") {
		slash, wild := false, false
		for _, r := range rest {
			switch r {
			case '/':
				slash = true
			case tokStar, tokOne:
				wild = true
			}
		}
		if !slash {
			kinds |= onBucket // a bucket name has no '/'
		}
		if slash || wild {
			kinds |= onObject
		}
	}
	return kinds
}

// afterPrefix returns what is left of the tokens once they have matched
// the literal prefix: one suffix per way of matching it (stars can absorb
// more or less of the prefix). A star still open at the end of the prefix
// stays at the head of its suffix.
func afterPrefix(toks []rune, prefix string) [][]rune {
	states := make([]bool, len(toks)+1)
	states[0] = true
	closeStars(toks, states)
	for _, c := range prefix {
		next := make([]bool, len(toks)+1)
		for i, on := range states {
			if !on || i == len(toks) {
				continue
			}
			switch toks[i] {
			case tokStar:
				next[i] = true
			case tokOne:
				next[i+1] = true
			default:
				if toks[i] == c {
					next[i+1] = true
				}
			}
		}
		closeStars(toks, next)
		states = next
	}
	var out [][]rune
	for i, on := range states {
		if on {
			out = append(out, toks[i:])
		}
	}
	return out
}

func (ps *parser) conditions(raw json.RawMessage) ([]condition, error) {
	ms, ok := members(raw)
	if !ok {
		return nil, fail(msgSyntax)
	}
	var out []condition
	for _, m := range ms {
		qual, op, ifExists, ok := parseOperator(m.key)
		if !ok {
			return nil, fail(msgConditionType, m.key)
		}
		keys, ok := members(m.val)
		if !ok {
			return nil, fail(msgSyntax)
		}
		for _, k := range keys {
			c := condition{op: op, qual: qual, ifExists: ifExists, lkey: strings.ToLower(k.key)}
			if !validKeyForm(k.key) || ps.kind == kindBucket && !knownBucketKey(c.lkey) {
				return nil, fail(msgConditionKey)
			}
			values, ok := scalarList(k.val)
			if !ok || len(values) == 0 {
				return nil, fail(msgSyntax)
			}
			for _, v := range values {
				cv, err := ps.conditionValue(op.fam, v)
				if err != nil {
					return nil, err
				}
				c.values = append(c.values, cv)
			}
			out = append(out, c)
		}
	}
	return out, nil
}

// conditionValue parses one policy value for an operator family.
func (ps *parser) conditionValue(fam family, v string) (condValue, error) {
	cv := condValue{raw: v}
	ok := true
	switch fam {
	case famString, famStringIgnoreCase:
		cv.pat = compile(v, ps.vars, false)
	case famStringLike, famArn:
		cv.pat = compile(v, ps.vars, true)
	case famNumeric:
		cv.num, ok = parseNumber(v)
	case famDate:
		cv.at, ok = parseDate(v)
	case famBool, famNull:
		cv.flag, ok = parseBool(v)
	case famIP:
		if cv.ip, ok = parsePrefix(v); !ok {
			return cv, fail(msgConditionIP)
		}
	}
	if !ok {
		return cv, fail(msgSyntax)
	}
	return cv, nil
}
