package object

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/firnhq/firn/internal/blob"
	"github.com/firnhq/firn/internal/blob/fs"
	"github.com/firnhq/firn/internal/blob/pack"
	"github.com/firnhq/firn/internal/clock"
	"github.com/firnhq/firn/internal/meta"
)

// faultyStore wraps a store: Open fails with openErr's error, and
// Restore records what was asked.
type faultyStore struct {
	blob.Store
	mu       sync.Mutex
	openErr  func(id string) error // nil: no fault
	restored map[string]string     // id -> tier asked
	opens    int
}

func (s *faultyStore) Open(ctx context.Context, id string, off, n int64) (io.ReadCloser, error) {
	s.mu.Lock()
	s.opens++
	fault := s.openErr
	s.mu.Unlock()
	if fault != nil {
		if err := fault(id); err != nil {
			return nil, err
		}
	}
	return s.Store.Open(ctx, id, off, n)
}

func (s *faultyStore) Restore(_ context.Context, id string, days int, tier string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.restored == nil {
		s.restored = map[string]string{}
	}
	s.restored[id] = tier
	return nil
}

func (s *faultyStore) wasRestored(id string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.restored[id]
	return t, ok
}

func openFS(t *testing.T, dir string) blob.Store {
	t.Helper()
	st, err := fs.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// retrieved returns the metered bytes of tier.
func (f *fixture) retrieved(tier string) int64 {
	f.t.Helper()
	days, err := f.svc.RetrievalStore().Retrieved(context.Background(), 0, 1<<40)
	if err != nil {
		f.t.Fatal(err)
	}
	var n int64
	for _, d := range days {
		if d.Tier == tier {
			n += d.Bytes
		}
	}
	return n
}

// TestRestoreOfDamagedBytesFails: archived bytes damaged beyond repair
// fail the job for good, with the reason on record; the object is never
// served, stops restoring, is not metered, and a new request may start.
func TestRestoreOfDamagedBytesFails(t *testing.T) {
	f := &fixture{t: t, dir: t.TempDir(), clock: clock.NewFake(time.Date(2026, 3, 10, 10, 30, 0, 0, time.UTC))}
	arch := &faultyStore{Store: openFS(t, filepath.Join(f.dir, "archive-real")),
		openErr: func(id string) error { return fmt.Errorf("pack row 3: %w", blob.ErrCorrupt) }}
	f.tune = func(c *Config) { c.Archive = arch }
	f.open()
	t.Cleanup(func() { f.meta.Close() })
	ctx := context.Background()
	if err := f.svc.CreateBucket(ctx, "data", "", "owner"); err != nil {
		t.Fatal(err)
	}
	f.put("data", "a", Glacier, []byte("archived bytes"))
	if _, err := f.restore("a", 1, TierStandard); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(5 * time.Hour)
	if n := f.run(); n != 0 {
		t.Errorf("RunRestores finished %d jobs, want 0", n)
	}
	jobs, _ := f.svc.ListRestores(ctx, meta.RestoreFailed, 10)
	if len(jobs) != 1 || !strings.Contains(jobs[0].Error, "corrupt") {
		t.Fatalf("failed jobs: %+v, want one naming the damage", jobs)
	}
	o, err := f.svc.HeadObject(ctx, GetInput{Bucket: "data", Key: "a"})
	if err != nil || o.Restore != nil {
		t.Errorf("head after failure: restore %+v, %v; want no restore state", o.Restore, err)
	}
	_, err = f.get("data", "a")
	wantArchived(t, err, Glacier)
	if n := f.retrieved(TierStandard); n != 0 {
		t.Errorf("a failed restore metered %d bytes", n)
	}
	if out, err := f.restore("a", 1, TierStandard); err != nil || out != RestoreStarted {
		t.Errorf("restore after failure: %v, %v; want a new job", out, err)
	}
}

// TestRestoreWaitsForRemoteTier: with GLACIER mapped to a remote tier
// whose bucket keeps the bytes in an archive class, the job asks the
// remote for a restore and completes once the remote can be read.
func TestRestoreWaitsForRemoteTier(t *testing.T) {
	f := &fixture{t: t, dir: t.TempDir(), clock: clock.NewFake(time.Date(2026, 3, 10, 10, 30, 0, 0, time.UTC))}
	var rem *faultyStore
	rem = &faultyStore{Store: openFS(t, filepath.Join(f.dir, "remote")), openErr: func(id string) error {
		if _, ok := rem.wasRestored(id); !ok {
			return fmt.Errorf("remote object in GLACIER: %w", blob.ErrNeedsRestore)
		}
		return nil
	}}
	f.tune = func(c *Config) {
		c.Remote = rem
		c.ClassTiers = map[string]string{Glacier: RemoteTier}
	}
	f.open()
	t.Cleanup(func() { f.meta.Close() })
	ctx := context.Background()
	if err := f.svc.CreateBucket(ctx, "data", "", "owner"); err != nil {
		t.Fatal(err)
	}
	body := []byte(strings.Repeat("remote ", 1000))
	o := f.put("data", "a", Glacier, body)
	if len(o.Segments) != 1 || o.Segments[0].Tier != RemoteTier {
		t.Fatalf("segments %+v, want one on the remote tier", o.Segments)
	}
	if n := f.files("remote"); n != 1 {
		t.Errorf("remote holds %d blobs, want 1", n)
	}
	if _, err := f.restore("a", 1, TierExpedited); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(10 * time.Minute)
	if n := f.run(); n != 0 {
		t.Fatalf("first run finished %d jobs, want 0 (the remote restores first)", n)
	}
	if tier, ok := rem.wasRestored(o.Segments[0].BlobID); !ok || tier != TierExpedited {
		t.Fatalf("remote restore: asked %v with tier %q, want Expedited", ok, tier)
	}
	if n := f.run(); n != 0 {
		t.Errorf("run within the lease finished %d jobs, want 0", n)
	}
	f.clock.Advance(2 * time.Minute) // the lease (1 min) runs out
	if n := f.run(); n != 1 {
		t.Fatalf("run after the remote restore finished %d jobs, want 1", n)
	}
	got, err := f.get("data", "a")
	if err != nil || string(got) != string(body) {
		t.Errorf("get after restore: %d bytes, %v", len(got), err)
	}
	if n := f.retrieved(TierExpedited); n != int64(len(body)) {
		t.Errorf("metered %d bytes, want %d", n, len(body))
	}
}

// batchCounter wraps the pack store, counting how reads arrive.
type batchCounter struct {
	*pack.Store
	mu           sync.Mutex
	opens, batch int
	batchedBlobs int
}

func (b *batchCounter) Open(ctx context.Context, id string, off, n int64) (io.ReadCloser, error) {
	b.mu.Lock()
	b.opens++
	b.mu.Unlock()
	return b.Store.Open(ctx, id, off, n)
}

func (b *batchCounter) ReadBatch(ctx context.Context, ids []string, fn func(string, io.Reader) error) error {
	b.mu.Lock()
	b.batch++
	b.batchedBlobs += len(ids)
	b.mu.Unlock()
	return b.Store.ReadBatch(ctx, ids, fn)
}

// TestRestoresBatchedPerPack: due jobs whose objects share packs are
// read in one batch, not object by object, and each is restored intact.
// packFixture is a fixture whose archive is a pack store (64 KiB packs
// over six directories) that counts its reads, with bucket "data"; tune
// may change the service's configuration further.
func packFixture(t *testing.T, tune func(*Config)) (*fixture, *pack.Store, *batchCounter) {
	f := &fixture{t: t, dir: t.TempDir(), clock: clock.NewFake(time.Date(2026, 3, 10, 10, 30, 0, 0, time.UTC))}
	var dirs []string
	for i := range 6 {
		dirs = append(dirs, filepath.Join(f.dir, fmt.Sprintf("disk%d", i)))
	}
	ps, err := pack.Open(pack.Config{StateDir: filepath.Join(f.dir, "archive-state"), Dirs: dirs, PackSize: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ps.Close() })
	arch := &batchCounter{Store: ps}
	f.tune = func(c *Config) {
		c.Archive = arch
		if tune != nil {
			tune(c)
		}
	}
	f.open()
	t.Cleanup(func() { f.meta.Close() })
	if err := f.svc.CreateBucket(context.Background(), "data", "", "owner"); err != nil {
		t.Fatal(err)
	}
	return f, ps, arch
}

func TestRestoresBatchedPerPack(t *testing.T) {
	f, ps, arch := packFixture(t, nil)
	ctx := context.Background()
	const n = 40
	bodies := map[string]string{}
	for i := range n {
		k := fmt.Sprintf("k%02d", i)
		bodies[k] = strings.Repeat(fmt.Sprintf("%s-%d ", k, i*i), 300+i*50)
		f.put("data", k, Glacier, []byte(bodies[k]))
	}
	if err := ps.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	for k := range bodies {
		if _, err := f.restore(k, 1, TierBulk); err != nil {
			t.Fatal(err)
		}
	}
	f.clock.Advance(13 * time.Hour)
	if got := f.run(); got != n {
		t.Fatalf("ran %d jobs, want %d", got, n)
	}
	if arch.opens != 0 || arch.batch != 1 || arch.batchedBlobs != n {
		t.Errorf("archive reads: %d opens, %d batches of %d blobs; want 0 opens and one batch of %d", arch.opens, arch.batch, arch.batchedBlobs, n)
	}
	for k, want := range bodies {
		if got, err := f.get("data", k); err != nil || string(got) != want {
			t.Errorf("get %s: %d bytes, %v", k, len(got), err)
		}
	}
	if got := f.retrieved(TierBulk); got == 0 {
		t.Errorf("no bytes metered")
	}
}

// TestRestoresGathered: with Gather, restores requested a little apart
// are claimed together once the first has been due for its share of
// the restore time, read in one batch, and none completes early.
func TestRestoresGathered(t *testing.T) {
	f, ps, arch := packFixture(t, func(c *Config) {
		c.Restore = RestoreConfig{Gather: 0.1, Latency: map[string]map[string]float64{Glacier: {TierStandard: 1.0 / 24}}} // 1 h
	})
	ctx := context.Background()
	keys := []string{"a", "b", "c"}
	for _, k := range keys {
		f.put("data", k, Glacier, []byte(strings.Repeat(k, 5000)))
	}
	if err := ps.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	// a, then b two minutes later, then c ten minutes after a.
	for i, k := range keys {
		if _, err := f.restore(k, 1, TierStandard); err != nil {
			t.Fatal(err)
		}
		if i < len(keys)-1 {
			f.clock.Advance([]time.Duration{2 * time.Minute, 8 * time.Minute}[i])
		}
	}
	// Now: a was requested 10 minutes ago. a is due in 50 minutes and
	// gathered 6 minutes (a tenth of its hour) after that.
	f.clock.Advance(55 * time.Minute) // a due, not gathered; b due
	if got := f.run(); got != 0 {
		t.Fatalf("ran %d jobs before any was gathered, want 0", got)
	}
	f.clock.Advance(time.Minute) // a gathered; b due; c not due
	if got := f.run(); got != 2 {
		t.Fatalf("ran %d jobs once a was gathered, want a and b", got)
	}
	if arch.batch != 1 || arch.batchedBlobs != 2 {
		t.Errorf("archive reads: %d batches of %d blobs; want one batch of 2", arch.batch, arch.batchedBlobs)
	}
	if _, err := f.get("data", "c"); err == nil {
		t.Error("c served before its restore time")
	}
	f.clock.Advance(10 * time.Minute) // c due and gathered
	if got := f.run(); got != 1 {
		t.Fatalf("ran %d jobs, want c", got)
	}
	for _, k := range keys {
		if got, err := f.get("data", k); err != nil || string(got) != strings.Repeat(k, 5000) {
			t.Errorf("get %s: %d bytes, %v", k, len(got), err)
		}
	}
}

// TestUpgradedRestoreGathersFromUpgrade: a restore upgraded to a faster
// tier counts its gather window from the upgrade, not from the first
// request, so an Expedited upgrade of a long-waiting Bulk job still
// finishes within Expedited's minutes.
func TestUpgradedRestoreGathersFromUpgrade(t *testing.T) {
	f := &fixture{t: t, dir: t.TempDir(), clock: clock.NewFake(time.Date(2026, 3, 10, 10, 30, 0, 0, time.UTC))}
	f.tune = func(c *Config) { c.Restore = RestoreConfig{Gather: DefaultRestoreGather} }
	f.open()
	t.Cleanup(func() { f.meta.Close() })
	if err := f.svc.CreateBucket(context.Background(), "data", "", "owner"); err != nil {
		t.Fatal(err)
	}
	f.put("data", "g", Glacier, []byte("glacier bytes"))
	if _, err := f.restore("g", 1, TierBulk); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(7 * time.Hour)
	if out, err := f.restore("g", 1, TierExpedited); err != nil || out != RestoreUpgraded {
		t.Fatalf("upgrade: %v %v", out, err)
	}
	// Expedited takes 3 minutes; with the gather, at most 5% more.
	f.clock.Advance(3*time.Minute + 10*time.Second)
	if got := f.run(); got != 1 {
		t.Fatalf("upgraded restore not done 3m10s after the upgrade (ran %d)", got)
	}
	if b, err := f.get("data", "g"); err != nil || string(b) != "glacier bytes" {
		t.Errorf("get: %q %v", b, err)
	}
}
