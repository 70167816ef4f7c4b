package audit

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

const (
	// DefaultMaxBytes is the size at which Open's file rotates when
	// RotateOptions.MaxBytes is not set: 100 MiB.
	DefaultMaxBytes = 100 << 20
	// DefaultMaxFiles is how many rotated files Open keeps when
	// RotateOptions.MaxFiles is not set.
	DefaultMaxFiles = 10

	// rotateRetry is how long a failed rotation waits before it is tried
	// again; in between, lines go on to the current file.
	rotateRetry = 10 * time.Second
)

// RotateOptions says when the file of Open rotates and how many old
// files are kept.
type RotateOptions struct {
	// MaxBytes is the size a file may reach: a line that would take it
	// past MaxBytes starts a new file instead. A line longer than
	// MaxBytes has a file to itself. Zero or negative means
	// DefaultMaxBytes.
	MaxBytes int64
	// MaxFiles is how many rotated files are kept besides the active
	// one; the oldest is deleted when a rotation would exceed it. Zero or
	// negative means DefaultMaxFiles.
	MaxFiles int
}

func (o RotateOptions) withDefaults() RotateOptions {
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.MaxFiles <= 0 {
		o.MaxFiles = DefaultMaxFiles
	}
	return o
}

// Open returns a Logger appending to the file at path, which it creates
// with mode 0600 if need be (an existing file keeps its mode). The
// directory must exist.
//
// The file rotates by size. Rotation renames path.(MaxFiles-1) to
// path.MaxFiles (replacing it), …, path.1 to path.2 and path to path.1,
// then starts a new, empty path: path is always the newest file and
// path.MaxFiles the oldest. The rotated file is synced and closed in the
// background. A line is never split across two files. If a rotation
// fails, the Logger keeps appending to the current file and tries again
// a little later; the error is reported by Close.
//
// If the existing file does not end in a newline (the previous process
// died mid-line), Open first ends that line, so the partial record stays
// alone on its line rather than spoiling the next one.
//
// Only one Logger, in one process, may write to a path at a time.
func Open(path string, opts RotateOptions) (*Logger, error) {
	opts = opts.withDefaults()
	s := &fileSink{path: path, maxBytes: opts.MaxBytes, maxFiles: opts.MaxFiles}
	if err := s.open(); err != nil {
		return nil, err
	}
	return newLogger(s, BufferSize, MaxBlock), nil
}

// fileSink is the sink of Open. All its methods run on the writer
// goroutine, except the background syncs of rotated files.
type fileSink struct {
	path     string
	maxBytes int64
	maxFiles int

	f       *os.File // nil after a failed reopen: write retries
	size    int64
	broken  bool // the last write stopped mid-line
	retryAt time.Time

	bg    sync.WaitGroup
	bgMu  sync.Mutex
	bgErr error
}

func (s *fileSink) open() error {
	f, err := os.OpenFile(s.path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("audit: %w", err)
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return fmt.Errorf("audit: %s is not a regular file", s.path)
	}
	size := fi.Size()
	if size > 0 {
		var last [1]byte
		if _, err := f.ReadAt(last[:], size-1); err != nil {
			f.Close()
			return fmt.Errorf("audit: %w", err)
		}
		if last[0] != '\n' {
			n, err := f.Write([]byte{'\n'})
			size += int64(n)
			if err != nil {
				f.Close()
				return fmt.Errorf("audit: %w", err)
			}
		}
	}
	s.f, s.size, s.broken = f, size, false
	return nil
}

func (s *fileSink) write(p []byte) error {
	if s.f == nil {
		if err := s.open(); err != nil {
			return err
		}
	}
	if s.broken {
		// End the partial line so that p starts on a line of its own.
		n, err := s.f.Write([]byte{'\n'})
		s.size += int64(n)
		if err != nil {
			return fmt.Errorf("audit: %w", err)
		}
		s.broken = false
	}
	n, err := s.f.Write(p)
	s.size += int64(n)
	if err != nil {
		s.broken = n > 0
		return fmt.Errorf("audit: %w", err)
	}
	return nil
}

func (s *fileSink) full(pending, n int) bool {
	cur := s.size + int64(pending)
	if s.f == nil || cur == 0 || cur+int64(n) <= s.maxBytes {
		return false
	}
	return s.retryAt.IsZero() || !time.Now().Before(s.retryAt)
}

func (s *fileSink) rotate() error {
	if err := s.shift(); err != nil {
		s.retryAt = time.Now().Add(rotateRetry)
		return fmt.Errorf("audit: rotate %s: %w", s.path, err)
	}
	s.retryAt = time.Time{}
	old := s.f
	s.f, s.size, s.broken = nil, 0, false
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		err := errors.Join(old.Sync(), old.Close())
		syncDir(filepath.Dir(s.path))
		if err != nil {
			s.bgMu.Lock()
			s.bgErr = errors.Join(s.bgErr, fmt.Errorf("audit: rotated file: %w", err))
			s.bgMu.Unlock()
		}
	}()
	return s.open() // on failure, write tries again
}

// shift renames the files one step older, deleting the oldest.
func (s *fileSink) shift() error {
	name := func(i int) string { return s.path + "." + strconv.Itoa(i) }
	if err := os.Remove(name(s.maxFiles)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	for i := s.maxFiles - 1; i >= 1; i-- {
		if err := os.Rename(name(i), name(i+1)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	// The active file may have been moved away by someone else: then
	// there is nothing to rename, and a fresh one is opened all the same.
	if err := os.Rename(s.path, name(1)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// takeBgErr waits for background syncs and returns their errors.
func (s *fileSink) takeBgErr() error {
	s.bg.Wait()
	s.bgMu.Lock()
	defer s.bgMu.Unlock()
	err := s.bgErr
	s.bgErr = nil
	return err
}

func (s *fileSink) sync() error {
	err := s.takeBgErr()
	if s.f != nil {
		if serr := s.f.Sync(); serr != nil {
			err = errors.Join(err, fmt.Errorf("audit: %w", serr))
		}
	}
	return err
}

func (s *fileSink) close() error {
	err := s.sync()
	if s.f != nil {
		if cerr := s.f.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("audit: %w", cerr))
		}
		s.f = nil
	}
	return err
}

// syncDir makes renames in dir durable, as far as the system allows.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	d.Sync()
	d.Close()
}

// LogFiles returns the audit log at path and its rotated siblings that
// exist, oldest first: path.N, …, path.2, path.1, path. Only siblings
// named path.<number> count.
func LogFiles(path string) ([]string, error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	var rotated []string
	active := false
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		if e.Name() == base {
			active = true
		} else if rest, ok := strings.CutPrefix(e.Name(), base+"."); ok && rotationIndex(rest) > 0 {
			rotated = append(rotated, filepath.Join(filepath.Dir(path), e.Name()))
		}
	}
	files := sortChronological(rotated)
	if active {
		files = append(files, path)
	}
	return files, nil
}

// rotationIndex returns n if s is the canonical decimal form of n ≥ 1,
// else 0.
func rotationIndex(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || strconv.Itoa(n) != s {
		return 0
	}
	return n
}

// sortChronological returns paths ordered oldest first under the naming
// of Open: files are grouped by their active path (path.3 belongs with
// path), groups are in lexical order, and within a group higher suffixes
// come first and the active file last.
func sortChronological(paths []string) []string {
	type entry struct {
		base string
		idx  int
		path string
	}
	es := make([]entry, len(paths))
	for i, p := range paths {
		es[i] = entry{base: p, path: p}
		if dot := strings.LastIndexByte(p, '.'); dot >= 0 {
			if n := rotationIndex(p[dot+1:]); n > 0 {
				es[i].base, es[i].idx = p[:dot], n
			}
		}
	}
	sort.SliceStable(es, func(i, j int) bool {
		if es[i].base != es[j].base {
			return es[i].base < es[j].base
		}
		return es[i].idx > es[j].idx
	})
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.path
	}
	return out
}
