package object

import (
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/base32"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"strconv"

	"github.com/firnhq/firn/internal/blob"
	"github.com/firnhq/firn/internal/checksum"
	"github.com/firnhq/firn/internal/meta"
)

// CreateUploadInput starts a multipart upload.
type CreateUploadInput struct {
	Bucket, Key, Owner string
	StorageClass       string
	Headers            map[string]string
	UserMeta           map[string]string
	Tags               []meta.Tag
	Algorithm          checksum.Algorithm // "" for none
	ChecksumType       checksum.Type      // "" for the algorithm's default
	SSE                SSE                // the object's encryption ("": the bucket's default)
}

// newUploadID returns an id that sorts by creation time: 8 bytes of
// nanoseconds, 12 random bytes, in base32hex, whose alphabet (unlike
// base64's) is in ASCII order, so the strings sort as the bytes do.
func (s *Service) newUploadID() string {
	var b [20]byte
	binary.BigEndian.PutUint64(b[:8], uint64(s.clock.Now().UnixNano()))
	rand.Read(b[8:])
	return base32.HexEncoding.EncodeToString(b[:])
}

// CreateMultipartUpload starts an upload and returns it.
func (s *Service) CreateMultipartUpload(ctx context.Context, in CreateUploadInput) (meta.Upload, error) {
	if err := CheckKey(in.Key); err != nil {
		return meta.Upload{}, err
	}
	class, err := normClass(in.StorageClass)
	if err != nil {
		return meta.Upload{}, err
	}
	if err := checkTags(in.Tags); err != nil {
		return meta.Upload{}, err
	}
	typ := in.ChecksumType
	if in.Algorithm != "" {
		if typ == "" {
			typ = in.Algorithm.DefaultType()
		}
		if !in.Algorithm.SupportsType(typ) {
			return meta.Upload{}, &InvalidRequestError{Msg: fmt.Sprintf("The %s checksum type cannot be used with the %s checksum algorithm.", typ, lower(string(in.Algorithm)))}
		}
	} else if typ != "" {
		return meta.Upload{}, &InvalidRequestError{Msg: "The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header."}
	}
	u := meta.Upload{
		ID: s.newUploadID(), Bucket: in.Bucket, Key: in.Key, Owner: in.Owner, Initiated: s.clock.Now().UTC(),
		Template: meta.Object{
			Bucket: in.Bucket, Key: in.Key, StorageClass: class, Owner: in.Owner,
			Headers: in.Headers, UserMeta: in.UserMeta, Tags: in.Tags,
		},
	}
	if in.Algorithm != "" {
		u.Template.Checksum = meta.Checksum{Algorithm: string(in.Algorithm), Type: string(typ)}
	}
	enc, _, err := s.seal(ctx, in.Bucket, in.SSE)
	if err != nil {
		return meta.Upload{}, err
	}
	u.Template.Encryption = enc
	if err := s.meta.CreateUpload(ctx, u); err != nil {
		return meta.Upload{}, err
	}
	return u, nil
}

// GetUpload returns an upload of bucket/key. meta.ErrNoSuchUpload.
func (s *Service) GetUpload(ctx context.Context, bucket, key, uploadID string) (meta.Upload, error) {
	return s.meta.GetUpload(ctx, bucket, key, uploadID)
}

// CheckPartNumber validates a part number.
func CheckPartNumber(n int) error {
	if n < 1 || n > MaxPartNumber {
		return &InvalidArgumentError{Name: "partNumber", Value: strconv.Itoa(n), Msg: "Part number must be an integer between 1 and 10000, inclusive"}
	}
	return nil
}

// UploadPartInput is one part's body.
type UploadPartInput struct {
	Bucket, Key, UploadID string
	PartNumber            int
	Body                  io.Reader
	Size                  int64
	Integrity             Integrity // Algorithm is overridden by the upload's
	CustomerKey           []byte    // the upload's SSE-C key, if it has one
}

// UploadPart stores a part, replacing an earlier one with its number.
// In the archive its label names the object, the upload and the part, so
// an archive read without firn can put the object together again.
func (s *Service) UploadPart(ctx context.Context, in UploadPartInput) (meta.Part, error) {
	if err := CheckPartNumber(in.PartNumber); err != nil {
		return meta.Part{}, err
	}
	u, err := s.meta.GetUpload(ctx, in.Bucket, in.Key, in.UploadID)
	if err != nil {
		return meta.Part{}, err
	}
	integ := in.Integrity
	if u.Template.Checksum.Algorithm != "" {
		if integ.Algorithm != "" && string(integ.Algorithm) != u.Template.Checksum.Algorithm {
			return meta.Part{}, &InvalidRequestError{Msg: fmt.Sprintf("Checksum Type mismatch occurred, expected checksum Type: %s, actual checksum Type: %s",
				lower(u.Template.Checksum.Algorithm), lower(string(integ.Algorithm)))}
		}
		integ.Algorithm = checksum.Algorithm(u.Template.Checksum.Algorithm)
	}
	label := blob.Label{Bucket: in.Bucket, Key: in.Key, UploadID: in.UploadID, PartNumber: in.PartNumber}
	objKey, err := s.objectKey(ctx, u.Template.Encryption, in.CustomerKey)
	if err != nil {
		return meta.Part{}, err
	}
	d, err := s.receive(ctx, s.tierOf(u.Template.StorageClass), label, in.Body, in.Size, MaxPutSize, -1, integ, streamKey(objKey, in.PartNumber))
	if err != nil {
		return meta.Part{}, err
	}
	return s.recordPart(ctx, u, in.PartNumber, d)
}

func (s *Service) recordPart(ctx context.Context, u meta.Upload, number int, d *data) (meta.Part, error) {
	p := meta.Part{UploadID: u.ID, Number: number, Size: d.size, ETag: hex.EncodeToString(d.md5),
		Checksum: d.checksum, LastModified: s.clock.Now().UTC(), BlobID: d.blobID}
	freed, err := s.meta.PutPart(ctx, u.Bucket, u.Key, p)
	if d.blobID != "" {
		s.untrack(d.blobID)
	}
	if err != nil {
		if d.blobID != "" {
			s.free(ctx, []string{d.blobID})
		}
		return meta.Part{}, err
	}
	s.free(ctx, freed)
	return p, nil
}

// CopyPartInput is UploadPartCopy: a part taken from an existing object.
type CopyPartInput struct {
	SrcBucket, SrcKey     string
	SrcVersionID          string // "": the current object
	Source                Conditions
	Range                 *Range // nil: the whole source
	Bucket, Key, UploadID string
	PartNumber            int
	// SrcCustomerKey opens an SSE-C source; CustomerKey is the upload's
	// SSE-C key.
	SrcCustomerKey, CustomerKey []byte
}

// UploadPartCopy stores a part copied from (a range of) another object.
func (s *Service) UploadPartCopy(ctx context.Context, in CopyPartInput) (meta.Part, *meta.Object, error) {
	type result struct {
		p   meta.Part
		src *meta.Object
	}
	r, err := retryChanged(func() (result, error) {
		p, src, err := s.uploadPartCopy(ctx, in)
		return result{p, src}, err
	})
	return r.p, r.src, err
}

func (s *Service) uploadPartCopy(ctx context.Context, in CopyPartInput) (meta.Part, *meta.Object, error) {
	if err := CheckPartNumber(in.PartNumber); err != nil {
		return meta.Part{}, nil, err
	}
	u, err := s.meta.GetUpload(ctx, in.Bucket, in.Key, in.UploadID)
	if err != nil {
		return meta.Part{}, nil, err
	}
	src, err := s.copySource(ctx, in.SrcBucket, in.SrcKey, in.SrcVersionID)
	if err != nil {
		return meta.Part{}, nil, err
	}
	if err := in.Source.check(src); err != nil {
		if err == ErrNotModified {
			err = ErrPreconditionFailed
		}
		return meta.Part{}, src, err
	}
	off, n := int64(0), src.Size
	if in.Range != nil {
		// x-amz-copy-source-range must lie within the source.
		if in.Range.Suffix > 0 || in.Range.Last < 0 || in.Range.Last >= src.Size || in.Range.First > in.Range.Last {
			return meta.Part{}, src, &InvalidArgumentError{Name: "x-amz-copy-source-range", Msg: fmt.Sprintf("Range specified is not valid for source object of size: %d", src.Size)}
		}
		off, n = in.Range.First, in.Range.Last-in.Range.First+1
	}
	objKey, err := s.objectKey(ctx, u.Template.Encryption, in.CustomerKey)
	if err != nil {
		return meta.Part{}, src, err
	}
	rc, err := s.open(ctx, src, off, n, in.SrcCustomerKey)
	if err != nil {
		return meta.Part{}, src, err
	}
	defer rc.Close()
	label := blob.Label{Bucket: in.Bucket, Key: in.Key, UploadID: in.UploadID, PartNumber: in.PartNumber}
	d, err := s.receive(ctx, s.tierOf(u.Template.StorageClass), label, rc, n, MaxPutSize, -1, Integrity{Algorithm: checksum.Algorithm(u.Template.Checksum.Algorithm)}, streamKey(objKey, in.PartNumber))
	if err != nil {
		return meta.Part{}, src, err
	}
	p, err := s.recordPart(ctx, u, in.PartNumber, d)
	return p, src, err
}

// CompletedPart is one entry of a CompleteMultipartUpload request.
type CompletedPart struct {
	Number   int
	ETag     string
	Checksum string // the client's value for the upload's algorithm, if sent
}

// CompleteInput finishes an upload.
type CompleteInput struct {
	Bucket, Key, UploadID string
	Parts                 []CompletedPart
	// Checksum is the client's whole-object value, if sent.
	Checksum string
}

// CompleteMultipartUpload assembles the listed parts into the object.
func (s *Service) CompleteMultipartUpload(ctx context.Context, in CompleteInput) (*meta.Object, error) {
	if len(in.Parts) == 0 {
		return nil, ErrMalformedCompleteRequest
	}
	for i := 1; i < len(in.Parts); i++ {
		if in.Parts[i].Number <= in.Parts[i-1].Number {
			return nil, ErrInvalidPartOrder
		}
	}
	u, err := s.meta.GetUpload(ctx, in.Bucket, in.Key, in.UploadID)
	if err != nil {
		return nil, err
	}
	_, _, err = s.lifecycleFor(ctx, in.Bucket)
	if err != nil {
		return nil, err
	}
	vid, err := s.versionFor(ctx, in.Bucket)
	if err != nil {
		return nil, err
	}
	var out *meta.Object
	freed, err := s.meta.CompleteUpload(s.events(ctx, in.Bucket, evComplete), in.Bucket, in.Key, in.UploadID, func(parts []meta.Part) (*meta.Object, error) {
		o, err := s.assemble(u, parts, in)
		if err != nil {
			return nil, err
		}
		o.VersionID = vid
		if o.LifecycleDue, err = s.dueOf(ctx, o); err != nil {
			return nil, err
		}
		out = o
		return o, nil
	})
	if err != nil {
		return nil, err
	}
	s.free(ctx, freed)
	s.versionsChanged(ctx, in.Bucket, in.Key)
	return out, nil
}

// assemble validates the requested parts against the stored ones and
// builds the object.
func (s *Service) assemble(u meta.Upload, stored []meta.Part, in CompleteInput) (*meta.Object, error) {
	byNum := make(map[int]meta.Part, len(stored))
	for _, p := range stored {
		byNum[p.Number] = p
	}
	o := u.Template
	o.LastModified = s.clock.Now().UTC()
	o.Parts = make([]meta.PartInfo, 0, len(in.Parts))
	alg := checksum.Algorithm(u.Template.Checksum.Algorithm)
	var md5s []byte
	var sums [][]byte
	var crcParts []checksum.Part
	for i, cp := range in.Parts {
		p, ok := byNum[cp.Number]
		if !ok || trimETag(cp.ETag) != p.ETag {
			return nil, wrap(ErrInvalidPart, "part %d", cp.Number)
		}
		if alg != "" && cp.Checksum != "" && cp.Checksum != p.Checksum {
			return nil, wrap(ErrInvalidPart, "part %d checksum", cp.Number)
		}
		if i < len(in.Parts)-1 && p.Size < s.minPartSize {
			return nil, wrap(ErrEntityTooSmall, "part %d is %d bytes", cp.Number, p.Size)
		}
		raw, err := hex.DecodeString(p.ETag)
		if err != nil {
			return nil, fmt.Errorf("stored part %d etag: %w", p.Number, err)
		}
		md5s = append(md5s, raw...)
		if alg != "" {
			sum, err := alg.Decode(p.Checksum)
			if err != nil {
				return nil, fmt.Errorf("stored part %d checksum: %w", p.Number, err)
			}
			sums = append(sums, sum)
			crcParts = append(crcParts, checksum.Part{Sum: sum, Size: p.Size})
		}
		o.Size += p.Size
		if o.Size > MaxObjectSize {
			return nil, wrap(ErrEntityTooLarge, "%d bytes", o.Size)
		}
		o.Parts = append(o.Parts, meta.PartInfo{Number: p.Number, Size: p.Size, ETag: p.ETag, Checksum: p.Checksum})
		if p.BlobID != "" {
			sg := meta.Segment{BlobID: p.BlobID, Size: p.Size, Tier: s.tierOf(o.StorageClass)}
			if o.Encryption != nil {
				sg.Part = p.Number // its stream's key derives from it
			}
			o.Segments = append(o.Segments, sg)
		}
	}
	sum := md5.Sum(md5s)
	o.ETag = fmt.Sprintf("%s-%d", hex.EncodeToString(sum[:]), len(in.Parts))
	if alg != "" {
		switch checksum.Type(o.Checksum.Type) {
		case checksum.FullObject:
			full, err := checksum.FullObjectOf(alg, crcParts)
			if err != nil {
				return nil, err
			}
			o.Checksum.Value = checksum.Encode(full)
		default:
			o.Checksum.Value = checksum.CompositeOf(alg, sums)
		}
		if in.Checksum != "" && in.Checksum != o.Checksum.Value {
			return nil, wrap(ErrChecksumMismatch, "x-amz-checksum-%s", lower(string(alg)))
		}
	}
	return &o, nil
}

func trimETag(e string) string {
	if len(e) >= 2 && e[0] == '"' && e[len(e)-1] == '"' {
		return e[1 : len(e)-1]
	}
	return e
}

// AbortMultipartUpload discards an upload and its parts.
func (s *Service) AbortMultipartUpload(ctx context.Context, bucket, key, uploadID string) error {
	freed, err := s.meta.AbortUpload(ctx, bucket, key, uploadID)
	if err != nil {
		return err
	}
	s.free(ctx, freed)
	return nil
}

// ListParts returns up to max parts of an upload numbered above after,
// and whether more follow.
func (s *Service) ListParts(ctx context.Context, bucket, key, uploadID string, after, max int) ([]meta.Part, bool, error) {
	if max <= 0 || max > defaultMaxParts {
		max = defaultMaxParts
	}
	parts, err := s.meta.ListParts(ctx, bucket, key, uploadID, after, max+1)
	if err != nil {
		return nil, false, err
	}
	if len(parts) > max {
		return parts[:max], true, nil
	}
	return parts, false, nil
}

// UploadsPage is a page of ListMultipartUploads.
type UploadsPage struct {
	Uploads        []meta.Upload
	CommonPrefixes []string
	IsTruncated    bool
	NextKeyMarker  string
	NextIDMarker   string
}

// ListMultipartUploads lists in-progress uploads of a bucket, S3-style.
func (s *Service) ListMultipartUploads(ctx context.Context, bucket, prefix, delimiter, keyMarker, idMarker string, max int) (UploadsPage, error) {
	var page UploadsPage
	if max <= 0 || max > defaultMaxParts {
		max = defaultMaxParts
	}
	afterKey, afterID := keyMarker, idMarker
	if keyMarker == "" {
		afterID = ""
	}
	// A marker that is itself a common prefix (a previous page's
	// NextKeyMarker) resumes past everything under it.
	if delimiter != "" && keyMarker != "" && rollUpKey(keyMarker, prefix, delimiter) == keyMarker {
		afterKey, afterID = keyMarker+"\xff", ""
	}
	n := 0
	for {
		ups, err := s.meta.ScanUploads(ctx, bucket, prefix, afterKey, afterID, max+1)
		if err != nil {
			return page, err
		}
		if len(ups) == 0 {
			return page, nil
		}
		progressed := false
		for _, u := range ups {
			if n == max {
				page.IsTruncated = true
				return page, nil
			}
			if delimiter != "" {
				if cp := rollUpKey(u.Key, prefix, delimiter); cp != "" {
					n++
					page.CommonPrefixes = append(page.CommonPrefixes, cp)
					page.NextKeyMarker, page.NextIDMarker = cp, ""
					afterKey, afterID = cp+"\xff", ""
					progressed = true
					break
				}
			}
			n++
			page.Uploads = append(page.Uploads, u)
			page.NextKeyMarker, page.NextIDMarker = u.Key, u.ID
			afterKey, afterID = u.Key, u.ID
		}
		if !progressed && len(ups) <= max {
			return page, nil
		}
	}
}

func rollUpKey(key, prefix, delim string) string {
	if len(key) < len(prefix) || key[:len(prefix)] != prefix {
		return ""
	}
	rest := key[len(prefix):]
	for i := 0; i+len(delim) <= len(rest); i++ {
		if rest[i:i+len(delim)] == delim {
			return prefix + rest[:i+len(delim)]
		}
	}
	return ""
}
