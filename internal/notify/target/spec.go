package target

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// Kinds returns the supported kinds, sorted.
func Kinds() []string {
	return []string{KindAMQP, KindMQTT, KindNATS, KindPostgres, KindRedis, KindSMTP, KindWebhook}
}

// Schemes returns the URL schemes accepted for kind (nil for an unknown
// kind).
func Schemes(kind string) []string {
	switch kind {
	case KindWebhook:
		return []string{"http", "https"}
	case KindNATS:
		return []string{"nats", "tls"}
	case KindAMQP:
		return []string{"amqp", "amqps"}
	case KindRedis:
		return []string{"redis", "rediss"}
	case KindPostgres:
		return []string{"postgres", "postgresql"}
	case KindMQTT:
		return []string{"mqtt", "tcp", "mqtts", "ssl", "tls", "ws", "wss"}
	case KindSMTP:
		return []string{"smtp", "smtps"}
	}
	return nil
}

// Open validates s (see Validate) and returns a Target of s.Kind. It does
// not touch the network: the first Send connects, and a Send after a
// failure connects again. Errors name the target and its kind and never
// hold secrets.
func Open(ctx context.Context, s Spec) (Target, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	b := newBase(s)
	if err := ctx.Err(); err != nil {
		return nil, b.fail("open", err)
	}
	switch s.Kind {
	case KindWebhook:
		return openWebhook(b)
	case KindNATS:
		return openNATS(b)
	case KindAMQP:
		return openAMQP(b)
	case KindRedis:
		return openRedis(b)
	case KindPostgres:
		return openPostgres(b)
	case KindMQTT:
		return openMQTT(b)
	case KindSMTP:
		return openSMTP(b)
	}
	return nil, b.fail("open", errors.New("unknown kind"))
}

// Validate checks s without using the network: the name's syntax
// (^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$), a known kind, a URL with a host
// and a scheme of that kind, a non-negative timeout, and the kind's
// options: required ones present, values well formed, unknown ones
// refused. The error lists every problem found and holds no secret.
func (s Spec) Validate() error {
	var probs []string
	fail := func(format string, args ...any) {
		probs = append(probs, fmt.Sprintf(format, args...))
	}
	done := func() error {
		if len(probs) == 0 {
			return nil
		}
		red := newRedactor(s)
		name := s.Name
		if !validName(name) {
			name = fmt.Sprintf("%q", name)
		}
		return errors.New(red.String(fmt.Sprintf("target %s (%s): invalid: %s", name, s.Kind, strings.Join(probs, "; "))))
	}

	if !validName(s.Name) {
		fail("name %q: want 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit", s.Name)
	}
	schemes := Schemes(s.Kind)
	if schemes == nil {
		fail("unknown kind %q (known: %s; kafka is not supported)", s.Kind, strings.Join(Kinds(), ", "))
		return done()
	}
	if s.Timeout < 0 {
		fail("negative timeout %v", s.Timeout)
	}
	s.validateURL(schemes, fail)
	s.validateOptions(fail)
	return done()
}

// validateURL reports URL problems; messages never quote the URL, which
// may hold a password.
func (s Spec) validateURL(schemes []string, fail func(string, ...any)) {
	if s.URL == "" {
		fail("missing URL")
		return
	}
	u, err := url.Parse(s.URL)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		fail("invalid URL: %v", err)
		return
	}
	if !slices.Contains(schemes, u.Scheme) {
		fail("URL scheme %q: want %s", u.Scheme, strings.Join(schemes, ", "))
		return
	}
	if u.Opaque != "" {
		fail("URL must be scheme://host/...")
		return
	}
	if u.Host == "" && s.Kind != KindPostgres {
		fail("URL has no host")
	}
}

func (s Spec) validateOptions(fail func(string, ...any)) {
	opts := kindOptions(s.Kind)
	keys := make([]string, 0, len(s.Options))
	for k := range s.Options {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		o, ok := findOption(opts, k)
		if !ok {
			fail("unknown option %q (known for %s: %s)", k, s.Kind, optionNames(opts))
			continue
		}
		if o.check == nil {
			continue
		}
		// Checks of secret options never quote the value; the redactor
		// in done covers the rest.
		if err := o.check(k, s.Options[k]); err != nil {
			fail("option %s: %v", k, err)
		}
	}
	for _, o := range opts {
		if o.required && s.Options[o.name] == "" {
			fail("missing required option %s", o.name)
		}
	}
}

// Redacted returns a copy of s that is safe to show: the URL's password
// replaced as url.URL.Redacted does, password-like query parameters
// (password, sslpassword, token, secret) and secret-like options
// (secret, password, token, names ending in _secret, _password or
// _token, and every header.<Name>) replaced by "REDACTED". A URL that
// does not parse is replaced whole.
func (s Spec) Redacted() Spec {
	r := s
	r.URL = redactURL(s.URL)
	if s.Options != nil {
		r.Options = make(map[string]string, len(s.Options))
		for k, v := range s.Options {
			if secretOption(k) && v != "" {
				v = redacted
			}
			r.Options[k] = v
		}
	}
	return r
}

// redacted replaces secrets.
const redacted = "REDACTED"

// secretOption reports whether option k holds a secret.
func secretOption(k string) bool {
	k = strings.ToLower(k)
	switch k {
	case "secret", "password", "token":
		return true
	}
	return strings.HasPrefix(k, "header.") || strings.HasSuffix(k, "_secret") ||
		strings.HasSuffix(k, "_password") || strings.HasSuffix(k, "_token")
}

// secretParam reports whether URL query parameter k holds a secret.
func secretParam(k string) bool {
	switch strings.ToLower(k) {
	case "password", "sslpassword", "token", "secret", "auth_token":
		return true
	}
	return false
}

// redactURL hides the password and secret query parameters of raw.
func redactURL(raw string) string {
	if raw == "" {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil {
		return redacted
	}
	if u.RawQuery != "" {
		q := u.Query()
		changed := false
		for k := range q {
			if secretParam(k) {
				q[k] = []string{redacted}
				changed = true
			}
		}
		if changed {
			u.RawQuery = q.Encode()
		}
	}
	return u.Redacted()
}

// validName reports whether name matches ^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$.
func validName(name string) bool {
	if len(name) == 0 || len(name) > 64 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case i > 0 && (c == '.' || c == '_' || c == '-'):
		default:
			return false
		}
	}
	return true
}
