package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/firnhq/firn/internal/meta"
)

// The outbox tables (migration 7). A record's seq is the id of the first
// record its event wrote, so the records one event fans out to several
// targets share it; the first record itself stores NULL (its own id),
// so that the common single-target event is one plain INSERT.
const outboxSchema = `
CREATE TABLE IF NOT EXISTS outbox (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	seq        INTEGER,
	target     TEXT NOT NULL,
	payload    BLOB NOT NULL,
	created    INTEGER NOT NULL,
	attempts   INTEGER NOT NULL DEFAULT 0,
	next_try   INTEGER NOT NULL DEFAULT 0,
	last_error TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS outbox_by_target ON outbox (target, id);
CREATE TABLE IF NOT EXISTS outbox_dead (
	id         INTEGER PRIMARY KEY,
	seq        INTEGER NOT NULL,
	target     TEXT NOT NULL,
	payload    BLOB NOT NULL,
	created    INTEGER NOT NULL,
	attempts   INTEGER NOT NULL,
	last_error TEXT NOT NULL,
	died       INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS outbox_dead_by_target ON outbox_dead (target, id);
CREATE TABLE IF NOT EXISTS outbox_leases (
	target TEXT PRIMARY KEY,
	owner  TEXT NOT NULL,
	until  INTEGER NOT NULL
);`

// emit writes the outbox entries that ctx's EventFunc returns for a
// change of one version from old to new, in tx.
func emit(ctx context.Context, tx *sql.Tx, old, new *meta.Object) error {
	fn := meta.EventsFrom(ctx)
	if fn == nil {
		return nil
	}
	entries, err := fn(old, new)
	if err != nil {
		return err
	}
	return appendOutbox(ctx, tx, entries, time.Time{})
}

// selectOutbox reads a target's first records (prepared on the read pool
// as Store.claimOutbox).
const selectOutbox = `SELECT id, COALESCE(seq, id), target, payload, created, attempts, next_try, last_error
	FROM outbox WHERE target = ? AND id > ? ORDER BY id LIMIT ?`

// insertOutbox is the statement writing an event's first record,
// prepared once on the writer's connection (see Store.insOutbox).
const insertOutbox = `INSERT INTO outbox (target, payload, created) VALUES (?, ?, ?)`

// appendOutbox writes the entries of one event: the first with a NULL
// seq (its own id, which the others take).
func appendOutbox(ctx context.Context, tx *sql.Tx, entries []meta.OutboxEntry, now time.Time) error {
	var seq int64
	for i, e := range entries {
		if e.Target == "" {
			return errors.New("meta: outbox entry without a target")
		}
		at := e.Time
		if at.IsZero() {
			at = now
		}
		if at.IsZero() {
			at = time.Now()
		}
		if i == 0 {
			var res sql.Result
			var err error
			if s, ok := ctx.Value(storeKey{}).(*Store); ok && s.insOutbox != nil {
				res, err = tx.StmtContext(ctx, s.insOutbox).ExecContext(ctx, e.Target, e.Payload, nanos(at))
			} else {
				res, err = tx.ExecContext(ctx, insertOutbox, e.Target, e.Payload, nanos(at))
			}
			if err == nil {
				seq, err = res.LastInsertId()
			}
			if err != nil {
				return fmt.Errorf("outbox: %w", err)
			}
			continue
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO outbox (seq, target, payload, created) VALUES (?, ?, ?, ?)`,
			seq, e.Target, e.Payload, nanos(at)); err != nil {
			return fmt.Errorf("outbox: %w", err)
		}
	}
	return nil
}

// AppendOutbox implements meta.Store.
func (s *Store) AppendOutbox(ctx context.Context, entries []meta.OutboxEntry) error {
	if len(entries) == 0 {
		return nil
	}
	now := time.Now()
	return s.update(ctx, func(ctx context.Context, tx *sql.Tx) error {
		return appendOutbox(ctx, tx, entries, now)
	})
}

// ClaimOutbox implements meta.Store. A lease with more than half its
// time left is used as it is, so a busy dispatcher reads without writing.
func (s *Store) ClaimOutbox(ctx context.Context, target, owner string, now time.Time, lease time.Duration, after int64, limit int) ([]meta.OutboxRecord, bool, error) {
	var cur string
	var until int64
	err := s.r.QueryRowContext(ctx, `SELECT owner, until FROM outbox_leases WHERE target = ?`, target).Scan(&cur, &until)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, false, err
	}
	if err == nil && cur != owner && until > nanos(now) {
		return nil, false, nil // another owner's lease: no write needed to learn it
	}
	fresh := err == nil && cur == owner && fromNanos(until).Sub(now) > lease/2
	if !fresh {
		held := false
		err := s.update(ctx, func(ctx context.Context, tx *sql.Tx) error {
			res, err := tx.ExecContext(ctx, `INSERT INTO outbox_leases (target, owner, until) VALUES (?, ?, ?)
				ON CONFLICT (target) DO UPDATE SET owner = excluded.owner, until = excluded.until
				WHERE outbox_leases.owner = excluded.owner OR outbox_leases.until <= ?`,
				target, owner, nanos(now.Add(lease)), nanos(now))
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			held = n > 0
			return err
		})
		if err != nil || !held {
			return nil, false, err
		}
	}
	rows, err := s.claimOutbox.QueryContext(ctx, target, after, limit)
	if err != nil {
		return nil, true, err
	}
	defer rows.Close()
	var out []meta.OutboxRecord
	for rows.Next() {
		r, next, err := scanOutbox(rows)
		if err != nil {
			return nil, true, err
		}
		if next > nanos(now) {
			break
		}
		out = append(out, r)
	}
	return out, true, rows.Err()
}

func scanOutbox(rows *sql.Rows) (meta.OutboxRecord, int64, error) {
	var r meta.OutboxRecord
	var created, next int64
	err := rows.Scan(&r.ID, &r.Seq, &r.Target, &r.Payload, &created, &r.Attempts, &next, &r.LastError)
	r.Created, r.NextTry = fromNanos(created), fromNanosOrZero(next)
	return r, next, err
}

// AckOutbox implements meta.Store.
func (s *Store) AckOutbox(ctx context.Context, target, owner string, delivered []int64, failed []meta.OutboxFailure, now time.Time) error {
	return s.update(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var cur string
		err := tx.QueryRowContext(ctx, `SELECT owner FROM outbox_leases WHERE target = ?`, target).Scan(&cur)
		if errors.Is(err, sql.ErrNoRows) || err == nil && cur != owner {
			return fmt.Errorf("outbox of %q: %w", target, meta.ErrLeaseLost)
		}
		if err != nil {
			return err
		}
		for len(delivered) > 0 {
			n := min(len(delivered), 500)
			args := make([]any, 0, n+1)
			args = append(args, target)
			for _, id := range delivered[:n] {
				args = append(args, id)
			}
			q := `DELETE FROM outbox WHERE target = ? AND id IN (?` + strings.Repeat(",?", n-1) + `)`
			if _, err := tx.ExecContext(ctx, q, args...); err != nil {
				return err
			}
			delivered = delivered[n:]
		}
		for _, f := range failed {
			if f.Dead {
				if _, err := tx.ExecContext(ctx, `INSERT INTO outbox_dead (id, seq, target, payload, created, attempts, last_error, died)
					SELECT id, COALESCE(seq, id), target, payload, created, attempts + 1, ?, ? FROM outbox WHERE target = ? AND id = ?`,
					f.Error, nanos(now), target, f.ID); err != nil {
					return err
				}
				if _, err := tx.ExecContext(ctx, `DELETE FROM outbox WHERE target = ? AND id = ?`, target, f.ID); err != nil {
					return err
				}
				continue
			}
			if _, err := tx.ExecContext(ctx, `UPDATE outbox SET attempts = attempts + 1, next_try = ?, last_error = ?
				WHERE target = ? AND id = ?`, nanosOrZero(f.NextTry), f.Error, target, f.ID); err != nil {
				return err
			}
		}
		return nil
	})
}

// OutboxTargets implements meta.Store.
func (s *Store) OutboxTargets(ctx context.Context) ([]string, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT DISTINCT target FROM outbox ORDER BY target`)
	if err != nil {
		return nil, err
	}
	return scanStrings(rows)
}

// OutboxStats implements meta.Store.
func (s *Store) OutboxStats(ctx context.Context) ([]meta.OutboxStat, error) {
	stats := map[string]*meta.OutboxStat{}
	get := func(t string) *meta.OutboxStat {
		if st, ok := stats[t]; ok {
			return st
		}
		st := &meta.OutboxStat{Target: t}
		stats[t] = st
		return st
	}
	rows, err := s.r.QueryContext(ctx, `SELECT target, COUNT(*), MIN(created), SUM(attempts > 0),
		COALESCE((SELECT last_error FROM outbox o2 WHERE o2.target = o.target AND o2.attempts > 0 ORDER BY o2.id DESC LIMIT 1), '')
		FROM outbox o GROUP BY target`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var t, lastErr string
		var n, oldest, failing int64
		if err := rows.Scan(&t, &n, &oldest, &failing, &lastErr); err != nil {
			rows.Close()
			return nil, err
		}
		st := get(t)
		st.Pending, st.Oldest, st.Failing, st.LastError = n, fromNanos(oldest), failing, lastErr
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = s.r.QueryContext(ctx, `SELECT target, COUNT(*) FROM outbox_dead GROUP BY target`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var t string
		var n int64
		if err := rows.Scan(&t, &n); err != nil {
			rows.Close()
			return nil, err
		}
		get(t).Dead = n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = s.r.QueryContext(ctx, `SELECT target, owner, until FROM outbox_leases`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var t, owner string
		var until int64
		if err := rows.Scan(&t, &owner, &until); err != nil {
			rows.Close()
			return nil, err
		}
		st := get(t)
		st.Owner, st.LeaseUntil = owner, fromNanos(until)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]meta.OutboxStat, 0, len(stats))
	for _, st := range stats {
		out = append(out, *st)
	}
	sortStats(out)
	return out, nil
}

func sortStats(st []meta.OutboxStat) {
	for i := 1; i < len(st); i++ {
		for j := i; j > 0 && st[j].Target < st[j-1].Target; j-- {
			st[j], st[j-1] = st[j-1], st[j]
		}
	}
}

// DeadOutbox implements meta.Store.
func (s *Store) DeadOutbox(ctx context.Context, target string, limit int) ([]meta.OutboxRecord, error) {
	q := `SELECT id, seq, target, payload, created, attempts, died, last_error FROM outbox_dead`
	// scanOutbox reads died into NextTry; it moves to Died below.
	args := []any{}
	if target != "" {
		q += ` WHERE target = ?`
		args = append(args, target)
	}
	q += ` ORDER BY id LIMIT ?`
	rows, err := s.r.QueryContext(ctx, q, append(args, limit)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []meta.OutboxRecord
	for rows.Next() {
		r, _, err := scanOutbox(rows)
		if err != nil {
			return nil, err
		}
		r.Died, r.NextTry = r.NextTry, time.Time{}
		out = append(out, r)
	}
	return out, rows.Err()
}

// RequeueDead implements meta.Store. The records get new ids at the end
// of the target's queue; their seq (and so their sequencer) stays.
func (s *Store) RequeueDead(ctx context.Context, target string) (int, error) {
	var n int64
	err := s.update(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO outbox (seq, target, payload, created)
			SELECT seq, target, payload, created FROM outbox_dead WHERE target = ? ORDER BY id`, target)
		if err != nil {
			return err
		}
		if n, err = res.RowsAffected(); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM outbox_dead WHERE target = ?`, target)
		return err
	})
	return int(n), err
}
