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

// PutObjectTagging replaces the object's tag set.
func (s *Service) PutObjectTagging(ctx context.Context, bucket, key string, tags []meta.Tag) error {
	if err := checkTags(tags); err != nil {
		return err
	}
	cfg, opt, err := s.lifecycleFor(ctx, bucket)
	if err != nil {
		return err
	}
	return s.meta.UpdateObject(ctx, bucket, key, func(o *meta.Object) error {
		o.Tags = tags
		o.LifecycleDue = nextDue(cfg, o, opt) // tag filters may now match or not
		return nil
	})
}

// GetObjectTagging returns the object's tag set.
func (s *Service) GetObjectTagging(ctx context.Context, bucket, key string) ([]meta.Tag, error) {
	o, err := s.meta.GetObject(ctx, bucket, key)
	if err != nil {
		return nil, err
	}
	return o.Tags, nil
}

// DeleteObjectTagging removes the object's tags.
func (s *Service) DeleteObjectTagging(ctx context.Context, bucket, key string) error {
	return s.PutObjectTagging(ctx, bucket, key, nil)
}
