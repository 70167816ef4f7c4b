package object

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/firnhq/firn/internal/blob/fs"
	"github.com/firnhq/firn/internal/clock"
	"github.com/firnhq/firn/internal/meta"
	"github.com/firnhq/firn/internal/meta/sqlite"
)

type fixture struct {
	t     *testing.T
	dir   string
	clock *clock.Fake
	meta  *sqlite.Store
	svc   *Service
	// tune, when set, changes the service's configuration at open.
	tune func(*Config)
}

// newFixture builds a service over real stores in a temp dir, with a fake
// clock at 2026-03-10 10:30 UTC.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{t: t, dir: t.TempDir(), clock: clock.NewFake(time.Date(2026, 3, 10, 10, 30, 0, 0, time.UTC))}
	f.open()
	t.Cleanup(func() { f.meta.Close() })
	ctx := context.Background()
	for _, b := range []string{"data", "trash"} {
		if err := f.svc.CreateBucket(ctx, b, "", "owner"); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

func (f *fixture) open() {
	ms, err := sqlite.Open(filepath.Join(f.dir, "meta.db"))
	if err != nil {
		f.t.Fatal(err)
	}
	hot, err := fs.Open(filepath.Join(f.dir, "hot"))
	if err != nil {
		f.t.Fatal(err)
	}
	arch, err := fs.Open(filepath.Join(f.dir, "archive"))
	if err != nil {
		f.t.Fatal(err)
	}
	f.meta = ms
	cfg := Config{Meta: ms, Blobs: hot, Archive: arch, Clock: f.clock, InlineMax: 1024}
	if f.tune != nil {
		f.tune(&cfg)
	}
	f.svc = New(cfg)
}

func (f *fixture) put(bucket, key, class string, body []byte) *meta.Object {
	f.t.Helper()
	o, err := f.svc.PutObject(context.Background(), PutInput{Bucket: bucket, Key: key, Owner: "owner",
		Body: bytes.NewReader(body), Size: int64(len(body)), StorageClass: class})
	if err != nil {
		f.t.Fatalf("put %s: %v", key, err)
	}
	return o
}

func (f *fixture) get(bucket, key string) ([]byte, error) {
	_, rd, err := f.svc.GetObject(context.Background(), GetInput{Bucket: bucket, Key: key})
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	return io.ReadAll(rd)
}

func (f *fixture) restore(key string, days int, tier string) (RestoreOutcome, error) {
	return f.svc.RestoreObject(context.Background(), RestoreRequest{Bucket: "data", Key: key, Days: days, Tier: tier})
}

func (f *fixture) run() int {
	f.t.Helper()
	n, err := f.svc.RunRestores(context.Background(), "w1", time.Minute, 100)
	if err != nil {
		f.t.Fatalf("RunRestores: %v", err)
	}
	return n
}

// files counts committed blob files under a store directory.
func (f *fixture) files(store string) int {
	n := 0
	root := filepath.Join(f.dir, store)
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		rel, _ := filepath.Rel(root, p)
		if err == nil && !d.IsDir() && !strings.HasPrefix(rel, "tmp"+string(filepath.Separator)) {
			n++
		}
		return nil
	})
	return n
}

func wantArchived(t *testing.T, err error, class string) {
	t.Helper()
	var ae *ArchivedError
	if !errors.As(err, &ae) || ae.StorageClass != class {
		t.Fatalf("got %v, want ArchivedError{%s}", err, class)
	}
}

func TestArchivedObjectLeavesHotTier(t *testing.T) {
	f := newFixture(t)
	f.put("data", "small", Glacier, []byte("tiny"))
	f.put("data", "big", DeepArchive, bytes.Repeat([]byte("x"), 4096))
	if got := f.files("hot"); got != 0 {
		t.Errorf("hot store holds %d files, want 0 (archived bytes leave the hot tier, even small ones)", got)
	}
	if got := f.files("archive"); got != 2 {
		t.Errorf("archive store holds %d files, want 2", got)
	}
	_, err := f.get("data", "small")
	wantArchived(t, err, Glacier)
	_, err = f.get("data", "big")
	wantArchived(t, err, DeepArchive)
	// HEAD never fails for archive state.
	if _, err := f.svc.HeadObject(context.Background(), GetInput{Bucket: "data", Key: "big"}); err != nil {
		t.Errorf("HeadObject: %v", err)
	}
	// GLACIER_IR lives in the archive but is readable at once.
	f.put("data", "ir", GlacierIR, []byte("instant"))
	if b, err := f.get("data", "ir"); err != nil || string(b) != "instant" {
		t.Errorf("GLACIER_IR get: got %q, %v", b, err)
	}
}

func TestRestoreLifecycle(t *testing.T) {
	f := newFixture(t)
	body := bytes.Repeat([]byte("archived "), 1000)
	f.put("data", "k", Glacier, body)

	out, err := f.restore("k", 2, TierBulk)
	if err != nil || out != RestoreStarted {
		t.Fatalf("first restore: got %v, %v; want started", out, err)
	}
	o, _ := f.svc.HeadObject(context.Background(), GetInput{Bucket: "data", Key: "k"})
	if o.Restore == nil || !o.Restore.Ongoing {
		t.Fatalf("restore state: got %+v, want ongoing", o.Restore)
	}
	// A running restore: same or slower tier, or other Days, conflicts.
	for _, c := range []struct {
		days int
		tier string
	}{{2, TierBulk}, {3, TierStandard}} {
		if _, err := f.restore("k", c.days, c.tier); !errors.Is(err, ErrRestoreInProgress) {
			t.Errorf("restore %d/%s while running: got %v, want ErrRestoreInProgress", c.days, c.tier, err)
		}
	}
	_, err = f.get("data", "k")
	wantArchived(t, err, Glacier) // still refused while restoring

	// Bulk takes 8 model hours (due 18:30). After an hour, a faster tier
	// upgrades the job: Standard is due 4 h later, at 15:30.
	f.clock.Advance(time.Hour)
	if out, err := f.restore("k", 2, TierStandard); err != nil || out != RestoreUpgraded {
		t.Fatalf("upgrade: got %v, %v", out, err)
	}
	f.clock.Advance(3*time.Hour + 59*time.Minute)
	if n := f.run(); n != 0 {
		t.Fatalf("ran %d jobs before the Standard latency, want 0", n)
	}
	f.clock.Advance(time.Minute)
	if n := f.run(); n != 1 {
		t.Fatalf("ran %d jobs once due, want 1", n)
	}
	if n := f.run(); n != 0 {
		t.Fatalf("ran %d jobs again, want 0 (exactly once)", n)
	}
	got, err := f.get("data", "k")
	if err != nil || !bytes.Equal(got, body) {
		t.Fatalf("get after restore: %v (got %d bytes)", err, len(got))
	}
	// Expiry: completed 2026-03-10 15:30 + 2 days, rounded up to midnight.
	o, _ = f.svc.HeadObject(context.Background(), GetInput{Bucket: "data", Key: "k"})
	if want := time.Date(2026, 3, 13, 0, 0, 0, 0, time.UTC); !o.Restore.Expiry.Equal(want) {
		t.Errorf("expiry: got %v, want %v", o.Restore.Expiry, want)
	}
	if o.StorageClass != Glacier {
		t.Errorf("class after restore: got %s, want GLACIER", o.StorageClass)
	}
	// Another request while the copy exists extends it from now: 200.
	f.clock.Advance(24 * time.Hour) // 2026-03-11 15:30
	if out, err := f.restore("k", 5, TierStandard); err != nil || out != RestoreExtended {
		t.Fatalf("extend: got %v, %v", out, err)
	}
	o, _ = f.svc.HeadObject(context.Background(), GetInput{Bucket: "data", Key: "k"})
	if want := time.Date(2026, 3, 17, 0, 0, 0, 0, time.UTC); !o.Restore.Expiry.Equal(want) {
		t.Errorf("extended expiry: got %v, want %v", o.Restore.Expiry, want)
	}
	// Before expiry nothing goes; at expiry the copy is dropped.
	f.clock.Advance(5 * 24 * time.Hour) // 2026-03-16 15:30
	if n, _ := f.svc.ExpireRestores(context.Background(), 10); n != 0 {
		t.Fatalf("expired %d before expiry", n)
	}
	f.clock.Advance(8*time.Hour + 30*time.Minute) // 2026-03-17 00:00
	if n, _ := f.svc.ExpireRestores(context.Background(), 10); n != 1 {
		t.Fatalf("expired %d at expiry, want 1", n)
	}
	_, err = f.get("data", "k")
	wantArchived(t, err, Glacier)
	o, _ = f.svc.HeadObject(context.Background(), GetInput{Bucket: "data", Key: "k"})
	if o.Restore != nil {
		t.Errorf("restore state after expiry: got %+v, want none", o.Restore)
	}
	if got := f.files("hot"); got != 0 {
		t.Errorf("hot store holds %d files after expiry, want 0", got)
	}
}

func TestRestoreRefusals(t *testing.T) {
	f := newFixture(t)
	f.put("data", "std", "", []byte("hot"))
	f.put("data", "ir", GlacierIR, []byte("ir"))
	f.put("data", "it", IntelligentTiering, []byte("it"))
	f.put("data", "deep", DeepArchive, []byte("deep"))
	tests := []struct {
		key, tier string
		days      int
		want      error
	}{
		{"std", TierStandard, 1, ErrRestoreNotAllowed},
		{"ir", TierStandard, 1, ErrRestoreNotAllowed},
		{"it", TierStandard, 1, ErrActiveTier},
		{"missing", TierStandard, 1, meta.ErrNoSuchKey},
	}
	for _, tt := range tests {
		if _, err := f.restore(tt.key, tt.days, tt.tier); !errors.Is(err, tt.want) {
			t.Errorf("restore %s: got %v, want %v", tt.key, err, tt.want)
		}
	}
	var ia *InvalidArgumentError
	if _, err := f.restore("deep", 1, TierExpedited); !errors.As(err, &ia) {
		t.Errorf("Expedited on DEEP_ARCHIVE: got %v, want InvalidArgumentError", err)
	}
	if _, err := f.restore("deep", 0, TierStandard); !errors.As(err, &ia) {
		t.Errorf("Days 0: got %v, want InvalidArgumentError", err)
	}
	if _, err := f.svc.RestoreObject(context.Background(), RestoreRequest{Bucket: "data", Key: "deep", Days: 1, VersionID: "v2"}); !errors.Is(err, meta.ErrNoSuchVersion) {
		t.Errorf("unknown version: got %v", err)
	}
	// Refusals changed nothing.
	if o, _ := f.svc.HeadObject(context.Background(), GetInput{Bucket: "data", Key: "deep"}); o.Restore != nil {
		t.Errorf("refused restore left state %+v", o.Restore)
	}
}

func TestCopyFromArchived(t *testing.T) {
	f := newFixture(t)
	f.put("data", "g", Glacier, []byte("glacier bytes"))
	ctx := context.Background()
	_, err := f.svc.CopyObject(ctx, CopyInput{SrcBucket: "data", SrcKey: "g", Bucket: "data", Key: "g2", Owner: "owner"})
	wantArchived(t, err, Glacier)
	_, err = f.svc.CopyObject(ctx, CopyInput{SrcBucket: "data", SrcKey: "g", Bucket: "data", Key: "g", Owner: "owner", StorageClass: Standard})
	wantArchived(t, err, Glacier)
	u, err := f.svc.CreateMultipartUpload(ctx, CreateUploadInput{Bucket: "data", Key: "mp", Owner: "owner"})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = f.svc.UploadPartCopy(ctx, CopyPartInput{SrcBucket: "data", SrcKey: "g", Bucket: "data", Key: "mp", UploadID: u.ID, PartNumber: 1})
	wantArchived(t, err, Glacier)

	// Once restored, the copy reads the restored bytes.
	f.restore("g", 1, TierExpedited)
	f.clock.Advance(5 * time.Minute)
	f.run()
	if _, err := f.svc.CopyObject(ctx, CopyInput{SrcBucket: "data", SrcKey: "g", Bucket: "data", Key: "g2", Owner: "owner"}); err != nil {
		t.Fatalf("copy of a restored object: %v", err)
	}
	if b, err := f.get("data", "g2"); err != nil || string(b) != "glacier bytes" {
		t.Errorf("copy: got %q, %v", b, err)
	}
}

// Scenario A: a deleted file moves into the trash bucket's archive with
// one server-side call; a self-copy with a new class moves bytes between
// tiers.
func TestCopyMovesBetweenTiers(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	body := bytes.Repeat([]byte("user file "), 500)
	src := f.put("data", "u/1/report.pdf", "", body)
	if f.files("hot") != 1 || f.files("archive") != 0 {
		t.Fatalf("before: hot %d archive %d files", f.files("hot"), f.files("archive"))
	}
	o, err := f.svc.CopyObject(ctx, CopyInput{SrcBucket: "data", SrcKey: "u/1/report.pdf", Bucket: "trash", Key: "u/1/report.pdf", Owner: "owner", StorageClass: Glacier})
	if err != nil {
		t.Fatal(err)
	}
	if o.StorageClass != Glacier || o.ETag != src.ETag {
		t.Errorf("trash copy: got class %s etag %s", o.StorageClass, o.ETag)
	}
	f.svc.DeleteObject(ctx, "data", "u/1/report.pdf", "")
	if f.files("hot") != 0 || f.files("archive") != 1 {
		t.Errorf("after move: hot %d archive %d files, want 0 and 1", f.files("hot"), f.files("archive"))
	}
	page, _ := f.svc.ListObjects(ctx, "trash", meta.ListParams{MaxKeys: 10})
	if len(page.Objects) != 1 || page.Objects[0].StorageClass != Glacier {
		t.Errorf("trash listing: got %+v", page.Objects)
	}

	// Self-copy STANDARD -> GLACIER moves the bytes, keeps the ETag.
	f.put("data", "self", "", body)
	o, err = f.svc.CopyObject(ctx, CopyInput{SrcBucket: "data", SrcKey: "self", Bucket: "data", Key: "self", Owner: "owner", StorageClass: Glacier})
	if err != nil {
		t.Fatal(err)
	}
	if o.ETag != src.ETag || len(o.Segments) != 1 || o.Segments[0].Tier != ArchiveTier {
		t.Errorf("self move: got etag %s segments %+v", o.ETag, o.Segments)
	}
	if f.files("hot") != 0 {
		t.Errorf("hot files after self move: %d, want 0", f.files("hot"))
	}
	_, err = f.get("data", "self")
	wantArchived(t, err, Glacier)
}

func TestRestoreJobsAreDurable(t *testing.T) {
	f := newFixture(t)
	f.put("data", "a", Glacier, []byte("aaa"))
	f.put("data", "b", Glacier, []byte("bbb"))
	f.restore("a", 1, TierStandard)
	f.restore("b", 1, TierStandard)
	// A worker claims a's job and dies before completing it.
	f.clock.Advance(4 * time.Hour)
	if jobs, err := f.meta.ClaimRestores(context.Background(), f.clock.Now(), "dead-worker", time.Minute, 1); err != nil || len(jobs) != 1 {
		t.Fatalf("claim: %v, %d", err, len(jobs))
	}
	// Restart.
	f.meta.Close()
	f.open()
	if n := f.run(); n != 1 {
		t.Fatalf("after restart ran %d, want 1 (the leased job waits)", n)
	}
	f.clock.Advance(2 * time.Minute) // the dead worker's lease runs out
	if n := f.run(); n != 1 {
		t.Fatalf("after lease expiry ran %d, want 1", n)
	}
	if n := f.run(); n != 0 {
		t.Fatalf("ran %d more, want 0", n)
	}
	for _, k := range []string{"a", "b"} {
		if b, err := f.get("data", k); err != nil || string(b) != strings.Repeat(k, 3) {
			t.Errorf("get %s: %q, %v", k, b, err)
		}
	}
	// The dead worker cannot complete what it lost.
	jobs, _ := f.svc.ListRestores(context.Background(), meta.RestoreDone, 10)
	if len(jobs) != 2 {
		t.Fatalf("done jobs: got %d, want 2", len(jobs))
	}
	if _, err := f.meta.CompleteRestore(context.Background(), jobs[0].ID, "dead-worker", meta.RestoreCompletion{Completed: f.clock.Now(), Expiry: f.clock.Now()}); !errors.Is(err, meta.ErrLeaseLost) {
		t.Errorf("late completion: got %v, want ErrLeaseLost", err)
	}
}

func TestRestoreOfDeletedObjectIsCancelled(t *testing.T) {
	f := newFixture(t)
	f.put("data", "gone", Glacier, []byte("x"))
	f.restore("gone", 1, TierStandard)
	f.svc.DeleteObject(context.Background(), "data", "gone", "")
	f.put("data", "gone", Glacier, []byte("new content"))
	f.clock.Advance(5 * time.Hour)
	f.run()
	jobs, _ := f.svc.ListRestores(context.Background(), meta.RestoreCancelled, 10)
	if len(jobs) != 1 {
		t.Fatalf("cancelled jobs: got %d, want 1", len(jobs))
	}
	_, err := f.get("data", "gone")
	wantArchived(t, err, Glacier) // the new object was never restored
	if got := f.files("hot"); got != 0 {
		t.Errorf("hot files: got %d, want 0", got)
	}
}

func TestNextMidnight(t *testing.T) {
	day := 24 * time.Hour
	for _, c := range []struct{ in, want time.Time }{
		{time.Date(2012, 10, 18, 10, 30, 0, 0, time.UTC), time.Date(2012, 10, 19, 0, 0, 0, 0, time.UTC)},
		{time.Date(2012, 10, 18, 0, 0, 0, 0, time.UTC), time.Date(2012, 10, 19, 0, 0, 0, 0, time.UTC)},
		{time.Date(2012, 10, 18, 23, 59, 59, 0, time.UTC), time.Date(2012, 10, 19, 0, 0, 0, 0, time.UTC)},
	} {
		if got := NextMidnight(c.in, day); !got.Equal(c.want) {
			t.Errorf("NextMidnight(%v): got %v, want %v", c.in, got, c.want)
		}
	}
	// S3's example: restored 2012-10-15 10:30 with Days=3 lasts until
	// 2012-10-19 00:00.
	f := newFixture(t)
	if got, want := f.svc.restoreExpiry(time.Date(2012, 10, 15, 10, 30, 0, 0, time.UTC), 3), time.Date(2012, 10, 19, 0, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("restoreExpiry: got %v, want %v", got, want)
	}
}

func TestParseRestoreLatency(t *testing.T) {
	c, err := ParseRestoreLatency("Standard=0s, DEEP_ARCHIVE.Bulk=12h")
	if err != nil {
		t.Fatal(err)
	}
	if c.Latency[Glacier][TierStandard] != 0 || c.Latency[DeepArchive][TierStandard] != 0 || c.Latency[DeepArchive][TierBulk] != 0.5 {
		t.Errorf("got %+v", c.Latency)
	}
	for _, bad := range []string{"Fast=1h", "GLACIER_IR.Standard=1h", "Standard", "Standard=-1h", "Standard=soon"} {
		if _, err := ParseRestoreLatency(bad); err == nil {
			t.Errorf("ParseRestoreLatency(%q): got nil error", bad)
		}
	}
}
