// Package fs is the hot blob store: one plain file per blob under a
// directory, written to a temporary file, fsynced, renamed into place and
// made durable by an fsync of its directory.
//
// Layout under the root:
//
//	tmp/<id>             blobs being written
//	<id[0:2]>/<id>       committed blobs, 256 fan-out directories
//
// Ids are 32 lower-case hex digits (128 random bits).
package fs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/firnhq/firn/internal/blob"
)

// Store is a blob.Store over a local directory.
type Store struct {
	root string
}

var _ blob.Store = (*Store)(nil)

// Open prepares root (creating it and its fan-out directories) and
// returns the store.
func Open(root string) (*Store, error) {
	if err := os.MkdirAll(filepath.Join(root, "tmp"), 0o700); err != nil {
		return nil, fmt.Errorf("blob root %s: %w", root, err)
	}
	for i := range 256 {
		if err := os.MkdirAll(filepath.Join(root, fmt.Sprintf("%02x", i)), 0o700); err != nil {
			return nil, fmt.Errorf("blob root %s: %w", root, err)
		}
	}
	return &Store{root: root}, nil
}

func (s *Store) path(id string) string { return filepath.Join(s.root, id[:2], id) }

// Create implements blob.Store.
func (s *Store) Create(ctx context.Context) (blob.Writer, error) {
	id := blob.NewID()
	tmp := filepath.Join(s.root, "tmp", id)
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create blob: %w", err)
	}
	return &writer{s: s, id: id, tmp: tmp, f: f}, nil
}

type writer struct {
	s    *Store
	id   string
	tmp  string
	f    *os.File
	done bool
}

func (w *writer) ID() string { return w.id }

func (w *writer) Write(p []byte) (int, error) {
	if w.done {
		return 0, errors.New("blob: write after commit or abort")
	}
	return w.f.Write(p)
}

// ReadFrom lets io.Copy hand the file to the kernel's copy paths.
func (w *writer) ReadFrom(r io.Reader) (int64, error) {
	if w.done {
		return 0, errors.New("blob: write after commit or abort")
	}
	return w.f.ReadFrom(r)
}

func (w *writer) Commit(ctx context.Context) error {
	if w.done {
		return errors.New("blob: commit after commit or abort")
	}
	if err := w.f.Sync(); err != nil {
		w.Abort()
		return fmt.Errorf("sync blob %s: %w", w.id, err)
	}
	if err := w.f.Close(); err != nil {
		w.Abort()
		return fmt.Errorf("close blob %s: %w", w.id, err)
	}
	final := w.s.path(w.id)
	if err := os.Rename(w.tmp, final); err != nil {
		w.Abort()
		return fmt.Errorf("commit blob %s: %w", w.id, err)
	}
	w.done = true
	if err := syncDir(filepath.Dir(final)); err != nil {
		os.Remove(final)
		return fmt.Errorf("commit blob %s: %w", w.id, err)
	}
	return nil
}

func (w *writer) Abort() error {
	if w.done {
		return nil
	}
	w.done = true
	w.f.Close()
	if err := os.Remove(w.tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Open implements blob.Store. The reader is an *os.File, or an
// io.LimitedReader over one, so that net/http can send it with sendfile.
func (s *Store) Open(ctx context.Context, id string, offset, length int64) (io.ReadCloser, error) {
	if !blob.ValidID(id) {
		return nil, fmt.Errorf("blob %q: %w", id, blob.ErrNotFound)
	}
	f, err := os.Open(s.path(id))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("blob %s: %w", id, blob.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("open blob %s: %w", id, err)
	}
	if offset > 0 {
		if _, err := f.Seek(offset, io.SeekStart); err != nil {
			f.Close()
			return nil, fmt.Errorf("seek blob %s: %w", id, err)
		}
	}
	if length < 0 {
		return f, nil
	}
	return &limitedFile{LimitedReader: io.LimitedReader{R: f, N: length}, f: f}, nil
}

// limitedFile reads at most N bytes of f and closes f.
type limitedFile struct {
	io.LimitedReader
	f *os.File
}

func (l *limitedFile) Close() error { return l.f.Close() }

// WriteTo sends the range straight to w (sendfile for a TCP connection).
func (l *limitedFile) WriteTo(w io.Writer) (int64, error) {
	if rf, ok := w.(io.ReaderFrom); ok {
		n, err := rf.ReadFrom(&l.LimitedReader)
		return n, err
	}
	return io.Copy(w, &l.LimitedReader)
}

// Delete implements blob.Store.
func (s *Store) Delete(ctx context.Context, id string) error {
	if !blob.ValidID(id) {
		return nil
	}
	if err := os.Remove(s.path(id)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("delete blob %s: %w", id, err)
	}
	return nil
}

// Walk implements blob.Store.
func (s *Store) Walk(ctx context.Context, fn func(id string, committed time.Time) error) error {
	for i := range 256 {
		if err := ctx.Err(); err != nil {
			return err
		}
		dir := filepath.Join(s.root, fmt.Sprintf("%02x", i))
		ents, err := os.ReadDir(dir)
		if err != nil {
			return fmt.Errorf("walk blobs: %w", err)
		}
		for _, e := range ents {
			if !blob.ValidID(e.Name()) {
				continue
			}
			info, err := e.Info()
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err != nil {
				return fmt.Errorf("walk blobs: %w", err)
			}
			if err := fn(e.Name(), info.ModTime()); err != nil {
				return err
			}
		}
	}
	return nil
}

// Sweep implements blob.Store.
func (s *Store) Sweep(ctx context.Context, olderThan time.Duration) error {
	dir := filepath.Join(s.root, "tmp")
	ents, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("sweep blobs: %w", err)
	}
	cutoff := time.Now().Add(-olderThan)
	for _, e := range ents {
		if olderThan > 0 {
			info, err := e.Info()
			if err != nil || info.ModTime().After(cutoff) {
				continue
			}
		}
		if err := os.Remove(filepath.Join(dir, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("sweep blobs: %w", err)
		}
	}
	return nil
}
