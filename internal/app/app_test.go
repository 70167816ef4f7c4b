package app

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/firnhq/firn/internal/config"
)

func TestGeneratedCredentialsPrintedOnce(t *testing.T) {
	cfg := config.Defaults()
	cfg.Data = t.TempDir()
	cfg.Address = "127.0.0.1:0"
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))

	var out1 bytes.Buffer
	s, err := Start(context.Background(), cfg, log, &out1)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out1.String(), "FIRN_SECRET_KEY=") {
		t.Fatalf("first start printed %q, want the generated credentials", out1.String())
	}
	b, err := os.ReadFile(filepath.Join(cfg.Data, credentialsFile))
	if err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(filepath.Join(cfg.Data, credentialsFile))
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("got credentials mode %v, want 0600", fi.Mode().Perm())
	}

	var out2 bytes.Buffer
	s, err = Start(context.Background(), cfg, log, &out2)
	if err != nil {
		t.Fatal(err)
	}
	s.Shutdown(context.Background())
	if out2.Len() != 0 {
		t.Errorf("second start printed %q, want nothing", out2.String())
	}
	// The secret never reaches the log.
	var c credentials
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(logs.String(), c.SecretKey) {
		t.Errorf("the secret key appears in the log")
	}
}

func TestConfiguredCredentialsAreNotStored(t *testing.T) {
	cfg := config.Defaults()
	cfg.Data = t.TempDir()
	cfg.Address = "127.0.0.1:0"
	cfg.AccessKey, cfg.SecretKey = "AK", "SK"
	var out bytes.Buffer
	s, err := Start(context.Background(), cfg, slog.New(slog.DiscardHandler), &out)
	if err != nil {
		t.Fatal(err)
	}
	s.Shutdown(context.Background())
	if out.Len() != 0 {
		t.Errorf("printed %q, want nothing", out.String())
	}
	if _, err := os.Stat(filepath.Join(cfg.Data, credentialsFile)); !os.IsNotExist(err) {
		t.Errorf("got credentials file (err %v), want none", err)
	}
}

func TestDataDirIsLocked(t *testing.T) {
	cfg := config.Defaults()
	cfg.Data = t.TempDir()
	cfg.Address = "127.0.0.1:0"
	cfg.AccessKey, cfg.SecretKey = "AK", "SK"
	s, err := Start(context.Background(), cfg, slog.New(slog.DiscardHandler), &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if s2, err := Start(context.Background(), cfg, slog.New(slog.DiscardHandler), &bytes.Buffer{}); err == nil {
		s2.Shutdown(context.Background())
		t.Fatal("a second server started on the same data directory")
	}
	s.Shutdown(context.Background())
	// Released on shutdown.
	s, err = Start(context.Background(), cfg, slog.New(slog.DiscardHandler), &bytes.Buffer{})
	if err != nil {
		t.Fatalf("restart after shutdown: %v", err)
	}
	s.Shutdown(context.Background())
}
