package policy

import (
	"strings"
)

// Wildcard tokens in a flattened pattern. Literal characters are stored as
// themselves (always >= 0).
const (
	tokStar = -1 // '*': any run of characters, including none
	tokOne  = -2 // '?': exactly one character
)

type segKind uint8

const (
	segLit  segKind = iota // literal text
	segStar                // '*' wildcard
	segOne                 // '?' wildcard
	segVar                 // policy variable ${key} or ${key, 'default'}
)

type segment struct {
	kind   segKind
	text   string // the literal text (segLit) or the lower-cased key (segVar)
	def    string // default value of a variable
	hasDef bool
}

// pattern is a Resource or condition value, compiled once at parse time.
// Wildcards and variables are recognized only where the element and the
// policy version allow them.
type pattern struct {
	raw    string
	segs   []segment
	vars   bool   // at least one policy variable
	wild   bool   // at least one '*' or '?' wildcard
	static []rune // the flattened tokens, when there are no variables
	text   string // the literal text, when there are neither variables nor wildcards
}

// compile splits s into literal text, wildcards (if wildcards) and policy
// variables (if vars). "${*}", "${?}" and "${$}" stand for the literal
// characters '*', '?' and '$'. A "${" that does not start a well-formed
// variable is literal text.
func compile(s string, vars, wildcards bool) pattern {
	p := pattern{raw: s}
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			p.segs = append(p.segs, segment{kind: segLit, text: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(s); {
		c := s[i]
		if vars && c == '$' && i+1 < len(s) && s[i+1] == '{' {
			if seg, n, ok := parseVariable(s[i:]); ok {
				if seg.kind == segLit {
					lit.WriteString(seg.text)
				} else {
					flush()
					p.segs = append(p.segs, seg)
					p.vars = true
				}
				i += n
				continue
			}
		}
		if wildcards && (c == '*' || c == '?') {
			flush()
			if c == '*' {
				p.segs = append(p.segs, segment{kind: segStar})
			} else {
				p.segs = append(p.segs, segment{kind: segOne})
			}
			p.wild = true
			i++
			continue
		}
		lit.WriteByte(c)
		i++
	}
	flush()
	if !p.vars {
		p.static, _ = p.flatten(nil)
		if !p.wild {
			p.text = string(p.static)
		}
	}
	return p
}

// parseVariable reads the variable at the start of s, which begins with
// "${". It returns the segment (a literal for the escapes ${*}, ${?} and
// ${$}) and the number of bytes consumed.
func parseVariable(s string) (segment, int, bool) {
	i := skipSpaces(s, 2)
	if i+1 < len(s) && s[i+1] == '}' && (s[i] == '*' || s[i] == '?' || s[i] == '$') {
		return segment{kind: segLit, text: s[i : i+1]}, i + 2, true
	}
	start := i
	for i < len(s) && isKeyChar(s[i]) {
		i++
	}
	if i == start {
		return segment{}, 0, false
	}
	seg := segment{kind: segVar, text: strings.ToLower(s[start:i])}
	i = skipSpaces(s, i)
	if i < len(s) && s[i] == '}' {
		return seg, i + 1, true
	}
	if i >= len(s) || s[i] != ',' {
		return segment{}, 0, false
	}
	i = skipSpaces(s, i+1)
	if i >= len(s) || s[i] != '\'' {
		return segment{}, 0, false
	}
	i++
	var def strings.Builder
	for {
		if i >= len(s) {
			return segment{}, 0, false
		}
		if s[i] == '\'' {
			if i+1 < len(s) && s[i+1] == '\'' { // '' is one quote
				def.WriteByte('\'')
				i += 2
				continue
			}
			i++
			break
		}
		def.WriteByte(s[i])
		i++
	}
	i = skipSpaces(s, i)
	if i >= len(s) || s[i] != '}' {
		return segment{}, 0, false
	}
	seg.def, seg.hasDef = def.String(), true
	return seg, i + 1, true
}

func skipSpaces(s string, i int) int {
	for i < len(s) && s[i] == ' ' {
		i++
	}
	return i
}

// isKeyChar reports whether c may appear in a condition key name used as a
// policy variable (tag keys bring '+', '=', '.', '@' and '-').
func isKeyChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte(":/_-.@+=", c) >= 0
}

// flatten returns the pattern as tokens with its variables replaced by
// their values in ctx (a nil ctx treats every variable as '*', for
// parse-time checks). It fails if a variable has no single value and no
// default. A substituted value is literal text: a '*' in it is no wildcard.
func (p *pattern) flatten(ctx *evalRequest) ([]rune, bool) {
	if !p.vars && p.static != nil {
		return p.static, true
	}
	out := make([]rune, 0, len(p.raw))
	for _, seg := range p.segs {
		switch seg.kind {
		case segLit:
			out = append(out, []rune(seg.text)...)
		case segStar:
			out = append(out, tokStar)
		case segOne:
			out = append(out, tokOne)
		case segVar:
			if ctx == nil {
				out = append(out, tokStar)
				continue
			}
			v, ok := ctx.single(seg.text)
			if !ok {
				if !seg.hasDef {
					return nil, false
				}
				v = seg.def
			}
			out = append(out, []rune(v)...)
		}
	}
	return out, true
}

// expand returns the pattern as plain text with variables replaced (for
// patterns compiled without wildcards).
func (p *pattern) expand(ctx *evalRequest) (string, bool) {
	if !p.vars {
		if p.wild {
			return p.raw, true
		}
		return p.text, true
	}
	var b strings.Builder
	for _, seg := range p.segs {
		switch seg.kind {
		case segLit:
			b.WriteString(seg.text)
		case segStar:
			b.WriteByte('*')
		case segOne:
			b.WriteByte('?')
		case segVar:
			v, ok := ctx.single(seg.text)
			if !ok {
				if !seg.hasDef {
					return "", false
				}
				v = seg.def
			}
			b.WriteString(v)
		}
	}
	return b.String(), true
}

// matchTokens reports whether the whole of s matches the pattern tokens p.
// It runs in O(len(p)·len(s)) time at worst.
func matchTokens(p, s []rune) bool {
	pi, si := 0, 0
	star, mark := -1, 0
	for si < len(s) {
		switch {
		case pi < len(p) && (p[pi] == tokOne || p[pi] == s[si]):
			pi++
			si++
		case pi < len(p) && p[pi] == tokStar:
			star, mark = pi, si
			pi++
		case star >= 0:
			mark++
			pi, si = star+1, mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == tokStar {
		pi++
	}
	return pi == len(p)
}

// canMatchPrefix reports whether some string that starts with prefix
// matches the pattern tokens p.
func canMatchPrefix(p []rune, prefix string) bool {
	states := make([]bool, len(p)+1)
	states[0] = true
	closeStars(p, states)
	for _, c := range prefix {
		next := make([]bool, len(p)+1)
		alive := false
		for i, on := range states {
			if !on || i == len(p) {
				continue
			}
			switch p[i] {
			case tokStar:
				next[i] = true
				alive = true
			case tokOne:
				next[i+1] = true
				alive = true
			default:
				if p[i] == c {
					next[i+1] = true
					alive = true
				}
			}
		}
		if !alive {
			return false
		}
		closeStars(p, next)
		states = next
	}
	return true
}

// closeStars adds to states the positions reachable by letting stars match
// nothing.
func closeStars(p []rune, states []bool) {
	for i := 0; i < len(p); i++ {
		if states[i] && p[i] == tokStar {
			states[i+1] = true
		}
	}
}

// splitTokens splits tokens at the first n-1 literal ':' characters, the
// way an ARN splits into its components.
func splitTokens(p []rune, n int) [][]rune {
	var parts [][]rune
	start := 0
	for i, r := range p {
		if len(parts) == n-1 {
			break
		}
		if r == ':' {
			parts = append(parts, p[start:i])
			start = i + 1
		}
	}
	return append(parts, p[start:])
}

// evalRequest is a Request prepared for matching: lower-cased action,
// resource as runes, and context keys lower-cased.
type evalRequest struct {
	Request
	action   []rune
	resource []rune
	anon     bool
	ctx      map[string][]string
}

func newEvalRequest(r Request) *evalRequest {
	e := &evalRequest{
		Request:  r,
		action:   []rune(strings.ToLower(r.Action)),
		resource: []rune(r.Resource),
		anon:     r.Principal == "" || r.Principal == "*",
		ctx:      r.Context,
	}
	for k := range r.Context {
		if k != strings.ToLower(k) {
			e.ctx = make(map[string][]string, len(r.Context))
			for k, v := range r.Context {
				lk := strings.ToLower(k)
				e.ctx[lk] = append(e.ctx[lk], v...)
			}
			break
		}
	}
	return e
}

// values returns the values of a (lower-cased) condition key and whether
// the key is present with at least one value.
func (e *evalRequest) values(key string) ([]string, bool) {
	v := e.ctx[key]
	return v, len(v) > 0
}

// single returns the value of a key usable as a policy variable: present,
// with exactly one value.
func (e *evalRequest) single(key string) (string, bool) {
	v := e.ctx[key]
	if len(v) != 1 {
		return "", false
	}
	return v[0], true
}
