package metatest

import (
	"slices"
	"testing"
	"time"

	"github.com/firnhq/firn/internal/meta"
)

// testLifecycleDue: LifecycleDue is stored with the object, DueObjects
// finds exactly the due ones in due order, SetLifecycleDue changes only
// the version it names, and the backlog counts what is due.
func testLifecycleDue(t *testing.T, s meta.Store) {
	createBucketOnce(t, s)
	put := func(key string, due time.Time) *meta.Object {
		o := newObject(bucket, key, "blob-"+key)
		o.LifecycleDue = due
		_, err := s.PutObject(t.Context(), o, nil)
		must(t, "PutObject "+key, err)
		return o
	}
	day := 24 * time.Hour
	put("none", time.Time{})
	late := put("late", stamp.Add(2*day))
	put("early", stamp.Add(day))
	put("future", stamp.Add(10*day))
	got, err := s.GetObject(t.Context(), bucket, "late")
	must(t, "GetObject", err)
	if !got.LifecycleDue.Equal(stamp.Add(2 * day)) {
		t.Errorf("LifecycleDue read back %v, want %v", got.LifecycleDue, stamp.Add(2*day))
	}
	keys := func(os []meta.Object) []string {
		var out []string
		for _, o := range os {
			out = append(out, o.Key)
		}
		return out
	}
	due, err := s.DueObjects(t.Context(), stamp.Add(3*day), 10)
	must(t, "DueObjects", err)
	if got := keys(due); !slices.Equal(got, []string{"early", "late"}) {
		t.Errorf("DueObjects: got %v, want [early late]", got)
	}
	if due, _ := s.DueObjects(t.Context(), stamp.Add(3*day), 1); len(due) != 1 || due[0].Key != "early" {
		t.Errorf("DueObjects limit 1: got %v", keys(due))
	}
	n, oldest, err := s.LifecycleBacklog(t.Context(), stamp.Add(3*day))
	must(t, "LifecycleBacklog", err)
	if n != 2 || !oldest.Equal(stamp.Add(day)) {
		t.Errorf("backlog: %d, oldest %v; want 2, %v", n, oldest, stamp.Add(day))
	}

	// Updates apply to the version they name only, in one call.
	applied, err := s.UpdateLifecycle(t.Context(), []meta.LifecycleUpdate{
		{Bucket: bucket, Key: "late", ETag: late.ETag, Modified: late.LastModified, Due: stamp.Add(20 * day)},
		{Bucket: bucket, Key: "early", ETag: "another-etag", Modified: stamp},
		{Bucket: bucket, Key: "missing", ETag: "e", Modified: stamp},
		{Bucket: "no-such-bucket", Key: "k", ETag: "e", Modified: stamp},
	})
	must(t, "UpdateLifecycle", err)
	if applied != 1 {
		t.Errorf("UpdateLifecycle applied %d updates, want 1", applied)
	}
	// A transition that moves no bytes changes the class with the due time.
	fut, _ := s.GetObject(t.Context(), bucket, "future")
	applied, err = s.UpdateLifecycle(t.Context(), []meta.LifecycleUpdate{
		{Bucket: bucket, Key: "future", ETag: fut.ETag, Modified: fut.LastModified, StorageClass: "STANDARD_IA", Due: stamp.Add(10 * day)},
	})
	must(t, "UpdateLifecycle class", err)
	if got, _ := s.GetObject(t.Context(), bucket, "future"); applied != 1 || got.StorageClass != "STANDARD_IA" || !got.LastModified.Equal(fut.LastModified) {
		t.Errorf("transition in place: applied %d, class %s, modified %v", applied, got.StorageClass, got.LastModified)
	}
	due, _ = s.DueObjects(t.Context(), stamp.Add(30*day), 10)
	if got := keys(due); !slices.Equal(got, []string{"early", "future", "late"}) {
		t.Errorf("DueObjects after the move: got %v, want [early future late]", got)
	}
	// An update in place keeps the due time unless it changes it; a
	// delete takes the object out of the index.
	must(t, "UpdateObject", s.UpdateObject(t.Context(), bucket, "future", func(o *meta.Object) error {
		o.Tags = []meta.Tag{{Key: "k", Value: "v"}}
		return nil
	}))
	if got, _ := s.GetObject(t.Context(), bucket, "future"); !got.LifecycleDue.Equal(stamp.Add(10 * day)) {
		t.Errorf("UpdateObject lost LifecycleDue: %v", got.LifecycleDue)
	}
	// Expiring a version that is no longer current does nothing.
	del, _, err := s.ExpireObject(t.Context(), bucket, "early", "another-etag", stamp)
	must(t, "ExpireObject of another version", err)
	if del != nil {
		t.Errorf("ExpireObject deleted a version it did not name")
	}
	early, _ := s.GetObject(t.Context(), bucket, "early")
	del, freed, err := s.ExpireObject(t.Context(), bucket, "early", early.ETag, early.LastModified)
	must(t, "ExpireObject", err)
	if del == nil || !slices.Equal(freed, []string{"blob-early"}) {
		t.Errorf("ExpireObject: deleted %v, freed %v; want the object and its blob", del != nil, freed)
	}
	if _, err := s.GetObject(t.Context(), bucket, "early"); err == nil {
		t.Errorf("the expired object is still there")
	}
	due, _ = s.DueObjects(t.Context(), stamp.Add(30*day), 10)
	if got := keys(due); !slices.Equal(got, []string{"future", "late"}) {
		t.Errorf("DueObjects after delete: got %v", got)
	}
}
