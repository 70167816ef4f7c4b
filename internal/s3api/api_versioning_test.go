package s3api_test

// Bucket versioning as AWS documents it (spec: aws-archive-semantics.md
// §8.1): the bucket's versioning state, version IDs on writes, delete
// markers, reads and deletes of a given version, the null version of
// unversioned and suspended buckets, ListObjectVersions, and how copy,
// tagging, multi-delete, multipart upload and DeleteBucket meet versions.

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// vEntry is one entry of a ListObjectVersions answer: an object version
// or (Marker) a delete marker.
type vEntry struct {
	Key, VersionID string
	Latest, Marker bool
}

func (v vEntry) String() string {
	s := v.Key + "@" + v.VersionID
	if v.Marker {
		s += " (delete marker)"
	}
	if v.Latest {
		s += " (latest)"
	}
	return s
}

// ver and marker build expected listing entries.
func ver(key, id string, latest bool) vEntry { return vEntry{Key: key, VersionID: id, Latest: latest} }
func marker(key, id string, latest bool) vEntry {
	return vEntry{Key: key, VersionID: id, Latest: latest, Marker: true}
}

// versionListing is a whole ListObjectVersions answer, every page
// followed.
type versionListing struct {
	Versions, Markers []vEntry
	Prefixes          []string
	ETags             map[string]string // ETag by key + "@" + version ID
	Pages             int
}

// listVersions lists the versions of bucket with in's prefix, delimiter
// and MaxKeys, following NextKeyMarker and NextVersionIdMarker until
// IsTruncated is false. It checks the page-level rules on the way: no
// page holds more than MaxKeys entries, and a truncated page is not
// empty and says where to go on.
func (e *env) listVersions(t *testing.T, bucket string, in s3.ListObjectVersionsInput) versionListing {
	t.Helper()
	in.Bucket = aws.String(bucket)
	l := versionListing{ETags: map[string]string{}}
	for {
		l.Pages++
		if l.Pages > 100 {
			t.Fatalf("ListObjectVersions %s: still truncated after 100 pages; listing so far: %v %v", bucket, l.Versions, l.Markers)
		}
		out, err := e.s3.ListObjectVersions(ctx, &in)
		if err != nil {
			t.Fatalf("ListObjectVersions %s (page %d, KeyMarker %q, VersionIdMarker %q): %v", bucket, l.Pages,
				aws.ToString(in.KeyMarker), aws.ToString(in.VersionIdMarker), err)
		}
		for _, v := range out.Versions {
			en := ver(aws.ToString(v.Key), aws.ToString(v.VersionId), aws.ToBool(v.IsLatest))
			l.Versions = append(l.Versions, en)
			l.ETags[en.Key+"@"+en.VersionID] = aws.ToString(v.ETag)
		}
		for _, m := range out.DeleteMarkers {
			l.Markers = append(l.Markers, marker(aws.ToString(m.Key), aws.ToString(m.VersionId), aws.ToBool(m.IsLatest)))
		}
		for _, p := range out.CommonPrefixes {
			l.Prefixes = append(l.Prefixes, aws.ToString(p.Prefix))
		}
		n := len(out.Versions) + len(out.DeleteMarkers) + len(out.CommonPrefixes)
		if in.MaxKeys != nil && n > int(*in.MaxKeys) {
			t.Errorf("ListObjectVersions page %d: %d entries, want at most MaxKeys=%d", l.Pages, n, *in.MaxKeys)
		}
		if !aws.ToBool(out.IsTruncated) {
			return l
		}
		if n == 0 {
			t.Errorf("ListObjectVersions page %d: truncated but empty, want entries on every truncated page", l.Pages)
		}
		if aws.ToString(out.NextKeyMarker) == "" {
			t.Fatalf("ListObjectVersions page %d: IsTruncated without NextKeyMarker, want a marker to continue from", l.Pages)
		}
		in.KeyMarker, in.VersionIdMarker = out.NextKeyMarker, out.NextVersionIdMarker
	}
}

// allVersions is listVersions of the whole bucket in one request.
func (e *env) allVersions(t *testing.T, bucket string) versionListing {
	t.Helper()
	return e.listVersions(t, bucket, s3.ListObjectVersionsInput{})
}

// rawVersions returns the entries of GET ?versions in document order:
// S3 interleaves <Version> and <DeleteMarker>, all of one key newest
// first, which the SDK's two lists do not show.
func (e *env) rawVersions(t *testing.T, bucket string) []vEntry {
	t.Helper()
	resp, body := e.raw(http.MethodGet, "/"+bucket+"?versions", nil, rawOpts{})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /%s?versions: status %d, want 200: %s", bucket, resp.StatusCode, body)
	}
	dec := xml.NewDecoder(bytes.NewReader(body))
	var out []vEntry
	sawRoot := false
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("GET /%s?versions: bad XML: %v: %s", bucket, err, body)
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		switch se.Name.Local {
		case "ListVersionsResult":
			sawRoot = true
		case "Version", "DeleteMarker":
			var v struct{ Key, VersionId, IsLatest string }
			if err := dec.DecodeElement(&v, &se); err != nil {
				t.Fatalf("GET /%s?versions: decode %s: %v", bucket, se.Name.Local, err)
			}
			out = append(out, vEntry{Key: v.Key, VersionID: v.VersionId, Latest: v.IsLatest == "true", Marker: se.Name.Local == "DeleteMarker"})
		}
	}
	if !sawRoot {
		t.Fatalf("GET /%s?versions: no ListVersionsResult element: %s", bucket, body)
	}
	return out
}

// setVersioning sets the versioning state of bucket.
func (e *env) setVersioning(t *testing.T, bucket string, s types.BucketVersioningStatus) {
	t.Helper()
	_, err := e.s3.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String(bucket),
		VersioningConfiguration: &types.VersioningConfiguration{Status: s}})
	if err != nil {
		t.Fatalf("PutBucketVersioning %s %s: %v", bucket, s, err)
	}
}

// versionedBucket creates a bucket with versioning Enabled.
func (e *env) versionedBucket(t *testing.T) string {
	t.Helper()
	b := e.bucket()
	e.setVersioning(t, b, types.BucketVersioningStatusEnabled)
	return b
}

// putV stores body under bucket/key and returns the PUT's answer.
func (e *env) putV(t *testing.T, bucket, key string, body []byte) *s3.PutObjectOutput {
	t.Helper()
	out, err := e.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body)})
	if err != nil {
		t.Fatalf("PutObject %s/%s: %v", bucket, key, err)
	}
	return out
}

// putNew stores body in a versioning-enabled bucket and returns the new
// version's ID, which must be a real one (not empty, not "null").
func (e *env) putNew(t *testing.T, bucket, key string, body []byte) string {
	t.Helper()
	id := aws.ToString(e.putV(t, bucket, key, body).VersionId)
	if id == "" || id == "null" {
		t.Fatalf("PutObject %s/%s in an Enabled bucket: x-amz-version-id %q, want a new version ID", bucket, key, id)
	}
	return id
}

// getObj GETs bucket/key, at version id unless id is "".
func (e *env) getObj(bucket, key, id string) ([]byte, *s3.GetObjectOutput, error) {
	in := &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}
	if id != "" {
		in.VersionId = aws.String(id)
	}
	out, err := e.s3.GetObject(ctx, in)
	if err != nil {
		return nil, nil, err
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	return b, out, err
}

// wantBody fails t unless GET of bucket/key (at version id, if not "")
// succeeds with body want; it returns the answer.
func (e *env) wantBody(t *testing.T, bucket, key, id string, want []byte) *s3.GetObjectOutput {
	t.Helper()
	got, out, err := e.getObj(bucket, key, id)
	if err != nil {
		t.Fatalf("GetObject %s/%s versionId=%q: %v; want body %q", bucket, key, id, err, want)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("GetObject %s/%s versionId=%q: body %q, want %q", bucket, key, id, got, want)
	}
	return out
}

// deleteV deletes bucket/key, at version id unless id is "".
func (e *env) deleteV(t *testing.T, bucket, key, id string) *s3.DeleteObjectOutput {
	t.Helper()
	in := &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}
	if id != "" {
		in.VersionId = aws.String(id)
	}
	out, err := e.s3.DeleteObject(ctx, in)
	if err != nil {
		t.Fatalf("DeleteObject %s/%s versionId=%q: %v", bucket, key, id, err)
	}
	if got := httpStatusOf(out.ResultMetadata); got != http.StatusNoContent {
		t.Errorf("DeleteObject %s/%s versionId=%q: status %d, want 204", bucket, key, id, got)
	}
	return out
}

// errHeader is a header of the HTTP response behind an SDK error.
func errHeader(err error, name string) string {
	var re *awshttp.ResponseError
	if errors.As(err, &re) && re.Response != nil {
		return re.Response.Header.Get(name)
	}
	return ""
}

func etagOf(body []byte) string { return `"` + md5hex(body) + `"` }

// ofKey keeps the entries of key.
func ofKey(es []vEntry, key string) []vEntry {
	return slices.DeleteFunc(slices.Clone(es), func(v vEntry) bool { return v.Key != key })
}

func wantEntries(t *testing.T, what string, got, want []vEntry) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s:\n got  %v\n want %v", what, got, want)
	}
}

// TestVersioningConfiguration: a new bucket has no versioning status;
// Enabled and Suspended read back as put; an invalid status is refused
// and changes nothing.
func TestVersioningConfiguration(t *testing.T) {
	e := newEnv(t)

	t.Run("NewBucket", func(t *testing.T) {
		b := e.bucket()
		out, err := e.s3.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String(b)})
		if err != nil {
			t.Fatalf("GetBucketVersioning: %v", err)
		}
		if out.Status != "" || out.MFADelete != "" {
			t.Errorf("new bucket: Status %q MfaDelete %q, want neither", out.Status, out.MFADelete)
		}
		resp, body := e.raw(http.MethodGet, "/"+b+"?versioning", nil, rawOpts{})
		if resp.StatusCode != http.StatusOK || !bytes.Contains(body, []byte("<VersioningConfiguration")) ||
			bytes.Contains(body, []byte("Status")) || bytes.Contains(body, []byte("MfaDelete")) {
			t.Errorf("GET ?versioning of a new bucket: %d %s, want 200 and an empty <VersioningConfiguration/>", resp.StatusCode, body)
		}
	})

	for _, c := range []struct {
		name   string
		client *s3.Client
	}{{"CRC32 header", e.s3}, {"aws-chunked trailer", e.tls}} {
		t.Run("RoundTrip/"+c.name, func(t *testing.T) {
			b := e.bucket()
			for _, s := range []types.BucketVersioningStatus{types.BucketVersioningStatusEnabled,
				types.BucketVersioningStatusSuspended, types.BucketVersioningStatusEnabled} {
				if _, err := c.client.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String(b),
					VersioningConfiguration: &types.VersioningConfiguration{Status: s}}); err != nil {
					t.Fatalf("PutBucketVersioning %s: %v", s, err)
				}
				out, err := c.client.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String(b)})
				if err != nil {
					t.Fatalf("GetBucketVersioning: %v", err)
				}
				if out.Status != s {
					t.Errorf("Status after putting %s: got %q, want %q", s, out.Status, s)
				}
				if out.MFADelete != "" {
					t.Errorf("MfaDelete after putting %s: got %q, want none (never set)", s, out.MFADelete)
				}
			}
		})
	}

	t.Run("InvalidStatus", func(t *testing.T) {
		b := e.bucket()
		e.setVersioning(t, b, types.BucketVersioningStatusSuspended)
		for _, status := range []string{"On", "Disabled"} {
			doc := []byte(`<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Status>` + status +
				`</Status></VersioningConfiguration>`)
			resp, body := e.raw(http.MethodPut, "/"+b+"?versioning", doc,
				rawOpts{header: http.Header{"Content-Md5": {contentMD5(doc)}}})
			wantXMLError(t, resp, body, "IllegalVersioningConfigurationException", http.StatusBadRequest)
		}
		out, err := e.s3.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String(b)})
		if err != nil {
			t.Fatalf("GetBucketVersioning: %v", err)
		}
		if out.Status != types.BucketVersioningStatusSuspended {
			t.Errorf("Status after refused puts: got %q, want Suspended (unchanged)", out.Status)
		}
	})

	t.Run("NoSuchBucket", func(t *testing.T) {
		_, err := e.s3.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String("no-such-versioning-bucket")})
		wantErr(t, err, "NoSuchBucket", http.StatusNotFound)
		_, err = e.s3.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String("no-such-versioning-bucket"),
			VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}})
		wantErr(t, err, "NoSuchBucket", http.StatusNotFound)
	})
}

// TestVersioningUnversionedBucket: in a bucket that was never versioned,
// PUT sends no x-amz-version-id, the one version of a key is the null
// version, and DELETE removes it without a delete marker.
func TestVersioningUnversionedBucket(t *testing.T) {
	e := newEnv(t)
	b := e.bucket()
	for i, body := range []string{"first", "second"} {
		out := e.putV(t, b, "k", []byte(body))
		if out.VersionId != nil {
			t.Errorf("PUT #%d in an unversioned bucket: x-amz-version-id %q, want no header", i+1, *out.VersionId)
		}
		if h := headerOf(out.ResultMetadata, "x-amz-version-id"); h != "" {
			t.Errorf("PUT #%d in an unversioned bucket: x-amz-version-id header %q, want none", i+1, h)
		}
	}
	l := e.allVersions(t, b)
	wantEntries(t, "versions of an unversioned bucket", l.Versions, []vEntry{ver("k", "null", true)})
	wantEntries(t, "delete markers of an unversioned bucket", l.Markers, nil)
	if got, want := l.ETags["k@null"], etagOf([]byte("second")); got != want {
		t.Errorf("ETag of the null version: got %s, want %s (the second PUT replaced the first)", got, want)
	}
	e.wantBody(t, b, "k", "null", []byte("second"))

	out := e.deleteV(t, b, "k", "")
	if aws.ToBool(out.DeleteMarker) {
		t.Errorf("DELETE in an unversioned bucket: x-amz-delete-marker true, want no marker")
	}
	l = e.allVersions(t, b)
	if len(l.Versions)+len(l.Markers) != 0 {
		t.Errorf("versions after DELETE in an unversioned bucket: %v %v, want none", l.Versions, l.Markers)
	}
}

// TestVersioningEnabledPuts: every PUT to an Enabled bucket makes a new
// version; GET and HEAD serve the newest or the one asked for; the
// version listing holds them all, newest first, while ListObjectsV2
// shows each key once.
func TestVersioningEnabledPuts(t *testing.T) {
	e := newEnv(t)
	b := e.versionedBucket(t)
	bodies := [][]byte{[]byte("version one"), []byte("version two, longer"), []byte("3")}
	var ids []string
	for _, body := range bodies {
		ids = append(ids, e.putNew(t, b, "k", body))
	}
	other := e.putNew(t, b, "other", []byte("other"))
	if all := append(slices.Clone(ids), other); len(slices.Compact(slices.Sorted(slices.Values(all)))) != len(all) {
		t.Fatalf("version IDs %q: want all distinct", all)
	}

	out := e.wantBody(t, b, "k", "", bodies[2])
	if got := aws.ToString(out.VersionId); got != ids[2] {
		t.Errorf("GET without versionId: x-amz-version-id %q, want the newest %q", got, ids[2])
	}
	for i, id := range ids {
		t.Run(fmt.Sprintf("Version%d", i+1), func(t *testing.T) {
			out := e.wantBody(t, b, "k", id, bodies[i])
			if got := aws.ToString(out.VersionId); got != id {
				t.Errorf("GET versionId=%s: x-amz-version-id %q, want %q", id, got, id)
			}
			if got, want := aws.ToString(out.ETag), etagOf(bodies[i]); got != want {
				t.Errorf("GET versionId=%s: ETag %s, want %s", id, got, want)
			}
			h, err := e.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String("k"), VersionId: aws.String(id)})
			if err != nil {
				t.Fatalf("HEAD versionId=%s: %v", id, err)
			}
			if got, want := aws.ToString(h.ETag), etagOf(bodies[i]); got != want {
				t.Errorf("HEAD versionId=%s: ETag %s, want %s", id, got, want)
			}
			if got := aws.ToInt64(h.ContentLength); got != int64(len(bodies[i])) {
				t.Errorf("HEAD versionId=%s: Content-Length %d, want %d", id, got, len(bodies[i]))
			}
			if got := aws.ToString(h.VersionId); got != id {
				t.Errorf("HEAD versionId=%s: x-amz-version-id %q, want %q", id, got, id)
			}
		})
	}

	l := e.allVersions(t, b)
	wantEntries(t, "ListObjectVersions", l.Versions, []vEntry{
		ver("k", ids[2], true), ver("k", ids[1], false), ver("k", ids[0], false), ver("other", other, true)})
	wantEntries(t, "ListObjectVersions delete markers", l.Markers, nil)
	for i, id := range ids {
		if got, want := l.ETags["k@"+id], etagOf(bodies[i]); got != want {
			t.Errorf("listed ETag of k@%s: got %s, want %s", id, got, want)
		}
	}

	lo, err := e.s3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(b)})
	if err != nil {
		t.Fatalf("ListObjectsV2: %v", err)
	}
	var got []string
	for _, o := range lo.Contents {
		got = append(got, fmt.Sprintf("%s %d %s", aws.ToString(o.Key), aws.ToInt64(o.Size), aws.ToString(o.ETag)))
	}
	want := []string{fmt.Sprintf("k %d %s", len(bodies[2]), etagOf(bodies[2])), fmt.Sprintf("other 5 %s", etagOf([]byte("other")))}
	if !slices.Equal(got, want) {
		t.Errorf("ListObjectsV2 of a versioned bucket:\n got  %q\n want %q (one entry per key, the newest version)", got, want)
	}
}

// TestVersioningDeleteMarker: DELETE without versionId in an Enabled
// bucket hides the key behind a delete marker; the marker answers 405
// when asked for by version; deleting the marker brings the previous
// version back.
func TestVersioningDeleteMarker(t *testing.T) {
	e := newEnv(t)
	b := e.versionedBucket(t)
	v1 := e.putNew(t, b, "k", []byte("one"))
	v2 := e.putNew(t, b, "k", []byte("two"))

	del := e.deleteV(t, b, "k", "")
	dm := aws.ToString(del.VersionId)
	if !aws.ToBool(del.DeleteMarker) {
		t.Errorf("DELETE in an Enabled bucket: x-amz-delete-marker %v, want true", del.DeleteMarker)
	}
	if dm == "" || dm == "null" || dm == v1 || dm == v2 {
		t.Fatalf("DELETE in an Enabled bucket: x-amz-version-id %q, want a new version ID for the marker", dm)
	}

	_, _, err := e.getObj(b, "k", "")
	wantErr(t, err, "NoSuchKey", http.StatusNotFound)
	if h := errHeader(err, "x-amz-delete-marker"); h != "true" {
		t.Errorf("GET of a key whose current version is a marker: x-amz-delete-marker %q, want true", h)
	}
	_, err = e.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String("k")})
	if status(err) != http.StatusNotFound {
		t.Errorf("HEAD of a key whose current version is a marker: %v, want 404", err)
	}
	if h := errHeader(err, "x-amz-delete-marker"); h != "true" {
		t.Errorf("HEAD of a key whose current version is a marker: x-amz-delete-marker %q, want true", h)
	}
	if got := e.keys(b); len(got) != 0 {
		t.Errorf("ListObjectsV2 after the delete marker: got %q, want no keys", got)
	}
	wantEntries(t, "GET ?versions in document order", e.rawVersions(t, b),
		[]vEntry{marker("k", dm, true), ver("k", v2, false), ver("k", v1, false)})
	l := e.allVersions(t, b)
	wantEntries(t, "ListObjectVersions versions", l.Versions, []vEntry{ver("k", v2, false), ver("k", v1, false)})
	wantEntries(t, "ListObjectVersions delete markers", l.Markers, []vEntry{marker("k", dm, true)})

	t.Run("MarkerByVersion", func(t *testing.T) {
		_, _, err := e.getObj(b, "k", dm)
		wantErr(t, err, "MethodNotAllowed", http.StatusMethodNotAllowed)
		if h := errHeader(err, "x-amz-delete-marker"); h != "true" {
			t.Errorf("GET versionId=<marker>: x-amz-delete-marker %q, want true", h)
		}
		if h := errHeader(err, "Last-Modified"); h == "" {
			t.Errorf("GET versionId=<marker>: no Last-Modified, want the marker's time")
		}
		_, err = e.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String("k"), VersionId: aws.String(dm)})
		if status(err) != http.StatusMethodNotAllowed {
			t.Errorf("HEAD versionId=<marker>: %v, want 405", err)
		}
		if h := errHeader(err, "x-amz-delete-marker"); h != "true" {
			t.Errorf("HEAD versionId=<marker>: x-amz-delete-marker %q, want true", h)
		}
	})

	t.Run("OldVersionsReadable", func(t *testing.T) {
		e.wantBody(t, b, "k", v1, []byte("one"))
		e.wantBody(t, b, "k", v2, []byte("two"))
	})

	// A DELETE when the current version is already a marker adds another.
	del2 := e.deleteV(t, b, "k", "")
	dm2 := aws.ToString(del2.VersionId)
	if !aws.ToBool(del2.DeleteMarker) || dm2 == "" || dm2 == dm || dm2 == "null" {
		t.Fatalf("second DELETE: DeleteMarker %v VersionId %q, want a second marker with a new ID", del2.DeleteMarker, dm2)
	}
	wantEntries(t, "GET ?versions after a second DELETE", e.rawVersions(t, b),
		[]vEntry{marker("k", dm2, true), marker("k", dm, false), ver("k", v2, false), ver("k", v1, false)})

	// Deleting the markers by version ID.
	for _, m := range []string{dm2, dm} {
		out := e.deleteV(t, b, "k", m)
		if !aws.ToBool(out.DeleteMarker) || aws.ToString(out.VersionId) != m {
			t.Errorf("DELETE versionId=<marker %s>: DeleteMarker %v VersionId %q, want true and %q", m, out.DeleteMarker, aws.ToString(out.VersionId), m)
		}
	}
	out := e.wantBody(t, b, "k", "", []byte("two"))
	if got := aws.ToString(out.VersionId); got != v2 {
		t.Errorf("GET after removing the markers: x-amz-version-id %q, want %q", got, v2)
	}
	if got := e.keys(b); !slices.Equal(got, []string{"k"}) {
		t.Errorf("ListObjectsV2 after removing the markers: got %q, want [k]", got)
	}
	l = e.allVersions(t, b)
	wantEntries(t, "versions after removing the markers", l.Versions, []vEntry{ver("k", v2, true), ver("k", v1, false)})
	wantEntries(t, "markers after removing them", l.Markers, nil)
}

// TestVersioningDeleteVersion: DELETE with a versionId removes that
// version for good and no other, without a delete marker; removing the
// current version makes the previous one current.
func TestVersioningDeleteVersion(t *testing.T) {
	e := newEnv(t)
	b := e.versionedBucket(t)
	v1 := e.putNew(t, b, "k", []byte("one"))
	v2 := e.putNew(t, b, "k", []byte("two"))
	v3 := e.putNew(t, b, "k", []byte("three"))

	steps := []struct {
		name    string
		del     string
		current string // body of the current version after the delete; "" for none
		left    []vEntry
	}{
		{"Noncurrent", v2, "three", []vEntry{ver("k", v3, true), ver("k", v1, false)}},
		{"Current", v3, "one", []vEntry{ver("k", v1, true)}},
		{"Last", v1, "", nil},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			out := e.deleteV(t, b, "k", s.del)
			if got := aws.ToString(out.VersionId); got != s.del {
				t.Errorf("DELETE versionId=%s: x-amz-version-id %q, want %q", s.del, got, s.del)
			}
			if aws.ToBool(out.DeleteMarker) {
				t.Errorf("DELETE versionId=%s of a version: x-amz-delete-marker true, want none", s.del)
			}
			_, _, err := e.getObj(b, "k", s.del)
			wantErr(t, err, "NoSuchVersion", http.StatusNotFound)
			if s.current == "" {
				_, _, err := e.getObj(b, "k", "")
				wantErr(t, err, "NoSuchKey", http.StatusNotFound)
				if h := errHeader(err, "x-amz-delete-marker"); h != "" {
					t.Errorf("GET of a key with no versions left: x-amz-delete-marker %q, want none", h)
				}
			} else {
				e.wantBody(t, b, "k", "", []byte(s.current))
			}
			l := e.allVersions(t, b)
			wantEntries(t, "versions left", l.Versions, s.left)
			wantEntries(t, "delete markers", l.Markers, nil)
		})
	}
}

// TestVersioningNullVersion: objects written before versioning was
// enabled keep the version ID "null"; a PUT after enabling makes the
// null version noncurrent but leaves it readable and deletable by
// "null".
func TestVersioningNullVersion(t *testing.T) {
	e := newEnv(t)
	b := e.bucket()
	e.put(b, "k", []byte("before"))
	e.put(b, "untouched", []byte("before too"))
	e.setVersioning(t, b, types.BucketVersioningStatusEnabled)

	l := e.allVersions(t, b)
	wantEntries(t, "versions right after enabling", l.Versions, []vEntry{ver("k", "null", true), ver("untouched", "null", true)})
	e.wantBody(t, b, "k", "", []byte("before"))

	v1 := e.putNew(t, b, "k", []byte("after"))
	e.wantBody(t, b, "k", "", []byte("after"))
	e.wantBody(t, b, "k", "null", []byte("before"))
	l = e.allVersions(t, b)
	wantEntries(t, "versions after a PUT", l.Versions,
		[]vEntry{ver("k", v1, true), ver("k", "null", false), ver("untouched", "null", true)})

	out := e.deleteV(t, b, "k", "null")
	if got := aws.ToString(out.VersionId); got != "null" {
		t.Errorf("DELETE versionId=null: x-amz-version-id %q, want null", got)
	}
	_, _, err := e.getObj(b, "k", "null")
	wantErr(t, err, "NoSuchVersion", http.StatusNotFound)
	l = e.allVersions(t, b)
	wantEntries(t, "versions after deleting the null version", l.Versions,
		[]vEntry{ver("k", v1, true), ver("untouched", "null", true)})
	e.wantBody(t, b, "k", "", []byte("after"))
}

// TestVersioningSuspended: in a Suspended bucket a PUT writes the null
// version, replacing any earlier null version and keeping the versions
// made while Enabled; DELETE without versionId replaces the null version
// with a delete marker whose version ID is "null".
func TestVersioningSuspended(t *testing.T) {
	e := newEnv(t)
	b := e.versionedBucket(t)
	v1 := e.putNew(t, b, "k", []byte("enabled"))
	e.setVersioning(t, b, types.BucketVersioningStatusSuspended)

	for i, body := range []string{"suspended 1", "suspended 2"} {
		out := e.putV(t, b, "k", []byte(body))
		if id := aws.ToString(out.VersionId); out.VersionId != nil && id != "null" {
			t.Errorf("PUT #%d in a Suspended bucket: x-amz-version-id %q, want null", i+1, id)
		}
		l := e.allVersions(t, b)
		wantEntries(t, fmt.Sprintf("versions after suspended PUT #%d", i+1), l.Versions,
			[]vEntry{ver("k", "null", true), ver("k", v1, false)})
		if got, want := l.ETags["k@null"], etagOf([]byte(body)); got != want {
			t.Errorf("ETag of the null version after suspended PUT #%d: got %s, want %s", i+1, got, want)
		}
	}
	e.wantBody(t, b, "k", "", []byte("suspended 2"))
	e.wantBody(t, b, "k", "null", []byte("suspended 2"))
	e.wantBody(t, b, "k", v1, []byte("enabled"))

	del := e.deleteV(t, b, "k", "")
	if !aws.ToBool(del.DeleteMarker) {
		t.Errorf("DELETE in a Suspended bucket: x-amz-delete-marker %v, want true", del.DeleteMarker)
	}
	if id := aws.ToString(del.VersionId); id != "null" {
		t.Errorf("DELETE in a Suspended bucket: x-amz-version-id %q, want null (the marker is the null version)", id)
	}
	_, _, err := e.getObj(b, "k", "")
	wantErr(t, err, "NoSuchKey", http.StatusNotFound)
	wantEntries(t, "GET ?versions after a suspended DELETE", e.rawVersions(t, b),
		[]vEntry{marker("k", "null", true), ver("k", v1, false)})
	e.wantBody(t, b, "k", v1, []byte("enabled"))

	// Enabled again: new versions stack on top; the null marker stays as
	// a noncurrent version.
	e.setVersioning(t, b, types.BucketVersioningStatusEnabled)
	v2 := e.putNew(t, b, "k", []byte("enabled again"))
	e.wantBody(t, b, "k", "", []byte("enabled again"))
	wantEntries(t, "GET ?versions after re-enabling", e.rawVersions(t, b),
		[]vEntry{ver("k", v2, true), marker("k", "null", false), ver("k", v1, false)})
}

// TestVersioningBadVersionID: a well-formed version ID that names no
// version is NoSuchVersion; one that cannot be a version ID is
// InvalidArgument.
func TestVersioningBadVersionID(t *testing.T) {
	e := newEnv(t)
	b := e.versionedBucket(t)
	v1 := e.putNew(t, b, "k", []byte("one"))
	gone := e.putNew(t, b, "k", []byte("two"))
	e.deleteV(t, b, "k", gone)
	otherKey := e.putNew(t, b, "other", []byte("x"))

	tests := []struct {
		name, id, code string
		status         int
	}{
		{"DeletedVersion", gone, "NoSuchVersion", http.StatusNotFound},
		{"OtherKeysVersion", otherKey, "NoSuchVersion", http.StatusNotFound},
		{"NoNullVersion", "null", "NoSuchVersion", http.StatusNotFound},
		{"Space", "bad version", "InvalidArgument", http.StatusBadRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := e.getObj(b, "k", tc.id)
			wantErr(t, err, tc.code, tc.status)
			_, err = e.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String("k"), VersionId: aws.String(tc.id)})
			if status(err) != tc.status {
				t.Errorf("HEAD versionId=%q: %v, want %d", tc.id, err, tc.status)
			}
			_, err = e.s3.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String(b), Key: aws.String("k"), VersionId: aws.String(tc.id)})
			wantErr(t, err, tc.code, tc.status)
		})
	}
	t.Run("MalformedDelete", func(t *testing.T) {
		_, err := e.s3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(b), Key: aws.String("k"), VersionId: aws.String("bad version")})
		wantErr(t, err, "InvalidArgument", http.StatusBadRequest)
	})
	// Nothing above changed the key.
	l := e.allVersions(t, b)
	wantEntries(t, "versions of k after the bad requests", ofKey(l.Versions, "k"), []vEntry{ver("k", v1, true)})
	wantEntries(t, "delete markers after the bad requests", l.Markers, nil)
}

// TestVersioningCopyObject: a copy source with versionId copies that
// version; the answer names the source version and, in a versioned
// destination, the new version.
func TestVersioningCopyObject(t *testing.T) {
	e := newEnv(t)
	src := e.versionedBucket(t)
	v1 := e.putNew(t, src, "k", []byte("one"))
	v2 := e.putNew(t, src, "k", []byte("two"))
	versioned := e.versionedBucket(t)
	plain := e.bucket()

	tests := []struct {
		name, dst, source, wantSrcVersion string
		dstVersioned                      bool
		body                              string
	}{
		{"OldVersionToVersioned", versioned, src + "/k?versionId=" + url.QueryEscape(v1), v1, true, "one"},
		{"OldVersionToUnversioned", plain, src + "/k?versionId=" + url.QueryEscape(v1), v1, false, "one"},
		{"CurrentToUnversioned", plain, src + "/k", v2, false, "two"},
		{"ExplicitCurrentToVersioned", versioned, src + "/k?versionId=" + url.QueryEscape(v2), v2, true, "two"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := e.s3.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(tc.dst), Key: aws.String(tc.name), CopySource: aws.String(tc.source)})
			if err != nil {
				t.Fatalf("CopyObject from %s: %v", tc.source, err)
			}
			if got := aws.ToString(out.CopySourceVersionId); got != tc.wantSrcVersion {
				t.Errorf("x-amz-copy-source-version-id: got %q, want %q", got, tc.wantSrcVersion)
			}
			newID := aws.ToString(out.VersionId)
			if tc.dstVersioned {
				if newID == "" || newID == "null" || newID == tc.wantSrcVersion {
					t.Errorf("x-amz-version-id of a copy into a versioned bucket: %q, want a new version ID", newID)
				}
			} else if out.VersionId != nil {
				t.Errorf("x-amz-version-id of a copy into an unversioned bucket: %q, want none", newID)
			}
			if out.CopyObjectResult == nil {
				t.Fatalf("CopyObject: no CopyObjectResult")
			}
			if got, want := aws.ToString(out.CopyObjectResult.ETag), etagOf([]byte(tc.body)); got != want {
				t.Errorf("copy ETag: got %s, want %s (of version %s)", got, want, tc.wantSrcVersion)
			}
			e.wantBody(t, tc.dst, tc.name, "", []byte(tc.body))
			if tc.dstVersioned {
				e.wantBody(t, tc.dst, tc.name, newID, []byte(tc.body))
			}
		})
	}

	t.Run("RestoreOldVersionInPlace", func(t *testing.T) {
		b := e.versionedBucket(t)
		o1 := e.putNew(t, b, "k", []byte("one"))
		o2 := e.putNew(t, b, "k", []byte("two"))
		out, err := e.s3.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(b), Key: aws.String("k"),
			CopySource: aws.String(b + "/k?versionId=" + url.QueryEscape(o1))})
		if err != nil {
			t.Fatalf("CopyObject of an old version onto its key: %v", err)
		}
		o3 := aws.ToString(out.VersionId)
		if o3 == "" || o3 == "null" || o3 == o1 || o3 == o2 {
			t.Fatalf("x-amz-version-id of the copy: %q, want a new version ID", o3)
		}
		e.wantBody(t, b, "k", "", []byte("one"))
		wantEntries(t, "versions after copying v1 onto k", e.allVersions(t, b).Versions,
			[]vEntry{ver("k", o3, true), ver("k", o2, false), ver("k", o1, false)})
	})

	t.Run("DeleteMarkerSource", func(t *testing.T) {
		b := e.versionedBucket(t)
		e.putNew(t, b, "gone", []byte("x"))
		dm := aws.ToString(e.deleteV(t, b, "gone", "").VersionId)
		_, err := e.s3.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(plain), Key: aws.String("from-marker"),
			CopySource: aws.String(b + "/gone")})
		wantErr(t, err, "NoSuchKey", http.StatusNotFound)
		_, err = e.s3.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(plain), Key: aws.String("from-marker"),
			CopySource: aws.String(b + "/gone?versionId=" + url.QueryEscape(dm))})
		wantErr(t, err, "InvalidRequest", http.StatusBadRequest)
		if e.exists(plain, "from-marker") {
			t.Errorf("a failed copy from a delete marker wrote the destination")
		}
	})
}

// TestVersioningObjectTagging: tags belong to one version; tagging calls
// with a versionId read and write that version's only.
func TestVersioningObjectTagging(t *testing.T) {
	e := newEnv(t)
	b := e.versionedBucket(t)
	out, err := e.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("k"), Body: strings.NewReader("one"),
		Tagging: aws.String("gen=1")})
	if err != nil {
		t.Fatalf("PutObject with tags: %v", err)
	}
	v1 := aws.ToString(out.VersionId)
	if v1 == "" || v1 == "null" {
		t.Fatalf("PutObject in an Enabled bucket: x-amz-version-id %q, want a new version ID", v1)
	}
	v2 := e.putNew(t, b, "k", []byte("two"))

	tagsOf := func(t *testing.T, id string) []string {
		t.Helper()
		in := &s3.GetObjectTaggingInput{Bucket: aws.String(b), Key: aws.String("k")}
		want := v2
		if id != "" {
			in.VersionId, want = aws.String(id), id
		}
		out, err := e.s3.GetObjectTagging(ctx, in)
		if err != nil {
			t.Fatalf("GetObjectTagging versionId=%q: %v", id, err)
		}
		if got := aws.ToString(out.VersionId); got != want {
			t.Errorf("GetObjectTagging versionId=%q: x-amz-version-id %q, want %q", id, got, want)
		}
		tags := []string{}
		for _, tg := range out.TagSet {
			tags = append(tags, aws.ToString(tg.Key)+"="+aws.ToString(tg.Value))
		}
		return tags
	}
	putTags := func(t *testing.T, id, k, v string) {
		t.Helper()
		in := &s3.PutObjectTaggingInput{Bucket: aws.String(b), Key: aws.String("k"),
			Tagging: &types.Tagging{TagSet: []types.Tag{{Key: aws.String(k), Value: aws.String(v)}}}}
		want := v2
		if id != "" {
			in.VersionId, want = aws.String(id), id
		}
		out, err := e.s3.PutObjectTagging(ctx, in)
		if err != nil {
			t.Fatalf("PutObjectTagging versionId=%q: %v", id, err)
		}
		if got := aws.ToString(out.VersionId); got != want {
			t.Errorf("PutObjectTagging versionId=%q: x-amz-version-id %q, want %q", id, got, want)
		}
	}
	check := func(t *testing.T, what string, w1, w2 []string) {
		t.Helper()
		if got := tagsOf(t, v1); !slices.Equal(got, w1) {
			t.Errorf("%s: tags of v1 %q, want %q", what, got, w1)
		}
		if got := tagsOf(t, v2); !slices.Equal(got, w2) {
			t.Errorf("%s: tags of v2 %q, want %q", what, got, w2)
		}
		if got := tagsOf(t, ""); !slices.Equal(got, w2) {
			t.Errorf("%s: tags of the current version %q, want %q (v2's)", what, got, w2)
		}
	}

	check(t, "after the PUTs", []string{"gen=1"}, []string{})
	putTags(t, v1, "old", "yes")
	check(t, "after tagging v1", []string{"old=yes"}, []string{})
	putTags(t, "", "new", "yes")
	check(t, "after tagging the current version", []string{"old=yes"}, []string{"new=yes"})
	_, g, err := e.getObj(b, "k", v1)
	if err != nil {
		t.Fatalf("GET v1: %v", err)
	}
	if got := aws.ToInt32(g.TagCount); got != 1 {
		t.Errorf("GET v1: x-amz-tagging-count %d, want 1", got)
	}
	if _, err := e.s3.DeleteObjectTagging(ctx, &s3.DeleteObjectTaggingInput{Bucket: aws.String(b), Key: aws.String("k"), VersionId: aws.String(v1)}); err != nil {
		t.Fatalf("DeleteObjectTagging v1: %v", err)
	}
	check(t, "after deleting v1's tags", []string{}, []string{"new=yes"})
}

// TestVersioningDeleteObjects: a multi-delete with version IDs removes
// each named version; a marker removed or created is reported with
// DeleteMarker and DeleteMarkerVersionId.
func TestVersioningDeleteObjects(t *testing.T) {
	e := newEnv(t)
	b := e.versionedBucket(t)
	a1 := e.putNew(t, b, "a", []byte("a1"))
	a2 := e.putNew(t, b, "a", []byte("a2"))
	b1 := e.putNew(t, b, "b", []byte("b1"))
	bm := aws.ToString(e.deleteV(t, b, "b", "").VersionId)
	c1 := e.putNew(t, b, "c", []byte("c1"))

	out, err := e.s3.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String(b), Delete: &types.Delete{Objects: []types.ObjectIdentifier{
		{Key: aws.String("a"), VersionId: aws.String(a1)}, // a noncurrent version
		{Key: aws.String("b"), VersionId: aws.String(bm)}, // a delete marker
		{Key: aws.String("c")},                            // no version: a new marker
	}}})
	if err != nil {
		t.Fatalf("DeleteObjects: %v", err)
	}
	if len(out.Errors) != 0 {
		t.Errorf("DeleteObjects errors: %+v, want none", out.Errors)
	}
	got := map[string]types.DeletedObject{}
	for _, d := range out.Deleted {
		got[aws.ToString(d.Key)] = d
	}
	if len(got) != 3 || len(out.Deleted) != 3 {
		t.Fatalf("DeleteObjects Deleted: %d entries for keys %v, want one each for a, b, c", len(out.Deleted), slices.Sorted(maps.Keys(got)))
	}
	if d := got["a"]; aws.ToString(d.VersionId) != a1 || aws.ToBool(d.DeleteMarker) || aws.ToString(d.DeleteMarkerVersionId) != "" {
		t.Errorf("Deleted a: VersionId %q DeleteMarker %v DeleteMarkerVersionId %q, want %q, not a marker",
			aws.ToString(d.VersionId), aws.ToBool(d.DeleteMarker), aws.ToString(d.DeleteMarkerVersionId), a1)
	}
	if d := got["b"]; aws.ToString(d.VersionId) != bm || !aws.ToBool(d.DeleteMarker) || aws.ToString(d.DeleteMarkerVersionId) != bm {
		t.Errorf("Deleted b: VersionId %q DeleteMarker %v DeleteMarkerVersionId %q, want %q, true, %q (a marker removed)",
			aws.ToString(d.VersionId), aws.ToBool(d.DeleteMarker), aws.ToString(d.DeleteMarkerVersionId), bm, bm)
	}
	cm := aws.ToString(got["c"].DeleteMarkerVersionId)
	if d := got["c"]; !aws.ToBool(d.DeleteMarker) || cm == "" || cm == "null" || cm == c1 {
		t.Errorf("Deleted c: DeleteMarker %v DeleteMarkerVersionId %q, want true and a new marker's version ID",
			aws.ToBool(d.DeleteMarker), cm)
	}

	e.wantBody(t, b, "a", "", []byte("a2"))
	e.wantBody(t, b, "b", "", []byte("b1"))
	_, _, err = e.getObj(b, "c", "")
	wantErr(t, err, "NoSuchKey", http.StatusNotFound)
	l := e.allVersions(t, b)
	wantEntries(t, "versions after DeleteObjects", l.Versions,
		[]vEntry{ver("a", a2, true), ver("b", b1, true), ver("c", c1, false)})
	wantEntries(t, "delete markers after DeleteObjects", l.Markers, []vEntry{marker("c", cm, true)})

	// Deleting every listed version and marker empties the key space.
	var all []types.ObjectIdentifier
	for _, v := range append(l.Versions, l.Markers...) {
		all = append(all, types.ObjectIdentifier{Key: aws.String(v.Key), VersionId: aws.String(v.VersionID)})
	}
	out, err = e.s3.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String(b), Delete: &types.Delete{Objects: all}})
	if err != nil {
		t.Fatalf("DeleteObjects of everything: %v", err)
	}
	if len(out.Deleted) != len(all) || len(out.Errors) != 0 {
		t.Errorf("DeleteObjects of everything: %d deleted, errors %+v; want %d deleted and no errors", len(out.Deleted), out.Errors, len(all))
	}
	for _, d := range out.Deleted {
		if aws.ToString(d.VersionId) == "" {
			t.Errorf("Deleted %s: no VersionId, want the version deleted", aws.ToString(d.Key))
		}
	}
	if l := e.allVersions(t, b); len(l.Versions)+len(l.Markers) != 0 {
		t.Errorf("versions after deleting everything: %v %v, want none", l.Versions, l.Markers)
	}
}

// TestVersioningListPagination: pages of ListObjectVersions followed by
// NextKeyMarker and NextVersionIdMarker add up to the whole listing,
// also when a page ends inside the versions of one key.
func TestVersioningListPagination(t *testing.T) {
	e := newEnv(t)
	b := e.versionedBucket(t)
	var many []vEntry
	for i := range 5 {
		many = slices.Insert(many, 0, ver("many", e.putNew(t, b, "many", []byte(fmt.Sprint("many ", i))), false))
	}
	many[0].Latest = true
	o1 := e.putNew(t, b, "other", []byte("other"))
	om := aws.ToString(e.deleteV(t, b, "other", "").VersionId)
	z1 := e.putNew(t, b, "zed", []byte("zed"))

	wantVersions := append(slices.Clone(many), ver("other", o1, false), ver("zed", z1, true))
	wantMarkers := []vEntry{marker("other", om, true)}
	whole := e.allVersions(t, b)
	wantEntries(t, "unpaginated versions", whole.Versions, wantVersions)
	wantEntries(t, "unpaginated delete markers", whole.Markers, wantMarkers)
	if whole.Pages != 1 {
		t.Errorf("unpaginated listing took %d pages, want 1", whole.Pages)
	}

	for _, mk := range []int32{1, 2, 3, 5} {
		t.Run(fmt.Sprint("MaxKeys", mk), func(t *testing.T) {
			got := e.listVersions(t, b, s3.ListObjectVersionsInput{MaxKeys: aws.Int32(mk)})
			wantEntries(t, "paginated versions", got.Versions, whole.Versions)
			wantEntries(t, "paginated delete markers", got.Markers, whole.Markers)
			total := len(whole.Versions) + len(whole.Markers)
			if minPages := (total + int(mk) - 1) / int(mk); got.Pages < minPages {
				t.Errorf("%d entries with MaxKeys=%d came in %d pages, want at least %d", total, mk, got.Pages, minPages)
			}
		})
	}

	t.Run("FirstPage", func(t *testing.T) {
		out, err := e.s3.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String(b), MaxKeys: aws.Int32(2)})
		if err != nil {
			t.Fatalf("ListObjectVersions: %v", err)
		}
		if !aws.ToBool(out.IsTruncated) || aws.ToInt32(out.MaxKeys) != 2 {
			t.Errorf("first page: IsTruncated %v MaxKeys %d, want true and 2", aws.ToBool(out.IsTruncated), aws.ToInt32(out.MaxKeys))
		}
		if got, want := aws.ToString(out.NextKeyMarker), "many"; got != want {
			t.Errorf("first page: NextKeyMarker %q, want %q", got, want)
		}
		if got, want := aws.ToString(out.NextVersionIdMarker), many[1].VersionID; got != want {
			t.Errorf("first page: NextVersionIdMarker %q, want %q (the second-newest version of many)", got, want)
		}
	})
}

// TestVersioningListPrefixDelimiter: Prefix and Delimiter select and
// group versions and delete markers as in ListObjects, with or without
// paging.
func TestVersioningListPrefixDelimiter(t *testing.T) {
	e := newEnv(t)
	b := e.versionedBucket(t)
	a1a := e.putNew(t, b, "a/1", []byte("x"))
	a1b := e.putNew(t, b, "a/1", []byte("y"))
	a2 := e.putNew(t, b, "a/2", []byte("z"))
	bx := e.putNew(t, b, "b/x/1", []byte("w"))
	bxm := aws.ToString(e.deleteV(t, b, "b/x/1", "").VersionId)
	c1 := e.putNew(t, b, "c", []byte("c1"))
	c2 := e.putNew(t, b, "c", []byte("c2"))

	tests := []struct {
		name, prefix, delim string
		versions, markers   []vEntry
		prefixes            []string
	}{
		{name: "Delimiter", delim: "/", versions: []vEntry{ver("c", c2, true), ver("c", c1, false)}, prefixes: []string{"a/", "b/"}},
		{name: "Prefix", prefix: "a/", versions: []vEntry{ver("a/1", a1b, true), ver("a/1", a1a, false), ver("a/2", a2, true)}},
		{name: "PrefixDelimiter", prefix: "b/", delim: "/", prefixes: []string{"b/x/"}},
		{name: "PrefixWithMarker", prefix: "b/x/", versions: []vEntry{ver("b/x/1", bx, false)}, markers: []vEntry{marker("b/x/1", bxm, true)}},
		{name: "PrefixNoMatch", prefix: "zzz"},
	}
	for _, tc := range tests {
		for _, mk := range []*int32{nil, aws.Int32(1)} {
			name := tc.name
			if mk != nil {
				name += "/MaxKeys1"
			}
			t.Run(name, func(t *testing.T) {
				in := s3.ListObjectVersionsInput{MaxKeys: mk}
				if tc.prefix != "" {
					in.Prefix = aws.String(tc.prefix)
				}
				if tc.delim != "" {
					in.Delimiter = aws.String(tc.delim)
				}
				l := e.listVersions(t, b, in)
				wantEntries(t, "versions", l.Versions, tc.versions)
				wantEntries(t, "delete markers", l.Markers, tc.markers)
				if !slices.Equal(l.Prefixes, tc.prefixes) {
					t.Errorf("CommonPrefixes: got %q, want %q", l.Prefixes, tc.prefixes)
				}
			})
		}
	}
}

// TestVersioningDeleteBucketNotEmpty: noncurrent versions and delete
// markers keep a bucket from being deleted; once every version and
// marker is gone it can be.
func TestVersioningDeleteBucketNotEmpty(t *testing.T) {
	e := newEnv(t)
	b := e.versionedBucket(t)
	v1 := e.putNew(t, b, "k", []byte("x"))
	dm := aws.ToString(e.deleteV(t, b, "k", "").VersionId)

	deleteBucket := func() error {
		_, err := e.s3.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(b)})
		return err
	}
	// A noncurrent version under a delete marker: no key is listed.
	if got := e.keys(b); len(got) != 0 {
		t.Fatalf("keys: got %q, want none (the current version is a marker)", got)
	}
	wantErr(t, deleteBucket(), "BucketNotEmpty", http.StatusConflict)

	// Only a delete marker left.
	e.deleteV(t, b, "k", v1)
	wantErr(t, deleteBucket(), "BucketNotEmpty", http.StatusConflict)
	wantEntries(t, "what the failed DeleteBucket left", e.rawVersions(t, b), []vEntry{marker("k", dm, true)})

	e.deleteV(t, b, "k", dm)
	if err := deleteBucket(); err != nil {
		t.Fatalf("DeleteBucket once no version or marker is left: %v", err)
	}
	_, err := e.s3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(b)})
	wantErr(t, err, "NotFound", http.StatusNotFound)

	// A Suspended bucket holding only a null delete marker.
	s := e.bucket()
	e.put(s, "k", []byte("x"))
	e.setVersioning(t, s, types.BucketVersioningStatusSuspended)
	e.deleteV(t, s, "k", "")
	_, err = e.s3.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(s)})
	wantErr(t, err, "BucketNotEmpty", http.StatusConflict)
}

// TestVersioningMultipart: completing a multipart upload in an Enabled
// bucket makes a new version and returns its ID.
func TestVersioningMultipart(t *testing.T) {
	e := newEnv(t)
	b := e.versionedBucket(t)
	v1 := e.putNew(t, b, "mp", []byte("small"))
	p1, p2 := pattern(minPart), []byte("tail")
	id := e.upload(b, "mp")
	out, err := e.complete(b, "mp", id, e.part(b, "mp", id, 1, p1), e.part(b, "mp", id, 2, p2))
	if err != nil {
		t.Fatalf("CompleteMultipartUpload: %v", err)
	}
	v2 := aws.ToString(out.VersionId)
	if v2 == "" || v2 == "null" || v2 == v1 {
		t.Fatalf("CompleteMultipartUpload in an Enabled bucket: VersionId %q, want a new version ID", v2)
	}
	whole := slices.Concat(p1, p2)
	g := e.wantBody(t, b, "mp", "", whole)
	if got := aws.ToString(g.VersionId); got != v2 {
		t.Errorf("GET after the upload: x-amz-version-id %q, want %q", got, v2)
	}
	e.wantBody(t, b, "mp", v2, whole)
	e.wantBody(t, b, "mp", v1, []byte("small"))
	h, err := e.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String("mp"), VersionId: aws.String(v2)})
	if err != nil {
		t.Fatalf("HEAD versionId=%s: %v", v2, err)
	}
	if got, want := aws.ToString(h.ETag), multipartETag(p1, p2); got != want {
		t.Errorf("HEAD of the multipart version: ETag %s, want %s", got, want)
	}
	wantEntries(t, "versions", e.allVersions(t, b).Versions, []vEntry{ver("mp", v2, true), ver("mp", v1, false)})
}
