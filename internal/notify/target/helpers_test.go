package target

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/firnhq/firn/internal/testenv"
)

// Addresses of the services the tests use; FIRN_TEST_<NAME>_ADDR
// overrides each.
func serviceAddr(name, def string) string {
	if v := os.Getenv("FIRN_TEST_" + name + "_ADDR"); v != "" {
		return v
	}
	return def
}

// needService skips t unless addr accepts TCP connections (fails it
// instead when FIRN_REQUIRE_SERVICES=1, as in CI).
func needService(t *testing.T, name, addr string) {
	t.Helper()
	testenv.Service(t, name, addr)
}

// suffix returns a random suffix for names the test creates.
func suffix(t *testing.T) string {
	t.Helper()
	var b [5]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b[:])
}

// testMsgs returns n messages with IDs prefix-0..prefix-(n-1).
func testMsgs(prefix string, n int) []Message {
	msgs := make([]Message, n)
	for i := range msgs {
		key := fmt.Sprintf("dir/obj-%d é", i)
		body, _ := json.Marshal(map[string]any{
			"Records": []any{map[string]any{
				"eventName": "ObjectCreated:Put",
				"s3":        map[string]any{"bucket": map[string]any{"name": "bkt"}, "object": map[string]any{"key": key}},
			}},
			"n": i,
		})
		msgs[i] = Message{
			ID:     fmt.Sprintf("%s-%d", prefix, i),
			Event:  "ObjectCreated:Put",
			Bucket: "bkt",
			Key:    key,
			Body:   body,
		}
	}
	return msgs
}

// sameJSON reports whether a and b hold equal JSON values.
func sameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	var va, vb any
	if err := json.Unmarshal(a, &va); err != nil {
		t.Fatalf("not JSON: %q: %v", a, err)
	}
	if err := json.Unmarshal(b, &vb); err != nil {
		t.Fatalf("not JSON: %q: %v", b, err)
	}
	return reflect.DeepEqual(va, vb)
}

// openTarget opens s and closes it when t ends.
func openTarget(t *testing.T, s Spec) Target {
	t.Helper()
	tg, err := Open(context.Background(), s)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { tg.Close() })
	return tg
}

// mustSend sends msgs and fails t unless all are delivered.
func mustSend(t *testing.T, tg Target, msgs []Message) {
	t.Helper()
	n, err := tg.Send(context.Background(), msgs)
	if err != nil || n != len(msgs) {
		t.Fatalf("Send = %d, %v; want %d, nil", n, err, len(msgs))
	}
}

// checkReconnect sends through tg, stops p and expects a failed Send
// (n == 0) whose error holds none of secrets, starts p again and expects
// the next Send to work.
func checkReconnect(t *testing.T, tg Target, p *tcpProxy, secrets ...string) {
	t.Helper()
	ctx := context.Background()
	mustSend(t, tg, testMsgs("before-"+suffix(t), 2))
	p.Stop()
	n, err := tg.Send(ctx, testMsgs("during-"+suffix(t), 2))
	if err == nil || n != 0 {
		t.Fatalf("Send with the broker unreachable = %d, %v; want 0 and an error", n, err)
	}
	t.Logf("unreachable: %v", err)
	for _, s := range secrets {
		if strings.Contains(err.Error(), s) {
			t.Fatalf("error holds secret %q: %v", s, err)
		}
	}
	p.Start()
	mustSend(t, tg, testMsgs("after-"+suffix(t), 2))
}

// tcpProxy forwards connections from a local address to a target; it
// can be stopped (listener and connections closed) and started again on
// the same address.
type tcpProxy struct {
	t      *testing.T
	target string
	addr   string

	mu    sync.Mutex
	ln    net.Listener
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

func newProxy(t *testing.T, target string) *tcpProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &tcpProxy{t: t, target: target, addr: ln.Addr().String(), conns: map[net.Conn]struct{}{}}
	p.serve(ln)
	t.Cleanup(p.Stop)
	return p
}

// Addr is the proxy's listening address.
func (p *tcpProxy) Addr() string { return p.addr }

func (p *tcpProxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.wg.Add(1)
			go func() {
				defer p.wg.Done()
				p.pipe(c)
			}()
		}
	}()
}

func (p *tcpProxy) track(cs ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln == nil {
		return false
	}
	for _, c := range cs {
		p.conns[c] = struct{}{}
	}
	return true
}

func (p *tcpProxy) untrack(cs ...net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range cs {
		delete(p.conns, c)
		c.Close()
	}
}

func (p *tcpProxy) pipe(c net.Conn) {
	u, err := net.DialTimeout("tcp", p.target, 2*time.Second)
	if err != nil {
		c.Close()
		return
	}
	if !p.track(c, u) {
		c.Close()
		u.Close()
		return
	}
	defer p.untrack(c, u)
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(u, c); done <- struct{}{} }()
	go func() { _, _ = io.Copy(c, u); done <- struct{}{} }()
	<-done
}

// Stop closes the listener and every forwarded connection.
func (p *tcpProxy) Stop() {
	p.mu.Lock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
		delete(p.conns, c)
	}
	p.mu.Unlock()
	p.wg.Wait()
}

// Start listens again on the same address.
func (p *tcpProxy) Start() {
	p.t.Helper()
	var err error
	for range 50 {
		var ln net.Listener
		if ln, err = net.Listen("tcp", p.addr); err == nil {
			p.serve(ln)
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	p.t.Fatalf("proxy restart on %s: %v", p.addr, err)
}
