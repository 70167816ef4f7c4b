package target

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// postgresTarget inserts rows into a table.
type postgresTarget struct {
	base
	cfg    *pgx.ConnConfig
	table  string // quoted, maybe schema-qualified
	notify string
	insert string
	create string

	guard
	conn *pgx.Conn
}

func openPostgres(b base) (Target, error) {
	cfg, err := pgx.ParseConfig(b.spec.URL)
	if err != nil {
		return nil, b.fail("open", err)
	}
	cfg.ConnectTimeout = b.timeout
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = map[string]string{}
	}
	if cfg.RuntimeParams["application_name"] == "" {
		cfg.RuntimeParams["application_name"] = "firn-" + b.spec.Name
	}
	t := &postgresTarget{
		base:   b,
		cfg:    cfg,
		table:  pgx.Identifier(strings.Split(b.spec.Options["table"], ".")).Sanitize(),
		notify: b.spec.Options["notify"],
	}
	t.create = `CREATE TABLE IF NOT EXISTS ` + t.table + ` (
	id bigserial PRIMARY KEY,
	event_id text UNIQUE NOT NULL,
	event_name text NOT NULL,
	bucket text,
	"key" text,
	body jsonb NOT NULL,
	created_at timestamptz DEFAULT now())`
	ins := `INSERT INTO ` + t.table + ` (event_id, event_name, bucket, "key", body)
	VALUES ($1, $2, $3, $4, $5::jsonb) ON CONFLICT (event_id) DO NOTHING`
	if t.notify != "" {
		ins = `WITH ins AS (` + ins + ` RETURNING event_id)
	SELECT pg_notify($6, event_id) FROM ins`
	}
	t.insert = ins
	return t, nil
}

// connect makes sure t has a live connection and the table exists.
func (t *postgresTarget) connect(ctx context.Context) error {
	if t.conn != nil && !t.conn.IsClosed() {
		return nil
	}
	t.drop()
	conn, err := pgx.ConnectConfig(ctx, t.cfg.Copy())
	if err != nil {
		return err
	}
	if _, err := conn.Exec(ctx, t.create); err != nil {
		closePG(conn)
		return fmt.Errorf("create table %s: %w", t.table, err)
	}
	t.conn = conn
	return nil
}

// drop closes the connection, if any.
func (t *postgresTarget) drop() {
	if t.conn != nil {
		closePG(t.conn)
	}
	t.conn = nil
}

// closePG closes conn, waiting at most a second for the server.
func closePG(conn *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = conn.Close(ctx)
}

// Send inserts msgs in one transaction: all are delivered or none.
func (t *postgresTarget) Send(ctx context.Context, msgs []Message) (int, error) {
	return t.send(ctx, &t.guard, msgs, func(ctx context.Context, msgs []Message) (int, error) {
		if err := t.connect(ctx); err != nil {
			return 0, t.fail("connect", err)
		}
		if err := t.insertAll(ctx, msgs); err != nil {
			// The connection may be fine (a bad body), but a new one is
			// cheap next to guessing.
			t.drop()
			return 0, t.fail("insert", err)
		}
		return len(msgs), nil
	})
}

func (t *postgresTarget) insertAll(ctx context.Context, msgs []Message) error {
	tx, err := t.conn.Begin(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback(ctx) }() // a no-op after Commit
	batch := &pgx.Batch{}
	for _, m := range msgs {
		args := []any{m.ID, m.Event, m.Bucket, m.Key, string(m.Body)}
		if t.notify != "" {
			args = append(args, t.notify)
		}
		batch.Queue(t.insert, args...)
	}
	br := tx.SendBatch(ctx, batch)
	for i := range msgs {
		if _, err := br.Exec(); err != nil {
			br.Close()
			return fmt.Errorf("message %d of %d (id %s): %w", i+1, len(msgs), msgs[i].ID, err)
		}
	}
	if err := br.Close(); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// Close closes the connection.
func (t *postgresTarget) Close() error {
	return t.closeWith(func() error { t.drop(); return nil })
}
