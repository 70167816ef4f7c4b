// Package mem is an in-memory backend.Backend for tests. It models
// archive classes: a file put in GLACIER or DEEP_ARCHIVE cannot be read
// until Restore was called and, when RestoreAfter is set, that many Head
// calls have seen the restore in progress.
package mem

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/firnhq/firn/internal/backup/backend"
)

// Backend is an in-memory backend.Backend. The zero value is not usable;
// call New.
type Backend struct {
	// RestoreAfter is how many Heads of a file see its restore ongoing
	// before it completes. Set before use.
	RestoreAfter int

	mu    sync.Mutex
	files map[string]*file // guarded by mu
	calls map[string]int   // guarded by mu: method name -> count
}

type file struct {
	data     []byte
	class    string
	modified time.Time
	restore  int // 0: none requested; >0: Heads left until done; -1: restored
}

// New returns an empty backend.
func New() *Backend { return &Backend{files: map[string]*file{}, calls: map[string]int{}} }

var _ backend.Backend = (*Backend)(nil)

// Location implements backend.Backend.
func (b *Backend) Location() string { return "mem:" }

// Calls returns how often method (e.g. "Get") was called.
func (b *Backend) Calls(method string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.calls[method]
}

// Names returns the names of all files, sorted.
func (b *Backend) Names() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var names []string
	for n := range b.files {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Mutate replaces the bytes of name by f(bytes), for tamper tests.
func (b *Backend) Mutate(name string, f func([]byte) []byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if fl, ok := b.files[name]; ok {
		fl.data = f(append([]byte(nil), fl.data...))
	}
}

// Put implements backend.Backend.
func (b *Backend) Put(ctx context.Context, name string, data []byte, class string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.calls["Put"]++
	if class == "STANDARD" {
		class = ""
	}
	b.files[name] = &file{data: append([]byte(nil), data...), class: class, modified: time.Now()}
	return nil
}

// Get implements backend.Backend.
func (b *Backend) Get(ctx context.Context, name string, off, length int64) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.calls["Get"]++
	f, ok := b.files[name]
	if !ok {
		return nil, fmt.Errorf("%s: %w", name, backend.ErrNotFound)
	}
	if backend.ArchiveClass(f.class) && f.restore != -1 {
		return nil, &backend.ArchivedError{Name: name, StorageClass: f.class}
	}
	if off > int64(len(f.data)) {
		return nil, fmt.Errorf("%s: offset %d beyond size %d", name, off, len(f.data))
	}
	end := int64(len(f.data))
	if length >= 0 && off+length < end {
		end = off + length
	}
	return append([]byte(nil), f.data[off:end]...), nil
}

// Head implements backend.Backend.
func (b *Backend) Head(ctx context.Context, name string) (backend.FileInfo, error) {
	if err := ctx.Err(); err != nil {
		return backend.FileInfo{}, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.calls["Head"]++
	f, ok := b.files[name]
	if !ok {
		return backend.FileInfo{}, fmt.Errorf("%s: %w", name, backend.ErrNotFound)
	}
	if f.restore > 0 {
		f.restore--
		if f.restore == 0 {
			f.restore = -1
		}
	}
	fi := b.info(name, f)
	switch {
	case f.restore > 0:
		fi.RestoreOngoing = true
	case f.restore == -1:
		fi.RestoredUntil = time.Now().Add(24 * time.Hour)
	}
	return fi, nil
}

func (b *Backend) info(name string, f *file) backend.FileInfo {
	return backend.FileInfo{Name: name, Size: int64(len(f.data)), LastModified: f.modified, StorageClass: f.class}
}

// List implements backend.Backend.
func (b *Backend) List(ctx context.Context, prefix string, fn func(backend.FileInfo) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b.mu.Lock()
	b.calls["List"]++
	var infos []backend.FileInfo
	for n, f := range b.files {
		if strings.HasPrefix(n, prefix) {
			infos = append(infos, b.info(n, f))
		}
	}
	b.mu.Unlock()
	for _, fi := range infos {
		if err := fn(fi); err != nil {
			return err
		}
	}
	return nil
}

// Delete implements backend.Backend.
func (b *Backend) Delete(ctx context.Context, name string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.calls["Delete"]++
	delete(b.files, name)
	return nil
}

// Restore implements backend.Backend.
func (b *Backend) Restore(ctx context.Context, name string, days int, tier string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.calls["Restore"]++
	f, ok := b.files[name]
	if !ok {
		return fmt.Errorf("%s: %w", name, backend.ErrNotFound)
	}
	if !backend.ArchiveClass(f.class) {
		return fmt.Errorf("restore %s: storage class %q is not archived", name, f.class)
	}
	if f.restore == 0 {
		f.restore = b.RestoreAfter
		if f.restore == 0 {
			f.restore = -1
		}
	}
	return nil
}
