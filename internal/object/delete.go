package object

import (
	"context"

	"github.com/firnhq/firn/internal/meta"
)

// DeleteObject removes the object under key; a missing key is not an
// error (S3 answers 204 either way). It reports whether an object existed.
func (s *Service) DeleteObject(ctx context.Context, bucket, key string) (bool, error) {
	deleted, freed, err := s.meta.DeleteObject(ctx, bucket, key)
	if err != nil {
		return false, err
	}
	s.free(ctx, freed)
	return deleted != nil, nil
}

// ListObjects returns one page of the bucket listing.
func (s *Service) ListObjects(ctx context.Context, bucket string, p meta.ListParams) (meta.ListPage, error) {
	return meta.List(ctx, s.meta, bucket, p)
}
