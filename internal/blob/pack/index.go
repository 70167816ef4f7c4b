package pack

import (
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Pack states in the index.
const (
	packOpen    = 0 // a journal in the state directory
	packSealing = 1 // a journal whose shards may be half written
	packSealed  = 2 // shards in the archive directories
	packRetired = 3 // compacted away; its shards are to be removed
)

// index is the store's own database of where every object lives: a
// SQLite file in the state directory, never on the archive directories.
//
// Rows of committed objects are written without an fsync of their own
// (synchronous=NORMAL): the journal fsync made the object durable, and
// recovery re-indexes the journal. Every other change (sealing, deletes,
// compaction) is written with synchronous=FULL before the store acts on
// it.
type index struct {
	w *sql.DB // one connection
	r *sql.DB // read-only pool

	mu sync.Mutex // serializes write transactions, so the synchronous pragma holds for one
}

const schema = `
CREATE TABLE IF NOT EXISTS packs (
	id      TEXT PRIMARY KEY,
	seq     INTEGER NOT NULL,
	state   INTEGER NOT NULL,
	created INTEGER NOT NULL,
	sealed  INTEGER NOT NULL DEFAULT 0,
	k       INTEGER NOT NULL DEFAULT 0,
	m       INTEGER NOT NULL DEFAULT 0,
	block   INTEGER NOT NULL DEFAULT 0,
	blocks  INTEGER NOT NULL DEFAULT 0,
	length  INTEGER NOT NULL DEFAULT 0,
	dirs    TEXT NOT NULL DEFAULT '[]'
);
CREATE TABLE IF NOT EXISTS objects (
	id        TEXT PRIMARY KEY,
	pack      TEXT NOT NULL,
	off       INTEGER NOT NULL,
	comp      INTEGER NOT NULL,
	flags     INTEGER NOT NULL,
	size      INTEGER NOT NULL,
	stored    INTEGER NOT NULL,
	committed INTEGER NOT NULL,
	sha256    BLOB NOT NULL,
	crc       INTEGER NOT NULL,
	bucket    TEXT NOT NULL,
	key       TEXT NOT NULL,
	version   TEXT NOT NULL,
	dead      INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS objects_pack ON objects (pack, off);
`

// migrations bring an index made by an earlier firn up to date; PRAGMA
// user_version counts those applied. Only ever append.
var migrations = []string{
	// 1: labels of multipart parts.
	`ALTER TABLE objects ADD COLUMN upload TEXT NOT NULL DEFAULT '';
	 ALTER TABLE objects ADD COLUMN part INTEGER NOT NULL DEFAULT 0;`,
}

func migrate(db *sql.DB) error {
	if _, err := db.Exec(schema); err != nil {
		return err
	}
	var v int
	if err := db.QueryRow(`PRAGMA user_version`).Scan(&v); err != nil {
		return err
	}
	for ; v < len(migrations); v++ {
		if _, err := db.Exec(`BEGIN; ` + migrations[v] + fmt.Sprintf(`; PRAGMA user_version = %d; COMMIT;`, v+1)); err != nil {
			db.Exec(`ROLLBACK`)
			return fmt.Errorf("migration %d: %w", v+1, err)
		}
	}
	return nil
}

func openIndex(path string) (*index, error) {
	w, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=busy_timeout(10000)&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("open index %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	if err := migrate(w); err != nil {
		w.Close()
		return nil, fmt.Errorf("open index %s: %w", path, err)
	}
	r, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)&_pragma=query_only(1)")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open index %s: %w", path, err)
	}
	r.SetMaxOpenConns(8)
	r.SetMaxIdleConns(8)
	return &index{w: w, r: r}, nil
}

func (x *index) close() error {
	return errors.Join(x.r.Close(), x.w.Close())
}

// update runs fn in a write transaction; durable ones are fsynced before
// update returns.
func (x *index) update(ctx context.Context, durable bool, fn func(tx *sql.Tx) error) (err error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if durable {
		if _, err := x.w.ExecContext(ctx, "PRAGMA synchronous=FULL"); err != nil {
			return err
		}
		defer func() {
			if _, perr := x.w.ExecContext(context.WithoutCancel(ctx), "PRAGMA synchronous=NORMAL"); err == nil {
				err = perr
			}
		}()
	}
	tx, err := x.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

const entryCols = `id, off, comp, flags, size, stored, committed, sha256, crc, bucket, key, version, upload, part`

type scanner interface{ Scan(dest ...any) error }

func scanEntry(r scanner, extra ...any) (Entry, error) {
	var e Entry
	var committed int64
	var sum []byte
	dest := append([]any{&e.ID, &e.Offset, &e.Compression, &e.Flags, &e.Size, &e.StoredSize, &committed, &sum, &e.StoredCRC,
		&e.Label.Bucket, &e.Label.Key, &e.Label.VersionID, &e.Label.UploadID, &e.Label.PartNumber}, extra...)
	if err := r.Scan(dest...); err != nil {
		return e, err
	}
	e.Committed = time.Unix(0, committed)
	copy(e.SHA256[:], sum)
	return e, nil
}

func insertEntry(ctx context.Context, tx *sql.Tx, verb string, pack string, e *Entry) error {
	_, err := tx.ExecContext(ctx, verb+` INTO objects (`+entryCols+`, pack) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		e.ID, e.Offset, e.Compression, e.Flags, e.Size, e.StoredSize, e.Committed.UnixNano(), e.SHA256[:], e.StoredCRC,
		e.Label.Bucket, e.Label.Key, e.Label.VersionID, e.Label.UploadID, e.Label.PartNumber, pack)
	return err
}

// lookup returns a live object's entry and pack.
func (x *index) lookup(ctx context.Context, id string) (Entry, string, error) {
	var pack string
	var dead bool
	e, err := scanEntry(x.r.QueryRowContext(ctx, `SELECT `+entryCols+`, pack, dead FROM objects WHERE id = ?`, id), &pack, &dead)
	if err == nil && dead {
		err = sql.ErrNoRows
	}
	return e, pack, err
}

// packEntries returns the entries of a pack's objects in offset order:
// the live ones, or all of them.
func (x *index) packEntries(ctx context.Context, pack string, all bool) ([]Entry, error) {
	q := `SELECT ` + entryCols + ` FROM objects WHERE pack = ? AND dead = 0 ORDER BY off`
	if all {
		q = `SELECT ` + entryCols + ` FROM objects WHERE pack = ? ORDER BY off`
	}
	rows, err := x.r.QueryContext(ctx, q, pack)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var es []Entry
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			return nil, err
		}
		es = append(es, e)
	}
	return es, rows.Err()
}

// packRow is a pack's row.
type packRow struct {
	id      string
	seq     int64
	state   int
	created time.Time
	hdr     shardHeader // for sealed packs
	dirs    []string    // the directory of each shard
}

const packCols = `id, seq, state, created, sealed, k, m, block, blocks, length, dirs`

func scanPack(r scanner) (packRow, error) {
	var p packRow
	var created, sealed int64
	var dirs string
	err := r.Scan(&p.id, &p.seq, &p.state, &created, &sealed, &p.hdr.K, &p.hdr.M, &p.hdr.BlockSize, &p.hdr.Blocks, &p.hdr.Length, &dirs)
	if err != nil {
		return p, err
	}
	p.created = time.Unix(0, created)
	p.hdr.Sealed = time.Unix(0, sealed)
	if n, err := hex.Decode(p.hdr.PackID[:], []byte(p.id)); err != nil || n != 16 {
		return p, fmt.Errorf("pack id %q: %w", p.id, err)
	}
	if err := json.Unmarshal([]byte(dirs), &p.dirs); err != nil {
		return p, fmt.Errorf("pack %s dirs: %w", p.id, err)
	}
	return p, nil
}

func (x *index) pack(ctx context.Context, id string) (packRow, error) {
	return scanPack(x.r.QueryRowContext(ctx, `SELECT `+packCols+` FROM packs WHERE id = ?`, id))
}

// packs returns the packs in a state, by seq.
func (x *index) packs(ctx context.Context, state int) ([]packRow, error) {
	rows, err := x.r.QueryContext(ctx, `SELECT `+packCols+` FROM packs WHERE state = ? ORDER BY seq`, state)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ps []packRow
	for rows.Next() {
		p, err := scanPack(rows)
		if err != nil {
			return nil, err
		}
		ps = append(ps, p)
	}
	return ps, rows.Err()
}

// newPack records a new open pack and returns its seq.
func (x *index) newPack(ctx context.Context, id string, created time.Time) (int64, error) {
	var seq int64
	err := x.update(ctx, true, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), -1) + 1 FROM packs`).Scan(&seq); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO packs (id, seq, state, created) VALUES (?, ?, ?, ?)`, id, seq, packOpen, created.UnixNano())
		return err
	})
	return seq, err
}

func (x *index) setState(ctx context.Context, id string, state int) error {
	return x.update(ctx, true, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE packs SET state = ? WHERE id = ?`, state, id)
		return err
	})
}

// setSealing records that pack id's shards are about to be written to
// dirs, so that recovery knows what to clean.
func (x *index) setSealing(ctx context.Context, id string, dirs []string) error {
	d, err := json.Marshal(dirs)
	if err != nil {
		return err
	}
	return x.update(ctx, true, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE packs SET state = ?, dirs = ? WHERE id = ?`, packSealing, string(d), id)
		return err
	})
}

func (x *index) setSealed(ctx context.Context, id string, h *shardHeader, dirs []string) error {
	d, err := json.Marshal(dirs)
	if err != nil {
		return err
	}
	return x.update(ctx, true, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE packs SET state = ?, sealed = ?, k = ?, m = ?, block = ?, blocks = ?, length = ?, dirs = ? WHERE id = ?`,
			packSealed, h.Sealed.UnixNano(), h.K, h.M, h.BlockSize, h.Blocks, h.Length, string(d), id)
		return err
	})
}

// sealDirect marks a pack of one object sealed and indexes the object.
func (x *index) sealDirect(ctx context.Context, id string, h *shardHeader, dirs []string, e *Entry) error {
	d, err := json.Marshal(dirs)
	if err != nil {
		return err
	}
	return x.update(ctx, true, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE packs SET state = ?, sealed = ?, k = ?, m = ?, block = ?, blocks = ?, length = ?, dirs = ? WHERE id = ?`,
			packSealed, h.Sealed.UnixNano(), h.K, h.M, h.BlockSize, h.Blocks, h.Length, string(d), id)
		if err != nil {
			return err
		}
		return insertEntry(ctx, tx, "INSERT", id, e)
	})
}

// dropPack forgets a pack and its objects' rows.
func (x *index) dropPack(ctx context.Context, id string) error {
	return x.update(ctx, true, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM objects WHERE pack = ?`, id); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM packs WHERE id = ?`, id)
		return err
	})
}

func (x *index) markDead(ctx context.Context, id string) error {
	// The object service deletes every freed id from every tier: an id
	// this store does not hold (alive) must cost a read, not a durable
	// write.
	var one int
	err := x.r.QueryRowContext(ctx, `SELECT 1 FROM objects WHERE id = ? AND dead = 0`, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	return x.update(ctx, true, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE objects SET dead = 1 WHERE id = ? AND dead = 0`, id)
		return err
	})
}

// walk calls fn for every live object, a batch at a time so that fn may
// use the store.
func (x *index) walk(ctx context.Context, fn func(id string, committed time.Time) error) error {
	after := ""
	type row struct {
		id        string
		committed int64
	}
	for {
		rows, err := x.r.QueryContext(ctx, `SELECT id, committed FROM objects WHERE id > ? AND dead = 0 ORDER BY id LIMIT 1000`, after)
		if err != nil {
			return fmt.Errorf("walk blobs: %w", err)
		}
		var batch []row
		for rows.Next() {
			var r row
			if err := rows.Scan(&r.id, &r.committed); err != nil {
				rows.Close()
				return fmt.Errorf("walk blobs: %w", err)
			}
			batch = append(batch, r)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return fmt.Errorf("walk blobs: %w", err)
		}
		for _, r := range batch {
			if err := fn(r.id, time.Unix(0, r.committed)); err != nil {
				return err
			}
		}
		if len(batch) < 1000 {
			return nil
		}
		after = batch[len(batch)-1].id
	}
}

// packStat is what compaction needs to know of a sealed pack.
type packStat struct {
	id        string
	length    int64
	live      int64 // bytes of live frames
	liveCount int
	newest    time.Time // the newest commit of any object, live or dead
}

func (x *index) packStats(ctx context.Context) ([]packStat, error) {
	rows, err := x.r.QueryContext(ctx, `
		SELECT p.id, p.length,
			COALESCE(SUM(CASE WHEN o.dead = 0 THEN o.stored + 96 + length(CAST(o.bucket AS BLOB)) + length(CAST(o.key AS BLOB)) + length(CAST(o.version AS BLOB)) ELSE 0 END), 0),
			COALESCE(SUM(CASE WHEN o.dead = 0 THEN 1 ELSE 0 END), 0),
			COALESCE(MAX(o.committed), 0)
		FROM packs p LEFT JOIN objects o ON o.pack = p.id
		WHERE p.state = ?
		GROUP BY p.id ORDER BY p.seq`, packSealed)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ps []packStat
	for rows.Next() {
		var p packStat
		var newest int64
		if err := rows.Scan(&p.id, &p.length, &p.live, &p.liveCount, &newest); err != nil {
			return nil, err
		}
		p.newest = time.Unix(0, newest)
		ps = append(ps, p)
	}
	return ps, rows.Err()
}

// move points the moved objects at their new frames and retires the pack
// they came from, forgetting its dead objects.
func (x *index) move(ctx context.Context, from string, moved []movedEntry) error {
	return x.update(ctx, true, func(tx *sql.Tx) error {
		for _, m := range moved {
			if _, err := tx.ExecContext(ctx, `UPDATE objects SET pack = ?, off = ?, flags = ? WHERE id = ? AND pack = ?`,
				m.pack, m.e.Offset, m.e.Flags, m.e.ID, from); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM objects WHERE pack = ?`, from); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE packs SET state = ? WHERE id = ?`, packRetired, from)
		return err
	})
}

type movedEntry struct {
	e    Entry
	pack string
}

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }
