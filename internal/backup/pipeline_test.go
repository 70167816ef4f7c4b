package backup

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/firnhq/firn/internal/backup/backend"
	"github.com/firnhq/firn/internal/backup/backend/mem"
	"github.com/firnhq/firn/internal/backup/backuptest"
	"github.com/firnhq/firn/internal/backup/repo"
)

// manyFiles writes dirs directories of files of assorted sizes (empty,
// below a chunk, several chunks, several packs; some of them copies of
// others) under dir and returns their total size.
func manyFiles(t *testing.T, dir string, dirs, files int) int64 {
	t.Helper()
	var total int64
	for d := range dirs {
		for f := range files {
			n := (d*files + f) % 7
			size := []int{0, 100, 5 << 10, 70 << 10, 200 << 10, 300 << 10, 1}[n]
			data := backuptest.RandBytes(size, uint64(d*files+f)%40) // seeds repeat: duplicates
			p := filepath.Join(dir, fmt.Sprintf("d%02d", d), fmt.Sprintf("sub%d", f%3), fmt.Sprintf("f%03d", f))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, data, 0o644); err != nil {
				t.Fatal(err)
			}
			total += int64(size)
		}
	}
	return total
}

// TestRunManyFiles: with many files in flight at once, trees are the
// same from run to run (and so deduplicated), the statistics add up and
// the restore is byte for byte.
func TestRunManyFiles(t *testing.T) {
	src := filepath.Join(t.TempDir(), "src")
	total := manyFiles(t, src, 12, 25)
	f := newFixture(t, "")
	sn := f.run(t, RunOptions{Paths: []string{src}, Type: repo.TypeFull})
	st := sn.Stats
	if st.Files != 12*25 || st.FilesNew != st.Files || st.BytesTotal != total || st.BytesRead != total || st.Errors != 0 || st.PacksNew < 3 {
		t.Errorf("first run: %+v (want %d files, %d bytes)", st, 12*25, total)
	}
	sn2 := f.run(t, RunOptions{Paths: []string{src}, Type: repo.TypeFull})
	if got, want := subtreeOf(t, f.r, sn2, src), subtreeOf(t, f.r, sn, src); got != want {
		t.Errorf("second full run: source tree %s, want %s", got.Short(), want.Short())
	}
	if sn2.Stats.BytesNew > 4096 || sn2.Stats.BytesRead != total {
		t.Errorf("second full run: %+v", sn2.Stats)
	}
	f.reopen(t)
	target := t.TempDir()
	if _, err := Restore(context.Background(), f.r, sn2, RestoreOptions{Target: target}); err != nil {
		t.Fatal(err)
	}
	backuptest.SameTree(t, src, filepath.Join(target, src))
}

// TestRunUnreadableFile: a file that cannot be read is left out of the
// snapshot and reported; the rest is saved.
func TestRunUnreadableFile(t *testing.T) {
	// Reading a process's memory at offset 0 fails (nothing is mapped
	// there), for root too.
	mem := fmt.Sprintf("/proc/%d/mem", os.Getpid())
	if fi, err := os.Lstat(mem); err != nil || !fi.Mode().IsRegular() {
		t.Skip("no /proc/PID/mem here")
	}
	src := t.TempDir()
	os.WriteFile(filepath.Join(src, "ok"), backuptest.RandBytes(50<<10, 1), 0o644)
	f := newFixture(t, "")
	f.reopen(t)
	sn, err := Run(context.Background(), f.r, RunOptions{Paths: []string{src, mem}, Host: "h", ChunkSizes: smallChunks})
	var pe *PartialError
	if !errors.As(err, &pe) || len(pe.Failed) != 1 || !strings.HasPrefix(pe.Failed[0], mem+": ") {
		t.Fatalf("got %v, want a PartialError for %s", err, mem)
	}
	if sn == nil || sn.Stats.Files != 1 || sn.Stats.Errors != 1 || sn.Stats.BytesTotal != 50<<10 {
		t.Fatalf("snapshot %+v", sn)
	}
	dir, _ := filepath.Split(mem)
	tr, err := f.r.LoadTree(context.Background(), subtreeOf(t, f.r, sn, filepath.Clean(dir)))
	if err != nil || tr.Find("mem") != nil {
		t.Errorf("the unreadable file is in the snapshot: %v", err)
	}
}

// failingBackend fails every Put of a data pack once armed.
type failingBackend struct {
	*mem.Backend
	armed atomic.Bool
}

var errUpload = errors.New("injected upload failure")

func (b *failingBackend) Put(ctx context.Context, name string, data []byte, class string) error {
	if b.armed.Load() && strings.HasPrefix(name, "data/") {
		return errUpload
	}
	return b.Backend.Put(ctx, name, data, class)
}

// TestRunUploadFails: a failed upload fails the run with its error, and
// no snapshot is saved; the goroutines end.
func TestRunUploadFails(t *testing.T) {
	src := filepath.Join(t.TempDir(), "src")
	manyFiles(t, src, 4, 10)
	be := &failingBackend{Backend: mem.New()}
	ctx := context.Background()
	if _, err := repo.Init(ctx, be, []byte("pw"), repo.InitOptions{PackSize: 64 << 10, KDF: repo.KDFParams{N: 1024, R: 8, P: 1}}); err != nil {
		t.Fatal(err)
	}
	r, err := repo.Open(ctx, be, []byte("pw"), repo.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.LoadIndex(ctx); err != nil {
		t.Fatal(err)
	}
	be.armed.Store(true)
	before := runtime.NumGoroutine()
	if _, err := Run(ctx, r, RunOptions{Paths: []string{src}, Host: "h", ChunkSizes: smallChunks}); !errors.Is(err, errUpload) {
		t.Fatalf("Run: got %v, want the upload error", err)
	}
	for _, n := range be.Names() {
		if strings.HasPrefix(n, "snapshots/") || strings.HasPrefix(n, "index/") {
			t.Errorf("%s written after a failed upload", n)
		}
	}
	waitGoroutines(t, before)
}

// TestRunCanceled: canceling the context stops a run with its error.
func TestRunCanceled(t *testing.T) {
	src := filepath.Join(t.TempDir(), "src")
	manyFiles(t, src, 6, 20)
	f := newFixture(t, "")
	f.reopen(t)
	before := runtime.NumGoroutine()
	ctx, cancel := context.WithCancel(context.Background())
	var once sync.Once
	p := &Progress{}
	go func() {
		for p.Files.Load() < 10 {
			time.Sleep(time.Millisecond)
		}
		once.Do(cancel)
	}()
	_, err := Run(ctx, f.r, RunOptions{Paths: []string{src}, Host: "h", ChunkSizes: smallChunks, Progress: p})
	once.Do(cancel)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Run: got %v, want context.Canceled", err)
	}
	waitGoroutines(t, before)
}

// waitGoroutines fails t unless the goroutines started since there were
// n drop back (the uploads of a failed run included).
func waitGoroutines(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > n+1 { // +1: the canceling goroutine may still be finishing
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines left running, %d before:\n%s", runtime.NumGoroutine(), n, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// intoBackend is a mem backend that can read into a caller's buffer, as
// the s3 one does, scribbling over the buffer first: a restore that
// reused a pack's buffer while its blobs were still being written would
// restore garbage.
type intoBackend struct {
	*mem.Backend
	gets atomic.Int64
}

func (b *intoBackend) GetInto(ctx context.Context, name string, off, length int64, buf []byte) ([]byte, error) {
	b.gets.Add(1)
	data, err := b.Get(ctx, name, off, length)
	if err != nil {
		return nil, err
	}
	if cap(buf) < len(data) {
		buf = make([]byte, len(data))
	}
	buf = buf[:len(data)]
	for i := range buf {
		buf[i] = 0xA5
	}
	copy(buf, data)
	return buf, nil
}

var _ backend.Backend = (*intoBackend)(nil)

// TestRestoreReusesBuffers: restoring many packs through reused buffers
// is byte for byte; a tampered pack still fails with ErrAuth.
func TestRestoreReusesBuffers(t *testing.T) {
	src := filepath.Join(t.TempDir(), "src")
	manyFiles(t, src, 8, 20)
	ctx := context.Background()
	be := &intoBackend{Backend: mem.New()}
	if _, err := repo.Init(ctx, be, []byte("pw"), repo.InitOptions{PackSize: 96 << 10, KDF: repo.KDFParams{N: 1024, R: 8, P: 1}}); err != nil {
		t.Fatal(err)
	}
	open := func() *repo.Repository {
		r, err := repo.Open(ctx, be, []byte("pw"), repo.OpenOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.LoadIndex(ctx); err != nil {
			t.Fatal(err)
		}
		return r
	}
	sn, err := Run(ctx, open(), RunOptions{Paths: []string{src}, Host: "h", ChunkSizes: smallChunks})
	if err != nil {
		t.Fatal(err)
	}
	target := t.TempDir()
	plan, err := Restore(ctx, open(), sn, RestoreOptions{Target: target})
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Packs) < 3*restorePacksInMemory || be.gets.Load() < int64(len(plan.Packs)) {
		t.Errorf("%d packs, %d GetInto calls: the test needs more packs than buffers", len(plan.Packs), be.gets.Load())
	}
	backuptest.SameTree(t, src, filepath.Join(target, src))

	var pack string
	for _, n := range be.Names() {
		if strings.HasPrefix(n, "data/") {
			pack = n
		}
	}
	be.Mutate(pack, func(b []byte) []byte { b[len(b)/3] ^= 1; return b })
	if _, err := Restore(ctx, open(), sn, RestoreOptions{Target: t.TempDir()}); !errors.Is(err, repo.ErrAuth) {
		t.Errorf("restore of a tampered pack: got %v, want ErrAuth", err)
	}
}
