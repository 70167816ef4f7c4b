package pack

import (
	"bytes"
	"database/sql"
	"errors"
	"io"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/firnhq/firn/internal/blob"
)

// TestReadBatch: every blob comes back once with its bytes, whatever the
// order asked; a sealed pack's blocks are each fetched once although
// small objects share them; missing ids and damage beyond parity are
// reported through the reader, never as wrong bytes.
func TestReadBatch(t *testing.T) {
	_, s, objs, files := sealedFixture(t)
	// One more object, still in the open journal.
	journaled := randBytes(3000, 99)
	jid := put(t, s, Label{Bucket: "b", Key: "j"}, journaled)
	want := map[string][]byte{jid: journaled}
	var ids []string
	for _, o := range objs {
		want[o.id] = o.data
		ids = append(ids, o.id)
	}
	ids = append(ids, jid)
	missing := blob.NewID()
	ids = append(ids, missing, "not-an-id")
	rand.New(rand.NewPCG(1, 1)).Shuffle(len(ids), func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })

	se := sealedSet(t, s, objs[0].id)
	before := se.blocksRead.Load()
	seen := map[string]int{}
	err := s.ReadBatch(t.Context(), ids, func(id string, r io.Reader) error {
		seen[id]++
		got, err := io.ReadAll(r)
		switch id {
		case missing, "not-an-id":
			if !errors.Is(err, blob.ErrNotFound) {
				t.Errorf("%s: got %v, want ErrNotFound", id, err)
			}
		default:
			if err != nil || !bytes.Equal(got, want[id]) {
				t.Errorf("%s: %d bytes, %v; want %d bytes", id, len(got), err, len(want[id]))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if seen[id] != 1 {
			t.Errorf("%s read %d times, want once", id, seen[id])
		}
	}
	blocks := int64(se.hdr.Blocks) * int64(se.hdr.K)
	if got := se.blocksRead.Load() - before; got > blocks {
		t.Errorf("batch fetched %d data blocks of a pack that has %d", got, blocks)
	}

	// An fn error stops the batch.
	stop := errors.New("stop")
	calls := 0
	if err := s.ReadBatch(t.Context(), ids, func(string, io.Reader) error { calls++; return stop }); !errors.Is(err, stop) || calls != 1 {
		t.Errorf("fn error: got %v after %d calls, want stop after 1", err, calls)
	}

	// Three of six shards damaged: beyond parity.
	for i := range 3 {
		damage(t, files[i], shardHeaderSize+10, 4000)
	}
	evictSets(s)
	var corrupt int
	err = s.ReadBatch(t.Context(), []string{objs[0].id, objs[1].id}, func(id string, r io.Reader) error {
		got, err := io.ReadAll(r)
		if err == nil && !bytes.Equal(got, want[id]) {
			t.Errorf("%s: wrong bytes served without an error", id)
		}
		if errors.Is(err, blob.ErrCorrupt) {
			corrupt++
		}
		return nil
	})
	if err != nil || corrupt == 0 {
		t.Errorf("damage beyond parity: err %v, %d objects reported corrupt; want at least one", err, corrupt)
	}
}

// sealedSet returns the open shard set of the pack holding id.
func sealedSet(t *testing.T, s *Store, id string) *shardSet {
	t.Helper()
	_, pack, err := s.idx.lookup(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	src, err := s.source(t.Context(), pack)
	if err != nil || src.journal {
		t.Fatalf("source of %s: %v (journal %v)", pack, err, src != nil && src.journal)
	}
	defer src.release()
	return src.set
}

// evictSets closes the idle open shard sets, so the next read opens the
// files afresh.
func evictSets(s *Store) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, se := range s.sets {
		if se.refs == 0 {
			se.set.close()
			delete(s.sets, id)
		}
	}
}

// TestIndexMigration: an index made before labels named parts gains the
// columns on open, and keeps its rows.
func TestIndexMigration(t *testing.T) {
	path := filepath.Join(t.TempDir(), "index.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(schema); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO objects (id, pack, off, comp, flags, size, stored, committed, sha256, crc, bucket, key, version)
		VALUES ('0123456789abcdef0123456789abcdef', 'p', 32, 0, 0, 5, 5, 1, x'00', 0, 'b', 'k', '')`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	x, err := openIndex(path)
	if err != nil {
		t.Fatalf("openIndex of an old index: %v", err)
	}
	defer x.close()
	e, pack, err := x.lookup(t.Context(), "0123456789abcdef0123456789abcdef")
	if err != nil || pack != "p" || e.Label.Key != "k" || e.Label.PartNumber != 0 {
		t.Errorf("lookup after migration: %+v in %q, %v", e, pack, err)
	}
}
