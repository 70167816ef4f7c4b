package fs

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/firnhq/firn/internal/blob"
	"github.com/firnhq/firn/internal/blob/blobtest"
)

func open(t *testing.T) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "blobs"))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

func TestConformance(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Store { return open(t) })
}

func commit(t *testing.T, s *Store, data []byte) string {
	t.Helper()
	w, err := s.Create(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(t.Context()); err != nil {
		t.Fatal(err)
	}
	return w.ID()
}

func tmpEntries(t *testing.T, s *Store) []string {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join(s.root, "tmp"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

// recorder is an io.ReaderFrom that records what it was given, as
// net/http's response writer (which hands *os.File and
// *io.LimitedReader-over-*os.File to sendfile) would see it.
type recorder struct {
	bytes.Buffer
	src io.Reader
}

func (r *recorder) ReadFrom(src io.Reader) (int64, error) {
	r.src = src
	return r.Buffer.ReadFrom(src)
}

// TestSendfileReaders: the reader of a blob or of a range is an *os.File
// or an io.LimitedReader over one, reachable by io.Copy, so that net/http
// can use sendfile.
func TestSendfileReaders(t *testing.T) {
	s := open(t)
	data := []byte("0123456789abcdefghij")
	id := commit(t, s, data)
	tests := []struct {
		name           string
		offset, length int64
		want           string
	}{
		{"whole blob", 0, -1, string(data)},
		{"from an offset", 5, -1, string(data[5:])},
		{"a range", 5, 10, string(data[5:15])},
		{"a range from the start", 0, 3, string(data[:3])},
	}
	for _, tc := range tests {
		r, err := s.Open(t.Context(), id, tc.offset, tc.length)
		if err != nil {
			t.Fatalf("%s: Open: %v", tc.name, err)
		}
		var rec recorder
		if _, err := io.Copy(&rec, r); err != nil {
			t.Errorf("%s: io.Copy: %v", tc.name, err)
		}
		r.Close()
		if got := rec.String(); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
		// What net's sendFile accepts: an io.LimitedReader or not, over
		// something with a file descriptor.
		src := rec.src
		lr, limited := src.(*io.LimitedReader)
		if limited {
			src = lr.R
			if lr.N != 0 {
				t.Errorf("%s: io.LimitedReader left with N = %d, want 0", tc.name, lr.N)
			}
		}
		if limited != (tc.length >= 0) {
			t.Errorf("%s: got a limited reader %v, want %v", tc.name, limited, tc.length >= 0)
		}
		if _, ok := src.(syscall.Conn); !ok {
			t.Errorf("%s: io.Copy handed the writer a %T, want a file (*os.File, or an io.LimitedReader over one)", tc.name, rec.src)
		}
	}
	// Open's own result, for callers that type-switch on it.
	r, err := s.Open(t.Context(), id, 2, 4)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	lf, ok := r.(*limitedFile)
	if !ok {
		t.Fatalf("Open of a range: got %T, want *limitedFile", r)
	}
	if lf.R != lf.f || lf.N != 4 {
		t.Errorf("Open of a range: got LimitedReader{R: %p, N: %d}, want {R: the file %p, N: 4}", lf.R, lf.N, lf.f)
	}
	if r, err := s.Open(t.Context(), id, 0, -1); err != nil {
		t.Fatal(err)
	} else {
		if _, ok := r.(*os.File); !ok {
			t.Errorf("Open of a whole blob: got %T, want *os.File", r)
		}
		r.Close()
	}
}

// TestCrash: a writer never committed (the process died) leaves a file in
// tmp that Sweep(0) removes, and nothing else anywhere.
func TestCrash(t *testing.T) {
	root := filepath.Join(t.TempDir(), "blobs")
	s, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	keep := commit(t, s, []byte("keep"))
	for range 3 {
		w, err := s.Create(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(bytes.Repeat([]byte("x"), 1000)); err != nil {
			t.Fatal(err)
		}
		// The process "crashes": the writer is dropped, its file closed
		// as the kernel would.
		w.(*writer).f.Close()
	}
	if n := len(tmpEntries(t, s)); n != 3 {
		t.Fatalf("tmp before Sweep: got %d files, want 3", n)
	}
	// A restart opens the store again and sweeps.
	s, err = Open(root)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Sweep(t.Context(), time.Hour); err != nil {
		t.Fatal(err)
	}
	if n := len(tmpEntries(t, s)); n != 3 {
		t.Errorf("tmp after Sweep(1h): got %d files, want the 3 fresh ones kept", n)
	}
	if err := s.Sweep(t.Context(), 0); err != nil {
		t.Fatal(err)
	}
	if names := tmpEntries(t, s); len(names) != 0 {
		t.Errorf("tmp after Sweep(0): got %q, want empty", names)
	}
	if got, err := os.ReadFile(s.path(keep)); err != nil || string(got) != "keep" {
		t.Errorf("committed blob after Sweep(0): got (%q, %v), want (%q, nil)", got, err, "keep")
	}
}

// TestSweepAge: Sweep(d) removes leftovers older than d and keeps the
// younger ones.
func TestSweepAge(t *testing.T) {
	s := open(t)
	old, err := s.Create(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	young, err := s.Create(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer young.Abort()
	old.(*writer).f.Close()
	past := time.Now().Add(-2 * time.Hour)
	if err := os.Chtimes(filepath.Join(s.root, "tmp", old.ID()), past, past); err != nil {
		t.Fatal(err)
	}
	if err := s.Sweep(t.Context(), time.Hour); err != nil {
		t.Fatal(err)
	}
	if names := tmpEntries(t, s); len(names) != 1 || names[0] != young.ID() {
		t.Errorf("tmp after Sweep(1h): got %q, want only the young writer's %q", names, young.ID())
	}
}

// TestLayout: committed blobs live at <id[0:2]>/<id>, nothing is left in
// tmp, and ids have the documented shape.
func TestLayout(t *testing.T) {
	s := open(t)
	id := commit(t, s, []byte("x"))
	if !blob.ValidID(id) {
		t.Errorf("Create: got id %q, want 32 lower-case hex digits", id)
	}
	if _, err := os.Stat(filepath.Join(s.root, id[:2], id)); err != nil {
		t.Errorf("committed blob: %v", err)
	}
	if names := tmpEntries(t, s); len(names) != 0 {
		t.Errorf("tmp after Commit: got %q, want empty", names)
	}
	w, err := s.Create(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("aborted"))
	if names := tmpEntries(t, s); len(names) != 1 || names[0] != w.ID() {
		t.Errorf("tmp while writing: got %q, want [%q]", names, w.ID())
	}
	if err := w.Abort(); err != nil {
		t.Fatal(err)
	}
	if names := tmpEntries(t, s); len(names) != 0 {
		t.Errorf("tmp after Abort: got %q, want empty", names)
	}
	// Files in the fan-out directories that are not blobs are not walked.
	os.WriteFile(filepath.Join(s.root, id[:2], "stray.txt"), nil, 0o600)
	var ids []string
	s.Walk(t.Context(), func(id string, _ time.Time) error { ids = append(ids, id); return nil })
	if len(ids) != 1 || ids[0] != id {
		t.Errorf("Walk with a stray file: got %q, want [%q]", ids, id)
	}
}

func TestValidID(t *testing.T) {
	tests := []struct {
		id   string
		want bool
	}{
		{"0123456789abcdef0123456789abcdef", true},
		{"0123456789ABCDEF0123456789abcdef", false},
		{"0123456789abcdef0123456789abcde", false},
		{"0123456789abcdef0123456789abcdef0", false},
		{"../3456789abcdef0123456789abcdef", false},
		{"", false},
		{"zz", false},
	}
	for _, tc := range tests {
		if got := blob.ValidID(tc.id); got != tc.want {
			t.Errorf("blob.ValidID(%q): got %v, want %v", tc.id, got, tc.want)
		}
	}
}
