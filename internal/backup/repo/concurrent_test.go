package repo

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/firnhq/firn/internal/backup/backend/mem"
)

// slowBackend is a mem backend whose Puts take a while, counting how
// many run at once.
type slowBackend struct {
	*mem.Backend
	inFlight, most atomic.Int64
	fail           atomic.Bool
}

func (b *slowBackend) Put(ctx context.Context, name string, data []byte, class string) error {
	n := b.inFlight.Add(1)
	defer b.inFlight.Add(-1)
	for {
		m := b.most.Load()
		if n <= m || b.most.CompareAndSwap(m, n) {
			break
		}
	}
	time.Sleep(5 * time.Millisecond)
	if b.fail.Load() && name[:5] == "data/" {
		return errors.New("injected failure")
	}
	return b.Backend.Put(ctx, name, data, class)
}

// TestSaveBlobConcurrent: blobs saved from many goroutines at once, the
// same content from several of them, are stored once each, in packs
// that at most packsInMemory at a time are in memory (and so uploading),
// and read back from a fresh Repository.
func TestSaveBlobConcurrent(t *testing.T) {
	ctx := context.Background()
	be := &slowBackend{Backend: mem.New()}
	r := newRepo(t, be.Backend, 8<<10, "")
	r.be, r.DataStorageClass = be, "" // readable data packs
	const unique = 60
	var wg sync.WaitGroup
	ids := make([][]ID, 8)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 3 * unique / 2 {
				seed := uint64((g*7 + i) % unique)
				id, _, err := r.SaveBlob(ctx, DataBlob, randBytes(1000+int(seed)*37, seed))
				if err != nil {
					t.Error(err)
					return
				}
				ids[g] = append(ids[g], id)
			}
		}()
	}
	wg.Wait()
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	st := r.Stats()
	if st.BlobsNew != unique || st.PacksNew < 5 {
		t.Errorf("stats %+v, want %d new blobs in several packs", st, unique)
	}
	if most, limit := be.most.Load(), int64(packsInMemory(8<<10)); most > limit || most < 2 {
		t.Errorf("%d uploads at once, want 2 to %d", most, limit)
	}
	r2, err := Open(ctx, be, []byte("pw"), OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := r2.LoadIndex(ctx); err != nil {
		t.Fatal(err)
	}
	seen := map[ID]bool{}
	for _, p := range r2.Index().Packs() {
		for _, b := range p.Blobs {
			if seen[b.ID] {
				t.Errorf("blob %s stored twice", b.ID.Short())
			}
			seen[b.ID] = true
		}
	}
	if len(seen) != unique {
		t.Errorf("%d blobs in the index, want %d", len(seen), unique)
	}
	for g := range 8 {
		for i, id := range ids[g] {
			seed := uint64((g*7 + i) % unique)
			if b, err := r2.LoadBlob(ctx, DataBlob, id); err != nil || !bytes.Equal(b, randBytes(1000+int(seed)*37, seed)) {
				t.Fatalf("blob %s: %v", id.Short(), err)
			}
		}
	}
}

// TestUploadFailure: a failed background upload is returned by a later
// SaveBlob or by Flush, which writes no index.
func TestUploadFailure(t *testing.T) {
	ctx := context.Background()
	be := &slowBackend{Backend: mem.New()}
	r := newRepo(t, be.Backend, 4<<10, "")
	r.be = be
	be.fail.Store(true)
	var saveErr error
	for i := range 50 {
		if _, _, err := r.SaveBlob(ctx, DataBlob, randBytes(3000, uint64(i))); err != nil {
			saveErr = err
			break
		}
	}
	err := r.Flush(ctx)
	if err == nil {
		t.Fatal("Flush after a failed upload: no error")
	}
	if saveErr != nil && saveErr.Error() != err.Error() {
		t.Errorf("SaveBlob: %v; Flush: %v; want the same upload error", saveErr, err)
	}
	for _, n := range be.Names() {
		if n[:6] == "index/" {
			t.Errorf("%s written after a failed upload", n)
		}
	}
}

// TestDecodeBlobInPlace: the in-place decoding gives the plaintext of
// stored and compressed blobs and detects tampering.
func TestDecodeBlobInPlace(t *testing.T) {
	r := newRepo(t, mem.New(), 1<<20, "")
	for _, data := range [][]byte{randBytes(5000, 1), bytes.Repeat([]byte("firn "), 2000), {}} {
		id := r.key.BlobID(data)
		sealed := r.key.encode(nil, data)
		bad := append([]byte(nil), sealed...)
		bad[len(bad)/2] ^= 1
		got, err := r.DecodeBlobInPlace(id, sealed)
		if err != nil || !bytes.Equal(got, data) {
			t.Errorf("%d bytes: %v", len(data), err)
		}
		if _, err := r.DecodeBlobInPlace(id, bad); !errors.Is(err, ErrAuth) {
			t.Errorf("tampered: got %v, want ErrAuth", err)
		}
	}
	if _, err := r.DecodeBlobInPlace(ID{}, []byte("short")); !errors.Is(err, ErrAuth) {
		t.Errorf("short: got %v, want ErrAuth", err)
	}
}
