// Package sqlite is the embedded meta.Store: one SQLite database file in
// WAL mode, opened through the pure-Go modernc.org/sqlite driver so that
// firn builds with CGO_ENABLED=0.
//
// Writes go through a single writer goroutine that groups concurrent
// write transactions into one SQLite transaction (group commit): each
// caller's work runs inside its own SAVEPOINT, so one caller's failure
// rolls back only its own changes, and the group pays for one fsync of the
// WAL. A write method returns only after the group committed durably
// (synchronous=FULL). Reads use a separate pool of read-only connections
// and never wait for writers.
package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/firnhq/firn/internal/meta"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// maxGroup bounds how many write transactions share one commit.
const maxGroup = 128

// Store is the embedded meta.Store.
type Store struct {
	w *sql.DB // one connection, used only by the writer goroutine
	r *sql.DB // read-only pool

	reqs chan *writeReq
	quit chan struct{}
	done chan struct{}

	// mu is held shared while queueing a write and exclusively by Close
	// to set closed, so that no write is queued after the writer drained
	// the queue and stopped (it would wait forever).
	mu     sync.RWMutex
	closed bool

	closeOnce sync.Once

	// insOutbox is insertOutbox prepared on w (the outbox is written by
	// most writes of a bucket with notifications: spare the parser).
	insOutbox   *sql.Stmt
	claimOutbox *sql.Stmt // selectOutbox on r
}

// storeKey carries the Store into its write transactions' contexts, for
// the helpers that use its prepared statements.
type storeKey struct{}

type writeReq struct {
	ctx context.Context
	fn  func(ctx context.Context, tx *sql.Tx) error
	err chan error
}

var _ meta.Store = (*Store)(nil)

// Open opens (creating if needed) the database at path.
func Open(path string) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("meta dir: %w", err)
	}
	dsn := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(ON)&_txlock=immediate"
	w, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	if err := migrate(w); err != nil {
		w.Close()
		return nil, fmt.Errorf("migrate %s: %w", path, err)
	}
	r, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)&_pragma=query_only(1)")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	r.SetMaxOpenConns(8)
	r.SetMaxIdleConns(8)
	s := &Store{w: w, r: r, reqs: make(chan *writeReq, maxGroup), quit: make(chan struct{}), done: make(chan struct{})}
	if s.claimOutbox, err = r.Prepare(selectOutbox); err != nil {
		w.Close()
		r.Close()
		return nil, fmt.Errorf("prepare: %w", err)
	}
	if s.insOutbox, err = w.Prepare(insertOutbox); err != nil {
		w.Close()
		r.Close()
		return nil, fmt.Errorf("prepare: %w", err)
	}
	go s.writer()
	return s, nil
}

// Close stops the writer after the queued writes and closes the database.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		close(s.quit)
		<-s.done
	})
	s.claimOutbox.Close()
	err1 := s.r.Close()
	s.insOutbox.Close()
	err2 := s.w.Close()
	return errors.Join(err1, err2)
}

// update runs fn in a write transaction, grouped with others.
//
// fn receives a context without cancellation: a cancelled caller must not
// interrupt the connection that its group shares.
func (s *Store) update(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) error) error {
	req := &writeReq{ctx: ctx, fn: fn, err: make(chan error, 1)}
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return meta.ErrClosed
	}
	// The writer runs until closed is set, so this send cannot block for
	// ever.
	select {
	case s.reqs <- req:
	case <-ctx.Done():
		s.mu.RUnlock()
		return ctx.Err()
	}
	s.mu.RUnlock()
	// Once queued the write will be decided; wait for the verdict even if
	// ctx ends, so a caller never mistakes a committed write for a failed
	// one.
	return <-req.err
}

func (s *Store) writer() {
	defer close(s.done)
	group := make([]*writeReq, 0, maxGroup)
	for {
		group = group[:0]
		select {
		case r := <-s.reqs:
			group = append(group, r)
		case <-s.quit:
			// Drain what was queued before Close.
			for {
				select {
				case r := <-s.reqs:
					s.commit([]*writeReq{r})
				default:
					return
				}
			}
		}
	fill:
		for len(group) < maxGroup {
			select {
			case r := <-s.reqs:
				group = append(group, r)
			default:
				break fill
			}
		}
		s.commit(group)
	}
}

// commit runs a group in one transaction, each request in a savepoint.
func (s *Store) commit(group []*writeReq) {
	errs := make([]error, len(group))
	tx, err := s.w.Begin()
	if err != nil {
		for _, r := range group {
			r.err <- fmt.Errorf("begin: %w", err)
		}
		return
	}
	for i, r := range group {
		if err := r.ctx.Err(); err != nil {
			errs[i] = err
			continue
		}
		if _, err := tx.Exec("SAVEPOINT w"); err != nil {
			errs[i] = fmt.Errorf("savepoint: %w", err)
			continue
		}
		errs[i] = runSafely(context.WithValue(context.WithoutCancel(r.ctx), storeKey{}, s), r.fn, tx)
		if errs[i] != nil {
			if _, err := tx.Exec("ROLLBACK TO w"); err != nil {
				// The transaction is unusable: fail the whole group.
				tx.Rollback()
				for _, r := range group {
					r.err <- fmt.Errorf("rollback to savepoint: %w", err)
				}
				return
			}
		}
		if _, err := tx.Exec("RELEASE w"); err != nil {
			tx.Rollback()
			for _, r := range group {
				r.err <- fmt.Errorf("release savepoint: %w", err)
			}
			return
		}
	}
	if err := tx.Commit(); err != nil {
		for _, r := range group {
			r.err <- fmt.Errorf("commit: %w", err)
		}
		return
	}
	for i, r := range group {
		r.err <- errs[i]
	}
}

// runSafely turns a panic in fn into an error so one bad request cannot
// take the writer (and every other request) down.
func runSafely(ctx context.Context, fn func(context.Context, *sql.Tx) error, tx *sql.Tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("meta: panic in write: %v", p)
		}
	}()
	return fn(ctx, tx)
}

// migrate creates the schema, then applies the migrations a database
// made by an older firn lacks; PRAGMA user_version counts those applied.
func migrate(db *sql.DB) error {
	if _, err := db.Exec(schema); err != nil {
		return err
	}
	var v int
	if err := db.QueryRow(`PRAGMA user_version`).Scan(&v); err != nil {
		return err
	}
	for ; v < len(migrations); v++ {
		tx, err := db.Begin()
		if err != nil {
			return err
		}
		if _, err := tx.Exec(migrations[v]); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %d: %w", v+1, err)
		}
		if _, err := tx.Exec(fmt.Sprintf(`PRAGMA user_version = %d`, v+1)); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	}
	return nil
}

// migrations change a schema made by an earlier version; each runs once,
// in order, in its own transaction. Only ever append.
var migrations = []string{
	// 1: restore jobs that fail say why.
	`ALTER TABLE restore_jobs ADD COLUMN error TEXT NOT NULL DEFAULT ''`,
	// 2: when a lifecycle rule next acts on an object (0: never), indexed
	// so the engine finds due work without scanning buckets.
	`ALTER TABLE objects ADD COLUMN lc_due INTEGER NOT NULL DEFAULT 0;
	 CREATE INDEX objects_lc_due ON objects (lc_due) WHERE lc_due > 0;`,
	// 3: per-bucket configurations (meta.BucketConfigStore), dropped with
	// their bucket.
	`CREATE TABLE IF NOT EXISTS bucket_configs (
		bucket TEXT NOT NULL REFERENCES buckets(name) ON DELETE CASCADE,
		name   TEXT NOT NULL,
		value  BLOB NOT NULL,
		PRIMARY KEY (bucket, name)
	) WITHOUT ROWID;`,
	// 4: noncurrent versions and delete markers (see versions.go).
	`CREATE TABLE IF NOT EXISTS versions (
		bucket        TEXT NOT NULL,
		key           TEXT NOT NULL,
		version_id    TEXT NOT NULL,
		size          INTEGER NOT NULL,
		etag          TEXT NOT NULL,
		mtime         INTEGER NOT NULL,
		storage_class TEXT NOT NULL,
		owner         TEXT NOT NULL,
		attrs         BLOB NOT NULL,
		lc_due        INTEGER NOT NULL DEFAULT 0,
		seq           INTEGER NOT NULL,
		delete_marker INTEGER NOT NULL,
		noncurrent    INTEGER NOT NULL,
		inline        BLOB,
		PRIMARY KEY (bucket, key, seq)
	) WITHOUT ROWID;
	CREATE UNIQUE INDEX versions_by_id ON versions (bucket, key, version_id);`,
	// 5: the lifecycle due index of noncurrent versions and markers.
	`CREATE INDEX versions_lc_due ON versions (lc_due) WHERE lc_due > 0;`,
	// 6: users and their access keys (meta.IdentityStore).
	`CREATE TABLE IF NOT EXISTS users (
		name    TEXT PRIMARY KEY,
		created INTEGER NOT NULL,
		policy  BLOB NOT NULL
	);
	CREATE TABLE IF NOT EXISTS access_keys (
		id      TEXT PRIMARY KEY,
		user    TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
		secret  TEXT NOT NULL,
		created INTEGER NOT NULL
	);
	CREATE INDEX access_keys_by_user ON access_keys (user, id);`,
	// 7: the transactional outbox of event notifications (outbox.go).
	outboxSchema,
}

// schema is documented in docs/metadata-schema.md; keep them in step.
const schema = `
CREATE TABLE IF NOT EXISTS buckets (
	name    TEXT PRIMARY KEY,
	region  TEXT NOT NULL,
	owner   TEXT NOT NULL,
	created INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS objects (
	bucket        TEXT NOT NULL,
	key           TEXT NOT NULL,
	version_id    TEXT NOT NULL,
	size          INTEGER NOT NULL,
	etag          TEXT NOT NULL,
	mtime         INTEGER NOT NULL,
	storage_class TEXT NOT NULL,
	owner         TEXT NOT NULL,
	attrs         BLOB NOT NULL,
	inline        BLOB,
	PRIMARY KEY (bucket, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS uploads (
	id        TEXT PRIMARY KEY,
	bucket    TEXT NOT NULL,
	key       TEXT NOT NULL,
	initiated INTEGER NOT NULL,
	owner     TEXT NOT NULL,
	template  BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS uploads_by_key ON uploads (bucket, key, id);
CREATE TABLE IF NOT EXISTS parts (
	upload_id TEXT NOT NULL REFERENCES uploads(id) ON DELETE CASCADE,
	number    INTEGER NOT NULL,
	size      INTEGER NOT NULL,
	etag      TEXT NOT NULL,
	checksum  TEXT NOT NULL,
	mtime     INTEGER NOT NULL,
	blob_id   TEXT NOT NULL,
	PRIMARY KEY (upload_id, number)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS restore_jobs (
	id              TEXT PRIMARY KEY,
	bucket          TEXT NOT NULL,
	key             TEXT NOT NULL,
	version_id      TEXT NOT NULL,
	object_etag     TEXT NOT NULL,
	object_mtime    INTEGER NOT NULL,
	storage_class   TEXT NOT NULL,
	tier            TEXT NOT NULL,
	priority        INTEGER NOT NULL,
	days            INTEGER NOT NULL,
	bytes           INTEGER NOT NULL,
	requested       INTEGER NOT NULL,
	due             INTEGER NOT NULL,
	state           TEXT NOT NULL,
	lease_owner     TEXT NOT NULL DEFAULT '',
	lease_until     INTEGER NOT NULL DEFAULT 0,
	completed       INTEGER NOT NULL DEFAULT 0,
	expiry          INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS restore_jobs_due ON restore_jobs (state, priority, due);
CREATE INDEX IF NOT EXISTS restore_jobs_expiry ON restore_jobs (state, expiry);
CREATE INDEX IF NOT EXISTS restore_jobs_object ON restore_jobs (bucket, key, state);
CREATE INDEX IF NOT EXISTS restore_jobs_requested ON restore_jobs (tier, requested);
CREATE TABLE IF NOT EXISTS counters (
	name TEXT NOT NULL,
	day  INTEGER NOT NULL,
	key  TEXT NOT NULL,
	n    INTEGER NOT NULL,
	PRIMARY KEY (name, day, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS settings (
	name  TEXT PRIMARY KEY,
	value BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS blob_refs (
	blob_id TEXT PRIMARY KEY
) WITHOUT ROWID;
`

// attrs is the JSON column holding an object's variable parts.
type attrs struct {
	Headers  map[string]string `json:"h,omitempty"`
	UserMeta map[string]string `json:"m,omitempty"`
	Tags     []meta.Tag        `json:"t,omitempty"`
	Checksum meta.Checksum     `json:"c,omitzero"`
	Parts    []meta.PartInfo   `json:"p,omitempty"`
	Segments []meta.Segment    `json:"s,omitempty"`
	Restore  *meta.Restore     `json:"r,omitempty"`
	// Encryption is the object's encryption at rest.
	Encryption *meta.Encryption `json:"x,omitempty"`
	// AccessTier and LastAccess: Intelligent-Tiering state.
	AccessTier string    `json:"at,omitempty"`
	LastAccess time.Time `json:"la,omitzero"`
	// RestoreInline says that the inline column holds Restore.Inline,
	// the restored copy of an archived object.
	RestoreInline bool `json:"ri,omitempty"`
}

func encodeAttrs(o *meta.Object) ([]byte, error) {
	return json.Marshal(attrs{Headers: o.Headers, UserMeta: o.UserMeta, Tags: o.Tags, Checksum: o.Checksum, Parts: o.Parts,
		Segments: o.Segments, Restore: o.Restore, Encryption: o.Encryption, AccessTier: o.AccessTier, LastAccess: o.LastAccess,
		RestoreInline: o.Restore != nil && o.Restore.Inline != nil})
}

// decodeAttrs fills o from its attrs column; withInline says whether
// o.Inline was read from the inline column (a listing does not read it).
func decodeAttrs(b []byte, o *meta.Object, withInline bool) error {
	var a attrs
	if err := json.Unmarshal(b, &a); err != nil {
		return fmt.Errorf("decode attrs of %s/%s: %w", o.Bucket, o.Key, err)
	}
	o.Headers, o.UserMeta, o.Tags, o.Checksum, o.Parts, o.Segments, o.Restore = a.Headers, a.UserMeta, a.Tags, a.Checksum, a.Parts, a.Segments, a.Restore
	o.Encryption, o.AccessTier, o.LastAccess = a.Encryption, a.AccessTier, a.LastAccess
	if a.RestoreInline && o.Restore != nil && withInline {
		o.Restore.Inline, o.Inline = o.Inline, nil
		if o.Restore.Inline == nil {
			o.Restore.Inline = []byte{}
		}
	}
	return nil
}

func nanos(t time.Time) int64     { return t.UnixNano() }
func fromNanos(n int64) time.Time { return time.Unix(0, n).UTC() }

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func bucketExists(ctx context.Context, q querier, name string) error {
	var one int
	err := q.QueryRowContext(ctx, `SELECT 1 FROM buckets WHERE name = ?`, name).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("bucket %q: %w", name, meta.ErrNoSuchBucket)
	}
	return err
}

// CreateBucket implements meta.Store.
func (s *Store) CreateBucket(ctx context.Context, b meta.Bucket) error {
	return s.update(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO buckets (name, region, owner, created) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`,
			b.Name, b.Region, b.Owner, nanos(b.Created))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("bucket %q: %w", b.Name, meta.ErrBucketExists)
		}
		return nil
	})
}

// GetBucket implements meta.Store.
func (s *Store) GetBucket(ctx context.Context, name string) (meta.Bucket, error) {
	b := meta.Bucket{Name: name}
	var created int64
	err := s.r.QueryRowContext(ctx, `SELECT region, owner, created FROM buckets WHERE name = ?`, name).Scan(&b.Region, &b.Owner, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return b, fmt.Errorf("bucket %q: %w", name, meta.ErrNoSuchBucket)
	}
	b.Created = fromNanos(created)
	return b, err
}

// ListBuckets implements meta.Store.
func (s *Store) ListBuckets(ctx context.Context) ([]meta.Bucket, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT name, region, owner, created FROM buckets ORDER BY name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []meta.Bucket
	for rows.Next() {
		var b meta.Bucket
		var created int64
		if err := rows.Scan(&b.Name, &b.Region, &b.Owner, &created); err != nil {
			return nil, err
		}
		b.Created = fromNanos(created)
		out = append(out, b)
	}
	return out, rows.Err()
}

// DeleteBucket implements meta.Store.
func (s *Store) DeleteBucket(ctx context.Context, name string) (freed []string, err error) {
	err = s.update(ctx, func(ctx context.Context, tx *sql.Tx) error {
		freed = nil
		if err := bucketExists(ctx, tx, name); err != nil {
			return err
		}
		var one int
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM objects WHERE bucket = ? UNION ALL SELECT 1 FROM versions WHERE bucket = ? LIMIT 1`, name, name).Scan(&one)
		if err == nil {
			return fmt.Errorf("bucket %q: %w", name, meta.ErrBucketNotEmpty)
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		ids, err := unrefQuery(ctx, tx, `SELECT p.blob_id FROM parts p JOIN uploads u ON u.id = p.upload_id WHERE u.bucket = ? AND p.blob_id != ''`, name)
		if err != nil {
			return err
		}
		freed = ids
		if _, err := tx.ExecContext(ctx, `DELETE FROM uploads WHERE bucket = ?`, name); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM buckets WHERE name = ?`, name)
		return err
	})
	return freed, err
}

func scanStrings(rows *sql.Rows) ([]string, error) {
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// unrefQuery drops the references to the blob ids query selects and
// returns them.
func unrefQuery(ctx context.Context, tx *sql.Tx, query string, args ...any) ([]string, error) {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	ids, err := scanStrings(rows)
	if err != nil {
		return nil, err
	}
	return ids, unref(ctx, tx, ids)
}

func ref(ctx context.Context, tx *sql.Tx, ids []string) error {
	for _, id := range ids {
		if id == "" {
			continue
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO blob_refs (blob_id) VALUES (?) ON CONFLICT DO NOTHING`, id); err != nil {
			return err
		}
	}
	return nil
}

func unref(ctx context.Context, tx *sql.Tx, ids []string) error {
	for _, id := range ids {
		if id == "" {
			continue
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM blob_refs WHERE blob_id = ?`, id); err != nil {
			return err
		}
	}
	return nil
}

const objectCols = `bucket, key, version_id, size, etag, mtime, storage_class, owner, attrs, lc_due`

func scanObject(sc interface{ Scan(...any) error }, withInline bool) (*meta.Object, error) {
	var o meta.Object
	var mtime int64
	var a []byte
	var hasInline bool
	var lcDue int64
	dest := []any{&o.Bucket, &o.Key, &o.VersionID, &o.Size, &o.ETag, &mtime, &o.StorageClass, &o.Owner, &a, &lcDue}
	if withInline {
		dest = append(dest, &o.Inline, &hasInline)
	}
	if err := sc.Scan(dest...); err != nil {
		return nil, err
	}
	if hasInline && o.Inline == nil {
		// The driver reads an empty BLOB as nil; only NULL means none.
		o.Inline = []byte{}
	}
	o.LastModified = fromNanos(mtime)
	o.LifecycleDue = fromNanosOrZero(lcDue)
	if err := decodeAttrs(a, &o, withInline); err != nil {
		return nil, err
	}
	return &o, nil
}

func getObject(ctx context.Context, q querier, bucket, key string) (*meta.Object, error) {
	o, err := scanObject(q.QueryRowContext(ctx, `SELECT `+objectCols+`, inline, inline IS NOT NULL FROM objects WHERE bucket = ? AND key = ?`, bucket, key), true)
	if errors.Is(err, sql.ErrNoRows) {
		if err := bucketExists(ctx, q, bucket); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("object %q/%q: %w", bucket, key, meta.ErrNoSuchKey)
	}
	return o, err
}

// getCurrent is getObject inside a write, where a missing key is nil.
func getCurrent(ctx context.Context, tx *sql.Tx, bucket, key string) (*meta.Object, error) {
	o, err := getObject(ctx, tx, bucket, key)
	if errors.Is(err, meta.ErrNoSuchKey) {
		return nil, nil
	}
	return o, err
}

// rowOf returns the attrs and inline columns of o: the inline bytes of
// a small object, or of its restored copy (NULL when neither).
func rowOf(o *meta.Object) (attrs []byte, inline any, err error) {
	if attrs, err = encodeAttrs(o); err != nil {
		return nil, nil, err
	}
	if o.Inline != nil {
		inline = o.Inline
	}
	if o.Restore != nil && o.Restore.Inline != nil {
		inline = o.Restore.Inline
	}
	return attrs, inline, nil
}

func writeObject(ctx context.Context, tx *sql.Tx, o *meta.Object) error {
	a, inline, err := rowOf(o)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO objects (`+objectCols+`, inline) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (bucket, key) DO UPDATE SET version_id = excluded.version_id, size = excluded.size, etag = excluded.etag,
		mtime = excluded.mtime, storage_class = excluded.storage_class, owner = excluded.owner, attrs = excluded.attrs,
		lc_due = excluded.lc_due, inline = excluded.inline`,
		o.Bucket, o.Key, o.VersionID, o.Size, o.ETag, nanos(o.LastModified), o.StorageClass, o.Owner, a, nanosOrZero(o.LifecycleDue), inline)
	return err
}

// putLocked makes o the latest version of its key in tx (see
// meta.VersionStore for what becomes of cur, the current object, and of
// older versions), returning the blobs freed by replacing a version.
func putLocked(ctx context.Context, tx *sql.Tx, o *meta.Object, cur *meta.Object) ([]string, error) {
	freed, err := putVersion(ctx, tx, o, cur)
	if err != nil {
		return nil, err
	}
	return freed, emit(ctx, tx, cur, o)
}

// putVersion is putLocked without the events.
func putVersion(ctx context.Context, tx *sql.Tx, o *meta.Object, cur *meta.Object) ([]string, error) {
	if o.VersionID == "" {
		o.VersionID = meta.NullVersion
	}
	if cur != nil && cur.VersionID == "" {
		cur.VersionID = meta.NullVersion
	}
	if o.VersionID != meta.NullVersion {
		var one int
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM versions WHERE bucket = ? AND key = ? AND version_id = ?`, o.Bucket, o.Key, o.VersionID).Scan(&one)
		if err == nil {
			return nil, fmt.Errorf("meta: version %q of %q/%q exists", o.VersionID, o.Bucket, o.Key)
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return nil, err
		}
	}
	var freed []string
	replaced := cur != nil && cur.VersionID == o.VersionID
	if replaced {
		// The current version is replaced (the null version by a new
		// null version, or any version by itself rewritten); a
		// replacement may keep its blobs (a copy onto itself).
		keep := make(map[string]bool, len(o.Segments))
		for _, s := range o.Segments {
			keep[s.BlobID] = true
		}
		for _, id := range cur.BlobIDs() {
			if !keep[id] || o.DeleteMarker {
				freed = append(freed, id)
			}
		}
		if err := unref(ctx, tx, freed); err != nil {
			return nil, err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM objects WHERE bucket = ? AND key = ?`, o.Bucket, o.Key); err != nil {
			return nil, err
		}
		cur = nil
	}
	if o.VersionID == meta.NullVersion && !replaced {
		// A noncurrent null version (or null delete marker) goes.
		old, _, err := scanVersion(tx.QueryRowContext(ctx, `SELECT `+versionCols+` FROM versions WHERE bucket = ? AND key = ? AND version_id = ?`,
			o.Bucket, o.Key, meta.NullVersion), false)
		if err == nil {
			ids, err := dropVersionRow(ctx, tx, old)
			if err != nil {
				return nil, err
			}
			freed = append(freed, ids...)
		} else if !errors.Is(err, sql.ErrNoRows) {
			return nil, err
		}
	}
	if cur != nil {
		if err := demote(ctx, tx, cur, o.LastModified); err != nil {
			return nil, err
		}
	}
	o.NoncurrentSince = time.Time{}
	if o.DeleteMarker {
		o.Size, o.Segments, o.Inline, o.Restore, o.LifecycleDue = 0, nil, nil, nil, time.Time{}
		return freed, insertVersion(ctx, tx, o, time.Time{})
	}
	if err := ref(ctx, tx, o.BlobIDs()); err != nil {
		return nil, err
	}
	return freed, writeObject(ctx, tx, o)
}

// PutObject implements meta.Store.
func (s *Store) PutObject(ctx context.Context, o *meta.Object, check meta.PutCheck) (freed []string, err error) {
	err = s.update(ctx, func(ctx context.Context, tx *sql.Tx) error {
		cur, err := getCurrent(ctx, tx, o.Bucket, o.Key)
		if err != nil {
			return err
		}
		if check != nil {
			if err := check(cur); err != nil {
				return err
			}
		}
		freed, err = putLocked(ctx, tx, o, cur)
		return err
	})
	if err != nil {
		return nil, err
	}
	return freed, nil
}

// GetObject implements meta.Store.
func (s *Store) GetObject(ctx context.Context, bucket, key string) (*meta.Object, error) {
	return getObject(ctx, s.r, bucket, key)
}

// UpdateObject implements meta.Store.
func (s *Store) UpdateObject(ctx context.Context, bucket, key string, fn func(o *meta.Object) error) error {
	return s.update(ctx, func(ctx context.Context, tx *sql.Tx) error {
		o, err := getObject(ctx, tx, bucket, key)
		if err != nil {
			return err
		}
		segs := o.BlobIDs()
		before := *o
		if err := fn(o); err != nil {
			return err
		}
		o.Bucket, o.Key = bucket, key
		if strings.Join(o.BlobIDs(), "/") != strings.Join(segs, "/") {
			return errors.New("meta: UpdateObject may not change an object's bytes")
		}
		if err := writeObject(ctx, tx, o); err != nil {
			return err
		}
		return emit(ctx, tx, &before, o)
	})
}

// DeleteObject implements meta.Store.
func (s *Store) DeleteObject(ctx context.Context, bucket, key string) (deleted *meta.Object, freed []string, err error) {
	return s.deleteObject(ctx, bucket, key, nil)
}

// deleteObject deletes the current object under key if keep (when set)
// returns false for it.
func (s *Store) deleteObject(ctx context.Context, bucket, key string, keep func(cur *meta.Object) bool) (deleted *meta.Object, freed []string, err error) {
	err = s.update(ctx, func(ctx context.Context, tx *sql.Tx) error {
		deleted, freed = nil, nil
		cur, err := getCurrent(ctx, tx, bucket, key)
		if err != nil || cur == nil || keep != nil && keep(cur) {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM objects WHERE bucket = ? AND key = ?`, bucket, key); err != nil {
			return err
		}
		ids := cur.BlobIDs()
		if err := unref(ctx, tx, ids); err != nil {
			return err
		}
		cur.Inline = nil
		deleted, freed = cur, ids
		if err := emit(ctx, tx, cur, nil); err != nil {
			return err
		}
		return promote(ctx, tx, bucket, key)
	})
	if err != nil {
		return nil, nil, err
	}
	return deleted, freed, nil
}

// queryObjects runs a query selecting objectCols (without the inline
// bytes) and returns its objects.
func queryObjects(ctx context.Context, q querier, query string, args ...any) ([]meta.Object, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []meta.Object
	for rows.Next() {
		o, err := scanObject(rows, false)
		if err != nil {
			return nil, err
		}
		out = append(out, *o)
	}
	return out, rows.Err()
}

// ScanObjects implements meta.Store.
func (s *Store) ScanObjects(ctx context.Context, bucket, prefix, after string, limit int) ([]meta.Object, error) {
	if limit <= 0 {
		return nil, bucketExists(ctx, s.r, bucket)
	}
	// Lower bound: past after, but never below prefix (a key equal to the
	// prefix is under it).
	lower, op := after, ">"
	if after < prefix {
		lower, op = prefix, ">="
	}
	q := `SELECT ` + objectCols + ` FROM objects WHERE bucket = ? AND key ` + op + ` ?`
	args := []any{bucket, lower}
	if prefix != "" {
		q += ` AND key < ?`
		args = append(args, prefixEnd(prefix))
	}
	q += ` ORDER BY key LIMIT ?`
	args = append(args, limit)
	out, err := queryObjects(ctx, s.r, q, args...)
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		if err := bucketExists(ctx, s.r, bucket); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// prefixEnd returns a string above every key that starts with prefix: no
// UTF-8 key holds the byte 0xFF.
func prefixEnd(prefix string) string { return prefix + "\xff" }
