package metatest

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/firnhq/firn/internal/meta"
)

func newUpload(id, key string) meta.Upload {
	return meta.Upload{
		ID: id, Bucket: bucket, Key: key, Initiated: stamp, Owner: "AKIDUP",
		Template: meta.Object{StorageClass: "STANDARD"},
	}
}

func createUpload(t *testing.T, s meta.Store, u meta.Upload) {
	t.Helper()
	must(t, "CreateUpload "+u.ID, s.CreateUpload(t.Context(), u))
}

func newPart(upload string, n int, blob string) meta.Part {
	return meta.Part{
		UploadID: upload, Number: n, Size: int64(1000 + n), ETag: fmt.Sprintf("etag-%d-%s", n, blob),
		Checksum: fmt.Sprintf("sum%d==", n), LastModified: stamp.Add(time.Duration(n) * time.Second), BlobID: blob,
	}
}

func putPart(t *testing.T, s meta.Store, key string, p meta.Part) []string {
	t.Helper()
	freed, err := s.PutPart(t.Context(), bucket, key, p)
	must(t, fmt.Sprintf("PutPart %s #%d", p.UploadID, p.Number), err)
	return freed
}

func checkUpload(t *testing.T, what string, got, want meta.Upload) {
	t.Helper()
	if got.ID != want.ID || got.Bucket != want.Bucket || got.Key != want.Key || got.Owner != want.Owner || !closeTime(got.Initiated, want.Initiated) {
		t.Errorf("%s: got upload {%q %q %q %v %q}, want {%q %q %q %v %q}", what,
			got.ID, got.Bucket, got.Key, got.Initiated, got.Owner, want.ID, want.Bucket, want.Key, want.Initiated, want.Owner)
	}
	g, w := got.Template, want.Template
	if g.StorageClass != w.StorageClass {
		t.Errorf("%s: Template.StorageClass got %q, want %q", what, g.StorageClass, w.StorageClass)
	}
	if !maps.Equal(g.Headers, w.Headers) {
		t.Errorf("%s: Template.Headers got %v, want %v", what, g.Headers, w.Headers)
	}
	if !maps.Equal(g.UserMeta, w.UserMeta) {
		t.Errorf("%s: Template.UserMeta got %v, want %v", what, g.UserMeta, w.UserMeta)
	}
	if !slices.Equal(g.Tags, w.Tags) {
		t.Errorf("%s: Template.Tags got %v, want %v", what, g.Tags, w.Tags)
	}
	if g.Checksum != w.Checksum {
		t.Errorf("%s: Template.Checksum got %+v, want %+v", what, g.Checksum, w.Checksum)
	}
}

func checkParts(t *testing.T, what string, got, want []meta.Part) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: got %d parts %v, want %d %v", what, len(got), partNumbers(got), len(want), partNumbers(want))
		return
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.UploadID != w.UploadID || g.Number != w.Number || g.Size != w.Size || g.ETag != w.ETag ||
			g.Checksum != w.Checksum || g.BlobID != w.BlobID || !closeTime(g.LastModified, w.LastModified) {
			t.Errorf("%s: part %d: got %+v, want %+v", what, i, g, w)
		}
	}
}

func partNumbers(ps []meta.Part) []int {
	ns := make([]int, len(ps))
	for i, p := range ps {
		ns[i] = p.Number
	}
	return ns
}

func testUploadCreateGet(t *testing.T, s meta.Store) {
	ctx := t.Context()
	createBucket(t, s, bucket)
	u := meta.Upload{
		ID: "upload-1", Bucket: bucket, Key: "dir/日本.bin",
		Initiated: time.Date(2025, 1, 2, 3, 4, 5, 678901234, time.UTC), Owner: "AKIDUP",
		Template: meta.Object{
			StorageClass: "STANDARD_IA",
			Headers:      map[string]string{"Content-Type": "application/octet-stream", "Cache-Control": "no-cache"},
			UserMeta:     map[string]string{"a": "1", "unicode": "ü"},
			Tags:         []meta.Tag{{Key: "z", Value: "last"}, {Key: "a", Value: "first"}},
			Checksum:     meta.Checksum{Algorithm: "CRC32C", Type: "COMPOSITE"},
		},
	}
	createUpload(t, s, u)
	got, err := s.GetUpload(ctx, bucket, u.Key, u.ID)
	must(t, "GetUpload", err)
	checkUpload(t, "GetUpload", got, u)

	bare := meta.Upload{ID: "upload-2", Bucket: bucket, Key: u.Key, Initiated: stamp}
	createUpload(t, s, bare)
	got, err = s.GetUpload(ctx, bucket, u.Key, bare.ID)
	must(t, "GetUpload of a bare upload", err)
	checkUpload(t, "GetUpload of a bare upload", got, bare)

	parts, err := s.ListParts(ctx, bucket, u.Key, u.ID, 0, 100)
	must(t, "ListParts of a new upload", err)
	if len(parts) != 0 {
		t.Errorf("ListParts of a new upload: got %d parts, want 0", len(parts))
	}
}

func testUploadNoSuchUpload(t *testing.T, s meta.Store) {
	ctx := t.Context()
	createBucket(t, s, bucket)
	createBucket(t, s, "other")
	createUpload(t, s, newUpload("u1", "k"))
	putPart(t, s, "k", newPart("u1", 1, "p1"))
	createUpload(t, s, newUpload("done", "k"))
	_, err := s.CompleteUpload(ctx, bucket, "k", "done", func(parts []meta.Part) (*meta.Object, error) {
		return newObject(bucket, "k"), nil
	})
	must(t, "CompleteUpload", err)
	createUpload(t, s, newUpload("aborted", "k"))
	_, err = s.AbortUpload(ctx, bucket, "k", "aborted")
	must(t, "AbortUpload", err)

	targets := []struct{ name, bkt, key, id string }{
		{"wrong key", bucket, "other-key", "u1"},
		{"key differing in case", bucket, "K", "u1"},
		{"wrong bucket", "other", "k", "u1"},
		{"missing bucket", "missing", "k", "u1"},
		{"unknown id", bucket, "k", "u2"},
		{"empty id", bucket, "k", ""},
		{"completed upload", bucket, "k", "done"},
		{"aborted upload", bucket, "k", "aborted"},
	}
	for _, tg := range targets {
		built := false
		build := func([]meta.Part) (*meta.Object, error) {
			built = true
			return newObject(tg.bkt, tg.key, "p1"), nil
		}
		calls := []struct {
			name string
			call func() error
		}{
			{"GetUpload", func() error { _, err := s.GetUpload(ctx, tg.bkt, tg.key, tg.id); return err }},
			{"PutPart", func() error {
				_, err := s.PutPart(ctx, tg.bkt, tg.key, newPart(tg.id, 2, "blob-"+tg.name))
				return err
			}},
			{"ListParts", func() error { _, err := s.ListParts(ctx, tg.bkt, tg.key, tg.id, 0, 10); return err }},
			{"CompleteUpload", func() error { _, err := s.CompleteUpload(ctx, tg.bkt, tg.key, tg.id, build); return err }},
			{"AbortUpload", func() error { _, err := s.AbortUpload(ctx, tg.bkt, tg.key, tg.id); return err }},
		}
		for _, c := range calls {
			wantErr(t, fmt.Sprintf("%s with %s", c.name, tg.name), c.call(), meta.ErrNoSuchUpload)
		}
		if built {
			t.Errorf("CompleteUpload with %s called build", tg.name)
		}
		checkRefs(t, s, "after PutPart with "+tg.name, map[string]bool{"blob-" + tg.name: false})
	}
	// None of that touched the real upload.
	parts, err := s.ListParts(ctx, bucket, "k", "u1", 0, 10)
	must(t, "ListParts", err)
	checkParts(t, "ListParts after calls with wrong coordinates", parts, []meta.Part{newPart("u1", 1, "p1")})
	checkRefs(t, s, "after calls with wrong coordinates", map[string]bool{"p1": true})
}

func testUploadPutPart(t *testing.T, s meta.Store) {
	ctx := t.Context()
	createBucket(t, s, bucket)
	createUpload(t, s, newUpload("u1", "k"))
	createUpload(t, s, newUpload("u2", "k"))
	steps := []struct {
		name  string
		part  meta.Part
		freed []string
		refs  map[string]bool
	}{
		{"first part", newPart("u1", 1, "a"), nil, map[string]bool{"a": true}},
		{"second part", newPart("u1", 2, "b"), nil, map[string]bool{"a": true, "b": true}},
		{"same number in another upload", newPart("u2", 1, "x"), nil, map[string]bool{"a": true, "x": true}},
		{"replace part 1", newPart("u1", 1, "a2"), []string{"a"}, map[string]bool{"a": false, "a2": true, "x": true}},
		{"replace part 1 with the same blob", newPart("u1", 1, "a2"), nil, map[string]bool{"a2": true}},
		{"empty part", newPart("u1", 3, ""), nil, nil},
		{"blob replaces empty part", newPart("u1", 3, "c"), nil, map[string]bool{"c": true}},
		{"empty part replaces blob", newPart("u1", 2, ""), []string{"b"}, map[string]bool{"b": false}},
		{"part 10000", newPart("u1", 10000, "last"), nil, map[string]bool{"last": true}},
	}
	for _, st := range steps {
		freed, err := s.PutPart(ctx, bucket, "k", st.part)
		if err != nil {
			t.Errorf("%s: PutPart: %v", st.name, err)
			continue
		}
		checkFreed(t, st.name, freed, st.freed)
		checkRefs(t, s, st.name, st.refs)
	}
	p1 := newPart("u1", 1, "a2")
	p1.Size, p1.ETag, p1.Checksum = 5, "changed", ""
	putPart(t, s, "k", p1)
	parts, err := s.ListParts(ctx, bucket, "k", "u1", 0, 100)
	must(t, "ListParts", err)
	checkParts(t, "ListParts", parts, []meta.Part{p1, newPart("u1", 2, ""), newPart("u1", 3, "c"), newPart("u1", 10000, "last")})
	parts, err = s.ListParts(ctx, bucket, "k", "u2", 0, 100)
	must(t, "ListParts u2", err)
	checkParts(t, "ListParts of the other upload", parts, []meta.Part{newPart("u2", 1, "x")})
}

func testUploadListParts(t *testing.T, s meta.Store) {
	ctx := t.Context()
	createBucket(t, s, bucket)
	createUpload(t, s, newUpload("u1", "k"))
	nums := []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 100, 9999, 10000}
	var want []meta.Part
	for _, n := range nums {
		want = append(want, newPart("u1", n, fmt.Sprintf("blob-%d", n)))
	}
	for _, i := range rand.Perm(len(want)) {
		putPart(t, s, "k", want[i])
	}
	for _, limit := range []int{1, 3, 4, len(nums), 1000} {
		var all []meta.Part
		after := 0
		for page := 0; ; page++ {
			if page > len(nums)+1 {
				t.Fatalf("ListParts paged by %d does not end", limit)
			}
			parts, err := s.ListParts(ctx, bucket, "k", "u1", after, limit)
			must(t, "ListParts", err)
			if len(parts) > limit {
				t.Errorf("ListParts(after %d, limit %d): got %d parts, want at most %d", after, limit, len(parts), limit)
			}
			all = append(all, parts...)
			if len(parts) < limit {
				break
			}
			after = parts[len(parts)-1].Number
		}
		checkParts(t, fmt.Sprintf("ListParts paged by %d", limit), all, want)
	}
	for _, tc := range []struct {
		after int
		want  []int
	}{
		{0, nums},
		{5, nums[5:]},
		{12, []int{100, 9999, 10000}},
		{9999, []int{10000}},
		{10000, nil},
	} {
		parts, err := s.ListParts(ctx, bucket, "k", "u1", tc.after, 1000)
		must(t, "ListParts", err)
		if got := partNumbers(parts); !slices.Equal(got, tc.want) && (len(got) > 0 || len(tc.want) > 0) {
			t.Errorf("ListParts(after %d): got %v, want %v", tc.after, got, tc.want)
		}
	}
}

// completeFixture: an object at "k" held by "old", and an upload for "k"
// with parts 1, 2, 3, 5 (empty) and 7, stored out of order.
func completeFixture(t *testing.T, s meta.Store) (old *meta.Object, parts []meta.Part) {
	createBucket(t, s, bucket)
	old = newObject(bucket, "k", "old")
	put(t, s, old)
	createUpload(t, s, newUpload("u1", "k"))
	parts = []meta.Part{newPart("u1", 1, "p1"), newPart("u1", 2, "p2"), newPart("u1", 3, "p3"), newPart("u1", 5, ""), newPart("u1", 7, "p7")}
	for _, i := range []int{3, 0, 4, 2, 1} {
		putPart(t, s, "k", parts[i])
	}
	return old, parts
}

func testUploadComplete(t *testing.T, s meta.Store) {
	ctx := t.Context()
	_, parts := completeFixture(t, s)
	// A second upload of the same key is not affected.
	createUpload(t, s, newUpload("u2", "k"))
	putPart(t, s, "k", newPart("u2", 1, "q1"))

	want := fullObject("k")
	want.VersionID = meta.NullVersion // replaces the null version "old"
	want.Segments = []meta.Segment{{BlobID: "p1", Size: 1001}, {BlobID: "p2", Size: 1002}, {BlobID: "p7", Size: 1007}}
	want.Parts = []meta.PartInfo{{Number: 1, Size: 1001, ETag: "e1"}, {Number: 2, Size: 1002, ETag: "e2"}, {Number: 7, Size: 1007, ETag: "e7"}}
	want.Size = 3010
	var got []meta.Part
	freed, err := s.CompleteUpload(ctx, bucket, "k", "u1", func(ps []meta.Part) (*meta.Object, error) {
		got = ps
		o := fullObject("k")
		o.Segments, o.Parts, o.Size, o.VersionID = want.Segments, want.Parts, want.Size, want.VersionID
		return o, nil
	})
	must(t, "CompleteUpload", err)
	checkParts(t, "parts given to build", got, parts)
	// p3 is not used by the object; old is replaced; the empty part holds
	// no blob.
	checkFreed(t, "CompleteUpload", freed, []string{"p3", "old"})
	checkObject(t, "GetObject after CompleteUpload", get(t, s, bucket, "k"), want, true)
	checkRefs(t, s, "after CompleteUpload", map[string]bool{"p1": true, "p2": true, "p7": true, "p3": false, "old": false, "q1": true})
	_, err = s.GetUpload(ctx, bucket, "k", "u1")
	wantErr(t, "GetUpload after CompleteUpload", err, meta.ErrNoSuchUpload)
	_, err = s.CompleteUpload(ctx, bucket, "k", "u1", func([]meta.Part) (*meta.Object, error) { return newObject(bucket, "k"), nil })
	wantErr(t, "second CompleteUpload", err, meta.ErrNoSuchUpload)
	ups, err := s.ScanUploads(ctx, bucket, "", "", "", 100)
	must(t, "ScanUploads", err)
	if len(ups) != 1 || ups[0].ID != "u2" {
		t.Errorf("ScanUploads after CompleteUpload: got %d uploads, want only u2", len(ups))
	}

	// Completing on a key with no object frees only unused parts.
	createUpload(t, s, newUpload("u3", "fresh"))
	putPart(t, s, "fresh", newPart("u3", 1, "r1"))
	putPart(t, s, "fresh", newPart("u3", 2, "r2"))
	freed, err = s.CompleteUpload(ctx, bucket, "fresh", "u3", func(ps []meta.Part) (*meta.Object, error) {
		return newObject(bucket, "fresh", "r2"), nil
	})
	must(t, "CompleteUpload fresh", err)
	checkFreed(t, "CompleteUpload on a new key", freed, []string{"r1"})
	checkRefs(t, s, "after CompleteUpload on a new key", map[string]bool{"r1": false, "r2": true})

	// Completing with no parts at all (an empty object).
	createUpload(t, s, newUpload("u4", "none"))
	n := -1
	freed, err = s.CompleteUpload(ctx, bucket, "none", "u4", func(ps []meta.Part) (*meta.Object, error) {
		n = len(ps)
		return newObject(bucket, "none"), nil
	})
	must(t, "CompleteUpload with no parts", err)
	if n != 0 {
		t.Errorf("CompleteUpload with no parts: build got %d parts, want 0", n)
	}
	checkFreed(t, "CompleteUpload with no parts", freed, nil)
	get(t, s, bucket, "none")
}

func testUploadCompleteBuildError(t *testing.T, s meta.Store) {
	ctx := t.Context()
	old, parts := completeFixture(t, s)
	freed, err := s.CompleteUpload(ctx, bucket, "k", "u1", func([]meta.Part) (*meta.Object, error) {
		return nil, fmt.Errorf("invalid part order: %w", errCheck)
	})
	wantErr(t, "CompleteUpload whose build fails", err, errCheck)
	checkFreed(t, "CompleteUpload whose build fails", freed, nil)
	if _, err := s.GetUpload(ctx, bucket, "k", "u1"); err != nil {
		t.Errorf("GetUpload after a failed CompleteUpload: got %v, want the upload intact", err)
	}
	got, err := s.ListParts(ctx, bucket, "k", "u1", 0, 100)
	must(t, "ListParts", err)
	checkParts(t, "ListParts after a failed CompleteUpload", got, parts)
	checkObject(t, "GetObject after a failed CompleteUpload", get(t, s, bucket, "k"), old, true)
	checkRefs(t, s, "after a failed CompleteUpload", map[string]bool{"p1": true, "p2": true, "p3": true, "p7": true, "old": true})

	// The upload can still be completed.
	freed, err = s.CompleteUpload(ctx, bucket, "k", "u1", func([]meta.Part) (*meta.Object, error) {
		return newObject(bucket, "k", "p1", "p2", "p3", "p7"), nil
	})
	must(t, "CompleteUpload after a failed one", err)
	checkFreed(t, "CompleteUpload after a failed one", freed, []string{"old"})
}

func testUploadAbort(t *testing.T, s meta.Store) {
	ctx := t.Context()
	old, _ := completeFixture(t, s)
	createUpload(t, s, newUpload("u2", "k"))
	putPart(t, s, "k", newPart("u2", 1, "q1"))
	freed, err := s.AbortUpload(ctx, bucket, "k", "u1")
	must(t, "AbortUpload", err)
	checkFreed(t, "AbortUpload", freed, []string{"p1", "p2", "p3", "p7"})
	checkRefs(t, s, "after AbortUpload", map[string]bool{"p1": false, "p2": false, "p3": false, "p7": false, "old": true, "q1": true})
	_, err = s.GetUpload(ctx, bucket, "k", "u1")
	wantErr(t, "GetUpload after AbortUpload", err, meta.ErrNoSuchUpload)
	_, err = s.AbortUpload(ctx, bucket, "k", "u1")
	wantErr(t, "second AbortUpload", err, meta.ErrNoSuchUpload)
	checkObject(t, "GetObject after AbortUpload", get(t, s, bucket, "k"), old, true)
	if _, err := s.GetUpload(ctx, bucket, "k", "u2"); err != nil {
		t.Errorf("GetUpload of another upload of the key after AbortUpload: %v", err)
	}
	// An upload without parts aborts freeing nothing.
	createUpload(t, s, newUpload("u3", "k"))
	freed, err = s.AbortUpload(ctx, bucket, "k", "u3")
	must(t, "AbortUpload without parts", err)
	checkFreed(t, "AbortUpload without parts", freed, nil)
}

// scanUploadsFixture is the uploads in (key, id) order; ids sort by
// creation, as the contract requires, but are created in random order.
var scanUploadsFixture = []struct{ key, id string }{
	{"a", "u01"},
	{"a", "u03"},
	{"a", "u07"},
	{"a/b", "u02"},
	{"ab", "u09"},
	{"b", "u04"},
	{"b", "u05"},
	{"é", "u06"},
	{"😀", "u08"},
}

func fillUploads(t *testing.T, s meta.Store) {
	createBucket(t, s, bucket)
	createBucket(t, s, "other")
	for _, i := range rand.Perm(len(scanUploadsFixture)) {
		f := scanUploadsFixture[i]
		u := newUpload(f.id, f.key)
		u.Owner = "owner-" + f.id
		u.Template.UserMeta = map[string]string{"id": f.id}
		createUpload(t, s, u)
	}
	u := newUpload("u00", "a")
	u.Bucket = "other"
	createUpload(t, s, u)
}

// wantUploads is ScanUploads' contract over scanUploadsFixture.
func wantUploads(prefix, afterKey, afterID string, limit int) []string {
	var out []string
	for _, f := range scanUploadsFixture {
		if len(out) == limit {
			break
		}
		if len(f.key) < len(prefix) || f.key[:len(prefix)] != prefix {
			continue
		}
		if afterKey != "" && (f.key < afterKey || f.key == afterKey && (afterID == "" || f.id <= afterID)) {
			continue
		}
		out = append(out, f.key+" "+f.id)
	}
	return out
}

func scanUploads(t *testing.T, s meta.Store, prefix, afterKey, afterID string, limit int) ([]meta.Upload, []string) {
	t.Helper()
	ups, err := s.ScanUploads(t.Context(), bucket, prefix, afterKey, afterID, limit)
	if err != nil {
		t.Errorf("ScanUploads(prefix %q, after (%q, %q), limit %d): %v", prefix, afterKey, afterID, limit, err)
		return nil, nil
	}
	var ids []string
	for _, u := range ups {
		ids = append(ids, u.Key+" "+u.ID)
	}
	return ups, ids
}

func testUploadScan(t *testing.T, s meta.Store) {
	fillUploads(t, s)
	ups, _ := scanUploads(t, s, "", "", "", 100)
	for _, u := range ups {
		want := newUpload(u.ID, u.Key)
		want.Owner = "owner-" + u.ID
		want.Template.UserMeta = map[string]string{"id": u.ID}
		checkUpload(t, "ScanUploads entry", u, want)
	}
	tests := []struct {
		name                      string
		prefix, afterKey, afterID string
	}{
		{"everything", "", "", ""},
		{"prefix a", "a", "", ""},
		{"prefix a/", "a/", "", ""},
		{"prefix é", "é", "", ""},
		{"prefix nomatch", "zz", "", ""},
		{"afterKey without afterID skips the key's uploads", "", "a", ""},
		{"afterKey with afterID resumes inside the key", "", "a", "u03"},
		{"afterID past the key's uploads", "", "a", "u99"},
		{"afterID before the key's uploads", "", "a", "u00"},
		{"afterKey not an upload key", "", "a0", ""},
		{"afterKey not an upload key, with afterID", "", "aa", "u01"},
		{"afterKey past everything", "", "\U0010ffff", ""},
		{"afterKey below prefix", "b", "a", ""},
		{"afterKey above prefix", "a", "b", ""},
		{"prefix and afterKey inside", "a", "a/b", "u02"},
		{"empty afterKey ignores afterID", "", "", "u05"},
	}
	for _, tc := range tests {
		_, got := scanUploads(t, s, tc.prefix, tc.afterKey, tc.afterID, 100)
		if want := wantUploads(tc.prefix, tc.afterKey, tc.afterID, 100); !slices.Equal(got, want) {
			t.Errorf("ScanUploads %s (prefix %q, after (%q, %q)): got %q, want %q", tc.name, tc.prefix, tc.afterKey, tc.afterID, got, want)
		}
	}
	_, err := s.ScanUploads(t.Context(), "missing", "", "", "", 10)
	wantErr(t, "ScanUploads of a missing bucket", err, meta.ErrNoSuchBucket)
	createBucket(t, s, "empty")
	got, err := s.ScanUploads(t.Context(), "empty", "", "", "", 10)
	if err != nil || len(got) != 0 {
		t.Errorf("ScanUploads of a bucket without uploads: got (%d uploads, %v), want (0, nil)", len(got), err)
	}
}

func testUploadScanPaging(t *testing.T, s meta.Store) {
	fillUploads(t, s)
	for _, prefix := range []string{"", "a", "b"} {
		want := wantUploads(prefix, "", "", 100)
		for _, limit := range []int{1, 2, 3, 100} {
			var all []string
			afterKey, afterID := "", ""
			for page := 0; ; page++ {
				if page > len(scanUploadsFixture)+1 {
					t.Fatalf("ScanUploads(prefix %q) paged by %d does not end", prefix, limit)
				}
				ups, ids := scanUploads(t, s, prefix, afterKey, afterID, limit)
				if len(ups) > limit {
					t.Errorf("ScanUploads(limit %d): got %d uploads", limit, len(ups))
				}
				all = append(all, ids...)
				if len(ups) < limit {
					break
				}
				afterKey, afterID = ups[len(ups)-1].Key, ups[len(ups)-1].ID
			}
			if !slices.Equal(all, want) {
				t.Errorf("ScanUploads(prefix %q) paged by %d: got %q, want %q", prefix, limit, all, want)
			}
		}
	}
}
