package s3api

import (
	"encoding/base64"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/firnhq/firn/internal/lifecycle/tiering"
)

// Bucket Intelligent-Tiering configurations:
// Put/Get/DeleteBucketIntelligentTieringConfiguration on
// /{bucket}?intelligent-tiering&id=ID and
// ListBucketIntelligentTieringConfigurations on
// /{bucket}?intelligent-tiering. The documents are read, checked and
// written by package tiering; the object service stores them.

// tieringID returns the request's id query parameter, which every call
// but the listing requires.
func tieringID(rq *request) (string, error) {
	id := rq.q.Get("id")
	if id == "" {
		e := errInvalidArgument.with("Missing required parameter: id")
		e.Extra = [][2]string{{"ArgumentName", "id"}, {"ArgumentValue", ""}}
		return "", e
	}
	return id, nil
}

func (h *Handler) putBucketIntelligentTiering(rq *request) error {
	if _, err := h.bucketOf(rq); err != nil {
		return err
	}
	id, err := tieringID(rq)
	if err != nil {
		return err
	}
	// Unlike a lifecycle configuration, S3 does not require the body's
	// integrity (no requestChecksumRequired), but checks what is sent.
	body, err := readConfigBody(rq, true)
	if err != nil {
		return err
	}
	if err := h.svc.PutIntelligentTiering(rq.r.Context(), rq.bucket, id, body); err != nil {
		return err
	}
	rq.w.WriteHeader(http.StatusOK)
	return nil
}

// getBucketIntelligentTiering answers GetBucketIntelligentTieringConfiguration
// (with an id) and ListBucketIntelligentTieringConfigurations (without).
func (h *Handler) getBucketIntelligentTiering(rq *request) error {
	if _, err := h.bucketOf(rq); err != nil {
		return err
	}
	if !rq.has("id") {
		return h.listBucketIntelligentTiering(rq)
	}
	id, err := tieringID(rq)
	if err != nil {
		return err
	}
	c, err := h.svc.GetIntelligentTiering(rq.r.Context(), rq.bucket, id)
	if err != nil {
		return err
	}
	writeDocument(rq.w, c.Marshal())
	return nil
}

// listBucketIntelligentTiering answers a page of tiering.PageSize
// configurations in ID order. The continuation token is the last ID of
// the previous page, base64url-encoded.
func (h *Handler) listBucketIntelligentTiering(rq *request) error {
	token := rq.q.Get("continuation-token")
	var after string
	if rq.has("continuation-token") {
		b, err := base64.RawURLEncoding.DecodeString(token)
		if err != nil || len(b) == 0 {
			return errInvalidArgument.with("The continuation token provided is incorrect")
		}
		after = string(b)
	}
	all, err := h.svc.IntelligentTieringFor(rq.r.Context(), rq.bucket)
	if err != nil {
		return err
	}
	// The page starts after the token's ID, whether or not that
	// configuration still exists.
	start, found := slices.BinarySearchFunc(all, after, func(c tiering.Configuration, id string) int { return strings.Compare(c.ID, id) })
	if found {
		start++
	}
	page := tiering.Page{ContinuationToken: token}
	end := min(start+tiering.PageSize, len(all))
	page.Configurations = all[start:end]
	if end < len(all) {
		page.NextContinuationToken = base64.RawURLEncoding.EncodeToString([]byte(all[end-1].ID))
	}
	writeDocument(rq.w, tiering.MarshalList(page))
	return nil
}

func (h *Handler) deleteBucketIntelligentTiering(rq *request) error {
	if _, err := h.bucketOf(rq); err != nil {
		return err
	}
	id, err := tieringID(rq)
	if err != nil {
		return err
	}
	if err := h.svc.DeleteIntelligentTiering(rq.r.Context(), rq.bucket, id); err != nil {
		return err
	}
	rq.w.WriteHeader(http.StatusNoContent)
	return nil
}

// writeDocument sends an XML document (with its declaration) with status
// 200.
func writeDocument(w http.ResponseWriter, doc []byte) {
	hd := w.Header()
	hd.Set("Content-Type", "application/xml")
	hd.Set("Content-Length", strconv.Itoa(len(doc)))
	w.WriteHeader(http.StatusOK)
	w.Write(doc)
}
