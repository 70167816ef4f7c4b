package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/firnhq/firn/internal/meta"
)

// template is the JSON form of an upload's object template.
type template struct {
	StorageClass string `json:"sc"`
	attrs
}

func encodeTemplate(o *meta.Object) ([]byte, error) {
	return json.Marshal(template{o.StorageClass, attrs{Headers: o.Headers, UserMeta: o.UserMeta, Tags: o.Tags, Checksum: o.Checksum, Encryption: o.Encryption}})
}

func getUpload(ctx context.Context, q querier, bucket, key, id string) (meta.Upload, error) {
	u := meta.Upload{ID: id}
	var initiated int64
	var tb []byte
	err := q.QueryRowContext(ctx, `SELECT bucket, key, initiated, owner, template FROM uploads WHERE id = ?`, id).
		Scan(&u.Bucket, &u.Key, &initiated, &u.Owner, &tb)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && (u.Bucket != bucket || u.Key != key)) {
		return u, fmt.Errorf("upload %q: %w", id, meta.ErrNoSuchUpload)
	}
	if err != nil {
		return u, err
	}
	u.Initiated = fromNanos(initiated)
	var t template
	if err := json.Unmarshal(tb, &t); err != nil {
		return u, fmt.Errorf("decode upload %s: %w", id, err)
	}
	u.Template = meta.Object{Bucket: u.Bucket, Key: u.Key, StorageClass: t.StorageClass, Owner: u.Owner,
		Headers: t.Headers, UserMeta: t.UserMeta, Tags: t.Tags, Checksum: t.Checksum, Encryption: t.Encryption}
	return u, nil
}

// CreateUpload implements meta.Store.
func (s *Store) CreateUpload(ctx context.Context, u meta.Upload) error {
	tb, err := encodeTemplate(&u.Template)
	if err != nil {
		return err
	}
	return s.update(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if err := bucketExists(ctx, tx, u.Bucket); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO uploads (id, bucket, key, initiated, owner, template) VALUES (?, ?, ?, ?, ?, ?)`,
			u.ID, u.Bucket, u.Key, nanos(u.Initiated), u.Owner, tb)
		return err
	})
}

// GetUpload implements meta.Store.
func (s *Store) GetUpload(ctx context.Context, bucket, key, uploadID string) (meta.Upload, error) {
	return getUpload(ctx, s.r, bucket, key, uploadID)
}

// PutPart implements meta.Store.
func (s *Store) PutPart(ctx context.Context, bucket, key string, p meta.Part) (freed []string, err error) {
	err = s.update(ctx, func(ctx context.Context, tx *sql.Tx) error {
		freed = nil
		if _, err := getUpload(ctx, tx, bucket, key, p.UploadID); err != nil {
			return err
		}
		var old string
		err := tx.QueryRowContext(ctx, `SELECT blob_id FROM parts WHERE upload_id = ? AND number = ?`, p.UploadID, p.Number).Scan(&old)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return err
		case old != "" && old != p.BlobID:
			if err := unref(ctx, tx, []string{old}); err != nil {
				return err
			}
			freed = []string{old}
		}
		if err := ref(ctx, tx, []string{p.BlobID}); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO parts (upload_id, number, size, etag, checksum, mtime, blob_id) VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (upload_id, number) DO UPDATE SET size = excluded.size, etag = excluded.etag, checksum = excluded.checksum,
			mtime = excluded.mtime, blob_id = excluded.blob_id`,
			p.UploadID, p.Number, p.Size, p.ETag, p.Checksum, nanos(p.LastModified), p.BlobID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return freed, nil
}

func listParts(ctx context.Context, q querier, uploadID string, after, limit int) ([]meta.Part, error) {
	rows, err := q.QueryContext(ctx, `SELECT number, size, etag, checksum, mtime, blob_id FROM parts WHERE upload_id = ? AND number > ? ORDER BY number LIMIT ?`,
		uploadID, after, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []meta.Part
	for rows.Next() {
		p := meta.Part{UploadID: uploadID}
		var mtime int64
		if err := rows.Scan(&p.Number, &p.Size, &p.ETag, &p.Checksum, &mtime, &p.BlobID); err != nil {
			return nil, err
		}
		p.LastModified = fromNanos(mtime)
		out = append(out, p)
	}
	return out, rows.Err()
}

// ListParts implements meta.Store.
func (s *Store) ListParts(ctx context.Context, bucket, key, uploadID string, after, limit int) ([]meta.Part, error) {
	if _, err := getUpload(ctx, s.r, bucket, key, uploadID); err != nil {
		return nil, err
	}
	return listParts(ctx, s.r, uploadID, after, limit)
}

// CompleteUpload implements meta.Store.
func (s *Store) CompleteUpload(ctx context.Context, bucket, key, uploadID string, build func(parts []meta.Part) (*meta.Object, error)) (freed []string, err error) {
	err = s.update(ctx, func(ctx context.Context, tx *sql.Tx) error {
		freed = nil
		if _, err := getUpload(ctx, tx, bucket, key, uploadID); err != nil {
			return err
		}
		parts, err := listParts(ctx, tx, uploadID, 0, 1<<31-1)
		if err != nil {
			return err
		}
		o, err := build(parts)
		if err != nil {
			return err
		}
		used := make(map[string]bool, len(o.Segments))
		for _, s := range o.Segments {
			used[s.BlobID] = true
		}
		var unused []string
		for _, p := range parts {
			if p.BlobID != "" && !used[p.BlobID] {
				unused = append(unused, p.BlobID)
			}
		}
		if err := unref(ctx, tx, unused); err != nil {
			return err
		}
		cur, err := getCurrent(ctx, tx, bucket, key)
		if err != nil {
			return err
		}
		replaced, err := putLocked(ctx, tx, o, cur)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM uploads WHERE id = ?`, uploadID); err != nil {
			return err
		}
		freed = append(unused, replaced...)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return freed, nil
}

// AbortUpload implements meta.Store.
func (s *Store) AbortUpload(ctx context.Context, bucket, key, uploadID string) (freed []string, err error) {
	err = s.update(ctx, func(ctx context.Context, tx *sql.Tx) error {
		freed = nil
		if _, err := getUpload(ctx, tx, bucket, key, uploadID); err != nil {
			return err
		}
		ids, err := unrefQuery(ctx, tx, `SELECT blob_id FROM parts WHERE upload_id = ? AND blob_id != ''`, uploadID)
		if err != nil {
			return err
		}
		freed = ids
		_, err = tx.ExecContext(ctx, `DELETE FROM uploads WHERE id = ?`, uploadID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return freed, nil
}

// ScanUploads implements meta.Store.
func (s *Store) ScanUploads(ctx context.Context, bucket, prefix, afterKey, afterID string, limit int) ([]meta.Upload, error) {
	if err := bucketExists(ctx, s.r, bucket); err != nil {
		return nil, err
	}
	q := `SELECT id, key FROM uploads WHERE bucket = ? AND key >= ?`
	args := []any{bucket, prefix}
	if prefix != "" {
		q += ` AND key < ?`
		args = append(args, prefixEnd(prefix))
	}
	if afterKey != "" {
		if afterID == "" {
			q += ` AND key > ?`
			args = append(args, afterKey)
		} else {
			q += ` AND (key > ? OR (key = ? AND id > ?))`
			args = append(args, afterKey, afterKey, afterID)
		}
	}
	q += ` ORDER BY key, id LIMIT ?`
	args = append(args, limit)
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	type ref struct{ id, key string }
	var refs []ref
	for rows.Next() {
		var r ref
		if err := rows.Scan(&r.id, &r.key); err != nil {
			rows.Close()
			return nil, err
		}
		refs = append(refs, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]meta.Upload, 0, len(refs))
	for _, r := range refs {
		u, err := getUpload(ctx, s.r, bucket, r.key, r.id)
		if errors.Is(err, meta.ErrNoSuchUpload) {
			continue // completed meanwhile
		}
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, nil
}

// BlobReferenced implements meta.Store.
func (s *Store) BlobReferenced(ctx context.Context, id string) (bool, error) {
	var one int
	err := s.r.QueryRowContext(ctx, `SELECT 1 FROM blob_refs WHERE blob_id = ?`, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}
