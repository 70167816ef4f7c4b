package pack

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"

	"github.com/klauspost/reedsolomon"
)

// maxBatch is how many blocks of one shard a read fetches at once.
const maxBatch = 16

// shardName is the file name of shard i of pack id.
func shardName(id string, i int) string { return fmt.Sprintf("%s-%02d.shard", id, i) }

// shardState is what a shardSet knows of one shard file.
type shardState uint8

const (
	shardUnopened shardState = iota
	shardOK
	shardMissing // missing, unreadable or with a bad header
)

// shardSet reads a sealed pack's content from its shard files, checking
// every block against its CRC and rebuilding bad blocks from the other
// shards of their row. Shard files are opened lazily, so that reading an
// object wakes only the disk that holds it.
type shardSet struct {
	hdr   shardHeader // the pack's layout; Index is meaningless
	id    string      // the pack id in hex
	paths []string    // where each shard is expected
	enc   reedsolomon.Encoder
	log   *slog.Logger
	// repair allows rewriting repaired blocks in place (the server does;
	// the offline reader does not write to the archive).
	repair bool

	mu     sync.Mutex // guards files, state, warned
	files  []*os.File
	state  []shardState
	warned bool

	// repairMu serializes in-place repairs, so that two readers never
	// rewrite the same block at once.
	repairMu sync.Mutex

	// blocksRead counts the data blocks readData fetched from the shard
	// files (tests check that batched reads fetch each block once).
	blocksRead atomic.Int64
}

func newShardSet(hdr shardHeader, paths []string, repair bool, log *slog.Logger) (*shardSet, error) {
	enc, err := reedsolomon.New(hdr.K, max(hdr.M, 1))
	if err != nil {
		return nil, fmt.Errorf("pack %x: %w", hdr.PackID, err)
	}
	n := hdr.K + hdr.M
	return &shardSet{
		hdr:    hdr,
		id:     fmt.Sprintf("%x", hdr.PackID),
		paths:  paths,
		enc:    enc,
		log:    log,
		repair: repair,
		files:  make([]*os.File, n),
		state:  make([]shardState, n),
	}, nil
}

func (s *shardSet) recSize() int64 { return int64(s.hdr.BlockSize) + blockCRCSize }

func (s *shardSet) recOff(row int) int64 { return shardHeaderSize + int64(row)*s.recSize() }

// shardLen is how many content bytes each data shard holds.
func (s *shardSet) shardLen() int64 { return int64(s.hdr.Blocks) * int64(s.hdr.BlockSize) }

// file returns shard i's file, opening it and checking its header on
// first use, or nil when the shard is missing.
func (s *shardSet) file(i int) *os.File {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state[i] == shardUnopened {
		s.files[i], s.state[i] = s.openShard(i)
	}
	return s.files[i]
}

func (s *shardSet) openShard(i int) (*os.File, shardState) {
	if s.paths[i] == "" {
		return nil, shardMissing
	}
	flag := os.O_RDONLY
	if s.repair {
		flag = os.O_RDWR
	}
	f, err := os.OpenFile(s.paths[i], flag, 0)
	if err != nil && s.repair && errors.Is(err, fs.ErrPermission) {
		f, err = os.Open(s.paths[i])
	}
	if err != nil {
		s.log.Warn("pack shard missing", "pack", s.id, "shard", i, "err", err)
		return nil, shardMissing
	}
	var b [shardHeaderSize]byte
	if _, err := f.ReadAt(b[:], 0); err != nil {
		f.Close()
		s.log.Warn("pack shard unreadable", "pack", s.id, "shard", i, "err", err)
		return nil, shardMissing
	}
	h, err := parseShardHeader(b[:])
	if err == nil && (!h.sameLayout(&s.hdr) || h.Index != i) {
		err = fmt.Errorf("header of shard %d of pack %x (%d+%d), want shard %d of pack %s", h.Index, h.PackID, h.K, h.M, i, s.id)
	}
	if err != nil {
		f.Close()
		s.log.Warn("pack shard header bad", "pack", s.id, "shard", i, "err", err)
		return nil, shardMissing
	}
	return f, shardOK
}

// forget closes shard i so that it is opened again on next use (after a
// rebuild replaced the file).
func (s *shardSet) forget(i int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.files[i] != nil {
		s.files[i].Close()
	}
	s.files[i], s.state[i] = nil, shardUnopened
}

func (s *shardSet) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.files {
		if f != nil {
			f.Close()
		}
		s.files[i], s.state[i] = nil, shardUnopened
	}
}

// readRecords reads count records of shard i from row into buf (which
// must hold count*recSize bytes) and returns which of them are good.
// A missing shard or a failed read makes all of them bad.
func (s *shardSet) readRecords(i, row, count int, buf []byte) []bool {
	good := make([]bool, count)
	f := s.file(i)
	if f == nil {
		return good
	}
	n, err := f.ReadAt(buf, s.recOff(row))
	if err != nil && !errors.Is(err, io.EOF) {
		s.log.Warn("pack shard read", "pack", s.id, "shard", i, "row", row, "err", err)
	}
	rs := int(s.recSize())
	bs := s.hdr.BlockSize
	for j := range count {
		if (j+1)*rs > n {
			break
		}
		rec := buf[j*rs : (j+1)*rs]
		good[j] = binary.LittleEndian.Uint32(rec[bs:]) == crc32c(rec[:bs])
	}
	return good
}

// corruptErr is the error of a row that cannot be rebuilt.
func (s *shardSet) corruptErr(row, good int) error {
	return fmt.Errorf("pack %s row %d: %d good shards of %d, %d needed: %w", s.id, row, good, s.hdr.K+s.hdr.M, s.hdr.K, ErrCorrupt)
}

// readData copies count data blocks of data shard i from row, verified
// and repaired if needed, into dst (count*BlockSize bytes).
func (s *shardSet) readData(i, row, count int, dst []byte) error {
	rs := int(s.recSize())
	bs := s.hdr.BlockSize
	buf := getBuf(count * rs)
	defer putBuf(buf)
	good := s.readRecords(i, row, count, buf)
	s.blocksRead.Add(int64(count))
	for j := range count {
		if good[j] {
			copy(dst[j*bs:(j+1)*bs], buf[j*rs:j*rs+bs])
			continue
		}
		blocks, _, err := s.repairRow(row + j)
		if err != nil {
			return err
		}
		copy(dst[j*bs:(j+1)*bs], blocks[i])
	}
	return nil
}

// repairRow reads row from every shard, rebuilds the blocks that are bad
// (rewriting them in place when allowed and the shard file exists) and
// returns all the row's blocks and how many were bad.
func (s *shardSet) repairRow(row int) ([][]byte, int, error) {
	s.repairMu.Lock()
	defer s.repairMu.Unlock()
	n := s.hdr.K + s.hdr.M
	bs := s.hdr.BlockSize
	rs := int(s.recSize())
	blocks := make([][]byte, n)
	var bad []int
	for i := range n {
		rec := make([]byte, rs)
		if s.readRecords(i, row, 1, rec)[0] {
			blocks[i] = rec[:bs]
		} else {
			bad = append(bad, i)
		}
	}
	if len(bad) == 0 {
		return blocks, 0, nil
	}
	if n-len(bad) < s.hdr.K {
		return nil, len(bad), s.corruptErr(row, n-len(bad))
	}
	if s.hdr.M == 0 {
		return nil, len(bad), s.corruptErr(row, n-len(bad))
	}
	if err := s.enc.Reconstruct(blocks); err != nil {
		return nil, len(bad), fmt.Errorf("pack %s row %d: %w: %v", s.id, row, ErrCorrupt, err)
	}
	for _, i := range bad {
		s.log.Warn("pack block repaired from parity", "pack", s.id, "shard", i, "row", row)
		if !s.repair {
			continue
		}
		f := s.file(i)
		if f == nil {
			s.warnMissing()
			continue
		}
		rec := make([]byte, rs)
		copy(rec, blocks[i])
		binary.LittleEndian.PutUint32(rec[bs:], crc32c(blocks[i]))
		if _, err := f.WriteAt(rec, s.recOff(row)); err != nil {
			s.log.Warn("pack block rewrite", "pack", s.id, "shard", i, "row", row, "err", err)
			continue
		}
		if err := f.Sync(); err != nil {
			s.log.Warn("pack block rewrite", "pack", s.id, "shard", i, "row", row, "err", err)
		}
	}
	return blocks, len(bad), nil
}

func (s *shardSet) warnMissing() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.warned {
		s.warned = true
		s.log.Warn("pack shard missing: reads rebuild it from parity until a scrub rewrites it", "pack", s.id)
	}
}

// reader returns a reader of content bytes [off, off+n).
func (s *shardSet) reader(off, n int64) *setReader {
	return &setReader{set: s, pos: off, end: off + n}
}

// setReader reads a range of a sealed pack's content, a batch of
// verified blocks at a time.
type setReader struct {
	set      *shardSet
	pos, end int64
	buf      []byte // verified content from bufOff
	bufOff   int64
	advised  int64 // content offset up to which read-ahead was asked
}

// readAheadWindow is how much content a setReader asks the kernel to
// read ahead of the batch it verifies, so that disk reads overlap the
// checksumming and hashing of the bytes before them.
const readAheadWindow = 8 << 20

func (r *setReader) Read(p []byte) (int, error) {
	if r.pos >= r.end {
		return 0, io.EOF
	}
	if r.pos < r.bufOff || r.pos >= r.bufOff+int64(len(r.buf)) {
		if err := r.fill(); err != nil {
			return 0, err
		}
	}
	b := r.buf[r.pos-r.bufOff:]
	b = b[:min(int64(len(b)), r.end-r.pos)]
	n := copy(p, b)
	r.pos += int64(n)
	return n, nil
}

func (r *setReader) fill() error {
	s := r.set
	bs := int64(s.hdr.BlockSize)
	sl := s.shardLen()
	shard := int(r.pos / sl)
	row := int(r.pos % sl / bs)
	start := int64(shard)*sl + int64(row)*bs
	last := min(r.end, int64(shard+1)*sl) // exclusive
	count := int(min((last-start+bs-1)/bs, maxBatch))
	if cap(r.buf) < count*int(bs) {
		r.buf = make([]byte, count*int(bs))
	}
	r.buf = r.buf[:count*int(bs)]
	r.readAhead(start + int64(count)*bs)
	if err := s.readData(shard, row, count, r.buf); err != nil {
		r.buf = r.buf[:0]
		return err
	}
	r.bufOff = start
	return nil
}

// readAhead asks for the window of content from `from` to be read ahead,
// once the reader has consumed half of what it asked for before.
func (r *setReader) readAhead(from int64) {
	if r.advised >= r.end || r.advised > from+readAheadWindow/2 {
		return
	}
	start, end := max(from, r.advised), min(r.end, from+readAheadWindow)
	r.advised = end
	s := r.set
	bs, sl := int64(s.hdr.BlockSize), s.shardLen()
	for start < end {
		shard := int(start / sl)
		stop := min(end, int64(shard+1)*sl)
		first, last := (start%sl)/bs, (stop-int64(shard)*sl+bs-1)/bs
		if f := s.file(shard); f != nil {
			willNeed(f, s.recOff(int(first)), (last-first)*s.recSize())
		}
		start = stop
	}
}

// ReadAt reads content bytes (for the trailer and index).
func (s *shardSet) ReadAt(p []byte, off int64) (int, error) {
	if off >= s.hdr.Length {
		return 0, io.EOF
	}
	n := min(int64(len(p)), s.hdr.Length-off)
	got, err := io.ReadFull(s.reader(off, n), p[:n])
	if err == nil && n < int64(len(p)) {
		err = io.EOF
	}
	return got, err
}

// ScrubStats counts what a scrub of one pack found.
type scrubStats struct {
	blocks        int64 // blocks checked
	repaired      int64 // blocks rewritten from parity
	rebuilt       int   // shard files rebuilt whole
	badRows       []int // rows that could not be rebuilt
	missingShards []int
}

// scrub checks every block of every shard and repairs what parity allows:
// bad blocks are rewritten in place, missing or bad shard files are
// rebuilt whole into a new file. Only used with repair allowed.
func (s *shardSet) scrub(ctx context.Context) (scrubStats, error) {
	var st scrubStats
	n := s.hdr.K + s.hdr.M
	rs := int(s.recSize())
	bs := s.hdr.BlockSize
	// Shards to rebuild whole, written to temporary files.
	rebuild := map[int]*os.File{}
	defer func() {
		for _, f := range rebuild {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	for i := range n {
		if s.file(i) != nil || s.paths[i] == "" {
			continue
		}
		st.missingShards = append(st.missingShards, i)
		if !s.repair || s.hdr.M == 0 {
			continue
		}
		tmp := s.paths[i] + ".tmp"
		f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			s.log.Warn("pack shard rebuild", "pack", s.id, "shard", i, "err", err)
			continue
		}
		h := s.hdr
		h.Index = i
		if _, err := f.Write(h.marshal()); err != nil {
			f.Close()
			s.log.Warn("pack shard rebuild", "pack", s.id, "shard", i, "err", err)
			continue
		}
		rebuild[i] = f
	}
	bufs := make([][]byte, n)
	for i := range bufs {
		bufs[i] = make([]byte, maxBatch*rs)
	}
	goods := make([][]bool, n)
	for row := 0; row < s.hdr.Blocks; row += maxBatch {
		if err := ctx.Err(); err != nil {
			return st, err
		}
		count := min(maxBatch, s.hdr.Blocks-row)
		for i := range n {
			goods[i] = s.readRecords(i, row, count, bufs[i][:count*rs])
		}
		for j := range count {
			st.blocks += int64(n)
			blocks := make([][]byte, n)
			var bad []int
			for i := range n {
				if goods[i][j] {
					blocks[i] = bufs[i][j*rs : j*rs+bs]
				} else {
					bad = append(bad, i)
				}
			}
			if len(bad) > 0 {
				if n-len(bad) < s.hdr.K || s.hdr.M == 0 {
					st.badRows = append(st.badRows, row+j)
					s.log.Error("pack row beyond repair", "pack", s.id, "row", row+j, "good", n-len(bad), "need", s.hdr.K)
					for _, i := range bad {
						if f := rebuild[i]; f != nil {
							// Keep the rebuilt file aligned; the block stays bad.
							f.Write(make([]byte, rs))
						}
					}
					continue
				}
				if err := s.enc.Reconstruct(blocks); err != nil {
					return st, fmt.Errorf("pack %s row %d: %w", s.id, row+j, err)
				}
			}
			for _, i := range bad {
				rec := make([]byte, rs)
				copy(rec, blocks[i])
				binary.LittleEndian.PutUint32(rec[bs:], crc32c(blocks[i]))
				if f := rebuild[i]; f != nil {
					if _, err := f.Write(rec); err != nil {
						return st, fmt.Errorf("rebuild shard %d of pack %s: %w", i, s.id, err)
					}
					continue
				}
				f := s.file(i)
				if f == nil || !s.repair {
					continue
				}
				if _, err := f.WriteAt(rec, s.recOff(row+j)); err != nil {
					return st, fmt.Errorf("repair shard %d of pack %s: %w", i, s.id, err)
				}
				st.repaired++
				s.log.Warn("pack block repaired from parity", "pack", s.id, "shard", i, "row", row+j)
			}
		}
	}
	for i := range n {
		if f := s.file(i); f != nil && st.repaired > 0 {
			if err := f.Sync(); err != nil {
				return st, fmt.Errorf("repair shard %d of pack %s: %w", i, s.id, err)
			}
		}
	}
	for i, f := range rebuild {
		if len(st.badRows) > 0 {
			// A rebuilt file with holes would be taken for a good one.
			continue
		}
		if err := f.Sync(); err != nil {
			return st, fmt.Errorf("rebuild shard %d of pack %s: %w", i, s.id, err)
		}
		if err := os.Rename(f.Name(), s.paths[i]); err != nil {
			return st, fmt.Errorf("rebuild shard %d of pack %s: %w", i, s.id, err)
		}
		f.Close()
		delete(rebuild, i)
		if err := syncDir(filepath.Dir(s.paths[i])); err != nil {
			return st, fmt.Errorf("rebuild shard %d of pack %s: %w", i, s.id, err)
		}
		s.forget(i)
		st.rebuilt++
		s.log.Warn("pack shard rebuilt from parity", "pack", s.id, "shard", i)
	}
	return st, nil
}

var bufPool sync.Pool // of *[]byte

func getBuf(n int) []byte {
	if p, ok := bufPool.Get().(*[]byte); ok && cap(*p) >= n {
		return (*p)[:n]
	}
	return make([]byte, n)
}

func putBuf(b []byte) { bufPool.Put(&b) }

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
