package e2e

import (
	"bytes"
	"crypto/md5"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

const MiB = 1 << 20

// fileSpec is one entry of a generated tree.
type fileSpec struct {
	path string
	size int         // bytes of pseudo-random content
	mode fs.FileMode // 0 means 0o644
	// link, if set, makes a symlink to this target instead of a file.
	link string
	// dir makes an (empty) directory with mode.
	dir bool
}

// randomBytes returns n reproducible pseudo-random bytes for seed.
func randomBytes(seed uint64, n int) []byte {
	var s [32]byte
	for i := 0; i < 8; i++ {
		s[i] = byte(seed >> (8 * i))
	}
	b := make([]byte, n)
	rand.NewChaCha8(s).Read(b)
	return b
}

// writeFile writes n pseudo-random bytes to path, creating its parents.
func writeFile(t *testing.T, path string, seed uint64, n int) []byte {
	t.Helper()
	b := randomBytes(seed, n)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return b
}

// writeTree creates the entries under root.
func writeTree(t *testing.T, root string, specs []fileSpec) {
	t.Helper()
	for i, f := range specs {
		p := filepath.Join(root, filepath.FromSlash(f.path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		var err error
		switch {
		case f.dir:
			if err = os.MkdirAll(p, 0o755); err == nil && f.mode != 0 {
				err = os.Chmod(p, f.mode)
			}
		case f.link != "":
			err = os.Symlink(f.link, p)
		default:
			mode := f.mode
			if mode == 0 {
				mode = 0o644
			}
			if err = os.WriteFile(p, randomBytes(uint64(i)*7919+uint64(f.size), f.size), mode); err == nil {
				err = os.Chmod(p, mode) // not subject to the umask
			}
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// s3Tree is a tree for tools that sync directories to S3: nested
// directories, an empty file, names with spaces and non-ASCII
// characters, and files above the usual multipart thresholds.
func s3Tree(bigSizes ...int) []fileSpec {
	specs := []fileSpec{
		{path: "a.txt", size: 1234},
		{path: "empty.txt", size: 0},
		{path: "dir1/b.bin", size: 100 << 10},
		{path: "dir1/dir2/dir3/c.bin", size: MiB + 17},
		{path: "with space/ünïcödé file ✓.txt", size: 4321},
		{path: "with space/name with  two spaces & (parens) +plus.txt", size: 77},
		{path: "日本語/ファイル.txt", size: 2048},
	}
	for i := 0; i < 25; i++ {
		specs = append(specs, fileSpec{path: fmt.Sprintf("many/f%03d.dat", i), size: 100 + i*517})
	}
	for i, n := range bigSizes {
		specs = append(specs, fileSpec{path: fmt.Sprintf("big/large-%d.bin", i), size: n})
	}
	return specs
}

// entry describes one path of a tree for comparison.
type entry struct {
	kind string // "file", "dir", "symlink"
	mode fs.FileMode
	link string
	size int64
}

func scanTree(t *testing.T, root string) map[string]entry {
	t.Helper()
	out := map[string]entry{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if rel == "." {
			return nil
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		e := entry{mode: fi.Mode().Perm(), size: fi.Size()}
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			e.kind = "symlink"
			if e.link, err = os.Readlink(p); err != nil {
				return err
			}
			e.mode, e.size = 0, 0
		case fi.IsDir():
			e.kind, e.size = "dir", 0
		case fi.Mode().IsRegular():
			e.kind = "file"
		default:
			e.kind = fi.Mode().Type().String()
		}
		out[filepath.ToSlash(rel)] = e
		return nil
	})
	if err != nil {
		t.Fatalf("scan %s: %v", root, err)
	}
	return out
}

// compareTrees checks that got holds exactly the files of want with the
// same bytes. With full, directories (also empty ones), symlinks and
// permission bits must match too; without, only regular files count
// (object stores keep no directories, modes or links).
func compareTrees(t *testing.T, want, got string, full bool) {
	t.Helper()
	w, g := scanTree(t, want), scanTree(t, got)
	if !full {
		for _, m := range []map[string]entry{w, g} {
			for k, e := range m {
				if e.kind != "file" {
					delete(m, k)
				}
			}
		}
	}
	var problems []string
	keys := make([]string, 0, len(w))
	for k := range w {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		we := w[k]
		ge, ok := g[k]
		if !ok {
			problems = append(problems, fmt.Sprintf("missing %s %q", we.kind, k))
			continue
		}
		delete(g, k)
		if we.kind != ge.kind {
			problems = append(problems, fmt.Sprintf("%q: is a %s, want a %s", k, ge.kind, we.kind))
			continue
		}
		if full && we.mode != ge.mode {
			problems = append(problems, fmt.Sprintf("%q: mode %v, want %v", k, ge.mode, we.mode))
		}
		switch we.kind {
		case "symlink":
			if we.link != ge.link {
				problems = append(problems, fmt.Sprintf("%q: links to %q, want %q", k, ge.link, we.link))
			}
		case "file":
			if we.size != ge.size {
				problems = append(problems, fmt.Sprintf("%q: %d bytes, want %d", k, ge.size, we.size))
				continue
			}
			a, err1 := os.ReadFile(filepath.Join(want, k))
			b, err2 := os.ReadFile(filepath.Join(got, k))
			if err1 != nil || err2 != nil {
				problems = append(problems, fmt.Sprintf("%q: read: %v %v", k, err1, err2))
			} else if !bytes.Equal(a, b) {
				problems = append(problems, fmt.Sprintf("%q: content differs", k))
			}
		}
	}
	for k, e := range g {
		problems = append(problems, fmt.Sprintf("unexpected %s %q", e.kind, k))
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		if len(problems) > 40 {
			problems = append(problems[:40], fmt.Sprintf("... and %d more", len(problems)-40))
		}
		t.Fatalf("tree %s differs from %s:\n  %s", got, want, strings.Join(problems, "\n  "))
	}
}

// sameFile checks that two files have the same bytes.
func sameFile(t *testing.T, want, got string) {
	t.Helper()
	a, err := os.ReadFile(want)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(got)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Fatalf("%s (%d bytes) differs from %s (%d bytes)", got, len(b), want, len(a))
	}
}

// md5hex is the hex MD5 of a file's content.
func md5hex(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%x", md5.Sum(b))
}
