package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/firnhq/firn/internal/meta"
	"github.com/firnhq/firn/internal/meta/metatest"
)

func open(t testing.TB, path string) *Store {
	t.Helper()
	s, err := Open(path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	metatest.Run(t, func(t *testing.T) meta.Store {
		return open(t, filepath.Join(t.TempDir(), "meta.db"))
	})
}

func TestReopen(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "sub", "meta.db")
	s := open(t, path)
	created := time.Date(2025, 1, 2, 3, 4, 5, 6000, time.UTC)
	if err := s.CreateBucket(ctx, meta.Bucket{Name: "b", Owner: "o", Region: "eu-west-1", Created: created}); err != nil {
		t.Fatal(err)
	}
	obj := &meta.Object{Bucket: "b", Key: "k", VersionID: "null", Size: 3, ETag: "e", LastModified: created,
		StorageClass: "STANDARD", UserMeta: map[string]string{"a": "1"}, Inline: []byte("abc")}
	big := &meta.Object{Bucket: "b", Key: "big", VersionID: "null", Size: 10, ETag: "e2", LastModified: created,
		StorageClass: "STANDARD", Segments: []meta.Segment{{BlobID: "blob1", Size: 10}}}
	for _, o := range []*meta.Object{obj, big} {
		if _, err := s.PutObject(ctx, o, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.CreateUpload(ctx, meta.Upload{ID: "u1", Bucket: "b", Key: "m", Initiated: created}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutPart(ctx, "b", "m", meta.Part{UploadID: "u1", Number: 1, Size: 5, ETag: "pe", LastModified: created, BlobID: "part1"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s = open(t, path)
	b, err := s.GetBucket(ctx, "b")
	if err != nil || b.Owner != "o" || b.Region != "eu-west-1" || !b.Created.Equal(created) {
		t.Errorf("GetBucket after reopen: got (%+v, %v), want owner o, region eu-west-1, created %v", b, err, created)
	}
	got, err := s.GetObject(ctx, "b", "k")
	if err != nil {
		t.Fatalf("GetObject after reopen: %v", err)
	}
	if string(got.Inline) != "abc" || got.UserMeta["a"] != "1" || !got.LastModified.Equal(created) {
		t.Errorf("GetObject after reopen: got inline %q, meta %v, mtime %v; want %q, map[a:1], %v", got.Inline, got.UserMeta, got.LastModified, "abc", created)
	}
	parts, err := s.ListParts(ctx, "b", "m", "u1", 0, 10)
	if err != nil || len(parts) != 1 || parts[0].BlobID != "part1" {
		t.Errorf("ListParts after reopen: got (%+v, %v), want part 1 in part1", parts, err)
	}
	for id, want := range map[string]bool{"blob1": true, "part1": true, "other": false} {
		if got, err := s.BlobReferenced(ctx, id); err != nil || got != want {
			t.Errorf("BlobReferenced(%q) after reopen: got (%v, %v), want (%v, nil)", id, got, err, want)
		}
	}
	// Writes work on the reopened store.
	if _, _, err := s.DeleteObject(ctx, "b", "big"); err != nil {
		t.Errorf("DeleteObject after reopen: %v", err)
	}
}

// TestCloseDrains: writes queued when Close is called commit and are
// there after reopening.
func TestCloseDrains(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "meta.db")
	s := open(t, path)
	if err := s.CreateBucket(ctx, meta.Bucket{Name: "b", Created: time.Now()}); err != nil {
		t.Fatal(err)
	}
	const n = 64
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, errs[i] = s.PutObject(ctx, &meta.Object{Bucket: "b", Key: fmt.Sprintf("k%02d", i), LastModified: time.Now(), StorageClass: "STANDARD"}, nil)
		})
	}
	time.Sleep(time.Millisecond)
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	wg.Wait()
	s = open(t, path)
	for i, err := range errs {
		_, gerr := s.GetObject(ctx, "b", fmt.Sprintf("k%02d", i))
		switch {
		case err == nil && gerr != nil:
			t.Errorf("PutObject %d returned nil before Close, but after reopen: %v", i, gerr)
		case errors.Is(err, meta.ErrClosed) && gerr == nil:
			t.Errorf("PutObject %d returned ErrClosed, but the object exists after reopen", i)
		case err != nil && !errors.Is(err, meta.ErrClosed):
			t.Errorf("PutObject %d racing Close: got %v, want nil or ErrClosed", i, err)
		}
	}
}

// TestPanicInCheck: a panicking check fails its own write only.
func TestPanicInCheck(t *testing.T) {
	ctx := t.Context()
	s := open(t, filepath.Join(t.TempDir(), "meta.db"))
	if err := s.CreateBucket(ctx, meta.Bucket{Name: "b", Created: time.Now()}); err != nil {
		t.Fatal(err)
	}
	const n = 32
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			var check meta.PutCheck
			if i%2 == 1 {
				check = func(*meta.Object) error { panic("boom") }
			}
			_, errs[i] = s.PutObject(ctx, &meta.Object{Bucket: "b", Key: fmt.Sprintf("k%02d", i), LastModified: time.Now(), StorageClass: "STANDARD"}, check)
		})
	}
	wg.Wait()
	for i, err := range errs {
		_, gerr := s.GetObject(ctx, "b", fmt.Sprintf("k%02d", i))
		if i%2 == 0 && (err != nil || gerr != nil) {
			t.Errorf("PutObject %d next to panicking ones: got (%v, GetObject %v), want (nil, nil)", i, err, gerr)
		}
		if i%2 == 1 && (err == nil || !errors.Is(gerr, meta.ErrNoSuchKey)) {
			t.Errorf("PutObject %d with a panicking check: got (%v, GetObject %v), want (an error, ErrNoSuchKey)", i, err, gerr)
		}
	}
}

// TestCancelledCaller: a caller whose context ends does not disturb the
// others of its group, and its write is either done or not, as reported.
func TestCancelledCaller(t *testing.T) {
	ctx := t.Context()
	s := open(t, filepath.Join(t.TempDir(), "meta.db"))
	if err := s.CreateBucket(ctx, meta.Bucket{Name: "b", Created: time.Now()}); err != nil {
		t.Fatal(err)
	}
	const n = 32
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			c := ctx
			if i%2 == 1 {
				cc, cancel := context.WithCancel(ctx)
				cancel()
				c = cc
			}
			_, errs[i] = s.PutObject(c, &meta.Object{Bucket: "b", Key: fmt.Sprintf("k%02d", i), LastModified: time.Now(), StorageClass: "STANDARD"}, nil)
		})
	}
	wg.Wait()
	for i, err := range errs {
		_, gerr := s.GetObject(ctx, "b", fmt.Sprintf("k%02d", i))
		if i%2 == 0 && (err != nil || gerr != nil) {
			t.Errorf("PutObject %d: got (%v, GetObject %v), want (nil, nil)", i, err, gerr)
		}
		if i%2 == 1 && (err == nil) != (gerr == nil) {
			t.Errorf("PutObject %d with a cancelled context: got %v, but GetObject %v", i, err, gerr)
		}
	}
}

// BenchmarkPutObject measures small inline puts, each waiting for its
// durable commit, from 1 writer and from many: with more writers in
// flight, more of them share one commit (and one fsync), so ops/s grows
// with the number of writers.
func BenchmarkPutObject(b *testing.B) {
	procs := runtime.GOMAXPROCS(0)
	for _, writers := range []int{1, 8, 64, 256} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			s := open(b, filepath.Join(b.TempDir(), "meta.db"))
			ctx := context.Background()
			if err := s.CreateBucket(ctx, meta.Bucket{Name: "b", Created: time.Now()}); err != nil {
				b.Fatal(err)
			}
			data := make([]byte, 1024)
			var seq atomic.Int64
			putOne := func() error {
				k := seq.Add(1)
				o := &meta.Object{Bucket: "b", Key: fmt.Sprintf("obj-%08d", k), VersionID: "null", Size: int64(len(data)),
					ETag: "e", LastModified: time.Now(), StorageClass: "STANDARD", Inline: data}
				_, err := s.PutObject(ctx, o, nil)
				return err
			}
			b.ReportAllocs()
			b.ResetTimer()
			if writers == 1 {
				for b.Loop() {
					if err := putOne(); err != nil {
						b.Fatal(err)
					}
				}
			} else {
				// RunParallel starts parallelism*GOMAXPROCS goroutines.
				b.SetParallelism((writers + procs - 1) / procs)
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if err := putOne(); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
		})
	}
}

// TestMigrateOldDatabase: a database made before restore_jobs had its
// error column (user_version 0) is migrated on open, once.
func TestMigrateOldDatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "meta.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(schema); err != nil {
		t.Fatal(err)
	}
	var v int
	if err := db.QueryRow(`PRAGMA user_version`).Scan(&v); err != nil || v != 0 {
		t.Fatalf("user_version %d, %v", v, err)
	}
	db.Close()
	for range 2 { // the second open finds nothing to do
		s, err := Open(path)
		if err != nil {
			t.Fatalf("Open of an old database: %v", err)
		}
		if _, err := s.ListRestores(t.Context(), meta.RestoreFailed, 10); err != nil {
			t.Errorf("ListRestores after migration: %v", err)
		}
		s.Close()
	}
	db, _ = sql.Open("sqlite", "file:"+path)
	defer db.Close()
	if err := db.QueryRow(`PRAGMA user_version`).Scan(&v); err != nil || v != len(migrations) {
		t.Errorf("user_version %d, %v; want %d", v, err, len(migrations))
	}
}

// TestDueObjectsUsesIndex: finding due lifecycle work reads the partial
// index, not the objects table, so its cost does not grow with the
// number of objects that are not due.
func TestDueObjectsUsesIndex(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "meta.db"))
	for _, q := range []string{
		`EXPLAIN QUERY PLAN SELECT ` + objectCols + ` FROM objects WHERE lc_due > 0 AND lc_due <= 5 ORDER BY lc_due LIMIT 10`,
		`EXPLAIN QUERY PLAN SELECT COUNT(*), MIN(lc_due) FROM objects WHERE lc_due > 0 AND lc_due <= 5`,
	} {
		rows, err := s.r.Query(q)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, notused int
			var detail string
			if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		if got := fmt.Sprint(plan); !strings.Contains(got, "objects_lc_due") || strings.Contains(got, "SCAN objects") {
			t.Errorf("plan of %q: %s; want a search of objects_lc_due", q, got)
		}
	}
}
