package target

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestValidate(t *testing.T) {
	ok := map[string]Spec{
		"webhook":  {Name: "hook", Kind: KindWebhook, URL: "https://u:p@example.com/h", Options: map[string]string{"secret": "s", "header.Authorization": "Bearer x"}},
		"nats":     {Name: "n.1", Kind: KindNATS, URL: "nats://127.0.0.1:4222", Options: map[string]string{"subject": "firn.events", "stream": "FIRN"}},
		"amqp":     {Name: "a_1", Kind: KindAMQP, URL: "amqps://guest:guest@h/vh", Options: map[string]string{"exchange": "ex", "exchange_type": "fanout", "declare_queue": "q", "mandatory": "false"}},
		"redis":    {Name: "r-1", Kind: KindRedis, URL: "redis://:pw@h:6379/0", Options: map[string]string{"stream": "s", "maxlen": "1000"}},
		"postgres": {Name: "pg", Kind: KindPostgres, URL: "postgres:///test?host=/tmp", Options: map[string]string{"table": "events.s3_events", "notify": "firn_events"}},
		"mqtt":     {Name: "m", Kind: KindMQTT, URL: "tcp://h:1883", Options: map[string]string{"topic": "firn/events", "qos": "2", "retain": "true", "client_id": "c"}},
		"smtp":     {Name: "mail", Kind: KindSMTP, URL: "smtps://u:p@mail.example.com", Options: map[string]string{"from": "Firn <firn@example.com>", "to": "a@example.com, B <b@example.com>", "starttls": "never", "insecure_skip_verify": "1"}, Timeout: time.Second},
	}
	for name, s := range ok {
		if err := s.Validate(); err != nil {
			t.Errorf("%s: Validate: %v", name, err)
		}
	}

	hook := func(f func(*Spec)) Spec {
		s := Spec{Name: "hook", Kind: KindWebhook, URL: "http://u:hunter2pw@example.com/h", Options: map[string]string{}}
		f(&s)
		return s
	}
	bad := []struct {
		name string
		spec Spec
		want []string // substrings of the error
	}{
		{"empty name", hook(func(s *Spec) { s.Name = "" }), []string{"name"}},
		{"name starts with dot", hook(func(s *Spec) { s.Name = ".x" }), []string{"name"}},
		{"name with space", hook(func(s *Spec) { s.Name = "a b" }), []string{"name"}},
		{"name too long", hook(func(s *Spec) { s.Name = strings.Repeat("a", 65) }), []string{"name"}},
		{"unknown kind", hook(func(s *Spec) { s.Kind = "kafka" }), []string{`unknown kind "kafka"`, "webhook", "not supported"}},
		{"scheme", hook(func(s *Spec) { s.URL = "nats://example.com" }), []string{`scheme "nats"`, "http, https"}},
		{"no host", hook(func(s *Spec) { s.URL = "http:///x" }), []string{"no host"}},
		{"no URL", hook(func(s *Spec) { s.URL = "" }), []string{"missing URL"}},
		{"bad URL", hook(func(s *Spec) { s.URL = "http://u:hunter2pw@exa mple.com/" }), []string{"invalid URL"}},
		{"negative timeout", hook(func(s *Spec) { s.Timeout = -time.Second }), []string{"negative timeout"}},
		{"unknown option", hook(func(s *Spec) { s.Options["secrett"] = "x" }), []string{`unknown option "secrett"`, "known for webhook: secret, header.<Name>"}},
		{"reserved header", hook(func(s *Spec) { s.Options["header.content-type"] = "text/plain" }), []string{"Content-Type is set by firn"}},
		{"bad header name", hook(func(s *Spec) { s.Options["header.a b"] = "value-1" }), []string{"not an HTTP token"}},
		{"nats no subject", Spec{Name: "n", Kind: KindNATS, URL: "nats://h"}, []string{"missing required option subject"}},
		{"nats wildcard", Spec{Name: "n", Kind: KindNATS, URL: "nats://h", Options: map[string]string{"subject": "a.*"}}, []string{"wildcard"}},
		{"nats stream name", Spec{Name: "n", Kind: KindNATS, URL: "nats://h", Options: map[string]string{"subject": "a", "stream": "a.b"}}, []string{"option stream"}},
		{"amqp exchange type", Spec{Name: "a", Kind: KindAMQP, URL: "amqp://h", Options: map[string]string{"exchange_type": "headers"}}, []string{"direct, fanout, topic"}},
		{"amqp scheme", Spec{Name: "a", Kind: KindAMQP, URL: "http://h"}, []string{"amqp, amqps"}},
		{"amqp queue name", Spec{Name: "a", Kind: KindAMQP, URL: "amqp://h", Options: map[string]string{"declare_queue": "a b"}}, []string{"option declare_queue"}},
		{"redis no stream", Spec{Name: "r", Kind: KindRedis, URL: "redis://h"}, []string{"missing required option stream"}},
		{"redis maxlen", Spec{Name: "r", Kind: KindRedis, URL: "redis://h", Options: map[string]string{"stream": "s", "maxlen": "-3"}}, []string{"positive integer"}},
		{"postgres table", Spec{Name: "p", Kind: KindPostgres, URL: "postgres://h/db", Options: map[string]string{"table": "x; drop table y"}}, []string{"option table"}},
		{"postgres three parts", Spec{Name: "p", Kind: KindPostgres, URL: "postgres://h/db", Options: map[string]string{"table": "a.b.c"}}, []string{"schema.name"}},
		{"postgres no table", Spec{Name: "p", Kind: KindPostgres, URL: "postgresql://h/db"}, []string{"missing required option table"}},
		{"mqtt qos", Spec{Name: "m", Kind: KindMQTT, URL: "mqtt://h", Options: map[string]string{"topic": "t", "qos": "3"}}, []string{"option qos", "0, 1, 2"}},
		{"mqtt wildcard", Spec{Name: "m", Kind: KindMQTT, URL: "mqtt://h", Options: map[string]string{"topic": "a/#"}}, []string{"wildcard"}},
		{"mqtt retain", Spec{Name: "m", Kind: KindMQTT, URL: "ws://h", Options: map[string]string{"topic": "a", "retain": "maybe"}}, []string{"true or false"}},
		{"smtp from", Spec{Name: "s", Kind: KindSMTP, URL: "smtp://h", Options: map[string]string{"from": "nope", "to": "a@b"}}, []string{"option from"}},
		{"smtp no to", Spec{Name: "s", Kind: KindSMTP, URL: "smtp://h", Options: map[string]string{"from": "a@b"}}, []string{"missing required option to"}},
		{"smtp starttls", Spec{Name: "s", Kind: KindSMTP, URL: "smtp://h", Options: map[string]string{"from": "a@b", "to": "c@d", "starttls": "yes"}}, []string{"auto, always, never"}},
		{"smtp prefix newline", Spec{Name: "s", Kind: KindSMTP, URL: "smtp://h", Options: map[string]string{"from": "a@b", "to": "c@d", "subject_prefix": "a\r\nBcc: x@y"}}, []string{"line break"}},
		{"several problems", Spec{Name: "-", Kind: KindRedis, URL: "http://h", Options: map[string]string{"x": "1"}}, []string{"name", "scheme", `unknown option "x"`, "missing required option stream"}},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			err := c.spec.Validate()
			if err == nil {
				t.Fatal("Validate = nil, want an error")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "hunter2pw") {
				t.Errorf("error holds the password: %v", err)
			}
			if _, oerr := Open(context.Background(), c.spec); oerr == nil {
				t.Error("Open accepted an invalid spec")
			}
		})
	}
}

func TestRedacted(t *testing.T) {
	s := Spec{
		Name: "x", Kind: KindWebhook,
		URL: "https://alice:s3cr%21t@example.com/hook?token=tok123&a=b",
		Options: map[string]string{
			"secret":               "hmac-key",
			"header.Authorization": "Bearer abc",
			"password":             "pw",
			"token":                "t",
			"subject":              "keep",
		},
	}
	r := s.Redacted()
	if strings.Contains(r.URL, "s3cr") || strings.Contains(r.URL, "tok123") {
		t.Errorf("URL not redacted: %s", r.URL)
	}
	if !strings.Contains(r.URL, "alice:xxxxx@example.com") || !strings.Contains(r.URL, "a=b") {
		t.Errorf("URL redacted too much: %s", r.URL)
	}
	for _, k := range []string{"secret", "header.Authorization", "password", "token"} {
		if r.Options[k] != "REDACTED" {
			t.Errorf("option %s = %q, want REDACTED", k, r.Options[k])
		}
	}
	if r.Options["subject"] != "keep" {
		t.Errorf("option subject = %q", r.Options["subject"])
	}
	if s.Options["secret"] != "hmac-key" || !strings.Contains(s.URL, "s3cr") {
		t.Error("Redacted changed the original")
	}
	if got := (Spec{URL: "http://a b:c@d"}).Redacted().URL; got != "REDACTED" {
		t.Errorf("unparsable URL redacted to %q", got)
	}
}

func TestRedactorCleansErrors(t *testing.T) {
	s := Spec{Name: "x", Kind: KindAMQP, URL: "amqp://bob:p%40ss!word@h/", Options: map[string]string{"secret": "topsecret"}}
	red := newRedactor(s)
	for _, e := range []error{
		errors.New("dial amqp://bob:p%40ss!word@h/: refused"),
		fmt.Errorf("auth with p@ss!word failed: %w", context.DeadlineExceeded),
		errors.New("server said topsecret"),
		errors.New("raw p%40ss!word"),
	} {
		got := red.clean(e)
		for _, secret := range []string{"p@ss!word", "p%40ss!word", "topsecret"} {
			if strings.Contains(got.Error(), secret) {
				t.Errorf("clean(%q) = %q holds %q", e, got, secret)
			}
		}
		if errors.Is(e, context.DeadlineExceeded) && !errors.Is(got, context.DeadlineExceeded) {
			t.Errorf("clean(%q) lost the deadline", e)
		}
	}
	plain := errors.New("nothing secret")
	if red.clean(plain) != plain {
		t.Error("clean replaced an error without secrets")
	}
}

func TestSendAfterClose(t *testing.T) {
	s := Spec{Name: "c", Kind: KindRedis, URL: "redis://127.0.0.1:1", Options: map[string]string{"stream": "s"}}
	tg := openTarget(t, s)
	if err := tg.Close(); err != nil {
		t.Fatal(err)
	}
	n, err := tg.Send(context.Background(), testMsgs("x", 1))
	if n != 0 || !errors.Is(err, ErrClosed) {
		t.Fatalf("Send after Close = %d, %v", n, err)
	}
	if !strings.Contains(err.Error(), "target c (redis)") {
		t.Errorf("error does not name the target: %v", err)
	}
}

func TestSubjectMatches(t *testing.T) {
	for _, c := range []struct {
		p, s string
		want bool
	}{
		{"a.b", "a.b", true}, {"a.*", "a.b", true}, {"a.>", "a.b.c", true}, {">", "a", true},
		{"a.>", "a", false}, {"a.*", "a.b.c", false}, {"a.b", "a.c", false}, {"a.b.c", "a.b", false},
	} {
		if got := subjectMatches(c.p, c.s); got != c.want {
			t.Errorf("subjectMatches(%q, %q) = %v", c.p, c.s, got)
		}
	}
}
