package repo

import (
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"golang.org/x/crypto/chacha20poly1305"
	"golang.org/x/crypto/scrypt"
)

// ErrAuth is returned when encrypted data fails authentication: it was
// changed, truncated, or encrypted with another key.
var ErrAuth = errors.New("authentication failed: data was modified or the key is wrong")

// ErrWrongPassword is returned by Open when no key file opens with the
// password.
var ErrWrongPassword = errors.New("wrong password or key file: no key of the repository opens with it")

// Overhead is what Seal adds to a plaintext: a 24-byte nonce and a
// 16-byte tag.
const Overhead = chacha20poly1305.NonceSizeX + chacha20poly1305.Overhead

// Key is a repository's master key: Encrypt for XChaCha20-Poly1305, MAC
// for the keyed hashes that name blobs.
type Key struct {
	Encrypt []byte `json:"encrypt"` // 32 bytes
	MAC     []byte `json:"mac"`     // 32 bytes
}

// NewKey returns a random master key.
func NewKey() (*Key, error) {
	k := &Key{Encrypt: make([]byte, 32), MAC: make([]byte, 32)}
	if _, err := rand.Read(k.Encrypt); err != nil {
		return nil, err
	}
	if _, err := rand.Read(k.MAC); err != nil {
		return nil, err
	}
	return k, nil
}

func (k *Key) valid() bool { return len(k.Encrypt) == 32 && len(k.MAC) == 32 }

// BlobID returns the id of a blob with plaintext data:
// HMAC-SHA-256(MAC key, data). Unlike a plain hash it does not let
// someone without the key test whether the repository holds known
// content.
func (k *Key) BlobID(data []byte) ID {
	m := hmac.New(sha256.New, k.MAC)
	m.Write(data)
	var id ID
	m.Sum(id[:0])
	return id
}

// Seal encrypts and authenticates plaintext, appending nonce, ciphertext
// and tag to dst.
func (k *Key) Seal(dst, plaintext []byte) []byte {
	return seal(k.Encrypt, dst, plaintext)
}

// Open authenticates and decrypts what Seal made; ErrAuth when it was
// tampered with.
func (k *Key) Open(sealed []byte) ([]byte, error) {
	return open(k.Encrypt, sealed)
}

func newAEAD(key []byte) cipher.AEAD {
	aead, err := chacha20poly1305.NewX(key)
	if err != nil {
		panic(err) // key length is checked where keys are made
	}
	return aead
}

func randNonce(nonce []byte) {
	if _, err := rand.Read(nonce); err != nil {
		panic(err) // crypto/rand does not fail
	}
}

func seal(key, dst, plaintext []byte) []byte {
	ns := chacha20poly1305.NonceSizeX
	start := len(dst)
	dst = slices.Grow(dst, ns+len(plaintext)+chacha20poly1305.Overhead)
	dst = dst[:start+ns]
	randNonce(dst[start:])
	return newAEAD(key).Seal(dst, dst[start:], plaintext, nil)
}

func open(key, sealed []byte) ([]byte, error) {
	aead, err := chacha20poly1305.NewX(key)
	if err != nil {
		return nil, err
	}
	if len(sealed) < Overhead {
		return nil, ErrAuth
	}
	ns := aead.NonceSize()
	pt, err := aead.Open(nil, sealed[:ns], sealed[ns:], nil)
	if err != nil {
		return nil, ErrAuth
	}
	return pt, nil
}

// KDFParams are the scrypt parameters of a key file.
type KDFParams struct {
	N int `json:"n"`
	R int `json:"r"`
	P int `json:"p"`
}

// DefaultKDF costs about 64 MiB of memory and a fraction of a second.
var DefaultKDF = KDFParams{N: 1 << 16, R: 8, P: 1}

// KeyFile is the JSON of keys/<id>: the master key encrypted with a key
// derived from a password by scrypt.
type KeyFile struct {
	Created time.Time `json:"created"`
	Host    string    `json:"host,omitempty"`
	KDF     string    `json:"kdf"` // "scrypt"
	KDFParams
	Salt []byte `json:"salt"` // 32 random bytes
	Data []byte `json:"data"` // Seal(scrypt(password), JSON of Key)
}

// WrapKey makes a key file for k, opened by password.
func WrapKey(k *Key, password []byte, p KDFParams, host string, now time.Time) (*KeyFile, error) {
	kf := &KeyFile{Created: now.UTC(), Host: host, KDF: "scrypt", KDFParams: p, Salt: make([]byte, 32)}
	if _, err := rand.Read(kf.Salt); err != nil {
		return nil, err
	}
	wk, err := scrypt.Key(password, kf.Salt, p.N, p.R, p.P, 32)
	if err != nil {
		return nil, fmt.Errorf("scrypt: %w", err)
	}
	plain, err := json.Marshal(k)
	if err != nil {
		return nil, err
	}
	kf.Data = seal(wk, nil, plain)
	return kf, nil
}

// Unwrap returns the master key if password opens kf, else ErrAuth.
func (kf *KeyFile) Unwrap(password []byte) (*Key, error) {
	if kf.KDF != "scrypt" {
		return nil, fmt.Errorf("key file: unknown kdf %q", kf.KDF)
	}
	if kf.N > 1<<22 || kf.R*kf.P >= 1<<30 {
		return nil, fmt.Errorf("key file: scrypt parameters %+v out of range", kf.KDFParams)
	}
	wk, err := scrypt.Key(password, kf.Salt, kf.N, kf.R, kf.P, 32)
	if err != nil {
		return nil, fmt.Errorf("scrypt: %w", err)
	}
	plain, err := open(wk, kf.Data)
	if err != nil {
		return nil, err
	}
	var k Key
	if err := json.Unmarshal(plain, &k); err != nil || !k.valid() {
		return nil, fmt.Errorf("key file: bad master key")
	}
	return &k, nil
}
