package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/firnhq/firn/internal/meta"
)

// CreateUser implements meta.Store.
func (s *Store) CreateUser(ctx context.Context, u meta.User) error {
	return s.update(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO users (name, created, policy) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`,
			u.Name, nanos(u.Created), nonNil(u.Policy))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("user %q: %w", u.Name, meta.ErrUserExists)
		}
		return nil
	})
}

func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

func scanUser(sc interface{ Scan(...any) error }) (meta.User, error) {
	var u meta.User
	var created int64
	if err := sc.Scan(&u.Name, &created, &u.Policy); err != nil {
		return u, err
	}
	u.Created = fromNanos(created)
	if len(u.Policy) == 0 {
		u.Policy = nil
	}
	return u, nil
}

// GetUser implements meta.Store.
func (s *Store) GetUser(ctx context.Context, name string) (meta.User, error) {
	u, err := scanUser(s.r.QueryRowContext(ctx, `SELECT name, created, policy FROM users WHERE name = ?`, name))
	if errors.Is(err, sql.ErrNoRows) {
		return u, fmt.Errorf("user %q: %w", name, meta.ErrNoSuchUser)
	}
	return u, err
}

// ListUsers implements meta.Store.
func (s *Store) ListUsers(ctx context.Context) ([]meta.User, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT name, created, policy FROM users ORDER BY name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []meta.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// DeleteUser implements meta.Store.
func (s *Store) DeleteUser(ctx context.Context, name string) error {
	return s.update(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM access_keys WHERE user = ?`, name); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM users WHERE name = ?`, name)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("user %q: %w", name, meta.ErrNoSuchUser)
		}
		return nil
	})
}

// PutUserPolicy implements meta.Store.
func (s *Store) PutUserPolicy(ctx context.Context, name string, policy []byte) error {
	return s.update(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET policy = ? WHERE name = ?`, nonNil(policy), name)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("user %q: %w", name, meta.ErrNoSuchUser)
		}
		return nil
	})
}

// CreateAccessKey implements meta.Store.
func (s *Store) CreateAccessKey(ctx context.Context, k meta.AccessKey) error {
	return s.update(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var one int
		if err := tx.QueryRowContext(ctx, `SELECT 1 FROM users WHERE name = ?`, k.User).Scan(&one); errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("user %q: %w", k.User, meta.ErrNoSuchUser)
		} else if err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO access_keys (id, user, secret, created) VALUES (?, ?, ?, ?)`,
			k.ID, k.User, k.Secret, nanos(k.Created))
		if err != nil && strings.Contains(err.Error(), "UNIQUE") {
			return fmt.Errorf("access key %q: %w", k.ID, meta.ErrAccessKeyExists)
		}
		return err
	})
}

func scanKey(sc interface{ Scan(...any) error }) (meta.AccessKey, error) {
	var k meta.AccessKey
	var created int64
	if err := sc.Scan(&k.ID, &k.User, &k.Secret, &created); err != nil {
		return k, err
	}
	k.Created = fromNanos(created)
	return k, nil
}

// GetAccessKey implements meta.Store.
func (s *Store) GetAccessKey(ctx context.Context, id string) (meta.AccessKey, error) {
	k, err := scanKey(s.r.QueryRowContext(ctx, `SELECT id, user, secret, created FROM access_keys WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return k, fmt.Errorf("access key %q: %w", id, meta.ErrNoSuchAccessKey)
	}
	return k, err
}

// ListAccessKeys implements meta.Store.
func (s *Store) ListAccessKeys(ctx context.Context, user string) ([]meta.AccessKey, error) {
	q, args := `SELECT id, user, secret, created FROM access_keys ORDER BY id`, []any{}
	if user != "" {
		q, args = `SELECT id, user, secret, created FROM access_keys WHERE user = ? ORDER BY id`, []any{user}
	}
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []meta.AccessKey
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// DeleteAccessKey implements meta.Store.
func (s *Store) DeleteAccessKey(ctx context.Context, id string) error {
	return s.update(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM access_keys WHERE id = ?`, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("access key %q: %w", id, meta.ErrNoSuchAccessKey)
		}
		return nil
	})
}
