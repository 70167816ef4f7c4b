// Package backuptest has helpers for the tests of firn's backup client:
// a source tree with every kind of entry a restore must get right, and a
// comparison of two trees.
package backuptest

import (
	"bytes"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// RandBytes returns n pseudo-random bytes, the same for the same seed.
func RandBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 7))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// MakeTree writes a tree with the kinds of entries a restore must get
// right into dir.
func MakeTree(t *testing.T, dir string) {
	t.Helper()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	mtime := time.Date(2025, 3, 4, 5, 6, 7, 123456789, time.UTC)
	must(os.MkdirAll(filepath.Join(dir, "docs/deep/er"), 0o755))
	must(os.MkdirAll(filepath.Join(dir, "empty-dir"), 0o700))
	files := map[string][]byte{
		"big.bin":            RandBytes(300<<10, 1),
		"docs/a.txt":         []byte("hello\n"),
		"docs/deep/er/c.bin": RandBytes(70<<10, 2),
		"docs/copy.bin":      RandBytes(300<<10, 1), // same as big.bin: deduplicated
		"empty":              {},
		"ünïcødé name.txt":   []byte("names are bytes"),
		"zeros":              make([]byte, 200<<10),
	}
	for name, data := range files {
		must(os.WriteFile(filepath.Join(dir, name), data, 0o644))
	}
	must(os.Chmod(filepath.Join(dir, "docs/a.txt"), 0o600))
	must(os.Chmod(filepath.Join(dir, "big.bin"), 0o751))
	must(os.Symlink("docs/a.txt", filepath.Join(dir, "link")))
	must(os.Symlink("/nonexistent/target", filepath.Join(dir, "dangling")))
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		must(err)
		if d.Type()&fs.ModeSymlink == 0 {
			must(os.Chtimes(p, mtime, mtime))
		}
		return nil
	})
	must(os.Chmod(filepath.Join(dir, "docs"), 0o750))
}

// SameTree compares two trees entry by entry: type, mode, mtime, size,
// content and link targets.
func SameTree(t *testing.T, want, got string) {
	t.Helper()
	seen := 0
	err := filepath.WalkDir(want, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(want, p)
		q := filepath.Join(got, rel)
		wi, _ := os.Lstat(p)
		gi, err := os.Lstat(q)
		if err != nil {
			t.Errorf("%s: %v", rel, err)
			return nil
		}
		seen++
		if wi.Mode() != gi.Mode() {
			t.Errorf("%s: mode %v, want %v", rel, gi.Mode(), wi.Mode())
		}
		if rel != "." && !wi.ModTime().Equal(gi.ModTime()) {
			t.Errorf("%s: mtime %v, want %v", rel, gi.ModTime(), wi.ModTime())
		}
		switch {
		case wi.Mode()&fs.ModeSymlink != 0:
			wl, _ := os.Readlink(p)
			gl, _ := os.Readlink(q)
			if wl != gl {
				t.Errorf("%s: link to %q, want %q", rel, gl, wl)
			}
		case wi.Mode().IsRegular():
			wb, _ := os.ReadFile(p)
			gb, _ := os.ReadFile(q)
			if !bytes.Equal(wb, gb) {
				t.Errorf("%s: content differs (%d bytes, want %d)", rel, len(gb), len(wb))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if seen < 10 {
		t.Errorf("compared only %d entries", seen)
	}
}
