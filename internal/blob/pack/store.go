package pack

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/firnhq/firn/internal/blob"
	"github.com/firnhq/firn/internal/clock"
)

// Defaults of Config.
const (
	DefaultDataShards   = 4
	DefaultParityShards = 2
	DefaultPackSize     = 256 << 20
	DefaultBlockSize    = 64 << 10
)

// spillSize is how much of a new object a Writer keeps in memory before
// it spills to a temporary file.
const spillSize = 1 << 20

// Config configures a Store. The zero value of every field but StateDir
// and Dirs is useful.
type Config struct {
	// StateDir holds the index database, the journal of the open pack and
	// objects being written: small, hot, ideally on an SSD.
	StateDir string
	// Dirs are the archive directories (ideally one per disk) that the
	// shards of sealed packs are spread over, round-robin.
	Dirs []string
	// DataShards and ParityShards split every pack: any DataShards of
	// the DataShards+ParityShards shards rebuild it. Defaults 4 and 2.
	// With fewer Dirs than shards some directory holds several shards of
	// a pack, and losing that one disk may exceed the parity.
	DataShards, ParityShards int
	// PackSize is the size at which the open pack is sealed (default
	// 256 MiB).
	PackSize int64
	// BlockSize is the unit of checksums and repair within a shard
	// (default 64 KiB).
	BlockSize int
	// Clock tells the time (default: the system clock).
	Clock clock.Clock
	// Log receives warnings about damage found and repaired (nil:
	// discard).
	Log *slog.Logger
}

// Store is the archive blob store. See the package documentation.
type Store struct {
	cfg    Config
	clock  clock.Clock
	log    *slog.Logger
	idx    *index
	jdir   string // journals
	tmpDir string // objects being written

	// hook, when set by tests, is called at each step of sealing and
	// compaction; an error stops the step there as a crash would.
	hook func(step string) error

	rotateMu  sync.Mutex // serializes replacing the open journal
	sealMu    sync.Mutex // one sealing pass at a time
	compactMu sync.Mutex // one compaction at a time

	mu       sync.Mutex // guards open, journals, sets, closed
	open     *journal
	journals map[string]*journal  // open and full journals by pack id
	sets     map[string]*setEntry // sealed packs being read
	closed   bool

	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	kick   chan struct{} // wakes the sealer
	done   chan struct{} // closed when the sealer stopped
}

// setEntry is a cached shard set and its readers.
type setEntry struct {
	set     *shardSet
	refs    int  // guarded by Store.mu
	retired bool // guarded by Store.mu
	used    time.Time
}

var _ blob.Store = (*Store)(nil)

// Open opens (creating if needed) the store that cfg describes and
// recovers from a crash: journals are cut back to their last whole
// object and re-indexed, half-sealed packs are sealed again, compacted
// packs are removed.
func Open(cfg Config) (*Store, error) {
	if cfg.StateDir == "" || len(cfg.Dirs) == 0 {
		return nil, errors.New("pack: StateDir and Dirs are required")
	}
	if cfg.DataShards == 0 {
		cfg.DataShards = DefaultDataShards
	}
	if cfg.ParityShards == 0 {
		cfg.ParityShards = DefaultParityShards
	}
	if cfg.DataShards < 1 || cfg.ParityShards < 1 || cfg.DataShards+cfg.ParityShards > maxShards {
		return nil, fmt.Errorf("pack: %d data + %d parity shards: want at least 1 of each and at most %d in all", cfg.DataShards, cfg.ParityShards, maxShards)
	}
	if cfg.PackSize <= 0 {
		cfg.PackSize = DefaultPackSize
	}
	if cfg.BlockSize <= 0 {
		cfg.BlockSize = DefaultBlockSize
	}
	if cfg.BlockSize > maxBlockSize {
		return nil, fmt.Errorf("pack: block size %d above %d", cfg.BlockSize, maxBlockSize)
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	cfg.Dirs = slices.Clone(cfg.Dirs)
	for i, d := range cfg.Dirs {
		abs, err := filepath.Abs(d)
		if err != nil {
			return nil, fmt.Errorf("pack: archive dir %s: %w", d, err)
		}
		cfg.Dirs[i] = abs
		if err := os.MkdirAll(abs, 0o700); err != nil {
			return nil, fmt.Errorf("pack: archive dir %s: %w", d, err)
		}
	}
	if len(cfg.Dirs) < cfg.DataShards+cfg.ParityShards {
		cfg.Log.Warn("fewer archive dirs than shards per pack: a dir holds several shards of a pack, and losing it may exceed the parity",
			"dirs", len(cfg.Dirs), "shards", cfg.DataShards+cfg.ParityShards)
	}
	s := &Store{
		cfg:      cfg,
		clock:    cfg.Clock,
		log:      cfg.Log,
		jdir:     filepath.Join(cfg.StateDir, "journal"),
		tmpDir:   filepath.Join(cfg.StateDir, "tmp"),
		journals: map[string]*journal{},
		sets:     map[string]*setEntry{},
		kick:     make(chan struct{}, 1),
		done:     make(chan struct{}),
	}
	for _, d := range []string{s.jdir, s.tmpDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("pack: state dir: %w", err)
		}
	}
	idx, err := openIndex(filepath.Join(cfg.StateDir, "index.db"))
	if err != nil {
		return nil, fmt.Errorf("pack: %w", err)
	}
	s.idx = idx
	s.ctx, s.cancel = context.WithCancel(context.Background())
	if err := s.recover(s.ctx); err != nil {
		idx.close()
		s.closeJournals()
		return nil, fmt.Errorf("pack: recover: %w", err)
	}
	go s.sealer()
	s.kickSealer()
	return s, nil
}

// Close stops sealing (a seal in progress is abandoned, to be redone on
// the next Open) and releases the store's files. Readers still open keep
// working until closed.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	<-s.done
	s.closeJournals()
	s.mu.Lock()
	for id, se := range s.sets {
		if se.refs == 0 {
			se.set.close()
		}
		delete(s.sets, id)
	}
	s.mu.Unlock()
	return s.idx.close()
}

func (s *Store) closeJournals() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, j := range s.journals {
		j.retired = true
		if j.refs == 0 {
			j.f.Close()
		}
		delete(s.journals, id)
	}
	s.open = nil
}

func (s *Store) step(name string) error {
	if s.hook != nil {
		return s.hook(name)
	}
	return nil
}

// Create implements blob.Store: CreateLabeled with no label.
func (s *Store) Create(ctx context.Context) (blob.Writer, error) {
	return s.CreateLabeled(ctx, Label{})
}

// CreateLabeled starts a new blob that carries label in its pack, so
// that the archive names it without firn's metadata.
func (s *Store) CreateLabeled(ctx context.Context, label Label) (blob.Writer, error) {
	if err := validLabel(label); err != nil {
		return nil, fmt.Errorf("create blob: %w", err)
	}
	return &writer{s: s, id: blob.NewID(), label: label, h: sha256.New()}, nil
}

type writer struct {
	s     *Store
	id    string
	label Label
	h     hash.Hash // of the object's bytes
	size  int64
	buf   []byte // the object, until it outgrows spillSize

	// Past spillSize the object goes to a temporary file laid out as
	// the content of a pack of its own (pack header, room for the frame
	// header, payload), compressed if its first spillSize bytes
	// compressed well, so that a large object can be sealed straight
	// from it.
	tmp    *os.File
	packID [16]byte
	bw     *bufio.Writer
	cw     *countWriter // the payload
	zw     encoder      // nil: the payload is raw

	done bool
	err  error // the first failed write
}

// countWriter counts and checksums the payload.
type countWriter struct {
	w   io.Writer
	n   int64
	crc uint32
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	c.crc = crc32.Update(c.crc, castagnoli, p[:n])
	return n, err
}

var errDone = errors.New("blob: write after commit or abort")

func (w *writer) ID() string { return w.id }

func (w *writer) Write(p []byte) (int, error) {
	if w.done {
		return 0, errDone
	}
	if w.err != nil {
		return 0, w.err
	}
	buffered := 0
	if w.tmp == nil {
		buffered = min(len(p), spillSize-len(w.buf))
		w.buf = append(w.buf, p[:buffered]...)
		w.h.Write(p[:buffered])
		w.size += int64(buffered)
		p = p[buffered:]
		if len(p) == 0 {
			return buffered, nil
		}
		if err := w.spill(); err != nil {
			w.err = err
			return buffered, err
		}
	}
	var n int
	var err error
	if w.zw != nil {
		n, err = w.zw.Write(p)
	} else {
		n, err = w.cw.Write(p)
	}
	w.h.Write(p[:n])
	w.size += int64(n)
	if err != nil {
		w.err = fmt.Errorf("write blob %s: %w", w.id, err)
		return buffered + n, w.err
	}
	return buffered + n, nil
}

// ReadFrom reads in large pieces, which the compressor prefers.
func (w *writer) ReadFrom(r io.Reader) (int64, error) {
	buf := getBuf(1 << 20)
	defer putBuf(buf)
	var total int64
	for {
		n, err := io.ReadFull(r, buf)
		if n > 0 {
			m, werr := w.Write(buf[:n])
			total += int64(m)
			if werr != nil {
				return total, werr
			}
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}

// payloadOff is where the payload starts in the temporary file.
func (w *writer) payloadOff() int64 {
	e := Entry{Label: w.label}
	return packHeaderSize + e.headerLen()
}

func (w *writer) spill() error {
	f, err := os.OpenFile(filepath.Join(w.s.tmpDir, w.id), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("write blob %s: %w", w.id, err)
	}
	w.tmp = f
	rand.Read(w.packID[:])
	w.bw = bufio.NewWriterSize(f, 1<<20)
	w.bw.Write(packHeader(w.packID))
	w.bw.Write(make([]byte, w.payloadOff()-packHeaderSize))
	w.cw = &countWriter{w: w.bw}
	// The first spillSize bytes decide whether the object is compressed.
	if worthIt(int64(len(zstdEncodeAll(w.buf))), int64(len(w.buf))) {
		w.zw = getEncoder(w.cw)
		_, err = w.zw.Write(w.buf)
	} else {
		_, err = w.cw.Write(w.buf)
	}
	if err != nil {
		return fmt.Errorf("write blob %s: %w", w.id, err)
	}
	w.buf = nil
	return nil
}

// worthIt reports whether compressing n bytes to c bytes pays: it must
// save at least a tenth.
func worthIt(c, n int64) bool { return n > 0 && c <= n-n/10 }

func (w *writer) Commit(ctx context.Context) error {
	if w.done {
		return errors.New("blob: commit after commit or abort")
	}
	if w.err != nil {
		w.Abort()
		return w.err
	}
	e := Entry{ID: w.id, Label: w.label, Size: w.size, Committed: w.s.clock.Now()}
	w.h.Sum(e.SHA256[:0])
	var err error
	if w.tmp == nil {
		var p payload
		comp := zstdEncodeAll(w.buf)
		if worthIt(int64(len(comp)), w.size) {
			e.Compression, p.b = Zstd, comp
		} else {
			p.b = w.buf
		}
		e.StoredSize = int64(len(p.b))
		err = w.s.commit(ctx, &e, p)
	} else {
		if w.zw != nil {
			err = w.zw.Close()
			putEncoder(w.zw)
			w.zw = nil
			e.Compression = Zstd
		}
		if err == nil {
			err = w.bw.Flush()
		}
		e.StoredSize, e.StoredCRC = w.cw.n, w.cw.crc
		switch {
		case err != nil:
		case e.StoredSize >= w.s.cfg.PackSize/4:
			err = w.s.commitDirect(ctx, &e, w.tmp, w.packID)
		default:
			err = w.s.commit(ctx, &e, payload{r: io.NewSectionReader(w.tmp, w.payloadOff(), e.StoredSize)})
		}
	}
	w.Abort()
	if err != nil {
		return fmt.Errorf("commit blob %s: %w", w.id, err)
	}
	return nil
}

func (w *writer) Abort() error {
	w.done = true
	w.buf = nil
	if w.zw != nil {
		w.zw.Close()
		putEncoder(w.zw)
		w.zw = nil
	}
	if w.tmp != nil {
		w.tmp.Close()
		err := os.Remove(w.tmp.Name())
		w.tmp = nil
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}

// commit appends an object to the open journal, makes it durable and
// indexes it.
func (s *Store) commit(ctx context.Context, e *Entry, p payload) error {
	j, err := s.appendFrame(ctx, e, p)
	if err != nil {
		return err
	}
	defer j.inflight.Done()
	if err := j.sync(e.Offset + e.frameLen()); err != nil {
		return err
	}
	return s.idx.update(ctx, false, func(tx *sql.Tx) error {
		return insertEntry(ctx, tx, "INSERT", j.id, e)
	})
}

// Open implements blob.Store. The reader checks what it returns: blocks
// of sealed packs against their CRCs (repairing from parity), and the
// object against its SHA-256 whenever the read covers it to the end (a
// range read of an object in the open journal reads on to the end to
// check it). A check that fails makes Read return an error wrapping
// ErrCorrupt, never wrong bytes with io.EOF.
func (s *Store) Open(ctx context.Context, id string, offset, length int64) (io.ReadCloser, error) {
	if !blob.ValidID(id) {
		return nil, fmt.Errorf("blob %q: %w", id, blob.ErrNotFound)
	}
	for range 10 {
		e, pack, err := s.idx.lookup(ctx, id)
		if isNoRows(err) {
			return nil, fmt.Errorf("blob %s: %w", id, blob.ErrNotFound)
		}
		if err != nil {
			return nil, fmt.Errorf("open blob %s: %w", id, err)
		}
		src, err := s.source(ctx, pack)
		if errors.Is(err, errMoved) {
			continue // sealed or compacted meanwhile: look again
		}
		if err != nil {
			return nil, fmt.Errorf("open blob %s: %w", id, err)
		}
		return newObjectReader(&e, src, offset, length)
	}
	return nil, fmt.Errorf("open blob %s: its pack keeps moving", id)
}

var errMoved = errors.New("pack moved")

// source is where an object's stored bytes are read from.
type source struct {
	journal bool
	j       *journal
	set     *shardSet
	release func()
	// shared, when set, serves every payload read of a sealed set,
	// keeping its last verified blocks between objects (ReadBatch).
	shared *setReader
}

// payloadReader returns a reader of stored bytes [off, off+n) of the pack
// content.
func (src *source) payloadReader(off, n int64) io.Reader {
	if src.journal {
		return io.NewSectionReader(src.j.f, off, n)
	}
	if src.shared != nil {
		src.shared.pos, src.shared.end = off, off+n
		return src.shared
	}
	return src.set.reader(off, n)
}

// source returns the journal or shard set of pack, with a reference that
// the caller releases.
func (s *Store) source(ctx context.Context, pack string) (*source, error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, errors.New("pack: store closed")
	}
	if j := s.journals[pack]; j != nil {
		j.refs++
		s.mu.Unlock()
		return &source{journal: true, j: j, release: func() { s.releaseJournal(j) }}, nil
	}
	if se := s.sets[pack]; se != nil {
		if se.retired {
			s.mu.Unlock()
			return nil, errMoved
		}
		se.refs++
		se.used = s.clock.Now()
		s.mu.Unlock()
		return &source{set: se.set, release: func() { s.releaseSet(se) }}, nil
	}
	s.mu.Unlock()
	p, err := s.idx.pack(ctx, pack)
	if isNoRows(err) || err == nil && p.state != packSealed {
		return nil, errMoved
	}
	if err != nil {
		return nil, err
	}
	set, err := newShardSet(p.hdr, s.shardPaths(p), true, s.log)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	se := s.sets[pack]
	if se == nil {
		se = &setEntry{set: set}
		s.sets[pack] = se
		s.trimSets()
	}
	if se.retired {
		return nil, errMoved
	}
	se.refs++
	se.used = s.clock.Now()
	return &source{set: se.set, release: func() { s.releaseSet(se) }}, nil
}

// shardPaths returns where the shards of a sealed pack are.
func (s *Store) shardPaths(p packRow) []string {
	paths := make([]string, p.hdr.K+p.hdr.M)
	for i := range paths {
		if i < len(p.dirs) {
			paths[i] = filepath.Join(p.dirs[i], shardName(p.id, i))
		}
	}
	return paths
}

// maxSets is how many sealed packs keep their shard files open.
const maxSets = 64

// trimSets closes the least recently used idle shard sets past maxSets.
// s.mu is held.
func (s *Store) trimSets() {
	for len(s.sets) > maxSets {
		var oldest string
		var t time.Time
		for id, se := range s.sets {
			if se.refs == 0 && (oldest == "" || se.used.Before(t)) {
				oldest, t = id, se.used
			}
		}
		if oldest == "" {
			return
		}
		s.sets[oldest].set.close()
		delete(s.sets, oldest)
	}
}

func (s *Store) releaseSet(se *setEntry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	se.refs--
	if se.refs == 0 && (se.retired || s.closed) {
		se.set.close()
	}
}

func (s *Store) releaseJournal(j *journal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	j.refs--
	if j.refs == 0 && j.retired {
		j.f.Close()
	}
}

// Delete implements blob.Store: the object is marked dead in the index,
// durably; its bytes stay in its pack until compaction.
func (s *Store) Delete(ctx context.Context, id string) error {
	if !blob.ValidID(id) {
		return nil
	}
	if err := s.idx.markDead(ctx, id); err != nil {
		return fmt.Errorf("delete blob %s: %w", id, err)
	}
	return nil
}

// Walk implements blob.Store from the index alone.
func (s *Store) Walk(ctx context.Context, fn func(id string, committed time.Time) error) error {
	return s.idx.walk(ctx, fn)
}

// Sweep implements blob.Store: it removes the temporary files of writers
// that spilled to disk and never committed.
func (s *Store) Sweep(ctx context.Context, olderThan time.Duration) error {
	ents, err := os.ReadDir(s.tmpDir)
	if err != nil {
		return fmt.Errorf("sweep blobs: %w", err)
	}
	cutoff := s.clock.Now().Add(-olderThan)
	for _, e := range ents {
		if olderThan > 0 {
			info, err := e.Info()
			if err != nil || info.ModTime().After(cutoff) {
				continue
			}
		}
		if err := os.Remove(filepath.Join(s.tmpDir, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("sweep blobs: %w", err)
		}
	}
	return nil
}

// Stat returns the entry of a live object, from the index alone.
func (s *Store) Stat(ctx context.Context, id string) (Entry, error) {
	if !blob.ValidID(id) {
		return Entry{}, fmt.Errorf("blob %q: %w", id, blob.ErrNotFound)
	}
	e, _, err := s.idx.lookup(ctx, id)
	if isNoRows(err) {
		return Entry{}, fmt.Errorf("blob %s: %w", id, blob.ErrNotFound)
	}
	return e, err
}
