package s3api

import (
	"crypto/md5"
	"encoding/base64"
	"encoding/xml"
	"net/http"

	"github.com/firnhq/firn/internal/meta"
	"github.com/firnhq/firn/internal/object"
)

var (
	errNoSuchEncryptionConfiguration = &APIError{"ServerSideEncryptionConfigurationNotFoundError",
		"The server side encryption configuration was not found", http.StatusNotFound, nil}
	errSSECRequired      = errInvalidRequest.with("The object was stored using a form of Server Side Encryption. The correct parameters must be provided to retrieve the object.")
	errSSECNotApplicable = errInvalidRequest.with("The encryption parameters are not applicable to this object.")
)

// customerKey reads the SSE-C headers (with prefix
// "x-amz-copy-source-" those of a copy source, which are named
// x-amz-copy-source-server-side-encryption-customer-*): nil when absent,
// the checked key otherwise.
func customerKey(r *http.Request, prefix string) ([]byte, error) {
	hd := r.Header
	base := "x-amz-server-side-encryption-customer-"
	if prefix != "" {
		base = prefix + "server-side-encryption-customer-"
	}
	alg := hd.Get(base + "algorithm")
	key := hd.Get(base + "key")
	sum := hd.Get(base + "key-MD5")
	if alg == "" && key == "" && sum == "" {
		return nil, nil
	}
	switch {
	case alg == "":
		return nil, errInvalidArgument.with("Requests specifying Server Side Encryption with Customer provided keys must provide a valid encryption algorithm.")
	case alg != object.SSEAES256:
		return nil, errInvalidArgument.with("The encryption algorithm specified is not valid for Server Side Encryption with Customer provided keys.")
	case key == "":
		return nil, errInvalidArgument.with("Requests specifying Server Side Encryption with Customer provided keys must provide an appropriate secret key.")
	case sum == "":
		return nil, errInvalidArgument.with("Requests specifying Server Side Encryption with Customer provided keys must provide the client calculated MD5 of the secret key.")
	}
	k, err := base64.StdEncoding.DecodeString(key)
	if err != nil || len(k) != 32 {
		return nil, errInvalidArgument.with("The secret key was invalid for the specified algorithm.")
	}
	got := md5.Sum(k)
	if base64.StdEncoding.EncodeToString(got[:]) != sum {
		return nil, errInvalidArgument.with("The calculated MD5 hash of the key did not match the hash that was provided.")
	}
	return k, nil
}

// sseOf reads the encryption a write asks for.
func sseOf(r *http.Request) (object.SSE, error) {
	ck, err := customerKey(r, "")
	if err != nil {
		return object.SSE{}, err
	}
	return object.SSE{Algorithm: r.Header.Get("x-amz-server-side-encryption"), CustomerKey: ck}, nil
}

// readSSE refuses x-amz-server-side-encryption on a read (S3 answers
// 400) and returns the SSE-C key a read carries.
func readSSE(r *http.Request) ([]byte, error) {
	if r.Header.Get("x-amz-server-side-encryption") != "" {
		return nil, errInvalidArgument.with("x-amz-server-side-encryption header is not supported for this operation.")
	}
	return customerKey(r, "")
}

// setEncryptionHeaders answers with how e encrypts an object.
func setEncryptionHeaders(hd http.Header, e *meta.Encryption) {
	switch {
	case e == nil:
	case e.CustomerKeyMD5 != "":
		hd.Set("x-amz-server-side-encryption-customer-algorithm", object.SSEAES256)
		hd.Set("x-amz-server-side-encryption-customer-key-MD5", e.CustomerKeyMD5)
	default:
		hd.Set("x-amz-server-side-encryption", e.Algorithm)
	}
}

type encryptionByDefault struct {
	SSEAlgorithm   string `xml:"SSEAlgorithm"`
	KMSMasterKeyID string `xml:"KMSMasterKeyID,omitempty"`
}

type encryptionRule struct {
	ApplyServerSideEncryptionByDefault *encryptionByDefault `xml:"ApplyServerSideEncryptionByDefault"`
	BucketKeyEnabled                   *bool                `xml:"BucketKeyEnabled"`
}

type encryptionConfiguration struct {
	XMLName xml.Name         `xml:"ServerSideEncryptionConfiguration"`
	Xmlns   string           `xml:"xmlns,attr,omitempty"`
	Rules   []encryptionRule `xml:"Rule"`
}

func (h *Handler) putBucketEncryption(rq *request) error {
	if _, err := h.bucketOf(rq); err != nil {
		return err
	}
	var c encryptionConfiguration
	if err := readXML(rq, &c, false); err != nil {
		return err
	}
	if len(c.Rules) != 1 || c.Rules[0].ApplyServerSideEncryptionByDefault == nil {
		return errMalformedXML
	}
	d := c.Rules[0].ApplyServerSideEncryptionByDefault
	be := object.BucketEncryption{Algorithm: d.SSEAlgorithm, KMSMasterKeyID: d.KMSMasterKeyID}
	if b := c.Rules[0].BucketKeyEnabled; b != nil {
		be.BucketKeyEnabled = *b
	}
	if be.KMSMasterKeyID != "" && be.Algorithm == object.SSEAES256 {
		return errInvalidArgument.with("a KMSMasterKeyID is not applicable if the default sse algorithm is not aws:kms or aws:kms:dsse")
	}
	if err := h.svc.PutBucketEncryption(rq.r.Context(), rq.bucket, be); err != nil {
		return err
	}
	rq.w.WriteHeader(http.StatusOK)
	return nil
}

func (h *Handler) getBucketEncryption(rq *request) error {
	if _, err := h.bucketOf(rq); err != nil {
		return err
	}
	be, err := h.svc.GetBucketEncryption(rq.r.Context(), rq.bucket)
	if err != nil {
		return err
	}
	bk := be.BucketKeyEnabled
	writeXML(rq.w, encryptionConfiguration{Xmlns: s3NS, Rules: []encryptionRule{{
		ApplyServerSideEncryptionByDefault: &encryptionByDefault{SSEAlgorithm: be.Algorithm, KMSMasterKeyID: be.KMSMasterKeyID},
		BucketKeyEnabled:                   &bk,
	}}})
	return nil
}

func (h *Handler) deleteBucketEncryption(rq *request) error {
	if _, err := h.bucketOf(rq); err != nil {
		return err
	}
	if err := h.svc.DeleteBucketEncryption(rq.r.Context(), rq.bucket); err != nil {
		return err
	}
	rq.w.WriteHeader(http.StatusNoContent)
	return nil
}
