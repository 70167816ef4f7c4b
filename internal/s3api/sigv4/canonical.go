package sigv4

import (
	"net/http"
	"net/textproto"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// queryParam is one decoded query-string parameter, in request order.
type queryParam struct {
	key, value string
}

// parseQuery splits a raw query string into decoded parameters. It decodes
// like url.ParseQuery ('+' is a space, %XX escapes) so that the canonical
// query describes exactly what the API layer will read from r.URL.Query(),
// but it keeps every parameter (including ones with a ';' that ParseQuery
// drops) and rejects invalid escapes instead of silently dropping them.
func parseQuery(raw string) ([]queryParam, error) {
	if raw == "" {
		return nil, nil
	}
	params := make([]queryParam, 0, strings.Count(raw, "&")+1)
	for raw != "" {
		var part string
		part, raw, _ = strings.Cut(raw, "&")
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		key, err := unescapeQuery(k)
		if err != nil {
			return nil, err
		}
		value, err := unescapeQuery(v)
		if err != nil {
			return nil, err
		}
		params = append(params, queryParam{key, value})
	}
	return params, nil
}

// unescapeQuery is url.QueryUnescape without allocating when there is
// nothing to decode.
func unescapeQuery(s string) (string, error) {
	if strings.IndexByte(s, '%') < 0 && strings.IndexByte(s, '+') < 0 {
		return s, nil
	}
	return url.QueryUnescape(s)
}

// queryValues returns the values of the parameter named key (exact match).
func queryValues(params []queryParam, key string) (values []string) {
	for _, p := range params {
		if p.key == key {
			values = append(values, p.value)
		}
	}
	return values
}

// hasQuery reports whether a parameter named key (exact match) exists.
func hasQuery(params []queryParam, key string) bool {
	for _, p := range params {
		if p.key == key {
			return true
		}
	}
	return false
}

// unreserved marks the bytes AWS URI-encoding leaves alone (RFC 3986
// unreserved characters).
var unreserved = func() (t [256]bool) {
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	t['-'], t['.'], t['_'], t['~'] = true, true, true, true
	return t
}()

const upperHex = "0123456789ABCDEF"

// appendEncoded appends s URI-encoded the AWS way: unreserved bytes kept,
// every other byte as %XX with upper-case hex (a space is %20, never '+').
func appendEncoded(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		dst = appendEncodedByte(dst, s[i])
	}
	return dst
}

func appendEncodedByte(dst []byte, c byte) []byte {
	if unreserved[c] {
		return append(dst, c)
	}
	return append(dst, '%', upperHex[c>>4], upperHex[c&15])
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// appendCanonicalURI appends the canonical URI of an escaped request path.
//
// S3 neither normalizes the path ("a//b", "../x" and "a/./b" are literal
// keys) nor double-encodes it: clients sign the path exactly as they send
// it, which is the AWS URI-encoding of the key with '/' kept. The server
// cannot trust the exact escaping a client chose (Go re-escapes, proxies
// may too), so the path is decoded and every byte re-encoded with the AWS
// rules. The one exception is an escaped slash: "%2F" stays "%2F", because
// a client that sent it signed it that way, while "/" stays "/".
func appendCanonicalURI(dst []byte, escapedPath string) []byte {
	if escapedPath == "" {
		return append(dst, '/')
	}
	for i := 0; i < len(escapedPath); i++ {
		c := escapedPath[i]
		switch {
		case c == '/':
			dst = append(dst, '/')
		case c == '%' && i+2 < len(escapedPath):
			hi, ok1 := unhex(escapedPath[i+1])
			lo, ok2 := unhex(escapedPath[i+2])
			if !ok1 || !ok2 {
				dst = append(dst, "%25"...)
				continue
			}
			dst = appendEncodedByte(dst, hi<<4|lo) // '/' is reserved: "%2F" stays "%2F"
			i += 2
		default:
			dst = appendEncodedByte(dst, c)
		}
	}
	return dst
}

// appendCanonicalQuery appends the canonical query string: every parameter
// (repeated keys included, X-Amz-Signature excluded when skipSignature)
// URI-encoded, sorted by encoded key then encoded value, joined by '&', with
// "key=" for parameters without a value.
func appendCanonicalQuery(dst []byte, params []queryParam, skipSignature bool) []byte {
	if len(params) == 0 {
		return dst
	}
	type pair struct{ k, v string }
	pairs := make([]pair, 0, len(params))
	var scratch []byte
	enc := func(s string) string {
		needs := false
		for i := 0; i < len(s); i++ {
			if !unreserved[s[i]] {
				needs = true
				break
			}
		}
		if !needs {
			return s
		}
		scratch = appendEncoded(scratch[:0], s)
		return string(scratch)
	}
	for _, p := range params {
		if skipSignature && p.key == paramSignature {
			continue
		}
		pairs = append(pairs, pair{enc(p.key), enc(p.value)})
	}
	slices.SortFunc(pairs, func(a, b pair) int {
		if c := strings.Compare(a.k, b.k); c != 0 {
			return c
		}
		return strings.Compare(a.v, b.v)
	})
	for i, p := range pairs {
		if i > 0 {
			dst = append(dst, '&')
		}
		dst = append(dst, p.k...)
		dst = append(dst, '=')
		dst = append(dst, p.v...)
	}
	return dst
}

// appendHeaderValue appends v trimmed, with runs of spaces collapsed to one.
func appendHeaderValue(dst []byte, v string) []byte {
	v = strings.TrimSpace(v)
	space := false
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == ' ' {
			if space {
				continue
			}
			space = true
		} else {
			space = false
		}
		dst = append(dst, c)
	}
	return dst
}

// headerValues returns the values of a signed header as the client saw
// them. Go's server moves Host to r.Host, and Content-Length and
// Transfer-Encoding to r.ContentLength and r.TransferEncoding.
func headerValues(r *http.Request, name string) []string {
	switch name {
	case "host":
		host := r.Host
		if host == "" && r.URL != nil {
			host = r.URL.Host
		}
		return []string{host}
	case "content-length":
		if vs := r.Header["Content-Length"]; len(vs) > 0 {
			return vs
		}
		if r.ContentLength >= 0 {
			return []string{strconv.FormatInt(r.ContentLength, 10)}
		}
		return nil
	case "transfer-encoding":
		if vs := r.Header["Transfer-Encoding"]; len(vs) > 0 {
			return vs
		}
		if len(r.TransferEncoding) > 0 {
			return []string{strings.Join(r.TransferEncoding, ",")}
		}
		return nil
	}
	if vs, ok := r.Header[textproto.CanonicalMIMEHeaderKey(name)]; ok {
		return vs
	}
	return r.Header[name] // a non-canonicalizable name stored verbatim
}

// appendCanonicalHeaders appends "name:value\n" for every signed header, in
// the order of the SignedHeaders list. A signed header absent from the
// request contributes an empty value; multiple values are joined by ','.
func appendCanonicalHeaders(dst []byte, r *http.Request, signed []string) []byte {
	for _, name := range signed {
		dst = append(dst, name...)
		dst = append(dst, ':')
		for i, v := range headerValues(r, name) {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendHeaderValue(dst, v)
		}
		dst = append(dst, '\n')
	}
	return dst
}
