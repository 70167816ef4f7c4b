package object

import (
	"context"
	"maps"
	"slices"

	"github.com/firnhq/firn/internal/checksum"
	"github.com/firnhq/firn/internal/meta"
)

// CopyInput is a server-side copy (CopyObject).
type CopyInput struct {
	SrcBucket, SrcKey string
	Bucket, Key       string
	Owner             string
	Source            Conditions // x-amz-copy-source-if-*
	// ReplaceMetadata: take Headers and UserMeta from the request
	// (MetadataDirective REPLACE) instead of the source.
	ReplaceMetadata bool
	Headers         map[string]string
	UserMeta        map[string]string
	// ReplaceTags: take Tags from the request (TaggingDirective REPLACE).
	ReplaceTags  bool
	Tags         []meta.Tag
	StorageClass string             // "" keeps STANDARD (S3 does not carry the class over)
	Algorithm    checksum.Algorithm // "" keeps the source's algorithm
}

var errSelfCopy = &InvalidRequestError{Msg: "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes."}

// CopyObject copies an object server-side. A copy onto itself rewrites the
// metadata (or the storage class) in place without touching the bytes.
func (s *Service) CopyObject(ctx context.Context, in CopyInput) (*meta.Object, error) {
	if err := CheckKey(in.Key); err != nil {
		return nil, err
	}
	class, err := normClass(in.StorageClass)
	if err != nil {
		return nil, err
	}
	if in.ReplaceTags {
		if err := checkTags(in.Tags); err != nil {
			return nil, err
		}
	}
	src, err := s.meta.GetObject(ctx, in.SrcBucket, in.SrcKey)
	if err != nil {
		return nil, err
	}
	if err := in.Source.check(src); err != nil {
		if err == ErrNotModified {
			// A copy has no 304: S3 answers 412 for both.
			err = ErrPreconditionFailed
		}
		return nil, err
	}
	if _, err := s.meta.GetBucket(ctx, in.Bucket); err != nil {
		return nil, err
	}
	apply := func(o *meta.Object) {
		if in.ReplaceMetadata {
			o.Headers, o.UserMeta = in.Headers, in.UserMeta
		}
		if in.ReplaceTags {
			o.Tags = in.Tags
		}
		o.StorageClass = class
		o.Owner = in.Owner
		o.LastModified = s.clock.Now().UTC()
	}
	if in.SrcBucket == in.Bucket && in.SrcKey == in.Key {
		if !in.ReplaceMetadata && class == src.StorageClass && in.Algorithm == "" {
			return nil, errSelfCopy
		}
		var out *meta.Object
		err := s.meta.UpdateObject(ctx, in.Bucket, in.Key, func(o *meta.Object) error {
			if o.ETag != src.ETag {
				return ErrPreconditionFailed // changed under us
			}
			apply(o)
			out = o
			return nil
		})
		if err != nil {
			return nil, err
		}
		return out, nil
	}
	alg := in.Algorithm
	if alg == "" && src.Checksum.Algorithm != "" {
		alg = checksum.Algorithm(src.Checksum.Algorithm)
	}
	rc, err := s.open(ctx, src, 0, src.Size)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	d, err := s.receive(ctx, rc, src.Size, MaxPutSize, s.inlineMax, Integrity{Algorithm: alg})
	if err != nil {
		return nil, err
	}
	o := s.newObject(in.Bucket, in.Key, in.Owner, class, d)
	o.Headers, o.UserMeta = maps.Clone(src.Headers), maps.Clone(src.UserMeta)
	o.Tags = slices.Clone(src.Tags)
	apply(o)
	if alg != "" {
		o.Checksum = meta.Checksum{Algorithm: string(alg), Type: string(checksum.FullObject), Value: d.checksum}
	}
	if err := s.commitObject(ctx, o, nil); err != nil {
		return nil, err
	}
	return o, nil
}
