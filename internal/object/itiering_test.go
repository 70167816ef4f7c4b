package object

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"
)

const itArchiveConfig = `<IntelligentTieringConfiguration><Id>cold</Id><Status>Enabled</Status>
  <Filter><Prefix>logs/</Prefix></Filter>
  <Tiering><AccessTier>ARCHIVE_ACCESS</AccessTier><Days>120</Days></Tiering>
  <Tiering><AccessTier>DEEP_ARCHIVE_ACCESS</AccessTier><Days>200</Days></Tiering>
</IntelligentTieringConfiguration>`

// TestIntelligentTieringAccessTiers: INTELLIGENT_TIERING objects move by
// idleness (Infrequent at 30 days, Archive Instant at 90, the configured
// archive tiers after), a read brings one back to Frequent, small
// objects never move, archived ones need a restore without Days and come
// back to Frequent for good.
func TestIntelligentTieringAccessTiers(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	if err := f.svc.PutIntelligentTiering(ctx, "data", "cold", []byte(itArchiveConfig)); err != nil {
		t.Fatal(err)
	}
	day := 24 * time.Hour
	body := bytes.Repeat([]byte("it "), 100<<10) // 300 KiB
	hot := f.put("data", "hot/a", IntelligentTiering, body)
	f.put("data", "logs/b", IntelligentTiering, body)
	small := f.put("data", "hot/small", IntelligentTiering, []byte("tiny"))
	if !small.LifecycleDue.IsZero() {
		t.Errorf("a small object is scheduled at %v", small.LifecycleDue)
	}
	if want := hot.LastModified.Add(30 * day); !f.head("data", "hot/a").LifecycleDue.Equal(want) {
		t.Fatalf("due after PUT: %v, want %v", f.head("data", "hot/a").LifecycleDue, want)
	}
	step := func(days int) {
		f.clock.Advance(time.Duration(days) * day)
		f.runLifecycle()
	}
	tierOf := func(key string) string { return f.head("data", key).AccessTier }
	step(31)
	if tierOf("hot/a") != AccessInfrequent || tierOf("logs/b") != AccessInfrequent {
		t.Fatalf("after 31 days: %q %q, want Infrequent", tierOf("hot/a"), tierOf("logs/b"))
	}
	// A read brings hot/a back to Frequent and restarts its clock.
	if got, err := f.get("data", "hot/a"); err != nil || !bytes.Equal(got, body) {
		t.Fatalf("GET: %v", err)
	}
	if o := f.head("data", "hot/a"); o.AccessTier != "" || !o.LastAccess.Equal(f.clock.Now().UTC()) || o.StorageClass != IntelligentTiering {
		t.Fatalf("after a read: tier %q, last access %v", o.AccessTier, o.LastAccess)
	}
	step(60) // day 91: logs/b idle 91 days, hot/a 60
	if tierOf("logs/b") != AccessArchiveInstant || tierOf("hot/a") != AccessInfrequent {
		t.Fatalf("day 91: logs/b %q hot/a %q", tierOf("logs/b"), tierOf("hot/a"))
	}
	step(30) // day 121: logs/b goes to the archive tier, its bytes too
	o := f.head("data", "logs/b")
	if o.AccessTier != AccessArchive || o.StorageClass != IntelligentTiering || len(o.Segments) != 1 || o.Segments[0].Tier != ArchiveTier {
		t.Fatalf("day 121: %q %s %+v", o.AccessTier, o.StorageClass, o.Segments)
	}
	var ae *ArchivedError
	if _, err := f.get("data", "logs/b"); !errors.As(err, &ae) || ae.AccessTier != AccessArchive || ae.StorageClass != IntelligentTiering {
		t.Fatalf("GET of an archived IT object: %v", err)
	}
	if _, err := f.svc.HeadObject(ctx, GetInput{Bucket: "data", Key: "logs/b"}); err != nil {
		t.Errorf("HEAD of an archived IT object: %v", err)
	}
	// Restore: no Days allowed; back to Frequent for good.
	var ia *InvalidArgumentError
	if _, err := f.svc.RestoreObject(ctx, RestoreRequest{Bucket: "data", Key: "logs/b", Days: 2}); !errors.As(err, &ia) {
		t.Errorf("restore with Days: %v", err)
	}
	if _, err := f.svc.RestoreObject(ctx, RestoreRequest{Bucket: "data", Key: "hot/a", NoDays: true}); !errors.Is(err, ErrActiveTier) {
		t.Errorf("restore of an IT object not archived: %v", err)
	}
	if _, err := f.svc.RestoreObject(ctx, RestoreRequest{Bucket: "data", Key: "logs/b", NoDays: true, Tier: TierExpedited}); err != nil {
		t.Fatalf("restore: %v", err)
	}
	if o := f.head("data", "logs/b"); o.Restore == nil || !o.Restore.Ongoing {
		t.Errorf("restoring: %+v", o.Restore)
	}
	f.clock.Advance(6 * time.Hour)
	if n := f.run(); n != 1 {
		t.Fatalf("restores run: %d", n)
	}
	o = f.head("data", "logs/b")
	if o.AccessTier != "" || o.Restore != nil || len(o.Segments) != 1 || o.Segments[0].Tier != "" || o.LifecycleDue.IsZero() {
		t.Fatalf("after the restore: tier %q restore %+v segments %+v due %v", o.AccessTier, o.Restore, o.Segments, o.LifecycleDue)
	}
	if got, err := f.get("data", "logs/b"); err != nil || !bytes.Equal(got, body) {
		t.Fatalf("GET after the restore: %v", err)
	}
	if f.files("archive") != 0 {
		t.Errorf("the archived copy was not freed: %d archive files", f.files("archive"))
	}
	// hot/a, never configured for the archive tiers, stops at Archive
	// Instant; the small object never moved.
	step(200)
	if tierOf("hot/a") != AccessArchiveInstant || tierOf("hot/small") != "" {
		t.Errorf("after 200 more days: hot/a %q, small %q", tierOf("hot/a"), tierOf("hot/small"))
	}
	if got, err := f.get("data", "hot/a"); err != nil || !bytes.Equal(got, body) || tierOf("hot/a") != "" {
		t.Errorf("Archive Instant reads at once and comes back: %v %q", err, tierOf("hot/a"))
	}
}
