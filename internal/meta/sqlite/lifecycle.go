package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/firnhq/firn/internal/meta"
)

// DueObjects implements meta.Store through the partial index
// objects_lc_due.
func (s *Store) DueObjects(ctx context.Context, now time.Time, limit int) ([]meta.Object, error) {
	return queryObjects(ctx, s.r, `SELECT `+objectCols+` FROM objects WHERE lc_due > 0 AND lc_due <= ? ORDER BY lc_due LIMIT ?`,
		nanos(now), limit)
}

// DueVersions implements meta.Store through the partial index
// versions_lc_due.
func (s *Store) DueVersions(ctx context.Context, now time.Time, limit int) ([]meta.Object, error) {
	return queryVersions(ctx, s.r, `SELECT `+versionCols+`, NOT EXISTS (SELECT 1 FROM objects o WHERE o.bucket = v.bucket AND o.key = v.key)
			AND v.seq = (SELECT MAX(seq) FROM versions w WHERE w.bucket = v.bucket AND w.key = v.key)
		FROM versions v WHERE lc_due > 0 AND lc_due <= ? ORDER BY lc_due LIMIT ?`, nanos(now), limit)
}

// UpdateLifecycle implements meta.Store.
func (s *Store) UpdateLifecycle(ctx context.Context, updates []meta.LifecycleUpdate) (int, error) {
	var applied int
	err := s.update(ctx, func(ctx context.Context, tx *sql.Tx) error {
		applied = 0
		byClass, err := tx.PrepareContext(ctx, `UPDATE objects SET storage_class = ?, lc_due = ? WHERE bucket = ? AND key = ? AND etag = ? AND mtime = ?`)
		if err != nil {
			return err
		}
		defer byClass.Close()
		dueOnly, err := tx.PrepareContext(ctx, `UPDATE objects SET lc_due = ? WHERE bucket = ? AND key = ? AND etag = ? AND mtime = ?`)
		if err != nil {
			return err
		}
		defer dueOnly.Close()
		withEvents := meta.EventsFrom(ctx) != nil
		for _, u := range updates {
			if withEvents && u.StorageClass != "" {
				ok, err := classChange(ctx, tx, u)
				if err != nil {
					return err
				}
				if ok {
					applied++
				}
				continue
			}
			var res sql.Result
			if u.VersionID != "" {
				res, err = tx.ExecContext(ctx, `UPDATE versions SET storage_class = CASE WHEN ? = '' THEN storage_class ELSE ? END, lc_due = ?
					WHERE bucket = ? AND key = ? AND version_id = ? AND etag = ? AND mtime = ?`,
					u.StorageClass, u.StorageClass, nanosOrZero(u.Due), u.Bucket, u.Key, u.VersionID, u.ETag, nanos(u.Modified))
			} else if u.StorageClass != "" {
				res, err = byClass.ExecContext(ctx, u.StorageClass, nanosOrZero(u.Due), u.Bucket, u.Key, u.ETag, nanos(u.Modified))
			} else {
				res, err = dueOnly.ExecContext(ctx, nanosOrZero(u.Due), u.Bucket, u.Key, u.ETag, nanos(u.Modified))
			}
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil {
				return err
			} else if n == 1 {
				applied++
			}
		}
		return nil
	})
	return applied, err
}

// classChange applies a lifecycle update that changes a version's class
// and records its events (see meta.WithEvents); it reports whether the
// version was still the one named.
func classChange(ctx context.Context, tx *sql.Tx, u meta.LifecycleUpdate) (bool, error) {
	table, where, args := "objects", "", []any{u.StorageClass, nanosOrZero(u.Due), u.Bucket, u.Key, u.ETag, nanos(u.Modified)}
	if u.VersionID != "" {
		table, where, args = "versions", " AND version_id = ?", append(args, u.VersionID)
	}
	var old string
	err := tx.QueryRowContext(ctx, `SELECT storage_class FROM `+table+` WHERE bucket = ? AND key = ? AND etag = ? AND mtime = ?`+where,
		append([]any{}, args[2:]...)...).Scan(&old)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	next := meta.Object{Bucket: u.Bucket, Key: u.Key, ETag: u.ETag, LastModified: u.Modified, LifecycleDue: u.Due}
	err = tx.QueryRowContext(ctx, `UPDATE `+table+` SET storage_class = ?, lc_due = ?
		WHERE bucket = ? AND key = ? AND etag = ? AND mtime = ?`+where+` RETURNING version_id, size, storage_class`, args...).
		Scan(&next.VersionID, &next.Size, &next.StorageClass)
	if err != nil {
		return false, err
	}
	prev := next
	prev.StorageClass = old
	return true, emit(ctx, tx, &prev, &next)
}

// LifecycleBacklog implements meta.Store.
func (s *Store) LifecycleBacklog(ctx context.Context, now time.Time) (int64, time.Time, error) {
	var n int64
	var oldest sql.NullInt64
	err := s.r.QueryRowContext(ctx, `SELECT SUM(n), MIN(m) FROM (
		SELECT COUNT(*) AS n, MIN(lc_due) AS m FROM objects WHERE lc_due > 0 AND lc_due <= ?
		UNION ALL SELECT COUNT(*), MIN(lc_due) FROM versions WHERE lc_due > 0 AND lc_due <= ?)`, nanos(now), nanos(now)).Scan(&n, &oldest)
	if err != nil || !oldest.Valid {
		return n, time.Time{}, err
	}
	return n, fromNanos(oldest.Int64), nil
}

// ExpireObject implements meta.Store.
func (s *Store) ExpireObject(ctx context.Context, bucket, key, etag string, modified time.Time) (*meta.Object, []string, error) {
	return s.deleteObject(ctx, bucket, key, func(cur *meta.Object) bool {
		return cur.ETag != etag || !cur.LastModified.Equal(modified)
	})
}
