// Package sse encrypts object bytes at rest: the keys and the stream
// format behind S3's server-side encryption, SSE-S3 (keys firn manages)
// and SSE-C (keys the client sends with every request).
//
// Every encrypted object has its own random 256-bit object key. Its
// bytes are stored as one or more streams (one per blob: a single PUT
// has one, a multipart object one per part), each in the DARE format of
// github.com/minio/sio: AES-256-GCM packages of 64 KiB of plaintext with
// a random stream nonce and a package sequence number, so a range
// decrypts by reading only the packages it covers, and truncation,
// reordering or tampering is detected. A stream's key is derived from
// the object key and the stream's part number (0 for a single PUT), so
// no two streams of an object share one.
//
// The object key is stored only wrapped (AES-256-GCM): for SSE-S3 under
// a master key of the server's Keyring, named by its id so that keys can
// be rotated (RewrapTo) without touching the data; for SSE-C under the
// client's key, of which only an MD5 is kept to recognise it. A
// KeyProvider is what wraps, so an external KMS can take the Keyring's
// place.
//
// Master keys are never written next to the data: they come from a key
// file or an environment variable the operator provides.
package sse
