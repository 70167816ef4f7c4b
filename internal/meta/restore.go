package meta

import (
	"context"
	"errors"
	"time"
)

// Restore job states.
const (
	RestorePending   = "pending"   // waiting for its due time or running
	RestoreDone      = "done"      // the copy exists until Expiry
	RestoreExpired   = "expired"   // the copy was dropped
	RestoreCancelled = "cancelled" // the object went away or changed first
	RestoreFailed    = "failed"    // the archived bytes could not be read; see Error
)

// ErrLeaseLost is returned when a worker completes a job it no longer
// holds (its lease ran out and another worker claimed it, or the job
// finished meanwhile).
var ErrLeaseLost = errors.New("meta: job lease lost")

// RestoreJob is a durable request to restore an archived object.
type RestoreJob struct {
	ID                     string
	Bucket, Key, VersionID string
	// ObjectETag and ObjectModified identify the object version the job
	// restores; if the key then holds something else, the job is
	// cancelled.
	ObjectETag     string
	ObjectModified time.Time
	StorageClass   string
	Tier           string // Expedited, Standard or Bulk
	Priority       int    // lower runs first among due jobs
	Days           int
	Bytes          int64
	Requested      time.Time
	Due            time.Time // earliest time the job may complete
	State          string
	LeaseOwner     string
	LeaseUntil     time.Time
	Completed      time.Time
	Expiry         time.Time // of the restored copy, once done
	Error          string    // why a failed job failed
}

// RestoreCompletion is what a worker hands in when a job's bytes are
// copied.
type RestoreCompletion struct {
	Copy              []Segment // the restored copy, now referenced
	Inline            []byte    // or a small copy's bytes (Copy nil)
	Completed, Expiry time.Time
	// Replace makes the copy the object's own bytes for good (an
	// Intelligent-Tiering archive tier restore): the archived bytes are
	// freed, the object gets no Restore state, its AccessTier is
	// cleared, its LastAccess set to Completed and its LifecycleDue to
	// Due; the job is done with no expiry.
	Replace bool
	Due     time.Time
	// Meter, when its Name is set, is added to in the same commit, so a
	// restore and its record of bytes read never part.
	Meter CounterAdd
}

// CounterAdd adds N to the counter (Name, Day, Key).
type CounterAdd struct {
	Name string
	Day  int64
	Key  string
	N    int64
}

// RestoreDecision is what a restore request decided inside the write
// transaction: the object's new restore state and the job to create or
// update (nil: none). jobs reads other jobs in the same transaction, so a
// decision that depends on them (a retrieval policy) cannot race.
type RestoreDecision func(o *Object, active *RestoreJob, jobs JobReader) (*RestoreJob, error)

// JobReader reads restore jobs inside a StartRestore transaction.
type JobReader interface {
	// JobsSince returns the jobs of tier (every tier when "") requested
	// at or after from, cancelled and failed ones excluded.
	JobsSince(tier string, from time.Time) ([]RestoreJob, error)
}

// RestoreStore keeps restore jobs. It is part of Store.
type RestoreStore interface {
	// StartRestore runs decide on the object version versionID of key
	// ("": the current object) and its active job
	// (pending or done; nil if none) atomically; decide may change
	// o.Restore, which is stored, and returns the job to insert or update.
	// ErrNoSuchBucket, ErrNoSuchKey, ErrNoSuchVersion (also for a delete
	// marker), or decide's error (nothing changes).
	StartRestore(ctx context.Context, bucket, key, versionID string, decide RestoreDecision) error
	// ClaimRestores leases up to limit pending jobs due at now whose
	// lease is free or expired, lowest Priority then earliest Due first,
	// to owner until now+lease.
	ClaimRestores(ctx context.Context, now time.Time, owner string, lease time.Duration, limit int) ([]RestoreJob, error)
	// RestoreGathered reports whether a pending job whose lease is free
	// or expired at now has been due for at least gather times its own
	// restore time (Due − Requested): the moment a worker claims every
	// due job, so that jobs falling due close together are read
	// together.
	RestoreGathered(ctx context.Context, now time.Time, gather float64) (bool, error)
	// CompleteRestore finishes a claimed job: the object gets its
	// restored copy (c.Copy, now referenced) expiring at c.Expiry, the
	// job is done and c.Meter is counted, in one commit. If the key no
	// longer holds the job's object version, the job is cancelled and
	// the copy is returned as freed (and nothing is counted).
	// ErrLeaseLost if owner no longer holds the job.
	CompleteRestore(ctx context.Context, jobID, owner string, c RestoreCompletion) (freed []string, err error)
	// FailRestore ends a claimed job that cannot succeed (its archived
	// bytes are damaged beyond repair): the job is failed with reason,
	// and the object, if it still is the job's version, is no longer
	// restoring, so a later request starts afresh. It returns the blobs
	// of a copy the object held, now freed. ErrLeaseLost as for
	// CompleteRestore.
	FailRestore(ctx context.Context, jobID, owner, reason string, at time.Time) (freed []string, err error)
	// ExpireRestores drops up to limit restored copies whose expiry is at
	// or before now, returning the freed blobs and the expired jobs.
	ExpireRestores(ctx context.Context, now time.Time, limit int) (freed []string, expired []RestoreJob, err error)
	// ListRestores returns up to limit jobs in state (all states when
	// ""), most recently requested first.
	ListRestores(ctx context.Context, state string, limit int) ([]RestoreJob, error)
	// CompletedRestores returns the jobs that completed a restore (done
	// or since expired) in [from, to).
	CompletedRestores(ctx context.Context, from, to time.Time) ([]RestoreJob, error)
	// RestoreTotals counts every job by state and tier, with their bytes,
	// ordered by state then tier: the progress of the restores asked.
	RestoreTotals(ctx context.Context) ([]RestoreTotal, error)
}

// RestoreTotal is the number of jobs in one state and tier, and their
// bytes.
type RestoreTotal struct {
	State, Tier string
	Jobs        int64
	Bytes       int64
}

// SettingStore keeps small named settings (e.g. the data retrieval
// policy). It is part of Store.
type SettingStore interface {
	// GetSetting returns a setting's value, nil when it was never set.
	GetSetting(ctx context.Context, name string) ([]byte, error)
	// PutSetting sets a setting's value.
	PutSetting(ctx context.Context, name string, value []byte) error
	// AddCounter adds n to the counter (name, day, key), creating it at 0.
	AddCounter(ctx context.Context, name string, day int64, key string, n int64) error
	// Counters returns the counters of name for days fromDay to toDay,
	// both included, ordered by day then key.
	Counters(ctx context.Context, name string, fromDay, toDay int64) ([]Counter, error)
}

// Counter is one per-day counter value.
type Counter struct {
	Day int64
	Key string
	N   int64
}
