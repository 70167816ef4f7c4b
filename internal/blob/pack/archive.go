package pack

import (
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Archive is a read-only view of the sealed packs found in a set of
// archive directories, read without the server or its index: what
// `firn pack ls` and `firn pack extract` use. It never writes to the
// directories; damaged or missing shards are rebuilt in memory.
type Archive struct {
	Packs []*ArchivePack
}

// ArchivePack is one pack of an Archive.
type ArchivePack struct {
	ID           string
	DataShards   int
	ParityShards int
	Length       int64 // bytes of content
	Sealed       time.Time
	ShardsFound  int     // shard files found with a good header
	Entries      []Entry // the objects, in pack order
	// Err is why the pack's index could not be read; Entries then come
	// from scanning the frames, as far as they are readable.
	Err error

	set *shardSet
}

// OpenArchive finds the shard files under dirs (searched recursively)
// and reads each pack's index.
func OpenArchive(dirs []string, log *slog.Logger) (*Archive, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	type found struct {
		hdr   shardHeader
		paths []string
		count int
	}
	packs := map[[16]byte]*found{}
	readable := 0
	for _, dir := range dirs {
		if _, err := os.Stat(dir); err != nil {
			// A lost disk is what parity is for.
			log.Warn("archive dir unreadable", "dir", dir, "err", err)
			continue
		}
		readable++
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				log.Warn("archive dir partly unreadable", "path", path, "err", err)
				return nil
			}
			if d.IsDir() || !strings.HasSuffix(path, ".shard") || !d.Type().IsRegular() {
				return nil
			}
			h, err := readShardHeader(path)
			if err != nil {
				log.Warn("not a usable shard", "path", path, "err", err)
				return nil
			}
			p := packs[h.PackID]
			if p == nil {
				p = &found{hdr: h, paths: make([]string, h.K+h.M)}
				packs[h.PackID] = p
			}
			if !p.hdr.sameLayout(&h) {
				log.Warn("shard disagrees with the other shards of its pack", "path", path)
				return nil
			}
			if p.paths[h.Index] == "" {
				p.paths[h.Index] = path
				p.count++
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("scan %s: %w", dir, err)
		}
	}
	if readable == 0 {
		return nil, fmt.Errorf("no readable archive dir among %q", dirs)
	}
	a := &Archive{}
	for _, f := range packs {
		set, err := newShardSet(f.hdr, f.paths, false, log)
		if err != nil {
			return nil, err
		}
		p := &ArchivePack{
			ID:           set.id,
			DataShards:   f.hdr.K,
			ParityShards: f.hdr.M,
			Length:       f.hdr.Length,
			Sealed:       f.hdr.Sealed,
			ShardsFound:  f.count,
			set:          set,
		}
		p.Entries, p.Err = readIndex(set)
		if p.Err != nil {
			log.Warn("pack index unreadable; scanning frames", "pack", p.ID, "err", p.Err)
			p.Entries = nil
			scanFrames(set, packHeaderSize, func(e Entry) error {
				p.Entries = append(p.Entries, e)
				return nil
			})
		}
		a.Packs = append(a.Packs, p)
	}
	slices.SortFunc(a.Packs, func(x, y *ArchivePack) int {
		if c := x.Sealed.Compare(y.Sealed); c != 0 {
			return c
		}
		return strings.Compare(x.ID, y.ID)
	})
	return a, nil
}

func readShardHeader(path string) (shardHeader, error) {
	f, err := os.Open(path)
	if err != nil {
		return shardHeader{}, err
	}
	defer f.Close()
	var b [shardHeaderSize]byte
	if _, err := io.ReadFull(f, b[:]); err != nil {
		return shardHeader{}, err
	}
	return parseShardHeader(b[:])
}

// readIndex reads a sealed pack's header, trailer and index.
func readIndex(r *shardSet) ([]Entry, error) {
	length := r.hdr.Length
	var ph [packHeaderSize]byte
	if _, err := r.ReadAt(ph[:], 0); err != nil {
		return nil, err
	}
	if id, err := parsePackHeader(ph[:]); err != nil {
		return nil, err
	} else if id != r.hdr.PackID {
		return nil, formatErr("pack header names pack %x", id)
	}
	var tb [trailerSize]byte
	if _, err := r.ReadAt(tb[:], length-trailerSize); err != nil {
		return nil, err
	}
	t, err := parseTrailer(tb[:], length)
	if err != nil {
		return nil, err
	}
	b := make([]byte, t.indexLen)
	if _, err := r.ReadAt(b, t.indexOff); err != nil {
		return nil, err
	}
	return parseIndex(b, t.indexCRC, t.indexOff)
}

// Open returns a reader of e's bytes, checked against its SHA-256 (a
// failed check makes Read return an error wrapping ErrCorrupt).
func (p *ArchivePack) Open(e *Entry) (io.ReadCloser, error) {
	if e.DataOffset()+e.StoredSize > p.Length {
		return nil, fmt.Errorf("object %s beyond the end of pack %s: %w", e.ID, p.ID, ErrCorrupt)
	}
	return newObjectReader(e, &source{set: p.set, release: func() {}}, 0, -1)
}

// Close releases the archive's files.
func (a *Archive) Close() error {
	for _, p := range a.Packs {
		p.set.close()
	}
	return nil
}
