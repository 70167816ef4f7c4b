package pack

import (
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"time"
)

// CompactOptions choose the packs that Compact rewrites.
type CompactOptions struct {
	// LiveRatio: packs whose live objects (frames) fill less than this
	// share of them are rewritten, e.g. 0.5.
	LiveRatio float64
	// MinAge: a pack is rewritten only when every object it holds, live
	// or deleted, was committed at least MinAge ago (the objects' minimum
	// storage duration), unless Force.
	MinAge time.Duration
	Force  bool
}

// CompactReport says what Compact did.
type CompactReport struct {
	Packs          int   // packs rewritten and removed
	Objects        int   // live objects moved into new packs
	BytesReclaimed int64 // bytes of the removed packs less the bytes moved
}

// Compact rewrites the sealed packs that opt selects: their live objects
// are copied (as stored, without decompressing) into the open pack, the
// index is pointed at the copies, and the old shards are removed. Ids do
// not change. The copies are sealed like any other object; call Flush to
// seal them at once.
func (s *Store) Compact(ctx context.Context, opt CompactOptions) (CompactReport, error) {
	s.compactMu.Lock()
	defer s.compactMu.Unlock()
	var rep CompactReport
	stats, err := s.idx.packStats(ctx)
	if err != nil {
		return rep, fmt.Errorf("compact: %w", err)
	}
	now := s.clock.Now()
	for _, p := range stats {
		if p.length <= 0 || float64(p.live)/float64(p.length) >= opt.LiveRatio {
			continue
		}
		if !opt.Force && now.Sub(p.newest) < opt.MinAge {
			continue
		}
		n, err := s.compactPack(ctx, p.id)
		if err != nil {
			return rep, fmt.Errorf("compact pack %s: %w", p.id, err)
		}
		rep.Packs++
		rep.Objects += n
		rep.BytesReclaimed += p.length - p.live
	}
	if err := s.purgeRetired(ctx); err != nil {
		return rep, fmt.Errorf("compact: %w", err)
	}
	return rep, nil
}

// compactPack moves the live objects of a sealed pack into the open
// journal and retires the pack. A crash before the index points at the
// copies leaves them as garbage frames (flagged moved, never indexed by
// recovery); after it, recovery removes the old shards.
func (s *Store) compactPack(ctx context.Context, pack string) (int, error) {
	entries, err := s.idx.packEntries(ctx, pack, false)
	if err != nil {
		return 0, err
	}
	var moved []movedEntry
	var journals []*journal
	defer func() {
		for _, j := range journals {
			j.inflight.Done()
		}
	}()
	if len(entries) > 0 {
		src, err := s.source(ctx, pack)
		if err != nil {
			return 0, err
		}
		defer src.release()
		for _, e := range entries {
			ne := e
			ne.Flags |= flagMoved
			check := &crcCheck{r: src.payloadReader(e.DataOffset(), e.StoredSize), crc: crc32.New(castagnoli)}
			j, err := s.appendFrame(ctx, &ne, payload{r: check})
			if err != nil {
				return 0, err
			}
			journals = append(journals, j)
			if check.crc.Sum32() != e.StoredCRC {
				return 0, fmt.Errorf("object %s: payload CRC %08x, want %08x: %w", e.ID, check.crc.Sum32(), e.StoredCRC, ErrCorrupt)
			}
			moved = append(moved, movedEntry{e: ne, pack: j.id})
			if err := s.step("compact:copied"); err != nil {
				return 0, err
			}
		}
		for i, j := range journals {
			if err := j.sync(moved[i].e.Offset + moved[i].e.frameLen()); err != nil {
				return 0, err
			}
		}
	}
	if err := s.idx.move(ctx, pack, moved); err != nil {
		return 0, err
	}
	s.mu.Lock()
	if se := s.sets[pack]; se != nil {
		se.retired = true
	}
	s.mu.Unlock()
	if err := s.step("compact:moved"); err != nil {
		return 0, err
	}
	return len(moved), nil
}

// crcCheck computes the CRC of what is read through it.
type crcCheck struct {
	r   io.Reader
	crc interface {
		io.Writer
		Sum32() uint32
	}
}

func (c *crcCheck) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.crc.Write(p[:n])
	return n, err
}

// ScrubReport says what Scrub found.
type ScrubReport struct {
	Packs          int   // sealed packs checked
	Blocks         int64 // shard blocks checked
	BlocksRepaired int64 // blocks rewritten in place from parity
	ShardsRebuilt  int   // shard files missing or bad, rebuilt whole
	Objects        int   // objects read back and checked
	// Unrecoverable lists the objects that cannot be read back: damage
	// beyond the parity, or a journal damaged in the state directory.
	Unrecoverable []string
}

// Scrub reads every block of every sealed pack, repairs what parity
// allows (rewriting bad blocks in place, rebuilding missing shard files),
// then reads back every live object, sealed or not, and checks its
// SHA-256. Damage beyond repair is reported, not returned as an error.
func (s *Store) Scrub(ctx context.Context) (ScrubReport, error) {
	var rep ScrubReport
	sealed, err := s.idx.packs(ctx, packSealed)
	if err != nil {
		return rep, fmt.Errorf("scrub: %w", err)
	}
	for _, p := range sealed {
		src, err := s.source(ctx, p.id)
		if errors.Is(err, errMoved) {
			continue
		}
		if err != nil {
			return rep, fmt.Errorf("scrub pack %s: %w", p.id, err)
		}
		st, err := src.set.scrub(ctx)
		src.release()
		if err != nil {
			return rep, fmt.Errorf("scrub pack %s: %w", p.id, err)
		}
		rep.Packs++
		rep.Blocks += st.blocks
		rep.BlocksRepaired += st.repaired
		rep.ShardsRebuilt += st.rebuilt
	}
	err = s.idx.walk(ctx, func(id string, _ time.Time) error {
		r, err := s.Open(ctx, id, 0, -1)
		if err == nil {
			_, err = io.Copy(io.Discard, r)
			r.Close()
		}
		rep.Objects++
		if errors.Is(err, ErrCorrupt) {
			s.log.Error("object beyond repair", "id", id, "err", err)
			rep.Unrecoverable = append(rep.Unrecoverable, id)
			return nil
		}
		return err
	})
	if err != nil {
		return rep, fmt.Errorf("scrub: %w", err)
	}
	return rep, nil
}
