package repo

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Cache mirrors the repository's metadata files (index, snapshots, tree
// packs) in a local directory, so that listing snapshots and running the
// next backup need no downloads. A file is stored under its repository
// name; as names are hashes of the content, a cached file is checked
// against its name when read and never goes stale, only obsolete.
type Cache struct {
	dir string
}

// OpenCache opens (creating it) the cache of repository id under base.
func OpenCache(base string, id ID) (*Cache, error) {
	dir := filepath.Join(base, id.String())
	for _, d := range []string{"index", "snapshots", "tree"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			return nil, fmt.Errorf("cache: %w", err)
		}
	}
	return &Cache{dir: dir}, nil
}

// Dir returns the cache's directory.
func (c *Cache) Dir() string { return c.dir }

// Get returns the cached file name ("index/<id>") if it is there and its
// SHA-256 matches its id; a corrupt entry is removed.
func (c *Cache) Get(name string) ([]byte, bool) {
	if c == nil {
		return nil, false
	}
	id, err := ParseID(filepath.Base(name))
	if err != nil {
		return nil, false
	}
	p := filepath.Join(c.dir, filepath.FromSlash(name))
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, false
	}
	if Hash(data) != id {
		os.Remove(p)
		return nil, false
	}
	return data, true
}

// Put stores data as name, atomically.
func (c *Cache) Put(name string, data []byte) error {
	if c == nil {
		return nil
	}
	p := filepath.Join(c.dir, filepath.FromSlash(name))
	f, err := os.CreateTemp(filepath.Dir(p), ".tmp-*")
	if err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), p)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("cache: %w", err)
	}
	return nil
}

// Retain removes the files of directory dir ("index") whose names are
// not in keep (full names, "index/<id>").
func (c *Cache) Retain(dir string, keep map[string]bool) {
	if c == nil {
		return
	}
	ents, err := os.ReadDir(filepath.Join(c.dir, dir))
	if err != nil {
		return
	}
	for _, e := range ents {
		if !keep[dir+"/"+e.Name()] || strings.HasPrefix(e.Name(), ".tmp-") {
			os.Remove(filepath.Join(c.dir, dir, e.Name()))
		}
	}
}
