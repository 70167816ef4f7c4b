package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"sync"
)

// signingKeyCacheSize bounds the derived-key cache. A key is valid for one
// (secret, day, region, service), so a server needs about one entry per
// active access key per day.
const signingKeyCacheSize = 1024

type signingKeyID struct {
	secret, date, region, service string
}

// signingKeys caches derived signing keys: deriving one costs four HMACs,
// more than verifying the request signature itself.
var signingKeys = struct {
	sync.Mutex
	m map[signingKeyID][sha256.Size]byte
}{m: make(map[signingKeyID][sha256.Size]byte)}

// signingKey returns HMAC(HMAC(HMAC(HMAC("AWS4"+secret, date), region),
// service), "aws4_request"), from the cache when possible.
func signingKey(secret, date, region, service string) [sha256.Size]byte {
	id := signingKeyID{secret, date, region, service}
	signingKeys.Lock()
	k, ok := signingKeys.m[id]
	signingKeys.Unlock()
	if ok {
		return k
	}
	k = deriveSigningKey(secret, date, region, service)
	signingKeys.Lock()
	if len(signingKeys.m) >= signingKeyCacheSize {
		// Evict an arbitrary entry (map order is randomized); stale days
		// and rotated secrets age out this way.
		for old := range signingKeys.m {
			delete(signingKeys.m, old)
			break
		}
	}
	signingKeys.m[id] = k
	signingKeys.Unlock()
	return k
}

func deriveSigningKey(secret, date, region, service string) (k [sha256.Size]byte) {
	h := hmacSHA256([]byte("AWS4"+secret), []byte(date))
	h = hmacSHA256(h, []byte(region))
	h = hmacSHA256(h, []byte(service))
	h = hmacSHA256(h, []byte(terminator))
	copy(k[:], h)
	return k
}

func hmacSHA256(key, data []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(data)
	return m.Sum(nil)
}
