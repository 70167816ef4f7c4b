// Package metatest is the conformance suite for meta.Store
// implementations, in the manner of restic's backend test suite: an
// implementation's test calls Run with a function that opens a fresh, empty
// store, and every contract documented in package meta is checked against
// it, each subtest on its own store:
//
//	func TestConformance(t *testing.T) {
//		metatest.Run(t, func(t *testing.T) meta.Store {
//			s, err := Open(filepath.Join(t.TempDir(), "meta.db"))
//			if err != nil {
//				t.Fatal(err)
//			}
//			t.Cleanup(func() { s.Close() })
//			return s
//		})
//	}
//
// open should arrange for the store to be closed (t.Cleanup); the Close
// subtest closes its store itself, so Close must tolerate a second call.
// The suite is meant to run under the race detector.
package metatest

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/firnhq/firn/internal/meta"
)

// Run runs the conformance suite against the stores open returns.
func Run(t *testing.T, open func(t *testing.T) meta.Store) {
	t.Helper()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, open(t))
		})
	}
}

var tests = []struct {
	name string
	fn   func(t *testing.T, s meta.Store)
}{
	{"Bucket/CreateGet", testBucketCreateGet},
	{"Bucket/Exists", testBucketExists},
	{"Bucket/List", testBucketList},
	{"Bucket/Delete", testBucketDelete},
	{"Bucket/DeleteNotEmpty", testBucketDeleteNotEmpty},
	{"Bucket/DeleteAbortsUploads", testBucketDeleteAbortsUploads},

	{"Object/RoundTrip", testObjectRoundTrip},
	{"Object/LastModified", testObjectLastModified},
	{"Object/NoAliasing", testObjectNoAliasing},
	{"Object/Replace", testObjectReplace},
	{"Object/PutCheck", testObjectPutCheck},
	{"Object/Update", testObjectUpdate},
	{"Object/Delete", testObjectDelete},
	{"Object/NoSuchBucket", testObjectNoSuchBucket},
	{"Object/NoSuchKey", testObjectNoSuchKey},

	{"Versions/Stack", testVersionsStack},
	{"Versions/DeleteMarker", testVersionsDeleteMarker},
	{"Versions/Null", testVersionsNull},
	{"Versions/Update", testVersionsUpdate},
	{"Versions/Scan", testVersionsScan},
	{"Versions/Restore", testVersionsRestore},
	{"Versions/RewriteAndDue", testVersionsRewriteAndDue},

	{"Identity", testIdentity},

	{"Scan/Order", testScanOrder},
	{"Scan/Prefix", testScanPrefix},
	{"Scan/After", testScanAfter},
	{"Scan/Limit", testScanLimit},
	{"Scan/NoInline", testScanNoInline},

	{"Upload/CreateGet", testUploadCreateGet},
	{"Upload/NoSuchUpload", testUploadNoSuchUpload},
	{"Upload/PutPart", testUploadPutPart},
	{"Upload/ListParts", testUploadListParts},
	{"Upload/Complete", testUploadComplete},
	{"Upload/CompleteBuildError", testUploadCompleteBuildError},
	{"Upload/Abort", testUploadAbort},
	{"Upload/Scan", testUploadScan},
	{"Upload/ScanPaging", testUploadScanPaging},

	{"BlobReferenced", testBlobReferenced},

	{"Restore/Start", testRestoreStart},
	{"Restore/Claim", testRestoreClaim},
	{"Restore/Gathered", testRestoreGathered},
	{"Restore/Complete", testRestoreComplete},
	{"Restore/Cancelled", testRestoreCancelled},
	{"Restore/Failed", testRestoreFailed},
	{"Restore/InlineCopy", testRestoreInlineCopy},
	{"Lifecycle/Due", testLifecycleDue},
	{"Restore/Expire", testRestoreExpire},
	{"Restore/JobsSince", testRestoreJobsSince},
	{"Restore/Totals", testRestoreTotals},
	{"Settings", testSettings},
	{"Counters", testCounters},

	{"BucketConfig/RoundTrip", testBucketConfigRoundTrip},
	{"BucketConfig/NoAliasing", testBucketConfigNoAliasing},
	{"BucketConfig/NoSuchBucket", testBucketConfigNoSuchBucket},
	{"BucketConfig/DeleteBucket", testBucketConfigDeleteBucket},

	{"Outbox/WithChanges", testOutboxWithChanges},
	{"Outbox/Lease", testOutboxLease},
	{"Outbox/RetryAndDead", testOutboxRetryAndDead},
	{"Outbox/Concurrent", testOutboxConcurrent},

	{"Concurrent/DistinctKeys", testConcurrentDistinctKeys},
	{"Concurrent/SameKey", testConcurrentSameKey},
	{"Concurrent/FailingCheck", testConcurrentFailingCheck},
	{"Concurrent/IfNoneMatch", testConcurrentIfNoneMatch},

	{"Close", testClose},
	{"CloseWithPendingWrites", testClosePending},
}

// errHung is what call returns for a call that did not return.
var errHung = errors.New("metatest: call hung")

// errCheck is what failing PutChecks and build functions return.
var errCheck = errors.New("metatest: check refused")

// stamp is a time with microsecond precision, the least a Store must keep.
var stamp = time.Date(2025, 3, 14, 15, 9, 26, 535897000, time.UTC)

const bucket = "bkt"

func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: got error %v, want %v", what, err, target)
	}
}

func createBucket(t *testing.T, s meta.Store, name string) {
	t.Helper()
	must(t, "CreateBucket "+name, s.CreateBucket(t.Context(), meta.Bucket{Name: name, Owner: "owner", Created: stamp}))
}

// newObject returns an object under key held by the given blobs, 100
// bytes each.
func newObject(bkt, key string, blobs ...string) *meta.Object {
	o := &meta.Object{
		Bucket: bkt, Key: key, VersionID: "null",
		ETag:         fmt.Sprintf("etag-%s-%v", key, blobs),
		LastModified: stamp, StorageClass: "STANDARD", Owner: "owner",
	}
	for _, b := range blobs {
		o.Segments = append(o.Segments, meta.Segment{BlobID: b, Size: 100})
		o.Size += 100
	}
	return o
}

func inlineObject(bkt, key, data string) *meta.Object {
	o := newObject(bkt, key)
	o.Inline = []byte(data)
	o.Size = int64(len(data))
	return o
}

func put(t *testing.T, s meta.Store, o *meta.Object) []string {
	t.Helper()
	freed, err := s.PutObject(t.Context(), o, nil)
	must(t, fmt.Sprintf("PutObject %q", o.Key), err)
	return freed
}

func get(t *testing.T, s meta.Store, bkt, key string) *meta.Object {
	t.Helper()
	o, err := s.GetObject(t.Context(), bkt, key)
	must(t, fmt.Sprintf("GetObject %q", key), err)
	if o == nil {
		t.Fatalf("GetObject %q: got nil object, want one", key)
	}
	return o
}

// sameIDs reports whether got and want hold the same ids, in any order; nil
// and empty are the same.
func sameIDs(got, want []string) bool {
	return slices.Equal(slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want)))
}

func checkFreed(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !sameIDs(got, want) {
		t.Errorf("%s: got freed %q, want %q", what, got, want)
	}
}

// checkRefs checks BlobReferenced for each id.
func checkRefs(t *testing.T, s meta.Store, what string, want map[string]bool) {
	t.Helper()
	for _, id := range slices.Sorted(maps.Keys(want)) {
		got, err := s.BlobReferenced(t.Context(), id)
		if err != nil {
			t.Errorf("%s: BlobReferenced(%q): %v", what, id, err)
			continue
		}
		if got != want[id] {
			t.Errorf("%s: BlobReferenced(%q) got %v, want %v", what, id, got, want[id])
		}
	}
}

// closeTime reports whether got is want to the microsecond (truncated or
// rounded).
func closeTime(got, want time.Time) bool {
	d := got.Sub(want)
	return d > -time.Microsecond && d < time.Microsecond
}

// diffObject lists how got differs from want. With inline false, got must
// carry no inline bytes (as ScanObjects returns objects).
func diffObject(got, want *meta.Object, inline bool) []string {
	var d []string
	add := func(field string, g, w any) {
		d = append(d, fmt.Sprintf("%s: got %#v, want %#v", field, g, w))
	}
	if got.Bucket != want.Bucket {
		add("Bucket", got.Bucket, want.Bucket)
	}
	if got.Key != want.Key {
		add("Key", got.Key, want.Key)
	}
	if got.VersionID != want.VersionID {
		add("VersionID", got.VersionID, want.VersionID)
	}
	if got.Size != want.Size {
		add("Size", got.Size, want.Size)
	}
	if got.ETag != want.ETag {
		add("ETag", got.ETag, want.ETag)
	}
	if !closeTime(got.LastModified, want.LastModified) {
		d = append(d, fmt.Sprintf("LastModified: got %v, want %v", got.LastModified, want.LastModified))
	}
	if got.StorageClass != want.StorageClass {
		add("StorageClass", got.StorageClass, want.StorageClass)
	}
	if got.Owner != want.Owner {
		add("Owner", got.Owner, want.Owner)
	}
	if !maps.Equal(got.Headers, want.Headers) {
		add("Headers", got.Headers, want.Headers)
	}
	if !maps.Equal(got.UserMeta, want.UserMeta) {
		add("UserMeta", got.UserMeta, want.UserMeta)
	}
	if !slices.Equal(got.Tags, want.Tags) {
		add("Tags", got.Tags, want.Tags)
	}
	if got.Checksum != want.Checksum {
		add("Checksum", got.Checksum, want.Checksum)
	}
	if !slices.Equal(got.Parts, want.Parts) {
		add("Parts", got.Parts, want.Parts)
	}
	if !slices.Equal(got.Segments, want.Segments) {
		add("Segments", got.Segments, want.Segments)
	}
	switch {
	case !inline && got.Inline != nil:
		d = append(d, fmt.Sprintf("Inline: got %q, want nil (no inline bytes)", got.Inline))
	case inline && ((got.Inline == nil) != (want.Inline == nil) || !bytes.Equal(got.Inline, want.Inline)):
		d = append(d, fmt.Sprintf("Inline: got %q (nil: %v), want %q (nil: %v)",
			got.Inline, got.Inline == nil, want.Inline, want.Inline == nil))
	}
	return d
}

func checkObject(t *testing.T, what string, got, want *meta.Object, inline bool) {
	t.Helper()
	if got == nil {
		t.Errorf("%s: got nil object, want %q", what, want.Key)
		return
	}
	for _, d := range diffObject(got, want, inline) {
		t.Errorf("%s: %s", what, d)
	}
}

// keysOf returns the keys of objs.
func keysOf(objs []meta.Object) []string {
	keys := make([]string, len(objs))
	for i, o := range objs {
		keys[i] = o.Key
	}
	return keys
}

// call runs f, turning a panic into an error and giving up after a while,
// so that a misbehaving store fails the test instead of crashing or hanging
// it.
func call(t *testing.T, what string, f func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- fmt.Errorf("panic: %v", p)
			}
		}()
		done <- f()
	}()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		t.Errorf("%s: hung for 10s", what)
		return errHung
	}
}
