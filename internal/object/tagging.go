package object

import (
	"context"
	"unicode/utf8"

	"github.com/firnhq/firn/internal/meta"
)

// checkTags applies S3's tag limits: at most 10 tags, unique keys of 1-128
// and values of 0-256 Unicode characters.
func checkTags(tags []meta.Tag) error {
	if len(tags) > MaxTags {
		return wrap(ErrInvalidTag, "Object tags cannot be greater than %d", MaxTags)
	}
	seen := make(map[string]bool, len(tags))
	for _, t := range tags {
		if n := utf8.RuneCountInString(t.Key); n == 0 || n > MaxTagKeyLen || !utf8.ValidString(t.Key) {
			return wrap(ErrInvalidTag, "The TagKey you have provided is invalid")
		}
		if utf8.RuneCountInString(t.Value) > MaxTagValueLen || !utf8.ValidString(t.Value) {
			return wrap(ErrInvalidTag, "The TagValue you have provided is invalid")
		}
		if seen[t.Key] {
			return wrap(ErrInvalidTag, "Cannot provide multiple Tags with the same key")
		}
		seen[t.Key] = true
	}
	return nil
}

// PutObjectTagging replaces the tag set of the object version versionID
// ("": the current object) and returns the version's id.
func (s *Service) PutObjectTagging(ctx context.Context, bucket, key, versionID string, tags []meta.Tag) (string, error) {
	return s.putTags(ctx, bucket, key, versionID, tags, evTagPut)
}

// putTags replaces a version's tags, with event for notifications.
func (s *Service) putTags(ctx context.Context, bucket, key, versionID string, tags []meta.Tag, event string) (string, error) {
	if err := checkTags(tags); err != nil {
		return "", err
	}
	_, _, err := s.lifecycleFor(ctx, bucket)
	if err != nil {
		return "", err
	}
	if versionID == "" {
		err := s.meta.UpdateObject(s.events(ctx, bucket, event), bucket, key, func(o *meta.Object) error {
			o.Tags = tags
			versionID = o.VersionID
			var err error
			o.LifecycleDue, err = s.dueOf(ctx, o) // tag filters may now match or not
			return err
		})
		return versionID, err
	}
	if err := CheckVersionID(versionID); err != nil {
		return "", err
	}
	return versionID, s.meta.UpdateVersion(s.events(ctx, bucket, event), bucket, key, versionID, func(o *meta.Object) error {
		if o.DeleteMarker {
			return &DeleteMarkerError{VersionID: o.VersionID, LastModified: o.LastModified, Specified: true}
		}
		o.Tags = tags
		if o.NoncurrentSince.IsZero() {
			var err error
			o.LifecycleDue, err = s.dueOf(ctx, o)
			return err
		}
		return nil
	})
}

// GetObjectTagging returns the object version's tag set and its
// version id.
func (s *Service) GetObjectTagging(ctx context.Context, bucket, key, versionID string) ([]meta.Tag, string, error) {
	o, err := s.lookup(ctx, bucket, key, versionID)
	if err != nil {
		return nil, "", err
	}
	return o.Tags, o.VersionID, nil
}

// DeleteObjectTagging removes the object version's tags and returns the
// version's id.
func (s *Service) DeleteObjectTagging(ctx context.Context, bucket, key, versionID string) (string, error) {
	return s.putTags(ctx, bucket, key, versionID, nil, evTagDelete)
}
