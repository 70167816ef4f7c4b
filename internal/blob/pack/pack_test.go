package pack

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/firnhq/firn/internal/blob"
	"github.com/firnhq/firn/internal/blob/blobtest"
	"github.com/firnhq/firn/internal/clock"
)

// testConfig is a store in a temporary directory with six archive
// directories, 4+2 shards and small packs and blocks.
func testConfig(t testing.TB) Config {
	t.Helper()
	root := t.TempDir()
	var dirs []string
	for i := range 6 {
		dirs = append(dirs, filepath.Join(root, fmt.Sprintf("disk%d", i)))
	}
	return Config{
		StateDir:  filepath.Join(root, "state"),
		Dirs:      dirs,
		PackSize:  256 << 10,
		BlockSize: 4 << 10,
	}
}

func openStore(t testing.TB, cfg Config) *Store {
	t.Helper()
	s, err := Open(cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Store { return openStore(t, testConfig(t)) })
}

// TestConformanceSealed runs the suite with packs so small that nearly
// every object is sealed as soon as it is committed.
func TestConformanceSealed(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Store {
		cfg := testConfig(t)
		cfg.PackSize = 1
		cfg.BlockSize = 256
		return openStore(t, cfg)
	})
}

func randBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// textBytes is compressible.
func textBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed))
	words := []string{"glacier ", "firn ", "snow ", "ice ", "archive ", "pack ", "shard ", "parity "}
	var b bytes.Buffer
	for b.Len() < n {
		b.WriteString(words[r.IntN(len(words))])
	}
	return b.Bytes()[:n]
}

func put(t testing.TB, s *Store, label Label, data []byte) string {
	t.Helper()
	w, err := s.CreateLabeled(context.Background(), label)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	return w.ID()
}

func get(s *Store, id string, off, n int64) ([]byte, error) {
	r, err := s.Open(context.Background(), id, off, n)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(r)
}

func mustGet(t testing.TB, s *Store, id string, want []byte) {
	t.Helper()
	got, err := get(s, id, 0, -1)
	if err != nil {
		t.Fatalf("read %s: %v", id, err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("read %s: got %d bytes, want %d (equal: %v)", id, len(got), len(want), bytes.Equal(got, want))
	}
}

// shardFiles returns the shard files in the archive dirs, sorted.
func shardFiles(t testing.TB, cfg Config) []string {
	t.Helper()
	var files []string
	for _, d := range cfg.Dirs {
		m, err := filepath.Glob(filepath.Join(d, "*.shard"))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	slices.Sort(files)
	return files
}

type object struct {
	id   string
	data []byte
}

// TestRoundTripAcrossSeal: objects read back the same from the journal,
// after sealing, and after reopening, compressible or not.
func TestRoundTripAcrossSeal(t *testing.T) {
	cfg := testConfig(t)
	s := openStore(t, cfg)
	var objs []object
	var text []bool
	sizes := []int{0, 1, 100, 4095, 4096, 4097, 70000, 300000, 2 << 20}
	for i, n := range sizes {
		objs = append(objs, object{data: randBytes(n, uint64(i))}, object{data: textBytes(n, uint64(i))})
		text = append(text, false, true)
	}
	for i := range objs {
		objs[i].id = put(t, s, Label{Bucket: "b", Key: fmt.Sprintf("k%d", i)}, objs[i].data)
	}
	check := func(when string) {
		t.Helper()
		for _, o := range objs {
			got, err := get(s, o.id, 0, -1)
			if err != nil || !bytes.Equal(got, o.data) {
				t.Fatalf("%s: object of %d bytes: got (%d bytes, %v)", when, len(o.data), len(got), err)
			}
			if len(o.data) > 10 {
				off, n := int64(len(o.data)/3), int64(len(o.data)/3)
				got, err := get(s, o.id, off, n)
				if err != nil || !bytes.Equal(got, o.data[off:off+n]) {
					t.Fatalf("%s: range of an object of %d bytes: got (%d bytes, %v)", when, len(o.data), len(got), err)
				}
			}
		}
	}
	check("before sealing")
	if err := s.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	if files := shardFiles(t, cfg); len(files) == 0 || len(files)%6 != 0 {
		t.Fatalf("after Flush: %d shard files, want a non-zero multiple of 6", len(files))
	}
	check("after sealing")
	s.Close()
	s = openStore(t, cfg)
	check("after reopening")

	// Compression where it pays.
	for i, o := range objs {
		e, err := s.Stat(t.Context(), o.id)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case len(o.data) >= 4096 && !text[i] && e.Compression != None:
			t.Errorf("random object of %d bytes: stored %v (%d bytes), want uncompressed", len(o.data), e.Compression, e.StoredSize)
		case len(o.data) >= 4096 && text[i] && e.Compression != Zstd:
			t.Errorf("text object of %d bytes: stored %v (%d bytes), want zstd", len(o.data), e.Compression, e.StoredSize)
		}
	}
}

// TestColdReads: Create, Commit (until a seal), Stat, Walk and Delete do
// not touch the archive dirs, and a read opens only the shard that holds
// the object.
func TestColdReads(t *testing.T) {
	cfg := testConfig(t)
	cfg.PackSize = 1 << 30
	s := openStore(t, cfg)
	var ids []string
	for i := range 40 {
		ids = append(ids, put(t, s, Label{}, randBytes(10000, uint64(i))))
	}
	id, other := ids[15], ids[16]
	if err := s.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	// Make every archive dir unreadable to this process... by moving it
	// away: index operations must not notice.
	for _, d := range cfg.Dirs {
		if err := os.Rename(d, d+".away"); err != nil {
			t.Fatal(err)
		}
	}
	put(t, s, Label{}, []byte("new"))
	if _, err := s.Stat(t.Context(), id); err != nil {
		t.Errorf("Stat with the archive away: %v", err)
	}
	if err := s.Delete(t.Context(), other); err != nil {
		t.Errorf("Delete with the archive away: %v", err)
	}
	n := 0
	if err := s.Walk(t.Context(), func(string, time.Time) error { n++; return nil }); err != nil || n != 40 {
		t.Errorf("Walk with the archive away: got (%d, %v), want (40, nil)", n, err)
	}
	for _, d := range cfg.Dirs {
		if err := os.Rename(d+".away", d); err != nil {
			t.Fatal(err)
		}
	}
	mustGet(t, s, id, randBytes(10000, 15))
	src, err := s.source(t.Context(), mustPack(t, s, id))
	if err != nil {
		t.Fatal(err)
	}
	defer src.release()
	opened := 0
	for _, st := range src.set.state {
		if st != shardUnopened {
			opened++
		}
	}
	e, _ := s.Stat(t.Context(), id)
	sl := src.set.shardLen()
	spanned := int((e.DataOffset()+e.StoredSize-1)/sl - e.DataOffset()/sl + 1)
	if opened != spanned {
		t.Errorf("reading one object opened %d shard files, want the %d it spans", opened, spanned)
	}
}

func mustPack(t testing.TB, s *Store, id string) string {
	t.Helper()
	_, pack, err := s.idx.lookup(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return pack
}

// damage flips bytes of a shard file past its header.
func damage(t testing.TB, path string, at int64, n int) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, n)
	if _, err := f.ReadAt(b, at); err != nil {
		t.Fatal(err)
	}
	for i := range b {
		b[i] ^= 0x5a
	}
	if _, err := f.WriteAt(b, at); err != nil {
		t.Fatal(err)
	}
}

// sealedFixture is a store with one sealed pack of several objects.
func sealedFixture(t *testing.T) (Config, *Store, []object, []string) {
	t.Helper()
	cfg := testConfig(t)
	cfg.PackSize = 1 << 30
	s := openStore(t, cfg)
	var objs []object
	for i := range 20 {
		data := randBytes(5000+i*1000, uint64(i))
		if i%2 == 1 {
			data = textBytes(20000, uint64(i))
		}
		objs = append(objs, object{id: put(t, s, Label{Bucket: "b", Key: fmt.Sprint(i)}, data), data: data})
	}
	if err := s.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	files := shardFiles(t, cfg)
	if len(files) != 6 {
		t.Fatalf("got %d shard files, want 6", len(files))
	}
	// Order by shard index (the name ends -NN.shard).
	slices.SortFunc(files, func(a, b string) int { return strings.Compare(a[len(a)-8:], b[len(b)-8:]) })
	return cfg, s, objs, files
}

func checkAll(t *testing.T, s *Store, objs []object) {
	t.Helper()
	for _, o := range objs {
		mustGet(t, s, o.id, o.data)
	}
}

// TestCorruptionRepairedOnRead: flipped bytes in one shard are found by
// the block CRCs, the right bytes come from parity and the block is
// rewritten.
func TestCorruptionRepairedOnRead(t *testing.T) {
	_, s, objs, files := sealedFixture(t)
	// One damaged block in each shard, each in a different row.
	rec := int64(4<<10 + 4)
	for i := range 6 {
		damage(t, files[i], shardHeaderSize+int64(i)*rec+10, 50)
	}
	before, _ := os.ReadFile(files[0])
	checkAll(t, s, objs)
	after, _ := os.ReadFile(files[0])
	if bytes.Equal(before, after) {
		t.Errorf("read of a damaged block: the block was not rewritten")
	}
	// Reads repaired the data blocks they read; scrub finds the rest.
	rep, err := s.Scrub(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if rep.BlocksRepaired < 2 || rep.BlocksRepaired > 6 || len(rep.Unrecoverable) != 0 {
		t.Errorf("scrub after read repair: got %+v, want 2 to 6 blocks repaired (at least the parity shards), none unrecoverable", rep)
	}
	rep, err = s.Scrub(t.Context())
	if err != nil || rep.BlocksRepaired != 0 {
		t.Errorf("second scrub: got (%+v, %v), want nothing repaired", rep, err)
	}
}

// TestScrubRepairs: scrub finds and rewrites damage in any shard,
// rebuilds a missing shard file, and a second scrub finds nothing.
func TestScrubRepairs(t *testing.T) {
	_, s, objs, files := sealedFixture(t)
	damage(t, files[1], shardHeaderSize+3, 7)
	damage(t, files[5], shardHeaderSize+int64(4<<10)+4+100, 1)
	if err := os.Remove(files[3]); err != nil {
		t.Fatal(err)
	}
	rep, err := s.Scrub(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Packs != 1 || rep.BlocksRepaired != 2 || rep.ShardsRebuilt != 1 || len(rep.Unrecoverable) != 0 || rep.Objects != len(objs) {
		t.Errorf("scrub: got %+v, want 1 pack, 2 blocks repaired, 1 shard rebuilt, %d objects, none unrecoverable", rep, len(objs))
	}
	if _, err := os.Stat(files[3]); err != nil {
		t.Errorf("missing shard after scrub: %v", err)
	}
	rep, err = s.Scrub(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if rep.BlocksRepaired != 0 || rep.ShardsRebuilt != 0 || len(rep.Unrecoverable) != 0 {
		t.Errorf("second scrub: got %+v, want nothing to repair", rep)
	}
	checkAll(t, s, objs)
}

// TestMissingShardRead: a deleted shard file is rebuilt in memory on
// read, and by scrub on disk.
func TestMissingShardRead(t *testing.T) {
	cfg, s, objs, files := sealedFixture(t)
	s.Close()
	for _, i := range []int{0, 2} {
		if err := os.Remove(files[i]); err != nil {
			t.Fatal(err)
		}
	}
	s = openStore(t, cfg)
	checkAll(t, s, objs)
	rep, err := s.Scrub(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if rep.ShardsRebuilt != 2 {
		t.Errorf("scrub: got %+v, want 2 shards rebuilt", rep)
	}
	// Now the other two may go.
	s.Close()
	for _, i := range []int{1, 3} {
		if err := os.Remove(files[i]); err != nil {
			t.Fatal(err)
		}
	}
	s = openStore(t, cfg)
	checkAll(t, s, objs)
}

// TestDamageBeyondParity: with three of six shards damaged in the same
// rows, reads of the objects there fail with ErrCorrupt and never return
// wrong bytes; scrub reports them.
func TestDamageBeyondParity(t *testing.T) {
	_, s, objs, files := sealedFixture(t)
	for _, i := range []int{0, 4, 5} {
		damage(t, files[i], shardHeaderSize, 3*(4<<10))
	}
	bad := 0
	for _, o := range objs {
		got, err := get(s, o.id, 0, -1)
		switch {
		case errors.Is(err, ErrCorrupt):
			bad++
		case err != nil:
			t.Errorf("read %s: got %v, want nil or ErrCorrupt", o.id, err)
		case !bytes.Equal(got, o.data):
			t.Fatalf("read %s: wrong bytes returned without an error", o.id)
		}
		// Ranges too.
		got, err = get(s, o.id, 10, 100)
		if err == nil && !bytes.Equal(got, o.data[10:110]) {
			t.Fatalf("range of %s: wrong bytes returned without an error", o.id)
		}
	}
	if bad == 0 {
		t.Fatal("no read failed with ErrCorrupt")
	}
	rep, err := s.Scrub(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Unrecoverable) != bad {
		t.Errorf("scrub: got %d unrecoverable objects, want %d", len(rep.Unrecoverable), bad)
	}
}

// TestCorruptJournal: damage in the open journal is caught by the
// object's SHA-256, for whole reads and ranges.
func TestCorruptJournal(t *testing.T) {
	cfg := testConfig(t)
	cfg.PackSize = 1 << 30
	s := openStore(t, cfg)
	data := randBytes(10000, 1)
	id := put(t, s, Label{}, data)
	e, err := s.Stat(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	damage(t, s.journalPath(mustPack(t, s, id)), e.DataOffset()+5000, 1)
	if _, err := get(s, id, 0, -1); !errors.Is(err, ErrCorrupt) {
		t.Errorf("read of a damaged object in the journal: got %v, want ErrCorrupt", err)
	}
	if _, err := get(s, id, 0, 10); !errors.Is(err, ErrCorrupt) {
		t.Errorf("range read of a damaged object in the journal: got %v, want ErrCorrupt", err)
	}
}

// TestCompaction: deleted objects are reclaimed from packs below the
// live ratio once old enough, or when forced; ids stay valid.
func TestCompaction(t *testing.T) {
	cfg := testConfig(t)
	cfg.PackSize = 64 << 10
	clk := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	cfg.Clock = clk
	s := openStore(t, cfg)
	var objs []object
	for i := range 40 {
		data := randBytes(6000, uint64(i))
		objs = append(objs, object{id: put(t, s, Label{Key: fmt.Sprint(i)}, data), data: data})
	}
	if err := s.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	packsBefore := len(shardFiles(t, cfg)) / 6
	if packsBefore < 3 {
		t.Fatalf("%d packs, want at least 3", packsBefore)
	}
	// Delete three in four.
	var live []object
	for i, o := range objs {
		if i%4 != 0 {
			if err := s.Delete(t.Context(), o.id); err != nil {
				t.Fatal(err)
			}
			continue
		}
		live = append(live, o)
	}
	opt := CompactOptions{LiveRatio: 0.5, MinAge: 90 * 24 * time.Hour}
	rep, err := s.Compact(t.Context(), opt)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Packs != 0 {
		t.Errorf("compaction before the minimum age: got %+v, want nothing done", rep)
	}
	clk.Advance(91 * 24 * time.Hour)
	rep, err = s.Compact(t.Context(), opt)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Packs != packsBefore || rep.Objects != len(live) {
		t.Errorf("compaction: got %+v, want %d packs and %d objects", rep, packsBefore, len(live))
	}
	checkAll(t, s, live)
	if err := s.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	checkAll(t, s, live)
	if got := len(shardFiles(t, cfg)) / 6; got >= packsBefore {
		t.Errorf("after compaction: %d packs, want fewer than %d", got, packsBefore)
	}
	for _, o := range objs[1:4] {
		if _, err := get(s, o.id, 0, -1); !errors.Is(err, blob.ErrNotFound) {
			t.Errorf("deleted object after compaction: got %v, want ErrNotFound", err)
		}
	}
	// Force ignores the age.
	for _, o := range live[1:] {
		s.Delete(t.Context(), o.id)
	}
	rep, err = s.Compact(t.Context(), CompactOptions{LiveRatio: 0.5, MinAge: 1000 * time.Hour, Force: true})
	if err != nil || rep.Packs == 0 {
		t.Errorf("forced compaction: got (%+v, %v), want packs rewritten", rep, err)
	}
	s.Flush(t.Context())
	mustGet(t, s, live[0].id, live[0].data)
	s.Close()
	s = openStore(t, cfg)
	mustGet(t, s, live[0].id, live[0].data)
	if ids := walkIDs(t, s); !slices.Equal(ids, []string{live[0].id}) {
		t.Errorf("Walk after compactions: got %q, want [%q]", ids, live[0].id)
	}
}

func walkIDs(t testing.TB, s *Store) []string {
	t.Helper()
	var ids []string
	if err := s.Walk(context.Background(), func(id string, _ time.Time) error { ids = append(ids, id); return nil }); err != nil {
		t.Fatal(err)
	}
	slices.Sort(ids)
	return ids
}

var errCrash = errors.New("simulated crash")

// TestCrashDuringSeal stops sealing at each step as a crash would, then
// reopens the store: every committed object reads back, from the journal
// or the shards, and the next seal completes.
func TestCrashDuringSeal(t *testing.T) {
	for _, step := range []string{"seal:index", "seal:written", "seal:renamed", "seal:indexed"} {
		t.Run(step, func(t *testing.T) {
			cfg := testConfig(t)
			cfg.PackSize = 1 << 30
			s, err := Open(cfg)
			if err != nil {
				t.Fatal(err)
			}
			s.hook = func(name string) error {
				if name == step {
					return errCrash
				}
				return nil
			}
			var objs []object
			for i := range 10 {
				data := randBytes(3000*i, uint64(i))
				objs = append(objs, object{id: put(t, s, Label{}, data), data: data})
			}
			deleted := objs[0]
			s.Delete(t.Context(), deleted.id)
			objs = objs[1:]
			if err := s.Flush(t.Context()); !errors.Is(err, errCrash) {
				t.Fatalf("Flush: got %v, want the simulated crash", err)
			}
			s.Close()
			s = openStore(t, cfg)
			checkAll(t, s, objs)
			if _, err := get(s, deleted.id, 0, -1); !errors.Is(err, blob.ErrNotFound) {
				t.Errorf("deleted object after the crash: got %v, want ErrNotFound", err)
			}
			if err := s.Flush(t.Context()); err != nil {
				t.Fatal(err)
			}
			checkAll(t, s, objs)
			if n := len(shardFiles(t, cfg)); n != 6 {
				t.Errorf("after the crash and a new seal: %d shard files, want 6", n)
			}
			for _, d := range cfg.Dirs {
				if tmp, _ := filepath.Glob(filepath.Join(d, "*.tmp")); len(tmp) > 0 {
					t.Errorf("left over: %q", tmp)
				}
			}
			ents, _ := os.ReadDir(s.jdir)
			if len(ents) != 1 {
				t.Errorf("journals after the seal: %d, want 1 (the new open one)", len(ents))
			}
		})
	}
}

// TestCrashDuringCompaction: a compaction stopped after copying, or
// after pointing the index at the copies, leaves every object readable
// and deleted ones deleted, across restarts.
func TestCrashDuringCompaction(t *testing.T) {
	for _, step := range []string{"compact:copied", "compact:moved"} {
		t.Run(step, func(t *testing.T) {
			cfg := testConfig(t)
			cfg.PackSize = 1 << 30
			s, err := Open(cfg)
			if err != nil {
				t.Fatal(err)
			}
			var objs []object
			for i := range 10 {
				data := randBytes(3000, uint64(i))
				objs = append(objs, object{id: put(t, s, Label{}, data), data: data})
			}
			if err := s.Flush(t.Context()); err != nil {
				t.Fatal(err)
			}
			for _, o := range objs[:8] {
				s.Delete(t.Context(), o.id)
			}
			live := objs[8:]
			s.hook = func(name string) error {
				if name == step {
					return errCrash
				}
				return nil
			}
			if _, err := s.Compact(t.Context(), CompactOptions{LiveRatio: 0.5, Force: true}); !errors.Is(err, errCrash) {
				t.Fatalf("Compact: got %v, want the simulated crash", err)
			}
			s.Close()
			s = openStore(t, cfg)
			checkAll(t, s, live)
			if ids := walkIDs(t, s); len(ids) != 2 {
				t.Errorf("Walk after the crash: %d ids, want 2", len(ids))
			}
			// Compaction can run again; a deleted object never comes back.
			if _, err := s.Compact(t.Context(), CompactOptions{LiveRatio: 0.5, Force: true}); err != nil {
				t.Fatal(err)
			}
			s.Delete(t.Context(), live[0].id)
			s.Close()
			s = openStore(t, cfg)
			if ids := walkIDs(t, s); !slices.Equal(ids, []string{live[1].id}) {
				t.Errorf("Walk: got %q, want [%q]", ids, live[1].id)
			}
			if err := s.Flush(t.Context()); err != nil {
				t.Fatal(err)
			}
			mustGet(t, s, live[1].id, live[1].data)
		})
	}
}

// TestTornJournal: bytes of an unacknowledged frame at the end of the
// journal are cut off on Open.
func TestTornJournal(t *testing.T) {
	cfg := testConfig(t)
	cfg.PackSize = 1 << 30
	s := openStore(t, cfg)
	data := randBytes(5000, 1)
	id := put(t, s, Label{}, data)
	path := s.journalPath(mustPack(t, s, id))
	s.Close()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	e := Entry{ID: blob.NewID(), Size: 100, StoredSize: 100}
	f.Write(appendFrameHeader(nil, &e))
	f.Write(make([]byte, 40)) // torn payload
	f.Close()
	before, _ := os.Stat(path)
	s = openStore(t, cfg)
	after, _ := os.Stat(path)
	if after.Size() >= before.Size() {
		t.Errorf("journal of %d bytes after Open, want it cut back from %d", after.Size(), before.Size())
	}
	mustGet(t, s, id, data)
	id2 := put(t, s, Label{}, []byte("after"))
	if err := s.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	mustGet(t, s, id, data)
	mustGet(t, s, id2, []byte("after"))
}

func TestLabelLimits(t *testing.T) {
	s := openStore(t, testConfig(t))
	if _, err := s.CreateLabeled(t.Context(), Label{Key: strings.Repeat("k", maxLabelField+1)}); err == nil {
		t.Error("CreateLabeled with a key of 64 KiB: got nil error, want one")
	}
}

func TestConfig(t *testing.T) {
	cfg := testConfig(t)
	cfg.DataShards, cfg.ParityShards = 200, 100
	if _, err := Open(cfg); err == nil {
		t.Error("Open with 300 shards: got nil error")
	}
	cfg = testConfig(t)
	cfg.Dirs = cfg.Dirs[:2]
	s := openStore(t, cfg)
	data := randBytes(100000, 3)
	id := put(t, s, Label{}, data)
	if err := s.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	mustGet(t, s, id, data)
	if n := len(shardFiles(t, cfg)); n != 6 {
		t.Errorf("2 dirs: %d shard files, want 6", n)
	}
}

// TestCrashDuringDirectCommit: a large object sealed straight into a
// pack of its own leaves nothing when its commit stops before the end,
// and the store goes on.
func TestCrashDuringDirectCommit(t *testing.T) {
	for _, step := range []string{"seal:written", "direct:renamed"} {
		t.Run(step, func(t *testing.T) {
			cfg := testConfig(t)
			cfg.PackSize = 1 << 20
			s, err := Open(cfg)
			if err != nil {
				t.Fatal(err)
			}
			small := randBytes(1000, 1)
			smallID := put(t, s, Label{}, small)
			big := randBytes(3<<20, 2)
			bigID := put(t, s, Label{Key: "big"}, big)
			e, err := s.Stat(t.Context(), bigID)
			if err != nil {
				t.Fatal(err)
			}
			p := mustPack(t, s, bigID)
			s.mu.Lock()
			inJournal := s.journals[p] != nil
			s.mu.Unlock()
			if inJournal || e.Offset != packHeaderSize {
				t.Fatalf("large object: in pack %s at %d, want a sealed pack of its own", p, e.Offset)
			}
			s.hook = func(name string) error {
				if name == step {
					return errCrash
				}
				return nil
			}
			w, _ := s.Create(t.Context())
			w.Write(randBytes(2<<20, 3))
			if err := w.Commit(t.Context()); !errors.Is(err, errCrash) {
				t.Fatalf("Commit: got %v, want the simulated crash", err)
			}
			lost := w.ID()
			s.Close()
			s = openStore(t, cfg)
			mustGet(t, s, smallID, small)
			mustGet(t, s, bigID, big)
			if _, err := get(s, lost, 0, -1); !errors.Is(err, blob.ErrNotFound) {
				t.Errorf("object whose commit stopped: got %v, want ErrNotFound", err)
			}
			if n := len(shardFiles(t, cfg)); n != 6 {
				t.Errorf("%d shard files, want the 6 of the large object", n)
			}
			again := put(t, s, Label{}, big)
			mustGet(t, s, again, big)
			if err := s.Flush(t.Context()); err != nil {
				t.Fatal(err)
			}
			mustGet(t, s, smallID, small)
		})
	}
}

// TestSpilledThroughJournal: objects past the in-memory limit but below
// PackSize/4 go through the journal, compressed or not, and read back
// across a seal; a large object takes a pack of its own.
func TestSpilledThroughJournal(t *testing.T) {
	cfg := testConfig(t)
	cfg.PackSize = 64 << 20
	s := openStore(t, cfg)
	objs := []object{{data: randBytes(3<<20, 1)}, {data: textBytes(3<<20, 2)}, {data: randBytes(17<<20, 3)}}
	for i := range objs {
		objs[i].id = put(t, s, Label{}, objs[i].data)
	}
	for i, want := range []struct {
		comp    Compression
		journal bool
	}{{None, true}, {Zstd, true}, {None, false}} {
		e, err := s.Stat(t.Context(), objs[i].id)
		if err != nil {
			t.Fatal(err)
		}
		s.mu.Lock()
		inJournal := s.journals[mustPack(t, s, objs[i].id)] != nil
		s.mu.Unlock()
		if e.Compression != want.comp || inJournal != want.journal {
			t.Errorf("object %d: stored %v, in the journal %v; want %v, %v", i, e.Compression, inJournal, want.comp, want.journal)
		}
	}
	checkAll(t, s, objs)
	if err := s.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	checkAll(t, s, objs)
}
