package s3api

import (
	"encoding/xml"
	"net/http"
	"strings"

	"github.com/firnhq/firn/internal/object"
)

var (
	errNoSuchPublicAccessBlock = unsetConfigs["publicAccessBlock"]
	errACLNotSupported         = &APIError{"NotImplemented", "firn does not support ACLs that grant access to others; use a bucket policy.", http.StatusNotImplemented, nil}
	errBucketACLWithOwnership  = &APIError{"InvalidBucketAclWithObjectOwnership", "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting", http.StatusBadRequest, nil}
)

// publicAccessBlockXML is the wire form; the booleans are parsed without
// regard to case, as AWS's examples write TRUE.
type publicAccessBlockXML struct {
	XMLName               xml.Name `xml:"PublicAccessBlockConfiguration"`
	Xmlns                 string   `xml:"xmlns,attr,omitempty"`
	BlockPublicAcls       string   `xml:"BlockPublicAcls,omitempty"`
	IgnorePublicAcls      string   `xml:"IgnorePublicAcls,omitempty"`
	BlockPublicPolicy     string   `xml:"BlockPublicPolicy,omitempty"`
	RestrictPublicBuckets string   `xml:"RestrictPublicBuckets,omitempty"`
}

func parseXMLBool(v string) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "", "false":
		return false, true
	case "true":
		return true, true
	}
	return false, false
}

func xmlBool(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

func (h *Handler) putPublicAccessBlock(rq *request) error {
	if _, err := h.bucketOf(rq); err != nil {
		return err
	}
	var x publicAccessBlockXML
	if err := readXML(rq, &x, false); err != nil {
		return err
	}
	var p object.PublicAccessBlock
	for _, f := range []struct {
		v   string
		dst *bool
	}{{x.BlockPublicAcls, &p.BlockPublicAcls}, {x.IgnorePublicAcls, &p.IgnorePublicAcls},
		{x.BlockPublicPolicy, &p.BlockPublicPolicy}, {x.RestrictPublicBuckets, &p.RestrictPublicBuckets}} {
		b, ok := parseXMLBool(f.v)
		if !ok {
			return errMalformedXML
		}
		*f.dst = b
	}
	if err := h.svc.PutPublicAccessBlock(rq.r.Context(), rq.bucket, p); err != nil {
		return err
	}
	rq.w.WriteHeader(http.StatusOK)
	return nil
}

func (h *Handler) getPublicAccessBlock(rq *request) error {
	if _, err := h.bucketOf(rq); err != nil {
		return err
	}
	p, err := h.svc.GetPublicAccessBlock(rq.r.Context(), rq.bucket)
	if err != nil {
		return err
	}
	writeXML(rq.w, publicAccessBlockXML{Xmlns: s3NS, BlockPublicAcls: xmlBool(p.BlockPublicAcls), IgnorePublicAcls: xmlBool(p.IgnorePublicAcls),
		BlockPublicPolicy: xmlBool(p.BlockPublicPolicy), RestrictPublicBuckets: xmlBool(p.RestrictPublicBuckets)})
	return nil
}

func (h *Handler) deletePublicAccessBlock(rq *request) error {
	if _, err := h.bucketOf(rq); err != nil {
		return err
	}
	if err := h.svc.DeletePublicAccessBlock(rq.r.Context(), rq.bucket); err != nil {
		return err
	}
	rq.w.WriteHeader(http.StatusNoContent)
	return nil
}

// checkACL judges an object write's x-amz-acl.
func (h *Handler) checkACL(rq *request) error {
	return h.svc.CheckCannedACL(rq.r.Context(), rq.bucket, rq.r.Header.Get("x-amz-acl"))
}
