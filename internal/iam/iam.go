// Package iam manages who may call firn: the root credentials, users
// with access keys, and the identity policies attached to users. It
// answers the authentication layer's key lookups and hands out the
// parsed identity policy of a caller; deciding a request (identity and
// bucket policies together) is the protocol layer's, which knows what a
// request does.
//
// firn is one account: every bucket belongs to it, root may do
// everything, and a user may do exactly what its identity policy and the
// buckets' policies allow (explicit deny wins, default deny).
package iam

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"regexp"
	"sync"
	"time"

	"github.com/firnhq/firn/internal/meta"
	"github.com/firnhq/firn/internal/policy"
)

// Account is the account id of firn's single account, in ARNs.
const Account = "000000000000"

// Kind says what kind of caller an Identity is.
type Kind int

const (
	// Anonymous is an unsigned request.
	Anonymous Kind = iota
	// Root holds the server's root credentials.
	Root
	// User is a user created with AddUser.
	User
)

// Identity is who made a request.
type Identity struct {
	Kind      Kind
	User      string // the user's name (Kind User)
	AccessKey string // the key that signed the request; "" when anonymous
}

// ARN is the identity's principal ARN as policies name it ("*" for an
// anonymous caller).
func (i Identity) ARN() string {
	switch i.Kind {
	case Root:
		return "arn:aws:iam::" + Account + ":root"
	case User:
		return "arn:aws:iam::" + Account + ":user/" + i.User
	}
	return "*"
}

// Errors.
var (
	// ErrInvalidUserName: a name IAM would not accept.
	ErrInvalidUserName = errors.New("iam: invalid user name")
	// ErrUnknownKey: no root or user key has that id.
	ErrUnknownKey = errors.New("iam: unknown access key")
)

// Service manages identities. It is safe for concurrent use.
type Service struct {
	store               meta.IdentityStore
	rootKey, rootSecret string
	now                 func() time.Time

	mu     sync.Mutex                // guards parsed
	parsed map[string]*policy.Policy // identity policies by document
}

// New returns a Service over store with the root credentials.
func New(store meta.IdentityStore, rootKey, rootSecret string, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{store: store, rootKey: rootKey, rootSecret: rootSecret, now: now, parsed: map[string]*policy.Policy{}}
}

// Lookup returns the secret of an access key and whose it is.
// ErrUnknownKey.
func (s *Service) Lookup(ctx context.Context, accessKey string) (string, Identity, error) {
	if accessKey != "" && accessKey == s.rootKey {
		return s.rootSecret, Identity{Kind: Root, AccessKey: accessKey}, nil
	}
	k, err := s.store.GetAccessKey(ctx, accessKey)
	if errors.Is(err, meta.ErrNoSuchAccessKey) {
		return "", Identity{}, fmt.Errorf("%w: %q", ErrUnknownKey, accessKey)
	}
	if err != nil {
		return "", Identity{}, err
	}
	return k.Secret, Identity{Kind: User, User: k.User, AccessKey: k.ID}, nil
}

// IsRootKey reports whether accessKey is the root key.
func (s *Service) IsRootKey(accessKey string) bool { return accessKey == s.rootKey }

// RootKey returns the root access key id (the owner of every bucket).
func (s *Service) RootKey() string { return s.rootKey }

var userName = regexp.MustCompile(`^[A-Za-z0-9+=,.@_-]{1,64}$`)

// AddUser creates a user with no policy (it may do nothing until one is
// attached or a bucket policy grants it something).
// ErrInvalidUserName, meta.ErrUserExists.
func (s *Service) AddUser(ctx context.Context, name string) (meta.User, error) {
	if !userName.MatchString(name) {
		return meta.User{}, fmt.Errorf("%w: %q (1-64 of A-Z a-z 0-9 +=,.@_-)", ErrInvalidUserName, name)
	}
	u := meta.User{Name: name, Created: s.now().UTC()}
	return u, s.store.CreateUser(ctx, u)
}

// RemoveUser deletes a user and revokes its keys. meta.ErrNoSuchUser.
func (s *Service) RemoveUser(ctx context.Context, name string) error {
	return s.store.DeleteUser(ctx, name)
}

// ListUsers returns every user.
func (s *Service) ListUsers(ctx context.Context) ([]meta.User, error) { return s.store.ListUsers(ctx) }

// PutUserPolicy attaches an identity policy to a user, replacing any
// other (nil or empty detaches it). A document that does not parse is a
// *policy.Error; meta.ErrNoSuchUser.
func (s *Service) PutUserPolicy(ctx context.Context, name string, doc []byte) error {
	if len(doc) > 0 {
		if _, err := policy.ParseIdentity(doc); err != nil {
			return err
		}
	}
	return s.store.PutUserPolicy(ctx, name, doc)
}

// UserPolicy returns the parsed identity policy of a user (nil when none
// is attached). meta.ErrNoSuchUser.
func (s *Service) UserPolicy(ctx context.Context, name string) (*policy.Policy, error) {
	u, err := s.store.GetUser(ctx, name)
	if err != nil || len(u.Policy) == 0 {
		return nil, err
	}
	doc := string(u.Policy)
	s.mu.Lock()
	p, ok := s.parsed[doc]
	s.mu.Unlock()
	if ok {
		return p, nil
	}
	p, err = policy.ParseIdentity(u.Policy)
	if err != nil {
		return nil, fmt.Errorf("stored policy of user %q: %w", name, err)
	}
	s.mu.Lock()
	if len(s.parsed) > 1000 {
		clear(s.parsed)
	}
	s.parsed[doc] = p
	s.mu.Unlock()
	return p, nil
}

// Key id and secret alphabets: AWS-like, upper-case ids, base62 secrets.
const (
	idChars     = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	secretChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
)

func randomString(alphabet string, n int) string {
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// CreateKey makes a new access key for a user: a 20-character id
// starting "FK" and a 40-character secret, shown once.
// meta.ErrNoSuchUser.
func (s *Service) CreateKey(ctx context.Context, user string) (meta.AccessKey, error) {
	k := meta.AccessKey{ID: "FK" + randomString(idChars, 18), User: user, Secret: randomString(secretChars, 40), Created: s.now().UTC()}
	return k, s.store.CreateAccessKey(ctx, k)
}

// RevokeKey deletes an access key. meta.ErrNoSuchAccessKey.
func (s *Service) RevokeKey(ctx context.Context, id string) error {
	return s.store.DeleteAccessKey(ctx, id)
}

// ListKeys returns the keys of user ("": every user's), secrets blanked.
func (s *Service) ListKeys(ctx context.Context, user string) ([]meta.AccessKey, error) {
	ks, err := s.store.ListAccessKeys(ctx, user)
	for i := range ks {
		ks[i].Secret = ""
	}
	return ks, err
}

// UserPolicyDocument returns the identity policy document attached to a
// user as it was put (nil when none). meta.ErrNoSuchUser.
func (s *Service) UserPolicyDocument(ctx context.Context, name string) ([]byte, error) {
	u, err := s.store.GetUser(ctx, name)
	if err != nil {
		return nil, err
	}
	return u.Policy, nil
}
