package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/firnhq/firn/internal/meta"
)

// The versions table holds every version of a key but its current object
// (which stays in objects, so reads of current objects and listings never
// look at old versions): noncurrent versions, and delete markers, the
// newest of which is the latest version when objects holds no row for the
// key. seq orders a key's versions (higher is newer); the current object
// is newer than all of them.
//
// Invariant, restored by promote after every removal: a key without a row
// in objects has no versions, or its newest version is a delete marker.

// currentSeq stands for the current object's place in a key's order.
const currentSeq = math.MaxInt64

const versionCols = objectCols + `, seq, delete_marker, noncurrent`

// scanVersion reads a row of versionCols (and, withInline, the inline
// bytes and their presence).
func scanVersion(sc interface{ Scan(...any) error }, withInline bool) (*meta.Object, int64, error) {
	var seq, noncurrent int64
	var marker bool
	var o meta.Object
	var mtime, lcDue int64
	var a []byte
	var hasInline bool
	dest := []any{&o.Bucket, &o.Key, &o.VersionID, &o.Size, &o.ETag, &mtime, &o.StorageClass, &o.Owner, &a, &lcDue, &seq, &marker, &noncurrent}
	if withInline {
		dest = append(dest, &o.Inline, &hasInline)
	}
	if err := sc.Scan(dest...); err != nil {
		return nil, 0, err
	}
	if hasInline && o.Inline == nil {
		o.Inline = []byte{}
	}
	o.LastModified, o.LifecycleDue = fromNanos(mtime), fromNanosOrZero(lcDue)
	o.DeleteMarker, o.NoncurrentSince = marker, fromNanosOrZero(noncurrent)
	if err := decodeAttrs(a, &o, withInline); err != nil {
		return nil, 0, err
	}
	return &o, seq, nil
}

// currentAsVersion selects the current objects in versionCols' shape.
const currentAsVersion = `SELECT ` + objectCols + `, 9223372036854775807 AS seq, 0 AS delete_marker, 0 AS noncurrent`

// getVersionTx returns the version versionID of key ("": the latest) and
// its seq, or ErrNoSuchKey / ErrNoSuchVersion.
func getVersionTx(ctx context.Context, q querier, bucket, key, versionID string) (*meta.Object, int64, error) {
	var row *sql.Row
	switch versionID {
	case "":
		row = q.QueryRowContext(ctx, `SELECT * FROM (`+currentAsVersion+`, inline, inline IS NOT NULL FROM objects WHERE bucket = ? AND key = ?
			UNION ALL SELECT `+versionCols+`, inline, inline IS NOT NULL FROM versions WHERE bucket = ? AND key = ?) ORDER BY seq DESC LIMIT 1`,
			bucket, key, bucket, key)
	default:
		row = q.QueryRowContext(ctx, `SELECT * FROM (`+currentAsVersion+`, inline, inline IS NOT NULL FROM objects WHERE bucket = ? AND key = ? AND version_id = ?
			UNION ALL SELECT `+versionCols+`, inline, inline IS NOT NULL FROM versions WHERE bucket = ? AND key = ? AND version_id = ?) LIMIT 1`,
			bucket, key, versionID, bucket, key, versionID)
	}
	o, seq, err := scanVersion(row, true)
	if errors.Is(err, sql.ErrNoRows) {
		if err := bucketExists(ctx, q, bucket); err != nil {
			return nil, 0, err
		}
		if versionID == "" {
			return nil, 0, fmt.Errorf("object %q/%q: %w", bucket, key, meta.ErrNoSuchKey)
		}
		return nil, 0, fmt.Errorf("object %q/%q version %q: %w", bucket, key, versionID, meta.ErrNoSuchVersion)
	}
	if err != nil {
		return nil, 0, err
	}
	if seq == currentSeq {
		o.IsLatest = true
	} else {
		newest, err := newestSeq(ctx, q, bucket, key)
		if err != nil {
			return nil, 0, err
		}
		o.IsLatest = newest == seq
	}
	return o, seq, nil
}

// newestSeq returns the seq of key's latest version (currentSeq for a
// current object), 0 when it has none.
func newestSeq(ctx context.Context, q querier, bucket, key string) (int64, error) {
	var one int
	err := q.QueryRowContext(ctx, `SELECT 1 FROM objects WHERE bucket = ? AND key = ?`, bucket, key).Scan(&one)
	if err == nil {
		return currentSeq, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return 0, err
	}
	var seq sql.NullInt64
	err = q.QueryRowContext(ctx, `SELECT MAX(seq) FROM versions WHERE bucket = ? AND key = ?`, bucket, key).Scan(&seq)
	return seq.Int64, err
}

// insertVersion stores o as key's newest noncurrent version or delete
// marker, noncurrent since since (zero: it is the latest).
func insertVersion(ctx context.Context, tx *sql.Tx, o *meta.Object, since time.Time) error {
	a, inline, err := rowOf(o)
	if err != nil {
		return err
	}
	var seq sql.NullInt64
	if err := tx.QueryRowContext(ctx, `SELECT MAX(seq) FROM versions WHERE bucket = ? AND key = ?`, o.Bucket, o.Key).Scan(&seq); err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO versions (`+versionCols+`, inline) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		o.Bucket, o.Key, o.VersionID, o.Size, o.ETag, nanos(o.LastModified), o.StorageClass, o.Owner, a, nanosOrZero(o.LifecycleDue),
		seq.Int64+1, o.DeleteMarker, nanosOrZero(since), inline)
	if err != nil && strings.Contains(err.Error(), "UNIQUE") {
		return fmt.Errorf("meta: version %q of %q/%q exists", o.VersionID, o.Bucket, o.Key)
	}
	return err
}

// updateVersionRow rewrites a noncurrent version or delete marker in place.
func updateVersionRow(ctx context.Context, tx *sql.Tx, o *meta.Object) error {
	a, inline, err := rowOf(o)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `UPDATE versions SET size = ?, etag = ?, mtime = ?, storage_class = ?, owner = ?, attrs = ?, lc_due = ?, inline = ?
		WHERE bucket = ? AND key = ? AND version_id = ?`,
		o.Size, o.ETag, nanos(o.LastModified), o.StorageClass, o.Owner, a, nanosOrZero(o.LifecycleDue), inline, o.Bucket, o.Key, o.VersionID)
	return err
}

// writeVersion stores a changed version where it lives: seq tells.
func writeVersion(ctx context.Context, tx *sql.Tx, o *meta.Object, seq int64) error {
	if seq == currentSeq {
		return writeObject(ctx, tx, o)
	}
	return updateVersionRow(ctx, tx, o)
}

// demote turns the current object cur into key's newest noncurrent
// version, noncurrent since since.
func demote(ctx context.Context, tx *sql.Tx, cur *meta.Object, since time.Time) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM objects WHERE bucket = ? AND key = ?`, cur.Bucket, cur.Key); err != nil {
		return err
	}
	c := *cur
	c.LifecycleDue = time.Time{}
	return insertVersion(ctx, tx, &c, since)
}

// dropVersionRow removes a row of versions and unreferences its blobs,
// which it returns.
func dropVersionRow(ctx context.Context, tx *sql.Tx, o *meta.Object) ([]string, error) {
	if _, err := tx.ExecContext(ctx, `DELETE FROM versions WHERE bucket = ? AND key = ? AND version_id = ?`, o.Bucket, o.Key, o.VersionID); err != nil {
		return nil, err
	}
	ids := o.BlobIDs()
	return ids, unref(ctx, tx, ids)
}

// promote restores the invariant after a removal: if key has no current
// object and its newest version is an object, that version becomes the
// current object.
func promote(ctx context.Context, tx *sql.Tx, bucket, key string) error {
	var one int
	err := tx.QueryRowContext(ctx, `SELECT 1 FROM objects WHERE bucket = ? AND key = ?`, bucket, key).Scan(&one)
	if err == nil {
		return nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	o, _, err := scanVersion(tx.QueryRowContext(ctx, `SELECT `+versionCols+`, inline, inline IS NOT NULL FROM versions
		WHERE bucket = ? AND key = ? ORDER BY seq DESC LIMIT 1`, bucket, key), true)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil || o.DeleteMarker {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM versions WHERE bucket = ? AND key = ? AND version_id = ?`, bucket, key, o.VersionID); err != nil {
		return err
	}
	o.NoncurrentSince = time.Time{}
	return writeObject(ctx, tx, o)
}

// GetVersion implements meta.Store.
func (s *Store) GetVersion(ctx context.Context, bucket, key, versionID string) (*meta.Object, error) {
	o, _, err := getVersionTx(ctx, s.r, bucket, key, versionID)
	return o, err
}

// UpdateVersion implements meta.Store.
func (s *Store) UpdateVersion(ctx context.Context, bucket, key, versionID string, fn func(o *meta.Object) error) error {
	return s.update(ctx, func(ctx context.Context, tx *sql.Tx) error {
		o, seq, err := getVersionTx(ctx, tx, bucket, key, versionID)
		if err != nil {
			return err
		}
		segs := o.BlobIDs()
		vid, marker := o.VersionID, o.DeleteMarker
		before := *o
		if err := fn(o); err != nil {
			return err
		}
		o.Bucket, o.Key, o.VersionID, o.DeleteMarker = bucket, key, vid, marker
		if strings.Join(o.BlobIDs(), "/") != strings.Join(segs, "/") {
			return errors.New("meta: UpdateVersion may not change an object's bytes")
		}
		if err := writeVersion(ctx, tx, o, seq); err != nil {
			return err
		}
		return emit(ctx, tx, &before, o)
	})
}

// DeleteVersion implements meta.Store.
func (s *Store) DeleteVersion(ctx context.Context, bucket, key, versionID string) (deleted *meta.Object, freed []string, err error) {
	err = s.update(ctx, func(ctx context.Context, tx *sql.Tx) error {
		deleted, freed = nil, nil
		o, seq, err := getVersionTx(ctx, tx, bucket, key, versionID)
		if errors.Is(err, meta.ErrNoSuchVersion) || errors.Is(err, meta.ErrNoSuchKey) {
			return nil
		}
		if err != nil {
			return err
		}
		if seq == currentSeq {
			if _, err := tx.ExecContext(ctx, `DELETE FROM objects WHERE bucket = ? AND key = ?`, bucket, key); err != nil {
				return err
			}
			freed = o.BlobIDs()
			if err := unref(ctx, tx, freed); err != nil {
				return err
			}
		} else if freed, err = dropVersionRow(ctx, tx, o); err != nil {
			return err
		}
		o.Inline = nil
		deleted = o
		if err := emit(ctx, tx, o, nil); err != nil {
			return err
		}
		return promote(ctx, tx, bucket, key)
	})
	if err != nil {
		return nil, nil, err
	}
	return deleted, freed, nil
}

// ScanVersions implements meta.Store.
func (s *Store) ScanVersions(ctx context.Context, bucket, prefix, afterKey, afterVersion string, limit int) ([]meta.Object, error) {
	if err := bucketExists(ctx, s.r, bucket); err != nil || limit <= 0 {
		return nil, err
	}
	// Position: (key, seq) pairs after (afterKey, afterSeq) in the order
	// key ascending, seq descending.
	afterSeq := int64(-1) // every version of afterKey is skipped
	if afterVersion != "" {
		if _, seq, err := getVersionTx(ctx, s.r, bucket, afterKey, afterVersion); err == nil {
			afterSeq = seq
		} else if !errors.Is(err, meta.ErrNoSuchVersion) && !errors.Is(err, meta.ErrNoSuchKey) {
			return nil, err
		}
	}
	lower, op := afterKey, ">"
	if afterKey < prefix {
		lower, op, afterSeq = prefix, ">=", -1
	}
	where := `bucket = ? AND (key ` + op + ` ? OR (key = ? AND seq < ?))`
	args := []any{bucket, lower, afterKey, afterSeq}
	if prefix != "" {
		where += ` AND key >= ? AND key < ?`
		args = append(args, prefix, prefixEnd(prefix))
	}
	q := `SELECT v.*, CASE WHEN v.seq = ` + fmt.Sprint(currentSeq) + ` THEN 1
			WHEN EXISTS (SELECT 1 FROM objects o WHERE o.bucket = v.bucket AND o.key = v.key) THEN 0
			ELSE v.seq = (SELECT MAX(seq) FROM versions w WHERE w.bucket = v.bucket AND w.key = v.key) END
		FROM (SELECT * FROM (` + currentAsVersion + ` FROM objects) WHERE ` + where + `
			UNION ALL SELECT * FROM (SELECT ` + versionCols + ` FROM versions) WHERE ` + where + `) v
		ORDER BY v.key, v.seq DESC LIMIT ?`
	args = append(append(args, args...), limit)
	return queryVersions(ctx, s.r, q, args...)
}

// queryVersions runs a query selecting versionCols and an is-latest
// column, and returns its versions without inline bytes.
func queryVersions(ctx context.Context, q querier, query string, args ...any) ([]meta.Object, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []meta.Object
	for rows.Next() {
		var latest bool
		o, _, err := scanVersion(latestScanner{rows, &latest}, false)
		if err != nil {
			return nil, err
		}
		o.IsLatest = latest
		out = append(out, *o)
	}
	return out, rows.Err()
}

// latestScanner appends the is-latest column to a scan of versionCols.
type latestScanner struct {
	rows   *sql.Rows
	latest *bool
}

func (l latestScanner) Scan(dest ...any) error { return l.rows.Scan(append(dest, l.latest)...) }

// RewriteVersion implements meta.Store.
func (s *Store) RewriteVersion(ctx context.Context, o *meta.Object, check meta.PutCheck) (freed []string, err error) {
	err = s.update(ctx, func(ctx context.Context, tx *sql.Tx) error {
		freed = nil
		cur, seq, err := getVersionTx(ctx, tx, o.Bucket, o.Key, o.VersionID)
		if errors.Is(err, meta.ErrNoSuchKey) {
			err = fmt.Errorf("object %q/%q version %q: %w", o.Bucket, o.Key, o.VersionID, meta.ErrNoSuchVersion)
		}
		if err != nil {
			return err
		}
		if check != nil {
			if err := check(cur); err != nil {
				return err
			}
		}
		if cur.DeleteMarker {
			return fmt.Errorf("meta: version %q of %q/%q is a delete marker", o.VersionID, o.Bucket, o.Key)
		}
		// Only where the bytes are changes; the rest of the record stays
		// as stored (tags, encryption, ... changed meanwhile).
		next := *cur
		next.Segments, next.Inline, next.Restore = o.Segments, o.Inline, o.Restore
		next.StorageClass, next.AccessTier, next.LifecycleDue = o.StorageClass, o.AccessTier, o.LifecycleDue
		o = &next
		keep := make(map[string]bool, len(o.Segments))
		for _, id := range o.BlobIDs() {
			keep[id] = true
		}
		for _, id := range cur.BlobIDs() {
			if !keep[id] {
				freed = append(freed, id)
			}
		}
		if err := unref(ctx, tx, freed); err != nil {
			return err
		}
		if err := ref(ctx, tx, o.BlobIDs()); err != nil {
			return err
		}
		if err := writeVersion(ctx, tx, o, seq); err != nil {
			return err
		}
		return emit(ctx, tx, cur, o)
	})
	if err != nil {
		return nil, err
	}
	return freed, nil
}
