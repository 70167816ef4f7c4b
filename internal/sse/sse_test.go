package sse

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/minio/sio"
)

func opener(stored []byte) OpenFunc {
	return func(off, n int64) (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(stored[off : off+n])), nil
	}
}

func TestStreamRangesRoundTrip(t *testing.T) {
	key := StreamKey(NewKey(), 3)
	rng := rand.New(rand.NewPCG(1, 2))
	for _, size := range []int64{0, 1, packagePlain - 1, packagePlain, packagePlain + 1, 3*packagePlain + 777} {
		plain := make([]byte, size)
		for i := range plain {
			plain[i] = byte(rng.IntN(256))
		}
		sealed, err := Seal(plain, key)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := sio.EncryptedSize(uint64(size))
		if int64(len(sealed)) != EncryptedSize(size) || uint64(len(sealed)) != want {
			t.Fatalf("size %d: stored %d, EncryptedSize %d, sio says %d", size, len(sealed), EncryptedSize(size), want)
		}
		if size > 16 && bytes.Contains(sealed, plain[:16]) {
			t.Fatalf("size %d: plaintext visible in the stream", size)
		}
		ranges := [][2]int64{{0, size}, {0, 1}, {size - 1, 1}, {packagePlain - 5, 10}, {packagePlain, packagePlain}, {size / 3, size / 2}}
		for _, r := range ranges {
			off, n := r[0], r[1]
			if off < 0 || n <= 0 || off+n > size {
				continue
			}
			rc, err := DecryptRange(opener(sealed), key, size, off, n)
			if err != nil {
				t.Fatalf("size %d range %d+%d: %v", size, off, n, err)
			}
			got, err := io.ReadAll(rc)
			rc.Close()
			if err != nil || !bytes.Equal(got, plain[off:off+n]) {
				t.Fatalf("size %d range %d+%d: got %d bytes (err %v), want %d matching", size, off, n, len(got), err, n)
			}
		}
	}
}

func TestStreamDetectsDamage(t *testing.T) {
	key := StreamKey(NewKey(), 0)
	plain := bytes.Repeat([]byte("secret "), 30000)
	sealed, _ := Seal(plain, key)
	read := func(stored []byte, k []byte, size int64) error {
		rc, err := DecryptRange(opener(stored), k, size, 0, size)
		if err != nil {
			return err
		}
		defer rc.Close()
		_, err = io.ReadAll(rc)
		return err
	}
	bad := bytes.Clone(sealed)
	bad[packageCipher+100] ^= 1
	if err := read(bad, key, int64(len(plain))); !errors.Is(err, ErrDamaged) {
		t.Errorf("flipped bit: got %v, want ErrDamaged", err)
	}
	if err := read(sealed, StreamKey(NewKey(), 0), int64(len(plain))); !errors.Is(err, ErrDamaged) {
		t.Errorf("wrong key: got %v, want ErrDamaged", err)
	}
	// Stored bytes cut short of the size the metadata records are
	// caught, at a package boundary too.
	cut := sealed[:2*packageCipher]
	short := func(off, n int64) (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(cut[min(off, int64(len(cut))):min(off+n, int64(len(cut)))])), nil
	}
	rc, _ := DecryptRange(short, key, int64(len(plain)), 0, int64(len(plain)))
	if _, err := io.ReadAll(rc); !errors.Is(err, ErrDamaged) {
		t.Errorf("truncated stream: got %v, want ErrDamaged", err)
	}
	if _, err := Open(bad, key); !errors.Is(err, ErrDamaged) {
		t.Errorf("Open of a damaged stream: %v", err)
	}
}

func TestStreamKeysDiffer(t *testing.T) {
	ok := NewKey()
	if bytes.Equal(StreamKey(ok, 0), StreamKey(ok, 1)) || bytes.Equal(StreamKey(ok, 1), StreamKey(NewKey(), 1)) {
		t.Fatal("stream keys repeat")
	}
}

func TestKeyringWrapRotate(t *testing.T) {
	ctx := context.Background()
	old, err := ParseKeyring([]byte("# firn master keys\n" + GenerateKeyLine("k1") + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	objKey := NewKey()
	id, w, err := old.Wrap(ctx, objKey)
	if err != nil || id != "k1" || bytes.Contains(w, objKey) {
		t.Fatalf("Wrap: %q %v", id, err)
	}
	// Appending a key makes it current; the old one still unwraps.
	both, err := ParseKeyring([]byte("k1:" + keyOf(old, "k1") + "\n" + GenerateKeyLine("k2")))
	if err != nil {
		t.Fatal(err)
	}
	if both.CurrentID() != "k2" {
		t.Fatalf("current %q, want k2", both.CurrentID())
	}
	got, err := both.Unwrap(ctx, "k1", w)
	if err != nil || !bytes.Equal(got, objKey) {
		t.Fatalf("Unwrap under the old id: %v", err)
	}
	id2, w2, _ := both.Wrap(ctx, objKey)
	if id2 != "k2" {
		t.Fatalf("rewrap id %q", id2)
	}
	if _, err := old.Unwrap(ctx, "k2", w2); !errors.Is(err, ErrNoKey) {
		t.Errorf("unknown key id: %v, want ErrNoKey", err)
	}
	if _, err := both.Unwrap(ctx, "k2", w); !errors.Is(err, ErrUnwrap) {
		t.Errorf("key sealed under k1 opened as k2: %v, want ErrUnwrap", err)
	}
	for _, bad := range []string{"", "k1:abc", "k1:" + strings.Repeat("A", 44) + "\nk1:" + strings.Repeat("A", 44), "a b:" + strings.Repeat("A", 44)} {
		if _, err := ParseKeyring([]byte(bad)); err == nil {
			t.Errorf("ParseKeyring(%q): want an error", bad)
		}
	}
	if k, err := LoadKeyring("", ""); k != nil || err != nil {
		t.Errorf("no key configured: %v %v", k, err)
	}
	if k, err := LoadKeyring("", GenerateKeyLine("a")+","+GenerateKeyLine("b")); err != nil || k.CurrentID() != "b" {
		t.Errorf("env keyring: %v", err)
	}
}

func keyOf(k *Keyring, id string) string { return base64.StdEncoding.EncodeToString(k.keys[id]) }

func TestCustomerKey(t *testing.T) {
	ck, objKey := NewKey(), NewKey()
	w, err := WrapCustomer(ck, objKey)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := UnwrapCustomer(ck, w); err != nil || !bytes.Equal(got, objKey) {
		t.Fatalf("UnwrapCustomer: %v", err)
	}
	if _, err := UnwrapCustomer(NewKey(), w); !errors.Is(err, ErrUnwrap) {
		t.Errorf("wrong customer key: %v, want ErrUnwrap", err)
	}
	if KeyMD5(ck) == KeyMD5(NewKey()) || len(KeyMD5(ck)) != 24 {
		t.Errorf("KeyMD5 %q", KeyMD5(ck))
	}
}

func BenchmarkEncrypt64MiB(b *testing.B) {
	key := StreamKey(NewKey(), 0)
	buf := make([]byte, 64<<20)
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		w, _ := EncryptWriter(io.Discard, key)
		w.Write(buf)
		w.Close()
	}
}

func BenchmarkDecrypt64MiB(b *testing.B) {
	key := StreamKey(NewKey(), 0)
	buf := make([]byte, 64<<20)
	sealed, _ := Seal(buf, key)
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		rc, _ := DecryptRange(opener(sealed), key, int64(len(buf)), 0, int64(len(buf)))
		io.Copy(io.Discard, rc)
	}
}
