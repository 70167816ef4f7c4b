package sse

import (
	"bufio"
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strings"
)

// KeySize is the size of every key here: master, object and customer
// keys are 256 bits.
const KeySize = 32

// Errors.
var (
	// ErrNoKey: a wrapped key names a master key id the keyring lacks.
	ErrNoKey = errors.New("sse: master key not found")
	// ErrUnwrap: a wrapped key does not open under the key given (the
	// wrong customer key, or damage).
	ErrUnwrap = errors.New("sse: wrapped key does not open")
)

// KeyProvider wraps object keys: the server's Keyring, or an external KMS
// (e.g. Vault's transit engine) behind the same two calls.
type KeyProvider interface {
	// Wrap seals objectKey under the provider's current key and returns
	// that key's id and the sealed bytes.
	Wrap(ctx context.Context, objectKey []byte) (keyID string, wrapped []byte, err error)
	// Unwrap opens a key sealed by Wrap under key keyID. ErrNoKey,
	// ErrUnwrap.
	Unwrap(ctx context.Context, keyID string, wrapped []byte) ([]byte, error)
}

// Keyring is a set of master keys by id, one of them current (the one
// Wrap uses). It is safe for concurrent use (it never changes).
type Keyring struct {
	current string
	keys    map[string][]byte
}

var _ KeyProvider = (*Keyring)(nil)

// ParseKeyring reads a key file: one key per line as "id:base64-key"
// (32 bytes once decoded), blank lines and "#" comments ignored; the last
// key is the current one, so rotating means appending a key. A single
// line holding only a base64 key is a keyring with the id "default".
func ParseKeyring(data []byte) (*Keyring, error) {
	k := &Keyring{keys: map[string][]byte{}}
	sc := bufio.NewScanner(bytes.NewReader(data))
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		id, enc, ok := strings.Cut(line, ":")
		if !ok {
			id, enc = "default", line
		}
		id = strings.TrimSpace(id)
		key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(enc))
		if err != nil || len(key) != KeySize {
			return nil, fmt.Errorf("sse: key file line %d: want id:base64 of %d bytes", n, KeySize)
		}
		if id == "" || strings.ContainsAny(id, " \t") {
			return nil, fmt.Errorf("sse: key file line %d: bad key id %q", n, id)
		}
		if _, dup := k.keys[id]; dup {
			return nil, fmt.Errorf("sse: key file line %d: key id %q repeated", n, id)
		}
		k.keys[id], k.current = key, id
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if k.current == "" {
		return nil, errors.New("sse: key file holds no key")
	}
	return k, nil
}

// LoadKeyring returns the keyring of the key file at path, or, when path
// is "", of env (a value in ParseKeyring's format); nil when both are
// empty (no SSE-S3).
func LoadKeyring(path, env string) (*Keyring, error) {
	switch {
	case path != "":
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("sse: master key file: %w", err)
		}
		return ParseKeyring(b)
	case env != "":
		return ParseKeyring([]byte(strings.ReplaceAll(env, ",", "\n")))
	}
	return nil, nil
}

// GenerateKeyLine returns a new key file line for id.
func GenerateKeyLine(id string) string {
	return id + ":" + base64.StdEncoding.EncodeToString(NewKey())
}

// CurrentID returns the id of the key Wrap uses.
func (k *Keyring) CurrentID() string { return k.current }

// Has reports whether the keyring holds key id.
func (k *Keyring) Has(id string) bool { _, ok := k.keys[id]; return ok }

// Wrap implements KeyProvider.
func (k *Keyring) Wrap(_ context.Context, objectKey []byte) (string, []byte, error) {
	w, err := seal(k.keys[k.current], objectKey, []byte("firn-sse-s3:"+k.current))
	return k.current, w, err
}

// Unwrap implements KeyProvider.
func (k *Keyring) Unwrap(_ context.Context, keyID string, wrapped []byte) ([]byte, error) {
	mk, ok := k.keys[keyID]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrNoKey, keyID)
	}
	return open(mk, wrapped, []byte("firn-sse-s3:"+keyID))
}

// NewKey returns a fresh random key.
func NewKey() []byte {
	b := make([]byte, KeySize)
	rand.Read(b)
	return b
}

// WrapCustomer seals objectKey under an SSE-C customer key.
func WrapCustomer(customerKey, objectKey []byte) ([]byte, error) {
	return seal(customerKey, objectKey, []byte("firn-sse-c"))
}

// UnwrapCustomer opens a key sealed by WrapCustomer. ErrUnwrap for the
// wrong customer key.
func UnwrapCustomer(customerKey, wrapped []byte) ([]byte, error) {
	return open(customerKey, wrapped, []byte("firn-sse-c"))
}

// KeyMD5 returns the base64 MD5 of a customer key, as the
// x-amz-server-side-encryption-customer-key-MD5 header carries it.
func KeyMD5(key []byte) string {
	sum := md5.Sum(key)
	return base64.StdEncoding.EncodeToString(sum[:])
}

// StreamKey derives the key of an object's stream for part (0 for the
// single stream of a non-multipart object).
func StreamKey(objectKey []byte, part int) []byte {
	m := hmac.New(sha256.New, objectKey)
	m.Write([]byte("firn-sse-stream"))
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], uint32(part))
	m.Write(b[:])
	return m.Sum(nil)
}

// seal encrypts plain under key with AES-256-GCM: nonce || ciphertext.
func seal(key, plain, aad []byte) ([]byte, error) {
	if len(key) != KeySize || len(plain) != KeySize {
		return nil, errors.New("sse: bad key size")
	}
	g, err := gcm(key)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, g.NonceSize(), g.NonceSize()+len(plain)+g.Overhead())
	rand.Read(nonce)
	return g.Seal(nonce, nonce, plain, aad), nil
}

func open(key, sealed, aad []byte) ([]byte, error) {
	if len(key) != KeySize {
		return nil, errors.New("sse: bad key size")
	}
	g, err := gcm(key)
	if err != nil {
		return nil, err
	}
	if len(sealed) < g.NonceSize()+g.Overhead() {
		return nil, ErrUnwrap
	}
	p, err := g.Open(nil, sealed[:g.NonceSize()], sealed[g.NonceSize():], aad)
	if err != nil {
		return nil, ErrUnwrap
	}
	return p, nil
}

func gcm(key []byte) (cipher.AEAD, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}
