package target

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

type hookCall struct {
	id, event, sig, auth, ctype string
	user, pass                  string
	body                        []byte
}

// hookServer records calls; status decides the answer per call index.
func hookServer(t *testing.T, status func(i int) int) (*httptest.Server, func() []hookCall) {
	var mu sync.Mutex
	var calls []hookCall
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		user, pass, _ := r.BasicAuth()
		mu.Lock()
		i := len(calls)
		calls = append(calls, hookCall{
			id: r.Header.Get("X-Firn-Event-Id"), event: r.Header.Get("X-Firn-Event"),
			sig: r.Header.Get("X-Firn-Signature"), auth: r.Header.Get("X-Api-Key"),
			ctype: r.Header.Get("Content-Type"), user: user, pass: pass, body: body,
		})
		mu.Unlock()
		if r.Method != http.MethodPost {
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		}
		w.WriteHeader(status(i))
	}))
	t.Cleanup(srv.Close)
	return srv, func() []hookCall {
		mu.Lock()
		defer mu.Unlock()
		return append([]hookCall(nil), calls...)
	}
}

func TestWebhookSend(t *testing.T) {
	srv, calls := hookServer(t, func(int) int { return http.StatusNoContent })
	url := strings.Replace(srv.URL, "http://", "http://hookuser:hookpass@", 1) + "/hook"
	tg := openTarget(t, Spec{Name: "hook", Kind: KindWebhook, URL: url, Options: map[string]string{
		"secret": "hmac-secret", "header.X-Api-Key": "key-123",
	}})
	msgs := testMsgs("wh", 5)
	mustSend(t, tg, msgs)
	got := calls()
	if len(got) != len(msgs) {
		t.Fatalf("%d calls, want %d", len(got), len(msgs))
	}
	for i, c := range got {
		m := msgs[i]
		if c.id != m.ID || c.event != m.Event || !bytes.Equal(c.body, m.Body) {
			t.Errorf("call %d: id %q event %q body %q; want %q %q %q", i, c.id, c.event, c.body, m.ID, m.Event, m.Body)
		}
		if want := Signature([]byte("hmac-secret"), c.body); c.sig != want {
			t.Errorf("call %d: signature %q, want %q", i, c.sig, want)
		}
		if c.ctype != "application/json" || c.auth != "key-123" || c.user != "hookuser" || c.pass != "hookpass" {
			t.Errorf("call %d: content type %q, X-Api-Key %q, basic auth %q:%q", i, c.ctype, c.auth, c.user, c.pass)
		}
	}
}

func TestWebhookStatusError(t *testing.T) {
	srv, calls := hookServer(t, func(i int) int {
		if i == 2 {
			return http.StatusServiceUnavailable
		}
		return http.StatusOK
	})
	tg := openTarget(t, Spec{Name: "hook", Kind: KindWebhook, URL: srv.URL})
	n, err := tg.Send(context.Background(), testMsgs("st", 5))
	if n != 2 || err == nil || !strings.Contains(err.Error(), "503") {
		t.Fatalf("Send = %d, %v; want 2 and a 503 error", n, err)
	}
	if !strings.Contains(err.Error(), "target hook (webhook)") || !strings.Contains(err.Error(), "st-2") {
		t.Errorf("error lacks the target or message: %v", err)
	}
	if len(calls()) != 3 {
		t.Errorf("%d calls, want 3", len(calls()))
	}
	if got := calls()[0].sig; got != "" {
		t.Errorf("signature %q without a secret", got)
	}
}

func TestWebhookErrorsHideSecrets(t *testing.T) {
	// A server answering with the secrets it was sent.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, pass, _ := r.BasicAuth()
		w.WriteHeader(http.StatusForbidden)
		io.WriteString(w, "denied "+pass+" "+r.Header.Get("Authorization")+" "+r.URL.RawQuery)
	}))
	defer srv.Close()
	// A port nothing listens on.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()

	for _, base := range []string{srv.URL, "http://" + closed} {
		url := strings.Replace(base, "http://", "http://user:Pa55wordX@", 1) + "/h?token=Tok3nX"
		tg := openTarget(t, Spec{Name: "hook", Kind: KindWebhook, URL: url, Options: map[string]string{
			"secret": "S3cretX", "header.X-Token": "HdrTok3nX",
		}})
		n, err := tg.Send(context.Background(), testMsgs("sec", 1))
		if err == nil || n != 0 {
			t.Fatalf("Send = %d, %v; want an error", n, err)
		}
		t.Logf("error: %v", err)
		for _, s := range []string{"Pa55wordX", "Tok3nX", "S3cretX", "HdrTok3nX"} {
			if strings.Contains(err.Error(), s) {
				t.Errorf("error holds %q: %v", s, err)
			}
		}
	}
}

func TestWebhookTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	tg := openTarget(t, Spec{Name: "hook", Kind: KindWebhook, URL: srv.URL, Timeout: 200 * time.Millisecond})
	start := time.Now()
	n, err := tg.Send(context.Background(), testMsgs("slow", 2))
	if n != 0 || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Send = %d, %v; want 0 and a deadline error", n, err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Send took %v with a 200ms timeout", d)
	}
}
