package target

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// Webhook headers.
const (
	HeaderEventID   = "X-Firn-Event-Id"
	HeaderEvent     = "X-Firn-Event"
	HeaderSignature = "X-Firn-Signature"
)

// Signature returns the X-Firn-Signature value of body under secret:
// "sha256=" and the hex HMAC-SHA256 of body keyed by secret.
func Signature(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// webhook POSTs each message to a URL.
type webhook struct {
	base
	url     string
	secret  []byte
	headers http.Header
	client  *http.Client

	guard
}

func openWebhook(b base) (Target, error) {
	w := &webhook{base: b, url: b.spec.URL, headers: http.Header{}}
	if s := b.spec.Options["secret"]; s != "" {
		w.secret = []byte(s)
	}
	for k, v := range b.spec.Options {
		if name, ok := strings.CutPrefix(k, "header."); ok {
			w.headers.Set(name, v)
		}
	}
	dialer := &net.Dialer{Timeout: b.timeout, KeepAlive: 30 * time.Second}
	w.client = &http.Client{
		Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           dialer.DialContext,
			ForceAttemptHTTP2:     true,
			MaxIdleConnsPerHost:   4,
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   b.timeout,
			ExpectContinueTimeout: time.Second,
		},
		// A redirect would turn the POST into a GET: answer it as is.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return w, nil
}

// Send POSTs msgs one after the other, stopping at the first failure.
func (w *webhook) Send(ctx context.Context, msgs []Message) (int, error) {
	return w.send(ctx, &w.guard, msgs, func(ctx context.Context, msgs []Message) (int, error) {
		for i, m := range msgs {
			if err := w.post(ctx, m); err != nil {
				return i, w.failMsg(msgs, i, err)
			}
		}
		return len(msgs), nil
	})
}

func (w *webhook) post(ctx context.Context, m Message) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(m.Body))
	if err != nil {
		return err
	}
	req.Header = w.headers.Clone()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(HeaderEventID, m.ID)
	req.Header.Set(HeaderEvent, m.Event)
	if w.secret != nil {
		req.Header.Set(HeaderSignature, Signature(w.secret, m.Body))
	}
	resp, err := w.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		// Drain a little so the connection can be reused.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return nil
	}
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
	if s := strings.TrimSpace(string(snippet)); s != "" {
		return fmt.Errorf("HTTP status %d: %q", resp.StatusCode, s)
	}
	return fmt.Errorf("HTTP status %d", resp.StatusCode)
}

// Close drops idle connections.
func (w *webhook) Close() error {
	return w.closeWith(func() error { w.client.CloseIdleConnections(); return nil })
}
