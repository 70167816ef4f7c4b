package meta

import (
	"context"
	"time"
)

// LifecycleStore is the index of when lifecycle rules next act on
// objects (Object.LifecycleDue, written with the object). It is part of
// Store.
type LifecycleStore interface {
	// DueObjects returns up to limit current objects whose LifecycleDue
	// is set and at or before now, earliest first, without their inline
	// bytes. The cost is that of the objects returned, whatever the
	// number of objects stored.
	DueObjects(ctx context.Context, now time.Time, limit int) ([]Object, error)
	// DueVersions is DueObjects for noncurrent versions and delete
	// markers (with IsLatest and NoncurrentSince set).
	DueVersions(ctx context.Context, now time.Time, limit int) ([]Object, error)
	// UpdateLifecycle applies, in one commit, each update whose object
	// version is still the current one under its key (or, for an update
	// naming a VersionID, is still stored as a noncurrent version or
	// delete marker), and returns how many it applied. ErrNoSuchBucket is not an error here: an update
	// of a missing bucket is skipped.
	UpdateLifecycle(ctx context.Context, updates []LifecycleUpdate) (int, error)
	// ExpireObject deletes the current object under (bucket, key) if it
	// is still the version with etag and modified, as DeleteObject does;
	// deleted is nil when it was not. ErrNoSuchBucket.
	ExpireObject(ctx context.Context, bucket, key, etag string, modified time.Time) (deleted *Object, freed []string, err error)
	// LifecycleBacklog counts the objects and versions due at or before
	// now and
	// returns the earliest due time among them (zero when none).
	LifecycleBacklog(ctx context.Context, now time.Time) (count int64, oldest time.Time, err error)
}

// LifecycleUpdate changes the storage class (a transition that moves no
// bytes) and the due time of one object version.
type LifecycleUpdate struct {
	Bucket, Key, ETag string
	// VersionID names a noncurrent version or delete marker; "" the
	// current object.
	VersionID    string
	Modified     time.Time // with ETag, names the version
	StorageClass string    // the new class; "" keeps it
	Due          time.Time // the new LifecycleDue (zero: none)
}
