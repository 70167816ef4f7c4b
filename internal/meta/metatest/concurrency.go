package metatest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/firnhq/firn/internal/meta"
)

// testBlobReferenced follows blobs through every transition that
// references or frees them.
func testBlobReferenced(t *testing.T, s meta.Store) {
	ctx := t.Context()
	steps := []struct {
		name string
		do   func() error
		refs map[string]bool
	}{
		{"unknown ids", func() error { return nil }, map[string]bool{"o1": false, "": false, "never": false}},
		{"PutObject to a missing bucket", func() error {
			_, err := s.PutObject(ctx, newObject(bucket, "k", "o1"), nil)
			if !errors.Is(err, meta.ErrNoSuchBucket) {
				return fmt.Errorf("got %v, want %v", err, meta.ErrNoSuchBucket)
			}
			return nil
		}, map[string]bool{"o1": false}},
		{"CreateBucket", func() error {
			return s.CreateBucket(ctx, meta.Bucket{Name: bucket, Created: stamp})
		}, nil},
		{"PutObject", func() error {
			_, err := s.PutObject(ctx, newObject(bucket, "k", "o1", "o2"), nil)
			return err
		}, map[string]bool{"o1": true, "o2": true}},
		{"UpdateObject", func() error {
			return s.UpdateObject(ctx, bucket, "k", func(o *meta.Object) error { o.Tags = []meta.Tag{{Key: "a"}}; return nil })
		}, map[string]bool{"o1": true, "o2": true}},
		{"PutObject replacing, reusing o2", func() error {
			_, err := s.PutObject(ctx, newObject(bucket, "k", "o2", "o3"), nil)
			return err
		}, map[string]bool{"o1": false, "o2": true, "o3": true}},
		{"PutObject refused by its check", func() error {
			_, err := s.PutObject(ctx, newObject(bucket, "k", "o4"), func(*meta.Object) error { return errCheck })
			if !errors.Is(err, errCheck) {
				return fmt.Errorf("got %v, want %v", err, errCheck)
			}
			return nil
		}, map[string]bool{"o2": true, "o3": true, "o4": false}},
		{"CreateUpload", func() error { return s.CreateUpload(ctx, newUpload("u1", "k")) }, nil},
		{"PutPart 1", func() error { _, err := s.PutPart(ctx, bucket, "k", newPart("u1", 1, "p1")); return err },
			map[string]bool{"p1": true}},
		{"PutPart 2", func() error { _, err := s.PutPart(ctx, bucket, "k", newPart("u1", 2, "p2")); return err },
			map[string]bool{"p1": true, "p2": true}},
		{"PutPart 2 again", func() error { _, err := s.PutPart(ctx, bucket, "k", newPart("u1", 2, "p2b")); return err },
			map[string]bool{"p2": false, "p2b": true}},
		{"PutPart to a missing upload", func() error {
			_, err := s.PutPart(ctx, bucket, "k", newPart("nope", 1, "px"))
			if !errors.Is(err, meta.ErrNoSuchUpload) {
				return fmt.Errorf("got %v, want %v", err, meta.ErrNoSuchUpload)
			}
			return nil
		}, map[string]bool{"px": false}},
		{"CompleteUpload whose build fails", func() error {
			_, err := s.CompleteUpload(ctx, bucket, "k", "u1", func([]meta.Part) (*meta.Object, error) { return nil, errCheck })
			if !errors.Is(err, errCheck) {
				return fmt.Errorf("got %v, want %v", err, errCheck)
			}
			return nil
		}, map[string]bool{"p1": true, "p2b": true, "o2": true, "o3": true}},
		{"CompleteUpload using p2b only", func() error {
			_, err := s.CompleteUpload(ctx, bucket, "k", "u1", func([]meta.Part) (*meta.Object, error) {
				return newObject(bucket, "k", "p2b"), nil
			})
			return err
		}, map[string]bool{"p1": false, "p2b": true, "o2": false, "o3": false}},
		{"CreateUpload u2 with parts", func() error {
			if err := s.CreateUpload(ctx, newUpload("u2", "k2")); err != nil {
				return err
			}
			_, err := s.PutPart(ctx, bucket, "k2", newPart("u2", 1, "q1"))
			return err
		}, map[string]bool{"q1": true}},
		{"AbortUpload u2", func() error { _, err := s.AbortUpload(ctx, bucket, "k2", "u2"); return err },
			map[string]bool{"q1": false}},
		{"CreateUpload u3 with parts", func() error {
			if err := s.CreateUpload(ctx, newUpload("u3", "k3")); err != nil {
				return err
			}
			_, err := s.PutPart(ctx, bucket, "k3", newPart("u3", 1, "r1"))
			return err
		}, map[string]bool{"r1": true}},
		{"DeleteBucket while not empty", func() error {
			_, err := s.DeleteBucket(ctx, bucket)
			if !errors.Is(err, meta.ErrBucketNotEmpty) {
				return fmt.Errorf("got %v, want %v", err, meta.ErrBucketNotEmpty)
			}
			return nil
		}, map[string]bool{"r1": true, "p2b": true}},
		{"DeleteObject", func() error { _, _, err := s.DeleteObject(ctx, bucket, "k"); return err },
			map[string]bool{"p2b": false, "r1": true}},
		{"DeleteBucket", func() error { _, err := s.DeleteBucket(ctx, bucket); return err },
			map[string]bool{"r1": false}},
	}
	for _, st := range steps {
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		checkRefs(t, s, st.name, st.refs)
	}
}

const workers = 64

// parallel runs fn(i) for i in [0, n) in n goroutines released together.
func parallel(n int, fn func(i int)) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			fn(i)
		})
	}
	close(start)
	wg.Wait()
}

func testConcurrentDistinctKeys(t *testing.T, s meta.Store) {
	ctx := t.Context()
	createBucket(t, s, bucket)
	errs := make([]error, workers)
	freed := make([][]string, workers)
	obj := func(i int) *meta.Object {
		o := newObject(bucket, fmt.Sprintf("key-%02d", i), fmt.Sprintf("blob-%02d", i))
		o.UserMeta = map[string]string{"i": fmt.Sprint(i)}
		return o
	}
	parallel(workers, func(i int) {
		freed[i], errs[i] = s.PutObject(ctx, obj(i), nil)
	})
	refs := map[string]bool{}
	for i := range workers {
		if errs[i] != nil {
			t.Errorf("PutObject %d: %v", i, errs[i])
		}
		checkFreed(t, fmt.Sprintf("PutObject %d", i), freed[i], nil)
		checkObject(t, fmt.Sprintf("GetObject %d", i), get(t, s, bucket, obj(i).Key), obj(i), true)
		refs[fmt.Sprintf("blob-%02d", i)] = true
	}
	objs, err := s.ScanObjects(ctx, bucket, "", "", 1000)
	must(t, "ScanObjects", err)
	if len(objs) != workers {
		t.Errorf("ScanObjects: got %d objects, want %d", len(objs), workers)
	}
	checkRefs(t, s, "after concurrent puts", refs)
}

// testConcurrentSameKey: concurrent replacements of one key, watched by
// readers, free every blob but the winner's exactly once.
func testConcurrentSameKey(t *testing.T, s meta.Store) {
	ctx := t.Context()
	createBucket(t, s, bucket)
	const rounds = 4
	errs := make([]error, workers*rounds)
	freed := make([][]string, workers*rounds)
	var stop sync.WaitGroup
	done := make(chan struct{})
	var readErrs []error
	var mu sync.Mutex
	for range 4 {
		stop.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				o, err := s.GetObject(ctx, bucket, "k")
				if errors.Is(err, meta.ErrNoSuchKey) {
					continue
				}
				if err == nil && (len(o.Segments) != 1 || o.ETag != "etag-"+o.Segments[0].BlobID) {
					err = fmt.Errorf("torn object: ETag %q, Segments %v", o.ETag, o.Segments)
				}
				if err != nil {
					mu.Lock()
					readErrs = append(readErrs, err)
					mu.Unlock()
					return
				}
			}
		})
	}
	parallel(workers, func(i int) {
		for r := range rounds {
			n := i*rounds + r
			id := fmt.Sprintf("blob-%03d", n)
			o := newObject(bucket, "k", id)
			o.ETag = "etag-" + id
			freed[n], errs[n] = s.PutObject(ctx, o, nil)
		}
	})
	close(done)
	stop.Wait()
	for _, err := range readErrs {
		t.Errorf("concurrent GetObject: %v", err)
	}
	var all []string
	for n := range errs {
		if errs[n] != nil {
			t.Errorf("PutObject %d: %v", n, errs[n])
		}
		all = append(all, freed[n]...)
	}
	final := get(t, s, bucket, "k")
	if len(final.Segments) != 1 {
		t.Fatalf("final object: got %d segments, want 1", len(final.Segments))
	}
	winner := final.Segments[0].BlobID
	if final.ETag != "etag-"+winner {
		t.Errorf("final object: got ETag %q, want %q", final.ETag, "etag-"+winner)
	}
	var want []string
	refs := map[string]bool{}
	for n := range errs {
		id := fmt.Sprintf("blob-%03d", n)
		refs[id] = id == winner
		if id != winner {
			want = append(want, id)
		}
	}
	slices.Sort(all)
	if !slices.Equal(all, want) {
		t.Errorf("freed by all puts: got %d ids, want every blob but the winner's once (%d)", len(all), len(want))
		for i := 1; i < len(all); i++ {
			if all[i] == all[i-1] {
				t.Errorf("blob %q freed twice", all[i])
			}
		}
		if slices.Contains(all, winner) {
			t.Errorf("the current object's blob %q was freed", winner)
		}
	}
	checkRefs(t, s, "after concurrent replacements", refs)
}

// testConcurrentFailingCheck: a put refused by its check, grouped with
// others, takes nothing with it and leaves nothing behind.
func testConcurrentFailingCheck(t *testing.T, s meta.Store) {
	ctx := t.Context()
	createBucket(t, s, bucket)
	for i := range workers {
		put(t, s, newObject(bucket, fmt.Sprintf("shared-%02d", i%8), fmt.Sprintf("orig-%02d", i%8)))
	}
	for round := range 4 {
		errs := make([]error, workers)
		parallel(workers, func(i int) {
			var o *meta.Object
			var check meta.PutCheck
			switch i % 4 {
			case 0: // new key, accepted
				o = newObject(bucket, fmt.Sprintf("ok-%d-%02d", round, i), fmt.Sprintf("ok-%d-%02d", round, i))
				check = func(cur *meta.Object) error { return nil }
			case 1: // new key, refused
				o = newObject(bucket, fmt.Sprintf("bad-%d-%02d", round, i), fmt.Sprintf("bad-%d-%02d", round, i))
				check = func(cur *meta.Object) error { return errCheck }
			case 2: // existing key, refused
				o = newObject(bucket, fmt.Sprintf("shared-%02d", i%8), fmt.Sprintf("bad-%d-%02d", round, i))
				check = func(cur *meta.Object) error { return errCheck }
			case 3: // no check
				o = newObject(bucket, fmt.Sprintf("ok-%d-%02d", round, i), fmt.Sprintf("ok-%d-%02d", round, i))
			}
			_, errs[i] = s.PutObject(ctx, o, check)
		})
		refs := map[string]bool{}
		for i := range workers {
			id := fmt.Sprintf("%d-%02d", round, i)
			switch i % 4 {
			case 0, 3:
				if errs[i] != nil {
					t.Errorf("round %d: accepted PutObject %d: got error %v, want nil", round, i, errs[i])
				}
				get(t, s, bucket, "ok-"+id)
				refs["ok-"+id] = true
			case 1:
				wantErr(t, fmt.Sprintf("round %d: refused PutObject %d", round, i), errs[i], errCheck)
				_, err := s.GetObject(ctx, bucket, "bad-"+id)
				wantErr(t, fmt.Sprintf("round %d: GetObject of refused new key %d", round, i), err, meta.ErrNoSuchKey)
				refs["bad-"+id] = false
			case 2:
				wantErr(t, fmt.Sprintf("round %d: refused PutObject %d", round, i), errs[i], errCheck)
				refs["bad-"+id] = false
			}
		}
		checkRefs(t, s, fmt.Sprintf("round %d", round), refs)
	}
	for i := range 8 {
		o := get(t, s, bucket, fmt.Sprintf("shared-%02d", i))
		if ids := o.BlobIDs(); len(ids) != 1 || ids[0] != fmt.Sprintf("orig-%02d", i) {
			t.Errorf("shared-%02d after refused puts: got blobs %q, want [orig-%02d]", i, ids, i)
		}
	}
}

// testConcurrentIfNoneMatch: the check runs inside the write, so of many
// puts that accept only a missing object exactly one wins.
func testConcurrentIfNoneMatch(t *testing.T, s meta.Store) {
	ctx := t.Context()
	createBucket(t, s, bucket)
	errExists := errors.New("exists")
	errs := make([]error, workers)
	parallel(workers, func(i int) {
		_, errs[i] = s.PutObject(ctx, newObject(bucket, "k", fmt.Sprintf("blob-%02d", i)), func(cur *meta.Object) error {
			if cur != nil {
				return errExists
			}
			return nil
		})
	})
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Errorf("PutObject %d: got nil error, want %v (%d already won)", i, errExists, winner)
		case err == nil:
			winner = i
		case !errors.Is(err, errExists):
			t.Errorf("PutObject %d: got error %v, want nil or %v", i, err, errExists)
		}
	}
	if winner < 0 {
		t.Fatal("no PutObject won")
	}
	if ids := get(t, s, bucket, "k").BlobIDs(); len(ids) != 1 || ids[0] != fmt.Sprintf("blob-%02d", winner) {
		t.Errorf("GetObject: got blobs %q, want the winner's [blob-%02d]", ids, winner)
	}
}

// testClose: after Close every method fails (writes with ErrClosed)
// without panicking or hanging, and Close may be called again.
func testClose(t *testing.T, s meta.Store) {
	ctx := t.Context()
	createBucket(t, s, bucket)
	put(t, s, newObject(bucket, "k", "b1"))
	createUpload(t, s, newUpload("u1", "k"))
	if err := call(t, "Close", s.Close); err != nil {
		t.Fatalf("Close: %v", err)
	}
	build := func([]meta.Part) (*meta.Object, error) { return newObject(bucket, "k"), nil }
	writes := []struct {
		name string
		call func() error
	}{
		{"CreateBucket", func() error { return s.CreateBucket(ctx, meta.Bucket{Name: "new", Created: stamp}) }},
		{"DeleteBucket", func() error { _, err := s.DeleteBucket(ctx, bucket); return err }},
		{"PutObject", func() error { _, err := s.PutObject(ctx, newObject(bucket, "k2"), nil); return err }},
		{"UpdateObject", func() error { return s.UpdateObject(ctx, bucket, "k", func(*meta.Object) error { return nil }) }},
		{"DeleteObject", func() error { _, _, err := s.DeleteObject(ctx, bucket, "k"); return err }},
		{"CreateUpload", func() error { return s.CreateUpload(ctx, newUpload("u2", "k")) }},
		{"PutPart", func() error { _, err := s.PutPart(ctx, bucket, "k", newPart("u1", 1, "p")); return err }},
		{"CompleteUpload", func() error { _, err := s.CompleteUpload(ctx, bucket, "k", "u1", build); return err }},
		{"AbortUpload", func() error { _, err := s.AbortUpload(ctx, bucket, "k", "u1"); return err }},
	}
	reads := []struct {
		name string
		call func() error
	}{
		{"GetBucket", func() error { _, err := s.GetBucket(ctx, bucket); return err }},
		{"ListBuckets", func() error { _, err := s.ListBuckets(ctx); return err }},
		{"GetObject", func() error { _, err := s.GetObject(ctx, bucket, "k"); return err }},
		{"ScanObjects", func() error { _, err := s.ScanObjects(ctx, bucket, "", "", 10); return err }},
		{"GetUpload", func() error { _, err := s.GetUpload(ctx, bucket, "k", "u1"); return err }},
		{"ListParts", func() error { _, err := s.ListParts(ctx, bucket, "k", "u1", 0, 10); return err }},
		{"ScanUploads", func() error { _, err := s.ScanUploads(ctx, bucket, "", "", "", 10); return err }},
		{"BlobReferenced", func() error { _, err := s.BlobReferenced(ctx, "b1"); return err }},
	}
	// Several times each: a store that races its shutdown fails some of
	// them only.
	for range 8 {
		for _, w := range writes {
			err := call(t, w.name+" after Close", w.call)
			if errors.Is(err, errHung) {
				t.FailNow()
			}
			wantErr(t, w.name+" after Close", err, meta.ErrClosed)
		}
		for _, r := range reads {
			err := call(t, r.name+" after Close", r.call)
			if errors.Is(err, errHung) {
				t.FailNow()
			}
			if err == nil {
				t.Errorf("%s after Close: got nil error, want one", r.name)
			}
		}
	}
	call(t, "second Close", s.Close)
}

// testClosePending: writes racing Close either complete or fail with
// ErrClosed; none hangs.
func testClosePending(t *testing.T, s meta.Store) {
	ctx := t.Context()
	createBucket(t, s, bucket)
	errs := make([]error, workers)
	parallel(workers+1, func(i int) {
		if i == workers {
			if err := call(t, "Close", s.Close); err != nil {
				t.Errorf("Close: %v", err)
			}
			return
		}
		errs[i] = call(t, "PutObject", func() error {
			_, err := s.PutObject(ctx, newObject(bucket, fmt.Sprintf("k%02d", i), fmt.Sprintf("b%02d", i)), nil)
			return err
		})
	})
	for i, err := range errs {
		if err != nil && !errors.Is(err, meta.ErrClosed) {
			t.Errorf("PutObject %d racing Close: got error %v, want nil or %v", i, err, meta.ErrClosed)
		}
	}
}
