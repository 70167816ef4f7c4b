package meta

import (
	"context"
	"errors"
)

// ErrNoSuchVersion: no version of the key has that version id.
var ErrNoSuchVersion = errors.New("meta: no such version")

// NullVersion is the version id of objects written while a bucket's
// versioning was off or suspended. At most one version of a key has it.
const NullVersion = "null"

// VersionStore keeps the versions of keys, as S3 versioning does. It is
// part of Store.
//
// Every object has a version id (NullVersion when versioning never
// applied to it). A key's versions are ordered newest first; the newest is
// its latest version. When the latest version is an object, that object
// is the key's current object (GetObject, ScanObjects, PutCheck see it);
// when it is a delete marker, the key has no current object. Older
// versions are noncurrent: Object.NoncurrentSince says since when.
//
// PutObject decides by version ids alone: a new version whose id equals
// the current object's (NullVersion over NullVersion, or a version
// rewritten) replaces it; otherwise the current object becomes
// noncurrent. A NullVersion also replaces a
// noncurrent null version. A delete marker (Object.DeleteMarker) is put
// the same way and becomes the latest version, leaving no current object.
type VersionStore interface {
	// GetVersion returns the version versionID of key with its inline
	// bytes, or with versionID "" the latest version, which may be a
	// delete marker. IsLatest is set. ErrNoSuchBucket; ErrNoSuchKey when
	// versionID is "" and the key has no version; ErrNoSuchVersion.
	GetVersion(ctx context.Context, bucket, key, versionID string) (*Object, error)
	// UpdateVersion changes a version in place as UpdateObject does the
	// current object; "" names the latest version. fn sees delete
	// markers too. ErrNoSuchBucket, ErrNoSuchKey, ErrNoSuchVersion, or
	// fn's error.
	UpdateVersion(ctx context.Context, bucket, key, versionID string, fn func(o *Object) error) error
	// DeleteVersion removes a version (object or delete marker)
	// permanently and returns it (nil when there was none) and the blobs
	// it freed. When it was the latest, the next newer remaining version
	// becomes the latest. ErrNoSuchBucket.
	DeleteVersion(ctx context.Context, bucket, key, versionID string) (deleted *Object, freed []string, err error)
	// ScanVersions returns up to limit versions, delete markers
	// included, whose keys start with prefix, ordered by key and then
	// newest first, without inline bytes and with IsLatest set. It
	// starts strictly after the version afterVersion of afterKey, or,
	// when afterVersion is "" or no longer exists, after every version
	// of afterKey. ErrNoSuchBucket.
	ScanVersions(ctx context.Context, bucket, prefix, afterKey, afterVersion string, limit int) ([]Object, error)
	// RewriteVersion moves the stored version o.VersionID of o.Key,
	// current or noncurrent, to other bytes (a move between tiers),
	// after check (if not nil) accepted the stored version: it takes
	// o's Segments, Inline, Restore, StorageClass, AccessTier and
	// LifecycleDue and keeps the rest of the stored record (changed
	// meanwhile, perhaps) and its place. The stored version's blobs that
	// o does not use are freed. ErrNoSuchBucket, ErrNoSuchVersion, or
	// check's error.
	RewriteVersion(ctx context.Context, o *Object, check PutCheck) (freed []string, err error)
}
