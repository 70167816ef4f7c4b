package backup

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/firnhq/firn/internal/backup/backend/mem"
	"github.com/firnhq/firn/internal/backup/backuptest"
	"github.com/firnhq/firn/internal/backup/repo"
)

var smallChunks = &[3]int{4 << 10, 64 << 10, 14}

type fixture struct {
	be    *mem.Backend
	r     *repo.Repository
	cache string
}

func newFixture(t *testing.T, class string) *fixture {
	t.Helper()
	ctx := context.Background()
	be := mem.New()
	if _, err := repo.Init(ctx, be, []byte("pw"), repo.InitOptions{PackSize: 128 << 10, DataStorageClass: class,
		KDF: repo.KDFParams{N: 1024, R: 8, P: 1}}); err != nil {
		t.Fatal(err)
	}
	f := &fixture{be: be, cache: t.TempDir()}
	f.reopen(t)
	return f
}

// reopen opens the repository afresh, as the next command would.
func (f *fixture) reopen(t *testing.T) {
	t.Helper()
	r, err := repo.Open(context.Background(), f.be, []byte("pw"), repo.OpenOptions{CacheDir: f.cache})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.LoadIndex(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.r = r
}

func (f *fixture) run(t *testing.T, o RunOptions) *repo.Snapshot {
	t.Helper()
	f.reopen(t)
	o.ChunkSizes = smallChunks
	if o.Host == "" {
		o.Host = "testhost"
	}
	sn, err := Run(context.Background(), f.r, o)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return sn
}

// subtreeOf returns the id of the tree of directory path in sn.
func subtreeOf(t *testing.T, r *repo.Repository, sn *repo.Snapshot, path string) repo.ID {
	t.Helper()
	id := sn.Tree
	for _, c := range strings.Split(strings.Trim(filepath.ToSlash(path), "/"), "/") {
		tr, err := r.LoadTree(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		n := tr.Find(c)
		if n == nil || n.Subtree == nil {
			t.Fatalf("snapshot %s has no directory %s", sn.ID.Short(), path)
		}
		id = *n.Subtree
	}
	return id
}

func TestRunRestoreRoundTrip(t *testing.T) {
	ctx := context.Background()
	src := filepath.Join(t.TempDir(), "src")
	backuptest.MakeTree(t, src)
	f := newFixture(t, "")
	sn := f.run(t, RunOptions{Paths: []string{src}, Type: repo.TypeFull, Tags: []string{"t1"}, Excludes: []string{"*.tmp"}})
	st := sn.Stats
	if st.Files != 7 || st.FilesNew != 7 || st.BytesRead != st.BytesTotal || sn.Type != repo.TypeFull || sn.Parent != nil {
		t.Errorf("first run: type %s, stats %+v", sn.Type, st)
	}
	if st.BytesNew >= st.BytesTotal-250<<10 {
		t.Errorf("first run stored %d of %d bytes: the copy of big.bin and the zeros were not deduplicated", st.BytesNew, st.BytesTotal)
	}

	// Nothing changed: an incremental run reads nothing and stores no data.
	sn2 := f.run(t, RunOptions{Paths: []string{src}})
	if sn2.Type != repo.TypeIncremental || sn2.Parent == nil || *sn2.Parent != sn.ID {
		t.Errorf("second run: type %s parent %v, want incremental of %s", sn2.Type, sn2.Parent, sn.ID.Short())
	}
	// The trees of src's ancestors (/tmp among them) may be new: other
	// processes change their mtimes. src's own tree must be the same.
	if sn2.Stats.BytesRead != 0 || sn2.Stats.FilesUnchanged != 7 || sn2.Stats.BytesNew > 2048 ||
		subtreeOf(t, f.r, sn2, src) != subtreeOf(t, f.r, sn, src) {
		t.Errorf("unchanged incremental: %+v, same source tree %v", sn2.Stats, subtreeOf(t, f.r, sn2, src) == subtreeOf(t, f.r, sn, src))
	}

	// One file changes: only it is read; a full run reads all, stores nothing new.
	os.WriteFile(filepath.Join(src, "docs/a.txt"), []byte("hello again\n"), 0o600)
	os.WriteFile(filepath.Join(src, "skip.tmp"), []byte("excluded"), 0o600)
	sn3 := f.run(t, RunOptions{Paths: []string{src}, Excludes: []string{"*.tmp"}})
	if sn3.Stats.FilesChanged != 1 || sn3.Stats.BytesRead != 12 {
		t.Errorf("incremental after one change: %+v", sn3.Stats)
	}
	sn4 := f.run(t, RunOptions{Paths: []string{src}, Type: repo.TypeFull, Excludes: []string{"*.tmp"}})
	// (Only the trees of the directories above src may be new: creating
	// temporary directories beside it changes their mtimes.)
	if sn4.Stats.BytesRead != sn4.Stats.BytesTotal || sn4.Stats.BytesNew > 2048 || sn4.Parent != nil {
		t.Errorf("full run of known data: %+v parent %v", sn4.Stats, sn4.Parent)
	}

	// Restore the newest snapshot: byte-identical to the source.
	os.Remove(filepath.Join(src, "skip.tmp"))
	f.reopen(t)
	target := t.TempDir()
	plan, err := Restore(ctx, f.r, sn4, RestoreOptions{Target: target})
	if err != nil {
		t.Fatalf("Restore: %v", err)
	}
	if plan.Files != 7 {
		t.Errorf("plan: %d files, want 7", plan.Files)
	}
	backuptest.SameTree(t, src, filepath.Join(target, src))

	// --include restores a subset.
	sub := t.TempDir()
	if _, err := Restore(ctx, f.r, sn4, RestoreOptions{Target: sub, Includes: []string{"c.bin", src + "/link"}}); err != nil {
		t.Fatal(err)
	}
	var got []string
	filepath.WalkDir(filepath.Join(sub, src), func(p string, d fs.DirEntry, err error) error {
		if !d.IsDir() {
			rel, _ := filepath.Rel(filepath.Join(sub, src), p)
			got = append(got, rel)
		}
		return nil
	})
	if strings.Join(got, ",") != "docs/deep/er/c.bin,link" {
		t.Errorf("include: restored %v", got)
	}

	res, err := Verify(ctx, f.r, VerifyOptions{ReadData: 1})
	if err != nil || !res.OK() || res.Snapshots != 4 {
		t.Fatalf("Verify: %+v, %v", res, err)
	}
}

func TestStdinCommand(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, "")
	sn := f.run(t, RunOptions{StdinName: "dump.sql", StdinCommand: "printf 'CREATE TABLE t;\\n'; head -c 100000 /dev/zero"})
	if sn.Stats.Files != 1 || sn.Stats.BytesTotal != 100016 {
		t.Errorf("stats %+v", sn.Stats)
	}
	target := t.TempDir()
	if _, err := Restore(ctx, f.r, sn, RestoreOptions{Target: target}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(target, "dump.sql"))
	if err != nil || !bytes.HasPrefix(b, []byte("CREATE TABLE t;\n")) || len(b) != 100016 {
		t.Errorf("restored dump: %d bytes, %v", len(b), err)
	}
	f.reopen(t)
	_, err = Run(ctx, f.r, RunOptions{StdinName: "x", StdinCommand: "echo partial; exit 3", Host: "h"})
	if err == nil || !strings.Contains(err.Error(), "exit status 3") {
		t.Errorf("failing command: got %v, want its exit status", err)
	}
}

// TestTamperDetected: a flipped byte in a data pack fails verify and
// restore; a missing pack fails verify.
func TestTamperDetected(t *testing.T) {
	ctx := context.Background()
	src := t.TempDir()
	os.WriteFile(filepath.Join(src, "f"), backuptest.RandBytes(50<<10, 9), 0o644)
	f := newFixture(t, "")
	sn := f.run(t, RunOptions{Paths: []string{src}})
	var pack string
	for _, n := range f.be.Names() {
		if strings.HasPrefix(n, "data/") {
			pack = n
		}
	}
	f.be.Mutate(pack, func(b []byte) []byte { b[100] ^= 0x40; return b })
	f.reopen(t)
	res, err := Verify(ctx, f.r, VerifyOptions{ReadData: 1})
	if err != nil || res.OK() {
		t.Errorf("verify of a tampered pack: %+v, %v; want errors", res, err)
	}
	if _, err := Restore(ctx, f.r, sn, RestoreOptions{Target: t.TempDir()}); !errors.Is(err, repo.ErrAuth) {
		t.Errorf("restore of a tampered pack: got %v, want ErrAuth", err)
	}
	f.be.Delete(ctx, pack)
	res, _ = Verify(ctx, f.r, VerifyOptions{})
	if res.OK() || !strings.Contains(strings.Join(res.Errors, "\n"), "missing") {
		t.Errorf("verify with a missing pack: %+v", res.Errors)
	}
}

// TestArchivedRestore: with data packs in GLACIER, restore names the
// packs to restore and fails; with a tier it requests the restores,
// polls until they are done and restores byte for byte.
func TestArchivedRestore(t *testing.T) {
	ctx := context.Background()
	src := filepath.Join(t.TempDir(), "src")
	backuptest.MakeTree(t, src)
	f := newFixture(t, "GLACIER")
	f.be.RestoreAfter = 2
	sn := f.run(t, RunOptions{Paths: []string{src}})
	// Listing, planning and an incremental need no restore.
	f.run(t, RunOptions{Paths: []string{src}})
	f.reopen(t)
	_, err := Restore(ctx, f.r, sn, RestoreOptions{Target: t.TempDir()})
	var nr *NeedsRestoreError
	if !errors.As(err, &nr) {
		t.Fatalf("restore of archived packs: got %v, want *NeedsRestoreError", err)
	}
	need := nr.Plan.NeedRestore()
	if len(need) == 0 || len(need) != len(nr.Plan.Packs) || need[0].StorageClass != "GLACIER" || nr.Plan.BytesByClass["GLACIER"] == 0 {
		t.Errorf("plan: %+v", nr.Plan)
	}
	if f.be.Calls("Restore") != 0 {
		t.Error("restore without a tier requested restores")
	}
	res, err := Verify(ctx, f.r, VerifyOptions{ReadData: 1})
	if err != nil || !res.OK() || len(res.SkippedArchived) != len(need) {
		t.Errorf("verify of archived repo: %+v, %v", res, err)
	}
	target := t.TempDir()
	plan, err := Restore(ctx, f.r, sn, RestoreOptions{Target: target, Tier: "Bulk", Days: 2, Poll: time.Millisecond})
	if err != nil {
		t.Fatalf("restore with tier: %v", err)
	}
	if got := f.be.Calls("Restore"); got != len(need) {
		t.Errorf("%d RestoreObject calls, want %d", got, len(need))
	}
	for _, p := range plan.Packs {
		if p.State != PackRestored {
			t.Errorf("pack %s: state %s, want restored", p.Name, p.State)
		}
	}
	backuptest.SameTree(t, src, filepath.Join(target, src))
}

func TestForgetPrune(t *testing.T) {
	ctx := context.Background()
	src := t.TempDir()
	f := newFixture(t, "")
	var sns []*repo.Snapshot
	for i := range 3 {
		os.WriteFile(filepath.Join(src, "f"), backuptest.RandBytes(200<<10, uint64(100+i)), 0o644)
		os.WriteFile(filepath.Join(src, "same"), backuptest.RandBytes(20<<10, 1), 0o644)
		sns = append(sns, f.run(t, RunOptions{Paths: []string{src}}))
	}
	f.reopen(t)
	ds, err := Forget(ctx, f.r, Policy{Last: 1}, nil, true)
	if err != nil || len(ds) != 3 || ds[0].Keep != true || ds[1].Keep || ds[2].Keep {
		t.Fatalf("forget dry run: %v %v", ds, err)
	}
	if all, _ := f.r.Snapshots(ctx); len(all) != 3 {
		t.Errorf("dry run removed snapshots: %d left", len(all))
	}
	if _, err := Forget(ctx, f.r, Policy{}, nil, false); err == nil {
		t.Error("empty policy: no error")
	}
	if _, err := Forget(ctx, f.r, Policy{Last: 1}, nil, false); err != nil {
		t.Fatal(err)
	}
	before := len(f.be.Names())
	res, err := Prune(ctx, f.r, PruneOptions{DryRun: true})
	if err != nil || len(res.Deleted) == 0 || len(f.be.Names()) != before {
		t.Fatalf("prune dry run: %+v, %v", res, err)
	}
	f.reopen(t)
	res, err = Prune(ctx, f.r, PruneOptions{})
	if err != nil || len(res.Deleted) == 0 || res.BytesFreed == 0 {
		t.Fatalf("prune: %+v, %v", res, err)
	}
	f.reopen(t)
	v, err := Verify(ctx, f.r, VerifyOptions{ReadData: 1})
	if err != nil || !v.OK() || len(v.Unindexed) != 0 || v.Snapshots != 1 {
		t.Fatalf("verify after prune: %+v, %v", v, err)
	}
	target := t.TempDir()
	if _, err := Restore(ctx, f.r, sns[2], RestoreOptions{Target: target}); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(target, src, "f"))
	if !bytes.Equal(b, backuptest.RandBytes(200<<10, 102)) {
		t.Error("restore after prune: content differs")
	}
	// A second prune finds nothing to do.
	res, err = Prune(ctx, f.r, PruneOptions{})
	if err != nil || len(res.Deleted) != 0 {
		t.Errorf("second prune: %+v, %v", res, err)
	}
}

// TestScanTotals: the totals a progress display's ETA uses count the
// regular files a run reads, with its excludes.
func TestScanTotals(t *testing.T) {
	src := filepath.Join(t.TempDir(), "src")
	backuptest.MakeTree(t, src)
	os.WriteFile(filepath.Join(src, "skip.tmp"), []byte("excluded"), 0o600)
	var p Progress
	ScanTotals(context.Background(), []string{src}, []string{"*.tmp"}, &p)
	var files, size int64
	filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if d.Type().IsRegular() && filepath.Ext(path) != ".tmp" {
			fi, _ := d.Info()
			files, size = files+1, size+fi.Size()
		}
		return nil
	})
	if !p.Scanned.Load() || p.TotalFiles.Load() != files || p.TotalBytes.Load() != size || files != 7 {
		t.Errorf("totals: %d files, %d bytes (scanned %v), want %d, %d", p.TotalFiles.Load(), p.TotalBytes.Load(), p.Scanned.Load(), files, size)
	}
}

// TestSparseAndLargeRoundTrip: a sparse file (holes around a little
// data) and a file larger than the biggest chunk restore byte for byte.
func TestSparseAndLargeRoundTrip(t *testing.T) {
	src := filepath.Join(t.TempDir(), "src")
	os.MkdirAll(src, 0o755)
	f, err := os.Create(filepath.Join(src, "sparse.img"))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(16 << 20); err != nil {
		t.Fatal(err)
	}
	f.WriteAt(backuptest.RandBytes(4<<10, 5), 9<<20)
	f.Close()
	os.WriteFile(filepath.Join(src, "large.bin"), backuptest.RandBytes(20<<20, 6), 0o644)
	fx := newFixture(t, "")
	fx.reopen(t)
	sn, err := Run(context.Background(), fx.r, RunOptions{Paths: []string{src}, Host: "testhost"})
	if err != nil {
		t.Fatal(err)
	}
	target := t.TempDir()
	fx.reopen(t)
	if _, err := Restore(context.Background(), fx.r, sn, RestoreOptions{Target: target}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"sparse.img", "large.bin"} {
		want, _ := os.ReadFile(filepath.Join(src, name))
		got, err := os.ReadFile(filepath.Join(target, src, name))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: restored %d bytes (%v), want %d identical", name, len(got), err, len(want))
		}
	}
	// The holes are zeros: they compress (and repeat) to nearly nothing.
	if sn.Stats.BytesStored > 21<<20 {
		t.Errorf("the sparse file's zeros took room: %d bytes stored", sn.Stats.BytesStored)
	}
}
