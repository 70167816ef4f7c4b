package repo

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/firnhq/firn/internal/backup/backend/mem"
)

var testKDF = KDFParams{N: 1024, R: 8, P: 1}

func randBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func TestSealTamper(t *testing.T) {
	k, err := NewKey()
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte("attack at dawn")
	sealed := k.Seal(nil, msg)
	if len(sealed) != len(msg)+Overhead {
		t.Errorf("sealed length %d, want %d", len(sealed), len(msg)+Overhead)
	}
	if got, err := k.Open(sealed); err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("Open: %q, %v", got, err)
	}
	for i := range sealed {
		bad := append([]byte(nil), sealed...)
		bad[i] ^= 0x01
		if _, err := k.Open(bad); !errors.Is(err, ErrAuth) {
			t.Fatalf("bit flipped at %d: got %v, want ErrAuth", i, err)
		}
	}
	for _, bad := range [][]byte{nil, sealed[:Overhead-1], sealed[:len(sealed)-1]} {
		if _, err := k.Open(bad); !errors.Is(err, ErrAuth) {
			t.Errorf("truncated to %d: got %v, want ErrAuth", len(bad), err)
		}
	}
	other, _ := NewKey()
	if _, err := other.Open(sealed); !errors.Is(err, ErrAuth) {
		t.Errorf("other key: got %v, want ErrAuth", err)
	}
}

func TestBlobIDKeyed(t *testing.T) {
	k1, _ := NewKey()
	k2, _ := NewKey()
	data := []byte("same content")
	if k1.BlobID(data) != k1.BlobID(data) {
		t.Error("BlobID is not deterministic")
	}
	if k1.BlobID(data) == k2.BlobID(data) {
		t.Error("two keys give the same BlobID: ids would leak content")
	}
	if k1.BlobID(data) == Hash(data) {
		t.Error("BlobID is the plain SHA-256")
	}
}

func TestKeyFile(t *testing.T) {
	k, _ := NewKey()
	kf, err := WrapKey(k, []byte("secret"), testKDF, "h", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	got, err := kf.Unwrap([]byte("secret"))
	if err != nil || !bytes.Equal(got.Encrypt, k.Encrypt) || !bytes.Equal(got.MAC, k.MAC) {
		t.Fatalf("Unwrap: %v", err)
	}
	if _, err := kf.Unwrap([]byte("Secret")); !errors.Is(err, ErrAuth) {
		t.Errorf("wrong password: got %v, want ErrAuth", err)
	}
}

func TestEncodeCompresses(t *testing.T) {
	k, _ := NewKey()
	for _, data := range [][]byte{nil, bytes.Repeat([]byte("abc"), 100000), randBytes(100000, 1)} {
		sealed := k.encode(nil, data)
		if len(data) > 1000 && bytes.Count(data, []byte("abc")) > 1000 && len(sealed) > len(data)/10 {
			t.Errorf("compressible %d bytes sealed to %d", len(data), len(sealed))
		}
		if len(sealed) > len(data)+Overhead+1 {
			t.Errorf("%d bytes sealed to %d: incompressible data must not grow beyond the overhead", len(data), len(sealed))
		}
		got, err := k.decode(sealed)
		if err != nil || !bytes.Equal(got, data) {
			t.Errorf("decode: %v", err)
		}
	}
}

func TestPackRoundTrip(t *testing.T) {
	k, _ := NewKey()
	p := &packer{typ: DataBlob}
	var blobs [][]byte
	for i := range 5 {
		data := randBytes(1000*(i+1), uint64(i))
		blobs = append(blobs, data)
		before := len(p.buf)
		p.buf = k.encode(p.buf, data)
		p.blobs = append(p.blobs, PackedBlob{ID: k.BlobID(data), Offset: uint32(before), Length: uint32(len(p.buf) - before), RawLength: uint32(len(data))})
	}
	want := append([]PackedBlob(nil), p.blobs...)
	pack := p.finish(k)
	typ, got, err := ReadPackHeader(k, pack)
	if err != nil || typ != DataBlob {
		t.Fatalf("ReadPackHeader: %v, %v", typ, err)
	}
	if len(got) != len(want) {
		t.Fatalf("got %d blobs, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Errorf("blob %d: got %+v, want %+v", i, got[i], want[i])
		}
		plain, err := k.decode(pack[got[i].Offset : got[i].Offset+got[i].Length])
		if err != nil || !bytes.Equal(plain, blobs[i]) {
			t.Errorf("blob %d: %v", i, err)
		}
	}
	bad := append([]byte(nil), pack...)
	bad[len(bad)-10] ^= 1
	if _, _, err := ReadPackHeader(k, bad); !errors.Is(err, ErrAuth) {
		t.Errorf("tampered header: got %v, want ErrAuth", err)
	}
	if _, _, err := ReadPackHeader(k, pack[:3]); err == nil {
		t.Error("short pack: no error")
	}
}

func FuzzReadPackHeader(f *testing.F) {
	k := &Key{Encrypt: make([]byte, 32), MAC: make([]byte, 32)}
	p := &packer{typ: TreeBlob}
	p.buf = k.encode(p.buf, []byte("x"))
	p.blobs = []PackedBlob{{ID: k.BlobID([]byte("x")), Length: uint32(len(p.buf)), RawLength: 1}}
	f.Add(p.finish(k))
	f.Add([]byte{0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		ReadPackHeader(k, b) // must not panic
	})
}

func newRepo(t *testing.T, be *mem.Backend, packSize int64, cacheDir string) *Repository {
	t.Helper()
	ctx := context.Background()
	if _, err := Init(ctx, be, []byte("pw"), InitOptions{PackSize: packSize, KDF: testKDF, DataStorageClass: "GLACIER"}); err != nil {
		t.Fatal(err)
	}
	r, err := Open(ctx, be, []byte("pw"), OpenOptions{CacheDir: cacheDir})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestInitOpen(t *testing.T) {
	ctx := context.Background()
	be := mem.New()
	newRepo(t, be, 4096, t.TempDir())
	if _, err := Init(ctx, be, []byte("pw"), InitOptions{KDF: testKDF}); !errors.Is(err, ErrExists) {
		t.Errorf("second Init: got %v, want ErrExists", err)
	}
	if _, err := Open(ctx, be, []byte("nope"), OpenOptions{}); !errors.Is(err, ErrWrongPassword) {
		t.Errorf("wrong password: got %v, want ErrWrongPassword", err)
	}
	if _, err := Open(ctx, mem.New(), []byte("pw"), OpenOptions{}); !errors.Is(err, ErrNoRepository) {
		t.Errorf("empty backend: got %v, want ErrNoRepository", err)
	}
	be.Mutate("config", func(b []byte) []byte { b[30] ^= 1; return b })
	if _, err := Open(ctx, be, []byte("pw"), OpenOptions{}); !errors.Is(err, ErrAuth) {
		t.Errorf("tampered config: got %v, want ErrAuth", err)
	}
}

// TestBlobsIndexSnapshots: blobs saved are deduplicated, packed, indexed
// and read back by a second Repository from the index files; data packs
// get the data class, tree packs and metadata stay STANDARD; a warm cache
// makes the second open read nothing but listings.
func TestBlobsIndexSnapshots(t *testing.T) {
	ctx := context.Background()
	be := mem.New()
	cacheDir := t.TempDir()
	r := newRepo(t, be, 4096, cacheDir)
	var ids []ID
	for i := range 20 {
		id, isNew, err := r.SaveBlob(ctx, DataBlob, randBytes(1000, uint64(i%10)))
		if err != nil {
			t.Fatal(err)
		}
		if isNew != (i < 10) {
			t.Errorf("blob %d: new %v, want %v", i, isNew, i < 10)
		}
		ids = append(ids, id)
	}
	treeID, err := r.SaveTree(ctx, &Tree{Nodes: []*Node{{Name: "f", Type: NodeFile, Content: ids[:3]}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := r.SaveSnapshot(ctx, &Snapshot{Time: time.Now(), Host: "h", Paths: []string{"/x"}, Type: TypeFull, Tree: treeID}); err != nil {
		t.Fatal(err)
	}
	if got := r.Stats().BlobsNew; got != 11 {
		t.Errorf("BlobsNew: got %d, want 11", got)
	}
	for _, name := range be.Names() {
		fi, _ := be.Head(ctx, name)
		wantClass := ""
		if name[:5] == "data/" {
			wantClass = "GLACIER"
		}
		if fi.StorageClass != wantClass {
			t.Errorf("%s: class %q, want %q", name, fi.StorageClass, wantClass)
		}
	}

	r2, err := Open(ctx, be, []byte("pw"), OpenOptions{CacheDir: cacheDir})
	if err != nil {
		t.Fatal(err)
	}
	gets := be.Calls("Get")
	if err := r2.LoadIndex(ctx); err != nil {
		t.Fatal(err)
	}
	sns, err := r2.Snapshots(ctx)
	if err != nil || len(sns) != 1 {
		t.Fatalf("Snapshots: %d, %v", len(sns), err)
	}
	tree, err := r2.LoadTree(ctx, sns[0].Tree)
	if err != nil || tree.Find("f") == nil {
		t.Fatalf("LoadTree: %v", err)
	}
	if n := be.Calls("Get") - gets; n != 0 {
		t.Errorf("with a warm cache: %d GETs, want 0", n)
	}
	for i, id := range ids {
		if !r2.Index().Has(DataBlob, id) {
			t.Errorf("blob %d not in the loaded index", i)
		}
	}
	// Data blobs sit in GLACIER: reading one needs a restore.
	if _, err := r2.LoadBlob(ctx, DataBlob, ids[0]); err == nil {
		t.Error("LoadBlob of an archived data blob: no error")
	}
	loc, _ := r2.Index().Lookup(DataBlob, ids[0])
	be.Restore(ctx, loc.Pack.Name(), 1, "Bulk")
	got, err := r2.LoadBlob(ctx, DataBlob, ids[0])
	if err != nil || !bytes.Equal(got, randBytes(1000, 0)) {
		t.Errorf("LoadBlob after restore: %v", err)
	}
	data, err := r2.ReadPack(ctx, loc.Pack)
	if err != nil {
		t.Fatal(err)
	}
	if err := r2.CheckPack(loc.Pack, data); err != nil {
		t.Errorf("CheckPack: %v", err)
	}
	data[loc.Offset+5] ^= 1
	if err := r2.CheckPack(loc.Pack, data); !errors.Is(err, ErrAuth) {
		t.Errorf("CheckPack of a tampered pack: got %v, want ErrAuth", err)
	}
}

func TestFindSnapshot(t *testing.T) {
	a := &Snapshot{ID: ID{0xab, 0x01}}
	b := &Snapshot{ID: ID{0xab, 0x02}}
	sns := []*Snapshot{a, b}
	for _, tc := range []struct {
		q    string
		want *Snapshot
	}{{"ab01", a}, {"AB02", b}, {"latest", b}, {"ab", nil}, {"cd", nil}, {"", nil}} {
		got, err := FindSnapshot(sns, tc.q)
		if got != tc.want || (tc.want == nil) != (err != nil) {
			t.Errorf("FindSnapshot(%q): got %v, %v; want %v", tc.q, got, err, tc.want)
		}
	}
}
