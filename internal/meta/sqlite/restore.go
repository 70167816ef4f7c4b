package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/firnhq/firn/internal/meta"
)

const jobCols = `id, bucket, key, version_id, object_etag, object_mtime, storage_class, tier, priority, days, bytes,
	requested, due, state, lease_owner, lease_until, completed, expiry, error`

func scanJob(sc interface{ Scan(...any) error }) (meta.RestoreJob, error) {
	var j meta.RestoreJob
	var mtime, requested, due, leaseUntil, completed, expiry int64
	err := sc.Scan(&j.ID, &j.Bucket, &j.Key, &j.VersionID, &j.ObjectETag, &mtime, &j.StorageClass, &j.Tier, &j.Priority,
		&j.Days, &j.Bytes, &requested, &due, &j.State, &j.LeaseOwner, &leaseUntil, &completed, &expiry, &j.Error)
	j.ObjectModified, j.Requested, j.Due = fromNanos(mtime), fromNanos(requested), fromNanos(due)
	j.LeaseUntil, j.Completed, j.Expiry = fromNanosOrZero(leaseUntil), fromNanosOrZero(completed), fromNanosOrZero(expiry)
	return j, err
}

func fromNanosOrZero(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return fromNanos(n)
}

func nanosOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func queryJobs(ctx context.Context, q querier, query string, args ...any) ([]meta.RestoreJob, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []meta.RestoreJob
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	return out, rows.Err()
}

func upsertJob(ctx context.Context, tx *sql.Tx, j *meta.RestoreJob) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO restore_jobs (`+jobCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET tier = excluded.tier, priority = excluded.priority, days = excluded.days, requested = excluded.requested,
		due = excluded.due, state = excluded.state, lease_owner = excluded.lease_owner, lease_until = excluded.lease_until,
		completed = excluded.completed, expiry = excluded.expiry, error = excluded.error`,
		j.ID, j.Bucket, j.Key, j.VersionID, j.ObjectETag, nanos(j.ObjectModified), j.StorageClass, j.Tier, j.Priority, j.Days, j.Bytes,
		nanos(j.Requested), nanos(j.Due), j.State, j.LeaseOwner, nanosOrZero(j.LeaseUntil), nanosOrZero(j.Completed), nanosOrZero(j.Expiry), j.Error)
	return err
}

// StartRestore implements meta.Store.
func (s *Store) StartRestore(ctx context.Context, bucket, key, versionID string, decide meta.RestoreDecision) error {
	return s.update(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var o *meta.Object
		seq := int64(currentSeq)
		var err error
		if versionID == "" {
			o, err = getObject(ctx, tx, bucket, key)
		} else if o, seq, err = getVersionTx(ctx, tx, bucket, key, versionID); err == nil && o.DeleteMarker {
			err = fmt.Errorf("object %q/%q version %q is a delete marker: %w", bucket, key, versionID, meta.ErrNoSuchVersion)
		}
		if err != nil {
			return err
		}
		jobs, err := queryJobs(ctx, tx, `SELECT `+jobCols+` FROM restore_jobs WHERE bucket = ? AND key = ? AND state IN (?, ?)
			AND version_id = ? AND object_etag = ? AND object_mtime = ? ORDER BY requested DESC LIMIT 1`,
			bucket, key, meta.RestorePending, meta.RestoreDone, o.VersionID, o.ETag, nanos(o.LastModified))
		if err != nil {
			return err
		}
		var active *meta.RestoreJob
		if len(jobs) > 0 {
			active = &jobs[0]
		}
		before := o.BlobIDs()
		prev := *o
		job, err := decide(o, active, txJobs{ctx, tx})
		if err != nil {
			return err
		}
		if fmt.Sprint(o.BlobIDs()) != fmt.Sprint(before) {
			return errors.New("meta: StartRestore may not change an object's bytes")
		}
		if err := writeVersion(ctx, tx, o, seq); err != nil {
			return err
		}
		if err := emit(ctx, tx, &prev, o); err != nil {
			return err
		}
		if job != nil {
			return upsertJob(ctx, tx, job)
		}
		return nil
	})
}

// ClaimRestores implements meta.Store.
func (s *Store) ClaimRestores(ctx context.Context, now time.Time, owner string, lease time.Duration, limit int) ([]meta.RestoreJob, error) {
	var out []meta.RestoreJob
	err := s.update(ctx, func(ctx context.Context, tx *sql.Tx) error {
		jobs, err := queryJobs(ctx, tx, `SELECT `+jobCols+` FROM restore_jobs WHERE state = ? AND due <= ? AND lease_until <= ?
			ORDER BY priority, due LIMIT ?`, meta.RestorePending, nanos(now), nanos(now), limit)
		if err != nil {
			return err
		}
		until := now.Add(lease)
		for i := range jobs {
			jobs[i].LeaseOwner, jobs[i].LeaseUntil = owner, until
			if _, err := tx.ExecContext(ctx, `UPDATE restore_jobs SET lease_owner = ?, lease_until = ? WHERE id = ?`,
				owner, nanos(until), jobs[i].ID); err != nil {
				return err
			}
		}
		out = jobs
		return nil
	})
	return out, err
}

// RestoreGathered implements meta.Store.
func (s *Store) RestoreGathered(ctx context.Context, now time.Time, gather float64) (bool, error) {
	var one int
	err := s.r.QueryRowContext(ctx, `SELECT 1 FROM restore_jobs WHERE state = ? AND due <= ? AND lease_until <= ?
		AND due + CAST((due - requested) * ? AS INTEGER) <= ? LIMIT 1`,
		meta.RestorePending, nanos(now), nanos(now), gather, nanos(now)).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// jobObject returns the object version j restores and its seq, or nil
// when the key no longer holds it.
func jobObject(ctx context.Context, tx *sql.Tx, j *meta.RestoreJob) (*meta.Object, int64, error) {
	o, seq, err := getVersionTx(ctx, tx, j.Bucket, j.Key, j.VersionID)
	if errors.Is(err, meta.ErrNoSuchVersion) || errors.Is(err, meta.ErrNoSuchKey) || errors.Is(err, meta.ErrNoSuchBucket) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, err
	}
	if o.DeleteMarker || o.ETag != j.ObjectETag || !o.LastModified.Equal(j.ObjectModified) {
		return nil, 0, nil
	}
	return o, seq, nil
}

// claimedJob returns the pending job jobID that owner holds, or
// ErrLeaseLost, and the object version it restores if the key still
// holds it (nil otherwise) with its seq.
func claimedJob(ctx context.Context, tx *sql.Tx, jobID, owner string) (meta.RestoreJob, *meta.Object, int64, error) {
	jobs, err := queryJobs(ctx, tx, `SELECT `+jobCols+` FROM restore_jobs WHERE id = ?`, jobID)
	if err != nil {
		return meta.RestoreJob{}, nil, 0, err
	}
	if len(jobs) == 0 || jobs[0].State != meta.RestorePending || jobs[0].LeaseOwner != owner {
		return meta.RestoreJob{}, nil, 0, fmt.Errorf("restore job %s: %w", jobID, meta.ErrLeaseLost)
	}
	j := jobs[0]
	o, seq, err := jobObject(ctx, tx, &j)
	return j, o, seq, err
}

func addCounter(ctx context.Context, tx *sql.Tx, c meta.CounterAdd) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO counters (name, day, key, n) VALUES (?, ?, ?, ?)
		ON CONFLICT (name, day, key) DO UPDATE SET n = n + excluded.n`, c.Name, c.Day, c.Key, c.N)
	return err
}

// CompleteRestore implements meta.Store.
func (s *Store) CompleteRestore(ctx context.Context, jobID, owner string, c meta.RestoreCompletion) (freed []string, err error) {
	copy, expiry := c.Copy, c.Expiry
	err = s.update(ctx, func(ctx context.Context, tx *sql.Tx) error {
		freed = nil
		j, o, seq, err := claimedJob(ctx, tx, jobID, owner)
		if err != nil {
			return err
		}
		var prev meta.Object
		if o != nil {
			prev = *o
		}
		j.Completed, j.LeaseOwner, j.LeaseUntil = c.Completed, "", time.Time{}
		if o != nil && c.Replace {
			// The copy becomes the object's bytes; the archived ones go.
			old := o.BlobIDs()
			if err := unref(ctx, tx, old); err != nil {
				return err
			}
			ids := make([]string, 0, len(copy))
			for _, sg := range copy {
				ids = append(ids, sg.BlobID)
			}
			if err := ref(ctx, tx, ids); err != nil {
				return err
			}
			o.Segments, o.Inline, o.Restore = copy, c.Inline, nil
			o.AccessTier, o.LastAccess, o.LifecycleDue = "", c.Completed, c.Due
			if err := writeVersion(ctx, tx, o, seq); err != nil {
				return err
			}
			if err := emit(ctx, tx, &prev, o); err != nil {
				return err
			}
			if c.Meter.Name != "" {
				if err := addCounter(ctx, tx, c.Meter); err != nil {
					return err
				}
			}
			j.State, j.Expiry = meta.RestoreDone, time.Time{}
			freed = old
			return upsertJob(ctx, tx, &j)
		}
		if o == nil {
			j.State = meta.RestoreCancelled
			for _, sg := range copy {
				freed = append(freed, sg.BlobID)
			}
			return upsertJob(ctx, tx, &j)
		}
		var old []string
		if o.Restore != nil {
			for _, sg := range o.Restore.Copy {
				old = append(old, sg.BlobID)
			}
		}
		r := meta.Restore{Tier: j.Tier, Days: j.Days, Requested: j.Requested, Expiry: expiry, Copy: copy, Inline: c.Inline}
		if o.Restore != nil {
			r.Requested = o.Restore.Requested
		}
		o.Restore = &r
		if err := unref(ctx, tx, old); err != nil {
			return err
		}
		ids := make([]string, 0, len(copy))
		for _, sg := range copy {
			ids = append(ids, sg.BlobID)
		}
		if err := ref(ctx, tx, ids); err != nil {
			return err
		}
		if err := writeVersion(ctx, tx, o, seq); err != nil {
			return err
		}
		if err := emit(ctx, tx, &prev, o); err != nil {
			return err
		}
		if c.Meter.Name != "" {
			if err := addCounter(ctx, tx, c.Meter); err != nil {
				return err
			}
		}
		j.State, j.Expiry = meta.RestoreDone, expiry
		freed = old
		return upsertJob(ctx, tx, &j)
	})
	if err != nil {
		return nil, err
	}
	return freed, nil
}

// FailRestore implements meta.Store.
func (s *Store) FailRestore(ctx context.Context, jobID, owner, reason string, at time.Time) (freed []string, err error) {
	err = s.update(ctx, func(ctx context.Context, tx *sql.Tx) error {
		freed = nil
		j, o, seq, err := claimedJob(ctx, tx, jobID, owner)
		if err != nil {
			return err
		}
		j.State, j.Error, j.Completed, j.LeaseOwner, j.LeaseUntil = meta.RestoreFailed, reason, at, "", time.Time{}
		if o != nil && o.Restore != nil {
			for _, sg := range o.Restore.Copy {
				freed = append(freed, sg.BlobID)
			}
			if err := unref(ctx, tx, freed); err != nil {
				return err
			}
			o.Restore = nil
			if err := writeVersion(ctx, tx, o, seq); err != nil {
				return err
			}
		}
		return upsertJob(ctx, tx, &j)
	})
	if err != nil {
		return nil, err
	}
	return freed, nil
}

// ExpireRestores implements meta.Store.
func (s *Store) ExpireRestores(ctx context.Context, now time.Time, limit int) (freed []string, expired []meta.RestoreJob, err error) {
	err = s.update(ctx, func(ctx context.Context, tx *sql.Tx) error {
		freed, expired = nil, nil
		jobs, err := queryJobs(ctx, tx, `SELECT `+jobCols+` FROM restore_jobs WHERE state = ? AND expiry > 0 AND expiry <= ? ORDER BY expiry LIMIT ?`,
			meta.RestoreDone, nanos(now), limit)
		if err != nil {
			return err
		}
		for _, j := range jobs {
			j.State = meta.RestoreExpired
			if err := upsertJob(ctx, tx, &j); err != nil {
				return err
			}
			expired = append(expired, j)
			o, seq, err := jobObject(ctx, tx, &j)
			if err != nil {
				return err
			}
			if o == nil || o.Restore == nil || o.Restore.Ongoing {
				continue
			}
			var ids []string
			for _, sg := range o.Restore.Copy {
				ids = append(ids, sg.BlobID)
			}
			if err := unref(ctx, tx, ids); err != nil {
				return err
			}
			freed = append(freed, ids...)
			prev := *o
			o.Restore = nil
			if err := writeVersion(ctx, tx, o, seq); err != nil {
				return err
			}
			if err := emit(ctx, tx, &prev, o); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return freed, expired, nil
}

// ListRestores implements meta.Store.
func (s *Store) ListRestores(ctx context.Context, state string, limit int) ([]meta.RestoreJob, error) {
	if state == "" {
		return queryJobs(ctx, s.r, `SELECT `+jobCols+` FROM restore_jobs ORDER BY requested DESC, id LIMIT ?`, limit)
	}
	return queryJobs(ctx, s.r, `SELECT `+jobCols+` FROM restore_jobs WHERE state = ? ORDER BY requested DESC, id LIMIT ?`, state, limit)
}

// RestoreTotals implements meta.Store.
func (s *Store) RestoreTotals(ctx context.Context) ([]meta.RestoreTotal, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT state, tier, COUNT(*), COALESCE(SUM(bytes), 0) FROM restore_jobs
		GROUP BY state, tier ORDER BY state, tier`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []meta.RestoreTotal
	for rows.Next() {
		var t meta.RestoreTotal
		if err := rows.Scan(&t.State, &t.Tier, &t.Jobs, &t.Bytes); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// txJobs reads jobs inside a write transaction.
type txJobs struct {
	ctx context.Context
	tx  *sql.Tx
}

func (r txJobs) JobsSince(tier string, from time.Time) ([]meta.RestoreJob, error) {
	if tier == "" {
		return queryJobs(r.ctx, r.tx, `SELECT `+jobCols+` FROM restore_jobs WHERE requested >= ? AND state NOT IN (?, ?)`,
			nanos(from), meta.RestoreCancelled, meta.RestoreFailed)
	}
	return queryJobs(r.ctx, r.tx, `SELECT `+jobCols+` FROM restore_jobs WHERE tier = ? AND requested >= ? AND state NOT IN (?, ?)`,
		tier, nanos(from), meta.RestoreCancelled, meta.RestoreFailed)
}

// CompletedRestores implements meta.Store.
func (s *Store) CompletedRestores(ctx context.Context, from, to time.Time) ([]meta.RestoreJob, error) {
	return queryJobs(ctx, s.r, `SELECT `+jobCols+` FROM restore_jobs WHERE state IN (?, ?) AND completed >= ? AND completed < ? ORDER BY completed`,
		meta.RestoreDone, meta.RestoreExpired, nanos(from), nanos(to))
}

// GetSetting implements meta.Store.
func (s *Store) GetSetting(ctx context.Context, name string) ([]byte, error) {
	var v []byte
	err := s.r.QueryRowContext(ctx, `SELECT value FROM settings WHERE name = ?`, name).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return v, err
}

// PutSetting implements meta.Store.
func (s *Store) PutSetting(ctx context.Context, name string, value []byte) error {
	return s.update(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value`, name, value)
		return err
	})
}

// AddCounter implements meta.Store.
func (s *Store) AddCounter(ctx context.Context, name string, day int64, key string, n int64) error {
	return s.update(ctx, func(ctx context.Context, tx *sql.Tx) error {
		return addCounter(ctx, tx, meta.CounterAdd{Name: name, Day: day, Key: key, N: n})
	})
}

// Counters implements meta.Store.
func (s *Store) Counters(ctx context.Context, name string, fromDay, toDay int64) ([]meta.Counter, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT day, key, n FROM counters WHERE name = ? AND day >= ? AND day <= ? ORDER BY day, key`, name, fromDay, toDay)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []meta.Counter
	for rows.Next() {
		var c meta.Counter
		if err := rows.Scan(&c.Day, &c.Key, &c.N); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
