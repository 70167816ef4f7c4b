package object

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/firnhq/firn/internal/clock"
	"github.com/firnhq/firn/internal/sse"
)

// newSSEFixture is newFixture with SSE-S3 master keys.
func newSSEFixture(t *testing.T) *fixture {
	t.Helper()
	keys, err := sse.ParseKeyring([]byte(sse.GenerateKeyLine("k1")))
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, dir: t.TempDir(), clock: clock.NewFake(time.Date(2026, 3, 10, 10, 30, 0, 0, time.UTC))}
	f.tune = func(c *Config) { c.Keys = keys }
	f.open()
	t.Cleanup(func() { f.meta.Close() })
	for _, b := range []string{"data", "trash"} {
		if err := f.svc.CreateBucket(context.Background(), b, "", "owner"); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// marked returns n bytes of a recognisable pattern.
func marked(n int) []byte {
	return []byte(strings.Repeat("PLAINTEXT-MARKER-", n/17+1))[:n]
}

// grepDir reports the files under dir that hold needle.
func grepDir(t *testing.T, dir string, needle []byte) []string {
	t.Helper()
	var hits []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err == nil && bytes.Contains(b, needle) {
			hits = append(hits, p)
		}
		return nil
	})
	return hits
}

func (f *fixture) getWith(in GetInput) ([]byte, error) {
	_, rd, err := f.svc.GetObject(context.Background(), in)
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	return io.ReadAll(rd)
}

// TestEncryptedObjectsEverywhere: with master keys every new object is
// encrypted (SSE-S3 by default, SSE-C on request), reads and ranges
// return the plaintext, transitions to the archive and restores move the
// ciphertext, and no byte of plaintext reaches the disk.
func TestEncryptedObjectsEverywhere(t *testing.T) {
	ctx := context.Background()
	f := newSSEFixture(t)
	f.putLifecycle("data", `<LifecycleConfiguration><Rule><ID>cold</ID><Status>Enabled</Status><Filter><Prefix>big</Prefix></Filter>
		<Transition><Days>1</Days><StorageClass>GLACIER</StorageClass></Transition></Rule></LifecycleConfiguration>`)
	body := marked(300 << 10)
	small := marked(600) // inline in metadata
	o := f.put("data", "big", Standard, body)
	if o.Encryption == nil || o.Encryption.Algorithm != SSEAES256 || o.Encryption.KeyID != "k1" {
		t.Fatalf("default encryption: %+v", o.Encryption)
	}
	f.put("data", "small", Standard, small)
	for _, r := range []Range{{First: 0, Last: 0}, {First: 65535, Last: 65537}, {First: 100, Last: 200000}, {Suffix: 70000}, {First: 300<<10 - 1, Last: -1}} {
		got, err := f.getWith(GetInput{Bucket: "data", Key: "big", Range: &r})
		off, n, _ := r.resolve(int64(len(body)))
		if err != nil || !bytes.Equal(got, body[off:off+n]) {
			t.Fatalf("range %+v: %d bytes, %v", r, len(got), err)
		}
	}
	if got, err := f.get("data", "small"); err != nil || !bytes.Equal(got, small) {
		t.Fatalf("small inline object: %q %v", got, err)
	}

	// SSE-C: the key is needed for every read, and only that key works.
	ck := sse.NewKey()
	oc, err := f.svc.PutObject(ctx, PutInput{Bucket: "data", Key: "cust", Owner: "owner", Body: bytes.NewReader(body),
		Size: int64(len(body)), StorageClass: Glacier, SSE: SSE{CustomerKey: ck}})
	if err != nil || oc.Encryption.Algorithm != sseC || oc.Encryption.CustomerKeyMD5 != sse.KeyMD5(ck) {
		t.Fatalf("SSE-C put: %+v %v", oc, err)
	}
	if _, err := f.svc.HeadObject(ctx, GetInput{Bucket: "data", Key: "cust"}); !errors.Is(err, ErrSSECRequired) {
		t.Errorf("HEAD without the key: %v", err)
	}
	if _, err := f.svc.HeadObject(ctx, GetInput{Bucket: "data", Key: "cust", CustomerKey: sse.NewKey()}); !errors.Is(err, ErrSSECKeyMismatch) {
		t.Errorf("HEAD with another key: %v", err)
	}
	if _, err := f.svc.HeadObject(ctx, GetInput{Bucket: "data", Key: "big", CustomerKey: ck}); !errors.Is(err, ErrSSECNotApplicable) {
		t.Errorf("SSE-C key on an SSE-S3 object: %v", err)
	}

	// Lifecycle moves SSE-S3 bytes to the archive without decrypting;
	// a restore copies them back; both read back after the restore.
	f.clock.Advance(3 * 24 * time.Hour)
	if res := f.runLifecycle(); res.Transitioned != 1 {
		t.Fatalf("transition: %+v", res)
	}
	if h := f.head("data", "big"); h.StorageClass != Glacier || h.Segments[0].Tier != ArchiveTier || h.Encryption == nil {
		t.Fatalf("after transition: %s %+v %+v", h.StorageClass, h.Segments, h.Encryption)
	}
	for _, k := range []string{"big", "cust"} {
		if _, err := f.restore(k, 1, TierExpedited); err != nil {
			t.Fatalf("restore %s: %v", k, err)
		}
	}
	f.clock.Advance(6 * time.Hour)
	if n := f.run(); n != 2 {
		t.Fatalf("restores done: %d, want 2", n)
	}
	if got, err := f.get("data", "big"); err != nil || !bytes.Equal(got, body) {
		t.Fatalf("restored SSE-S3 object: %d bytes, %v", len(got), err)
	}
	got, err := f.getWith(GetInput{Bucket: "data", Key: "cust", CustomerKey: ck, Range: &Range{First: 70000, Last: 140000}})
	if err != nil || !bytes.Equal(got, body[70000:140001]) {
		t.Fatalf("restored SSE-C object range: %d bytes, %v", len(got), err)
	}

	// A multipart object: each part its own stream; ranges cross parts.
	u, err := f.svc.CreateMultipartUpload(ctx, CreateUploadInput{Bucket: "data", Key: "mp", Owner: "owner"})
	if err != nil || u.Template.Encryption == nil {
		t.Fatalf("CreateMultipartUpload: %+v %v", u.Template.Encryption, err)
	}
	partA, partB := marked(MinPartSize), marked(200<<10)
	var parts []CompletedPart
	for i, p := range [][]byte{partA, partB} {
		pt, err := f.svc.UploadPart(ctx, UploadPartInput{Bucket: "data", Key: "mp", UploadID: u.ID, PartNumber: i + 1, Body: bytes.NewReader(p), Size: int64(len(p))})
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, CompletedPart{Number: i + 1, ETag: pt.ETag})
	}
	if _, err := f.svc.CompleteMultipartUpload(ctx, CompleteInput{Bucket: "data", Key: "mp", UploadID: u.ID, Parts: parts}); err != nil {
		t.Fatal(err)
	}
	whole := append(append([]byte{}, partA...), partB...)
	r := Range{First: int64(len(partA)) - 1000, Last: int64(len(partA)) + 70000}
	if got, err := f.getWith(GetInput{Bucket: "data", Key: "mp", Range: &r}); err != nil || !bytes.Equal(got, whole[r.First:r.Last+1]) {
		t.Fatalf("multipart range across parts: %d bytes, %v", len(got), err)
	}

	// Copies: SSE-C source to an SSE-S3 copy.
	if _, err := f.svc.CopyObject(ctx, CopyInput{SrcBucket: "data", SrcKey: "cust", Bucket: "data", Key: "copy", Owner: "owner"}); !errors.Is(err, ErrSSECRequired) {
		t.Errorf("copy of an SSE-C source without its key: %v", err)
	}
	cp, err := f.svc.CopyObject(ctx, CopyInput{SrcBucket: "data", SrcKey: "cust", SrcCustomerKey: ck, Bucket: "data", Key: "copy", Owner: "owner"})
	if err != nil || cp.Encryption == nil || cp.Encryption.Algorithm != SSEAES256 {
		t.Fatalf("copy: %+v %v", cp, err)
	}
	if got, err := f.get("data", "copy"); err != nil || !bytes.Equal(got, body) {
		t.Fatalf("copy reads: %d %v", len(got), err)
	}

	if hits := grepDir(t, f.dir, []byte("PLAINTEXT-MARKER-PLAINTEXT")); len(hits) > 0 {
		t.Errorf("plaintext found at rest in %q", hits)
	}
}

// TestPlaintextSearchFindsUnencrypted proves the search above works: the
// same objects without master keys are found on disk.
func TestPlaintextSearchFindsUnencrypted(t *testing.T) {
	f := newFixture(t)
	f.put("data", "big", Standard, marked(300<<10))
	if hits := grepDir(t, f.dir, []byte("PLAINTEXT-MARKER-PLAINTEXT")); len(hits) == 0 {
		t.Fatal("the plaintext of an unencrypted object was not found: the search is broken")
	}
}

// TestEncryptionRefusals: SSE-S3 without master keys and aws:kms without
// a KMS are refused and store nothing.
func TestEncryptionRefusals(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	for alg, want := range map[string]error{SSEAES256: ErrSSENotConfigured, SSEKMS: ErrKMSNotConfigured, "AES128": ErrInvalidEncryptionAlgorithm} {
		_, err := f.svc.PutObject(ctx, PutInput{Bucket: "data", Key: "k", Owner: "owner", Body: strings.NewReader("x"), Size: 1, SSE: SSE{Algorithm: alg}})
		if !errors.Is(err, want) {
			t.Errorf("PUT with %s: %v, want %v", alg, err, want)
		}
	}
	if _, err := f.meta.GetObject(ctx, "data", "k"); err == nil {
		t.Error("a refused PUT stored an object")
	}
	if _, err := f.svc.GetBucketEncryption(ctx, "data"); !errors.Is(err, ErrNoSuchEncryptionConfiguration) {
		t.Errorf("GetBucketEncryption without keys: %v", err)
	}
	if err := f.svc.PutBucketEncryption(ctx, "data", BucketEncryption{Algorithm: SSEAES256}); !errors.Is(err, ErrSSENotConfigured) {
		t.Errorf("PutBucketEncryption AES256 without keys: %v", err)
	}
}
