package metatest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/firnhq/firn/internal/meta"
)

// fullObject sets every field of an Object.
func fullObject(key string) *meta.Object {
	return &meta.Object{
		Bucket: bucket, Key: key, VersionID: "3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY",
		Size: 300, ETag: "9b2cf535f27731c974343645a3985328-3",
		LastModified: stamp, StorageClass: "STANDARD_IA", Owner: "AKIDOWNER",
		Headers: map[string]string{
			"Content-Type":        "text/plain; charset=utf-8",
			"Content-Encoding":    "gzip",
			"Content-Disposition": `attachment; filename="ü.txt"`,
			"Content-Language":    "de-CH",
			"Cache-Control":       "max-age=60",
			"Expires":             "Thu, 01 Dec 1994 16:00:00 GMT",
		},
		UserMeta: map[string]string{"color": "blue", "empty": "", "unicode": "日本語 ✓", "quote": `"x"`},
		// Not in key order, with a duplicate-looking pair: order is kept.
		Tags:     []meta.Tag{{Key: "z", Value: "1"}, {Key: "a", Value: ""}, {Key: "m", Value: "x=y&z"}},
		Checksum: meta.Checksum{Algorithm: "CRC32C", Type: "COMPOSITE", Value: "yZRlqg==-3"},
		Parts: []meta.PartInfo{
			{Number: 1, Size: 100, ETag: "e1", Checksum: "c1=="},
			{Number: 2, Size: 100, ETag: "e2"},
			{Number: 4, Size: 100, ETag: "e4", Checksum: "c4=="},
		},
		Segments: []meta.Segment{{BlobID: "blob-1", Size: 100}, {BlobID: "blob-2", Size: 100}, {BlobID: "blob-3", Size: 100}},
	}
}

func testObjectRoundTrip(t *testing.T, s meta.Store) {
	ctx := t.Context()
	createBucket(t, s, bucket)
	createBucket(t, s, "other")
	tests := []struct {
		name string
		o    *meta.Object
	}{
		{"every field", fullObject("full")},
		{"inline bytes", func() *meta.Object {
			o := inlineObject(bucket, "inline", "hello\x00\xff\x80 binary")
			o.UserMeta = map[string]string{"k": "v"}
			return o
		}()},
		{"inline empty (not nil)", func() *meta.Object {
			o := newObject(bucket, "inline-empty")
			o.Inline = []byte{}
			return o
		}()},
		{"empty object, inline nil", newObject(bucket, "empty")},
		{"minimal fields", &meta.Object{Bucket: bucket, Key: "minimal", LastModified: stamp, StorageClass: "STANDARD"}},
		{"unicode key", newObject(bucket, "dir/日本語/ファイル 😀.txt", "blob-u")},
		{"key with SQL and URL specials", newObject(bucket, `a'b"c%_?x=1&y#z\ /`, "blob-s")},
		{"key prefixing another", newObject(bucket, "full/", "blob-fs")},
		{"same key in another bucket", newObject("other", "full", "blob-o")},
		{"many segments", func() *meta.Object {
			var ids []string
			for i := range 200 {
				ids = append(ids, fmt.Sprintf("seg-%03d", i))
			}
			return newObject(bucket, "many", ids...)
		}()},
	}
	for _, tc := range tests {
		freed, err := s.PutObject(ctx, tc.o, nil)
		if err != nil {
			t.Errorf("%s: PutObject: %v", tc.name, err)
			continue
		}
		checkFreed(t, tc.name+": PutObject of a new key", freed, nil)
	}
	for _, tc := range tests {
		got, err := s.GetObject(ctx, tc.o.Bucket, tc.o.Key)
		if err != nil {
			t.Errorf("%s: GetObject: %v", tc.name, err)
			continue
		}
		checkObject(t, tc.name+": GetObject", got, tc.o, true)
		objs, err := s.ScanObjects(ctx, tc.o.Bucket, tc.o.Key, "", 1)
		if err != nil {
			t.Errorf("%s: ScanObjects: %v", tc.name, err)
			continue
		}
		if len(objs) != 1 {
			t.Errorf("%s: ScanObjects(prefix=key, limit 1): got %d objects, want 1", tc.name, len(objs))
			continue
		}
		checkObject(t, tc.name+": ScanObjects", &objs[0], tc.o, false)
		refs := map[string]bool{}
		for _, id := range tc.o.BlobIDs() {
			refs[id] = true
		}
		checkRefs(t, s, tc.name, refs)
	}
}

func testObjectLastModified(t *testing.T, s meta.Store) {
	createBucket(t, s, bucket)
	tests := []struct {
		name string
		at   time.Time
	}{
		{"microseconds, UTC", stamp},
		{"nanoseconds", time.Date(2024, 2, 29, 23, 59, 59, 999999999, time.UTC)},
		{"other zone", time.Date(2021, 6, 1, 12, 0, 0, 1000, time.FixedZone("UTC+5:30", 5*3600+1800))},
		{"before 1970", time.Date(1969, 7, 20, 20, 17, 40, 123456000, time.UTC)},
		{"far future", time.Date(2199, 12, 31, 23, 59, 59, 999999000, time.UTC)},
		{"now (monotonic reading)", time.Now()},
	}
	for i, tc := range tests {
		o := newObject(bucket, fmt.Sprintf("k%d", i))
		o.LastModified = tc.at
		put(t, s, o)
		got := get(t, s, bucket, o.Key)
		if !closeTime(got.LastModified, tc.at) {
			t.Errorf("%s: LastModified got %v, want %v to the microsecond", tc.name, got.LastModified, tc.at)
		}
	}
}

// testObjectNoAliasing: the store keeps its own copy of what it is given
// and hands out copies.
func testObjectNoAliasing(t *testing.T, s meta.Store) {
	createBucket(t, s, bucket)
	in := fullObject("k")
	in.Inline = []byte("abc")
	want := fullObject("k")
	want.Inline = []byte("abc")
	put(t, s, in)
	in.Headers["Content-Type"] = "changed"
	in.UserMeta["color"] = "changed"
	in.Tags[0].Value = "changed"
	in.Parts[0].ETag = "changed"
	in.Segments[0].BlobID = "changed"
	in.Inline[0] = 'X'

	got := get(t, s, bucket, "k")
	checkObject(t, "GetObject after the caller changed its object", got, want, true)
	got.Headers["Content-Type"] = "changed"
	got.UserMeta["new"] = "x"
	got.Tags[0].Value = "changed"
	got.Segments[0].BlobID = "changed"
	got.Inline[0] = 'X'
	checkObject(t, "GetObject after the caller changed a returned object", get(t, s, bucket, "k"), want, true)
}

func testObjectReplace(t *testing.T, s meta.Store) {
	ctx := t.Context()
	createBucket(t, s, bucket)
	withInline := func(o *meta.Object, data string) *meta.Object {
		o.Inline = []byte(data)
		o.Size = int64(len(data))
		return o
	}
	tests := []struct {
		name      string
		cur, next *meta.Object
		freed     []string
		refs      map[string]bool
	}{
		{
			name: "segments replaced",
			cur:  newObject(bucket, "k1", "a1", "a2"), next: newObject(bucket, "k1", "a3"),
			freed: []string{"a1", "a2"},
			refs:  map[string]bool{"a1": false, "a2": false, "a3": true},
		},
		{
			name: "a blob reused",
			cur:  newObject(bucket, "k2", "b1", "b2"), next: newObject(bucket, "k2", "b2", "b3"),
			freed: []string{"b1"},
			refs:  map[string]bool{"b1": false, "b2": true, "b3": true},
		},
		{
			name: "same blobs, new metadata",
			cur:  newObject(bucket, "k3", "c1"), next: func() *meta.Object {
				o := newObject(bucket, "k3", "c1")
				o.UserMeta = map[string]string{"x": "y"}
				o.ETag = "new"
				return o
			}(),
			freed: nil,
			refs:  map[string]bool{"c1": true},
		},
		{
			name: "segments to inline",
			cur:  newObject(bucket, "k4", "d1"), next: withInline(newObject(bucket, "k4"), "small"),
			freed: []string{"d1"},
			refs:  map[string]bool{"d1": false},
		},
		{
			name: "inline to segments",
			cur:  withInline(newObject(bucket, "k5"), "small"), next: newObject(bucket, "k5", "e1"),
			freed: nil,
			refs:  map[string]bool{"e1": true},
		},
		{
			name: "inline to inline",
			cur:  withInline(newObject(bucket, "k6"), "one"), next: withInline(newObject(bucket, "k6"), "two"),
		},
		{
			name: "segments to empty",
			cur:  newObject(bucket, "k7", "f1", "f2"), next: newObject(bucket, "k7"),
			freed: []string{"f1", "f2"},
			refs:  map[string]bool{"f1": false, "f2": false},
		},
	}
	for _, tc := range tests {
		freed, err := s.PutObject(ctx, tc.cur, nil)
		must(t, tc.name+": first PutObject", err)
		checkFreed(t, tc.name+": first PutObject", freed, nil)
		freed, err = s.PutObject(ctx, tc.next, nil)
		must(t, tc.name+": replacing PutObject", err)
		checkFreed(t, tc.name+": replacing PutObject", freed, tc.freed)
		checkObject(t, tc.name+": GetObject", get(t, s, bucket, tc.next.Key), tc.next, true)
		checkRefs(t, s, tc.name, tc.refs)
	}
}

func testObjectPutCheck(t *testing.T, s meta.Store) {
	ctx := t.Context()
	createBucket(t, s, bucket)

	// No current object: check sees nil.
	var seen []*meta.Object
	record := func(cur *meta.Object) error {
		seen = append(seen, cur)
		return nil
	}
	first := fullObject("k")
	first.VersionID = meta.NullVersion // replaced by the next null version
	_, err := s.PutObject(ctx, first, record)
	must(t, "PutObject with a passing check", err)
	if len(seen) == 0 || seen[len(seen)-1] != nil {
		t.Errorf("check on a new key: got %v, want called with nil", seen)
	}

	// A current object: check sees it.
	seen = nil
	second := newObject(bucket, "k", "blob-second")
	freed, err := s.PutObject(ctx, second, record)
	must(t, "PutObject replacing, with a passing check", err)
	checkFreed(t, "PutObject replacing", freed, first.BlobIDs())
	if len(seen) == 0 || seen[len(seen)-1] == nil {
		t.Errorf("check on an existing key: got %v, want called with the current object", seen)
	} else {
		checkObject(t, "object seen by check", seen[len(seen)-1], first, false)
	}

	// A failing check: its error is returned and nothing changes.
	refuse := func(cur *meta.Object) error { return fmt.Errorf("precondition: %w", errCheck) }
	third := newObject(bucket, "k", "blob-third")
	freed, err = s.PutObject(ctx, third, refuse)
	wantErr(t, "PutObject with a failing check", err, errCheck)
	checkFreed(t, "PutObject with a failing check", freed, nil)
	checkObject(t, "GetObject after a failing check", get(t, s, bucket, "k"), second, true)
	checkRefs(t, s, "after a failing check", map[string]bool{"blob-second": true, "blob-third": false})

	// A failing check on a new key creates nothing.
	_, err = s.PutObject(ctx, newObject(bucket, "new", "blob-new"), refuse)
	wantErr(t, "PutObject on a new key with a failing check", err, errCheck)
	_, err = s.GetObject(ctx, bucket, "new")
	wantErr(t, "GetObject after a failing check on a new key", err, meta.ErrNoSuchKey)
	checkRefs(t, s, "after a failing check on a new key", map[string]bool{"blob-new": false})

	// The check sees the current object, not another key's.
	put(t, s, newObject(bucket, "k2", "blob-k2"))
	var sawKey string
	_, err = s.PutObject(ctx, newObject(bucket, "k2", "blob-k2b"), func(cur *meta.Object) error {
		if cur != nil {
			sawKey = cur.Key
		}
		return nil
	})
	must(t, "PutObject k2", err)
	if sawKey != "k2" {
		t.Errorf("check for k2: got current key %q, want %q", sawKey, "k2")
	}
}

func testObjectUpdate(t *testing.T, s meta.Store) {
	ctx := t.Context()
	createBucket(t, s, bucket)
	orig := fullObject("k")
	put(t, s, orig)
	small := inlineObject(bucket, "small", "inline data")
	put(t, s, small)

	// A metadata change.
	want := fullObject("k")
	want.UserMeta = map[string]string{"new": "meta"}
	want.Tags = []meta.Tag{{Key: "b", Value: "2"}, {Key: "a", Value: "1"}}
	want.StorageClass = "GLACIER"
	want.Headers["Content-Type"] = "application/json"
	var seen *meta.Object
	err := s.UpdateObject(ctx, bucket, "k", func(o *meta.Object) error {
		seen = o
		c := *o
		c.Inline = nil
		if d := diffObject(&c, orig, false); len(d) > 0 {
			return fmt.Errorf("fn got a different object: %v", d)
		}
		o.UserMeta = map[string]string{"new": "meta"}
		o.Tags = []meta.Tag{{Key: "b", Value: "2"}, {Key: "a", Value: "1"}}
		o.StorageClass = "GLACIER"
		o.Headers["Content-Type"] = "application/json"
		return nil
	})
	must(t, "UpdateObject", err)
	if seen == nil {
		t.Fatal("UpdateObject did not call fn")
	}
	checkObject(t, "GetObject after UpdateObject", get(t, s, bucket, "k"), want, true)
	checkRefs(t, s, "after UpdateObject", map[string]bool{"blob-1": true, "blob-2": true, "blob-3": true})

	// Inline bytes survive an update.
	must(t, "UpdateObject of an inline object", s.UpdateObject(ctx, bucket, "small", func(o *meta.Object) error {
		o.Tags = []meta.Tag{{Key: "t", Value: "v"}}
		return nil
	}))
	wantSmall := inlineObject(bucket, "small", "inline data")
	wantSmall.Tags = []meta.Tag{{Key: "t", Value: "v"}}
	checkObject(t, "GetObject after UpdateObject of an inline object", get(t, s, bucket, "small"), wantSmall, true)

	// fn's error aborts, even after fn changed the object.
	err = s.UpdateObject(ctx, bucket, "k", func(o *meta.Object) error {
		o.UserMeta = map[string]string{"must": "not stick"}
		o.Tags = nil
		return errCheck
	})
	wantErr(t, "UpdateObject whose fn fails", err, errCheck)
	checkObject(t, "GetObject after a failed UpdateObject", get(t, s, bucket, "k"), want, true)

	// Changing the bytes is refused.
	for _, tc := range []struct {
		name   string
		change func(o *meta.Object)
	}{
		{"replace a segment", func(o *meta.Object) { o.Segments[0].BlobID = "other" }},
		{"drop a segment", func(o *meta.Object) { o.Segments = o.Segments[1:] }},
		{"add a segment", func(o *meta.Object) { o.Segments = append(o.Segments, meta.Segment{BlobID: "extra", Size: 1}) }},
		{"reorder segments", func(o *meta.Object) { o.Segments[0], o.Segments[1] = o.Segments[1], o.Segments[0] }},
	} {
		err := s.UpdateObject(ctx, bucket, "k", func(o *meta.Object) error {
			o.UserMeta = map[string]string{"must": "not stick"}
			tc.change(o)
			return nil
		})
		if err == nil {
			t.Errorf("UpdateObject that tries to %s: got nil error, want one", tc.name)
		}
		checkObject(t, "GetObject after UpdateObject tried to "+tc.name, get(t, s, bucket, "k"), want, true)
		checkRefs(t, s, "after UpdateObject tried to "+tc.name,
			map[string]bool{"blob-1": true, "blob-2": true, "blob-3": true, "other": false, "extra": false})
	}

	// Missing key or bucket: fn is not called.
	called := false
	fn := func(o *meta.Object) error { called = true; return nil }
	wantErr(t, "UpdateObject of a missing key", s.UpdateObject(ctx, bucket, "missing", fn), meta.ErrNoSuchKey)
	wantErr(t, "UpdateObject in a missing bucket", s.UpdateObject(ctx, "missing", "k", fn), meta.ErrNoSuchBucket)
	if called {
		t.Error("UpdateObject of a missing object called fn")
	}
	if _, err := s.GetObject(ctx, bucket, "missing"); !errors.Is(err, meta.ErrNoSuchKey) {
		t.Errorf("GetObject after UpdateObject of a missing key: got %v, want %v", err, meta.ErrNoSuchKey)
	}
}

func testObjectDelete(t *testing.T, s meta.Store) {
	ctx := t.Context()
	createBucket(t, s, bucket)
	o := fullObject("k")
	put(t, s, o)
	for _, k := range []string{"k/", "k ", "kk", "j"} {
		put(t, s, newObject(bucket, k, "blob-"+k))
	}
	put(t, s, inlineObject(bucket, "small", "data"))

	deleted, freed, err := s.DeleteObject(ctx, bucket, "k")
	must(t, "DeleteObject", err)
	if deleted == nil {
		t.Fatal("DeleteObject of an existing key: got nil deleted, want the object")
	}
	checkObject(t, "deleted object", &meta.Object{
		Bucket: deleted.Bucket, Key: deleted.Key, VersionID: deleted.VersionID, Size: deleted.Size,
		ETag: deleted.ETag, LastModified: deleted.LastModified, StorageClass: deleted.StorageClass, Owner: deleted.Owner,
		Headers: deleted.Headers, UserMeta: deleted.UserMeta, Tags: deleted.Tags, Checksum: deleted.Checksum,
		Parts: deleted.Parts, Segments: deleted.Segments,
	}, o, false)
	checkFreed(t, "DeleteObject", freed, o.BlobIDs())
	_, err = s.GetObject(ctx, bucket, "k")
	wantErr(t, "GetObject after DeleteObject", err, meta.ErrNoSuchKey)
	checkRefs(t, s, "after DeleteObject", map[string]bool{"blob-1": false, "blob-2": false, "blob-3": false, "blob-k/": true, "blob-kk": true})
	for _, k := range []string{"k/", "k ", "kk", "j", "small"} {
		get(t, s, bucket, k)
	}

	// Idempotent.
	for _, key := range []string{"k", "never"} {
		deleted, freed, err = s.DeleteObject(ctx, bucket, key)
		if err != nil || deleted != nil || len(freed) != 0 {
			t.Errorf("DeleteObject of missing key %q: got (%v, %q, %v), want (nil, [], nil)", key, deleted, freed, err)
		}
	}

	// An inline object frees nothing.
	deleted, freed, err = s.DeleteObject(ctx, bucket, "small")
	must(t, "DeleteObject small", err)
	if deleted == nil || deleted.Key != "small" || deleted.Size != 4 {
		t.Errorf("DeleteObject of an inline object: got deleted %+v, want key %q size 4", deleted, "small")
	}
	checkFreed(t, "DeleteObject of an inline object", freed, nil)

	// The key can be written again.
	put(t, s, newObject(bucket, "k", "blob-again"))
	checkObject(t, "GetObject after re-put", get(t, s, bucket, "k"), newObject(bucket, "k", "blob-again"), true)
}

func testObjectNoSuchBucket(t *testing.T, s meta.Store) {
	ctx := t.Context()
	createBucket(t, s, "gone")
	_, err := s.DeleteBucket(ctx, "gone")
	must(t, "DeleteBucket", err)
	for _, b := range []string{"missing", "gone"} {
		tests := []struct {
			name string
			call func() error
		}{
			{"PutObject", func() error {
				_, err := s.PutObject(ctx, newObject(b, "k", "blob-"+b), nil)
				return err
			}},
			{"PutObject with a check", func() error {
				_, err := s.PutObject(ctx, newObject(b, "k", "blob-"+b), func(*meta.Object) error { return nil })
				return err
			}},
			{"GetObject", func() error { _, err := s.GetObject(ctx, b, "k"); return err }},
			{"UpdateObject", func() error { return s.UpdateObject(ctx, b, "k", func(*meta.Object) error { return nil }) }},
			{"DeleteObject", func() error { _, _, err := s.DeleteObject(ctx, b, "k"); return err }},
			{"ScanObjects", func() error { _, err := s.ScanObjects(ctx, b, "", "", 10); return err }},
			{"ScanObjects with a prefix", func() error { _, err := s.ScanObjects(ctx, b, "k", "a", 10); return err }},
			{"CreateUpload", func() error {
				return s.CreateUpload(ctx, meta.Upload{ID: "u-" + b, Bucket: b, Key: "k", Initiated: stamp})
			}},
			{"ScanUploads", func() error { _, err := s.ScanUploads(ctx, b, "", "", "", 10); return err }},
			{"DeleteBucket", func() error { _, err := s.DeleteBucket(ctx, b); return err }},
			{"GetBucket", func() error { _, err := s.GetBucket(ctx, b); return err }},
		}
		for _, tc := range tests {
			wantErr(t, fmt.Sprintf("%s in bucket %q", tc.name, b), tc.call(), meta.ErrNoSuchBucket)
		}
		checkRefs(t, s, "after writes to bucket "+b, map[string]bool{"blob-" + b: false})
	}
	_, err = s.GetUpload(ctx, "missing", "k", "u-missing")
	wantErr(t, "GetUpload of an upload refused for a missing bucket", err, meta.ErrNoSuchUpload)
}

func testObjectNoSuchKey(t *testing.T, s meta.Store) {
	ctx := t.Context()
	createBucket(t, s, bucket)
	createBucket(t, s, "other")
	put(t, s, newObject(bucket, "Photos/cat.jpg", "blob-1"))
	put(t, s, newObject("other", "only-other", "blob-2"))
	for _, key := range []string{"photos/cat.jpg", "Photos/cat.jpg/", "Photos/cat", "Photos/", "Photos/cat.jpg ", "only-other", "%", "Photos/cat.jp_"} {
		_, err := s.GetObject(ctx, bucket, key)
		wantErr(t, fmt.Sprintf("GetObject %q", key), err, meta.ErrNoSuchKey)
	}
}
