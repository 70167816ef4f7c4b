package meta

import (
	"context"
	"strings"
)

// ListParams selects a page of a bucket listing.
type ListParams struct {
	Prefix    string
	Delimiter string
	// After: entries sort strictly after this key (v1 marker, v2
	// start-after or continuation token).
	After   string
	MaxKeys int // 0 returns an empty, untruncated page, as S3 does
}

// ListPage is one page of a listing: objects and common prefixes, each in
// key order, together at most MaxKeys entries.
type ListPage struct {
	Objects        []Object
	CommonPrefixes []string
	IsTruncated    bool
	// NextAfter is the last key or common prefix returned, to pass as
	// After for the next page when IsTruncated.
	NextAfter string
}

// Scanner is the part of a Store that List needs.
type Scanner interface {
	ScanObjects(ctx context.Context, bucket, prefix, after string, limit int) ([]Object, error)
}

// maxKeyByte sorts after every byte of a UTF-8 key: a key can never hold
// 0xFF, so prefix+"\xff" is past every key that starts with prefix.
const maxKeyByte = "\xff"

// List computes one page of S3's ListObjects semantics over s: keys under
// p.Prefix, rolled up into common prefixes at the first p.Delimiter after
// the prefix, starting after p.After. A rolled-up prefix is scanned past
// in one step, so a listing costs O(entries returned), not O(keys under
// them); see the batch sizing below.
func List(ctx context.Context, s Scanner, bucket string, p ListParams) (ListPage, error) {
	var page ListPage
	if p.MaxKeys <= 0 {
		// Still report a missing bucket.
		_, err := s.ScanObjects(ctx, bucket, p.Prefix, p.After, 1)
		return page, err
	}
	after := p.After
	// A marker that is itself a common prefix (a previous page's
	// NextMarker) means that prefix was already returned: resume past it.
	if cp := rollUp(after, p.Prefix, p.Delimiter); cp != "" && cp == after {
		after = cp + maxKeyByte
	}
	if after < p.Prefix {
		after = ""
	}
	// The scan batch adapts: after a rolled-up prefix the next scan jumps
	// past it and needs only a row or two, so batches restart small; runs
	// of plain keys grow them again. Rows fetched stay proportional to
	// entries returned.
	const maxBatch = 1000
	n := 0
	batch := min(p.MaxKeys+1, maxBatch)
	if p.Delimiter != "" {
		batch = min(batch, 32) // prefixes may roll up from the start
	}
scan:
	for {
		objs, err := s.ScanObjects(ctx, bucket, p.Prefix, after, batch)
		if err != nil {
			return page, err
		}
		if len(objs) == 0 {
			return page, nil
		}
		for i := range objs {
			o := &objs[i]
			cp := rollUp(o.Key, p.Prefix, p.Delimiter)
			if n == p.MaxKeys {
				page.IsTruncated = true
				return page, nil
			}
			n++
			if cp != "" {
				page.CommonPrefixes = append(page.CommonPrefixes, cp)
				page.NextAfter = cp
				after = cp + maxKeyByte
				batch = 2
				continue scan
			}
			page.Objects = append(page.Objects, *o)
			page.NextAfter = o.Key
			after = o.Key
		}
		if len(objs) < batch {
			return page, nil
		}
		batch = min(batch*4, maxBatch, p.MaxKeys-n+1)
	}
}

// rollUp returns the common prefix key falls under (prefix up to and
// including the first delimiter after it), or "" when key is not rolled up.
func rollUp(key, prefix, delim string) string {
	if delim == "" || !strings.HasPrefix(key, prefix) {
		return ""
	}
	rest := key[len(prefix):]
	i := strings.Index(rest, delim)
	if i < 0 {
		return ""
	}
	return prefix + rest[:i+len(delim)]
}
