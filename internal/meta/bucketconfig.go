package meta

import "context"

// BucketConfigStore keeps a bucket's configurations (its lifecycle
// configuration, and the like) as opaque values under short names. A
// bucket's configurations live and die with it: DeleteBucket removes
// them, so a bucket created again under the same name starts with none.
// It is part of Store.
type BucketConfigStore interface {
	// PutBucketConfig sets bucket's configuration name to value,
	// replacing any previous value. ErrNoSuchBucket.
	PutBucketConfig(ctx context.Context, bucket, name string, value []byte) error
	// GetBucketConfig returns bucket's configuration name: nil when it
	// is not set (an empty value that was set reads back empty, not
	// nil). ErrNoSuchBucket.
	GetBucketConfig(ctx context.Context, bucket, name string) ([]byte, error)
	// DeleteBucketConfig removes bucket's configuration name; removing
	// one that is not set is not an error. ErrNoSuchBucket.
	DeleteBucketConfig(ctx context.Context, bucket, name string) error
}
