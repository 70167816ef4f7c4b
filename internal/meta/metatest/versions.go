package metatest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/firnhq/firn/internal/meta"
)

// version returns an object version of key held by blob, written at
// stamp plus n seconds.
func version(key, id, blob string, n int) *meta.Object {
	o := newObject(bucket, key, blob)
	o.VersionID = id
	o.LastModified = stamp.Add(time.Duration(n) * time.Second)
	return o
}

func marker(key, id string, n int) *meta.Object {
	return &meta.Object{Bucket: bucket, Key: key, VersionID: id, DeleteMarker: true, Owner: "owner",
		LastModified: stamp.Add(time.Duration(n) * time.Second), StorageClass: "STANDARD"}
}

// versionsOf lists key's versions as "id" or "id(m)" for markers, with a
// "*" on the latest, newest first.
func versionsOf(t *testing.T, s meta.Store, key string) []string {
	t.Helper()
	vs, err := s.ScanVersions(t.Context(), bucket, key, "", "", 1000)
	must(t, "ScanVersions", err)
	var out []string
	for _, v := range vs {
		if v.Key != key {
			continue
		}
		id := v.VersionID
		if v.DeleteMarker {
			id += "(m)"
		}
		if v.IsLatest {
			id += "*"
		}
		out = append(out, id)
	}
	return out
}

func checkVersions(t *testing.T, s meta.Store, what, key string, want ...string) {
	t.Helper()
	if got := versionsOf(t, s, key); !slices.Equal(got, want) {
		t.Errorf("%s: versions of %q: got %q, want %q", what, key, got, want)
	}
}

func testVersionsStack(t *testing.T, s meta.Store) {
	createBucket(t, s, bucket)
	checkFreed(t, "first put", put(t, s, version("k", "null", "b0", 0)), nil)
	checkFreed(t, "v1 over null", put(t, s, version("k", "v1", "b1", 1)), nil)
	checkFreed(t, "v2 over v1", put(t, s, version("k", "v2", "b2", 2)), nil)
	checkVersions(t, s, "after three puts", "k", "v2*", "v1", "null")
	if o := get(t, s, bucket, "k"); o.VersionID != "v2" {
		t.Errorf("GetObject: version %q, want v2", o.VersionID)
	}
	v1, err := s.GetVersion(t.Context(), bucket, "k", "v1")
	must(t, "GetVersion v1", err)
	checkObject(t, "GetVersion v1", v1, version("k", "v1", "b1", 1), true)
	if v1.IsLatest || !closeTime(v1.NoncurrentSince, stamp.Add(2*time.Second)) {
		t.Errorf("GetVersion v1: IsLatest %v NoncurrentSince %v, want false and the time of v2", v1.IsLatest, v1.NoncurrentSince)
	}
	latest, err := s.GetVersion(t.Context(), bucket, "k", "")
	must(t, "GetVersion latest", err)
	if latest.VersionID != "v2" || !latest.IsLatest || !latest.NoncurrentSince.IsZero() {
		t.Errorf("GetVersion latest: %q IsLatest %v NoncurrentSince %v", latest.VersionID, latest.IsLatest, latest.NoncurrentSince)
	}
	_, err = s.GetVersion(t.Context(), bucket, "k", "nope")
	wantErr(t, "GetVersion of a missing version", err, meta.ErrNoSuchVersion)
	_, err = s.GetVersion(t.Context(), bucket, "other", "")
	wantErr(t, "GetVersion of a missing key", err, meta.ErrNoSuchKey)
	_, err = s.GetVersion(t.Context(), "nobucket", "k", "")
	wantErr(t, "GetVersion in a missing bucket", err, meta.ErrNoSuchBucket)
	checkRefs(t, s, "all versions", map[string]bool{"b0": true, "b1": true, "b2": true})

	// Deleting the current version makes the previous one current.
	d, freed, err := s.DeleteVersion(t.Context(), bucket, "k", "v2")
	must(t, "DeleteVersion v2", err)
	checkFreed(t, "DeleteVersion v2", freed, []string{"b2"})
	if d == nil || d.VersionID != "v2" {
		t.Errorf("DeleteVersion v2: deleted %+v", d)
	}
	checkVersions(t, s, "after deleting v2", "k", "v1*", "null")
	if o := get(t, s, bucket, "k"); o.VersionID != "v1" || !o.NoncurrentSince.IsZero() {
		t.Errorf("GetObject after deleting v2: version %q noncurrent since %v, want v1, current", o.VersionID, o.NoncurrentSince)
	}
	// A noncurrent version goes alone.
	_, freed, err = s.DeleteVersion(t.Context(), bucket, "k", "null")
	must(t, "DeleteVersion null", err)
	checkFreed(t, "DeleteVersion null", freed, []string{"b0"})
	checkVersions(t, s, "after deleting null", "k", "v1*")
	d, freed, err = s.DeleteVersion(t.Context(), bucket, "k", "gone")
	if err != nil || d != nil || freed != nil {
		t.Errorf("DeleteVersion of a missing version: %v %v %v, want nothing", d, freed, err)
	}
	checkRefs(t, s, "after deletes", map[string]bool{"b0": false, "b1": true, "b2": false})
}

func testVersionsDeleteMarker(t *testing.T, s meta.Store) {
	createBucket(t, s, bucket)
	put(t, s, version("k", "v1", "b1", 1))
	checkFreed(t, "marker", put(t, s, marker("k", "m1", 2)), nil)
	checkVersions(t, s, "after marker", "k", "m1(m)*", "v1")
	_, err := s.GetObject(t.Context(), bucket, "k")
	wantErr(t, "GetObject under a marker", err, meta.ErrNoSuchKey)
	objs, err := s.ScanObjects(t.Context(), bucket, "", "", 10)
	must(t, "ScanObjects", err)
	if len(objs) != 0 {
		t.Errorf("ScanObjects under a marker: %q, want none", keysOf(objs))
	}
	l, err := s.GetVersion(t.Context(), bucket, "k", "")
	must(t, "GetVersion latest", err)
	if !l.DeleteMarker || l.VersionID != "m1" || !l.IsLatest {
		t.Errorf("latest version: %+v, want marker m1", l)
	}
	// A put over a marker: nothing to demote, the marker stays.
	put(t, s, version("k", "v2", "b2", 3))
	checkVersions(t, s, "put over marker", "k", "v2*", "m1(m)", "v1")
	put(t, s, marker("k", "m2", 4))
	put(t, s, marker("k", "m3", 5))
	checkVersions(t, s, "two markers", "k", "m3(m)*", "m2(m)", "v2", "m1(m)", "v1")
	// Removing the newest marker leaves a marker latest; removing that
	// one makes v2 current again.
	d, _, err := s.DeleteVersion(t.Context(), bucket, "k", "m3")
	must(t, "DeleteVersion m3", err)
	if d == nil || !d.DeleteMarker {
		t.Errorf("DeleteVersion m3: deleted %+v, want the marker", d)
	}
	checkVersions(t, s, "after deleting m3", "k", "m2(m)*", "v2", "m1(m)", "v1")
	_, err = s.GetObject(t.Context(), bucket, "k")
	wantErr(t, "GetObject under m2", err, meta.ErrNoSuchKey)
	_, _, err = s.DeleteVersion(t.Context(), bucket, "k", "m2")
	must(t, "DeleteVersion m2", err)
	if o := get(t, s, bucket, "k"); o.VersionID != "v2" {
		t.Errorf("GetObject after removing markers: %q, want v2", o.VersionID)
	}
	// A bucket holding only versions and markers is not empty.
	_, _, err = s.DeleteVersion(t.Context(), bucket, "k", "v2")
	must(t, "DeleteVersion v2", err)
	checkVersions(t, s, "only old versions", "k", "m1(m)*", "v1")
	_, err = s.DeleteBucket(t.Context(), bucket)
	wantErr(t, "DeleteBucket with versions", err, meta.ErrBucketNotEmpty)
	for _, v := range []string{"m1", "v1"} {
		_, _, err := s.DeleteVersion(t.Context(), bucket, "k", v)
		must(t, "DeleteVersion "+v, err)
	}
	checkVersions(t, s, "all gone", "k")
	_, err = s.DeleteBucket(t.Context(), bucket)
	must(t, "DeleteBucket emptied", err)
}

func testVersionsNull(t *testing.T, s meta.Store) {
	createBucket(t, s, bucket)
	put(t, s, version("k", "null", "b0", 0))
	checkFreed(t, "null over null", put(t, s, version("k", "null", "b1", 1)), []string{"b0"})
	checkVersions(t, s, "unversioned", "k", "null*")
	put(t, s, version("k", "v1", "b2", 2))
	// Suspended: a new null version replaces the noncurrent one.
	checkFreed(t, "null over v1", put(t, s, version("k", "null", "b3", 3)), []string{"b1"})
	checkVersions(t, s, "suspended put", "k", "null*", "v1")
	// Suspended delete: the null version goes, a null marker comes.
	checkFreed(t, "null marker", put(t, s, marker("k", "null", 4)), []string{"b3"})
	checkVersions(t, s, "suspended delete", "k", "null(m)*", "v1")
	checkFreed(t, "null over null marker", put(t, s, version("k", "null", "b4", 5)), nil)
	checkVersions(t, s, "null over marker", "k", "null*", "v1")
	// Enabled again: a marker over the null version keeps it.
	put(t, s, marker("k", "m1", 6))
	checkVersions(t, s, "enabled delete", "k", "m1(m)*", "null", "v1")
	checkRefs(t, s, "null versions", map[string]bool{"b0": false, "b1": false, "b2": true, "b3": false, "b4": true})
	// A duplicate version id is refused and changes nothing.
	if _, err := s.PutObject(t.Context(), version("k", "v1", "b5", 7), nil); err == nil {
		t.Errorf("PutObject with an existing version id: got nil error")
	}
	checkVersions(t, s, "after refused duplicate", "k", "m1(m)*", "null", "v1")
}

func testVersionsUpdate(t *testing.T, s meta.Store) {
	createBucket(t, s, bucket)
	put(t, s, version("k", "v1", "b1", 1))
	put(t, s, version("k", "v2", "b2", 2))
	tags := []meta.Tag{{Key: "a", Value: "1"}}
	must(t, "UpdateVersion v1", s.UpdateVersion(t.Context(), bucket, "k", "v1", func(o *meta.Object) error {
		if o.VersionID != "v1" {
			t.Errorf("UpdateVersion v1: fn got %q", o.VersionID)
		}
		o.Tags = tags
		return nil
	}))
	v1, err := s.GetVersion(t.Context(), bucket, "k", "v1")
	must(t, "GetVersion v1", err)
	if !slices.Equal(v1.Tags, tags) {
		t.Errorf("v1 tags: %v, want %v", v1.Tags, tags)
	}
	if o := get(t, s, bucket, "k"); len(o.Tags) != 0 {
		t.Errorf("current version's tags changed: %v", o.Tags)
	}
	err = s.UpdateVersion(t.Context(), bucket, "k", "v1", func(o *meta.Object) error {
		o.Segments = nil
		return nil
	})
	if err == nil {
		t.Errorf("UpdateVersion changing bytes: got nil error")
	}
	err = s.UpdateVersion(t.Context(), bucket, "k", "zz", func(*meta.Object) error { return nil })
	wantErr(t, "UpdateVersion missing", err, meta.ErrNoSuchVersion)
	err = s.UpdateVersion(t.Context(), bucket, "k", "v1", func(*meta.Object) error { return errCheck })
	wantErr(t, "UpdateVersion refusing", err, errCheck)
}

func testVersionsScan(t *testing.T, s meta.Store) {
	createBucket(t, s, bucket)
	var all []string
	for _, k := range []string{"a", "b/1", "b/2", "c"} {
		for i := range 3 {
			id := fmt.Sprintf("%s-v%d", k, i)
			if k == "c" && i == 2 {
				put(t, s, marker(k, id, i))
			} else {
				put(t, s, version(k, id, "blob-"+id, i))
			}
		}
		for i := 2; i >= 0; i-- {
			all = append(all, fmt.Sprintf("%s-v%d", k, i))
		}
	}
	ids := func(vs []meta.Object) []string {
		var out []string
		for _, v := range vs {
			out = append(out, v.VersionID)
		}
		return out
	}
	vs, err := s.ScanVersions(t.Context(), bucket, "", "", "", 100)
	must(t, "ScanVersions", err)
	if !slices.Equal(ids(vs), all) {
		t.Fatalf("ScanVersions: %q, want %q", ids(vs), all)
	}
	for i, v := range vs {
		if want := i%3 == 0; v.IsLatest != want || v.Inline != nil {
			t.Errorf("ScanVersions %s: IsLatest %v, want %v (inline %q)", v.VersionID, v.IsLatest, want, v.Inline)
		}
	}
	// Page through by (key, version) in steps of 2.
	var paged []string
	ak, av := "", ""
	for range 20 {
		page, err := s.ScanVersions(t.Context(), bucket, "", ak, av, 2)
		must(t, "ScanVersions page", err)
		if len(page) == 0 {
			break
		}
		paged = append(paged, ids(page)...)
		ak, av = page[len(page)-1].Key, page[len(page)-1].VersionID
	}
	if !slices.Equal(paged, all) {
		t.Errorf("paged ScanVersions: %q, want %q", paged, all)
	}
	vs, err = s.ScanVersions(t.Context(), bucket, "b/", "", "", 100)
	must(t, "ScanVersions prefix", err)
	if !slices.Equal(ids(vs), all[3:9]) {
		t.Errorf("ScanVersions prefix b/: %q, want %q", ids(vs), all[3:9])
	}
	vs, err = s.ScanVersions(t.Context(), bucket, "", "b/1", "", 100)
	must(t, "ScanVersions after a key", err)
	if !slices.Equal(ids(vs), all[6:]) {
		t.Errorf("ScanVersions after b/1: %q, want %q", ids(vs), all[6:])
	}
	_, err = s.ScanVersions(t.Context(), "nobucket", "", "", "", 10)
	wantErr(t, "ScanVersions missing bucket", err, meta.ErrNoSuchBucket)
}

func testVersionsRestore(t *testing.T, s meta.Store) {
	createBucket(t, s, bucket)
	old := version("k", "v1", "b1", 1)
	old.StorageClass = "GLACIER"
	put(t, s, old)
	put(t, s, version("k", "v2", "b2", 2))
	err := s.StartRestore(t.Context(), bucket, "k", "v1", func(o *meta.Object, active *meta.RestoreJob, _ meta.JobReader) (*meta.RestoreJob, error) {
		if o.VersionID != "v1" || o.StorageClass != "GLACIER" {
			t.Errorf("StartRestore v1: decide got %q %s", o.VersionID, o.StorageClass)
		}
		o.Restore = &meta.Restore{Ongoing: true, Tier: "Standard", Days: 1, Requested: stamp}
		return &meta.RestoreJob{ID: "j1", Bucket: bucket, Key: "k", VersionID: "v1", ObjectETag: o.ETag, ObjectModified: o.LastModified,
			StorageClass: o.StorageClass, Tier: "Standard", Days: 1, Requested: stamp, Due: stamp, State: meta.RestorePending}, nil
	})
	must(t, "StartRestore v1", err)
	jobs, err := s.ClaimRestores(t.Context(), stamp.Add(time.Hour), "w", time.Minute, 10)
	must(t, "ClaimRestores", err)
	if len(jobs) != 1 {
		t.Fatalf("ClaimRestores: %d jobs, want 1", len(jobs))
	}
	_, err = s.CompleteRestore(t.Context(), "j1", "w", meta.RestoreCompletion{Copy: []meta.Segment{{BlobID: "copy1", Size: 100}},
		Completed: stamp.Add(time.Hour), Expiry: stamp.Add(48 * time.Hour)})
	must(t, "CompleteRestore", err)
	v1, err := s.GetVersion(t.Context(), bucket, "k", "v1")
	must(t, "GetVersion v1", err)
	if v1.Restore == nil || v1.Restore.Ongoing || len(v1.Restore.Copy) != 1 {
		t.Errorf("restored noncurrent version: %+v", v1.Restore)
	}
	if cur := get(t, s, bucket, "k"); cur.Restore != nil {
		t.Errorf("current version got the restore: %+v", cur.Restore)
	}
	checkRefs(t, s, "restored copy", map[string]bool{"copy1": true})
	err = s.StartRestore(t.Context(), bucket, "k", "nope", func(*meta.Object, *meta.RestoreJob, meta.JobReader) (*meta.RestoreJob, error) { return nil, nil })
	wantErr(t, "StartRestore missing version", err, meta.ErrNoSuchVersion)
	_, freed, err := s.DeleteVersion(t.Context(), bucket, "k", "v1")
	must(t, "DeleteVersion v1", err)
	checkFreed(t, "DeleteVersion restored v1", freed, []string{"b1", "copy1"})
}

func testVersionsRewriteAndDue(t *testing.T, s meta.Store) {
	createBucket(t, s, bucket)
	put(t, s, version("k", "v1", "b1", 1))
	put(t, s, version("k", "v2", "b2", 2))
	// A noncurrent version moves to other bytes and keeps its place.
	moved := version("k", "v1", "b1-archived", 1)
	moved.StorageClass = "GLACIER"
	freed, err := s.RewriteVersion(t.Context(), moved, func(cur *meta.Object) error {
		if cur.VersionID != "v1" || cur.IsLatest {
			t.Errorf("RewriteVersion check saw %q latest %v", cur.VersionID, cur.IsLatest)
		}
		return nil
	})
	must(t, "RewriteVersion v1", err)
	checkFreed(t, "RewriteVersion v1", freed, []string{"b1"})
	checkVersions(t, s, "after rewrite", "k", "v2*", "v1")
	v1, err := s.GetVersion(t.Context(), bucket, "k", "v1")
	must(t, "GetVersion v1", err)
	if v1.StorageClass != "GLACIER" || v1.Segments[0].BlobID != "b1-archived" || !closeTime(v1.NoncurrentSince, stamp.Add(2*time.Second)) {
		t.Errorf("rewritten v1: %s %+v noncurrent since %v", v1.StorageClass, v1.Segments, v1.NoncurrentSince)
	}
	checkRefs(t, s, "after rewrite", map[string]bool{"b1": false, "b1-archived": true, "b2": true})
	// Only the bytes' place changes: metadata changed since the caller
	// read the version stays.
	tags := []meta.Tag{{Key: "kept", Value: "yes"}}
	must(t, "UpdateVersion tags", s.UpdateVersion(t.Context(), bucket, "k", "v1", func(o *meta.Object) error { o.Tags = tags; return nil }))
	again := version("k", "v1", "b1-deep", 1)
	again.StorageClass = "DEEP_ARCHIVE"
	_, err = s.RewriteVersion(t.Context(), again, nil)
	must(t, "RewriteVersion after a tag change", err)
	if v, err := s.GetVersion(t.Context(), bucket, "k", "v1"); err != nil || !slices.Equal(v.Tags, tags) || v.StorageClass != "DEEP_ARCHIVE" {
		t.Errorf("rewrite lost a concurrent tag change: %+v %v", v, err)
	}
	must(t, "put back", func() error { _, err := s.RewriteVersion(t.Context(), moved, nil); return err }())
	_, err = s.RewriteVersion(t.Context(), version("k", "v1", "b9", 1), func(*meta.Object) error { return errCheck })
	wantErr(t, "RewriteVersion refused", err, errCheck)
	_, err = s.RewriteVersion(t.Context(), version("k", "zz", "b9", 1), nil)
	wantErr(t, "RewriteVersion missing", err, meta.ErrNoSuchVersion)

	// Noncurrent versions are found by their due time.
	due := stamp.Add(time.Hour)
	n, err := s.UpdateLifecycle(t.Context(), []meta.LifecycleUpdate{{Bucket: bucket, Key: "k", VersionID: "v1",
		ETag: v1.ETag, Modified: v1.LastModified, Due: due, StorageClass: "DEEP_ARCHIVE"}})
	must(t, "UpdateLifecycle v1", err)
	if n != 1 {
		t.Errorf("UpdateLifecycle of a noncurrent version applied %d, want 1", n)
	}
	got, err := s.DueVersions(t.Context(), due.Add(-time.Second), 10)
	must(t, "DueVersions before", err)
	if len(got) != 0 {
		t.Errorf("DueVersions before the due time: %d", len(got))
	}
	got, err = s.DueVersions(t.Context(), due, 10)
	must(t, "DueVersions", err)
	if len(got) != 1 || got[0].VersionID != "v1" || got[0].StorageClass != "DEEP_ARCHIVE" || got[0].IsLatest {
		t.Errorf("DueVersions: %+v, want v1 in DEEP_ARCHIVE", got)
	}
	if c, oldest, err := s.LifecycleBacklog(t.Context(), due); err != nil || c != 1 || !closeTime(oldest, due) {
		t.Errorf("LifecycleBacklog: %d %v %v, want 1 at %v", c, oldest, err, due)
	}
}
