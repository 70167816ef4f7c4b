package metatest

import (
	"slices"
	"testing"
	"time"

	"github.com/firnhq/firn/internal/meta"
)

func checkBucket(t *testing.T, what string, got, want meta.Bucket) {
	t.Helper()
	if got.Name != want.Name || got.Region != want.Region || got.Owner != want.Owner || !closeTime(got.Created, want.Created) {
		t.Errorf("%s: got %+v, want %+v", what, got, want)
	}
}

func testBucketCreateGet(t *testing.T, s meta.Store) {
	ctx := t.Context()
	for _, b := range []meta.Bucket{
		{Name: "alpha", Region: "eu-west-1", Owner: "AKIDALPHA", Created: stamp},
		{Name: "beta", Region: "", Owner: "AKIDBETA", Created: time.Date(2030, 1, 2, 3, 4, 5, 123456789, time.FixedZone("X", 3600))},
		{Name: "gamma.with-dots", Region: "us-east-2", Owner: "", Created: time.Unix(1, 1000)},
	} {
		must(t, "CreateBucket "+b.Name, s.CreateBucket(ctx, b))
		got, err := s.GetBucket(ctx, b.Name)
		must(t, "GetBucket "+b.Name, err)
		checkBucket(t, "GetBucket "+b.Name, got, b)
	}
	_, err := s.GetBucket(ctx, "missing")
	wantErr(t, "GetBucket missing", err, meta.ErrNoSuchBucket)
	_, err = s.GetBucket(ctx, "Alpha")
	wantErr(t, "GetBucket Alpha (names are case-sensitive)", err, meta.ErrNoSuchBucket)
}

func testBucketExists(t *testing.T, s meta.Store) {
	ctx := t.Context()
	first := meta.Bucket{Name: "taken", Region: "eu-west-1", Owner: "first", Created: stamp}
	must(t, "CreateBucket", s.CreateBucket(ctx, first))
	err := s.CreateBucket(ctx, meta.Bucket{Name: "taken", Region: "us-west-2", Owner: "second", Created: stamp.Add(time.Hour)})
	wantErr(t, "CreateBucket by another owner", err, meta.ErrBucketExists)
	err = s.CreateBucket(ctx, first)
	wantErr(t, "CreateBucket by the same owner", err, meta.ErrBucketExists)
	got, err := s.GetBucket(ctx, "taken")
	must(t, "GetBucket", err)
	checkBucket(t, "GetBucket after failed creates", got, first)
}

func testBucketList(t *testing.T, s meta.Store) {
	ctx := t.Context()
	got, err := s.ListBuckets(ctx)
	must(t, "ListBuckets", err)
	if len(got) != 0 {
		t.Errorf("ListBuckets on an empty store: got %d buckets, want 0", len(got))
	}
	// Byte order: '-' < '.' < digits < lower case.
	names := []string{"zeta", "beta.2", "alpha", "beta", "beta-1", "b0"}
	want := []string{"alpha", "b0", "beta", "beta-1", "beta.2", "zeta"}
	for i, n := range names {
		must(t, "CreateBucket "+n, s.CreateBucket(ctx, meta.Bucket{Name: n, Owner: "o" + n, Region: "r", Created: stamp.Add(time.Duration(i) * time.Second)}))
	}
	got, err = s.ListBuckets(ctx)
	must(t, "ListBuckets", err)
	var gotNames []string
	for _, b := range got {
		gotNames = append(gotNames, b.Name)
		i := slices.Index(names, b.Name)
		if i < 0 {
			continue
		}
		checkBucket(t, "ListBuckets entry", b, meta.Bucket{Name: b.Name, Owner: "o" + b.Name, Region: "r", Created: stamp.Add(time.Duration(i) * time.Second)})
	}
	if !slices.Equal(gotNames, want) {
		t.Errorf("ListBuckets: got %q, want %q", gotNames, want)
	}
}

func testBucketDelete(t *testing.T, s meta.Store) {
	ctx := t.Context()
	createBucket(t, s, "gone")
	createBucket(t, s, "stays")
	freed, err := s.DeleteBucket(ctx, "gone")
	must(t, "DeleteBucket", err)
	checkFreed(t, "DeleteBucket of an empty bucket", freed, nil)
	_, err = s.GetBucket(ctx, "gone")
	wantErr(t, "GetBucket after DeleteBucket", err, meta.ErrNoSuchBucket)
	list, err := s.ListBuckets(ctx)
	must(t, "ListBuckets", err)
	if len(list) != 1 || list[0].Name != "stays" {
		t.Errorf("ListBuckets after DeleteBucket: got %+v, want only %q", list, "stays")
	}
	_, err = s.DeleteBucket(ctx, "gone")
	wantErr(t, "second DeleteBucket", err, meta.ErrNoSuchBucket)
	_, err = s.DeleteBucket(ctx, "never")
	wantErr(t, "DeleteBucket of a missing bucket", err, meta.ErrNoSuchBucket)
	// The name is free again.
	b := meta.Bucket{Name: "gone", Owner: "new owner", Region: "ap-south-1", Created: stamp.Add(time.Minute)}
	must(t, "CreateBucket after DeleteBucket", s.CreateBucket(ctx, b))
	got, err := s.GetBucket(ctx, "gone")
	must(t, "GetBucket", err)
	checkBucket(t, "recreated bucket", got, b)
}

func testBucketDeleteNotEmpty(t *testing.T, s meta.Store) {
	ctx := t.Context()
	createBucket(t, s, bucket)
	put(t, s, newObject(bucket, "k", "blob-k"))
	must(t, "CreateUpload", s.CreateUpload(ctx, meta.Upload{ID: "u1", Bucket: bucket, Key: "m", Initiated: stamp}))
	_, err := s.PutPart(ctx, bucket, "m", meta.Part{UploadID: "u1", Number: 1, Size: 5, ETag: "e", LastModified: stamp, BlobID: "blob-p"})
	must(t, "PutPart", err)

	freed, err := s.DeleteBucket(ctx, bucket)
	wantErr(t, "DeleteBucket of a bucket with an object", err, meta.ErrBucketNotEmpty)
	checkFreed(t, "failed DeleteBucket", freed, nil)
	if _, err := s.GetBucket(ctx, bucket); err != nil {
		t.Errorf("GetBucket after failed DeleteBucket: %v", err)
	}
	get(t, s, bucket, "k")
	if _, err := s.GetUpload(ctx, bucket, "m", "u1"); err != nil {
		t.Errorf("GetUpload after failed DeleteBucket: got %v, want the upload intact", err)
	}
	checkRefs(t, s, "after failed DeleteBucket", map[string]bool{"blob-k": true, "blob-p": true})

	_, _, err = s.DeleteObject(ctx, bucket, "k")
	must(t, "DeleteObject", err)
	freed, err = s.DeleteBucket(ctx, bucket)
	must(t, "DeleteBucket once empty", err)
	checkFreed(t, "DeleteBucket once empty", freed, []string{"blob-p"})
}

func testBucketDeleteAbortsUploads(t *testing.T, s meta.Store) {
	ctx := t.Context()
	createBucket(t, s, bucket)
	createBucket(t, s, "other")
	parts := []struct {
		bkt, key, upload string
		n                int
		blob             string
	}{
		{bucket, "a", "u1", 1, "p1"},
		{bucket, "a", "u1", 2, "p2"},
		{bucket, "a", "u1", 3, ""}, // an empty part holds no blob
		{bucket, "b/c", "u2", 1, "p3"},
		{bucket, "a", "u3", 1, ""}, // an upload with only an empty part
		{"other", "a", "u4", 1, "q1"},
	}
	made := map[string]bool{}
	for _, p := range parts {
		if !made[p.upload] {
			must(t, "CreateUpload "+p.upload, s.CreateUpload(ctx, meta.Upload{ID: p.upload, Bucket: p.bkt, Key: p.key, Initiated: stamp}))
			made[p.upload] = true
		}
		_, err := s.PutPart(ctx, p.bkt, p.key, meta.Part{UploadID: p.upload, Number: p.n, Size: 1, ETag: "e", LastModified: stamp, BlobID: p.blob})
		must(t, "PutPart", err)
	}
	must(t, "CreateUpload u5", s.CreateUpload(ctx, meta.Upload{ID: "u5", Bucket: bucket, Key: "no-parts", Initiated: stamp}))

	freed, err := s.DeleteBucket(ctx, bucket)
	must(t, "DeleteBucket", err)
	checkFreed(t, "DeleteBucket", freed, []string{"p1", "p2", "p3"})
	checkRefs(t, s, "after DeleteBucket", map[string]bool{"p1": false, "p2": false, "p3": false, "q1": true})
	for _, u := range []struct{ key, id string }{{"a", "u1"}, {"b/c", "u2"}, {"a", "u3"}, {"no-parts", "u5"}} {
		_, err := s.GetUpload(ctx, bucket, u.key, u.id)
		wantErr(t, "GetUpload "+u.id+" after DeleteBucket", err, meta.ErrNoSuchUpload)
	}
	if _, err := s.GetUpload(ctx, "other", "a", "u4"); err != nil {
		t.Errorf("GetUpload of another bucket's upload: got %v, want it intact", err)
	}
	// A bucket recreated under the name starts without uploads.
	createBucket(t, s, bucket)
	ups, err := s.ScanUploads(ctx, bucket, "", "", "", 100)
	must(t, "ScanUploads", err)
	if len(ups) != 0 {
		t.Errorf("ScanUploads of a recreated bucket: got %d uploads, want 0", len(ups))
	}
}
