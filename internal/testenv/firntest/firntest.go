// Package firntest starts an in-process firn server for tests outside
// package app (whose own tests cannot import it: it imports app).
package firntest

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/firnhq/firn/internal/app"
	"github.com/firnhq/firn/internal/config"
)

// Start starts a firn server on the embedded defaults with a fresh data
// directory, a loopback port, root credentials ak and sk, restores polled
// every 20 ms and the audit log off, then tune's changes (if any). The
// server stops when t ends. It returns the endpoint, http://host:port.
func Start(t testing.TB, ak, sk string, tune func(*config.Server)) string {
	t.Helper()
	cfg := config.Defaults()
	cfg.Data, cfg.Address, cfg.AccessKey, cfg.SecretKey = t.TempDir(), "127.0.0.1:0", ak, sk
	cfg.RestoreEvery = 20 * time.Millisecond
	cfg.AuditLog = "off"
	if tune != nil {
		tune(&cfg)
	}
	srv, err := app.Start(context.Background(), cfg, slog.New(slog.DiscardHandler), io.Discard)
	if err != nil {
		t.Fatalf("app.Start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	return "http://" + srv.Addr()
}
