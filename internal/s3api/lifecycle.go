package s3api

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/firnhq/firn/internal/meta"
	"github.com/firnhq/firn/internal/object"
)

// Bucket lifecycle configuration: PutBucketLifecycleConfiguration (and
// the legacy PutBucketLifecycle, whose V1 documents share the endpoint),
// GetBucketLifecycleConfiguration and DeleteBucketLifecycle on
// /{bucket}?lifecycle. The documents are read, checked and written by
// package lifecycle; the object service stores them.

// minimumSizeHeader is the x-amz-transition-default-minimum-object-size
// header, sent with a configuration and answered on PUT and GET.
const minimumSizeHeader = "x-amz-transition-default-minimum-object-size"

func (h *Handler) putBucketLifecycle(rq *request) error {
	if _, err := h.bucketOf(rq); err != nil {
		return err
	}
	// S3 requires the body's integrity (requestChecksumRequired): the
	// SDKs send a CRC32 (header or trailer), older clients Content-MD5.
	if !hasIntegrityHeader(rq) {
		return errInvalidRequest.with("Missing required header for this request: Content-MD5")
	}
	body, err := readConfigBody(rq, true)
	if err != nil {
		return err
	}
	ms, err := h.svc.PutBucketLifecycle(rq.r.Context(), rq.bucket, body, rq.r.Header.Get(minimumSizeHeader))
	if err != nil {
		return err
	}
	rq.w.Header().Set(minimumSizeHeader, ms.String())
	rq.w.WriteHeader(http.StatusOK)
	return nil
}

func (h *Handler) getBucketLifecycle(rq *request) error {
	if _, err := h.bucketOf(rq); err != nil {
		return err
	}
	lc, err := h.svc.GetBucketLifecycle(rq.r.Context(), rq.bucket)
	if errors.Is(err, object.ErrNoSuchLifecycleConfiguration) {
		e := errNoSuchLifecycleConfiguration.with(errNoSuchLifecycleConfiguration.Message)
		e.Extra = [][2]string{{"BucketName", rq.bucket}}
		return e
	}
	if err != nil {
		return err
	}
	hd := rq.w.Header()
	hd.Set(minimumSizeHeader, lc.MinimumSize.String())
	hd.Set("Content-Type", "application/xml")
	hd.Set("Content-Length", strconv.Itoa(len(lc.Document)))
	rq.w.WriteHeader(http.StatusOK)
	rq.w.Write(lc.Document)
	return nil
}

func (h *Handler) deleteBucketLifecycle(rq *request) error {
	if _, err := h.bucketOf(rq); err != nil {
		return err
	}
	if err := h.svc.DeleteBucketLifecycle(rq.r.Context(), rq.bucket); err != nil {
		return err
	}
	rq.w.WriteHeader(http.StatusNoContent)
	return nil
}

// setExpiration writes x-amz-expiration on a GET or HEAD of o, and on
// the responses of the writes that made it (PUT, copy, complete), when a
// lifecycle rule of its bucket expires it. S3 leaves it out of a HEAD
// that names a version.
func (h *Handler) setExpiration(rq *request, o *meta.Object) {
	if rq.r.Method == http.MethodHead && rq.has("versionId") {
		return
	}
	if v := h.svc.ExpirationFor(rq.r.Context(), o); v != "" {
		rq.w.Header().Set("x-amz-expiration", v)
	}
}
