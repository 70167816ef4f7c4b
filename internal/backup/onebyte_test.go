package backup

import (
	"context"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/firnhq/firn/internal/backup/chunker"
	"github.com/firnhq/firn/internal/backup/repo"
)

// TestOneByteChange1GiB: after a byte in the middle of a 1 GiB file
// changes, the next backup stores about one chunk (the chunk holding the
// byte, at most its neighbour too when a boundary moves), with the
// default chunk sizes (about 1 MiB on average, 8 MiB at most).
func TestOneByteChange1GiB(t *testing.T) {
	if testing.Short() {
		t.Skip("1 GiB backup: skipped with -short")
	}
	if raceEnabled {
		t.Skip("1 GiB backup: too big for the race detector's memory; make test runs it without -race")
	}
	const size = 1 << 30
	dir := t.TempDir()
	path := filepath.Join(dir, "big.img")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.NewChaCha8([32]byte{1, 2, 3})
	if _, err := io.CopyN(f, rng, size); err != nil {
		t.Fatal(err)
	}
	f.Close()
	fx := newFixture(t, "")
	run := func(typ string) *repo.Snapshot {
		t.Helper()
		fx.reopen(t)
		sn, err := Run(context.Background(), fx.r, RunOptions{Paths: []string{dir}, Type: typ, Host: "testhost"})
		if err != nil {
			t.Fatal(err)
		}
		return sn
	}
	first := run(repo.TypeFull)
	if first.Stats.BytesNew < size {
		t.Fatalf("first backup stored %d new bytes of a %d-byte random file", first.Stats.BytesNew, size)
	}
	f, err = os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	var b [1]byte
	f.ReadAt(b[:], size/2)
	b[0]++
	if _, err := f.WriteAt(b[:], size/2); err != nil {
		t.Fatal(err)
	}
	f.Close()
	second := run(repo.TypeIncremental)
	st := second.Stats
	t.Logf("after a one-byte change: read %d bytes, %d new blobs, %d new plaintext bytes, %d bytes stored",
		st.BytesRead, st.BlobsNew, st.BytesNew, st.BytesStored)
	if st.BytesRead != size {
		t.Errorf("the changed file was not read again: %d bytes read", st.BytesRead)
	}
	// The data chunk(s) around the byte, plus the trees of the changed
	// directories (small).
	if st.BytesNew > 2*chunker.MaxSize+64<<10 {
		t.Errorf("a one-byte change stored %d new bytes, more than two chunks", st.BytesNew)
	}
}
