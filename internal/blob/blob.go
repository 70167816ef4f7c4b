// Package blob defines firn's blob stores: where object bytes live,
// addressed by ids that firn makes up, never by a user's key, so that no
// key can name a path.
//
// A blob is written once through a Writer and becomes visible (Open
// succeeds) only after Commit returned nil, at which point it is durable:
// it survives a crash of the process or the machine. A Writer that is
// aborted, or abandoned by a crash, leaves nothing that Open can see;
// leftovers are removed by Sweep. Blobs are immutable after Commit.
//
// Implementations live in subpackages (fs: plain files, the hot tier) and
// must pass the conformance suite in package blobtest.
package blob

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"time"
)

// NewID returns a fresh blob id: 32 lower-case hex digits (128 random
// bits). Stores use it so that ids never derive from user input.
func NewID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return hex.EncodeToString(b[:])
}

// ValidID reports whether id has the shape NewID makes, so that no id
// from outside can name another path or key.
func ValidID(id string) bool {
	if len(id) != 32 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// ErrNotFound is returned by Open for an id that is not a committed blob.
var ErrNotFound = errors.New("blob: not found")

// ErrCorrupt is wrapped by the errors of a store that found a blob's
// stored bytes damaged beyond what it can repair. Retrying will not
// help; the store never returns wrong bytes instead.
var ErrCorrupt = errors.New("blob: data corrupt beyond repair")

// Store holds blobs.
type Store interface {
	// Create starts a new blob with a fresh id.
	Create(ctx context.Context) (Writer, error)
	// Open returns a reader of length bytes of blob id from offset
	// (length < 0: to the end). ErrNotFound.
	Open(ctx context.Context, id string, offset, length int64) (io.ReadCloser, error)
	// Delete removes a blob. Deleting a missing blob is not an error.
	Delete(ctx context.Context, id string) error
	// Walk calls fn for every committed blob with the time it was
	// committed, in no particular order. Returning an error from fn stops
	// the walk and is returned.
	Walk(ctx context.Context, fn func(id string, committed time.Time) error) error
	// Sweep removes the leftovers of writers that were never committed
	// and are older than olderThan (0: all of them; use 0 only when no
	// writer can be in flight, e.g. at start-up).
	Sweep(ctx context.Context, olderThan time.Duration) error
}

// ErrNeedsRestore is wrapped by Open's error for a blob that its store
// keeps where it cannot be read until it is restored there (a remote
// tier in AWS's archive classes); see Restorer.
var ErrNeedsRestore = errors.New("blob: must be restored in its store before it can be read")

// Restorer is implemented by stores whose blobs may need a restore
// before Open can read them.
type Restorer interface {
	// Restore asks for blob id to be readable for at least days days, at
	// the speed of tier (Expedited, Standard or Bulk). It returns nil when
	// a restore was started or already runs or is done; the caller tries
	// Open again later.
	Restore(ctx context.Context, id string, days int, tier string) error
}

// BatchReader is implemented by stores that keep many blobs together in
// larger containers (the archive's packs). ReadBatch reads whole blobs
// grouped by container and in each container's order, so that reading
// many blobs reads each container once, front to back, instead of
// seeking back and forth.
type BatchReader interface {
	// ReadBatch calls fn once for every id, in the order it chooses, with
	// a reader of the blob's bytes that is valid only during the call. A
	// blob that cannot be opened gets a reader whose Read returns the
	// error (wrapping ErrNotFound or ErrCorrupt). fn's error stops the
	// batch and is returned.
	ReadBatch(ctx context.Context, ids []string, fn func(id string, r io.Reader) error) error
}

// Label names the object a blob holds, for stores that record it beside
// the bytes (so an archive can be read without firn's metadata). A part
// of a multipart upload names the object it is for, its upload and its
// part number (PartNumber > 0).
type Label struct {
	Bucket, Key, VersionID string
	UploadID               string
	PartNumber             int
}

// LabeledCreator is implemented by stores that record a Label with each
// blob; Create is then CreateLabeled with an empty Label.
type LabeledCreator interface {
	CreateLabeled(ctx context.Context, label Label) (Writer, error)
}

// Writer receives the bytes of one new blob.
type Writer interface {
	io.Writer
	// ID is the blob's id, known from the start.
	ID() string
	// Commit makes the blob durable and visible. After Commit, neither
	// Write nor Abort may be called.
	Commit(ctx context.Context) error
	// Abort discards the blob. It is safe to call after a failed Write or
	// Commit, and more than once.
	Abort() error
}
