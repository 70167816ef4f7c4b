package target

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// pgConn connects a test client to PostgreSQL, skipping when it is
// absent; it returns the server's host:port and the connection.
func pgConn(t *testing.T) (addr string, conn *pgx.Conn) {
	t.Helper()
	addr = serviceAddr("POSTGRES", "127.0.0.1:5432")
	needService(t, "PostgreSQL", addr)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, pgURL(addr))
	if err != nil {
		t.Skipf("PostgreSQL not reachable at %s: %v", addr, err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return addr, conn
}

func pgURL(addr string) string {
	return "postgres://postgres@" + addr + "/test?sslmode=disable"
}

func dropTable(t *testing.T, conn *pgx.Conn, table string) {
	t.Cleanup(func() {
		_, _ = conn.Exec(context.Background(), "DROP TABLE IF EXISTS "+table)
	})
}

func TestPostgresSend(t *testing.T) {
	addr, conn := pgConn(t)
	sfx := suffix(t)
	table, channel := "firn_test_"+sfx, "firn_test_"+sfx
	dropTable(t, conn, table)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	listener, err := pgx.Connect(ctx, pgURL(addr))
	if err != nil {
		t.Fatal(err)
	}
	defer listener.Close(context.Background())
	if _, err := listener.Exec(ctx, "LISTEN "+channel); err != nil {
		t.Fatal(err)
	}

	tg := openTarget(t, Spec{Name: "pg", Kind: KindPostgres, URL: pgURL(addr),
		Options: map[string]string{"table": "public." + table, "notify": channel}})
	msgs := testMsgs("pg-"+sfx, 6)
	mustSend(t, tg, msgs)
	// Again: the unique event_id drops the duplicates.
	mustSend(t, tg, msgs)

	rows, err := conn.Query(ctx, `SELECT event_id, event_name, bucket, key, body::text FROM `+table+` ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	i := 0
	for rows.Next() {
		var id, event, bucket, key, body string
		if err := rows.Scan(&id, &event, &bucket, &key, &body); err != nil {
			t.Fatal(err)
		}
		if i >= len(msgs) {
			t.Fatalf("extra row %s", id)
		}
		m := msgs[i]
		if id != m.ID || event != m.Event || bucket != m.Bucket || key != m.Key || !sameJSON(t, []byte(body), m.Body) {
			t.Errorf("row %d: %s %s %s %s %s; want %+v", i, id, event, bucket, key, body, m)
		}
		i++
	}
	if rows.Err() != nil || i != len(msgs) {
		t.Fatalf("%d rows (%v), want %d", i, rows.Err(), len(msgs))
	}

	// A notification per inserted row, none for the duplicates.
	for i, m := range msgs {
		n, err := listener.WaitForNotification(ctx)
		if err != nil {
			t.Fatalf("notification %d: %v", i, err)
		}
		if n.Channel != channel || n.Payload != m.ID {
			t.Errorf("notification %d: %s %q, want %s %q", i, n.Channel, n.Payload, channel, m.ID)
		}
	}
	short, cancelShort := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancelShort()
	if n, err := listener.WaitForNotification(short); err == nil {
		t.Errorf("extra notification %q", n.Payload)
	}
}

func TestPostgresBadBodyFailsAll(t *testing.T) {
	addr, conn := pgConn(t)
	table := "firn_test_" + suffix(t)
	dropTable(t, conn, table)
	tg := openTarget(t, Spec{Name: "pg", Kind: KindPostgres, URL: pgURL(addr), Options: map[string]string{"table": table}})
	msgs := testMsgs("bad-"+suffix(t), 3)
	msgs[1].Body = []byte("not json")
	n, err := tg.Send(context.Background(), msgs)
	if err == nil || n != 0 {
		t.Fatalf("Send = %d, %v; want 0 and an error", n, err)
	}
	var count int
	if err := conn.QueryRow(context.Background(), "SELECT count(*) FROM "+table).Scan(&count); err != nil || count != 0 {
		t.Fatalf("%d rows (%v) after a failed Send, want 0", count, err)
	}
	// The target works on.
	mustSend(t, tg, testMsgs("good-"+suffix(t), 2))
}

func TestPostgresReconnect(t *testing.T) {
	addr, conn := pgConn(t)
	p := newProxy(t, addr)
	table := "firn_test_" + suffix(t)
	dropTable(t, conn, table)
	tg := openTarget(t, Spec{Name: "pg", Kind: KindPostgres, URL: pgURL(p.Addr()), Timeout: 3 * time.Second, Options: map[string]string{"table": table}})
	checkReconnect(t, tg, p)
	var count int
	if err := conn.QueryRow(context.Background(), "SELECT count(*) FROM "+table).Scan(&count); err != nil || count != 4 {
		t.Errorf("%d rows (%v), want 4", count, err)
	}
}
