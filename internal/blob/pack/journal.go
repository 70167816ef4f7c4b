package pack

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/firnhq/firn/internal/blob"
)

// journal is the open pack (or a full one waiting to be sealed): a file
// in the state directory holding the pack header and frames, exactly the
// prefix of the pack's future content.
type journal struct {
	id   string
	seq  int64
	path string
	f    *os.File

	mu      sync.Mutex // held while appending; guards size
	size    int64      // where the next frame goes
	written atomic.Int64
	full    atomic.Bool // no more appends: rotated, waiting to be sealed

	syncMu  sync.Mutex // serializes fsyncs; guards synced and syncErr
	synced  int64
	syncErr error

	// inflight counts frames appended but not yet in the index (or, for
	// compaction, not yet pointed at); sealing waits for it.
	inflight sync.WaitGroup

	refs    int  // open readers; guarded by Store.mu
	retired bool // no longer in Store.journals; guarded by Store.mu
}

func (s *Store) journalPath(id string) string { return filepath.Join(s.jdir, id+".journal") }

// newJournal creates an empty journal: file first (durable), then its
// row, so that a row never names a missing journal.
func (s *Store) newJournal(ctx context.Context) (*journal, error) {
	id := blob.NewID()
	var pid [16]byte
	hex.Decode(pid[:], []byte(id))
	path := s.journalPath(id)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("new journal: %w", err)
	}
	fail := func(err error) (*journal, error) {
		f.Close()
		os.Remove(path)
		return nil, fmt.Errorf("new journal: %w", err)
	}
	if _, err := f.Write(packHeader(pid)); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := syncDir(s.jdir); err != nil {
		return fail(err)
	}
	seq, err := s.idx.newPack(ctx, id, s.clock.Now())
	if err != nil {
		return fail(err)
	}
	j := &journal{id: id, seq: seq, path: path, f: f, size: packHeaderSize, synced: packHeaderSize}
	j.written.Store(packHeaderSize)
	return j, nil
}

// payload is an object's stored bytes: b, or read from r.
type payload struct {
	b []byte
	r io.Reader
}

// appendFrame appends e's frame to the open journal, setting e.Offset and
// e.StoredCRC, and returns the journal with e counted in its inflight.
// The frame is not yet durable.
func (s *Store) appendFrame(ctx context.Context, e *Entry, p payload) (*journal, error) {
	for {
		s.mu.Lock()
		j, closed := s.open, s.closed
		s.mu.Unlock()
		if closed || j == nil {
			return nil, errors.New("pack: store closed")
		}
		j.mu.Lock()
		if j.full.Load() {
			j.mu.Unlock()
			continue
		}
		err := j.appendLocked(e, p)
		if err == nil {
			j.inflight.Add(1)
		}
		full := j.size >= s.cfg.PackSize
		j.mu.Unlock()
		if errors.Is(err, errJournalDamaged) {
			// The journal may hold garbage after its last good frame:
			// stop appending to it.
			s.log.Error("journal append failed; rotating", "pack", j.id, "err", err)
			if rerr := s.rotate(ctx, j); rerr != nil {
				s.log.Error("rotate journal", "err", rerr)
			}
		}
		if err != nil {
			return nil, err
		}
		if full {
			if err := s.rotate(ctx, j); err != nil {
				s.log.Error("rotate journal", "err", err)
			}
		}
		return j, nil
	}
}

// errJournalDamaged marks an append that failed and could not be undone.
var errJournalDamaged = errors.New("journal damaged")

// appendLocked writes a frame at j.size; j.mu is held. A failed append
// is cut off again.
func (j *journal) appendLocked(e *Entry, p payload) (err error) {
	defer func() {
		if err != nil {
			if terr := j.f.Truncate(j.size); terr != nil {
				err = fmt.Errorf("%w: truncate: %v, after: %w", errJournalDamaged, terr, err)
			}
		}
	}()
	off := j.size
	e.Offset = off
	hlen := e.headerLen()
	if p.b != nil || p.r == nil {
		e.StoredCRC = crc32c(p.b)
		buf := appendFrameHeader(getBuf(0)[:0], e)
		buf = append(buf, p.b...)
		_, err := j.f.WriteAt(buf, off)
		putBuf(buf)
		if err != nil {
			return fmt.Errorf("append to journal %s: %w", j.id, err)
		}
	} else {
		crc := crc32.New(castagnoli)
		bw := bufio.NewWriterSize(io.NewOffsetWriter(j.f, off+hlen), 1<<20)
		n, err := io.Copy(io.MultiWriter(bw, crc), p.r)
		if err == nil {
			err = bw.Flush()
		}
		if err == nil && n != e.StoredSize {
			err = fmt.Errorf("payload of %d bytes, want %d", n, e.StoredSize)
		}
		if err == nil {
			e.StoredCRC = crc.Sum32()
			_, err = j.f.WriteAt(appendFrameHeader(nil, e), off)
		}
		if err != nil {
			return fmt.Errorf("append to journal %s: %w", j.id, err)
		}
	}
	j.size = off + hlen + e.StoredSize
	j.written.Store(j.size)
	return nil
}

// sync makes the journal durable up to at least end, sharing one fsync
// among the commits that wait for it.
func (j *journal) sync(end int64) error {
	j.syncMu.Lock()
	defer j.syncMu.Unlock()
	if j.synced >= end {
		return nil
	}
	if j.syncErr != nil {
		return j.syncErr
	}
	target := j.written.Load()
	if err := j.f.Sync(); err != nil {
		// After a failed fsync the kernel may have dropped the pages:
		// nothing more of this journal can be trusted to be durable.
		j.syncErr = fmt.Errorf("sync journal %s: %w", j.id, err)
		return j.syncErr
	}
	j.synced = target
	return nil
}

// rotate replaces the open journal j (if it still is the open one) with
// a new one and wakes the sealer.
func (s *Store) rotate(ctx context.Context, j *journal) error {
	s.rotateMu.Lock()
	defer s.rotateMu.Unlock()
	s.mu.Lock()
	cur := s.open
	s.mu.Unlock()
	if cur != j {
		return nil
	}
	nj, err := s.newJournal(ctx)
	if err != nil {
		return err
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		nj.f.Close()
		return nil
	}
	s.open = nj
	s.journals[nj.id] = nj
	s.mu.Unlock()
	j.full.Store(true)
	s.kickSealer()
	return nil
}

// replay reads a journal after a restart: it cuts the file back to the
// end of its last whole frame (a frame torn by a crash was never
// acknowledged; an index appended by an unfinished seal is dropped) and
// indexes the frames that lack a row.
func (s *Store) replay(ctx context.Context, p packRow) (*journal, error) {
	path := s.journalPath(p.id)
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	j := &journal{id: p.id, seq: p.seq, path: path, f: f}
	var hdr [packHeaderSize]byte
	if _, err := f.ReadAt(hdr[:], 0); err != nil {
		f.Close()
		return nil, fmt.Errorf("journal %s: %w", p.id, err)
	}
	if pid, err := parsePackHeader(hdr[:]); err != nil || hex.EncodeToString(pid[:]) != p.id {
		f.Close()
		return nil, fmt.Errorf("journal %s: bad header: %v", p.id, err)
	}
	var entries []Entry
	end, err := scanFrames(io.NewSectionReader(f, 0, 1<<62), packHeaderSize, func(e Entry) error {
		if e.Flags&flagMoved == 0 {
			entries = append(entries, e)
		}
		return nil
	})
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("journal %s: %w", p.id, err)
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if info.Size() != end {
		s.log.Warn("journal cut back to its last whole frame", "pack", p.id, "from", info.Size(), "to", end)
		if err := f.Truncate(end); err != nil {
			f.Close()
			return nil, err
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return nil, err
		}
	}
	if len(entries) > 0 {
		err := s.idx.update(ctx, true, func(tx *sql.Tx) error {
			for i := range entries {
				if err := insertEntry(ctx, tx, "INSERT OR IGNORE", p.id, &entries[i]); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			f.Close()
			return nil, err
		}
	}
	j.size, j.synced = end, end
	j.written.Store(end)
	return j, nil
}

// scanFrames reads frames from off until the first one that is not whole
// and correct, calling fn for each, and returns where the good frames
// end. Only errors of r other than a short read are returned.
func scanFrames(r io.ReaderAt, off int64, fn func(Entry) error) (int64, error) {
	hdr := make([]byte, 8)
	for {
		if _, err := r.ReadAt(hdr, off); err != nil {
			if errors.Is(err, io.EOF) {
				return off, nil
			}
			return off, err
		}
		n, err := frameBodyLen(hdr)
		if err != nil {
			return off, nil
		}
		h := make([]byte, frameOverhead+n)
		if _, err := r.ReadAt(h, off); err != nil {
			if errors.Is(err, io.EOF) {
				return off, nil
			}
			return off, err
		}
		e, err := parseFrameHeader(h, off)
		if err != nil {
			return off, nil
		}
		crc := crc32.New(castagnoli)
		got, err := io.Copy(crc, io.NewSectionReader(r, e.DataOffset(), e.StoredSize))
		if err != nil && !errors.Is(err, io.EOF) {
			return off, err
		}
		if got != e.StoredSize || crc.Sum32() != e.StoredCRC {
			return off, nil
		}
		if err := fn(e); err != nil {
			return off, err
		}
		off = e.DataOffset() + e.StoredSize
	}
}

// recover brings the store to a consistent state after a restart.
func (s *Store) recover(ctx context.Context) error {
	// Packs whose seal was interrupted: forget their half-written shards.
	sealing, err := s.idx.packs(ctx, packSealing)
	if err != nil {
		return err
	}
	for _, p := range sealing {
		for i, d := range p.dirs {
			path := filepath.Join(d, shardName(p.id, i))
			for _, name := range []string{path, path + ".tmp"} {
				if err := os.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
					return err
				}
			}
		}
		// A journal's pack goes back to open; a large object's pack of
		// its own (no journal: its commit never returned) goes away.
		if _, err := os.Stat(s.journalPath(p.id)); errors.Is(err, fs.ErrNotExist) {
			if err := s.idx.dropPack(ctx, p.id); err != nil {
				return err
			}
			continue
		}
		if err := s.idx.setState(ctx, p.id, packOpen); err != nil {
			return err
		}
	}
	open, err := s.idx.packs(ctx, packOpen)
	if err != nil {
		return err
	}
	known := map[string]bool{}
	for _, p := range open {
		known[p.id] = true
		j, err := s.replay(ctx, p)
		if errors.Is(err, fs.ErrNotExist) {
			es, qerr := s.idx.packEntries(ctx, p.id, true)
			if qerr != nil {
				return qerr
			}
			if len(es) == 0 {
				// A large object's pack whose commit stopped at once.
				if err := s.idx.dropPack(ctx, p.id); err != nil {
					return err
				}
				continue
			}
			s.log.Error("journal missing: its objects are lost", "pack", p.id, "objects", len(es))
			continue
		}
		if err != nil {
			return err
		}
		s.journals[j.id] = j
		if s.open != nil {
			s.open.full.Store(true)
		}
		s.open = j
	}
	if s.open != nil && s.open.size >= s.cfg.PackSize {
		s.open.full.Store(true)
		s.open = nil
	}
	// Journals of sealed packs whose removal was interrupted, and
	// journals never recorded.
	ents, err := os.ReadDir(s.jdir)
	if err != nil {
		return err
	}
	for _, e := range ents {
		id, ok := strings.CutSuffix(e.Name(), ".journal")
		if ok && known[id] {
			continue
		}
		if err := os.Remove(filepath.Join(s.jdir, e.Name())); err != nil {
			return err
		}
	}
	if err := s.purgeRetired(ctx); err != nil {
		return err
	}
	if s.open == nil {
		j, err := s.newJournal(ctx)
		if err != nil {
			return err
		}
		s.journals[j.id] = j
		s.open = j
	}
	return nil
}

// placementDirs returns the directories of the shards of the pack with
// seq: shard i goes to Dirs[(seq+i) mod len(Dirs)].
func (s *Store) placementDirs(seq int64) []string {
	n := s.cfg.DataShards + s.cfg.ParityShards
	dirs := make([]string, n)
	for i := range dirs {
		dirs[i] = s.cfg.Dirs[(int(seq%int64(len(s.cfg.Dirs)))+i)%len(s.cfg.Dirs)]
	}
	return dirs
}

// purgeRetired removes the shards of compacted packs that no reader
// holds, then their rows.
func (s *Store) purgeRetired(ctx context.Context) error {
	retired, err := s.idx.packs(ctx, packRetired)
	if err != nil {
		return err
	}
	for _, p := range retired {
		s.mu.Lock()
		se := s.sets[p.id]
		busy := se != nil && se.refs > 0
		if se != nil && !busy {
			se.set.close()
			delete(s.sets, p.id)
		}
		s.mu.Unlock()
		if busy {
			continue
		}
		for _, path := range s.shardPaths(p) {
			if path == "" {
				continue
			}
			if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
		}
		if err := s.idx.dropPack(ctx, p.id); err != nil {
			return err
		}
	}
	return nil
}
