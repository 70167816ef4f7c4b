package target

import (
	"errors"
	"fmt"
	"net/mail"
	"net/textproto"
	"strconv"
	"strings"
	"unicode/utf8"
)

// option describes one option of a kind.
type option struct {
	// name is the exact name, or a family's prefix ending in "."
	// (header.<Name>).
	name     string
	required bool
	// check validates a value; nil accepts any.
	check func(name, value string) error
}

// kindOptions returns the options kind accepts.
func kindOptions(kind string) []option {
	switch kind {
	case KindWebhook:
		return []option{
			{name: "secret"},
			{name: "header.", check: checkHeader},
		}
	case KindNATS:
		return []option{
			{name: "subject", required: true, check: checkNATSSubject},
			{name: "stream", check: checkStreamName},
		}
	case KindAMQP:
		return []option{
			{name: "exchange", check: checkAMQPName},
			{name: "exchange_type", check: oneOf("direct", "fanout", "topic")},
			{name: "routing_key", check: checkRoutingKey},
			{name: "declare_queue", check: checkAMQPName},
			{name: "mandatory", check: checkBool},
		}
	case KindRedis:
		return []option{
			{name: "stream", required: true},
			{name: "maxlen", check: checkPositive},
		}
	case KindPostgres:
		return []option{
			{name: "table", required: true, check: checkTable},
			{name: "notify", check: checkChannel},
		}
	case KindMQTT:
		return []option{
			{name: "topic", required: true, check: checkMQTTTopic},
			{name: "qos", check: oneOf("0", "1", "2")},
			{name: "retain", check: checkBool},
			{name: "client_id", check: checkClientID},
		}
	case KindSMTP:
		return []option{
			{name: "from", required: true, check: checkAddress},
			{name: "to", required: true, check: checkAddressList},
			{name: "subject_prefix", check: checkHeaderText},
			{name: "starttls", check: oneOf("auto", "always", "never")},
			{name: "insecure_skip_verify", check: checkBool},
		}
	}
	return nil
}

// findOption returns the option named k.
func findOption(opts []option, k string) (option, bool) {
	for _, o := range opts {
		if o.name == k {
			return o, true
		}
		if strings.HasSuffix(o.name, ".") && strings.HasPrefix(k, o.name) && len(k) > len(o.name) {
			return o, true
		}
	}
	return option{}, false
}

// optionNames lists opts for messages.
func optionNames(opts []option) string {
	names := make([]string, len(opts))
	for i, o := range opts {
		names[i] = o.name
		if strings.HasSuffix(o.name, ".") {
			names[i] += "<Name>"
		}
	}
	return strings.Join(names, ", ")
}

// optBool parses a validated boolean option, def when unset.
func optBool(opts map[string]string, k string, def bool) bool {
	v, ok := opts[k]
	if !ok || v == "" {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return def
	}
	return b
}

// optDefault returns option k, or def when unset or empty.
func optDefault(opts map[string]string, k, def string) string {
	if v := opts[k]; v != "" {
		return v
	}
	return def
}

func oneOf(values ...string) func(string, string) error {
	return func(_, v string) error {
		for _, ok := range values {
			if v == ok {
				return nil
			}
		}
		return fmt.Errorf("%q: want one of %s", v, strings.Join(values, ", "))
	}
}

func checkBool(_, v string) error {
	if _, err := strconv.ParseBool(v); err != nil {
		return fmt.Errorf("%q: want true or false", v)
	}
	return nil
}

func checkPositive(_, v string) error {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		return fmt.Errorf("%q: want a positive integer", v)
	}
	return nil
}

func checkHeader(k, v string) error {
	name := strings.TrimPrefix(k, "header.")
	for i := 0; i < len(name); i++ {
		if !isTokenChar(name[i]) {
			return errors.New("header name is not an HTTP token")
		}
	}
	switch canon := textproto.CanonicalMIMEHeaderKey(name); canon {
	case "Content-Type", "Content-Length", "Host", "X-Firn-Event-Id", "X-Firn-Event", "X-Firn-Signature":
		return fmt.Errorf("header %s is set by firn", canon)
	}
	if strings.ContainsAny(v, "\r\n\x00") {
		return errors.New("header value holds a line break or NUL")
	}
	return nil
}

// isTokenChar reports whether c may appear in an HTTP token (RFC 9110).
func isTokenChar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

func checkNATSSubject(_, v string) error {
	if v == "" {
		return errors.New("empty subject")
	}
	if strings.ContainsAny(v, " \t\r\n") {
		return fmt.Errorf("%q: subject holds white space", v)
	}
	for _, tok := range strings.Split(v, ".") {
		switch tok {
		case "":
			return fmt.Errorf("%q: empty subject token", v)
		case "*", ">":
			return fmt.Errorf("%q: subject holds a wildcard", v)
		}
	}
	return nil
}

func checkStreamName(_, v string) error {
	if v == "" || len(v) > 255 || strings.ContainsAny(v, " \t\r\n.*>/\\") {
		return fmt.Errorf("%q: want up to 255 characters without white space, '.', '*', '>', '/' or '\\'", v)
	}
	return nil
}

// checkAMQPName accepts exchange and queue names: at most 255 letters,
// digits, '-', '_', '.' and ':'.
func checkAMQPName(_, v string) error {
	if len(v) > 255 {
		return fmt.Errorf("%q: longer than 255 bytes", v)
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', strings.IndexByte("-_.:", c) >= 0:
		default:
			return fmt.Errorf("%q: want letters, digits, '-', '_', '.' and ':'", v)
		}
	}
	return nil
}

func checkRoutingKey(_, v string) error {
	if len(v) > 255 || !utf8.ValidString(v) {
		return fmt.Errorf("%q: want at most 255 bytes of UTF-8", v)
	}
	return nil
}

// checkTable accepts name or schema.name of SQL identifiers.
func checkTable(_, v string) error {
	parts := strings.Split(v, ".")
	if len(parts) > 2 {
		return fmt.Errorf("%q: want name or schema.name", v)
	}
	for _, p := range parts {
		if !sqlIdent(p) {
			return fmt.Errorf("%q: want name or schema.name of letters, digits and '_' (not starting with a digit, at most 63 each)", v)
		}
	}
	return nil
}

func checkChannel(_, v string) error {
	if !sqlIdent(v) {
		return fmt.Errorf("%q: want letters, digits and '_' (not starting with a digit, at most 63)", v)
	}
	return nil
}

// sqlIdent reports whether s is a plain SQL identifier.
func sqlIdent(s string) bool {
	if s == "" || len(s) > 63 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_':
		case i > 0 && c >= '0' && c <= '9':
		default:
			return false
		}
	}
	return true
}

func checkMQTTTopic(_, v string) error {
	if v == "" || len(v) > 65535 || !utf8.ValidString(v) {
		return errors.New("want 1 to 65535 bytes of UTF-8")
	}
	if strings.ContainsAny(v, "+#\x00") {
		return fmt.Errorf("%q: topic holds a wildcard or NUL", v)
	}
	return nil
}

func checkClientID(_, v string) error {
	if len(v) > 65535 || !utf8.ValidString(v) || strings.ContainsRune(v, 0) {
		return errors.New("want at most 65535 bytes of UTF-8")
	}
	return nil
}

func checkAddress(_, v string) error {
	if _, err := mail.ParseAddress(v); err != nil {
		return fmt.Errorf("%q: %v", v, err)
	}
	return nil
}

func checkAddressList(_, v string) error {
	if _, err := mail.ParseAddressList(v); err != nil {
		return fmt.Errorf("%q: %v", v, err)
	}
	return nil
}

func checkHeaderText(_, v string) error {
	if strings.ContainsAny(v, "\r\n\x00") || !utf8.ValidString(v) {
		return errors.New("holds a line break, NUL or invalid UTF-8")
	}
	return nil
}
