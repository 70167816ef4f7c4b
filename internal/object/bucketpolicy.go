package object

import (
	"context"
	"errors"

	"github.com/firnhq/firn/internal/policy"
)

// Errors of bucket policies.
var (
	// ErrNoSuchBucketPolicy: the bucket has none.
	ErrNoSuchBucketPolicy = errors.New("no bucket policy")
	// ErrPublicPolicyBlocked: a public policy under BlockPublicPolicy.
	ErrPublicPolicyBlocked = errors.New("public policies are blocked by the bucket's public access block")
)

const policyConfigName = "policy"

// bucketPolicy is a stored bucket policy, parsed.
type bucketPolicy struct {
	doc    []byte
	parsed *policy.Policy
}

// PutBucketPolicy sets bucket's policy after checking it as S3 does: a
// document that does not parse is a *policy.Error; a public one is
// refused while the bucket's BlockPublicPolicy is on.
func (s *Service) PutBucketPolicy(ctx context.Context, bucket string, doc []byte) error {
	p, err := policy.ParseBucket(doc, bucket)
	if err != nil {
		return err
	}
	pab, err := s.publicAccess.get(ctx, bucket, s.loadPublicAccess)
	if err != nil {
		return err
	}
	if pab != nil && pab.BlockPublicPolicy && p.IsPublic() {
		return ErrPublicPolicyBlocked
	}
	err = s.meta.PutBucketConfig(ctx, bucket, policyConfigName, doc)
	s.policies.forget(bucket)
	return err
}

// GetBucketPolicy returns bucket's policy document as it was put.
// ErrNoSuchBucketPolicy, meta.ErrNoSuchBucket.
func (s *Service) GetBucketPolicy(ctx context.Context, bucket string) ([]byte, error) {
	bp, err := s.policies.get(ctx, bucket, s.loadPolicy)
	if err != nil {
		return nil, err
	}
	if bp == nil {
		return nil, wrap(ErrNoSuchBucketPolicy, "bucket %q", bucket)
	}
	return bp.doc, nil
}

// DeleteBucketPolicy removes bucket's policy.
func (s *Service) DeleteBucketPolicy(ctx context.Context, bucket string) error {
	err := s.meta.DeleteBucketConfig(ctx, bucket, policyConfigName)
	s.policies.forget(bucket)
	return err
}

// BucketPolicyStatus reports whether bucket's policy is public.
// ErrNoSuchBucketPolicy, meta.ErrNoSuchBucket.
func (s *Service) BucketPolicyStatus(ctx context.Context, bucket string) (bool, error) {
	bp, err := s.policies.get(ctx, bucket, s.loadPolicy)
	if err != nil {
		return false, err
	}
	if bp == nil {
		return false, wrap(ErrNoSuchBucketPolicy, "bucket %q", bucket)
	}
	return bp.parsed.IsPublic(), nil
}

// AccessPolicy returns what authorization needs of bucket: its parsed
// policy (nil when none) and its public access block (nil when none).
// meta.ErrNoSuchBucket.
func (s *Service) AccessPolicy(ctx context.Context, bucket string) (*policy.Policy, *PublicAccessBlock, error) {
	bp, err := s.policies.get(ctx, bucket, s.loadPolicy)
	if err != nil {
		return nil, nil, err
	}
	pab, err := s.publicAccess.get(ctx, bucket, s.loadPublicAccess)
	if err != nil {
		return nil, nil, err
	}
	if bp == nil {
		return nil, pab, nil
	}
	return bp.parsed, pab, nil
}

func (s *Service) loadPolicy(ctx context.Context, bucket string) (*bucketPolicy, error) {
	doc, err := s.meta.GetBucketConfig(ctx, bucket, policyConfigName)
	if err != nil || doc == nil {
		return nil, err
	}
	p, err := policy.ParseBucket(doc, bucket)
	if err != nil {
		return nil, err
	}
	return &bucketPolicy{doc: doc, parsed: p}, nil
}
