package s3api

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/firnhq/firn/internal/meta"
	"github.com/firnhq/firn/internal/object"
	"github.com/firnhq/firn/internal/s3api/sigv4"
)

// storedHeaders are the standard headers S3 keeps with an object.
var storedHeaders = []string{"Content-Type", "Content-Encoding", "Content-Disposition", "Content-Language", "Cache-Control", "Expires"}

// maxUserMeta is S3's limit on x-amz-meta-* names and values together.
const maxUserMeta = 2 << 10

// objectAttrs reads the stored headers, user metadata and tags of a
// write request.
func objectAttrs(r *http.Request) (hdrs, um map[string]string, tags []meta.Tag, err error) {
	hdrs = map[string]string{}
	for _, name := range storedHeaders {
		if v := r.Header.Get(name); v != "" {
			if name == "Content-Encoding" {
				v = sigv4.TrimAWSChunked(v)
				if v == "" {
					continue
				}
			}
			hdrs[name] = v
		}
	}
	size := 0
	for name, vs := range r.Header {
		if len(name) > len("X-Amz-Meta-") && strings.EqualFold(name[:len("X-Amz-Meta-")], "X-Amz-Meta-") {
			if um == nil {
				um = map[string]string{}
			}
			k := strings.ToLower(name[len("X-Amz-Meta-"):])
			v := strings.Join(vs, ",")
			um[k] = v
			size += len(k) + len(v)
		}
	}
	if size > maxUserMeta {
		return nil, nil, nil, errMetadataTooLarge
	}
	if t := r.Header.Get("x-amz-tagging"); t != "" {
		tags, err = parseTagging(t)
		if err != nil {
			return nil, nil, nil, err
		}
	}
	return hdrs, um, tags, nil
}

// parseTagging parses the x-amz-tagging header, a URL query, keeping the
// order of the tags.
func parseTagging(s string) ([]meta.Tag, error) {
	var tags []meta.Tag
	for _, kv := range strings.Split(s, "&") {
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		k, err1 := url.QueryUnescape(k)
		v, err2 := url.QueryUnescape(v)
		if err1 != nil || err2 != nil {
			return nil, errInvalidArgument.with("The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates.")
		}
		tags = append(tags, meta.Tag{Key: k, Value: v})
	}
	return tags, nil
}

// declaredSize is the payload length of a write, or an error when S3
// requires one.
func declaredSize(rq *request) (int64, error) {
	n := rq.auth.DecodedLength
	if n < 0 && rq.auth.Streaming != "" {
		// aws-chunked without x-amz-decoded-content-length.
		return 0, errMissingContentLength
	}
	if n < 0 {
		if rq.r.Header.Get("Transfer-Encoding") != "" || rq.r.ContentLength < 0 {
			return 0, errMissingContentLength
		}
		return 0, nil
	}
	return n, nil
}

func (h *Handler) putObject(rq *request) error {
	if _, err := h.bucketOf(rq); err != nil {
		return err
	}
	hdrs, um, tags, err := objectAttrs(rq.r)
	if err != nil {
		return err
	}
	integ, err := integrity(rq)
	if err != nil {
		return err
	}
	size, err := declaredSize(rq)
	if err != nil {
		return err
	}
	enc, err := sseOf(rq.r)
	if err != nil {
		return err
	}
	if err := h.checkACL(rq); err != nil {
		return err
	}
	o, err := h.svc.PutObject(rq.r.Context(), object.PutInput{SSE: enc,
		Bucket: rq.bucket, Key: rq.key, Owner: rq.user, Body: rq.body(), Size: size,
		StorageClass: rq.r.Header.Get("x-amz-storage-class"), Headers: hdrs, UserMeta: um, Tags: tags,
		Integrity: integ, IfNoneMatch: rq.r.Header.Get("If-None-Match"), IfMatch: rq.r.Header.Get("If-Match"),
	})
	if err != nil {
		return err
	}
	hd := rq.w.Header()
	hd.Set("ETag", `"`+o.ETag+`"`)
	setChecksumHeader(hd, o.Checksum.Algorithm, o.Checksum.Type, o.Checksum.Value)
	h.setExpiration(rq, o)
	h.setVersionID(rq, rq.bucket, o.VersionID)
	setEncryptionHeaders(hd, o.Encryption)
	rq.w.WriteHeader(http.StatusOK)
	return nil
}

// parseRange parses a Range header. Syntax S3 does not serve (several
// ranges, other units, garbage) yields nil: the whole object is sent, as
// S3 does.
func parseRange(v string) *object.Range {
	spec, ok := strings.CutPrefix(strings.TrimSpace(v), "bytes=")
	if !ok || strings.Contains(spec, ",") {
		return nil
	}
	first, last, ok := strings.Cut(strings.TrimSpace(spec), "-")
	if !ok {
		return nil
	}
	if first == "" {
		n, err := strconv.ParseInt(last, 10, 64)
		if err != nil || n < 0 {
			return nil
		}
		if n == 0 {
			// "bytes=-0" selects nothing: unsatisfiable.
			return &object.Range{First: 1 << 62, Last: -1}
		}
		return &object.Range{Suffix: n}
	}
	f, err := strconv.ParseInt(first, 10, 64)
	if err != nil || f < 0 {
		return nil
	}
	if last == "" {
		return &object.Range{First: f, Last: -1}
	}
	l, err := strconv.ParseInt(last, 10, 64)
	if err != nil || l < f {
		return nil
	}
	return &object.Range{First: f, Last: l}
}

func httpDate(v string) time.Time {
	if v == "" {
		return time.Time{}
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return time.Time{}
	}
	return t
}

func conditions(hd http.Header, prefix string) object.Conditions {
	return object.Conditions{
		IfMatch:           hd.Get(prefix + "If-Match"),
		IfNoneMatch:       hd.Get(prefix + "If-None-Match"),
		IfModifiedSince:   httpDate(hd.Get(prefix + "If-Modified-Since")),
		IfUnmodifiedSince: httpDate(hd.Get(prefix + "If-Unmodified-Since")),
	}
}

func objectGet(rq *request) object.GetInput {
	return object.GetInput{Bucket: rq.bucket, Key: rq.key, Conditions: conditions(rq.r.Header, "")}
}

// responseOverrides are the response-* query parameters of a GET.
var responseOverrides = map[string]string{
	"response-content-type":        "Content-Type",
	"response-content-language":    "Content-Language",
	"response-expires":             "Expires",
	"response-cache-control":       "Cache-Control",
	"response-content-disposition": "Content-Disposition",
	"response-content-encoding":    "Content-Encoding",
}

// setObjectHeaders writes the headers GET and HEAD share.
func setObjectHeaders(hd http.Header, o *meta.Object) {
	hd.Set("ETag", `"`+o.ETag+`"`)
	hd.Set("Last-Modified", o.LastModified.UTC().Format(http.TimeFormat))
	hd.Set("Accept-Ranges", "bytes")
	ct := "binary/octet-stream"
	for _, name := range storedHeaders {
		if v, ok := o.Headers[name]; ok {
			hd.Set(name, v)
			if name == "Content-Type" {
				ct = v
			}
		}
	}
	hd.Set("Content-Type", ct)
	for k, v := range o.UserMeta {
		hd["X-Amz-Meta-"+k] = []string{v}
	}
	if o.StorageClass != object.Standard {
		hd.Set("x-amz-storage-class", o.StorageClass)
	}
	if len(o.Tags) > 0 {
		hd.Set("x-amz-tagging-count", strconv.Itoa(len(o.Tags)))
	}
	if v := restoreHeader(o.Restore); v != "" {
		hd.Set("x-amz-restore", v)
	}
	if o.StorageClass == object.IntelligentTiering && object.IsArchiveAccess(o.AccessTier) {
		hd.Set("x-amz-archive-status", o.AccessTier)
	}
}

// restoreHeader renders x-amz-restore: absent when never restored or
// expired.
func restoreHeader(r *meta.Restore) string {
	switch {
	case r == nil:
		return ""
	case r.Ongoing:
		return `ongoing-request="true"`
	case !r.Expiry.IsZero():
		return `ongoing-request="false", expiry-date="` + r.Expiry.UTC().Format(http.TimeFormat) + `"`
	}
	return ""
}

func (h *Handler) restoreObject(rq *request) error {
	if _, err := h.bucketOf(rq); err != nil {
		return err
	}
	var req restoreRequest
	if err := readXML(rq, &req, false); err != nil {
		return err
	}
	if req.Type != "" {
		if req.Type == "SELECT" {
			return errNotImplemented.with("SELECT restores are not supported")
		}
		return errMalformedXML
	}
	if req.Tier != "" || req.SelectParameters != nil || req.OutputLocation != nil {
		return errMalformedXML // only SELECT restores carry these
	}
	tier := object.TierStandard
	if req.GlacierJobParameters != nil {
		switch req.GlacierJobParameters.Tier {
		case object.TierStandard, object.TierBulk, object.TierExpedited:
			tier = req.GlacierJobParameters.Tier
		default:
			return errMalformedXML
		}
	}
	vid, err := versionParam(rq)
	if err != nil {
		return err
	}
	days := 0
	if req.Days != nil {
		days = *req.Days
	}
	out, err := h.svc.RestoreObject(rq.r.Context(), object.RestoreRequest{Bucket: rq.bucket, Key: rq.key,
		VersionID: vid, Days: days, NoDays: req.Days == nil, Tier: tier})
	if err != nil {
		return err
	}
	if out == object.RestoreExtended {
		rq.w.WriteHeader(http.StatusOK)
	} else {
		rq.w.WriteHeader(http.StatusAccepted)
	}
	return nil
}

// firstBytes holds the buffers GETs read their first bytes into.
var firstBytes = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

func (h *Handler) getObject(rq *request, head bool) error {
	if _, err := h.bucketOf(rq); err != nil {
		return err
	}
	in := objectGet(rq)
	vid, err := versionParam(rq)
	if err != nil {
		return err
	}
	in.VersionID = vid
	if in.CustomerKey, err = readSSE(rq.r); err != nil {
		return err
	}
	if pn := rq.q.Get("partNumber"); pn != "" {
		n, err := strconv.Atoi(pn)
		if err != nil {
			return errInvalidArgument.with("Part number must be an integer between 1 and 10000, inclusive")
		}
		if err := object.CheckPartNumber(n); err != nil {
			return err
		}
		if rq.r.Header.Get("Range") != "" {
			return errInvalidRequest.with("Cannot specify both Range header and partNumber query parameter")
		}
		in.PartNumber = n
	} else if v := rq.r.Header.Get("Range"); v != "" {
		in.Range = parseRange(v)
	}
	for p := range rq.q {
		if strings.HasPrefix(p, "response-") {
			if _, ok := responseOverrides[p]; !ok {
				return errInvalidArgument.with("Unsupported response parameter: " + p)
			}
		}
	}
	hd := rq.w.Header()
	var o *meta.Object
	var rd *object.Reader
	if head {
		// HEAD resolves the range without opening the bytes (which an
		// archived object would refuse).
		o, err = h.svc.HeadObject(rq.r.Context(), in)
		if err == nil {
			rd, err = object.Select(o, in)
		}
	} else {
		o, rd, err = h.svc.GetObject(rq.r.Context(), in)
	}
	if err != nil {
		var ae *object.ArchivedError
		if !head && errors.As(err, &ae) {
			// The bucket may ask for archived objects to be restored by
			// the GET that finds them so.
			if wait, ok := h.svc.RestoreForGet(rq.r.Context(), rq.bucket, rq.key, in.VersionID); ok {
				hd.Set("Retry-After", strconv.Itoa(int(wait.Round(time.Second)/time.Second)))
			}
		}
		if o != nil && (err == object.ErrNotModified || err == object.ErrPreconditionFailed) {
			hd.Set("ETag", `"`+o.ETag+`"`)
			hd.Set("Last-Modified", o.LastModified.UTC().Format(http.TimeFormat))
		}
		if o != nil && err == object.ErrInvalidRange {
			hd.Set("Content-Range", fmt.Sprintf("bytes */%d", o.Size))
		}
		return err
	}
	if rd.ReadCloser != nil {
		defer rd.Close()
	}
	var first *[]byte
	if !head && rd.Length > 0 {
		// Read the first bytes before any header is set and the status
		// line goes out: bytes that cannot be read at all (an archive
		// block damaged beyond repair) then get a plain 500 instead of a
		// connection closed without an answer.
		first = firstBytes.Get().(*[]byte)
		defer firstBytes.Put(first)
		n, err := io.ReadFull(rd, (*first)[:min(rd.Length, int64(len(*first)))])
		if err != nil {
			return fmt.Errorf("read object %s/%s: %w", rq.bucket, rq.key, err)
		}
		*first = (*first)[:n]
	}
	setObjectHeaders(hd, o)
	h.setExpiration(rq, o)
	h.setVersionID(rq, rq.bucket, o.VersionID)
	setEncryptionHeaders(hd, o.Encryption)
	for p, name := range responseOverrides {
		if v := rq.q.Get(p); v != "" {
			hd.Set(name, v)
		}
	}
	if len(o.Parts) > 0 && in.PartNumber > 0 {
		hd.Set("x-amz-mp-parts-count", strconv.Itoa(len(o.Parts)))
	}
	if strings.EqualFold(rq.r.Header.Get("x-amz-checksum-mode"), "ENABLED") && o.Checksum.Value != "" {
		switch {
		case !rd.Partial:
			setChecksumHeader(hd, o.Checksum.Algorithm, o.Checksum.Type, o.Checksum.Value)
		case in.PartNumber > 0:
			for _, p := range o.Parts {
				if p.Number == in.PartNumber && p.Checksum != "" {
					setChecksumHeader(hd, o.Checksum.Algorithm, "", p.Checksum)
				}
			}
		}
	}
	hd.Set("Content-Length", strconv.FormatInt(rd.Length, 10))
	status := http.StatusOK
	if rd.Partial {
		status = http.StatusPartialContent
		if rd.Length > 0 || in.PartNumber > 0 {
			hd.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", rd.Offset, rd.Offset+rd.Length-1, o.Size))
		}
	}
	rq.w.WriteHeader(status)
	if head || rd.Length == 0 {
		return nil
	}
	_, err = rq.w.Write(*first)
	if err == nil && rd.Length > int64(len(*first)) {
		_, err = io.Copy(rq.w, rd)
	}
	*first = (*first)[:cap(*first)]
	if err != nil {
		// The status is sent: all we can do is cut the connection so the
		// client sees a short body rather than a complete-looking one.
		h.log.Warn("send object", "bucket", rq.bucket, "key", rq.key, "err", err)
		panic(http.ErrAbortHandler)
	}
	return nil
}

func (h *Handler) deleteObject(rq *request) error {
	if _, err := h.bucketOf(rq); err != nil {
		return err
	}
	vid, err := versionParam(rq)
	if err != nil {
		return err
	}
	r, err := h.svc.DeleteObject(rq.r.Context(), rq.bucket, rq.key, vid)
	if err != nil {
		return err
	}
	if r.DeleteMarker {
		rq.w.Header().Set("x-amz-delete-marker", "true")
	}
	h.setVersionID(rq, rq.bucket, r.VersionID)
	rq.w.WriteHeader(http.StatusNoContent)
	return nil
}

// copySource parses x-amz-copy-source: "[/]bucket/key[?versionId=v]",
// URL-encoded.
func copySource(v string) (bucket, key, versionID string, err error) {
	path, query, _ := strings.Cut(v, "?")
	p, uerr := url.PathUnescape(path)
	if uerr != nil {
		return "", "", "", errInvalidArgument.with("Invalid copy source encoding")
	}
	p = strings.TrimPrefix(p, "/")
	bucket, key, ok := strings.Cut(p, "/")
	if !ok || bucket == "" || key == "" {
		return "", "", "", errInvalidArgument.with("Copy Source must mention the source bucket and key: sourcebucket/sourcekey")
	}
	if query != "" {
		q, qerr := url.ParseQuery(query)
		if qerr != nil {
			return "", "", "", errInvalidArgument.with("Invalid copy source")
		}
		if q.Has("versionId") {
			versionID = q.Get("versionId")
			if err := object.CheckVersionID(versionID); err != nil {
				return "", "", "", err
			}
		}
	}
	return bucket, key, versionID, nil
}

// copySourceOf parses x-amz-copy-source and checks that the caller owns
// the source bucket too.
func (h *Handler) copySourceOf(rq *request) (bucket, key, versionID string, err error) {
	bucket, key, versionID, err = copySource(rq.r.Header.Get("x-amz-copy-source"))
	if err != nil {
		return "", "", "", err
	}
	b, err := h.svc.GetBucket(rq.r.Context(), bucket)
	if err != nil {
		return "", "", "", err
	}
	action := "s3:GetObject"
	if versionID != "" {
		action = "s3:GetObjectVersion"
	}
	if b.Owner != rq.owner || !h.allowed(rq, action, "arn:aws:s3:::"+bucket+"/"+key) {
		return "", "", "", errAccessDenied
	}
	return bucket, key, versionID, nil
}

func directive(hd http.Header, name string) (replace bool, err error) {
	switch v := hd.Get(name); v {
	case "", "COPY":
		return false, nil
	case "REPLACE":
		return true, nil
	default:
		return false, errInvalidArgument.with("Unknown " + strings.TrimPrefix(name, "x-amz-") + " directive.")
	}
}

func (h *Handler) copyObject(rq *request) error {
	if _, err := h.bucketOf(rq); err != nil {
		return err
	}
	sb, sk, sv, err := h.copySourceOf(rq)
	if err != nil {
		return err
	}
	hd := rq.r.Header
	replaceMeta, err := directive(hd, "x-amz-metadata-directive")
	if err != nil {
		return err
	}
	replaceTags, err := directive(hd, "x-amz-tagging-directive")
	if err != nil {
		return err
	}
	hdrs, um, tags, err := objectAttrs(rq.r)
	if err != nil {
		return err
	}
	integ, err := integrity(rq)
	if err != nil {
		return err
	}
	enc, err := sseOf(rq.r)
	if err != nil {
		return err
	}
	srcKey, err := customerKey(rq.r, "x-amz-copy-source-")
	if err != nil {
		return err
	}
	if err := h.checkACL(rq); err != nil {
		return err
	}
	o, err := h.svc.CopyObject(rq.r.Context(), object.CopyInput{SSE: enc, SrcCustomerKey: srcKey,
		SrcBucket: sb, SrcKey: sk, SrcVersionID: sv, Bucket: rq.bucket, Key: rq.key, Owner: rq.user,
		Source:          conditions(hd, "x-amz-copy-source-"),
		ReplaceMetadata: replaceMeta, Headers: hdrs, UserMeta: um,
		ReplaceTags: replaceTags, Tags: tags,
		StorageClass: hd.Get("x-amz-storage-class"), Algorithm: integ.Algorithm,
	})
	if err != nil {
		return err
	}
	res := copyObjectResult{Xmlns: s3NS, LastModified: xmlTime(o.LastModified), ETag: `"` + o.ETag + `"`}
	if o.Checksum.Value != "" {
		res.ChecksumType = o.Checksum.Type
		res.set(o.Checksum.Algorithm, o.Checksum.Value)
	}
	h.setExpiration(rq, o)
	h.setVersionID(rq, rq.bucket, o.VersionID)
	setEncryptionHeaders(rq.w.Header(), o.Encryption)
	if sv != "" {
		rq.w.Header().Set("x-amz-copy-source-version-id", sv)
	} else {
		h.setCopySourceVersion(rq, sb, sk)
	}
	writeXML(rq.w, res)
	return nil
}

// setCopySourceVersion sets x-amz-copy-source-version-id to the
// version a copy without a source versionId read, where S3 names it.
func (h *Handler) setCopySourceVersion(rq *request, bucket, key string) {
	if o, err := h.svc.HeadObject(rq.r.Context(), object.GetInput{Bucket: bucket, Key: key}); err == nil && o.VersionID != meta.NullVersion {
		rq.w.Header().Set("x-amz-copy-source-version-id", o.VersionID)
	}
}

func (h *Handler) putObjectTagging(rq *request) error {
	if _, err := h.bucketOf(rq); err != nil {
		return err
	}
	var t tagging
	if err := readXML(rq, &t, false); err != nil {
		return err
	}
	tags := make([]meta.Tag, 0, len(t.TagSet))
	for _, x := range t.TagSet {
		tags = append(tags, meta.Tag{Key: x.Key, Value: x.Value})
	}
	vid, err := versionParam(rq)
	if err != nil {
		return err
	}
	if vid, err = h.svc.PutObjectTagging(rq.r.Context(), rq.bucket, rq.key, vid, tags); err != nil {
		return err
	}
	h.setVersionID(rq, rq.bucket, vid)
	rq.w.WriteHeader(http.StatusOK)
	return nil
}

func (h *Handler) getObjectTagging(rq *request) error {
	if _, err := h.bucketOf(rq); err != nil {
		return err
	}
	vid, err := versionParam(rq)
	if err != nil {
		return err
	}
	tags, vid, err := h.svc.GetObjectTagging(rq.r.Context(), rq.bucket, rq.key, vid)
	if err != nil {
		return err
	}
	h.setVersionID(rq, rq.bucket, vid)
	t := tagging{Xmlns: s3NS, TagSet: []tagXML{}}
	for _, x := range tags {
		t.TagSet = append(t.TagSet, tagXML{Key: x.Key, Value: x.Value})
	}
	writeXML(rq.w, t)
	return nil
}

func (h *Handler) deleteObjectTagging(rq *request) error {
	if _, err := h.bucketOf(rq); err != nil {
		return err
	}
	vid, err := versionParam(rq)
	if err != nil {
		return err
	}
	if vid, err = h.svc.DeleteObjectTagging(rq.r.Context(), rq.bucket, rq.key, vid); err != nil {
		return err
	}
	h.setVersionID(rq, rq.bucket, vid)
	rq.w.WriteHeader(http.StatusNoContent)
	return nil
}
