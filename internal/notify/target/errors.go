package target

import (
	"cmp"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
)

// base is what every kind holds: its spec, the Send bound and the
// redactor for its errors. (Its lock is in guard: base is copied.)
type base struct {
	spec    Spec
	timeout time.Duration
	red     redactor
}

func newBase(s Spec) base {
	t := s.Timeout
	if t <= 0 {
		t = DefaultTimeout
	}
	return base{spec: s, timeout: t, red: newRedactor(s)}
}

// fail wraps err with the target's name, kind and op, secrets removed.
func (b *base) fail(op string, err error) error {
	return &opError{name: b.spec.Name, kind: b.spec.Kind, op: op, err: b.red.clean(err)}
}

// failMsg wraps err about message i of msgs.
func (b *base) failMsg(msgs []Message, i int, err error) error {
	return b.fail(fmt.Sprintf("message %d of %d (id %s)", i+1, len(msgs), msgs[i].ID), err)
}

// ErrClosed is returned (wrapped) by Send after Close.
var ErrClosed = errors.New("target closed")

// opError is an error of one target.
type opError struct {
	name, kind, op string
	err            error
}

func (e *opError) Error() string {
	return fmt.Sprintf("target %s (%s): %s: %v", e.name, e.kind, e.op, e.err)
}

func (e *opError) Unwrap() error { return e.err }

// redactedError replaces an error whose text held a secret; it keeps
// only a context error as its cause.
type redactedError struct {
	msg   string
	cause error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.cause }

// redactor removes a spec's secrets from text.
type redactor struct {
	r *strings.Replacer
}

// newRedactor collects s's secrets: the URL (replaced by its redacted
// form), its password in raw and escaped forms, secret query parameters
// and secret options.
func newRedactor(s Spec) redactor {
	type pair struct{ old, new string }
	var pairs []pair
	add := func(old, new string) {
		if old != "" && old != new {
			pairs = append(pairs, pair{old, new})
		}
	}
	addSecret := func(v string) {
		add(v, redacted)
		add(url.PathEscape(v), redacted)
		add(url.QueryEscape(v), redacted)
	}
	add(s.URL, redactURL(s.URL))
	if u, err := url.Parse(s.URL); err == nil {
		if p, ok := u.User.Password(); ok {
			addSecret(p)
			// HTTP Basic credentials, as a server might echo them.
			add(base64.StdEncoding.EncodeToString([]byte(u.User.Username()+":"+p)), redacted)
		}
		for k, vs := range u.Query() {
			if secretParam(k) {
				for _, v := range vs {
					addSecret(v)
				}
			}
		}
	}
	addSecret(rawPassword(s.URL))
	for k, v := range s.Options {
		if secretOption(k) {
			addSecret(v)
		}
	}
	// Longer first, so a secret inside another is not half replaced.
	slices.SortFunc(pairs, func(a, b pair) int { return cmp.Compare(len(b.old), len(a.old)) })
	args := make([]string, 0, 2*len(pairs))
	for _, p := range pairs {
		args = append(args, p.old, p.new)
	}
	return redactor{r: strings.NewReplacer(args...)}
}

// rawPassword returns the password of raw's user info as written.
func rawPassword(raw string) string {
	i := strings.Index(raw, "://")
	if i < 0 {
		return ""
	}
	rest := raw[i+3:]
	if j := strings.IndexAny(rest, "/?#"); j >= 0 {
		rest = rest[:j]
	}
	at := strings.LastIndex(rest, "@")
	if at < 0 {
		return ""
	}
	_, pw, ok := strings.Cut(rest[:at], ":")
	if !ok {
		return ""
	}
	return pw
}

// String removes secrets from s.
func (r redactor) String(s string) string {
	if r.r == nil {
		return s
	}
	return r.r.Replace(s)
}

// clean returns err without secrets: err itself when its text holds
// none, otherwise an error with the cleaned text that unwraps only to a
// context error it wrapped.
func (r redactor) clean(err error) error {
	if err == nil {
		return nil
	}
	var ue *url.Error
	if errors.As(err, &ue) && error(ue) == err {
		err = &url.Error{Op: ue.Op, URL: redactURL(ue.URL), Err: ue.Err}
	}
	msg := err.Error()
	cleaned := r.String(msg)
	if cleaned == msg {
		return err
	}
	out := &redactedError{msg: cleaned}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		out.cause = context.DeadlineExceeded
	case errors.Is(err, context.Canceled):
		out.cause = context.Canceled
	}
	return out
}
