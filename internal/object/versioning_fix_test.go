package object

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/firnhq/firn/internal/clock"
)

// TestUndeleteReschedules: deleting the delete marker brings the object
// back, with the lifecycle due time of a current object again.
func TestUndeleteReschedules(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	if err := f.svc.PutBucketVersioning(ctx, "data", VersioningEnabled); err != nil {
		t.Fatal(err)
	}
	f.putLifecycle("data", `<LifecycleConfiguration><Rule><ID>x</ID><Status>Enabled</Status><Filter></Filter>
		<Expiration><Days>3</Days></Expiration></Rule></LifecycleConfiguration>`)
	o := f.put("data", "k", Standard, []byte("v"))
	want := f.head("data", "k").LifecycleDue
	r, err := f.svc.DeleteObject(ctx, "data", "k", "")
	if err != nil || !r.DeleteMarker {
		t.Fatal(err)
	}
	if _, err := f.svc.DeleteObject(ctx, "data", "k", r.VersionID); err != nil {
		t.Fatal(err)
	}
	if got := f.head("data", "k"); got.VersionID != o.VersionID || !got.LifecycleDue.Equal(want) {
		t.Errorf("undeleted object: version %s due %v, want %v", got.VersionID, got.LifecycleDue, want)
	}
}

// TestEmptyBlobObjects: an empty object of a class that never keeps
// bytes in its record reads back empty, and transitions and restores
// handle it.
func TestEmptyBlobObjects(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.put("data", "empty", GlacierIR, nil)
	if got, err := f.get("data", "empty"); err != nil || len(got) != 0 {
		t.Fatalf("GET of an empty GLACIER_IR object: %q %v", got, err)
	}
	_, rd, err := f.svc.GetObject(ctx, GetInput{Bucket: "data", Key: "empty", Range: &Range{First: 0, Last: -1}})
	if err == nil {
		io.Copy(io.Discard, rd)
		rd.Close()
	}
	f.put("data", "cold-empty", Glacier, nil)
	if _, err := f.restore("cold-empty", 1, TierExpedited); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(time.Hour)
	f.run()
	if got, err := f.get("data", "cold-empty"); err != nil || len(got) != 0 {
		t.Errorf("restored empty object: %q %v", got, err)
	}
}

// TestRestoreOfInlineArchivedObject: with GLACIER kept on the hot tier,
// a small archived object lives in its record; its restored copy is its
// bytes, not nothing.
func TestRestoreOfInlineArchivedObject(t *testing.T) {
	f := &fixture{t: t, dir: t.TempDir(), clock: clock.NewFake(time.Date(2026, 3, 10, 10, 30, 0, 0, time.UTC))}
	f.tune = func(c *Config) { c.ClassTiers = map[string]string{Glacier: ""} }
	f.open()
	t.Cleanup(func() { f.meta.Close() })
	if err := f.svc.CreateBucket(context.Background(), "data", "", "owner"); err != nil {
		t.Fatal(err)
	}
	body := []byte(strings.Repeat("s", 100))
	f.put("data", "small", Glacier, body)
	if o := f.head("data", "small"); o.Inline == nil {
		t.Skip("the object was not kept inline; nothing to check")
	}
	if _, err := f.restore("small", 1, TierExpedited); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(time.Hour)
	f.run()
	if got, err := f.get("data", "small"); err != nil || !bytes.Equal(got, body) {
		t.Errorf("restored inline object: %q %v", got, err)
	}
}
