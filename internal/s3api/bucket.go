package s3api

import (
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/firnhq/firn/internal/meta"
	"github.com/firnhq/firn/internal/object"
)

func (h *Handler) listBuckets(rq *request) error {
	bs, err := h.svc.ListBuckets(rq.r.Context(), rq.owner)
	if err != nil {
		return err
	}
	res := listAllMyBucketsResult{Xmlns: s3NS, Owner: ownerOf(rq.owner), Buckets: []bucketEntry{}}
	for _, b := range bs {
		res.Buckets = append(res.Buckets, bucketEntry{Name: b.Name, CreationDate: xmlTime(b.Created), BucketRegion: b.Region})
	}
	writeXML(rq.w, res)
	return nil
}

func (h *Handler) createBucket(rq *request) error {
	var cfg createBucketConfiguration
	if err := readXML(rq, &cfg, true); err != nil {
		return err
	}
	if err := h.svc.CreateBucketWithACL(rq.r.Context(), rq.bucket, cfg.LocationConstraint, rq.owner, rq.r.Header.Get("x-amz-acl")); err != nil {
		if errors.Is(err, object.ErrInvalidLocation) {
			return errIllegalLocation.with("The " + cfg.LocationConstraint + " location constraint is incompatible for the region specific endpoint this request was sent to.")
		}
		return err
	}
	rq.w.Header().Set("Location", "/"+rq.bucket)
	rq.w.WriteHeader(http.StatusOK)
	return nil
}

// bucketOf returns the bucket record, checking the caller owns it.
func (h *Handler) bucketOf(rq *request) (meta.Bucket, error) {
	b, err := h.svc.GetBucket(rq.r.Context(), rq.bucket)
	if err != nil {
		return b, err
	}
	if b.Owner != rq.owner {
		return b, errAccessDenied
	}
	return b, nil
}

func (h *Handler) headBucket(rq *request) error {
	b, err := h.bucketOf(rq)
	if err != nil {
		return err
	}
	rq.w.Header().Set("x-amz-bucket-region", b.Region)
	rq.w.WriteHeader(http.StatusOK)
	return nil
}

func (h *Handler) deleteBucket(rq *request) error {
	if _, err := h.bucketOf(rq); err != nil {
		return err
	}
	if err := h.svc.DeleteBucket(rq.r.Context(), rq.bucket); err != nil {
		return err
	}
	rq.w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handler) getBucketLocation(rq *request) error {
	b, err := h.bucketOf(rq)
	if err != nil {
		return err
	}
	loc := b.Region
	if loc == "us-east-1" {
		loc = "" // S3 reports the classic region as an empty constraint
	}
	writeXML(rq.w, locationConstraint{Xmlns: s3NS, Value: loc})
	return nil
}

func (h *Handler) getACL(rq *request) error {
	if _, err := h.bucketOf(rq); err != nil {
		return err
	}
	if rq.key != "" {
		if _, err := h.svc.HeadObject(rq.r.Context(), objectGet(rq)); err != nil {
			return err
		}
	}
	o := ownerOf(rq.user)
	acp := accessControlPolicy{Xmlns: s3NS, Owner: o}
	acp.Grants = append(acp.Grants, struct {
		Grantee    grantee `xml:"Grantee"`
		Permission string  `xml:"Permission"`
	}{grantee{XmlnsXsi: "http://www.w3.org/2001/XMLSchema-instance", Type: "CanonicalUser", ID: o.ID, DisplayName: o.DisplayName}, "FULL_CONTROL"})
	writeXML(rq.w, acp)
	return nil
}

// maxKeysParam parses max-keys/max-uploads/max-parts: default 1000, at
// most 1000.
func maxKeysParam(q url.Values, name string) (int, error) {
	v := q.Get(name)
	if v == "" {
		return 1000, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, errInvalidArgument.with("Provided " + name + " not an integer or within integer range")
	}
	return min(n, 1000), nil
}

// encodingType validates encoding-type and returns the key encoder.
func encodingType(q url.Values) (string, func(string) string, error) {
	switch et := q.Get("encoding-type"); et {
	case "":
		return "", func(s string) string { return s }, nil
	case "url":
		return et, s3URLEncode, nil
	default:
		return "", nil, errInvalidArgument.with("Invalid Encoding Method specified in Request")
	}
}

// s3URLEncode percent-encodes everything but unreserved characters and
// "/", which both url-unquote and unquote_plus decoders read back.
func s3URLEncode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' || c == '/' {
			b.WriteByte(c)
			continue
		}
		b.WriteString("%" + strings.ToUpper(strconv.FormatInt(int64(c)|0x100, 16)[1:]))
	}
	return b.String()
}

func (h *Handler) entries(page meta.ListPage, enc func(string) string, withOwner, withRestore bool) ([]objectEntry, []commonPrefix) {
	contents := make([]objectEntry, 0, len(page.Objects))
	for _, o := range page.Objects {
		e := objectEntry{Key: enc(o.Key), LastModified: xmlTime(o.LastModified), ETag: `"` + o.ETag + `"`, Size: o.Size, StorageClass: o.StorageClass}
		if o.Checksum.Algorithm != "" {
			e.ChecksumAlgorithm = []string{o.Checksum.Algorithm}
			e.ChecksumType = o.Checksum.Type
		}
		if withOwner {
			ow := ownerOf(o.Owner)
			e.Owner = &ow
		}
		if withRestore && o.Restore != nil && (o.Restore.Ongoing || !o.Restore.Expiry.IsZero()) {
			e.RestoreStatus = &restoreStatus{IsRestoreInProgress: o.Restore.Ongoing}
			if !o.Restore.Ongoing {
				e.RestoreStatus.RestoreExpiryDate = xmlTime(o.Restore.Expiry)
			}
		}
		contents = append(contents, e)
	}
	var cps []commonPrefix
	for _, p := range page.CommonPrefixes {
		cps = append(cps, commonPrefix{Prefix: enc(p)})
	}
	return contents, cps
}

// listPrologue checks the bucket and reads the parameters every listing
// shares: its page size (named maxName) and encoding-type.
func (h *Handler) listPrologue(rq *request, maxName string) (max int, et string, enc func(string) string, err error) {
	if _, err := h.bucketOf(rq); err != nil {
		return 0, "", nil, err
	}
	if max, err = maxKeysParam(rq.q, maxName); err != nil {
		return 0, "", nil, err
	}
	et, enc, err = encodingType(rq.q)
	return max, et, enc, err
}

// wantsRestoreStatus reports whether a listing asked for RestoreStatus
// (x-amz-optional-object-attributes).
func wantsRestoreStatus(rq *request) bool {
	for _, v := range rq.r.Header.Values("x-amz-optional-object-attributes") {
		for _, a := range strings.Split(v, ",") {
			if strings.TrimSpace(a) == "RestoreStatus" {
				return true
			}
		}
	}
	return false
}

func (h *Handler) listObjectsV1(rq *request) error {
	q := rq.q
	max, et, enc, err := h.listPrologue(rq, "max-keys")
	if err != nil {
		return err
	}
	p := meta.ListParams{Prefix: q.Get("prefix"), Delimiter: q.Get("delimiter"), After: q.Get("marker"), MaxKeys: max}
	page, err := h.svc.ListObjects(rq.r.Context(), rq.bucket, p)
	if err != nil {
		return err
	}
	res := listBucketResult{Xmlns: s3NS, Name: rq.bucket, Prefix: enc(p.Prefix), Marker: enc(p.After), MaxKeys: max,
		Delimiter: enc(p.Delimiter), IsTruncated: page.IsTruncated, EncodingType: et}
	res.Contents, res.CommonPrefixes = h.entries(page, enc, true, wantsRestoreStatus(rq))
	if page.IsTruncated && p.Delimiter != "" {
		res.NextMarker = enc(page.NextAfter)
	}
	writeXML(rq.w, res)
	return nil
}

func (h *Handler) listObjectsV2(rq *request) error {
	q := rq.q
	max, et, enc, err := h.listPrologue(rq, "max-keys")
	if err != nil {
		return err
	}
	p := meta.ListParams{Prefix: q.Get("prefix"), Delimiter: q.Get("delimiter"), After: q.Get("start-after"), MaxKeys: max}
	token := q.Get("continuation-token")
	if rq.has("continuation-token") {
		after, err := base64.RawURLEncoding.DecodeString(token)
		if err != nil || token == "" {
			return errInvalidArgument.with("The continuation token provided is incorrect")
		}
		p.After = string(after)
	}
	page, err := h.svc.ListObjects(rq.r.Context(), rq.bucket, p)
	if err != nil {
		return err
	}
	res := listBucketResultV2{Xmlns: s3NS, Name: rq.bucket, Prefix: enc(p.Prefix), Delimiter: enc(p.Delimiter), MaxKeys: max,
		EncodingType: et, IsTruncated: page.IsTruncated, ContinuationToken: token, StartAfter: enc(q.Get("start-after"))}
	res.Contents, res.CommonPrefixes = h.entries(page, enc, q.Get("fetch-owner") == "true", wantsRestoreStatus(rq))
	res.KeyCount = len(res.Contents) + len(res.CommonPrefixes)
	if page.IsTruncated {
		res.NextContinuationToken = base64.RawURLEncoding.EncodeToString([]byte(page.NextAfter))
	}
	writeXML(rq.w, res)
	return nil
}

func (h *Handler) deleteObjects(rq *request) error {
	if _, err := h.bucketOf(rq); err != nil {
		return err
	}
	if !hasIntegrityHeader(rq) {
		return errInvalidRequest.with("Missing required header for this request: Content-MD5")
	}
	var req deleteRequest
	if err := readXML(rq, &req, false); err != nil {
		return err
	}
	if len(req.Objects) == 0 || len(req.Objects) > 1000 {
		return errMalformedXML
	}
	res := deleteResult{Xmlns: s3NS}
	for _, o := range req.Objects {
		action := "s3:DeleteObject"
		if o.VersionID != "" {
			action = "s3:DeleteObjectVersion"
		}
		if !h.allowed(rq, action, "arn:aws:s3:::"+rq.bucket+"/"+o.Key) {
			res.Errors = append(res.Errors, deleteErrorEntry{Key: o.Key, VersionID: o.VersionID, Code: errAccessDenied.Code, Message: errAccessDenied.Message})
			continue
		}
		r, err := h.svc.DeleteObject(rq.r.Context(), rq.bucket, o.Key, o.VersionID)
		if err != nil {
			api, known := toAPIError(err)
			if !known {
				h.log.Error("delete object", "bucket", rq.bucket, "key", o.Key, "err", err)
			}
			res.Errors = append(res.Errors, deleteErrorEntry{Key: o.Key, VersionID: o.VersionID, Code: api.Code, Message: api.Message})
			continue
		}
		if !req.Quiet {
			e := deletedEntry{Key: o.Key, VersionID: o.VersionID}
			if r.DeleteMarker {
				e.DeleteMarker, e.DeleteMarkerVersionID = true, r.VersionID
			}
			res.Deleted = append(res.Deleted, e)
		}
	}
	writeXML(rq.w, res)
	return nil
}
