package meta

import "context"

// VersionParams selects a page of a ListObjectVersions listing.
type VersionParams struct {
	Prefix, Delimiter string
	// KeyMarker and VersionIDMarker: entries sort strictly after that
	// version of KeyMarker, or after every version of KeyMarker when
	// VersionIDMarker is "".
	KeyMarker, VersionIDMarker string
	MaxKeys                    int // 0 returns an empty, untruncated page
}

// VersionPage is one page of a version listing: versions (delete markers
// included, in key order and newest first within a key) and common
// prefixes, together at most MaxKeys entries.
type VersionPage struct {
	Versions       []Object
	CommonPrefixes []string
	IsTruncated    bool
	// NextKeyMarker and NextVersionIDMarker name the last entry
	// returned (a common prefix has no version id), to pass as markers
	// for the next page when IsTruncated.
	NextKeyMarker, NextVersionIDMarker string
}

// VersionScanner is the part of a Store that ListVersions needs.
type VersionScanner interface {
	ScanVersions(ctx context.Context, bucket, prefix, afterKey, afterVersion string, limit int) ([]Object, error)
}

// ListVersions computes one page of S3's ListObjectVersions semantics over
// s, rolling keys up into common prefixes as List does, at a cost in
// proportion to the entries returned.
func ListVersions(ctx context.Context, s VersionScanner, bucket string, p VersionParams) (VersionPage, error) {
	var page VersionPage
	if p.MaxKeys <= 0 {
		_, err := s.ScanVersions(ctx, bucket, p.Prefix, p.KeyMarker, "", 1)
		return page, err
	}
	afterKey, afterVer := p.KeyMarker, p.VersionIDMarker
	if cp := rollUp(afterKey, p.Prefix, p.Delimiter); cp != "" && cp == afterKey {
		afterKey, afterVer = cp+maxKeyByte, ""
	}
	const maxBatch = 1000
	n := 0
	batch := min(p.MaxKeys+1, maxBatch)
	if p.Delimiter != "" {
		batch = min(batch, 32)
	}
scan:
	for {
		vs, err := s.ScanVersions(ctx, bucket, p.Prefix, afterKey, afterVer, batch)
		if err != nil {
			return page, err
		}
		if len(vs) == 0 {
			return page, nil
		}
		for i := range vs {
			v := &vs[i]
			if n == p.MaxKeys {
				page.IsTruncated = true
				return page, nil
			}
			n++
			if cp := rollUp(v.Key, p.Prefix, p.Delimiter); cp != "" {
				page.CommonPrefixes = append(page.CommonPrefixes, cp)
				page.NextKeyMarker, page.NextVersionIDMarker = cp, ""
				afterKey, afterVer = cp+maxKeyByte, ""
				batch = 2
				continue scan
			}
			page.Versions = append(page.Versions, *v)
			page.NextKeyMarker, page.NextVersionIDMarker = v.Key, v.VersionID
			afterKey, afterVer = v.Key, v.VersionID
		}
		if len(vs) < batch {
			return page, nil
		}
		batch = min(batch*4, maxBatch, p.MaxKeys-n+1)
	}
}
