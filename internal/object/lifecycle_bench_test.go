package object

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/firnhq/firn/internal/blob/fs"
	"github.com/firnhq/firn/internal/clock"
	"github.com/firnhq/firn/internal/meta"
	"github.com/firnhq/firn/internal/meta/sqlite"
)

// benchObjects is the population of the lifecycle benchmarks:
// FIRN_BENCH_OBJECTS, default 1,000,000.
func benchObjects(b *testing.B) int {
	if v := os.Getenv("FIRN_BENCH_OBJECTS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			b.Fatal(err)
		}
		return n
	}
	return 1_000_000
}

// lifecycleBench is a service over real stores holding n STANDARD
// objects of 200 KB (metadata only: a class change moves no bytes) in
// bucket "data", with a rule that moves them to STANDARD_IA at 30 days.
func lifecycleBench(b *testing.B, n int, rules string) (*Service, *clock.Fake, *sqlite.Store) {
	b.Helper()
	dir := b.TempDir()
	ms, err := sqlite.Open(filepath.Join(dir, "meta.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ms.Close() })
	hot, err := fs.Open(filepath.Join(dir, "hot"))
	if err != nil {
		b.Fatal(err)
	}
	clk := clock.NewFake(time.Date(2026, 1, 15, 2, 0, 0, 0, time.UTC))
	svc := New(Config{Meta: ms, Blobs: hot, Clock: clk})
	ctx := context.Background()
	if err := svc.CreateBucket(ctx, "data", "", "owner"); err != nil {
		b.Fatal(err)
	}
	if _, err := svc.PutBucketLifecycle(ctx, "data", []byte(rules), ""); err != nil {
		b.Fatal(err)
	}
	cfg, opt, err := svc.lifecycleFor(ctx, "data")
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	const writers = 32
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Go(func() {
			for i := w; i < n; i += writers {
				o := &meta.Object{Bucket: "data", Key: fmt.Sprintf("backups/%08d", i), VersionID: "null", Size: 200 << 10,
					ETag: fmt.Sprintf("%032x", i), LastModified: clk.Now(), StorageClass: Standard, Owner: "owner",
					Segments: []meta.Segment{{BlobID: fmt.Sprintf("%032x", i), Size: 200 << 10}}}
				o.LifecycleDue = nextDue(cfg, o, opt)
				if _, err := ms.PutObject(ctx, o, nil); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	b.Logf("setup: %d objects in %v", n, time.Since(start))
	return svc, clk, ms
}

// BenchmarkLifecycleClassChanges: every object falls due for a
// transition that moves no bytes (STANDARD to STANDARD_IA); one op
// applies them all. Reported as objects/s.
func BenchmarkLifecycleClassChanges(b *testing.B) {
	n := benchObjects(b)
	for range b.N {
		b.StopTimer()
		svc, clk, _ := lifecycleBench(b, n, `<LifecycleConfiguration><Rule><ID>ia</ID><Status>Enabled</Status><Filter><Prefix>backups/</Prefix></Filter>
			<Transition><Days>30</Days><StorageClass>STANDARD_IA</StorageClass></Transition></Rule></LifecycleConfiguration>`)
		clk.Advance(32 * 24 * time.Hour)
		b.StartTimer()
		done := 0
		for {
			res, err := svc.RunLifecycle(context.Background(), 1000)
			if err != nil {
				b.Fatal(err)
			}
			done += res.Transitioned
			if res.Applied()+res.Rescheduled == 0 {
				break
			}
		}
		b.StopTimer()
		if done != n {
			b.Fatalf("transitioned %d of %d", done, n)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "objects/s")
}

// BenchmarkLifecycleIdleDay: a 24-hour firn day of the engine with
// nothing due: the polls the server's loop makes in it (one a minute:
// RunLifecycle, the aborts of incomplete uploads, the reconciliation
// step) over n objects whose next action is a year away. Reported as
// CPU time per day.
func BenchmarkLifecycleIdleDay(b *testing.B) {
	n := benchObjects(b)
	svc, clk, _ := lifecycleBench(b, n, `<LifecycleConfiguration><Rule><ID>ia</ID><Status>Enabled</Status><Filter><Prefix>backups/</Prefix></Filter>
		<Transition><Days>365</Days><StorageClass>GLACIER</StorageClass></Transition>
		<AbortIncompleteMultipartUpload><DaysAfterInitiation>7</DaysAfterInitiation></AbortIncompleteMultipartUpload></Rule></LifecycleConfiguration>`)
	ctx := context.Background()
	// The configuration was put before the objects: finish its
	// reconciliation walk (it changes nothing) before measuring.
	for {
		seen, _, err := svc.ReconcileLifecycle(ctx, 100000)
		if err != nil {
			b.Fatal(err)
		}
		if seen == 0 {
			break
		}
	}
	b.ResetTimer()
	cpu0 := cpuTime()
	for range b.N {
		const polls = 24 * 60 // internal/app's loop looks once a minute on 24-hour days
		for range polls {
			clk.Advance(time.Minute)
			res, err := svc.RunLifecycle(ctx, 1000)
			if err != nil || res.Applied() != 0 {
				b.Fatalf("RunLifecycle: %+v, %v", res, err)
			}
			if _, err := svc.AbortExpiredUploads(ctx); err != nil {
				b.Fatal(err)
			}
			if _, _, err := svc.ReconcileLifecycle(ctx, 10000); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric((cpuTime()-cpu0).Seconds()/float64(b.N), "cpu-s/day")
}
