package meta

import (
	"context"
	"errors"
	"time"
)

// Errors of the IdentityStore.
var (
	// ErrNoSuchUser: no user has that name.
	ErrNoSuchUser = errors.New("meta: no such user")
	// ErrUserExists: CreateUser of a name taken.
	ErrUserExists = errors.New("meta: user exists")
	// ErrNoSuchAccessKey: no access key has that id.
	ErrNoSuchAccessKey = errors.New("meta: no such access key")
	// ErrAccessKeyExists: CreateAccessKey of an id taken.
	ErrAccessKeyExists = errors.New("meta: access key exists")
)

// User is an identity beside root, governed by its identity policy.
type User struct {
	Name    string
	Created time.Time
	// Policy is the user's identity policy document (IAM JSON); nil or
	// empty when none is attached (the user may then do nothing a bucket
	// policy does not grant).
	Policy []byte
}

// AccessKey is a user's credential.
type AccessKey struct {
	ID      string
	User    string
	Secret  string
	Created time.Time
}

// IdentityStore keeps users and their access keys. It is part of Store.
type IdentityStore interface {
	// CreateUser records a user. ErrUserExists.
	CreateUser(ctx context.Context, u User) error
	// GetUser returns a user. ErrNoSuchUser.
	GetUser(ctx context.Context, name string) (User, error)
	// ListUsers returns every user in name order.
	ListUsers(ctx context.Context) ([]User, error)
	// DeleteUser removes a user and its access keys. ErrNoSuchUser.
	DeleteUser(ctx context.Context, name string) error
	// PutUserPolicy replaces a user's identity policy (nil removes it).
	// ErrNoSuchUser.
	PutUserPolicy(ctx context.Context, name string, policy []byte) error
	// CreateAccessKey records a key for an existing user. ErrNoSuchUser,
	// ErrAccessKeyExists.
	CreateAccessKey(ctx context.Context, k AccessKey) error
	// GetAccessKey returns a key. ErrNoSuchAccessKey.
	GetAccessKey(ctx context.Context, id string) (AccessKey, error)
	// ListAccessKeys returns the keys of user ("": every user's), by id.
	ListAccessKeys(ctx context.Context, user string) ([]AccessKey, error)
	// DeleteAccessKey revokes a key. ErrNoSuchAccessKey.
	DeleteAccessKey(ctx context.Context, id string) error
}
