// Package s3api speaks the S3 REST protocol and nothing else: it routes
// HTTP requests (path-style and virtual-hosted-style), authenticates them
// with Signature V4 (package sigv4), decodes XML and headers into calls on
// the object service, and turns results and domain errors into S3's
// headers, XML bodies and error codes, the latter from one table
// (errors.go). No storage logic lives here.
package s3api

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/firnhq/firn/internal/audit"
	"github.com/firnhq/firn/internal/iam"
	"github.com/firnhq/firn/internal/notify"
	"github.com/firnhq/firn/internal/object"
	"github.com/firnhq/firn/internal/s3api/sigv4"
)

// Config assembles a Handler.
type Config struct {
	Service  *object.Service
	Verifier *sigv4.Verifier
	// IAM identifies callers (its Lookup should back Verifier) for
	// authorization by policies; nil: only the key holders Verifier
	// knows, each owning the buckets it made.
	IAM *iam.Service
	// Now is the clock of policy conditions; time.Now when nil.
	Now func() time.Time
	// Audit records every request; nil: none.
	Audit *audit.Logger
	// Domains are the base host names for virtual-hosted-style requests:
	// a request to "<bucket>.<domain>" addresses that bucket.
	Domains []string
	Log     *slog.Logger // nil: discard
}

// Handler serves the S3 API.
type Handler struct {
	svc      *object.Service
	auth     *sigv4.Verifier
	iam      *iam.Service
	now      func() time.Time
	auditLog *audit.Logger
	domains  []string
	log      *slog.Logger
}

// New returns the S3 API handler.
func New(c Config) *Handler {
	h := &Handler{svc: c.Service, auth: c.Verifier, iam: c.IAM, now: c.Now, auditLog: c.Audit, log: c.Log}
	if h.now == nil {
		h.now = time.Now
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	for _, d := range c.Domains {
		if d = strings.TrimSpace(strings.ToLower(d)); d != "" {
			h.domains = append(h.domains, d)
		}
	}
	return h
}

// request is one S3 call in flight.
type request struct {
	w      http.ResponseWriter
	r      *http.Request
	id     string
	bucket string
	key    string
	q      url.Values
	auth   *sigv4.Result
	user   string // authenticated access key id; "anonymous" for an unsigned request
	// identity is who the caller is; owner the access key owning the
	// buckets it acts on (root's, for users and anonymous callers).
	identity iam.Identity
	owner    string
	errCode  string // the S3 error code answered, for the audit log
}

// body is the authenticated request payload.
func (rq *request) body() io.Reader { return rq.auth.Body }

func newRequestID() string {
	var b [8]byte
	rand.Read(b[:])
	return strings.ToUpper(hex.EncodeToString(b[:]))
}

func hostID(reqID string) string {
	sum := sha256.Sum256([]byte(reqID))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Answer "Expect: 100-continue" with 100 Continue even on an empty
	// body, which net/http does not (it sends one only when the handler
	// reads a non-empty body). botocore (AWS CLI, boto3) sends the
	// expectation on empty PUTs too and, given a final response without a
	// 100 first, keeps that status line for the pooled connection: the
	// next PUT on it misparses its response, stalls until the read
	// timeout and is retried (boto/botocore#3755).
	if r.ContentLength == 0 && r.ProtoAtLeast(1, 1) && strings.EqualFold(r.Header.Get("Expect"), "100-continue") {
		w.WriteHeader(http.StatusContinue)
	}
	start := time.Now()
	aw := &auditWriter{ResponseWriter: w}
	w = aw
	var body *countingBody
	if r.Body != nil {
		body = &countingBody{ReadCloser: r.Body}
		r.Body = body
	}
	rq := &request{w: w, r: r, id: newRequestID()}
	defer h.audit(rq, aw, body, start)
	hd := w.Header()
	hd.Set("x-amz-request-id", rq.id)
	hd.Set("x-amz-id-2", hostID(rq.id))
	hd.Set("Server", "firn")
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			h.log.Error("panic serving request", "method", r.Method, "path", r.URL.Path, "panic", p, "request_id", rq.id)
			rq.errCode = errInternal.Code
			writeError(w, r, rq.id, errInternal)
		}
	}()
	if headerSize(r) > maxHeaderSection {
		rq.errCode = errHeaderTooLarge.Code
		writeError(w, r, rq.id, errHeaderTooLarge)
		return
	}
	if err := h.route(rq); err != nil {
		h.fail(rq, err)
	}
	// Drain what the client sent but we did not read, so the connection
	// can be reused; give up past a bound.
	if r.Body != nil {
		io.CopyN(io.Discard, r.Body, 1<<20)
	}
}

// maxDrainBeforeError bounds the body read and discarded before an
// error answer.
const maxDrainBeforeError = 64 << 20

// maxHeaderSection is S3's limit on the request header section (8 KB).
// The HTTP server itself refuses far larger ones before any handler runs.
const maxHeaderSection = 8 << 10

// headerSize approximates the size of r's header section on the wire.
func headerSize(r *http.Request) int {
	n := len(r.Host)
	for k, vs := range r.Header {
		for _, v := range vs {
			n += len(k) + len(v) + 4
		}
	}
	return n
}

// fail answers with the S3 error for err.
func (h *Handler) fail(rq *request, err error) {
	// A client still sending a body it was refused does not read the
	// answer until it is done, and a connection closed under it loses
	// the answer: take in the rest of a body of moderate size first.
	if r := rq.r; r.Body != nil && r.ContentLength > 0 && r.ContentLength <= maxDrainBeforeError {
		io.CopyN(io.Discard, r.Body, maxDrainBeforeError)
	}
	api, known := toAPIError(err)
	rq.errCode = api.Code
	setDeleteMarkerHeaders(rq.w, err)
	if !known {
		h.log.Error("request failed", "method", rq.r.Method, "path", rq.r.URL.Path, "err", err, "request_id", rq.id)
	}
	writeError(rq.w, rq.r, rq.id, api)
}

// split finds the bucket and key of r, from the host (virtual-hosted
// style) or the path.
func (h *Handler) split(r *http.Request) (bucket, key string, err error) {
	path := r.URL.Path
	if r.URL.RawPath != "" {
		// Decode ourselves so that an escaped "/" in a key survives.
		p, err := url.PathUnescape(r.URL.RawPath)
		if err != nil {
			return "", "", errInvalidURI
		}
		path = p
	}
	if !strings.HasPrefix(path, "/") {
		return "", "", errInvalidURI
	}
	host := strings.ToLower(r.Host)
	if hh, _, err := net.SplitHostPort(host); err == nil {
		host = hh
	}
	for _, d := range h.domains {
		if strings.HasSuffix(host, "."+d) {
			return strings.TrimSuffix(host, "."+d), path[1:], nil
		}
	}
	bucket, key, _ = strings.Cut(path[1:], "/")
	return bucket, key, nil
}

func (h *Handler) route(rq *request) error {
	r := rq.r
	bucket, key, err := h.split(r)
	if err != nil {
		return err
	}
	rq.bucket, rq.key = bucket, key
	rq.q = r.URL.Query()
	res, err := h.auth.Verify(r)
	switch {
	case err == nil:
		rq.auth, rq.user, rq.owner = res, res.AccessKeyID, res.AccessKeyID
		if h.iam != nil {
			_, rq.identity, err = h.iam.Lookup(r.Context(), res.AccessKeyID)
			if err != nil {
				return err
			}
			if rq.identity.Kind != iam.Root {
				rq.owner = h.iam.RootKey()
			}
		}
	case h.iam != nil && errors.Is(err, sigv4.ErrMissingAuth):
		// Anonymous: only a bucket policy can let it in.
		rq.auth = &sigv4.Result{Body: r.Body, DecodedLength: r.ContentLength, Trailer: func() http.Header { return nil }}
		rq.user, rq.owner, rq.identity = "anonymous", h.iam.RootKey(), iam.Identity{Kind: iam.Anonymous}
	default:
		return err
	}
	// x-amz-expected-bucket-owner names the account the caller expects
	// to own the bucket: firn's buckets are all its one account's.
	if v := r.Header.Get("x-amz-expected-bucket-owner"); v != "" && bucket != "" && v != iam.Account {
		return errAccessDenied
	}
	if err := h.authorize(rq); err != nil {
		if rq.identity.Kind == iam.Anonymous && rq.auth.AccessKeyID == "" {
			return sigv4.ErrMissingAuth
		}
		return err
	}
	if !utf8.ValidString(key) {
		// No key can be stored under it, whatever the operation.
		return errInvalidURI
	}
	rq.r = r.WithContext(notify.WithRequest(r.Context(), eventRequest(rq)))
	if bucket == "" {
		if r.Method == http.MethodGet {
			return h.listBuckets(rq)
		}
		return errMethodNotAllowed
	}
	if key == "" {
		return h.routeBucket(rq)
	}
	return h.routeObject(rq)
}

// has reports whether the query names a subresource (with or without a
// value).
func (rq *request) has(name string) bool {
	_, ok := rq.q[name]
	return ok
}

func (h *Handler) routeBucket(rq *request) error {
	switch rq.r.Method {
	case http.MethodPut:
		switch {
		case rq.has("lifecycle"):
			return h.putBucketLifecycle(rq)
		case rq.has("intelligent-tiering"):
			return h.putBucketIntelligentTiering(rq)
		case rq.has("versioning"):
			return h.putBucketVersioning(rq)
		case rq.has("encryption"):
			return h.putBucketEncryption(rq)
		case rq.has("publicAccessBlock"):
			return h.putPublicAccessBlock(rq)
		case rq.has("policy"):
			return h.putBucketPolicy(rq)
		case rq.has("notification"):
			return h.putBucketNotification(rq)
		case rq.has("tagging"), rq.has("acl"),
			rq.has("cors"), rq.has("replication"), rq.has("website"),
			rq.has("logging"), rq.has("object-lock"),
			rq.has("ownershipControls"), rq.has("accelerate"), rq.has("requestPayment"):
			return errNotImplemented
		}
		return h.createBucket(rq)
	case http.MethodHead:
		return h.headBucket(rq)
	case http.MethodDelete:
		if rq.has("lifecycle") {
			return h.deleteBucketLifecycle(rq)
		}
		if rq.has("intelligent-tiering") {
			return h.deleteBucketIntelligentTiering(rq)
		}
		if rq.has("encryption") {
			return h.deleteBucketEncryption(rq)
		}
		if rq.has("publicAccessBlock") {
			return h.deletePublicAccessBlock(rq)
		}
		if rq.has("policy") {
			return h.deleteBucketPolicy(rq)
		}
		if len(rq.q) > 0 {
			return errNotImplemented
		}
		return h.deleteBucket(rq)
	case http.MethodGet:
		switch {
		case rq.has("location"):
			return h.getBucketLocation(rq)
		case rq.has("uploads"):
			return h.listMultipartUploads(rq)
		case rq.has("versioning"):
			return h.getBucketVersioning(rq)
		case rq.has("acl"):
			return h.getACL(rq)
		case rq.has("lifecycle"):
			return h.getBucketLifecycle(rq)
		case rq.has("intelligent-tiering"):
			return h.getBucketIntelligentTiering(rq)
		case rq.has("versions"):
			return h.listObjectVersions(rq)
		case rq.has("encryption"):
			return h.getBucketEncryption(rq)
		case rq.has("publicAccessBlock"):
			return h.getPublicAccessBlock(rq)
		case rq.has("policyStatus"):
			return h.getBucketPolicyStatus(rq)
		case rq.has("policy"):
			return h.getBucketPolicy(rq)
		case rq.has("notification"):
			return h.getBucketNotification(rq)
		case rq.has("logging"),
			rq.has("accelerate"), rq.has("requestPayment"),
			rq.has("analytics"), rq.has("metrics"), rq.has("inventory"):
			return errNotImplemented
		}
		for sub, e := range unsetConfigs {
			if rq.has(sub) {
				// No firn bucket has this configuration yet: answer as S3
				// does for a bucket without one.
				if _, err := h.bucketOf(rq); err != nil {
					return err
				}
				return e
			}
		}
		if rq.q.Get("list-type") == "2" {
			return h.listObjectsV2(rq)
		}
		return h.listObjectsV1(rq)
	case http.MethodPost:
		if rq.has("delete") {
			return h.deleteObjects(rq)
		}
		return errNotImplemented
	}
	return errMethodNotAllowed
}

func (h *Handler) routeObject(rq *request) error {
	switch rq.r.Method {
	case http.MethodPut:
		switch {
		case rq.has("tagging"):
			return h.putObjectTagging(rq)
		case rq.has("acl"), rq.has("retention"), rq.has("legal-hold"):
			return errNotImplemented
		case rq.has("partNumber") && rq.has("uploadId"):
			if rq.r.Header.Get("x-amz-copy-source") != "" {
				return h.uploadPartCopy(rq)
			}
			return h.uploadPart(rq)
		case rq.r.Header.Get("x-amz-copy-source") != "":
			return h.copyObject(rq)
		}
		return h.putObject(rq)
	case http.MethodGet:
		switch {
		case rq.has("uploadId"):
			return h.listParts(rq)
		case rq.has("tagging"):
			return h.getObjectTagging(rq)
		case rq.has("acl"):
			return h.getACL(rq)
		case rq.has("attributes"), rq.has("retention"), rq.has("legal-hold"), rq.has("torrent"):
			return errNotImplemented
		}
		return h.getObject(rq, false)
	case http.MethodHead:
		return h.getObject(rq, true)
	case http.MethodDelete:
		switch {
		case rq.has("uploadId"):
			return h.abortMultipartUpload(rq)
		case rq.has("tagging"):
			return h.deleteObjectTagging(rq)
		}
		return h.deleteObject(rq)
	case http.MethodPost:
		switch {
		case rq.has("uploads"):
			return h.createMultipartUpload(rq)
		case rq.has("uploadId"):
			return h.completeMultipartUpload(rq)
		case rq.has("restore"):
			return h.restoreObject(rq)
		case rq.has("select"):
			return errNotImplemented
		}
		return errNotImplemented
	}
	return errMethodNotAllowed
}

// unsetConfigs are the errors S3 answers a GET of a bucket configuration
// that was never set.
var unsetConfigs = map[string]*APIError{
	"policy":            {"NoSuchBucketPolicy", "The bucket policy does not exist", 404, nil},
	"cors":              {"NoSuchCORSConfiguration", "The CORS configuration does not exist", 404, nil},
	"tagging":           {"NoSuchTagSet", "The TagSet does not exist", 404, nil},
	"website":           {"NoSuchWebsiteConfiguration", "The specified bucket does not have a website configuration", 404, nil},
	"replication":       {"ReplicationConfigurationNotFoundError", "The replication configuration was not found", 404, nil},
	"publicAccessBlock": {"NoSuchPublicAccessBlockConfiguration", "The public access block configuration was not found", 404, nil},
	"object-lock":       {"ObjectLockConfigurationNotFoundError", "Object Lock configuration does not exist for this bucket", 404, nil},
	"ownershipControls": {"OwnershipControlsNotFoundError", "The bucket ownership controls were not found", 404, nil},
}

// writeXML sends v as an XML document with status 200.
func writeXML(w http.ResponseWriter, v any) {
	out, err := xml.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("marshal %T: %v", v, err))
	}
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("Content-Length", strconv.Itoa(len(xml.Header)+len(out)))
	w.WriteHeader(http.StatusOK)
	io.WriteString(w, xml.Header)
	w.Write(out)
}

// maxXMLBody bounds request documents (CompleteMultipartUpload with
// 10,000 parts is the largest S3 accepts).
const maxXMLBody = 4 << 20

// readXML decodes the request body into v after checking its integrity
// headers. An empty body is MalformedXML unless allowEmpty.
func readXML(rq *request, v any, allowEmpty bool) error {
	return decodeXML(rq, v, allowEmpty, true)
}

// decodeXML is readXML; with checksums false only Content-MD5 describes
// the body (CompleteMultipartUpload's x-amz-checksum-* headers are the
// object's checksum, not the document's).
func decodeXML(rq *request, v any, allowEmpty, checksums bool) error {
	b, err := io.ReadAll(io.LimitReader(rq.body(), maxXMLBody+1))
	if err != nil {
		return err
	}
	if len(b) > maxXMLBody {
		return errMalformedXML
	}
	if err := checkBodyIntegrity(rq, b, checksums); err != nil {
		return err
	}
	if len(b) == 0 {
		if allowEmpty {
			return nil
		}
		return errMalformedXML
	}
	if err := xml.Unmarshal(b, v); err != nil {
		return errMalformedXML
	}
	return nil
}

// ownerOf returns the owner element for an access key id: a stable
// 64-hex canonical id derived from the key.
func ownerOf(accessKey string) owner {
	sum := sha256.Sum256([]byte("firn-owner:" + accessKey))
	return owner{ID: hex.EncodeToString(sum[:]), DisplayName: accessKey}
}

var _ = errors.New
var _ = context.Background
