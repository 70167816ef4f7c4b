package object

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/firnhq/firn/internal/meta"
)

func (f *fixture) putLifecycle(bucket, xml string) {
	f.t.Helper()
	if _, err := f.svc.PutBucketLifecycle(context.Background(), bucket, []byte(xml), ""); err != nil {
		f.t.Fatalf("PutBucketLifecycle: %v", err)
	}
}

func (f *fixture) runLifecycle() LifecycleResult {
	f.t.Helper()
	res, err := f.svc.RunLifecycle(context.Background(), 1000)
	if err != nil {
		f.t.Fatalf("RunLifecycle: %v", err)
	}
	return res
}

func (f *fixture) head(bucket, key string) *meta.Object {
	f.t.Helper()
	o, err := f.meta.GetObject(context.Background(), bucket, key)
	if err != nil {
		f.t.Fatalf("get %s: %v", key, err)
	}
	return o
}

const backupRules = `<LifecycleConfiguration>
  <Rule><ID>tiers</ID><Status>Enabled</Status><Filter><Prefix>backups/</Prefix></Filter>
    <Transition><Days>30</Days><StorageClass>STANDARD_IA</StorageClass></Transition>
    <Transition><Days>90</Days><StorageClass>GLACIER</StorageClass></Transition>
    <Expiration><Days>365</Days></Expiration>
  </Rule>
</LifecycleConfiguration>`

// TestLifecycleAppliesOnTime: scenario C's tiering on an unversioned
// bucket. Each action happens at the first midnight after creation + N
// days, not before; class changes keep LastModified and the ETag; the
// GLACIER transition moves the bytes to the archive tier; the expiration
// deletes the object and frees its bytes.
func TestLifecycleAppliesOnTime(t *testing.T) {
	f := newFixture(t)
	f.putLifecycle("data", backupRules)
	body := []byte(strings.Repeat("backup ", 30000)) // 210 KB: over the 128 KiB minimum
	put := f.put("data", "backups/db.dump", Standard, body)
	f.put("data", "other/file", Standard, body)
	created := put.LastModified
	day := 24 * time.Hour
	at := func(days int) time.Time { return NextMidnight(created.Add(time.Duration(days)*day), day) }
	if got := f.head("data", "backups/db.dump").LifecycleDue; !got.Equal(at(30)) {
		t.Fatalf("due after PUT: %v, want %v", got, at(30))
	}
	if got := f.head("data", "other/file").LifecycleDue; !got.IsZero() {
		t.Errorf("an object no rule covers is scheduled at %v", got)
	}
	step := func(to time.Time) LifecycleResult {
		f.clock.Advance(to.Sub(f.clock.Now()))
		return f.runLifecycle()
	}
	if res := step(at(30).Add(-time.Second)); res.Applied() != 0 {
		t.Fatalf("a second before the due midnight: %+v, want nothing", res)
	}
	if res := step(at(30)); res.Transitioned != 1 {
		t.Fatalf("at day 30: %+v, want one transition", res)
	}
	o := f.head("data", "backups/db.dump")
	if o.StorageClass != StandardIA || !o.LastModified.Equal(created) || o.ETag != put.ETag || !o.LifecycleDue.Equal(at(90)) {
		t.Fatalf("after day 30: class %s, modified %v, due %v", o.StorageClass, o.LastModified, o.LifecycleDue)
	}
	if res := step(at(90)); res.Transitioned != 1 {
		t.Fatalf("at day 90: %+v, want one transition", res)
	}
	o = f.head("data", "backups/db.dump")
	if o.StorageClass != Glacier || len(o.Segments) != 1 || o.Segments[0].Tier != ArchiveTier || !o.LastModified.Equal(created) {
		t.Fatalf("after day 90: class %s, segments %+v", o.StorageClass, o.Segments)
	}
	_, err := f.get("data", "backups/db.dump")
	wantArchived(t, err, Glacier)
	if n := f.files("archive"); n != 1 {
		t.Errorf("archive holds %d blobs, want 1", n)
	}
	if res := step(at(365)); res.Expired != 1 {
		t.Fatalf("at day 365: %+v, want one expiration", res)
	}
	if _, err := f.meta.GetObject(context.Background(), "data", "backups/db.dump"); !errors.Is(err, meta.ErrNoSuchKey) {
		t.Errorf("after day 365: %v, want the object gone", err)
	}
	if n := f.files("archive"); n != 0 {
		t.Errorf("archive holds %d blobs after the expiration, want 0", n)
	}
	if b, err := f.get("data", "other/file"); err != nil || len(b) != len(body) {
		t.Errorf("the uncovered object: %d bytes, %v", len(b), err)
	}
}

// TestLifecycleTrashBucket is scenario A: a rule sends everything in the
// trash bucket to GLACIER after 0 days; the object stays listed, as
// GLACIER.
func TestLifecycleTrashBucket(t *testing.T) {
	f := newFixture(t)
	f.putLifecycle("trash", `<LifecycleConfiguration><Rule><ID>to-glacier</ID><Status>Enabled</Status><Filter/>
		<Transition><Days>0</Days><StorageClass>GLACIER</StorageClass></Transition></Rule></LifecycleConfiguration>`)
	f.put("trash", "deleted/report.pdf", Standard, []byte(strings.Repeat("x", 200<<10)))
	f.clock.Advance(24 * time.Hour)
	if res := f.runLifecycle(); res.Transitioned != 1 {
		t.Fatalf("RunLifecycle: %+v, want one transition", res)
	}
	page, err := f.svc.ListObjects(context.Background(), "trash", meta.ListParams{MaxKeys: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Objects) != 1 || page.Objects[0].StorageClass != Glacier {
		t.Errorf("listing: %+v, want the object as GLACIER", page.Objects)
	}
}

// TestLifecycleConfigChangeReconciles: objects written before a rule
// existed are scheduled by the reconciliation that the new configuration
// starts, and a deleted configuration unschedules them.
func TestLifecycleConfigChangeReconciles(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for i := range 5 {
		f.put("data", fmt.Sprintf("backups/%d", i), Standard, []byte(strings.Repeat("y", 130<<10)))
	}
	f.putLifecycle("data", backupRules)
	if seen, changed, err := f.svc.ReconcileLifecycle(ctx, 3); err != nil || seen != 3 || changed != 3 {
		t.Fatalf("first step: seen %d changed %d, %v; want 3, 3", seen, changed, err)
	}
	if seen, changed, err := f.svc.ReconcileLifecycle(ctx, 3); err != nil || seen != 2 || changed != 2 {
		t.Fatalf("second step: seen %d changed %d, %v; want 2, 2", seen, changed, err)
	}
	if seen, _, _ := f.svc.ReconcileLifecycle(ctx, 3); seen != 0 {
		t.Errorf("after the walk finished: seen %d, want 0", seen)
	}
	f.clock.Advance(31 * 24 * time.Hour)
	if res := f.runLifecycle(); res.Transitioned != 5 {
		t.Fatalf("RunLifecycle: %+v, want 5 transitions", res)
	}
	if err := f.svc.DeleteBucketLifecycle(ctx, "data"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.svc.ReconcileLifecycle(ctx, 100); err != nil {
		t.Fatal(err)
	}
	if o := f.head("data", "backups/0"); !o.LifecycleDue.IsZero() {
		t.Errorf("due after the configuration was deleted: %v", o.LifecycleDue)
	}
}

// TestLifecycleTagsAndOverwrites: a tag filter schedules an object when
// its tags come to match; an object overwritten after it fell due is
// judged afresh, never expired as the old version.
func TestLifecycleTagsAndOverwrites(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.putLifecycle("data", `<LifecycleConfiguration><Rule><ID>temp</ID><Status>Enabled</Status>
		<Filter><Tag><Key>temp</Key><Value>yes</Value></Tag></Filter><Expiration><Days>1</Days></Expiration></Rule></LifecycleConfiguration>`)
	f.put("data", "a", Standard, []byte("aaa"))
	if o := f.head("data", "a"); !o.LifecycleDue.IsZero() {
		t.Fatalf("untagged object scheduled at %v", o.LifecycleDue)
	}
	if _, err := f.svc.PutObjectTagging(ctx, "data", "a", "", []meta.Tag{{Key: "temp", Value: "yes"}}); err != nil {
		t.Fatal(err)
	}
	if o := f.head("data", "a"); o.LifecycleDue.IsZero() {
		t.Fatalf("tagged object not scheduled")
	}
	f.clock.Advance(3 * 24 * time.Hour)
	// Overwritten (without the tag) just before the engine runs: the
	// new object is not due and must survive.
	due, _ := f.meta.DueObjects(ctx, f.clock.Now(), 10)
	f.put("data", "a", Standard, []byte("new"))
	for i := range due {
		if _, _, err := f.meta.ExpireObject(ctx, due[i].Bucket, due[i].Key, due[i].ETag, due[i].LastModified); err != nil {
			t.Fatal(err)
		}
	}
	if res := f.runLifecycle(); res.Applied() != 0 {
		t.Errorf("RunLifecycle after the overwrite: %+v, want nothing", res)
	}
	if b, err := f.get("data", "a"); err != nil || string(b) != "new" {
		t.Errorf("the new object: %q, %v", b, err)
	}
}

// TestLifecycleAbortsIncompleteUploads: an upload older than
// DaysAfterInitiation (rounded to midnight) is aborted with its parts.
func TestLifecycleAbortsIncompleteUploads(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.putLifecycle("data", `<LifecycleConfiguration><Rule><ID>abort</ID><Status>Enabled</Status><Filter><Prefix>up/</Prefix></Filter>
		<AbortIncompleteMultipartUpload><DaysAfterInitiation>7</DaysAfterInitiation></AbortIncompleteMultipartUpload></Rule></LifecycleConfiguration>`)
	old, err := f.svc.CreateMultipartUpload(ctx, CreateUploadInput{Bucket: "data", Key: "up/old", Owner: "owner"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.UploadPart(ctx, UploadPartInput{Bucket: "data", Key: "up/old", UploadID: old.ID, PartNumber: 1,
		Body: strings.NewReader("part"), Size: 4}); err != nil {
		t.Fatal(err)
	}
	other, err := f.svc.CreateMultipartUpload(ctx, CreateUploadInput{Bucket: "data", Key: "keep/old", Owner: "owner"})
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(6 * 24 * time.Hour)
	if n, err := f.svc.AbortExpiredUploads(ctx); err != nil || n != 0 {
		t.Fatalf("after 6 days: aborted %d, %v; want none", n, err)
	}
	f.clock.Advance(2 * 24 * time.Hour)
	if n, err := f.svc.AbortExpiredUploads(ctx); err != nil || n != 1 {
		t.Fatalf("after 8 days: aborted %d, %v; want 1", n, err)
	}
	if _, err := f.meta.GetUpload(ctx, "data", "up/old", old.ID); !errors.Is(err, meta.ErrNoSuchUpload) {
		t.Errorf("the old upload: %v, want it gone", err)
	}
	if _, err := f.meta.GetUpload(ctx, "data", "keep/old", other.ID); err != nil {
		t.Errorf("an upload no rule covers was aborted: %v", err)
	}
}
