package object

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/firnhq/firn/internal/meta"
)

const noncurrentRules = `<LifecycleConfiguration>
  <Rule><ID>old</ID><Status>Enabled</Status><Filter></Filter>
    <NoncurrentVersionTransition><NoncurrentDays>30</NoncurrentDays><StorageClass>STANDARD_IA</StorageClass></NoncurrentVersionTransition>
    <NoncurrentVersionTransition><NoncurrentDays>90</NoncurrentDays><StorageClass>GLACIER</StorageClass></NoncurrentVersionTransition>
    <NoncurrentVersionExpiration><NoncurrentDays>365</NoncurrentDays></NoncurrentVersionExpiration>
    <Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration>
  </Rule>
</LifecycleConfiguration>`

func (f *fixture) version(bucket, key, vid string) *meta.Object {
	f.t.Helper()
	o, err := f.meta.GetVersion(context.Background(), bucket, key, vid)
	if err != nil {
		f.t.Fatalf("version %s of %s: %v", vid, key, err)
	}
	return o
}

// TestLifecycleNoncurrentVersions: scenario C's rules for noncurrent
// versions in a versioned bucket. A replaced version moves to
// STANDARD_IA 30 days after it became noncurrent and to GLACIER (its
// bytes to the archive tier) at 90, and is deleted at 365; the current
// version is untouched; once a delete marker is the only version left,
// it goes too.
func TestLifecycleNoncurrentVersions(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	if err := f.svc.PutBucketVersioning(ctx, "data", VersioningEnabled); err != nil {
		t.Fatal(err)
	}
	f.putLifecycle("data", noncurrentRules)
	body := []byte(strings.Repeat("version one ", 20000)) // over the 128 KiB minimum
	v1 := f.put("data", "k", Standard, body)
	day := 24 * time.Hour
	f.clock.Advance(3 * day)
	v2 := f.put("data", "k", Standard, []byte(strings.Repeat("version two ", 20000)))
	if v1.VersionID == v2.VersionID || v1.VersionID == meta.NullVersion {
		t.Fatalf("version ids %q and %q", v1.VersionID, v2.VersionID)
	}
	since := v2.LastModified
	at := func(days int) time.Time { return NextMidnight(since.Add(time.Duration(days)*day), day) }
	if got := f.version("data", "k", v1.VersionID).LifecycleDue; !got.Equal(at(30)) {
		t.Fatalf("noncurrent v1 due %v, want %v", got, at(30))
	}
	step := func(to time.Time) LifecycleResult {
		f.clock.Advance(to.Sub(f.clock.Now()))
		return f.runLifecycle()
	}
	if res := step(at(30).Add(-time.Second)); res.Applied() != 0 {
		t.Fatalf("before day 30: %+v, want nothing", res)
	}
	if res := step(at(30)); res.Transitioned != 1 {
		t.Fatalf("day 30: %+v, want one transition", res)
	}
	if o := f.version("data", "k", v1.VersionID); o.StorageClass != StandardIA || !o.LifecycleDue.Equal(at(90)) {
		t.Fatalf("v1 after day 30: %s due %v", o.StorageClass, o.LifecycleDue)
	}
	if res := step(at(90)); res.Transitioned != 1 {
		t.Fatalf("day 90: %+v, want one transition", res)
	}
	o := f.version("data", "k", v1.VersionID)
	if o.StorageClass != Glacier || len(o.Segments) != 1 || o.Segments[0].Tier != ArchiveTier || o.ETag != v1.ETag || !o.LifecycleDue.Equal(at(365)) {
		t.Fatalf("v1 after day 90: %s segments %+v due %v", o.StorageClass, o.Segments, o.LifecycleDue)
	}
	if cur := f.head("data", "k"); cur.VersionID != v2.VersionID || cur.StorageClass != Standard {
		t.Fatalf("current version changed: %s %s", cur.VersionID, cur.StorageClass)
	}
	// The archived noncurrent version still reads after a restore.
	if _, err := f.svc.RestoreObject(ctx, RestoreRequest{Bucket: "data", Key: "k", VersionID: v1.VersionID, Days: 1}); err != nil {
		t.Fatalf("restore of the noncurrent version: %v", err)
	}
	if res := step(at(365)); res.Expired != 1 {
		t.Fatalf("day 365: %+v, want one expiration", res)
	}
	if _, err := f.meta.GetVersion(ctx, "data", "k", v1.VersionID); err == nil {
		t.Fatalf("v1 still exists after day 365")
	}

	// Delete the key: v2 becomes noncurrent under a marker; a year later
	// v2 goes, and the marker left alone goes with the same run's
	// rescheduling on the next.
	r, err := f.svc.DeleteObject(ctx, "data", "k", "")
	if err != nil || !r.DeleteMarker {
		t.Fatalf("DeleteObject: %+v %v", r, err)
	}
	since = f.clock.Now().UTC()
	step(at(366))
	if _, err := f.meta.GetVersion(ctx, "data", "k", v2.VersionID); err == nil {
		t.Fatalf("v2 still exists a year after it became noncurrent")
	}
	step(at(367))
	if _, err := f.meta.GetVersion(ctx, "data", "k", ""); err == nil {
		t.Fatalf("the lone delete marker was not expired")
	}
	if st, err := f.svc.LifecycleStatus(ctx); err != nil || st.Due != 0 {
		t.Errorf("backlog after the run: %+v %v", st, err)
	}
}
