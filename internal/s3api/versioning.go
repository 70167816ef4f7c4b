package s3api

import (
	"encoding/xml"
	"errors"
	"net/http"

	"github.com/firnhq/firn/internal/meta"
	"github.com/firnhq/firn/internal/object"
)

var errIllegalVersioningConfiguration = &APIError{"IllegalVersioningConfigurationException",
	"The Versioning element must be specified", http.StatusBadRequest, nil}

// versioningRequest is PutBucketVersioning's body.
type versioningRequest struct {
	XMLName   xml.Name `xml:"VersioningConfiguration"`
	Status    string   `xml:"Status"`
	MfaDelete string   `xml:"MfaDelete"`
}

func (h *Handler) putBucketVersioning(rq *request) error {
	if _, err := h.bucketOf(rq); err != nil {
		return err
	}
	var req versioningRequest
	if err := readXML(rq, &req, false); err != nil {
		return err
	}
	switch req.MfaDelete {
	case "", "Disabled":
	case "Enabled":
		return errNotImplemented.with("MFA Delete is not supported.")
	default:
		return errMalformedXML
	}
	if err := h.svc.PutBucketVersioning(rq.r.Context(), rq.bucket, req.Status); err != nil {
		if errors.Is(err, object.ErrIllegalVersioningConfiguration) {
			return errIllegalVersioningConfiguration
		}
		return err
	}
	rq.w.WriteHeader(http.StatusOK)
	return nil
}

func (h *Handler) getBucketVersioning(rq *request) error {
	if _, err := h.bucketOf(rq); err != nil {
		return err
	}
	st, err := h.svc.BucketVersioning(rq.r.Context(), rq.bucket)
	if err != nil {
		return err
	}
	writeXML(rq.w, versioningConfiguration{Xmlns: s3NS, Status: st})
	return nil
}

// setVersionID sets x-amz-version-id for version vid of an object in
// bucket: S3 sends it for every version of a bucket that has (or had)
// versioning, null included, and never in a bucket that never had it.
func (h *Handler) setVersionID(rq *request, bucket, vid string) {
	if vid == "" {
		return
	}
	if vid == meta.NullVersion {
		st, err := h.svc.BucketVersioning(rq.r.Context(), bucket)
		if err != nil || st == "" {
			return
		}
	}
	rq.w.Header().Set("x-amz-version-id", vid)
}

// versionParam returns the versionId query parameter, checked.
func versionParam(rq *request) (string, error) {
	v := rq.q.Get("versionId")
	if rq.has("versionId") && v == "" {
		return "", errInvalidArgument.with("Version id cannot be the empty string")
	}
	if v != "" {
		if err := object.CheckVersionID(v); err != nil {
			return "", err
		}
	}
	return v, nil
}

// setDeleteMarkerHeaders adds what S3 sends with an answer about a
// delete marker.
func setDeleteMarkerHeaders(w http.ResponseWriter, err error) {
	var dm *object.DeleteMarkerError
	if !errors.As(err, &dm) {
		return
	}
	hd := w.Header()
	hd.Set("x-amz-delete-marker", "true")
	if dm.VersionID != "" {
		hd.Set("x-amz-version-id", dm.VersionID)
	}
	if dm.Specified && !dm.LastModified.IsZero() {
		hd.Set("Last-Modified", dm.LastModified.UTC().Format(http.TimeFormat))
	}
}

type versionEntry struct {
	XMLName           xml.Name       `xml:"Version"`
	Key               string         `xml:"Key"`
	VersionID         string         `xml:"VersionId"`
	IsLatest          bool           `xml:"IsLatest"`
	LastModified      string         `xml:"LastModified"`
	ETag              string         `xml:"ETag"`
	ChecksumAlgorithm []string       `xml:"ChecksumAlgorithm,omitempty"`
	ChecksumType      string         `xml:"ChecksumType,omitempty"`
	Size              int64          `xml:"Size"`
	StorageClass      string         `xml:"StorageClass"`
	Owner             owner          `xml:"Owner"`
	RestoreStatus     *restoreStatus `xml:"RestoreStatus,omitempty"`
}

type deleteMarkerEntry struct {
	XMLName      xml.Name `xml:"DeleteMarker"`
	Key          string   `xml:"Key"`
	VersionID    string   `xml:"VersionId"`
	IsLatest     bool     `xml:"IsLatest"`
	LastModified string   `xml:"LastModified"`
	Owner        owner    `xml:"Owner"`
}

type listVersionsResult struct {
	XMLName             xml.Name `xml:"ListVersionsResult"`
	Xmlns               string   `xml:"xmlns,attr"`
	Name                string   `xml:"Name"`
	Prefix              string   `xml:"Prefix"`
	KeyMarker           string   `xml:"KeyMarker"`
	VersionIDMarker     string   `xml:"VersionIdMarker"`
	NextKeyMarker       string   `xml:"NextKeyMarker,omitempty"`
	NextVersionIDMarker string   `xml:"NextVersionIdMarker,omitempty"`
	MaxKeys             int      `xml:"MaxKeys"`
	Delimiter           string   `xml:"Delimiter,omitempty"`
	IsTruncated         bool     `xml:"IsTruncated"`
	EncodingType        string   `xml:"EncodingType,omitempty"`
	// Entries holds versionEntry and deleteMarkerEntry values in listing
	// order, as S3 interleaves them.
	Entries        []any          `xml:""`
	CommonPrefixes []commonPrefix `xml:"CommonPrefixes"`
}

func (h *Handler) listObjectVersions(rq *request) error {
	q := rq.q
	max, et, enc, err := h.listPrologue(rq, "max-keys")
	if err != nil {
		return err
	}
	p := meta.VersionParams{Prefix: q.Get("prefix"), Delimiter: q.Get("delimiter"), KeyMarker: q.Get("key-marker"),
		VersionIDMarker: q.Get("version-id-marker"), MaxKeys: max}
	if p.VersionIDMarker != "" {
		if p.KeyMarker == "" {
			return errInvalidArgument.with("A version-id marker cannot be specified without a key marker.")
		}
		if err := object.CheckVersionID(p.VersionIDMarker); err != nil {
			return err
		}
	}
	page, err := h.svc.ListObjectVersions(rq.r.Context(), rq.bucket, p)
	if err != nil {
		return err
	}
	res := listVersionsResult{Xmlns: s3NS, Name: rq.bucket, Prefix: enc(p.Prefix), KeyMarker: enc(p.KeyMarker),
		VersionIDMarker: p.VersionIDMarker, MaxKeys: max, Delimiter: enc(p.Delimiter), IsTruncated: page.IsTruncated, EncodingType: et}
	if page.IsTruncated {
		res.NextKeyMarker, res.NextVersionIDMarker = enc(page.NextKeyMarker), page.NextVersionIDMarker
	}
	withRestore := wantsRestoreStatus(rq)
	for _, v := range page.Versions {
		if v.DeleteMarker {
			res.Entries = append(res.Entries, deleteMarkerEntry{Key: enc(v.Key), VersionID: v.VersionID, IsLatest: v.IsLatest,
				LastModified: xmlTime(v.LastModified), Owner: ownerOf(v.Owner)})
			continue
		}
		e := versionEntry{Key: enc(v.Key), VersionID: v.VersionID, IsLatest: v.IsLatest, LastModified: xmlTime(v.LastModified),
			ETag: `"` + v.ETag + `"`, Size: v.Size, StorageClass: v.StorageClass, Owner: ownerOf(v.Owner)}
		if v.Checksum.Algorithm != "" {
			e.ChecksumAlgorithm, e.ChecksumType = []string{v.Checksum.Algorithm}, v.Checksum.Type
		}
		if withRestore && v.Restore != nil && (v.Restore.Ongoing || !v.Restore.Expiry.IsZero()) {
			e.RestoreStatus = &restoreStatus{IsRestoreInProgress: v.Restore.Ongoing}
			if !v.Restore.Ongoing {
				e.RestoreStatus.RestoreExpiryDate = xmlTime(v.Restore.Expiry)
			}
		}
		res.Entries = append(res.Entries, e)
	}
	for _, cp := range page.CommonPrefixes {
		res.CommonPrefixes = append(res.CommonPrefixes, commonPrefix{Prefix: enc(cp)})
	}
	writeXML(rq.w, res)
	return nil
}
