package s3api

import (
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/firnhq/firn/internal/iam"
	"github.com/firnhq/firn/internal/meta"
	"github.com/firnhq/firn/internal/policy"
)

var (
	errMalformedPolicy    = &APIError{"MalformedPolicy", "Policies must be valid JSON and the first byte must be '{'", http.StatusBadRequest, nil}
	errNoSuchBucketPolicy = unsetConfigs["policy"]
)

// subAction names the IAM action of a bucket subresource request.
type subAction struct{ sub, action string }

// bucketSubActions lists, by method, the subresources of bucket requests
// and their IAM actions IN THE ORDER routeBucket tests them: a request
// naming several is authorized for the one that will run. (Those
// routeBucket answers NotImplemented come after the served ones.)
var bucketSubActions = map[string][]subAction{
	http.MethodPut: {
		{"lifecycle", "s3:PutLifecycleConfiguration"}, {"intelligent-tiering", "s3:PutIntelligentTieringConfiguration"},
		{"versioning", "s3:PutBucketVersioning"}, {"encryption", "s3:PutEncryptionConfiguration"},
		{"publicAccessBlock", "s3:PutBucketPublicAccessBlock"}, {"policy", "s3:PutBucketPolicy"},
		{"notification", "s3:PutBucketNotification"},
		{"tagging", "s3:PutBucketTagging"}, {"acl", "s3:PutBucketAcl"}, {"cors", "s3:PutBucketCORS"},
		{"replication", "s3:PutReplicationConfiguration"},
		{"website", "s3:PutBucketWebsite"}, {"logging", "s3:PutBucketLogging"}, {"object-lock", "s3:PutBucketObjectLockConfiguration"},
		{"ownershipControls", "s3:PutBucketOwnershipControls"}, {"accelerate", "s3:PutAccelerateConfiguration"},
		{"requestPayment", "s3:PutBucketRequestPayment"},
	},
	http.MethodDelete: {
		{"lifecycle", "s3:PutLifecycleConfiguration"}, {"intelligent-tiering", "s3:PutIntelligentTieringConfiguration"},
		{"encryption", "s3:PutEncryptionConfiguration"}, {"publicAccessBlock", "s3:PutBucketPublicAccessBlock"},
		{"policy", "s3:DeleteBucketPolicy"}, {"tagging", "s3:PutBucketTagging"}, {"cors", "s3:PutBucketCORS"},
		{"website", "s3:DeleteBucketWebsite"}, {"replication", "s3:PutReplicationConfiguration"},
	},
	http.MethodGet: {
		{"location", "s3:GetBucketLocation"}, {"uploads", "s3:ListBucketMultipartUploads"}, {"versioning", "s3:GetBucketVersioning"},
		{"acl", "s3:GetBucketAcl"}, {"lifecycle", "s3:GetLifecycleConfiguration"}, {"intelligent-tiering", "s3:GetIntelligentTieringConfiguration"},
		{"versions", "s3:ListBucketVersions"}, {"encryption", "s3:GetEncryptionConfiguration"},
		{"publicAccessBlock", "s3:GetBucketPublicAccessBlock"}, {"policyStatus", "s3:GetBucketPolicyStatus"}, {"policy", "s3:GetBucketPolicy"},
		{"notification", "s3:GetBucketNotification"}, {"logging", "s3:GetBucketLogging"},
		{"accelerate", "s3:GetAccelerateConfiguration"}, {"requestPayment", "s3:GetBucketRequestPayment"},
		{"tagging", "s3:GetBucketTagging"}, {"cors", "s3:GetBucketCORS"}, {"replication", "s3:GetReplicationConfiguration"},
		{"website", "s3:GetBucketWebsite"}, {"object-lock", "s3:GetBucketObjectLockConfiguration"},
		{"ownershipControls", "s3:GetBucketOwnershipControls"},
	},
}

// actionOf returns the IAM action and resource ARN of a request; an
// empty action means the handler authorizes item by item (DeleteObjects).
func actionOf(rq *request) (action, resource string) {
	m := rq.r.Method
	if rq.bucket == "" {
		return "s3:ListAllMyBuckets", "arn:aws:s3:::*"
	}
	if rq.key == "" {
		res := "arn:aws:s3:::" + rq.bucket
		for _, sa := range bucketSubActions[m] {
			if rq.has(sa.sub) {
				return sa.action, res
			}
		}
		switch m {
		case http.MethodPut:
			return "s3:CreateBucket", res
		case http.MethodDelete:
			return "s3:DeleteBucket", res
		case http.MethodPost:
			if rq.has("delete") {
				return "", res
			}
		}
		return "s3:ListBucket", res
	}
	res := "arn:aws:s3:::" + rq.bucket + "/" + rq.key
	versioned := rq.q.Get("versionId") != ""
	pick := func(plain, version string) string {
		if versioned {
			return version
		}
		return plain
	}
	switch m {
	case http.MethodPut:
		switch {
		case rq.has("tagging"):
			return pick("s3:PutObjectTagging", "s3:PutObjectVersionTagging"), res
		case rq.has("acl"):
			return pick("s3:PutObjectAcl", "s3:PutObjectVersionAcl"), res
		case rq.has("retention"):
			return "s3:PutObjectRetention", res
		case rq.has("legal-hold"):
			return "s3:PutObjectLegalHold", res
		}
		return "s3:PutObject", res
	case http.MethodGet, http.MethodHead:
		switch {
		case rq.has("uploadId"):
			return "s3:ListMultipartUploadParts", res
		case rq.has("tagging"):
			return pick("s3:GetObjectTagging", "s3:GetObjectVersionTagging"), res
		case rq.has("acl"):
			return pick("s3:GetObjectAcl", "s3:GetObjectVersionAcl"), res
		case rq.has("attributes"):
			return pick("s3:GetObjectAttributes", "s3:GetObjectVersionAttributes"), res
		}
		return pick("s3:GetObject", "s3:GetObjectVersion"), res
	case http.MethodDelete:
		switch {
		case rq.has("uploadId"):
			return "s3:AbortMultipartUpload", res
		case rq.has("tagging"):
			return pick("s3:DeleteObjectTagging", "s3:DeleteObjectVersionTagging"), res
		}
		return pick("s3:DeleteObject", "s3:DeleteObjectVersion"), res
	case http.MethodPost:
		// In routeObject's order: uploads and uploadId before restore.
		switch {
		case rq.has("uploads"), rq.has("uploadId"):
			return "s3:PutObject", res
		case rq.has("restore"):
			return "s3:RestoreObject", res
		case rq.has("select"):
			return "s3:GetObject", res
		}
		return "s3:PutObject", res
	}
	return "s3:GetObject", res
}

// conditionContext returns the condition keys of a request.
func (h *Handler) conditionContext(rq *request) map[string][]string {
	r := rq.r
	now := h.now().UTC()
	c := map[string][]string{
		"aws:CurrentTime":     {now.Format(time.RFC3339)},
		"aws:EpochTime":       {strconv.FormatInt(now.Unix(), 10)},
		"aws:SecureTransport": {strconv.FormatBool(r.TLS != nil)},
		"aws:PrincipalArn":    {rq.identity.ARN()},
		"s3:signatureversion": {"AWS4-HMAC-SHA256"},
	}
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		c["aws:SourceIp"] = []string{host}
	}
	if ua := r.Header.Get("User-Agent"); ua != "" {
		c["aws:UserAgent"] = []string{ua}
	}
	switch rq.identity.Kind {
	case iam.User:
		c["aws:username"] = []string{rq.identity.User}
		c["aws:userid"] = []string{rq.identity.User}
		c["aws:PrincipalType"] = []string{"User"}
		c["aws:PrincipalAccount"] = []string{iam.Account}
	case iam.Root:
		c["aws:PrincipalType"] = []string{"Account"}
		c["aws:PrincipalAccount"] = []string{iam.Account}
	default:
		c["aws:PrincipalType"] = []string{"Anonymous"}
	}
	if rq.auth != nil && rq.auth.Presigned {
		c["s3:authType"] = []string{"REST-QUERY-STRING"}
	} else {
		c["s3:authType"] = []string{"REST-HEADER"}
	}
	for _, q := range []string{"prefix", "delimiter", "max-keys"} {
		if rq.q.Has(q) {
			c["s3:"+q] = []string{rq.q.Get(q)}
		}
	}
	if v := rq.q.Get("versionId"); v != "" {
		c["s3:versionid"] = []string{v}
	}
	for _, hd := range []string{"x-amz-server-side-encryption", "x-amz-storage-class", "x-amz-acl", "x-amz-copy-source",
		"x-amz-metadata-directive", "x-amz-content-sha256", "x-amz-server-side-encryption-customer-algorithm"} {
		if v := r.Header.Get(hd); v != "" {
			c["s3:"+hd] = []string{v}
		}
	}
	return c
}

// authorize decides a request of a user or an anonymous caller by the
// policies (root's requests are the owner's and pass). Allowed requests
// act as the account owner.
func (h *Handler) authorize(rq *request) error {
	if h.iam == nil || rq.identity.Kind == iam.Root {
		return nil
	}
	action, resource := actionOf(rq)
	if action == "" {
		return nil // the handler asks item by item
	}
	if !h.allowed(rq, action, resource) {
		return errAccessDenied
	}
	return nil
}

// allowed reports whether the caller may perform action on resource:
// root always; a user when its identity policy or the bucket's policy
// allows and neither denies; an anonymous caller when the bucket's policy
// allows and the bucket's public access block does not restrict it.
func (h *Handler) allowed(rq *request, action, resource string) bool {
	id := rq.identity
	if h.iam == nil || id.Kind == iam.Root {
		return true
	}
	ctx := rq.r.Context()
	req := policy.Request{Principal: id.ARN(), Action: action, Resource: resource, Context: h.conditionContext(rq)}
	var ds []policy.Decision
	if id.Kind == iam.User {
		p, err := h.iam.UserPolicy(ctx, id.User)
		if err != nil {
			h.log.Warn("identity policy", "user", id.User, "err", err)
			return false
		}
		ds = append(ds, p.Evaluate(req))
	}
	bucket := bucketOfARN(resource)
	if bucket != "" {
		bp, pab, err := h.svc.AccessPolicy(ctx, bucket)
		if err != nil && !errors.Is(err, meta.ErrNoSuchBucket) {
			h.log.Warn("bucket policy", "bucket", bucket, "err", err)
			return false
		}
		if bp != nil {
			d := bp.Evaluate(req)
			// RestrictPublicBuckets: a public policy grants only the
			// account's own principals.
			if d == policy.Allow && id.Kind == iam.Anonymous && pab != nil && pab.RestrictPublicBuckets && bp.IsPublic() {
				d = policy.NotApplicable
			}
			ds = append(ds, d)
		}
	}
	return policy.Decide(ds...)
}

// bucketOfARN returns the bucket an S3 ARN names ("" for "*").
func bucketOfARN(arn string) string {
	rest, ok := strings.CutPrefix(arn, "arn:aws:s3:::")
	if !ok {
		return ""
	}
	b, _, _ := strings.Cut(rest, "/")
	if b == "*" {
		return ""
	}
	return b
}

func (h *Handler) putBucketPolicy(rq *request) error {
	if _, err := h.bucketOf(rq); err != nil {
		return err
	}
	doc, err := readBody(rq, 20<<10)
	if err != nil {
		return err
	}
	if err := h.svc.PutBucketPolicy(rq.r.Context(), rq.bucket, doc); err != nil {
		var pe *policy.Error
		if errors.As(err, &pe) {
			return errMalformedPolicy.with(pe.Msg)
		}
		return err
	}
	rq.w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handler) getBucketPolicy(rq *request) error {
	if _, err := h.bucketOf(rq); err != nil {
		return err
	}
	doc, err := h.svc.GetBucketPolicy(rq.r.Context(), rq.bucket)
	if err != nil {
		return err
	}
	rq.w.Header().Set("Content-Type", "application/json")
	rq.w.Header().Set("Content-Length", strconv.Itoa(len(doc)))
	rq.w.WriteHeader(http.StatusOK)
	rq.w.Write(doc)
	return nil
}

func (h *Handler) deleteBucketPolicy(rq *request) error {
	if _, err := h.bucketOf(rq); err != nil {
		return err
	}
	if err := h.svc.DeleteBucketPolicy(rq.r.Context(), rq.bucket); err != nil {
		return err
	}
	rq.w.WriteHeader(http.StatusNoContent)
	return nil
}

type policyStatus struct {
	XMLName  struct{} `xml:"PolicyStatus"`
	Xmlns    string   `xml:"xmlns,attr"`
	IsPublic bool     `xml:"IsPublic"`
}

func (h *Handler) getBucketPolicyStatus(rq *request) error {
	if _, err := h.bucketOf(rq); err != nil {
		return err
	}
	public, err := h.svc.BucketPolicyStatus(rq.r.Context(), rq.bucket)
	if err != nil {
		return err
	}
	writeXML(rq.w, policyStatus{Xmlns: s3NS, IsPublic: public})
	return nil
}

// readBody reads a request body of at most limit bytes.
func readBody(rq *request, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(rq.body(), limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, errMalformedPolicy.with("Policies must not exceed 20 KB")
	}
	return b, nil
}
