package object

import (
	"context"
	"errors"
	"net/netip"
	"strings"

	"github.com/firnhq/firn/internal/meta"
)

// ValidBucketName applies S3's general-purpose bucket naming rules.
func ValidBucketName(name string) bool {
	if len(name) < 3 || len(name) > 63 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-') {
			return false
		}
	}
	alnum := func(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }
	if !alnum(name[0]) || !alnum(name[len(name)-1]) {
		return false
	}
	if strings.Contains(name, "..") || strings.Contains(name, ".-") || strings.Contains(name, "-.") {
		return false
	}
	if _, err := netip.ParseAddr(name); err == nil {
		return false
	}
	for _, p := range []string{"xn--", "sthree-", "amzn-s3-demo-"} {
		if strings.HasPrefix(name, p) {
			return false
		}
	}
	for _, sfx := range []string{"-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"} {
		if strings.HasSuffix(name, sfx) {
			return false
		}
	}
	return true
}

// CreateBucket creates a bucket owned by owner. location is the requested
// LocationConstraint ("" for the default region). Like every S3 bucket
// made since 2023, it blocks public access.
func (s *Service) CreateBucket(ctx context.Context, name, location, owner string) error {
	return s.CreateBucketWithACL(ctx, name, location, owner, "")
}

// CreateBucketWithACL is CreateBucket with the request's x-amz-acl, of
// which only private is accepted (ErrBucketACLWithOwnership).
func (s *Service) CreateBucketWithACL(ctx context.Context, name, location, owner, acl string) error {
	if !ValidBucketName(name) {
		return wrap(ErrInvalidBucketName, "%q", name)
	}
	if err := checkBucketACL(acl); err != nil {
		return err
	}
	if location != "" && location != s.region {
		return wrap(ErrInvalidLocation, "%q (this server's region is %q)", location, s.region)
	}
	err := s.meta.CreateBucket(ctx, meta.Bucket{Name: name, Region: s.region, Owner: owner, Created: s.clock.Now()})
	if errors.Is(err, meta.ErrBucketExists) {
		b, gerr := s.meta.GetBucket(ctx, name)
		if gerr == nil && b.Owner == owner {
			return wrap(ErrBucketAlreadyOwnedByYou, "%q", name)
		}
		return wrap(ErrBucketAlreadyExists, "%q", name)
	}
	return err
}

// GetBucket returns a bucket's record. meta.ErrNoSuchBucket.
func (s *Service) GetBucket(ctx context.Context, name string) (meta.Bucket, error) {
	return s.meta.GetBucket(ctx, name)
}

// ListBuckets returns the buckets owner can see, in name order.
func (s *Service) ListBuckets(ctx context.Context, owner string) ([]meta.Bucket, error) {
	all, err := s.meta.ListBuckets(ctx)
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, b := range all {
		if owner == "" || b.Owner == owner {
			out = append(out, b)
		}
	}
	return out, nil
}

// DeleteBucket removes an empty bucket and its incomplete uploads.
func (s *Service) DeleteBucket(ctx context.Context, name string) error {
	freed, err := s.meta.DeleteBucket(ctx, name)
	s.lifecycles.forget(name) // its configurations went with it
	s.tierings.forget(name)
	s.versioning.forget(name)
	s.encryptions.forget(name)
	s.publicAccess.forget(name)
	s.policies.forget(name)
	s.notifications.forget(name)
	s.notifyAny.forget()
	if err != nil {
		return err
	}
	s.free(ctx, freed)
	return nil
}
