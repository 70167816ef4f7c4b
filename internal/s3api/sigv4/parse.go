package sigv4

import (
	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

// parseAuthorization parses an Authorization header value:
//
//	AWS4-HMAC-SHA256 Credential=AKID/20130524/us-east-1/s3/aws4_request,
//	SignedHeaders=host;range;x-amz-date, Signature=<64 hex digits>
//
// The three components may come in any order, separated by commas with or
// without spaces; each must appear exactly once. The credential scope's
// service is checked by the caller.
func parseAuthorization(s string) (authParams, *Error) {
	var a authParams
	s = strings.TrimLeft(s, " \t")
	alg, rest, _ := strings.Cut(s, " ")
	switch {
	case alg == Algorithm:
	case alg == "AWS":
		return a, newError(ErrUnsupportedAlgorithm, "Signature Version 2 is not supported; please use AWS4-HMAC-SHA256")
	case strings.HasPrefix(alg, Algorithm+","), strings.HasPrefix(alg, Algorithm+"\t"):
		return a, newError(ErrMalformedAuth, "the authorization header is malformed; a space must follow the algorithm")
	default:
		return a, newError(ErrUnsupportedAlgorithm, "the authorization mechanism you have provided is not supported; please use AWS4-HMAC-SHA256")
	}

	var cred, signedHeaders, signature string
	var haveCred, haveSH, haveSig bool
	for rest != "" {
		var part string
		part, rest, _ = strings.Cut(rest, ",")
		part = strings.Trim(part, " \t")
		if part == "" {
			continue
		}
		k, val, ok := strings.Cut(part, "=")
		if !ok {
			return a, newError(ErrMalformedAuth, fmt.Sprintf("the authorization header is malformed; incorrect component %q", truncate(part)))
		}
		var dst *string
		var seen *bool
		switch strings.TrimRight(k, " \t") {
		case "Credential":
			dst, seen = &cred, &haveCred
		case "SignedHeaders":
			dst, seen = &signedHeaders, &haveSH
		case "Signature":
			dst, seen = &signature, &haveSig
		default:
			return a, newError(ErrMalformedAuth, fmt.Sprintf("the authorization header is malformed; unknown component %q", truncate(k)))
		}
		if *seen {
			return a, newError(ErrMalformedAuth, fmt.Sprintf("the authorization header is malformed; duplicate component %q", k))
		}
		*seen = true
		*dst = strings.TrimLeft(val, " \t")
	}
	switch {
	case !haveCred:
		return a, newError(ErrMalformedAuth, "the authorization header is malformed; missing Credential")
	case !haveSH:
		return a, newError(ErrMalformedAuth, "the authorization header is malformed; missing SignedHeaders")
	case !haveSig:
		return a, newError(ErrMalformedAuth, "the authorization header is malformed; missing Signature")
	}
	var err *Error
	if a.cred, err = parseCredential(cred); err != nil {
		return a, err
	}
	if a.signedHeaders, err = parseSignedHeaders(signedHeaders); err != nil {
		return a, err
	}
	a.signedHeadersRaw = signedHeaders
	if !decodeSignature(&a.signature, signature) {
		return a, newError(ErrMalformedAuth, "the authorization header is malformed; the signature must be 64 hexadecimal digits")
	}
	return a, nil
}

// parsePresigned parses the X-Amz-* query parameters of a presigned URL.
// It validates X-Amz-Date's syntax; the time checks are the caller's.
func parsePresigned(params []queryParam) (authParams, *Error) {
	a := authParams{presigned: true}
	get := func(name string) (string, *Error) {
		switch vs := queryValues(params, name); len(vs) {
		case 0:
			return "", newError(ErrMalformedAuth, "query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters")
		case 1:
			return vs[0], nil
		default:
			return "", newError(ErrMalformedAuth, "duplicate "+name+" parameter")
		}
	}
	alg, err := get(paramAlgorithm)
	if err != nil {
		return a, err
	}
	if alg != Algorithm {
		return a, newError(ErrUnsupportedAlgorithm, "X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"")
	}
	cred, err := get(paramCredential)
	if err != nil {
		return a, err
	}
	if a.cred, err = parseCredential(cred); err != nil {
		return a, err
	}
	if a.amzDate, err = get(paramDate); err != nil {
		return a, err
	}
	if _, ok := parseAmzDate(a.amzDate); !ok {
		return a, newError(ErrMalformedAuth, "X-Amz-Date must be in the ISO 8601 basic format yyyyMMdd'T'HHmmss'Z'")
	}
	exp, err := get(paramExpires)
	if err != nil {
		return a, err
	}
	secs, ok := parseDecimal(exp)
	switch {
	case !ok:
		return a, newError(ErrMalformedAuth, "X-Amz-Expires should be a number")
	case secs < 1:
		return a, newError(ErrMalformedAuth, "X-Amz-Expires must be a positive number of seconds")
	case secs > int64(MaxPresignExpires/time.Second):
		return a, newError(ErrMalformedAuth, "X-Amz-Expires must be less than a week (in seconds) that is 604800")
	}
	a.expires = time.Duration(secs) * time.Second
	if a.signedHeadersRaw, err = get(paramSignedHeaders); err != nil {
		return a, err
	}
	if a.signedHeaders, err = parseSignedHeaders(a.signedHeadersRaw); err != nil {
		return a, err
	}
	sig, err := get(paramSignature)
	if err != nil {
		return a, err
	}
	if !decodeSignature(&a.signature, sig) {
		return a, newError(ErrMalformedAuth, "X-Amz-Signature must be 64 hexadecimal digits")
	}
	return a, nil
}

// parseCredential parses "AKID/yyyymmdd/region/service/aws4_request". The
// scope is split from the right so that the access key id itself is
// opaque.
func parseCredential(s string) (credential, *Error) {
	var c credential
	var parts [4]string
	for i := 3; i >= 0; i-- {
		j := strings.LastIndexByte(s, '/')
		if j < 0 {
			return c, newError(ErrMalformedAuth, fmt.Sprintf("the credential is mal-formed; expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\", got %q", truncate(s)))
		}
		parts[i], s = s[j+1:], s[:j]
	}
	c.accessKeyID, c.date, c.region, c.service = s, parts[0], parts[1], parts[2]
	switch {
	case parts[3] != terminator:
		return c, newError(ErrMalformedAuth, fmt.Sprintf("credential should be scoped with a valid terminator: 'aws4_request', not '%s'", truncate(parts[3])))
	case c.accessKeyID == "":
		return c, newError(ErrMalformedAuth, "the credential has an empty access key id")
	case !validScopeDate(c.date):
		return c, newError(ErrMalformedAuth, fmt.Sprintf("invalid credential date '%s'; expecting YYYYMMDD", truncate(c.date)))
	case c.region == "":
		return c, newError(ErrMalformedAuth, "the credential has an empty region")
	case c.service == "":
		return c, newError(ErrMalformedAuth, "the credential has an empty service")
	}
	return c, nil
}

func validScopeDate(s string) bool {
	if len(s) != len(scopeDateFormat) {
		return false
	}
	t, err := time.Parse(scopeDateFormat, s)
	return err == nil && t.Format(scopeDateFormat) == s
}

// parseSignedHeaders splits a SignedHeaders list. Names must be lower-case
// header tokens without duplicates.
func parseSignedHeaders(s string) ([]string, *Error) {
	if s == "" {
		return nil, newError(ErrMalformedAuth, "SignedHeaders is empty")
	}
	n := strings.Count(s, ";") + 1
	if n > maxSignedHeaders {
		return nil, newError(ErrMalformedAuth, "too many SignedHeaders")
	}
	names := make([]string, 0, n)
	for s != "" || len(names) < n {
		var name string
		name, s, _ = strings.Cut(s, ";")
		if !validHeaderName(name) {
			return nil, newError(ErrMalformedAuth, fmt.Sprintf("invalid header name %q in SignedHeaders; names must be lower-case and separated by ';'", truncate(name)))
		}
		for _, prev := range names {
			if prev == name {
				return nil, newError(ErrMalformedAuth, fmt.Sprintf("duplicate header %q in SignedHeaders", name))
			}
		}
		names = append(names, name)
	}
	return names, nil
}

// validHeaderName reports whether s is a non-empty RFC 7230 token without
// upper-case letters.
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !tokenChar[s[i]] {
			return false
		}
	}
	return true
}

var tokenChar = func() (t [256]bool) {
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] = true
	}
	return t
}()

func decodeSignature(dst *[32]byte, s string) bool {
	if len(s) != 2*len(dst) {
		return false
	}
	_, err := hex.Decode(dst[:], []byte(s))
	return err == nil
}

// truncate shortens client-supplied text quoted in error details.
func truncate(s string) string {
	const max = 64
	if len(s) <= max {
		return s
	}
	return s[:max] + "..."
}
