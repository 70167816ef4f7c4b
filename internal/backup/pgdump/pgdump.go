// Package pgdump streams the dump of a PostgreSQL database: it runs
// pg_dump and hands its standard output to the backup as a reader, so
// the dump is chunked and stored as it is written, with no temporary
// file.
//
// The password of the database URL never reaches pg_dump's command line
// (where ps would show it) nor an error message: it is taken out of the
// URL and passed in PGPASSWORD. pg_dump runs with --no-password, so it
// fails rather than prompts when the server wants a password it was not
// given.
//
// A dump that fails (pg_dump exits non-zero) makes the final Read return
// an error instead of io.EOF, which fails the backup run before it saves
// a snapshot.
package pgdump

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// ErrNotFound is returned by Find when no pg_dump is installed.
var ErrNotFound = errors.New("pg_dump not found in PATH or /usr/lib/postgresql/*/bin (install the PostgreSQL client)")

// libDirs is where Find looks after PATH (a glob); a variable for tests.
var libDirs = "/usr/lib/postgresql/*/bin"

// Find returns the path of pg_dump: the one in PATH, else the newest
// version's under /usr/lib/postgresql/*/bin.
func Find() (string, error) {
	if p, err := exec.LookPath("pg_dump"); err == nil {
		return p, nil
	}
	dirs, _ := filepath.Glob(libDirs)
	version := func(dir string) float64 {
		v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(dir)), 64)
		return v
	}
	sort.SliceStable(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		p := filepath.Join(d, "pg_dump")
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", ErrNotFound
}

// Options tune Start.
type Options struct {
	// Path is the pg_dump to run; "" finds one (Find).
	Path string
	// Args are more pg_dump arguments, e.g. --format=custom or
	// --exclude-table=...; they go before --dbname.
	Args []string
}

// Dump is a running pg_dump; read its output until io.EOF, then Close.
type Dump struct {
	cmd    *exec.Cmd
	out    io.ReadCloser
	stderr *tail
	safe   string // the URL without its password
	secret string // the password, scrubbed from messages

	err    error // the final error of Read, once pg_dump has ended
	waited bool
}

// SafeURL returns raw without its password (in the user info or a
// password query parameter), for messages. A string that is not a
// postgres URL is replaced whole.
func SafeURL(raw string) string {
	u, _, err := split(raw)
	if err != nil {
		return "(invalid postgres URL)"
	}
	return u.String()
}

// split parses a postgres URL and returns it without the password, and
// the password.
func split(raw string) (*url.URL, string, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.Opaque != "" {
		return nil, "", errors.New("want postgres://[USER[:PASSWORD]@]HOST[:PORT]/DATABASE[?PARAMS]")
	}
	var pw string
	if u.User != nil {
		if p, ok := u.User.Password(); ok {
			pw = p
			u.User = url.User(u.User.Username())
		}
	}
	if u.RawQuery != "" {
		q := u.Query()
		if p := q.Get("password"); p != "" {
			pw = p
		}
		if q.Has("password") {
			q.Del("password")
			u.RawQuery = q.Encode()
		}
	}
	return u, pw, nil
}

// Start runs pg_dump --no-password --dbname=URL (URL without its
// password, which goes in PGPASSWORD) and returns its output. The
// process ends with ctx.
func Start(ctx context.Context, dbURL string, o Options) (*Dump, error) {
	u, pw, err := split(dbURL)
	if err != nil {
		return nil, fmt.Errorf("postgres source: %w", err)
	}
	path := o.Path
	if path == "" {
		if path, err = Find(); err != nil {
			return nil, err
		}
	}
	args := append([]string{"--no-password"}, o.Args...)
	args = append(args, "--dbname="+u.String())
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Env = os.Environ()
	if pw != "" {
		cmd.Env = append(cmd.Env, "PGPASSWORD="+pw)
	}
	d := &Dump{cmd: cmd, stderr: &tail{max: 8 << 10}, safe: u.Redacted(), secret: pw}
	cmd.Stderr = d.stderr
	if d.out, err = cmd.StdoutPipe(); err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("pg_dump: %w", err)
	}
	return d, nil
}

// Read reads the dump. At its end it waits for pg_dump and returns
// io.EOF when it succeeded, else an error with its exit status and the
// end of its standard error.
func (d *Dump) Read(p []byte) (int, error) {
	if d.waited {
		return 0, d.err
	}
	n, err := d.out.Read(p)
	if errors.Is(err, io.EOF) {
		d.wait()
		return n, d.err
	}
	return n, err
}

// wait waits for pg_dump and sets d.err.
func (d *Dump) wait() {
	if d.waited {
		return
	}
	d.waited = true
	if err := d.cmd.Wait(); err != nil {
		msg := strings.TrimSpace(d.stderr.String())
		if d.secret != "" {
			msg = strings.ReplaceAll(msg, d.secret, "xxxxx")
		}
		if msg != "" {
			msg = ": " + msg
		}
		d.err = fmt.Errorf("pg_dump of %s failed (%v)%s", d.safe, err, msg)
		return
	}
	d.err = io.EOF
}

// Close ends pg_dump if it still runs and waits for it. It returns the
// dump's error, nil when it succeeded.
func (d *Dump) Close() error {
	if !d.waited {
		_ = d.cmd.Process.Kill()
		d.out.Close()
		d.wait()
	}
	if errors.Is(d.err, io.EOF) {
		return nil
	}
	return d.err
}

// tail keeps the last max bytes written to it.
type tail struct {
	mu  sync.Mutex // guards buf
	buf []byte
	max int
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = bytes.Clone(t.buf[over:])
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}
