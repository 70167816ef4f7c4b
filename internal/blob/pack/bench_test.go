package pack

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Benchmarks of the archive against the disk. They write to
// $FIRN_BENCH_DIR (default: the test's temporary directory) and evict
// the shard files from the page cache before reads (fadvise DONTNEED on
// Linux), so that restores read the disk, as dd iflag=direct does.
//
//	go test ./internal/blob/pack -run '^$' -bench . -benchtime 10x

func benchConfig(b *testing.B) Config {
	b.Helper()
	root := b.TempDir()
	if d := os.Getenv("FIRN_BENCH_DIR"); d != "" {
		var err error
		root, err = os.MkdirTemp(d, "packbench")
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { os.RemoveAll(root) })
	}
	var dirs []string
	for i := range 6 {
		dirs = append(dirs, filepath.Join(root, fmt.Sprintf("disk%d", i)))
	}
	return Config{StateDir: filepath.Join(root, "state"), Dirs: dirs}
}

// evict drops the page cache of every file under the archive dirs.
func evict(b *testing.B, cfg Config) {
	b.Helper()
	for _, path := range shardFiles(b, cfg) {
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		fadviseDontNeed(f)
		f.Close()
	}
}

func fadviseDontNeed(f *os.File) {
	const posixFadvDontneed = 4
	syscall.Syscall6(syscall.SYS_FADVISE64, f.Fd(), 0, 0, posixFadvDontneed, 0, 0)
}

const bigObject = 64 << 20

// BenchmarkArchiveWrite: Commit of a 64 MiB incompressible object and
// the seal of its pack (shards written and fsynced), in MB/s of object
// bytes. The disk writes 2.5 times as much: the journal, then the data
// and parity shards (4+2).
func BenchmarkArchiveWrite(b *testing.B) {
	cfg := benchConfig(b)
	s := openStore(b, cfg)
	data := randBytes(bigObject, 1)
	b.SetBytes(bigObject)
	b.ResetTimer()
	for range b.N {
		w, err := s.Create(b.Context())
		if err != nil {
			b.Fatal(err)
		}
		if _, err := w.Write(data); err != nil {
			b.Fatal(err)
		}
		if err := w.Commit(b.Context()); err != nil {
			b.Fatal(err)
		}
		if err := s.Flush(b.Context()); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRestoreRead: reading back 64 MiB objects from sealed packs
// whose shards are not in the page cache, in MB/s.
func BenchmarkRestoreRead(b *testing.B) {
	cfg := benchConfig(b)
	s := openStore(b, cfg)
	const n = 4
	var ids []string
	for i := range n {
		ids = append(ids, put(b, s, Label{}, randBytes(bigObject, uint64(i))))
	}
	if err := s.Flush(b.Context()); err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 1<<20)
	b.SetBytes(bigObject)
	b.ResetTimer()
	for i := range b.N {
		if i%n == 0 {
			b.StopTimer()
			evict(b, cfg)
			b.StartTimer()
		}
		r, err := s.Open(b.Context(), ids[i%n], 0, -1)
		if err != nil {
			b.Fatal(err)
		}
		got, err := io.CopyBuffer(io.Discard, r, buf)
		r.Close()
		if err != nil || got != bigObject {
			b.Fatalf("read %d bytes, %v", got, err)
		}
	}
}

// smallFix is the fixture of the RestoreSmall benchmarks: 10,000 objects
// of 4 KiB in sealed packs, written once per process.
type smallFix struct {
	once sync.Once
	root string
	cfg  Config
	s    *Store
	ids  []string
	err  error
	took time.Duration
}

var smallFixture smallFix

// TestMain removes the fixture that BenchmarkRestoreSmall keeps across
// its runs.
func TestMain(m *testing.M) {
	code := m.Run()
	if f := &smallFixture; f.s != nil {
		f.s.Close()
		os.RemoveAll(f.root)
	}
	os.Exit(code)
}

// smallSetup writes the shared fixture of the RestoreSmall benchmarks
// once.
func smallSetup(b *testing.B) *smallFix {
	const count, size = 10000, 4 << 10
	f := &smallFixture
	f.once.Do(func() {
		root, err := os.MkdirTemp(os.Getenv("FIRN_BENCH_DIR"), "packbench-small")
		if err != nil {
			f.err = err
			return
		}
		f.root = root
		var dirs []string
		for i := range 6 {
			dirs = append(dirs, filepath.Join(root, fmt.Sprintf("disk%d", i)))
		}
		f.cfg = Config{StateDir: filepath.Join(root, "state"), Dirs: dirs}
		f.s, f.err = Open(f.cfg)
		if f.err != nil {
			return
		}
		start := time.Now()
		f.ids = make([]string, count)
		var wg sync.WaitGroup
		const writers = 16
		errs := make([]error, writers)
		for g := range writers {
			wg.Go(func() {
				for i := g; i < count; i += writers {
					w, err := f.s.Create(context.Background())
					if err == nil {
						w.Write(randBytes(size, uint64(i)))
						err = w.Commit(context.Background())
					}
					if err != nil {
						errs[g] = err
						return
					}
					f.ids[i] = w.ID()
				}
			})
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil && f.err == nil {
				f.err = err
			}
		}
		if f.err == nil {
			f.err = f.s.Flush(context.Background())
		}
		f.took = time.Since(start)
	})
	if f.err != nil {
		b.Fatal(f.err)
	}
	return f
}

// BenchmarkRestoreSmall: the time to read back 10,000 objects of 4 KiB
// that share packs (one op reads all of them, in commit order, one Open
// each), with the shards out of the page cache.
func BenchmarkRestoreSmall(b *testing.B) {
	const count, size = 10000, 4 << 10
	f := smallSetup(b)
	b.Logf("setup: %d commits of 4 KiB by 16 writers and the seal: %v", count, f.took)
	buf := make([]byte, size)
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		evict(b, f.cfg)
		b.StartTimer()
		for _, id := range f.ids {
			r, err := f.s.Open(b.Context(), id, 0, -1)
			if err != nil {
				b.Fatal(err)
			}
			n, err := io.ReadFull(r, buf)
			if err != nil || n != size {
				b.Fatal(err)
			}
			if _, err := r.Read(buf[:1]); err != io.EOF {
				b.Fatalf("end of object: %v", err)
			}
			r.Close()
		}
	}
	b.ReportMetric(float64(count)*float64(b.N)/b.Elapsed().Seconds(), "objects/s")
}

// BenchmarkRestoreSmallBatch reads the same 10,000 objects with
// ReadBatch, as the restore worker does, from cold files.
func BenchmarkRestoreSmallBatch(b *testing.B) {
	const count, size = 10000, 4 << 10
	f := smallSetup(b)
	buf := make([]byte, size)
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		evict(b, f.cfg)
		b.StartTimer()
		n := 0
		err := f.s.ReadBatch(b.Context(), f.ids, func(id string, r io.Reader) error {
			if _, err := io.ReadFull(r, buf); err != nil {
				return err
			}
			if _, err := r.Read(buf[:1]); err != io.EOF {
				return fmt.Errorf("end of object %s: %v", id, err)
			}
			n++
			return nil
		})
		if err != nil || n != count {
			b.Fatalf("ReadBatch: %v after %d objects", err, n)
		}
	}
	b.ReportMetric(float64(count)*float64(b.N)/b.Elapsed().Seconds(), "objects/s")
}
