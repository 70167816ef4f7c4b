package pgdump

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakePgDump writes a pg_dump stand-in that prints its arguments and
// PGPASSWORD, and fails (on stderr) when its arguments mention "fail".
func fakePgDump(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "pg_dump")
	script := `#!/bin/sh
echo "args: $*"
echo "pw: $PGPASSWORD"
case "$*" in *fail*) echo "boom for $PGPASSWORD at $*" >&2; exit 3;; esac
`
	if err := os.WriteFile(p, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestStartPasswordStaysOutOfArgs(t *testing.T) {
	bin := fakePgDump(t)
	d, err := Start(context.Background(), "postgres://app:s3cret@db.example:5432/shop?sslmode=disable", Options{Path: bin, Args: []string{"--schema=public"}})
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(d)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if err := d.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
	want := "args: --no-password --schema=public --dbname=postgres://app@db.example:5432/shop?sslmode=disable\npw: s3cret\n"
	if string(out) != want {
		t.Errorf("pg_dump saw\n%s\nwant\n%s", out, want)
	}
	// A password given as a query parameter moves to PGPASSWORD too.
	d, err = Start(context.Background(), "postgresql://app@db.example/shop?password=qs3cret&sslmode=require", Options{Path: bin})
	if err != nil {
		t.Fatal(err)
	}
	out, _ = io.ReadAll(d)
	d.Close()
	if !strings.Contains(string(out), "--dbname=postgresql://app@db.example/shop?sslmode=require\n") || !strings.Contains(string(out), "pw: qs3cret") {
		t.Errorf("pg_dump saw %s", out)
	}
}

func TestFailureRedacted(t *testing.T) {
	bin := fakePgDump(t)
	d, err := Start(context.Background(), "postgres://app:s3cret@db.example/fail", Options{Path: bin})
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.ReadAll(d)
	if err == nil {
		t.Fatal("a failing pg_dump read to the end without error")
	}
	msg := err.Error()
	if strings.Contains(msg, "s3cret") || !strings.Contains(msg, "exit status 3") || !strings.Contains(msg, "boom for xxxxx") ||
		!strings.Contains(msg, "postgres://app@db.example/fail") {
		t.Errorf("error %q: want the exit status and stderr, without the password", msg)
	}
	if cerr := d.Close(); cerr == nil || cerr.Error() != msg {
		t.Errorf("Close: %v, want the same error", cerr)
	}
	// Reading again gives the same error.
	if _, err2 := d.Read(make([]byte, 10)); err2 == nil || err2.Error() != msg {
		t.Errorf("second read: %v", err2)
	}
}

func TestCloseKills(t *testing.T) {
	p := filepath.Join(t.TempDir(), "pg_dump")
	os.WriteFile(p, []byte("#!/bin/sh\nexec sleep 600\n"), 0o755)
	d, err := Start(context.Background(), "postgres://localhost/db", Options{Path: p})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err == nil || !strings.Contains(err.Error(), "killed") {
		t.Errorf("Close of a running dump: %v, want it killed", err)
	}
}

func TestBadURL(t *testing.T) {
	for _, u := range []string{"mysql://x/y", "host=localhost dbname=x password=p", "postgres:opaque", ":"} {
		if _, err := Start(context.Background(), u, Options{Path: "/bin/true"}); err == nil || strings.Contains(err.Error(), "password=p") {
			t.Errorf("Start(%q): %v, want an error without the URL", u, err)
		}
	}
	if got := SafeURL("postgres://u:pw@h/db?password=x&a=b"); got != "postgres://u@h/db?a=b" {
		t.Errorf("SafeURL: %q", got)
	}
}

func TestFind(t *testing.T) {
	empty := t.TempDir()
	t.Setenv("PATH", empty)
	lib := t.TempDir()
	old := libDirs
	libDirs = filepath.Join(lib, "*", "bin")
	t.Cleanup(func() { libDirs = old })
	if _, err := Find(); err != ErrNotFound {
		t.Errorf("Find with nothing installed: %v", err)
	}
	for _, v := range []string{"9.6", "16", "15"} {
		os.MkdirAll(filepath.Join(lib, v, "bin"), 0o755)
		os.WriteFile(filepath.Join(lib, v, "bin", "pg_dump"), []byte("#!/bin/sh\n"), 0o755)
	}
	if got, err := Find(); err != nil || got != filepath.Join(lib, "16", "bin", "pg_dump") {
		t.Errorf("Find: %q, %v; want version 16's", got, err)
	}
	os.WriteFile(filepath.Join(empty, "pg_dump"), []byte("#!/bin/sh\n"), 0o755)
	if got, err := Find(); err != nil || got != filepath.Join(empty, "pg_dump") {
		t.Errorf("Find with pg_dump in PATH: %q, %v", got, err)
	}
}
