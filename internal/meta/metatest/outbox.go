package metatest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/firnhq/firn/internal/meta"
)

// events returns a context whose writes record, for each changed
// version, one entry per target naming the change ("put k v", "del k v",
// "upd k v").
func events(ctx context.Context, targets ...string) context.Context {
	return meta.WithEvents(ctx, func(old, new *meta.Object) ([]meta.OutboxEntry, error) {
		var what string
		switch {
		case new == nil:
			what = "del " + old.Key + " " + old.VersionID
		case old == nil || old.VersionID != new.VersionID:
			what = "put " + new.Key + " " + new.VersionID
		default:
			what = "upd " + new.Key + " " + new.VersionID
		}
		var out []meta.OutboxEntry
		for _, t := range targets {
			out = append(out, meta.OutboxEntry{Target: t, Payload: []byte(what), Time: stamp})
		}
		if new != nil && new.Key == "refused" {
			return nil, errCheck
		}
		return out, nil
	})
}

// claimAll claims every due record of target for owner.
func claimAll(t *testing.T, s meta.Store, target, owner string, now time.Time) []meta.OutboxRecord {
	t.Helper()
	recs, held, err := s.ClaimOutbox(t.Context(), target, owner, now, time.Minute, 0, 1000)
	must(t, "ClaimOutbox", err)
	if !held {
		t.Fatalf("ClaimOutbox %s by %s: lease not held", target, owner)
	}
	return recs
}

func payloads(recs []meta.OutboxRecord) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = string(r.Payload)
	}
	return out
}

func ids(recs []meta.OutboxRecord) []int64 {
	out := make([]int64, len(recs))
	for i, r := range recs {
		out[i] = r.ID
	}
	return out
}

// testOutboxWithChanges: every kind of write records its events with the
// change, in commit order, one event's records sharing their seq; a write
// refused records nothing; writes without WithEvents record nothing.
func testOutboxWithChanges(t *testing.T, s meta.Store) {
	createBucket(t, s, bucket)
	ctx := events(t.Context(), "a", "b")
	_, err := s.PutObject(ctx, newObject(bucket, "k1"), nil)
	must(t, "PutObject", err)
	_, err = s.PutObject(ctx, newObject(bucket, "k1"), func(*meta.Object) error { return errCheck })
	wantErr(t, "PutObject refused", err, errCheck)
	must(t, "UpdateObject", s.UpdateObject(ctx, bucket, "k1", func(o *meta.Object) error {
		o.Tags = []meta.Tag{{Key: "t", Value: "v"}}
		return nil
	}))
	v2 := newObject(bucket, "k1")
	v2.VersionID = "v2"
	_, err = s.PutObject(ctx, v2, nil)
	must(t, "PutObject v2", err)
	_, _, err = s.DeleteVersion(ctx, bucket, "k1", meta.NullVersion)
	must(t, "DeleteVersion", err)
	_, _, err = s.DeleteObject(ctx, bucket, "k1")
	must(t, "DeleteObject", err)
	_, err = s.PutObject(t.Context(), newObject(bucket, "quiet"), nil)
	must(t, "PutObject without events", err)
	_, err = s.PutObject(ctx, newObject(bucket, "refused"), nil)
	wantErr(t, "PutObject whose events fail", err, errCheck)
	if _, err := s.GetObject(t.Context(), bucket, "refused"); !errors.Is(err, meta.ErrNoSuchKey) {
		t.Errorf("a write whose events failed committed: %v", err)
	}

	want := []string{"put k1 null", "upd k1 null", "put k1 v2", "del k1 null", "del k1 v2"}
	for _, target := range []string{"a", "b"} {
		recs := claimAll(t, s, target, "n1", stamp)
		if got := payloads(recs); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("target %s: %q, want %q", target, got, want)
		}
		for i := 1; i < len(recs); i++ {
			if recs[i].ID <= recs[i-1].ID || recs[i].Seq <= recs[i-1].Seq {
				t.Errorf("target %s: records out of order: %+v", target, recs)
			}
		}
		for _, r := range recs {
			if !r.Created.Equal(stamp) || r.Target != target {
				t.Errorf("record %+v: want created %v, target %s", r, stamp, target)
			}
		}
	}
	a, b := claimAll(t, s, "a", "n1", stamp), claimAll(t, s, "b", "n1", stamp)
	for i := range a {
		if a[i].Seq != b[i].Seq || a[i].ID == b[i].ID {
			t.Errorf("event %d: seq %d/%d, ids %d/%d: want one seq, two ids", i, a[i].Seq, b[i].Seq, a[i].ID, b[i].ID)
		}
	}

	// Multipart completion and restores record theirs too.
	createUpload(t, s, newUpload("u1", "mp"))
	_, err = s.CompleteUpload(ctx, bucket, "mp", "u1", func([]meta.Part) (*meta.Object, error) { return newObject(bucket, "mp"), nil })
	must(t, "CompleteUpload", err)
	_, err = s.CompleteUpload(ctx, bucket, "mp", "u1", func([]meta.Part) (*meta.Object, error) { return nil, errCheck })
	wantErr(t, "CompleteUpload again", err, meta.ErrNoSuchUpload)
	must(t, "AppendOutbox", s.AppendOutbox(t.Context(), []meta.OutboxEntry{{Target: "a", Payload: []byte("test")}}))
	got := payloads(claimAll(t, s, "a", "n1", stamp))
	if fmt.Sprint(got[len(got)-2:]) != "[put mp null test]" {
		t.Errorf("after upload and append: %q", got)
	}
}

// testOutboxLease: one owner at a time per target; the lease runs out;
// acknowledgements of a lost lease change nothing.
func testOutboxLease(t *testing.T, s meta.Store) {
	createBucket(t, s, bucket)
	_, err := s.PutObject(events(t.Context(), "a", "b"), newObject(bucket, "k"), nil)
	must(t, "PutObject", err)
	recs := claimAll(t, s, "a", "n1", stamp)
	if len(recs) != 1 {
		t.Fatalf("claimed %d records, want 1", len(recs))
	}
	other, held, err := s.ClaimOutbox(t.Context(), "a", "n2", stamp.Add(10*time.Second), time.Minute, 0, 10)
	must(t, "ClaimOutbox n2", err)
	if held || len(other) != 0 {
		t.Fatalf("second owner got the lease of a held target: held %v, %d records", held, len(other))
	}
	// Another target is independent.
	claimAll(t, s, "b", "n2", stamp)
	// After the lease runs out the other owner takes over, and the first
	// one's acknowledgement is refused.
	claimAll(t, s, "a", "n2", stamp.Add(2*time.Minute))
	err = s.AckOutbox(t.Context(), "a", "n1", ids(recs), nil, stamp)
	wantErr(t, "AckOutbox with a lost lease", err, meta.ErrLeaseLost)
	if got := claimAll(t, s, "a", "n2", stamp.Add(2*time.Minute)); len(got) != 1 {
		t.Fatalf("a refused acknowledgement removed records: %d left", len(got))
	}
	must(t, "AckOutbox", s.AckOutbox(t.Context(), "a", "n2", ids(recs), nil, stamp))
	if got := claimAll(t, s, "a", "n2", stamp.Add(2*time.Minute)); len(got) != 0 {
		t.Fatalf("acknowledged records still pending: %v", payloads(got))
	}
}

// testOutboxRetryAndDead: a failed record waits for its next try and holds
// back the records after it; a dead record moves to the dead letters and
// can be requeued; stats count all of it.
func testOutboxRetryAndDead(t *testing.T, s meta.Store) {
	createBucket(t, s, bucket)
	ctx := events(t.Context(), "a")
	for _, k := range []string{"k1", "k2", "k3"} {
		_, err := s.PutObject(ctx, newObject(bucket, k), nil)
		must(t, "PutObject", err)
	}
	recs := claimAll(t, s, "a", "n1", stamp)
	if len(recs) != 3 {
		t.Fatalf("claimed %d, want 3", len(recs))
	}
	must(t, "AckOutbox failure", s.AckOutbox(t.Context(), "a", "n1", nil,
		[]meta.OutboxFailure{{ID: recs[0].ID, Error: "down", NextTry: stamp.Add(time.Second)}}, stamp))
	if got := claimAll(t, s, "a", "n1", stamp); len(got) != 0 {
		t.Errorf("records behind one waiting to be retried were claimed: %v", payloads(got))
	}
	got := claimAll(t, s, "a", "n1", stamp.Add(time.Second))
	if len(got) != 3 || got[0].Attempts != 1 || got[0].LastError != "down" || !got[0].NextTry.Equal(stamp.Add(time.Second)) {
		t.Fatalf("after the retry time: %+v", got)
	}
	st, err := s.OutboxStats(t.Context())
	must(t, "OutboxStats", err)
	if len(st) != 1 || st[0].Target != "a" || st[0].Pending != 3 || st[0].Failing != 1 || st[0].LastError != "down" ||
		!st[0].Oldest.Equal(stamp) || st[0].Owner != "n1" {
		t.Errorf("stats: %+v", st)
	}
	must(t, "AckOutbox dead", s.AckOutbox(t.Context(), "a", "n1", []int64{got[1].ID},
		[]meta.OutboxFailure{{ID: got[0].ID, Error: "gone", Dead: true}}, stamp.Add(time.Second)))
	left := claimAll(t, s, "a", "n1", stamp.Add(time.Second))
	if fmt.Sprint(payloads(left)) != "[put k3 null]" {
		t.Errorf("left: %q", payloads(left))
	}
	dead, err := s.DeadOutbox(t.Context(), "a", 10)
	must(t, "DeadOutbox", err)
	if len(dead) != 1 || string(dead[0].Payload) != "put k1 null" || dead[0].Attempts != 2 || dead[0].LastError != "gone" ||
		!dead[0].Died.Equal(stamp.Add(time.Second)) || dead[0].Seq != recs[0].Seq {
		t.Errorf("dead letters: %+v", dead)
	}
	st, err = s.OutboxStats(t.Context())
	must(t, "OutboxStats", err)
	if len(st) != 1 || st[0].Pending != 1 || st[0].Dead != 1 {
		t.Errorf("stats after dead letter: %+v", st)
	}
	n, err := s.RequeueDead(t.Context(), "a")
	must(t, "RequeueDead", err)
	if n != 1 {
		t.Errorf("requeued %d, want 1", n)
	}
	left = claimAll(t, s, "a", "n1", stamp.Add(time.Second))
	if fmt.Sprint(payloads(left)) != "[put k3 null put k1 null]" || left[1].Attempts != 0 || left[1].Seq != recs[0].Seq {
		t.Errorf("after requeue: %+v", left)
	}
	if dead, _ := s.DeadOutbox(t.Context(), "", 10); len(dead) != 0 {
		t.Errorf("dead letters after requeue: %d", len(dead))
	}
	targets, err := s.OutboxTargets(t.Context())
	must(t, "OutboxTargets", err)
	if fmt.Sprint(targets) != "[a]" {
		t.Errorf("targets: %v", targets)
	}
}

// testOutboxConcurrent: concurrent writers' events all arrive, and their
// seqs order each key's events.
func testOutboxConcurrent(t *testing.T, s meta.Store) {
	createBucket(t, s, bucket)
	ctx := events(t.Context(), "a")
	parallel(8, func(i int) {
		for j := range 20 {
			o := newObject(bucket, fmt.Sprintf("k%d", i))
			o.VersionID = fmt.Sprintf("v%03d", j)
			if _, err := s.PutObject(ctx, o, nil); err != nil {
				t.Error(err)
			}
		}
	})
	recs := claimAll(t, s, "a", "n1", stamp)
	if len(recs) != 160 {
		t.Fatalf("%d records, want 160", len(recs))
	}
	last := map[string]string{}
	for _, r := range recs {
		var key, vid string
		if _, err := fmt.Sscanf(string(r.Payload), "put %s %s", &key, &vid); err != nil {
			t.Fatal(err)
		}
		if vid <= last[key] {
			t.Errorf("%s: %s after %s", key, vid, last[key])
		}
		last[key] = vid
	}
	// Claims after an ID skip what is before it (delivered, not yet
	// acknowledged).
	later, _, err := s.ClaimOutbox(t.Context(), "a", "n1", stamp, time.Minute, recs[99].ID, 1000)
	must(t, "ClaimOutbox after", err)
	if len(later) != 60 || later[0].ID != recs[100].ID {
		t.Errorf("claim after the 100th record: %d records", len(later))
	}
	if err := s.AckOutbox(t.Context(), "a", "n1", ids(recs), nil, stamp); err != nil {
		t.Fatal(err)
	}
	if err := s.AckOutbox(t.Context(), "zzz", "n1", nil, nil, stamp); !errors.Is(err, meta.ErrLeaseLost) {
		t.Errorf("AckOutbox without a lease: %v", err)
	}
}
