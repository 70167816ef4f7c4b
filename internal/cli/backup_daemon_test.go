package cli

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/firnhq/firn/internal/backup/backuptest"
	"github.com/firnhq/firn/internal/backup/daemon"
	"github.com/firnhq/firn/internal/backup/pgdump"
	"github.com/firnhq/firn/internal/testenv"
)

// TestBackupDaemonOnce drives `firn backup daemon --once` against firn:
// exit 0 for a success, 1 for a failure, 2 for usage errors; the state
// file records the runs.
func TestBackupDaemonOnce(t *testing.T) {
	ep := startFirnForBackup(t)
	ep.setup(t, "backups")
	dir := t.TempDir()
	if code, _, errs := runCLI(t, "backup", "init", "s3://backups/h1", "--endpoint-url", ep.url, "--scrypt-n", "1024", "--quiet"); code != ExitOK {
		t.Fatalf("init: %s", errs)
	}
	src := filepath.Join(dir, "src")
	backuptest.MakeTree(t, src)
	jobs := filepath.Join(dir, "jobs.yaml")
	os.WriteFile(jobs, []byte(`
repo: s3://backups/h1
endpoint-url: `+ep.url+`
state-file: state.json
cache-dir: cache
jobs:
  - name: app
    schedule: cron(0 2 * * ? *)
    paths: [src]
    retention: {keep-last: 2}
  - name: broken
    schedule: cron(0 1 ? * SUN *)
    paths: [does-not-exist]
  - name: restore-test
    schedule: rate(7 days)
    restore-test: {job: app, sample: 3, poll: 20ms}
`), 0o600)
	d := func(want int, args ...string) (string, string) {
		t.Helper()
		code, out, errs := runCLI(t, append([]string{"backup", "daemon", "--config", jobs, "--quiet"}, args...)...)
		if code != want {
			t.Fatalf("daemon %v: exit %d, want %d\nstdout: %s\nstderr: %s", args, code, want, out, errs)
		}
		return out, errs
	}
	out, _ := d(ExitOK, "--once", "app")
	if !strings.Contains(out, "job app: success") || !strings.Contains(out, "7 files") {
		t.Errorf("--once app: %q", out)
	}
	out, _ = d(ExitOK, "--once", "app", "--json")
	var rec daemon.Record
	if err := json.Unmarshal([]byte(out), &rec); err != nil || rec.Result != "success" || rec.Type != "incremental" || rec.Snapshot == "" ||
		rec.Retention == nil || rec.Retention.Kept != 2 {
		t.Errorf("--once app --json: %v\n%s", err, out)
	}
	_, errs := d(ExitFailure, "--once", "broken")
	if !strings.Contains(errs, "does-not-exist") {
		t.Errorf("--once broken: stderr %q", errs)
	}
	out, _ = d(ExitOK, "--once", "restore-test")
	if !strings.Contains(out, "3 of 7 files restored and checked") {
		t.Errorf("--once restore-test: %q", out)
	}
	st, err := daemon.LoadState(filepath.Join(dir, "state.json"))
	if err != nil || len(st.Jobs["app"].History) != 2 || st.Jobs["broken"].Failures != 1 || !st.Jobs["broken"].Alarms[daemon.AlarmFailed] {
		t.Errorf("state file: %+v, %v", st, err)
	}

	_, errs = d(ExitUsage, "--once", "nope")
	if !strings.Contains(errs, `job "nope"`) {
		t.Errorf("--once nope: %q", errs)
	}
	if code, _, errs := runCLI(t, "backup", "daemon"); code != ExitUsage || !strings.Contains(errs, "--config") {
		t.Errorf("no --config: exit %d, %q", code, errs)
	}
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("repo: s3://b/p\njobs: [{name: x, schedule: 'cron(0 2 * * *)', paths: [/]}]\n"), 0o600)
	if code, _, errs := runCLI(t, "backup", "daemon", "--config", bad); code != ExitUsage || !strings.Contains(errs, "exactly six fields") {
		t.Errorf("bad schedule: exit %d, %q", code, errs)
	}
}

// TestBackupDaemonServes runs the daemon until its context ends (as
// SIGTERM does) and scrapes its metrics meanwhile.
func TestBackupDaemonServes(t *testing.T) {
	ep := startFirnForBackup(t)
	ep.setup(t, "backups")
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	jobs := filepath.Join(dir, "jobs.toml")
	os.WriteFile(jobs, []byte(`
repo = "s3://backups/h1"
endpoint-url = "`+ep.url+`"
state-file = "state.json"
metrics-address = "`+addr+`"
[[jobs]]
name = "app"
schedule = "cron(0 2 * * ? *)"
paths = ["/nonexistent"]
`), 0o600)
	ctx, cancel := context.WithCancel(context.Background())
	var code int
	var stderr syncBuffer
	var wg sync.WaitGroup
	wg.Go(func() { code = Run(ctx, []string{"backup", "daemon", "--config", jobs, "--json"}, io.Discard, &stderr) })
	var body []byte
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		resp, err := http.Get("http://" + addr + "/metrics")
		if err != nil {
			continue
		}
		body, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		break
	}
	cancel()
	wg.Wait()
	if code != ExitOK {
		t.Errorf("daemon: exit %d\n%s", code, stderr.String())
	}
	for _, want := range []string{`firn_backup_runs_total{job="app",result="success"} 0`, `firn_backup_alarm{alarm="failed",job="app"} 0`,
		"firn_backup_next_run_timestamp_seconds"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %s:\n%s", want, body)
		}
	}
	if !strings.Contains(stderr.String(), `"msg":"backup daemon started"`) {
		t.Errorf("log: %s", stderr.String())
	}
}

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer struct {
	mu sync.Mutex // guards b
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestBackupRunPostgres: `firn backup run --postgres URL` stores the dump
// as db.sql; restoring it gives the rows.
func TestBackupRunPostgres(t *testing.T) {
	addr := testenv.Service(t, "PostgreSQL", "127.0.0.1:5432")
	if _, err := pgdump.Find(); err != nil {
		if os.Getenv("FIRN_REQUIRE_SERVICES") == "1" {
			t.Fatalf("%v (FIRN_REQUIRE_SERVICES=1)", err)
		}
		t.Skip(err)
	}
	ctx := t.Context()
	b := make([]byte, 6)
	rand.Read(b)
	// A database of its own, so that other tests' tables do not matter.
	db := "firn_cli_backup_" + hex.EncodeToString(b)
	admin, err := pgx.Connect(ctx, "postgres://postgres@"+addr+"/test")
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(context.Background())
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+db); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Exec(context.Background(), "DROP DATABASE IF EXISTS "+db+" WITH (FORCE)") })
	conn, err := pgx.Connect(ctx, "postgres://postgres@"+addr+"/"+db)
	if err != nil {
		t.Fatal(err)
	}
	_, err = conn.Exec(ctx, "CREATE TABLE notes (id int, note text); INSERT INTO notes VALUES (1, 'kept in glacier')")
	conn.Close(ctx)
	if err != nil {
		t.Fatal(err)
	}

	ep := startFirnForBackup(t)
	ep.setup(t, "backups")
	common := []string{"--endpoint-url", ep.url, "--repo", "s3://backups/pg", "--no-cache", "--quiet"}
	bk := func(want int, args ...string) string {
		t.Helper()
		code, out, errs := runCLI(t, append(append([]string{"backup"}, args...), common...)...)
		if code != want {
			t.Fatalf("%v: exit %d, want %d\n%s%s", args, code, want, out, errs)
		}
		return out + errs
	}
	bk(ExitOK, "init", "--scrypt-n", "1024")
	bk(ExitUsage, "run", "--postgres", "postgres://postgres@"+addr+"/"+db, "--stdin-from-command", "true", "--stdin-name", "x")
	out := bk(ExitOK, "run", "--postgres", "postgres://postgres:pw@"+addr+"/"+db+"?connect_timeout=10", "--stdin-name", "test.sql")
	if !strings.Contains(out, "saved") {
		t.Errorf("run --postgres: %q", out)
	}
	target := t.TempDir()
	bk(ExitOK, "restore", "latest", "--target", target)
	dump, err := os.ReadFile(filepath.Join(target, "test.sql"))
	if err != nil || !strings.Contains(string(dump), "CREATE TABLE public.notes") || !strings.Contains(string(dump), "1\tkept in glacier") {
		t.Errorf("restored dump: %v\n%.2000s", err, dump)
	}
	out = bk(ExitFailure, "run", "--postgres", "postgres://postgres:pw-secret@"+addr+"/firn_no_such_db")
	if !strings.Contains(out, "does not exist") || strings.Contains(out, "pw-secret") {
		t.Errorf("run --postgres of a missing database: %q", out)
	}
}
