package object

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
)

// PublicAccessBlock is a bucket's public access block, as S3 defines it.
type PublicAccessBlock struct {
	BlockPublicAcls       bool `json:"ba"`
	IgnorePublicAcls      bool `json:"ia"`
	BlockPublicPolicy     bool `json:"bp"`
	RestrictPublicBuckets bool `json:"rb"`
}

// Errors of public access.
var (
	// ErrNoSuchPublicAccessBlock: the bucket has none.
	ErrNoSuchPublicAccessBlock = errors.New("no public access block configuration")
	// ErrPublicACLBlocked: a public canned ACL under BlockPublicAcls.
	ErrPublicACLBlocked = errors.New("public ACLs are blocked by the bucket's public access block")
	// ErrACLNotSupported: a canned ACL that grants access beyond the
	// owner, which firn does not implement (bucket policies do that).
	ErrACLNotSupported = errors.New("ACLs granting access are not supported; use a bucket policy")
	// ErrInvalidACL: not a canned ACL name.
	ErrInvalidACL = errors.New("invalid canned ACL")
	// ErrBucketACLWithOwnership: a CreateBucket asking for a
	// non-private ACL, which S3 refuses since ACLs are disabled by
	// default (BucketOwnerEnforced).
	ErrBucketACLWithOwnership = errors.New("bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting")
)

const publicAccessConfigName = "public-access-block"

// allBlocked is what new buckets get, as S3 gives them since 2023.
var allBlocked = PublicAccessBlock{true, true, true, true}

// PutPublicAccessBlock sets bucket's public access block.
func (s *Service) PutPublicAccessBlock(ctx context.Context, bucket string, p PublicAccessBlock) error {
	v, err := json.Marshal(p)
	if err != nil {
		return err
	}
	err = s.meta.PutBucketConfig(ctx, bucket, publicAccessConfigName, v)
	s.publicAccess.forget(bucket)
	return err
}

// GetPublicAccessBlock returns bucket's public access block.
// ErrNoSuchPublicAccessBlock, meta.ErrNoSuchBucket.
func (s *Service) GetPublicAccessBlock(ctx context.Context, bucket string) (PublicAccessBlock, error) {
	p, err := s.publicAccess.get(ctx, bucket, s.loadPublicAccess)
	if err != nil {
		return PublicAccessBlock{}, err
	}
	if p == nil {
		return PublicAccessBlock{}, wrap(ErrNoSuchPublicAccessBlock, "bucket %q", bucket)
	}
	return *p, nil
}

// DeletePublicAccessBlock removes bucket's public access block. It is
// recorded as removed: a bucket that never had one set has S3's default,
// every block on.
func (s *Service) DeletePublicAccessBlock(ctx context.Context, bucket string) error {
	err := s.meta.PutBucketConfig(ctx, bucket, publicAccessConfigName, []byte(noPublicAccessBlock))
	s.publicAccess.forget(bucket)
	return err
}

// noPublicAccessBlock is the stored value of a removed block.
const noPublicAccessBlock = "none"

func (s *Service) loadPublicAccess(ctx context.Context, bucket string) (*PublicAccessBlock, error) {
	v, err := s.meta.GetBucketConfig(ctx, bucket, publicAccessConfigName)
	if err != nil {
		return nil, err
	}
	if v == nil {
		p := allBlocked
		return &p, nil
	}
	if string(v) == noPublicAccessBlock {
		return nil, nil
	}
	var p PublicAccessBlock
	if err := json.Unmarshal(v, &p); err != nil {
		return nil, fmt.Errorf("public access block of %q: %w", bucket, err)
	}
	return &p, nil
}

// cannedACLs are S3's canned ACL names, true for those that grant
// access beyond the bucket owner (public or to other accounts).
var cannedACLs = map[string]bool{
	"private": false, "bucket-owner-full-control": false, "bucket-owner-read": false,
	"public-read": true, "public-read-write": true, "authenticated-read": true,
	"aws-exec-read": true, "log-delivery-write": true,
}

// CheckCannedACL judges an object write's x-amz-acl in bucket: private
// ACLs are accepted (firn objects are always private to the bucket
// owner); public ones are refused, under BlockPublicAcls as S3 does
// (ErrPublicACLBlocked), otherwise because firn has no ACLs
// (ErrACLNotSupported).
func (s *Service) CheckCannedACL(ctx context.Context, bucket, acl string) error {
	if acl == "" {
		return nil
	}
	public, ok := cannedACLs[acl]
	if !ok {
		return wrap(ErrInvalidACL, "%q", acl)
	}
	if !public {
		return nil
	}
	p, err := s.publicAccess.get(ctx, bucket, s.loadPublicAccess)
	if err != nil {
		return err
	}
	if p != nil && p.BlockPublicAcls {
		return ErrPublicACLBlocked
	}
	return wrap(ErrACLNotSupported, "%q", acl)
}

// checkBucketACL judges a CreateBucket's x-amz-acl: new buckets have
// ACLs disabled, so only private is accepted.
func checkBucketACL(acl string) error {
	if acl == "" || acl == "private" {
		return nil
	}
	if _, ok := cannedACLs[acl]; !ok {
		return wrap(ErrInvalidACL, "%q", acl)
	}
	return ErrBucketACLWithOwnership
}
