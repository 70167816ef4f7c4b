package pack

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"

	"github.com/klauspost/reedsolomon"
)

func (s *Store) kickSealer() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// sealer seals full journals in the background until Close.
func (s *Store) sealer() {
	defer close(s.done)
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-s.kick:
		}
		if err := s.sealFull(s.ctx); err != nil && s.ctx.Err() == nil {
			s.log.Error("seal packs", "err", err)
		}
	}
}

// Flush seals the open pack, if it holds anything, and every full one,
// and returns when they are sealed.
func (s *Store) Flush(ctx context.Context) error {
	s.mu.Lock()
	j := s.open
	s.mu.Unlock()
	if j != nil && j.written.Load() > packHeaderSize {
		if err := s.rotate(ctx, j); err != nil {
			return fmt.Errorf("flush: %w", err)
		}
	}
	if err := s.sealFull(ctx); err != nil {
		return fmt.Errorf("flush: %w", err)
	}
	return nil
}

// sealFull seals the full journals, oldest first.
func (s *Store) sealFull(ctx context.Context) error {
	s.sealMu.Lock()
	defer s.sealMu.Unlock()
	s.mu.Lock()
	var full []*journal
	for _, j := range s.journals {
		if j.full.Load() {
			full = append(full, j)
		}
	}
	s.mu.Unlock()
	slices.SortFunc(full, func(a, b *journal) int { return int(a.seq - b.seq) })
	for _, j := range full {
		if err := s.seal(ctx, j); err != nil {
			return fmt.Errorf("seal pack %s: %w", j.id, err)
		}
	}
	return nil
}

// seal turns the full journal j into shards in the archive directories.
//
// The steps, and what a crash after each leaves:
//  1. the index and trailer are appended to the journal: recovery cuts
//     them off again;
//  2. the pack is marked sealing, with the shards' directories, in the
//     index: recovery removes whatever shard files exist and reopens the
//     journal;
//  3. each shard is written to a temporary file and fsynced, then all are
//     renamed into place and their directories fsynced: as 2;
//  4. the pack is marked sealed in the index (durably): from here reads
//     go to the shards, and recovery removes the journal;
//  5. the journal is removed.
func (s *Store) seal(ctx context.Context, j *journal) error {
	// Wait for appends in progress and for their index rows.
	j.mu.Lock()
	end := j.size
	j.mu.Unlock()
	j.inflight.Wait()
	if err := j.sync(end); err != nil {
		return err
	}
	entries, err := s.idx.packEntries(ctx, j.id, false)
	if err != nil {
		return err
	}
	if len(entries) == 0 {
		// Nothing live: no pack at all.
		if err := s.idx.dropPack(ctx, j.id); err != nil {
			return err
		}
		s.retireJournal(j)
		return nil
	}
	tail := appendIndex(nil, entries, end)
	if _, err := j.f.WriteAt(tail, end); err != nil {
		return err
	}
	length := end + int64(len(tail))
	if err := s.step("seal:index"); err != nil {
		return err
	}
	var pid [16]byte
	hex.Decode(pid[:], []byte(j.id))
	hdr := shardHeader{PackID: pid, K: s.cfg.DataShards, M: s.cfg.ParityShards, Length: length, Sealed: s.clock.Now()}
	hdr.BlockSize, hdr.Blocks = layout(length, hdr.K, s.cfg.BlockSize)
	dirs := s.placementDirs(j.seq)
	if err := s.idx.setSealing(ctx, j.id, dirs); err != nil {
		return err
	}
	paths := make([]string, len(dirs))
	for i, d := range dirs {
		paths[i] = filepath.Join(d, shardName(j.id, i))
	}
	if err := s.writeShards(ctx, io.NewSectionReader(j.f, 0, length), hdr, paths); err != nil {
		return err
	}
	if err := s.step("seal:renamed"); err != nil {
		return err
	}
	if err := s.idx.setSealed(ctx, j.id, &hdr, dirs); err != nil {
		return err
	}
	if err := s.step("seal:indexed"); err != nil {
		return err
	}
	s.retireJournal(j)
	s.log.Debug("pack sealed", "pack", j.id, "bytes", length, "objects", len(entries))
	return nil
}

// retireJournal stops reads from j (they go to the index's answer now)
// and removes it.
func (s *Store) retireJournal(j *journal) {
	s.mu.Lock()
	delete(s.journals, j.id)
	j.retired = true
	closeNow := j.refs == 0
	s.mu.Unlock()
	if closeNow {
		j.f.Close()
	}
	if err := os.Remove(j.path); err != nil {
		s.log.Warn("remove sealed journal", "pack", j.id, "err", err)
	}
}

// writeShards writes the shards of a pack's content (read from src)
// durably to paths: each to path.tmp, fsynced, then all renamed.
func (s *Store) writeShards(ctx context.Context, src io.ReaderAt, hdr shardHeader, paths []string) (err error) {
	k, n := hdr.K, hdr.K+hdr.M
	bs := hdr.BlockSize
	enc, err := reedsolomon.New(hdr.K, hdr.M)
	if err != nil {
		return err
	}
	files := make([]*os.File, n)
	ws := make([]*bufio.Writer, n)
	defer func() {
		for _, f := range files {
			if f != nil {
				f.Close()
				if err != nil {
					os.Remove(f.Name())
				}
			}
		}
	}()
	for i := range n {
		f, err := os.OpenFile(paths[i]+".tmp", os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			return err
		}
		files[i] = f
		ws[i] = bufio.NewWriterSize(f, 1<<20)
		h := hdr
		h.Index = i
		if _, err := ws[i].Write(h.marshal()); err != nil {
			return err
		}
	}
	shardLen := int64(hdr.Blocks) * int64(bs)
	bufs := make([][]byte, n)
	for i := range bufs {
		bufs[i] = make([]byte, maxBatch*bs)
	}
	var crc [blockCRCSize]byte
	for row := 0; row < hdr.Blocks; row += maxBatch {
		if err := ctx.Err(); err != nil {
			return err
		}
		count := min(maxBatch, hdr.Blocks-row)
		shards := make([][]byte, n)
		for i := range n {
			shards[i] = bufs[i][:count*bs]
		}
		for i := range k {
			off := int64(i)*shardLen + int64(row)*int64(bs)
			got, err := src.ReadAt(shards[i], off)
			if err != nil && !errors.Is(err, io.EOF) {
				return err
			}
			clear(shards[i][got:])
		}
		// Parity is computed bytewise, so encoding a batch of rows at
		// once equals encoding each row.
		if err := enc.Encode(shards); err != nil {
			return err
		}
		for i := range n {
			for j := range count {
				b := shards[i][j*bs : (j+1)*bs]
				binary.LittleEndian.PutUint32(crc[:], crc32c(b))
				ws[i].Write(b)
				if _, err := ws[i].Write(crc[:]); err != nil {
					return err
				}
			}
		}
	}
	for i := range n {
		if err := ws[i].Flush(); err != nil {
			return err
		}
		if err := files[i].Sync(); err != nil {
			return err
		}
	}
	if err := s.step("seal:written"); err != nil {
		return err
	}
	dirs := map[string]bool{}
	for i := range n {
		if err := os.Rename(paths[i]+".tmp", paths[i]); err != nil {
			return err
		}
		dirs[filepath.Dir(paths[i])] = true
	}
	for d := range dirs {
		if err := syncDir(d); err != nil {
			return err
		}
	}
	return nil
}

// commitDirect seals a large object into a pack of its own, straight
// from the writer's temporary file f, which holds the pack header and
// the payload with room for the frame header between them: the object
// is written to the archive once instead of twice (journal, then
// shards). The pack is recorded as sealing before its shards are
// written, so that recovery removes them if the commit does not finish.
func (s *Store) commitDirect(ctx context.Context, e *Entry, f *os.File, pid [16]byte) error {
	e.Offset = packHeaderSize
	if _, err := f.WriteAt(appendFrameHeader(nil, e), packHeaderSize); err != nil {
		return err
	}
	end := e.DataOffset() + e.StoredSize
	tail := appendIndex(nil, []Entry{*e}, end)
	if _, err := f.WriteAt(tail, end); err != nil {
		return err
	}
	id := hex.EncodeToString(pid[:])
	hdr := shardHeader{PackID: pid, K: s.cfg.DataShards, M: s.cfg.ParityShards, Length: end + int64(len(tail)), Sealed: s.clock.Now()}
	hdr.BlockSize, hdr.Blocks = layout(hdr.Length, hdr.K, s.cfg.BlockSize)
	seq, err := s.idx.newPack(ctx, id, hdr.Sealed)
	if err != nil {
		return err
	}
	dirs := s.placementDirs(seq)
	if err := s.idx.setSealing(ctx, id, dirs); err != nil {
		return err
	}
	paths := make([]string, len(dirs))
	for i, d := range dirs {
		paths[i] = filepath.Join(d, shardName(id, i))
	}
	if err := s.writeShards(ctx, io.NewSectionReader(f, 0, hdr.Length), hdr, paths); err != nil {
		return err
	}
	if err := s.step("direct:renamed"); err != nil {
		return err
	}
	return s.idx.sealDirect(ctx, id, &hdr, dirs, e)
}
