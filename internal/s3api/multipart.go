package s3api

import (
	"net/http"
	"strconv"

	"github.com/firnhq/firn/internal/checksum"
	"github.com/firnhq/firn/internal/meta"
	"github.com/firnhq/firn/internal/object"
)

func (h *Handler) createMultipartUpload(rq *request) error {
	if _, err := h.bucketOf(rq); err != nil {
		return err
	}
	hdrs, um, tags, err := objectAttrs(rq.r)
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
	in := object.CreateUploadInput{Bucket: rq.bucket, Key: rq.key, Owner: rq.user, SSE: enc,
		StorageClass: rq.r.Header.Get("x-amz-storage-class"), Headers: hdrs, UserMeta: um, Tags: tags}
	if v := rq.r.Header.Get("x-amz-checksum-algorithm"); v != "" {
		a, err := checksum.Parse(v)
		if err != nil {
			return errInvalidRequest.with("Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]")
		}
		in.Algorithm = a
	}
	if v := rq.r.Header.Get("x-amz-checksum-type"); v != "" {
		t, err := checksum.ParseType(v)
		if err != nil {
			return errInvalidRequest.with("Value for x-amz-checksum-type header is invalid.")
		}
		in.ChecksumType = t
	}
	u, err := h.svc.CreateMultipartUpload(rq.r.Context(), in)
	if err != nil {
		return err
	}
	if a := u.Template.Checksum.Algorithm; a != "" {
		rq.w.Header().Set("x-amz-checksum-algorithm", a)
		rq.w.Header().Set("x-amz-checksum-type", u.Template.Checksum.Type)
	}
	setEncryptionHeaders(rq.w.Header(), u.Template.Encryption)
	if at, rule, ok := h.svc.AbortDateFor(rq.r.Context(), u); ok {
		rq.w.Header().Set("x-amz-abort-date", at.Format(http.TimeFormat))
		rq.w.Header().Set("x-amz-abort-rule-id", rule)
	}
	writeXML(rq.w, initiateMultipartUploadResult{Xmlns: s3NS, Bucket: rq.bucket, Key: rq.key, UploadID: u.ID})
	return nil
}

func partNumber(rq *request) (int, error) {
	n, err := strconv.Atoi(rq.q.Get("partNumber"))
	if err != nil {
		n = -1
	}
	if err := object.CheckPartNumber(n); err != nil {
		return 0, err
	}
	return n, nil
}

func (h *Handler) uploadPart(rq *request) error {
	if _, err := h.bucketOf(rq); err != nil {
		return err
	}
	n, err := partNumber(rq)
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
	ck, err := customerKey(rq.r, "")
	if err != nil {
		return err
	}
	p, err := h.svc.UploadPart(rq.r.Context(), object.UploadPartInput{Bucket: rq.bucket, Key: rq.key, UploadID: rq.q.Get("uploadId"),
		PartNumber: n, Body: rq.body(), Size: size, Integrity: integ, CustomerKey: ck})
	if err != nil {
		return err
	}
	hd := rq.w.Header()
	hd.Set("ETag", `"`+p.ETag+`"`)
	if u, err := h.svc.GetUpload(rq.r.Context(), rq.bucket, rq.key, p.UploadID); err == nil {
		if p.Checksum != "" {
			setChecksumHeader(hd, u.Template.Checksum.Algorithm, "", p.Checksum)
		}
		setEncryptionHeaders(hd, u.Template.Encryption)
	}
	rq.w.WriteHeader(http.StatusOK)
	return nil
}

func (h *Handler) uploadPartCopy(rq *request) error {
	if _, err := h.bucketOf(rq); err != nil {
		return err
	}
	n, err := partNumber(rq)
	if err != nil {
		return err
	}
	sb, sk, sv, err := h.copySourceOf(rq)
	if err != nil {
		return err
	}
	ck, err := customerKey(rq.r, "")
	if err != nil {
		return err
	}
	srcKey, err := customerKey(rq.r, "x-amz-copy-source-")
	if err != nil {
		return err
	}
	in := object.CopyPartInput{SrcCustomerKey: srcKey, CustomerKey: ck, SrcBucket: sb, SrcKey: sk, SrcVersionID: sv, Source: conditions(rq.r.Header, "x-amz-copy-source-"),
		Bucket: rq.bucket, Key: rq.key, UploadID: rq.q.Get("uploadId"), PartNumber: n}
	if v := rq.r.Header.Get("x-amz-copy-source-range"); v != "" {
		r := parseRange(v)
		if r == nil || r.Suffix > 0 || r.Last < 0 {
			return errInvalidArgument.with("The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy")
		}
		in.Range = r
	}
	p, _, err := h.svc.UploadPartCopy(rq.r.Context(), in)
	if err != nil {
		return err
	}
	res := copyPartResult{Xmlns: s3NS, LastModified: xmlTime(p.LastModified), ETag: `"` + p.ETag + `"`}
	if u, err := h.svc.GetUpload(rq.r.Context(), rq.bucket, rq.key, p.UploadID); err == nil {
		if p.Checksum != "" {
			res.set(u.Template.Checksum.Algorithm, p.Checksum)
		}
		setEncryptionHeaders(rq.w.Header(), u.Template.Encryption)
	}
	writeXML(rq.w, res)
	return nil
}

func (h *Handler) completeMultipartUpload(rq *request) error {
	if _, err := h.bucketOf(rq); err != nil {
		return err
	}
	var req completeMultipartUpload
	if err := decodeXML(rq, &req, false, false); err != nil {
		return err
	}
	uploadID := rq.q.Get("uploadId")
	u, err := h.svc.GetUpload(rq.r.Context(), rq.bucket, rq.key, uploadID)
	if err != nil {
		return err
	}
	alg := u.Template.Checksum.Algorithm
	in := object.CompleteInput{Bucket: rq.bucket, Key: rq.key, UploadID: uploadID}
	for _, p := range req.Parts {
		cp := object.CompletedPart{Number: p.PartNumber, ETag: p.ETag}
		cp.Checksum = p.get(alg)
		in.Parts = append(in.Parts, cp)
	}
	if alg != "" {
		a, _ := checksum.Parse(alg)
		in.Checksum = rq.r.Header.Get(a.Header())
	}
	o, err := h.svc.CompleteMultipartUpload(rq.r.Context(), in)
	if err != nil {
		return err
	}
	res := completeMultipartUploadResult{Xmlns: s3NS, Location: "/" + rq.bucket + "/" + rq.key, Bucket: rq.bucket, Key: rq.key, ETag: `"` + o.ETag + `"`}
	if o.Checksum.Value != "" {
		res.ChecksumType = o.Checksum.Type
		res.set(o.Checksum.Algorithm, o.Checksum.Value)
	}
	h.setExpiration(rq, o)
	h.setVersionID(rq, rq.bucket, o.VersionID)
	setEncryptionHeaders(rq.w.Header(), o.Encryption)
	writeXML(rq.w, res)
	return nil
}

func (h *Handler) abortMultipartUpload(rq *request) error {
	if _, err := h.bucketOf(rq); err != nil {
		return err
	}
	if err := h.svc.AbortMultipartUpload(rq.r.Context(), rq.bucket, rq.key, rq.q.Get("uploadId")); err != nil {
		return err
	}
	rq.w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handler) listParts(rq *request) error {
	if _, err := h.bucketOf(rq); err != nil {
		return err
	}
	uploadID := rq.q.Get("uploadId")
	u, err := h.svc.GetUpload(rq.r.Context(), rq.bucket, rq.key, uploadID)
	if err != nil {
		return err
	}
	max, err := maxKeysParam(rq.q, "max-parts")
	if err != nil {
		return err
	}
	after := 0
	if v := rq.q.Get("part-number-marker"); v != "" {
		after, err = strconv.Atoi(v)
		if err != nil || after < 0 {
			return errInvalidArgument.with("Provided part-number-marker not an integer or within integer range")
		}
	}
	parts, truncated, err := h.svc.ListParts(rq.r.Context(), rq.bucket, rq.key, uploadID, after, max)
	if err != nil {
		return err
	}
	ow := ownerOf(u.Owner)
	res := listPartsResult{Xmlns: s3NS, Bucket: rq.bucket, Key: rq.key, UploadID: uploadID, PartNumberMarker: after,
		MaxParts: max, IsTruncated: truncated, Initiator: ow, Owner: ow, StorageClass: u.Template.StorageClass,
		ChecksumAlgorithm: u.Template.Checksum.Algorithm, ChecksumType: u.Template.Checksum.Type}
	for _, p := range parts {
		e := partEntry{PartNumber: p.Number, LastModified: xmlTime(p.LastModified), ETag: `"` + p.ETag + `"`, Size: p.Size}
		e.set(u.Template.Checksum.Algorithm, p.Checksum)
		res.Parts = append(res.Parts, e)
		res.NextPartNumberMarker = p.Number
	}
	writeXML(rq.w, res)
	return nil
}

func (h *Handler) listMultipartUploads(rq *request) error {
	q := rq.q
	max, et, enc, err := h.listPrologue(rq, "max-uploads")
	if err != nil {
		return err
	}
	page, err := h.svc.ListMultipartUploads(rq.r.Context(), rq.bucket, q.Get("prefix"), q.Get("delimiter"),
		q.Get("key-marker"), q.Get("upload-id-marker"), max)
	if err != nil {
		return err
	}
	res := listMultipartUploadsResult{Xmlns: s3NS, Bucket: rq.bucket, KeyMarker: enc(q.Get("key-marker")), UploadIDMarker: q.Get("upload-id-marker"),
		Delimiter: enc(q.Get("delimiter")), Prefix: enc(q.Get("prefix")), EncodingType: et, MaxUploads: max, IsTruncated: page.IsTruncated}
	if page.IsTruncated {
		res.NextKeyMarker, res.NextUploadIDMarker = enc(page.NextKeyMarker), page.NextIDMarker
	}
	for _, u := range page.Uploads {
		ow := ownerOf(u.Owner)
		res.Uploads = append(res.Uploads, uploadEntry{Key: enc(u.Key), UploadID: u.ID, Initiator: ow, Owner: ow,
			StorageClass: u.Template.StorageClass, Initiated: xmlTime(u.Initiated),
			ChecksumAlgorithm: u.Template.Checksum.Algorithm, ChecksumType: u.Template.Checksum.Type})
	}
	for _, p := range page.CommonPrefixes {
		res.CommonPrefixes = append(res.CommonPrefixes, commonPrefix{Prefix: enc(p)})
	}
	writeXML(rq.w, res)
	return nil
}

var _ = meta.Tag{}
