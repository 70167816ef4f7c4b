package sqlite

import (
	"context"
	"database/sql"
	"errors"
)

// The bucket_configs table holds meta.BucketConfigStore; its foreign key
// to buckets (ON DELETE CASCADE) drops a bucket's configurations in the
// transaction that deletes the bucket.

// PutBucketConfig implements meta.Store.
func (s *Store) PutBucketConfig(ctx context.Context, bucket, name string, value []byte) error {
	if value == nil {
		value = []byte{} // the column is NOT NULL; nil would read as unset
	}
	return s.update(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if err := bucketExists(ctx, tx, bucket); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO bucket_configs (bucket, name, value) VALUES (?, ?, ?)
			ON CONFLICT (bucket, name) DO UPDATE SET value = excluded.value`, bucket, name, value)
		return err
	})
}

// GetBucketConfig implements meta.Store.
func (s *Store) GetBucketConfig(ctx context.Context, bucket, name string) ([]byte, error) {
	var v []byte
	err := s.r.QueryRowContext(ctx, `SELECT value FROM bucket_configs WHERE bucket = ? AND name = ?`, bucket, name).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		// Unset, or no such bucket: tell them apart.
		return nil, bucketExists(ctx, s.r, bucket)
	}
	if err != nil {
		return nil, err
	}
	if v == nil {
		v = []byte{} // the driver reads an empty BLOB as nil
	}
	return v, nil
}

// DeleteBucketConfig implements meta.Store.
func (s *Store) DeleteBucketConfig(ctx context.Context, bucket, name string) error {
	return s.update(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if err := bucketExists(ctx, tx, bucket); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM bucket_configs WHERE bucket = ? AND name = ?`, bucket, name)
		return err
	})
}
