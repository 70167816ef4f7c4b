package daemon_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/firnhq/firn/internal/backup"
	"github.com/firnhq/firn/internal/backup/daemon"
	"github.com/firnhq/firn/internal/backup/pgdump"
	"github.com/firnhq/firn/internal/testenv"
)

// testDatabase creates a database with a table of three rows on the
// PostgreSQL at 127.0.0.1:5432 (user postgres, trust authentication)
// and returns its name; it skips t when PostgreSQL or pg_dump is
// missing (fails with FIRN_REQUIRE_SERVICES=1).
func testDatabase(t *testing.T) string {
	t.Helper()
	addr := testenv.Service(t, "PostgreSQL", "127.0.0.1:5432")
	if _, err := pgdump.Find(); err != nil {
		if os.Getenv("FIRN_REQUIRE_SERVICES") == "1" {
			t.Fatalf("%v (FIRN_REQUIRE_SERVICES=1)", err)
		}
		t.Skip(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, "postgres://postgres@"+addr+"/test")
	if err != nil {
		t.Fatalf("connect to PostgreSQL: %v", err)
	}
	defer admin.Close(ctx)
	b := make([]byte, 6)
	rand.Read(b)
	name := "firn_backup_daemon_" + hex.EncodeToString(b)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if c, err := pgx.Connect(ctx, "postgres://postgres@"+addr+"/test"); err == nil {
			c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
			c.Close(ctx)
		}
	})
	db, err := pgx.Connect(ctx, "postgres://postgres@"+addr+"/"+name)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(ctx)
	for _, q := range []string{
		"CREATE TABLE inventory (id int PRIMARY KEY, item text NOT NULL)",
		"INSERT INTO inventory VALUES (1, 'glacier-ice'), (2, 'deep-archive-tape'), (3, 'restored-snowflake')",
	} {
		if _, err := db.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	return name
}

// TestPostgresJob backs up a real database through pg_dump, restores the
// snapshot's file and finds the rows; a failing pg_dump fails the run
// without saving a snapshot or showing the URL's password.
func TestPostgresJob(t *testing.T) {
	name := testDatabase(t)
	ep := startFirn(t)
	repoURL := ep.initRepo(t, "host1", "")
	dir := t.TempDir()
	cfg := loadConfig(t, ep, dir, `
repo: `+repoURL+`
endpoint-url: {{endpoint}}
state-file: state.json
jobs:
  - name: db
    schedule: "0 3 * * *"
    postgres: postgres://postgres:s3cret-pw@127.0.0.1:5432/`+name+`
  - name: db-missing
    schedule: "0 3 * * *"
    postgres: postgres://postgres:s3cret-pw@127.0.0.1:5432/firn_no_such_database
    stdin-name: missing.sql
`)
	d, _ := newDaemon(t, cfg, newFakeClock(t0))
	rec, err := d.RunJob(t.Context(), "db", nil)
	if err != nil || rec.Result != daemon.ResultSuccess || rec.Files != 1 || rec.BytesRead == 0 {
		t.Fatalf("postgres job: %+v, %v", rec, err)
	}
	r := ep.openRepo(t, repoURL)
	sns, err := r.Snapshots(t.Context())
	if err != nil || len(sns) != 1 || sns[0].StdinName != "db.sql" {
		t.Fatalf("snapshots: %v, %v", sns, err)
	}
	target := t.TempDir()
	if _, err := backup.Restore(t.Context(), r, sns[0], backup.RestoreOptions{Target: target}); err != nil {
		t.Fatal(err)
	}
	dump, err := os.ReadFile(filepath.Join(target, "db.sql"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"CREATE TABLE public.inventory", "1\tglacier-ice", "2\tdeep-archive-tape", "3\trestored-snowflake"} {
		if !strings.Contains(string(dump), want) {
			t.Errorf("restored dump (%d bytes) lacks %q", len(dump), want)
		}
	}

	rec, err = d.RunJob(t.Context(), "db-missing", nil)
	if err != nil || rec.Result != daemon.ResultFailure || !strings.Contains(rec.Error, "pg_dump") ||
		!strings.Contains(rec.Error, "does not exist") || strings.Contains(rec.Error, "s3cret-pw") {
		t.Errorf("job of a missing database: %+v, %v; want a pg_dump failure without the password", rec, err)
	}
	if sns, _ := r.Snapshots(t.Context()); len(sns) != 1 {
		t.Errorf("a failed dump saved a snapshot: %d snapshots", len(sns))
	}
}
