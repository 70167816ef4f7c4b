// Package backend is the storage a backup repository lives in: a flat
// namespace of named, immutable files, as an S3 prefix provides it. It
// defines the Backend interface that the repository uses, its errors and
// the archive states a file can be in. Implementations live in
// subpackages: s3 (any S3-compatible endpoint) and mem (for tests).
package backend

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ErrNotFound is returned (wrapped) for a file that does not exist.
var ErrNotFound = errors.New("file not found")

// ArchivedError is returned by Get for a file whose storage class keeps
// its bytes offline (GLACIER, DEEP_ARCHIVE, an Intelligent-Tiering
// archive tier) and that has no restored copy: it must be restored
// (Backend.Restore) before it can be read.
type ArchivedError struct {
	Name         string
	StorageClass string
}

func (e *ArchivedError) Error() string {
	return fmt.Sprintf("%s is in %s and must be restored before it can be read", e.Name, e.StorageClass)
}

// FileInfo describes a stored file.
type FileInfo struct {
	Name         string    // full name, e.g. "data/ab12..."
	Size         int64     // bytes
	LastModified time.Time // when it was written
	// StorageClass as the endpoint reports it; "" means STANDARD.
	StorageClass string
	// ArchiveStatus is the Intelligent-Tiering archive access tier
	// (ARCHIVE_ACCESS, DEEP_ARCHIVE_ACCESS), "" when not archived there.
	// Head sets it; List may not.
	ArchiveStatus string
	// RestoreOngoing is true while a restore has been requested and has
	// not completed. Head sets it; List does not.
	RestoreOngoing bool
	// RestoredUntil is set when a restored copy is readable, until then.
	// Head sets it; List does not.
	RestoredUntil time.Time
}

// Archived reports whether the file's bytes sit in an archive class or
// tier that needs a restore before a GET, judged by class alone.
func (fi FileInfo) Archived() bool {
	return ArchiveClass(fi.StorageClass) || fi.ArchiveStatus != ""
}

// Readable reports whether a GET of the file succeeds now: it is not
// archived, or a restored copy exists. Only meaningful on a FileInfo
// from Head.
func (fi FileInfo) Readable() bool {
	return !fi.Archived() || (!fi.RestoreOngoing && !fi.RestoredUntil.IsZero())
}

// ArchiveClass reports whether objects of storage class c must be
// restored before they can be read (GLACIER_IR, the instant-retrieval
// class, need not).
func ArchiveClass(c string) bool { return c == "GLACIER" || c == "DEEP_ARCHIVE" }

// Backend stores the files of one repository. Names are relative to the
// repository ("config", "keys/ID", "data/ID"); implementations map them to
// their own keys. Files are written once and never overwritten, except
// for config at init. All methods are safe for concurrent use.
type Backend interface {
	// Location describes the backend for messages, e.g. "s3://b/p".
	Location() string
	// Put stores data under name, in storage class class ("" for the
	// endpoint's default). It returns when the file is durable.
	Put(ctx context.Context, name string, data []byte, class string) error
	// Get returns length bytes of name from offset off; length < 0 reads
	// to the end. A missing file gives ErrNotFound, an archived one
	// without restored copy an *ArchivedError.
	Get(ctx context.Context, name string, off, length int64) ([]byte, error)
	// Head describes name, including its restore state. A missing file
	// gives ErrNotFound.
	Head(ctx context.Context, name string) (FileInfo, error)
	// List calls fn for every file whose name starts with prefix (e.g.
	// "snapshots/"), in no particular order, stopping at fn's first error.
	List(ctx context.Context, prefix string, fn func(FileInfo) error) error
	// Delete removes name. Deleting a missing file is not an error.
	Delete(ctx context.Context, name string) error
	// Restore asks for a temporary readable copy of the archived file
	// name for days days, retrieved with tier (Expedited, Standard or
	// Bulk). Asking again while a restore is in progress is not an error.
	Restore(ctx context.Context, name string, days int, tier string) error
}
