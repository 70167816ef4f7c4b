package object

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/firnhq/firn/internal/meta"
)

// Bucket versioning states. A bucket that never had versioning
// configured has the state "".
const (
	VersioningEnabled   = "Enabled"
	VersioningSuspended = "Suspended"
)

// versioningConfigName names the bucket configuration holding the state.
const versioningConfigName = "versioning"

// ErrIllegalVersioningConfiguration: a versioning status other than
// Enabled or Suspended.
var ErrIllegalVersioningConfiguration = errors.New("illegal versioning configuration")

// DeleteMarkerError is the answer to a read of a delete marker: of the
// latest version of a key (S3: 404 NoSuchKey, which it unwraps to) or of
// a marker named by its version id (Specified; S3: 405).
type DeleteMarkerError struct {
	VersionID    string
	LastModified time.Time
	Specified    bool
}

func (e *DeleteMarkerError) Error() string {
	return fmt.Sprintf("version %s is a delete marker", e.VersionID)
}

// Unwrap makes a marker that is the latest version a missing key.
func (e *DeleteMarkerError) Unwrap() error {
	if e.Specified {
		return nil
	}
	return meta.ErrNoSuchKey
}

// newVersionID returns a fresh, URL-safe version id: 24 random bytes in
// base64 (32 characters).
func newVersionID() string {
	var b [24]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// CheckVersionID refuses a versionId parameter that no version can have
// (S3: 400 InvalidArgument): longer than 1,024 bytes or holding a
// character outside the base64 alphabets and ".". Any other id that no
// version has is S3's NoSuchVersion.
func CheckVersionID(v string) error {
	ok := len(v) > 0 && len(v) <= 1024
	for i := 0; ok && i < len(v); i++ {
		c := v[i]
		ok = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-_+/=.", c) >= 0
	}
	if !ok {
		return &InvalidArgumentError{Name: "versionId", Value: v, Msg: "Invalid version id specified"}
	}
	return nil
}

// PutBucketVersioning sets bucket's versioning state, Enabled or
// Suspended; a bucket never returns to unversioned.
// ErrIllegalVersioningConfiguration, meta.ErrNoSuchBucket.
func (s *Service) PutBucketVersioning(ctx context.Context, bucket, status string) error {
	if status != VersioningEnabled && status != VersioningSuspended {
		return wrap(ErrIllegalVersioningConfiguration, "status %q", status)
	}
	err := s.meta.PutBucketConfig(ctx, bucket, versioningConfigName, []byte(status))
	s.versioning.forget(bucket)
	return err
}

// BucketVersioning returns bucket's versioning state ("" when it was
// never set), from a cache PutBucketVersioning keeps current.
// meta.ErrNoSuchBucket.
func (s *Service) BucketVersioning(ctx context.Context, bucket string) (string, error) {
	return s.versioning.get(ctx, bucket, func(ctx context.Context, bucket string) (string, error) {
		v, err := s.meta.GetBucketConfig(ctx, bucket, versioningConfigName)
		return string(v), err
	})
}

// versionFor returns the version id a new version written to bucket
// now gets: a fresh one while versioning is enabled, else null.
func (s *Service) versionFor(ctx context.Context, bucket string) (string, error) {
	st, err := s.BucketVersioning(ctx, bucket)
	if err != nil {
		return "", err
	}
	if st == VersioningEnabled {
		return newVersionID(), nil
	}
	return meta.NullVersion, nil
}

// lookup returns the object a read of key (versionID "": the current
// object) sees (a restored copy past its expiry already gone, see
// visible). A delete marker gives a *DeleteMarkerError.
// meta.ErrNoSuchBucket, meta.ErrNoSuchKey, meta.ErrNoSuchVersion.
func (s *Service) lookup(ctx context.Context, bucket, key, versionID string) (*meta.Object, error) {
	if versionID == "" {
		o, err := s.meta.GetObject(ctx, bucket, key)
		if errors.Is(err, meta.ErrNoSuchKey) {
			if l, lerr := s.meta.GetVersion(ctx, bucket, key, ""); lerr == nil && l.DeleteMarker {
				return nil, &DeleteMarkerError{VersionID: l.VersionID, LastModified: l.LastModified}
			}
		}
		return visible(o, s.clock.Now()), err
	}
	if err := CheckVersionID(versionID); err != nil {
		return nil, err
	}
	o, err := s.meta.GetVersion(ctx, bucket, key, versionID)
	if err != nil {
		return nil, err
	}
	if o.DeleteMarker {
		return nil, &DeleteMarkerError{VersionID: o.VersionID, LastModified: o.LastModified, Specified: true}
	}
	return visible(o, s.clock.Now()), nil
}

// DeleteResult says what a DeleteObject did.
type DeleteResult struct {
	// VersionID is the version removed, or of the delete marker made;
	// "" in a bucket without versioning.
	VersionID string
	// DeleteMarker: a delete marker was made, or the version removed
	// was one.
	DeleteMarker bool
}

// DeleteObject deletes key as S3 does. With a versionID, that version
// goes for good (a missing one is not an error). Without, a bucket
// without versioning loses the current object, and a versioned one gets
// a delete marker (null while suspended, which replaces the null
// version). meta.ErrNoSuchBucket.
func (s *Service) DeleteObject(ctx context.Context, bucket, key, versionID string) (DeleteResult, error) {
	if versionID != "" {
		if err := CheckVersionID(versionID); err != nil {
			return DeleteResult{}, err
		}
		deleted, freed, err := s.meta.DeleteVersion(s.events(ctx, bucket, causeDelete), bucket, key, versionID)
		if err != nil {
			return DeleteResult{}, err
		}
		s.free(ctx, freed)
		if deleted != nil && deleted.IsLatest {
			s.rescheduleCurrent(ctx, bucket, key)
		}
		s.versionsChanged(ctx, bucket, key)
		return DeleteResult{VersionID: versionID, DeleteMarker: deleted != nil && deleted.DeleteMarker}, nil
	}
	st, err := s.BucketVersioning(ctx, bucket)
	if err != nil {
		return DeleteResult{}, err
	}
	if st == "" {
		_, freed, err := s.meta.DeleteObject(s.events(ctx, bucket, causeDelete), bucket, key)
		if err != nil {
			return DeleteResult{}, err
		}
		s.free(ctx, freed)
		return DeleteResult{}, nil
	}
	m := s.deleteMarker(bucket, key, st)
	freed, err := s.meta.PutObject(s.events(ctx, bucket, causeDelete), m, nil)
	if err != nil {
		return DeleteResult{}, err
	}
	s.free(ctx, freed)
	s.versionsChanged(ctx, bucket, key)
	return DeleteResult{VersionID: m.VersionID, DeleteMarker: true}, nil
}

// deleteMarker returns a new delete marker for key in a bucket whose
// versioning state is st.
func (s *Service) deleteMarker(bucket, key, st string) *meta.Object {
	vid := meta.NullVersion
	if st == VersioningEnabled {
		vid = newVersionID()
	}
	return &meta.Object{Bucket: bucket, Key: key, VersionID: vid, DeleteMarker: true,
		LastModified: s.clock.Now().UTC(), StorageClass: Standard}
}

// ListObjectVersions returns one page of the bucket's versions, with
// restored copies past their expiry gone (see visible).
func (s *Service) ListObjectVersions(ctx context.Context, bucket string, p meta.VersionParams) (meta.VersionPage, error) {
	page, err := meta.ListVersions(ctx, s.meta, bucket, p)
	dropExpiredCopies(page.Versions, s.clock.Now())
	return page, err
}

// ListObjects returns one page of the bucket listing, with restored
// copies past their expiry gone (see visible).
func (s *Service) ListObjects(ctx context.Context, bucket string, p meta.ListParams) (meta.ListPage, error) {
	page, err := meta.List(ctx, s.meta, bucket, p)
	dropExpiredCopies(page.Objects, s.clock.Now())
	return page, err
}

// dropExpiredCopies clears the Restore state of the listed objects whose
// restored copy has expired by now, as ExpireRestores will.
func dropExpiredCopies(objs []meta.Object, now time.Time) {
	for i := range objs {
		if copyExpired(objs[i].Restore, now) {
			objs[i].Restore = nil
		}
	}
}

// rescheduleCurrent sets the lifecycle due time of key's current object,
// which a removal of the latest version may have made current again
// (its due time was kept from when it was noncurrent). A failure is
// logged: the reconciliation walk corrects it.
func (s *Service) rescheduleCurrent(ctx context.Context, bucket, key string) {
	o, err := s.meta.GetObject(ctx, bucket, key)
	if err != nil {
		return
	}
	due, err := s.dueOf(ctx, o)
	if err == nil && !due.Equal(o.LifecycleDue) {
		_, err = s.meta.UpdateLifecycle(ctx, []meta.LifecycleUpdate{{Bucket: bucket, Key: key, ETag: o.ETag, Modified: o.LastModified, Due: due}})
	}
	if err != nil {
		s.log.Warn("reschedule the lifecycle of a promoted version", "bucket", bucket, "key", key, "err", err)
	}
}
