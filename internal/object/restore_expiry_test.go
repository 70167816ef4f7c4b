package object

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/firnhq/firn/internal/meta"
)

// TestRestoredCopyPastExpiryIsNotServed: once the service clock reaches
// a restored copy's expiry the copy is gone for every reader, whether or
// not ExpireRestores has dropped it yet: GET, CopyObject and
// UploadPartCopy answer InvalidObjectState, HEAD and listings show no
// restore state; the sweep then drops it and nothing a reader sees
// changes. A copy read at the last instant before expiry is still served.
func TestRestoredCopyPastExpiryIsNotServed(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	big := bytes.Repeat([]byte("glacier "), 1000) // restored to a blob
	small := []byte("inline copy")                // restored inline
	f.put("data", "big", Glacier, big)
	f.put("data", "small", Glacier, small)
	for _, k := range []string{"big", "small"} {
		if _, err := f.restore(k, 1, TierExpedited); err != nil {
			t.Fatal(err)
		}
	}
	f.clock.Advance(5 * time.Minute)
	if n := f.run(); n != 2 {
		t.Fatalf("restores done: %d, want 2", n)
	}
	o, err := f.svc.HeadObject(ctx, GetInput{Bucket: "data", Key: "big"})
	if err != nil || o.Restore == nil || o.Restore.Expiry.IsZero() {
		t.Fatalf("after the restore: %+v, %v", o, err)
	}
	expiry := o.Restore.Expiry // 2026-03-12 00:00 UTC
	if f.files("hot") != 1 {
		t.Fatalf("hot files: %d, want the big copy's", f.files("hot"))
	}

	// The last instant before expiry: still served.
	f.clock.Advance(expiry.Sub(f.clock.Now()) - time.Nanosecond)
	if got, err := f.get("data", "big"); err != nil || !bytes.Equal(got, big) {
		t.Fatalf("GET just before expiry: %d bytes, %v", len(got), err)
	}

	// wantGone checks every reader sees both objects archived, with no
	// restore state.
	wantGone := func(when string) {
		t.Helper()
		for _, k := range []string{"big", "small"} {
			_, err := f.get("data", k)
			var ae *ArchivedError
			if !errors.As(err, &ae) || ae.StorageClass != Glacier {
				t.Errorf("%s: GET %s: %v, want ArchivedError{GLACIER}", when, k, err)
			}
			o, err := f.svc.HeadObject(ctx, GetInput{Bucket: "data", Key: k})
			if err != nil || o.Restore != nil {
				t.Errorf("%s: HEAD %s: restore %+v, %v; want none", when, k, o.Restore, err)
			}
			_, err = f.svc.CopyObject(ctx, CopyInput{SrcBucket: "data", SrcKey: k, Bucket: "data", Key: k + "-copy", Owner: "owner"})
			if !errors.As(err, &ae) {
				t.Errorf("%s: CopyObject from %s: %v, want ArchivedError", when, k, err)
			}
			u, err := f.svc.CreateMultipartUpload(ctx, CreateUploadInput{Bucket: "data", Key: k + "-mp", Owner: "owner"})
			if err != nil {
				t.Fatal(err)
			}
			_, _, err = f.svc.UploadPartCopy(ctx, CopyPartInput{SrcBucket: "data", SrcKey: k, Bucket: "data", Key: k + "-mp", UploadID: u.ID, PartNumber: 1})
			if !errors.As(err, &ae) {
				t.Errorf("%s: UploadPartCopy from %s: %v, want ArchivedError", when, k, err)
			}
		}
		page, err := f.svc.ListObjects(ctx, "data", meta.ListParams{MaxKeys: 10})
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Objects {
			if o.Restore != nil {
				t.Errorf("%s: listing shows %s with restore state %+v", when, o.Key, o.Restore)
			}
		}
	}

	// At expiry, before the sweep: gone, though the record still holds
	// the copy.
	f.clock.Advance(time.Nanosecond)
	if r := f.head("data", "big").Restore; r == nil || len(r.Copy) != 1 {
		t.Fatalf("the sweep ran early: stored restore %+v", r)
	}
	wantGone("at expiry, before the sweep")

	// The sweep drops the copies; readers see the same.
	if n, err := f.svc.ExpireRestores(ctx, 10); err != nil || n != 2 {
		t.Fatalf("ExpireRestores: %d, %v; want 2", n, err)
	}
	if r := f.head("data", "big").Restore; r != nil {
		t.Errorf("after the sweep: stored restore %+v", r)
	}
	if f.files("hot") != 0 {
		t.Errorf("hot files after the sweep: %d, want 0", f.files("hot"))
	}
	wantGone("after the sweep")
}

// TestRestoreAfterExpiryBeforeSweep: a restore request for an object
// whose copy has expired but not been swept starts a new restore (S3:
// 202), not an extension of the dead copy (200); the new copy is served
// once done, and outlives the sweep of the old one.
func TestRestoreAfterExpiryBeforeSweep(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	body := bytes.Repeat([]byte("again "), 1000)
	f.put("data", "k", Glacier, body)
	if _, err := f.restore("k", 1, TierExpedited); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(5 * time.Minute)
	if n := f.run(); n != 1 {
		t.Fatalf("restores done: %d", n)
	}
	o, _ := f.svc.HeadObject(ctx, GetInput{Bucket: "data", Key: "k"})
	f.clock.Advance(o.Restore.Expiry.Sub(f.clock.Now()) + time.Hour) // past expiry, no sweep

	out, err := f.restore("k", 3, TierExpedited)
	if err != nil || out != RestoreStarted {
		t.Fatalf("restore after expiry: %v, %v; want RestoreStarted", out, err)
	}
	o, _ = f.svc.HeadObject(ctx, GetInput{Bucket: "data", Key: "k"})
	if o.Restore == nil || !o.Restore.Ongoing {
		t.Fatalf("restore state: %+v, want ongoing", o.Restore)
	}
	_, err = f.get("data", "k")
	wantArchived(t, err, Glacier)
	if f.files("hot") != 0 {
		t.Errorf("hot files while restoring again: %d, want 0 (the dead copy dropped)", f.files("hot"))
	}
	f.clock.Advance(5 * time.Minute)
	if n := f.run(); n != 1 {
		t.Fatalf("second restore: %d done", n)
	}
	if n, _ := f.svc.ExpireRestores(ctx, 10); n != 0 {
		t.Errorf("the sweep expired %d copies, want 0 (the new one lives 3 days)", n)
	}
	if got, err := f.get("data", "k"); err != nil || !bytes.Equal(got, body) {
		t.Fatalf("GET after the second restore: %d bytes, %v", len(got), err)
	}
	jobs, _ := f.svc.ListRestores(ctx, "", 10)
	states := map[string]int{}
	for _, j := range jobs {
		states[j.State]++
	}
	if states[meta.RestoreDone] != 1 || states[meta.RestoreExpired] != 1 || len(jobs) != 2 {
		t.Errorf("jobs by state: %v, want one done and one expired", states)
	}
}

// TestDefaultRestoreLatencies: with the default latencies, a restore
// requested at T through the service is not done at T+lower-1s and is
// done by T+upper, for AWS's published times: GLACIER Expedited 1–5
// minutes, Standard 3–5 hours, Bulk 5–12 hours; DEEP_ARCHIVE Standard
// within 12 hours, Bulk within 48 (no lower bound is published: not done
// at T); Expedited from DEEP_ARCHIVE is refused.
func TestDefaultRestoreLatencies(t *testing.T) {
	for _, tc := range []struct {
		class, tier  string
		lower, upper time.Duration
	}{
		{Glacier, TierExpedited, time.Minute, 5 * time.Minute},
		{Glacier, TierStandard, 3 * time.Hour, 5 * time.Hour},
		{Glacier, TierBulk, 5 * time.Hour, 12 * time.Hour},
		{DeepArchive, TierStandard, 0, 12 * time.Hour},
		{DeepArchive, TierBulk, 0, 48 * time.Hour},
	} {
		t.Run(tc.class+"/"+tc.tier, func(t *testing.T) {
			f := newFixture(t)
			body := bytes.Repeat([]byte(tc.class+tc.tier), 200)
			f.put("data", "k", tc.class, body)
			requested := f.clock.Now()
			if out, err := f.restore("k", 1, tc.tier); err != nil || out != RestoreStarted {
				t.Fatalf("restore: %v, %v", out, err)
			}
			f.clock.Advance(max(tc.lower-time.Second, 0))
			if n := f.run(); n != 0 {
				t.Fatalf("done %v after the request, want not before %v", f.clock.Now().Sub(requested), tc.lower)
			}
			_, err := f.get("data", "k")
			wantArchived(t, err, tc.class)
			f.clock.Advance(requested.Add(tc.upper).Sub(f.clock.Now()))
			if n := f.run(); n != 1 {
				t.Fatalf("not done %v after the request, want done by %v", f.clock.Now().Sub(requested), tc.upper)
			}
			if got, err := f.get("data", "k"); err != nil || !bytes.Equal(got, body) {
				t.Fatalf("GET after the restore: %d bytes, %v", len(got), err)
			}
		})
	}
	f := newFixture(t)
	f.put("data", "deep", DeepArchive, []byte("deep"))
	var ia *InvalidArgumentError
	if _, err := f.restore("deep", 1, TierExpedited); !errors.As(err, &ia) || ia.Name != "Tier" {
		t.Errorf("Expedited from DEEP_ARCHIVE: %v, want InvalidArgumentError on Tier", err)
	}
	if jobs, _ := f.svc.ListRestores(context.Background(), "", 10); len(jobs) != 0 {
		t.Errorf("a refused restore made jobs: %+v", jobs)
	}
}
