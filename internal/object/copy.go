package object

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/firnhq/firn/internal/blob"
	"github.com/firnhq/firn/internal/checksum"
	"github.com/firnhq/firn/internal/meta"
)

// CopyInput is a server-side copy (CopyObject).
type CopyInput struct {
	SrcBucket, SrcKey string
	SrcVersionID      string // "": the current object
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
	// SSE is the copy's encryption (not carried over from the source);
	// SrcCustomerKey opens an SSE-C source.
	SSE            SSE
	SrcCustomerKey []byte
}

var errSelfCopy = &InvalidRequestError{Msg: "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes."}

// CopyObject copies an object server-side. A copy onto itself rewrites the
// metadata (or the storage class) in place without touching the bytes.
func (s *Service) CopyObject(ctx context.Context, in CopyInput) (*meta.Object, error) {
	return retryChanged(func() (*meta.Object, error) { return s.copyObject(ctx, in) })
}

// retryChanged runs f again (a few times) when the source object changed
// while f was opening its bytes.
func retryChanged[T any](f func() (T, error)) (T, error) {
	for attempt := 0; ; attempt++ {
		v, err := f()
		if errors.Is(err, errChanged) && attempt < 3 {
			continue
		}
		return v, err
	}
}

func (s *Service) copyObject(ctx context.Context, in CopyInput) (*meta.Object, error) {
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
	src, err := s.copySource(ctx, in.SrcBucket, in.SrcKey, in.SrcVersionID)
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
	// An archived source must be restored first, even to change its
	// metadata.
	if _, _, err := readable(src, s.clock.Now()); err != nil {
		return nil, err
	}
	vid, err := s.versionFor(ctx, in.Bucket)
	if err != nil {
		return nil, err
	}
	// A copy onto itself changes the object in place, unless versioning
	// makes it a new version (which gets its own bytes below: versions
	// never share blobs).
	sameEnc, err := s.sameEncryption(ctx, in.Bucket, src, in.SSE)
	if err != nil {
		return nil, err
	}
	self := in.SrcBucket == in.Bucket && in.SrcKey == in.Key
	if self && in.SrcVersionID == "" && !in.ReplaceMetadata && class == src.StorageClass && in.Algorithm == "" && sameEnc {
		return nil, errSelfCopy
	}
	if self && in.SrcVersionID == "" && vid == meta.NullVersion && src.VersionID == meta.NullVersion && sameEnc {
		newAlg := in.Algorithm != "" && string(in.Algorithm) != src.Checksum.Algorithm
		if s.tierOf(class) != s.tierOf(src.StorageClass) || newAlg {
			// The bytes must be read: to move them, or to checksum them.
			return s.rewrite(ctx, src, class, in.Algorithm, in.SrcCustomerKey, apply)
		}
		_, _, err := s.lifecycleFor(ctx, in.Bucket) // a bucket that cannot be read fails here
		if err != nil {
			return nil, err
		}
		var out *meta.Object
		err = s.meta.UpdateObject(s.events(ctx, in.Bucket, evCopy), in.Bucket, in.Key, func(o *meta.Object) error {
			if o.ETag != src.ETag {
				return ErrPreconditionFailed // changed under us
			}
			apply(o)
			due, err := s.dueOf(ctx, o)
			o.LifecycleDue = due
			out = o
			return err
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
	rc, err := s.open(ctx, src, 0, src.Size, in.SrcCustomerKey)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	enc, objKey, err := s.seal(ctx, in.Bucket, in.SSE)
	if err != nil {
		return nil, err
	}
	d, err := s.receive(ctx, s.tierOf(class), blob.Label{Bucket: in.Bucket, Key: in.Key, VersionID: vid}, rc, src.Size, MaxPutSize, s.inlineMax, Integrity{Algorithm: alg}, streamKey(objKey, 0))
	if err != nil {
		return nil, err
	}
	o := s.newObject(in.Bucket, in.Key, vid, in.Owner, class, d)
	o.Encryption = enc
	o.Headers, o.UserMeta = maps.Clone(src.Headers), maps.Clone(src.UserMeta)
	o.Tags = slices.Clone(src.Tags)
	apply(o)
	if alg != "" {
		o.Checksum = meta.Checksum{Algorithm: string(alg), Type: string(checksum.FullObject), Value: d.checksum}
	}
	if err := s.commitObject(ctx, o, nil, evCopy); err != nil {
		return nil, err
	}
	return o, nil
}

// rewrite writes src's bytes again onto the tier of class (a copy onto
// itself that changes tier, or adds a checksum algorithm): the object
// keeps its ETag and parts, gets a full-object checksum of alg (if
// given) and apply's changes, and replaces src only if src is still
// current.
func (s *Service) rewrite(ctx context.Context, src *meta.Object, class string, alg checksum.Algorithm, customerKey []byte, apply func(*meta.Object)) (*meta.Object, error) {
	// The object keeps its encryption and key; its bytes become one
	// stream.
	objKey, err := s.objectKey(ctx, src.Encryption, customerKey)
	if err != nil {
		return nil, err
	}
	rc, err := s.open(ctx, src, 0, src.Size, customerKey)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	d, err := s.receive(ctx, s.tierOf(class), blob.Label{Bucket: src.Bucket, Key: src.Key, VersionID: src.VersionID}, rc, src.Size, MaxObjectSize, s.inlineMax, Integrity{Algorithm: alg}, streamKey(objKey, 0))
	if err != nil {
		return nil, err
	}
	o := *src
	o.Inline, o.Segments, o.Restore = d.inline, nil, nil
	if alg != "" {
		o.Checksum = meta.Checksum{Algorithm: string(alg), Type: string(checksum.FullObject), Value: d.checksum}
		o.Parts = append([]meta.PartInfo(nil), o.Parts...)
		for i := range o.Parts {
			o.Parts[i].Checksum = "" // of another algorithm
		}
	}
	if d.blobID != "" {
		o.Segments = []meta.Segment{{BlobID: d.blobID, Size: d.size, Tier: d.tier}}
	}
	apply(&o)
	if hex.EncodeToString(d.md5) != src.ETag && len(src.Parts) == 0 {
		// The bytes read back are not the ones stored: never commit them.
		s.free(ctx, o.BlobIDs())
		return nil, fmt.Errorf("rewrite %s/%s: content changed while reading", src.Bucket, src.Key)
	}
	err = s.commitObject(ctx, &o, func(cur *meta.Object) error {
		if cur == nil || cur.ETag != src.ETag || !cur.LastModified.Equal(src.LastModified) {
			return ErrPreconditionFailed // changed under us
		}
		return nil
	}, evCopy)
	if err != nil {
		return nil, err
	}
	return &o, nil
}

var errCopyFromMarker = &InvalidRequestError{Msg: "The source of a copy request may not specifically refer to a delete marker by version id."}

// copySource returns the source object of a copy: the version versionID
// of key, or its current object.
func (s *Service) copySource(ctx context.Context, bucket, key, versionID string) (*meta.Object, error) {
	src, err := s.lookup(ctx, bucket, key, versionID)
	var dm *DeleteMarkerError
	if errors.As(err, &dm) {
		if dm.Specified {
			return nil, errCopyFromMarker
		}
		return nil, wrap(meta.ErrNoSuchKey, "%s/%s", bucket, key)
	}
	return src, err
}

// sameEncryption reports whether a copy of src into bucket under req
// would be encrypted as src is, so a copy onto itself may keep its bytes.
func (s *Service) sameEncryption(ctx context.Context, bucket string, src *meta.Object, req SSE) (bool, error) {
	if req.CustomerKey != nil || src.Encryption != nil && src.Encryption.Algorithm == sseC {
		return false, nil
	}
	want := req.Algorithm
	if want == "" {
		c, err := s.encryptions.get(ctx, bucket, s.loadEncryption)
		if err != nil {
			return false, err
		}
		want = c.Algorithm
	}
	have := ""
	if src.Encryption != nil {
		have = src.Encryption.Algorithm
	}
	return want == have, nil
}
