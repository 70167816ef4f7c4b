package policy

import (
	"strings"
)

type principalKind uint8

const (
	principalAWS principalKind = iota
	principalCanonicalUser
	principalService
	principalFederated
)

// principalKinds maps the keys of a Principal object to their kinds.
var principalKinds = map[string]principalKind{
	"AWS":           principalAWS,
	"CanonicalUser": principalCanonicalUser,
	"Service":       principalService,
	"Federated":     principalFederated,
}

// principal is one entry of a Principal or NotPrincipal element.
type principal struct {
	kind    principalKind
	value   string
	any     bool   // "*": everyone, anonymous callers included
	account string // the account ID, when the entry names a whole account
	pat     []rune // wildcard tokens, when the ARN holds '*' or '?'
}

// newPrincipal validates one principal value of the given kind.
func newPrincipal(kind principalKind, v string) (principal, bool) {
	p := principal{kind: kind, value: v}
	if v == "*" {
		p.any = true
		return p, true
	}
	if v == "" || (kind != principalAWS && strings.ContainsAny(v, " \t\r\n")) {
		return p, false
	}
	switch kind {
	case principalAWS:
		if isAccountID(v) {
			p.account = v
			return p, true
		}
		parts := strings.SplitN(v, ":", 6)
		if len(parts) != 6 || parts[0] != "arn" || parts[1] == "" || parts[2] == "" || parts[5] == "" {
			return p, false
		}
		if parts[2] == "iam" && parts[5] == "root" && isAccountID(parts[4]) {
			p.account = parts[4]
			return p, true
		}
		if strings.ContainsAny(v, "*?") {
			p.pat = compile(v, false, true).static
		}
	}
	return p, true
}

// isAccountID reports whether s is a 12-digit AWS account ID.
func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// matchesPrincipal reports whether the request's principal is one of ps.
func matchesPrincipal(ps []principal, req *evalRequest) bool {
	for i := range ps {
		if ps[i].matches(req) {
			return true
		}
	}
	return false
}

func (p *principal) matches(req *evalRequest) bool {
	if p.any {
		return true
	}
	if req.anon {
		return false
	}
	who := req.Principal
	switch p.kind {
	case principalAWS:
		switch {
		case p.account != "":
			return who == p.account || accountOf(who) == p.account
		case p.pat != nil:
			return matchTokens(p.pat, []rune(who))
		}
		return who == p.value || roleSessionOf(p.value, who)
	case principalService:
		return strings.EqualFold(who, p.value)
	}
	return who == p.value
}

// accountOf returns the account ID field of an ARN, or "".
func accountOf(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" {
		return ""
	}
	return parts[4]
}

// roleSessionOf reports whether caller is a session of the role roleARN:
// a Principal naming "arn:aws:iam::111122223333:role/path/name" covers
// the caller "arn:aws:sts::111122223333:assumed-role/name/session".
func roleSessionOf(roleARN, caller string) bool {
	r := strings.SplitN(roleARN, ":", 6)
	c := strings.SplitN(caller, ":", 6)
	if len(r) != 6 || len(c) != 6 || r[0] != "arn" || c[0] != "arn" {
		return false
	}
	if r[1] != c[1] || r[2] != "iam" || c[2] != "sts" || r[4] != c[4] {
		return false
	}
	role, ok := strings.CutPrefix(r[5], "role/")
	if !ok {
		return false
	}
	if i := strings.LastIndexByte(role, '/'); i >= 0 {
		role = role[i+1:]
	}
	session, ok := strings.CutPrefix(c[5], "assumed-role/")
	if !ok {
		return false
	}
	name, _, ok := strings.Cut(session, "/")
	return ok && name == role
}
