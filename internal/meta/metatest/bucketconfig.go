package metatest

import (
	"testing"

	"github.com/firnhq/firn/internal/meta"
)

// getConfig reads bucket's configuration name, failing t on an error.
func getConfig(t *testing.T, s meta.Store, bkt, name string) []byte {
	t.Helper()
	v, err := s.GetBucketConfig(t.Context(), bkt, name)
	must(t, "GetBucketConfig "+bkt+" "+name, err)
	return v
}

// testBucketConfigRoundTrip: unset reads nil; a value reads back until
// replaced or deleted; names and buckets are independent; an empty value
// is not the same as none.
func testBucketConfigRoundTrip(t *testing.T, s meta.Store) {
	createBucket(t, s, "one")
	createBucket(t, s, "two")
	if v := getConfig(t, s, "one", "lifecycle"); v != nil {
		t.Errorf("unset config: got %q, want nil", v)
	}
	must(t, "PutBucketConfig", s.PutBucketConfig(t.Context(), "one", "lifecycle", []byte("v1")))
	must(t, "PutBucketConfig other name", s.PutBucketConfig(t.Context(), "one", "other", []byte("o")))
	must(t, "PutBucketConfig other bucket", s.PutBucketConfig(t.Context(), "two", "lifecycle", []byte("t")))
	if v := getConfig(t, s, "one", "lifecycle"); string(v) != "v1" {
		t.Errorf("config: got %q, want v1", v)
	}
	must(t, "PutBucketConfig replace", s.PutBucketConfig(t.Context(), "one", "lifecycle", []byte("v2")))
	for _, c := range []struct{ bkt, name, want string }{{"one", "lifecycle", "v2"}, {"one", "other", "o"}, {"two", "lifecycle", "t"}} {
		if v := getConfig(t, s, c.bkt, c.name); string(v) != c.want {
			t.Errorf("config %s/%s: got %q, want %q", c.bkt, c.name, v, c.want)
		}
	}

	must(t, "DeleteBucketConfig", s.DeleteBucketConfig(t.Context(), "one", "lifecycle"))
	if v := getConfig(t, s, "one", "lifecycle"); v != nil {
		t.Errorf("deleted config: got %q, want nil", v)
	}
	if v := getConfig(t, s, "one", "other"); string(v) != "o" {
		t.Errorf("config one/other after deleting one/lifecycle: got %q, want o", v)
	}
	if v := getConfig(t, s, "two", "lifecycle"); string(v) != "t" {
		t.Errorf("config two/lifecycle after deleting one/lifecycle: got %q, want t", v)
	}
	must(t, "DeleteBucketConfig unset", s.DeleteBucketConfig(t.Context(), "one", "lifecycle"))

	must(t, "PutBucketConfig empty", s.PutBucketConfig(t.Context(), "one", "empty", []byte{}))
	if v := getConfig(t, s, "one", "empty"); v == nil || len(v) != 0 {
		t.Errorf("empty config: got %q (nil: %v), want empty and not nil", v, v == nil)
	}
}

// testBucketConfigNoAliasing: the store keeps no reference to the slices
// it is given or returns.
func testBucketConfigNoAliasing(t *testing.T, s meta.Store) {
	createBucket(t, s, bucket)
	in := []byte("value")
	must(t, "PutBucketConfig", s.PutBucketConfig(t.Context(), bucket, "c", in))
	in[0] = 'X'
	out := getConfig(t, s, bucket, "c")
	if string(out) != "value" {
		t.Fatalf("config after changing the slice put: got %q, want value", out)
	}
	out[0] = 'Y'
	if v := getConfig(t, s, bucket, "c"); string(v) != "value" {
		t.Errorf("config after changing the slice read: got %q, want value", v)
	}
}

// testBucketConfigNoSuchBucket: every method refuses a missing bucket,
// and a Put there creates nothing.
func testBucketConfigNoSuchBucket(t *testing.T, s meta.Store) {
	wantErr(t, "PutBucketConfig", s.PutBucketConfig(t.Context(), "missing", "c", []byte("v")), meta.ErrNoSuchBucket)
	_, err := s.GetBucketConfig(t.Context(), "missing", "c")
	wantErr(t, "GetBucketConfig", err, meta.ErrNoSuchBucket)
	wantErr(t, "DeleteBucketConfig", s.DeleteBucketConfig(t.Context(), "missing", "c"), meta.ErrNoSuchBucket)
	createBucket(t, s, "missing")
	if v := getConfig(t, s, "missing", "c"); v != nil {
		t.Errorf("config put before the bucket existed: got %q, want nil", v)
	}
}

// testBucketConfigDeleteBucket: configurations do not keep a bucket from
// being deleted, and go with it: a bucket created again has none.
func testBucketConfigDeleteBucket(t *testing.T, s meta.Store) {
	createBucket(t, s, bucket)
	createBucket(t, s, "other")
	must(t, "PutBucketConfig", s.PutBucketConfig(t.Context(), bucket, "lifecycle", []byte("v")))
	must(t, "PutBucketConfig other", s.PutBucketConfig(t.Context(), "other", "lifecycle", []byte("o")))
	_, err := s.DeleteBucket(t.Context(), bucket)
	must(t, "DeleteBucket with a config", err)
	_, err = s.GetBucketConfig(t.Context(), bucket, "lifecycle")
	wantErr(t, "GetBucketConfig of a deleted bucket", err, meta.ErrNoSuchBucket)
	createBucket(t, s, bucket)
	if v := getConfig(t, s, bucket, "lifecycle"); v != nil {
		t.Errorf("config of a re-created bucket: got %q, want nil", v)
	}
	if v := getConfig(t, s, "other", "lifecycle"); string(v) != "o" {
		t.Errorf("config of another bucket: got %q, want o", v)
	}
}
