package metatest

import (
	"slices"
	"testing"
	"time"

	"github.com/firnhq/firn/internal/meta"
)

// putArchived stores an archived object and returns it as stored.
func putArchived(t *testing.T, s meta.Store, key string) *meta.Object {
	t.Helper()
	createBucketOnce(t, s)
	o := newObject(bucket, key, "arch-"+key)
	o.StorageClass = "GLACIER"
	o.Segments[0].Tier = "archive"
	_, err := s.PutObject(t.Context(), o, nil)
	must(t, "PutObject "+key, err)
	got, err := s.GetObject(t.Context(), bucket, key)
	must(t, "GetObject "+key, err)
	return got
}

func createBucketOnce(t *testing.T, s meta.Store) {
	t.Helper()
	if _, err := s.GetBucket(t.Context(), bucket); err != nil {
		createBucket(t, s, bucket)
	}
}

// startJob starts a restore of key with tier and due.
func startJob(t *testing.T, s meta.Store, key, id, tier string, prio int, due time.Time) {
	t.Helper()
	err := s.StartRestore(t.Context(), bucket, key, "", func(o *meta.Object, active *meta.RestoreJob, _ meta.JobReader) (*meta.RestoreJob, error) {
		if active != nil {
			t.Errorf("StartRestore %s: got active job %s, want none", key, active.ID)
		}
		o.Restore = &meta.Restore{Ongoing: true, Tier: tier, Days: 1, Requested: stamp}
		return &meta.RestoreJob{ID: id, Bucket: bucket, Key: key, VersionID: o.VersionID, ObjectETag: o.ETag,
			ObjectModified: o.LastModified, StorageClass: o.StorageClass, Tier: tier, Priority: prio, Days: 1,
			Bytes: o.Size, Requested: stamp, Due: due, State: meta.RestorePending}, nil
	})
	must(t, "StartRestore "+key, err)
}

func jobIDs(jobs []meta.RestoreJob) []string {
	var ids []string
	for _, j := range jobs {
		ids = append(ids, j.ID)
	}
	return ids
}

func testRestoreStart(t *testing.T, s meta.Store) {
	putArchived(t, s, "a")
	startJob(t, s, "a", "j1", "Bulk", 2, stamp.Add(time.Hour))
	o, err := s.GetObject(t.Context(), bucket, "a")
	must(t, "GetObject", err)
	if o.Restore == nil || !o.Restore.Ongoing || o.Restore.Tier != "Bulk" {
		t.Errorf("restore state: got %+v, want ongoing Bulk", o.Restore)
	}
	// The active job is shown to the next decision, and a refusal changes
	// nothing.
	err = s.StartRestore(t.Context(), bucket, "a", "", func(o *meta.Object, active *meta.RestoreJob, _ meta.JobReader) (*meta.RestoreJob, error) {
		if active == nil || active.ID != "j1" || active.State != meta.RestorePending {
			t.Errorf("active job: got %+v, want pending j1", active)
		}
		o.Restore = nil
		return nil, errCheck
	})
	wantErr(t, "refused StartRestore", err, errCheck)
	o, _ = s.GetObject(t.Context(), bucket, "a")
	if o.Restore == nil || !o.Restore.Ongoing {
		t.Errorf("refused decision changed the object: %+v", o.Restore)
	}
	// Errors of a missing object.
	err = s.StartRestore(t.Context(), bucket, "missing", "", func(*meta.Object, *meta.RestoreJob, meta.JobReader) (*meta.RestoreJob, error) { return nil, nil })
	wantErr(t, "StartRestore missing key", err, meta.ErrNoSuchKey)
	err = s.StartRestore(t.Context(), "nobucket", "a", "", func(*meta.Object, *meta.RestoreJob, meta.JobReader) (*meta.RestoreJob, error) { return nil, nil })
	wantErr(t, "StartRestore missing bucket", err, meta.ErrNoSuchBucket)
	// A decision may not change the bytes.
	err = s.StartRestore(t.Context(), bucket, "a", "", func(o *meta.Object, _ *meta.RestoreJob, _ meta.JobReader) (*meta.RestoreJob, error) {
		o.Segments = nil
		return nil, nil
	})
	if err == nil {
		t.Errorf("StartRestore changing segments: got nil error")
	}
}

func testRestoreClaim(t *testing.T, s meta.Store) {
	for _, k := range []string{"a", "b", "c", "d"} {
		putArchived(t, s, k)
	}
	startJob(t, s, "a", "bulk-early", "Bulk", 2, stamp)
	startJob(t, s, "b", "std-late", "Standard", 1, stamp.Add(time.Minute))
	startJob(t, s, "c", "std-early", "Standard", 1, stamp.Add(-time.Minute))
	startJob(t, s, "d", "not-due", "Expedited", 0, stamp.Add(time.Hour))
	now := stamp.Add(2 * time.Minute)
	jobs, err := s.ClaimRestores(t.Context(), now, "w1", time.Minute, 2)
	must(t, "ClaimRestores", err)
	if got, want := jobIDs(jobs), []string{"std-early", "std-late"}; !slices.Equal(got, want) {
		t.Errorf("claim order: got %v, want %v (priority, then due)", got, want)
	}
	for _, j := range jobs {
		if j.LeaseOwner != "w1" || !j.LeaseUntil.Equal(now.Add(time.Minute)) {
			t.Errorf("lease of %s: got %s until %v", j.ID, j.LeaseOwner, j.LeaseUntil)
		}
	}
	jobs, _ = s.ClaimRestores(t.Context(), now, "w2", time.Minute, 10)
	if got := jobIDs(jobs); !slices.Equal(got, []string{"bulk-early"}) {
		t.Errorf("second claim: got %v, want [bulk-early] (leased and undue jobs skipped)", got)
	}
	// Leases run out.
	jobs, _ = s.ClaimRestores(t.Context(), now.Add(2*time.Minute), "w3", time.Minute, 10)
	if got := jobIDs(jobs); len(got) != 3 {
		t.Errorf("claim after leases expired: got %v, want the 3 due jobs", got)
	}
}

func testRestoreGathered(t *testing.T, s meta.Store) {
	gathered := func(now time.Time) bool {
		t.Helper()
		ok, err := s.RestoreGathered(t.Context(), now, 0.1)
		must(t, "RestoreGathered", err)
		return ok
	}
	if gathered(stamp.Add(time.Hour)) {
		t.Error("no jobs: gathered")
	}
	// Requested at stamp, due 10 minutes later: gathered one minute after.
	putArchived(t, s, "a")
	startJob(t, s, "a", "j1", "Standard", 1, stamp.Add(10*time.Minute))
	if gathered(stamp.Add(10 * time.Minute)) {
		t.Error("gathered as soon as due, want a tenth of its restore time later")
	}
	if !gathered(stamp.Add(11 * time.Minute)) {
		t.Error("not gathered a tenth of its restore time after due")
	}
	// A leased job does not count until its lease runs out.
	jobs, err := s.ClaimRestores(t.Context(), stamp.Add(11*time.Minute), "w1", time.Minute, 10)
	must(t, "ClaimRestores", err)
	if len(jobs) != 1 {
		t.Fatalf("claimed %d jobs, want 1", len(jobs))
	}
	if gathered(stamp.Add(11*time.Minute + 30*time.Second)) {
		t.Error("a leased job counts as gathered")
	}
	if !gathered(stamp.Add(12 * time.Minute)) {
		t.Error("a job whose lease ran out is not gathered")
	}
	// An instant restore (due when requested) is gathered at once.
	putArchived(t, s, "b")
	startJob(t, s, "b", "j2", "Expedited", 0, stamp)
	if !gathered(stamp) {
		t.Error("an instant restore waits to be gathered")
	}
}

func testRestoreComplete(t *testing.T, s meta.Store) {
	putArchived(t, s, "a")
	startJob(t, s, "a", "j1", "Standard", 1, stamp)
	_, err := s.ClaimRestores(t.Context(), stamp, "w1", time.Minute, 10)
	must(t, "ClaimRestores", err)
	copy := []meta.Segment{{BlobID: "copy-a", Size: 100}}
	expiry := stamp.Add(48 * time.Hour)
	_, err = s.CompleteRestore(t.Context(), "j1", "w2", meta.RestoreCompletion{Copy: copy, Completed: stamp, Expiry: expiry})
	wantErr(t, "CompleteRestore by another owner", err, meta.ErrLeaseLost)
	meter := meta.CounterAdd{Name: "retrieved", Day: 7, Key: "Standard", N: 100}
	freed, err := s.CompleteRestore(t.Context(), "j1", "w1", meta.RestoreCompletion{Copy: copy, Completed: stamp, Expiry: expiry, Meter: meter})
	must(t, "CompleteRestore", err)
	if len(freed) != 0 {
		t.Errorf("freed: got %v, want none", freed)
	}
	o, _ := s.GetObject(t.Context(), bucket, "a")
	if o.Restore == nil || o.Restore.Ongoing || !o.Restore.Expiry.Equal(expiry) || len(o.Restore.Copy) != 1 {
		t.Errorf("restore state: got %+v", o.Restore)
	}
	if ref, _ := s.BlobReferenced(t.Context(), "copy-a"); !ref {
		t.Errorf("restored copy not referenced")
	}
	if cs, _ := s.Counters(t.Context(), "retrieved", 7, 7); len(cs) != 1 || cs[0].N != 100 {
		t.Errorf("meter after completion: got %+v, want 100 bytes counted", cs)
	}
	_, err = s.CompleteRestore(t.Context(), "j1", "w1", meta.RestoreCompletion{Copy: copy, Completed: stamp, Expiry: expiry, Meter: meter})
	wantErr(t, "CompleteRestore twice", err, meta.ErrLeaseLost)
	if cs, _ := s.Counters(t.Context(), "retrieved", 7, 7); len(cs) != 1 || cs[0].N != 100 {
		t.Errorf("meter after a refused second completion: got %+v, want still 100", cs)
	}
	jobs, _ := s.ListRestores(t.Context(), meta.RestoreDone, 10)
	if len(jobs) != 1 || !jobs[0].Expiry.Equal(expiry) {
		t.Errorf("done jobs: got %+v", jobs)
	}
	// Deleting the object frees the copy too.
	_, freed, err = s.DeleteObject(t.Context(), bucket, "a")
	must(t, "DeleteObject", err)
	if !slices.Contains(freed, "copy-a") {
		t.Errorf("DeleteObject freed %v, want the restored copy too", freed)
	}
}

func testRestoreCancelled(t *testing.T, s meta.Store) {
	putArchived(t, s, "a")
	startJob(t, s, "a", "j1", "Standard", 1, stamp)
	// The key gets another object before the job runs.
	o := newObject(bucket, "a", "other")
	o.StorageClass = "GLACIER"
	_, err := s.PutObject(t.Context(), o, nil)
	must(t, "PutObject", err)
	_, err = s.ClaimRestores(t.Context(), stamp, "w1", time.Minute, 10)
	must(t, "ClaimRestores", err)
	freed, err := s.CompleteRestore(t.Context(), "j1", "w1", meta.RestoreCompletion{Copy: []meta.Segment{{BlobID: "copy", Size: 100}},
		Completed: stamp, Expiry: stamp.Add(time.Hour), Meter: meta.CounterAdd{Name: "retrieved", Day: 1, Key: "Standard", N: 100}})
	must(t, "CompleteRestore", err)
	if !slices.Equal(freed, []string{"copy"}) {
		t.Errorf("freed: got %v, want [copy]", freed)
	}
	if jobs, _ := s.ListRestores(t.Context(), meta.RestoreCancelled, 10); len(jobs) != 1 {
		t.Errorf("cancelled jobs: got %d, want 1", len(jobs))
	}
	if cs, _ := s.Counters(t.Context(), "retrieved", 1, 1); len(cs) != 0 {
		t.Errorf("a cancelled job was metered: %+v", cs)
	}
	got, _ := s.GetObject(t.Context(), bucket, "a")
	if got.Restore != nil {
		t.Errorf("the new object got restore state %+v", got.Restore)
	}
}

func testRestoreExpire(t *testing.T, s meta.Store) {
	putArchived(t, s, "a")
	startJob(t, s, "a", "j1", "Standard", 1, stamp)
	s.ClaimRestores(t.Context(), stamp, "w1", time.Minute, 10)
	expiry := stamp.Add(24 * time.Hour)
	_, err := s.CompleteRestore(t.Context(), "j1", "w1", meta.RestoreCompletion{Copy: []meta.Segment{{BlobID: "copy-a", Size: 100}}, Completed: stamp, Expiry: expiry})
	must(t, "CompleteRestore", err)
	freed, expired, err := s.ExpireRestores(t.Context(), expiry.Add(-time.Nanosecond), 10)
	must(t, "ExpireRestores early", err)
	if len(freed)+len(expired) != 0 {
		t.Errorf("expired early: %v %v", freed, expired)
	}
	freed, expired, err = s.ExpireRestores(t.Context(), expiry, 10)
	must(t, "ExpireRestores", err)
	if !slices.Equal(freed, []string{"copy-a"}) || len(expired) != 1 || expired[0].State != meta.RestoreExpired {
		t.Errorf("ExpireRestores: freed %v, expired %+v", freed, expired)
	}
	o, _ := s.GetObject(t.Context(), bucket, "a")
	if o.Restore != nil {
		t.Errorf("restore state after expiry: %+v", o.Restore)
	}
	if ref, _ := s.BlobReferenced(t.Context(), "copy-a"); ref {
		t.Errorf("expired copy still referenced")
	}
	// A later request sees no active job.
	err = s.StartRestore(t.Context(), bucket, "a", "", func(_ *meta.Object, active *meta.RestoreJob, _ meta.JobReader) (*meta.RestoreJob, error) {
		if active != nil {
			t.Errorf("active job after expiry: %+v", active)
		}
		return nil, nil
	})
	must(t, "StartRestore", err)
}

func testRestoreTotals(t *testing.T, s meta.Store) {
	got, err := s.RestoreTotals(t.Context())
	must(t, "RestoreTotals", err)
	if len(got) != 0 {
		t.Errorf("no jobs: got %v", got)
	}
	for _, k := range []string{"a", "b", "c"} {
		putArchived(t, s, k)
	}
	startJob(t, s, "a", "j1", "Standard", 1, stamp)
	startJob(t, s, "b", "j2", "Standard", 1, stamp)
	startJob(t, s, "c", "j3", "Bulk", 2, stamp)
	_, err = s.ClaimRestores(t.Context(), stamp, "w1", time.Minute, 10)
	must(t, "ClaimRestores", err)
	_, err = s.CompleteRestore(t.Context(), "j1", "w1", meta.RestoreCompletion{Copy: []meta.Segment{{BlobID: "copy-a", Size: 100}},
		Completed: stamp, Expiry: stamp.Add(48 * time.Hour)})
	must(t, "CompleteRestore", err)
	o, err := s.GetObject(t.Context(), bucket, "b")
	must(t, "GetObject", err)
	got, err = s.RestoreTotals(t.Context())
	must(t, "RestoreTotals", err)
	want := []meta.RestoreTotal{
		{State: meta.RestoreDone, Tier: "Standard", Jobs: 1, Bytes: o.Size},
		{State: meta.RestorePending, Tier: "Bulk", Jobs: 1, Bytes: o.Size},
		{State: meta.RestorePending, Tier: "Standard", Jobs: 1, Bytes: o.Size},
	}
	if !slices.Equal(got, want) {
		t.Errorf("totals: got %+v, want %+v", got, want)
	}
}

func testRestoreJobsSince(t *testing.T, s meta.Store) {
	for _, k := range []string{"a", "b", "c"} {
		putArchived(t, s, k)
	}
	startJob(t, s, "a", "old", "Standard", 1, stamp)
	// startJob stamps Requested; move b's and c's later by hand.
	for i, k := range []string{"b", "c"} {
		tier := []string{"Standard", "Bulk"}[i]
		err := s.StartRestore(t.Context(), bucket, k, "", func(o *meta.Object, _ *meta.RestoreJob, _ meta.JobReader) (*meta.RestoreJob, error) {
			return &meta.RestoreJob{ID: "new-" + k, Bucket: bucket, Key: k, ObjectETag: o.ETag, ObjectModified: o.LastModified,
				Tier: tier, Requested: stamp.Add(time.Hour), Due: stamp.Add(time.Hour), State: meta.RestorePending}, nil
		})
		must(t, "StartRestore "+k, err)
	}
	err := s.StartRestore(t.Context(), bucket, "a", "", func(_ *meta.Object, _ *meta.RestoreJob, jobs meta.JobReader) (*meta.RestoreJob, error) {
		got, err := jobs.JobsSince("Standard", stamp.Add(time.Minute))
		if err != nil {
			return nil, err
		}
		if ids := jobIDs(got); !slices.Equal(ids, []string{"new-b"}) {
			t.Errorf("JobsSince(Standard): got %v, want [new-b]", ids)
		}
		all, err := jobs.JobsSince("", stamp)
		if err != nil {
			return nil, err
		}
		if len(all) != 3 {
			t.Errorf("JobsSince(all): got %d jobs, want 3", len(all))
		}
		return nil, nil
	})
	must(t, "StartRestore a", err)
}

func testSettings(t *testing.T, s meta.Store) {
	v, err := s.GetSetting(t.Context(), "policy")
	if err != nil || v != nil {
		t.Errorf("unset setting: got %q, %v; want nil, nil", v, err)
	}
	must(t, "PutSetting", s.PutSetting(t.Context(), "policy", []byte("one")))
	must(t, "PutSetting", s.PutSetting(t.Context(), "policy", []byte("two")))
	if v, err := s.GetSetting(t.Context(), "policy"); err != nil || string(v) != "two" {
		t.Errorf("setting: got %q, %v; want two", v, err)
	}
}

func testCounters(t *testing.T, s meta.Store) {
	for _, c := range []meta.Counter{{Day: 3, Key: "Standard", N: 10}, {Day: 3, Key: "Standard", N: 5}, {Day: 3, Key: "Bulk", N: 1}, {Day: 4, Key: "Standard", N: 7}, {Day: 9, Key: "Standard", N: 1}} {
		must(t, "AddCounter", s.AddCounter(t.Context(), "retrieved", c.Day, c.Key, c.N))
	}
	must(t, "AddCounter other", s.AddCounter(t.Context(), "other", 3, "Standard", 100))
	got, err := s.Counters(t.Context(), "retrieved", 3, 4)
	must(t, "Counters", err)
	want := []meta.Counter{{Day: 3, Key: "Bulk", N: 1}, {Day: 3, Key: "Standard", N: 15}, {Day: 4, Key: "Standard", N: 7}}
	if !slices.Equal(got, want) {
		t.Errorf("Counters: got %v, want %v", got, want)
	}
}

func testRestoreFailed(t *testing.T, s meta.Store) {
	putArchived(t, s, "a")
	startJob(t, s, "a", "j1", "Standard", 1, stamp)
	_, err := s.ClaimRestores(t.Context(), stamp, "w1", time.Minute, 10)
	must(t, "ClaimRestores", err)
	_, err = s.FailRestore(t.Context(), "j1", "w2", "damaged", stamp)
	wantErr(t, "FailRestore by another owner", err, meta.ErrLeaseLost)
	freed, err := s.FailRestore(t.Context(), "j1", "w1", "pack damaged beyond parity", stamp.Add(time.Second))
	must(t, "FailRestore", err)
	if len(freed) != 0 {
		t.Errorf("freed: got %v, want none", freed)
	}
	jobs, _ := s.ListRestores(t.Context(), meta.RestoreFailed, 10)
	if len(jobs) != 1 || jobs[0].Error != "pack damaged beyond parity" || !jobs[0].Completed.Equal(stamp.Add(time.Second)) || jobs[0].LeaseOwner != "" {
		t.Errorf("failed jobs: got %+v", jobs)
	}
	o, _ := s.GetObject(t.Context(), bucket, "a")
	if o.Restore != nil {
		t.Errorf("object still restoring after its job failed: %+v", o.Restore)
	}
	_, err = s.FailRestore(t.Context(), "j1", "w1", "again", stamp)
	wantErr(t, "FailRestore twice", err, meta.ErrLeaseLost)
	// A failed job neither blocks a new request nor counts against the
	// retrieval policy.
	err = s.StartRestore(t.Context(), bucket, "a", "", func(o *meta.Object, active *meta.RestoreJob, jobs meta.JobReader) (*meta.RestoreJob, error) {
		if active != nil {
			t.Errorf("active job after failure: %+v", active)
		}
		prior, err := jobs.JobsSince("", stamp.Add(-time.Hour))
		if err != nil || len(prior) != 0 {
			t.Errorf("JobsSince: %+v, %v; want no jobs (failed ones excluded)", prior, err)
		}
		return nil, nil
	})
	must(t, "StartRestore after failure", err)
}

func testRestoreInlineCopy(t *testing.T, s meta.Store) {
	putArchived(t, s, "a")
	startJob(t, s, "a", "j1", "Standard", 1, stamp)
	_, err := s.ClaimRestores(t.Context(), stamp, "w1", time.Minute, 10)
	must(t, "ClaimRestores", err)
	expiry := stamp.Add(24 * time.Hour)
	_, err = s.CompleteRestore(t.Context(), "j1", "w1", meta.RestoreCompletion{Inline: []byte("small copy"), Completed: stamp, Expiry: expiry})
	must(t, "CompleteRestore", err)
	o, err := s.GetObject(t.Context(), bucket, "a")
	must(t, "GetObject", err)
	if o.Restore == nil || string(o.Restore.Inline) != "small copy" || o.Inline != nil || len(o.Restore.Copy) != 0 {
		t.Fatalf("restored inline copy: restore %+v, object inline %q", o.Restore, o.Inline)
	}
	if got, _ := s.GetObject(t.Context(), bucket, "a"); len(got.Segments) != len(o.Segments) {
		t.Errorf("segments changed by an inline restore")
	}
	if _, _, err := s.ExpireRestores(t.Context(), expiry, 10); err != nil {
		t.Fatal(err)
	}
	o, _ = s.GetObject(t.Context(), bucket, "a")
	if o.Restore != nil || o.Inline != nil {
		t.Errorf("after expiry: restore %+v, inline %q; want neither", o.Restore, o.Inline)
	}
}
