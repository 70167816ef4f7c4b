package s3api_test

import (
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// httpStatusOf returns the HTTP status of a successful SDK call.
func httpStatusOf(md middleware.Metadata) int {
	if r, ok := awsmiddleware.GetRawResponse(md).(*smithyhttp.Response); ok {
		return r.StatusCode
	}
	return 0
}

func headerOf(md middleware.Metadata, name string) string {
	if r, ok := awsmiddleware.GetRawResponse(md).(*smithyhttp.Response); ok {
		return r.Header.Get(name)
	}
	return ""
}

func md5hex(b []byte) string {
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])
}

func TestPutGetHeaders(t *testing.T) {
	e := newEnv(t)
	b := e.bucket()
	expires := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	body := []byte("hello, firn")
	put, err := e.s3.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(b), Key: aws.String("doc.txt"), Body: bytes.NewReader(body),
		ContentType:        aws.String("text/plain; charset=utf-8"),
		ContentEncoding:    aws.String("identity"),
		ContentDisposition: aws.String(`attachment; filename="doc.txt"`),
		ContentLanguage:    aws.String("de-CH"),
		CacheControl:       aws.String("max-age=60"),
		Expires:            aws.Time(expires),
		Metadata:           map[string]string{"Color": "blue", "x-y": "Zürich ok"},
		Tagging:            aws.String("a=1&b=two%20words"),
	})
	if err != nil {
		t.Fatalf("PutObject: %v", err)
	}
	if got, want := aws.ToString(put.ETag), `"`+md5hex(body)+`"`; got != want {
		t.Errorf("PutObject ETag: got %s, want %s", got, want)
	}
	get, err := e.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("doc.txt")})
	if err != nil {
		t.Fatalf("GetObject: %v", err)
	}
	if got := readAll(t, get.Body); !bytes.Equal(got, body) {
		t.Errorf("body: got %q, want %q", got, body)
	}
	head, err := e.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String("doc.txt")})
	if err != nil {
		t.Fatalf("HeadObject: %v", err)
	}
	type fields struct {
		ctype, cenc, cdisp, clang, cache, etag string
		expires                                time.Time
		length                                 int64
		meta                                   map[string]string
		tagCount                               int32
		lm                                     time.Time
	}
	for name, got := range map[string]fields{
		"GET": {aws.ToString(get.ContentType), aws.ToString(get.ContentEncoding), aws.ToString(get.ContentDisposition),
			aws.ToString(get.ContentLanguage), aws.ToString(get.CacheControl), aws.ToString(get.ETag), aws.ToTime(get.Expires),
			aws.ToInt64(get.ContentLength), get.Metadata, aws.ToInt32(get.TagCount), aws.ToTime(get.LastModified)},
		"HEAD": {aws.ToString(head.ContentType), aws.ToString(head.ContentEncoding), aws.ToString(head.ContentDisposition),
			aws.ToString(head.ContentLanguage), aws.ToString(head.CacheControl), aws.ToString(head.ETag), aws.ToTime(head.Expires),
			aws.ToInt64(head.ContentLength), head.Metadata, 2, aws.ToTime(head.LastModified)},
	} {
		want := fields{"text/plain; charset=utf-8", "identity", `attachment; filename="doc.txt"`, "de-CH", "max-age=60",
			`"` + md5hex(body) + `"`, expires, int64(len(body)), map[string]string{"color": "blue", "x-y": "Zürich ok"}, 2, got.lm}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: got %+v, want %+v", name, got, want)
		}
		if got.lm.IsZero() || time.Since(got.lm) > time.Minute {
			t.Errorf("%s LastModified: got %v, want about now", name, got.lm)
		}
	}
	if got := headerOf(head.ResultMetadata, "Accept-Ranges"); got != "bytes" {
		t.Errorf("Accept-Ranges: got %q, want bytes", got)
	}
	if got := headerOf(head.ResultMetadata, "x-amz-storage-class"); got != "" {
		t.Errorf("x-amz-storage-class of a STANDARD object: got %q, want none", got)
	}

	t.Run("DefaultContentType", func(t *testing.T) {
		resp, _ := e.raw(http.MethodPut, "/"+b+"/untyped", []byte("x"), rawOpts{})
		if resp.StatusCode != 200 {
			t.Fatalf("PUT: got %d, want 200", resp.StatusCode)
		}
		h, err := e.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String("untyped")})
		if err != nil {
			t.Fatalf("HeadObject: %v", err)
		}
		if got := aws.ToString(h.ContentType); got != "binary/octet-stream" {
			t.Errorf("Content-Type: got %q, want binary/octet-stream", got)
		}
	})

	t.Run("ResponseOverrides", func(t *testing.T) {
		ov := time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)
		out, err := e.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("doc.txt"),
			ResponseContentType: aws.String("application/x-over"), ResponseContentLanguage: aws.String("fr"),
			ResponseExpires: aws.Time(ov), ResponseCacheControl: aws.String("no-cache"),
			ResponseContentDisposition: aws.String("inline"), ResponseContentEncoding: aws.String("x-enc")})
		if err != nil {
			t.Fatalf("GetObject: %v", err)
		}
		readAll(t, out.Body)
		got := []string{aws.ToString(out.ContentType), aws.ToString(out.ContentLanguage), aws.ToTime(out.Expires).UTC().String(),
			aws.ToString(out.CacheControl), aws.ToString(out.ContentDisposition), aws.ToString(out.ContentEncoding)}
		want := []string{"application/x-over", "fr", ov.String(), "no-cache", "inline", "x-enc"}
		if !slices.Equal(got, want) {
			t.Errorf("overridden headers: got %q, want %q", got, want)
		}
		resp, body := e.raw(http.MethodGet, "/"+b+"/doc.txt?response-bogus=1", nil, rawOpts{})
		wantXMLError(t, resp, body, "InvalidArgument", http.StatusBadRequest)
	})

	t.Run("MetadataTooLarge", func(t *testing.T) {
		_, err := e.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("big-meta"),
			Body: strings.NewReader("x"), Metadata: map[string]string{"k": strings.Repeat("v", 2100)}})
		wantErr(t, err, "MetadataTooLarge", http.StatusBadRequest)
		if e.exists(b, "big-meta") {
			t.Errorf("object stored despite MetadataTooLarge")
		}
	})

	t.Run("InvalidTaggingHeader", func(t *testing.T) {
		_, err := e.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("bad-tags"),
			Body: strings.NewReader("x"), Tagging: aws.String("k=1&k=2")})
		wantErr(t, err, "InvalidTag", http.StatusBadRequest)
	})

	t.Run("ConditionalWrites", func(t *testing.T) {
		_, err := e.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("doc.txt"),
			Body: strings.NewReader("other"), IfNoneMatch: aws.String("*")})
		wantErr(t, err, "PreconditionFailed", http.StatusPreconditionFailed)
		_, err = e.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("doc.txt"),
			Body: strings.NewReader("other"), IfMatch: aws.String(`"0123"`)})
		wantErr(t, err, "PreconditionFailed", http.StatusPreconditionFailed)
		if got := e.get(b, "doc.txt"); !bytes.Equal(got, body) {
			t.Errorf("body after failed conditional writes: got %q, want %q", got, body)
		}
		if _, err := e.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("fresh"),
			Body: strings.NewReader("new"), IfNoneMatch: aws.String("*")}); err != nil {
			t.Errorf("PutObject If-None-Match * on a new key: %v", err)
		}
	})
}

func TestGetObjectRange(t *testing.T) {
	e := newEnv(t)
	b := e.bucket()
	objects := map[string][]byte{"small": pattern(100), "large": pattern(300 << 10)}
	for k, v := range objects {
		e.put(b, k, v)
	}
	type rng struct {
		hdr         string
		first, last int64 // -1: whole object, 200
	}
	tests := map[string][]rng{
		"small": {
			{"bytes=0-9", 0, 9}, {"bytes=5-", 5, 99}, {"bytes=-5", 95, 99}, {"bytes=90-200", 90, 99},
			{"bytes=0-0", 0, 0}, {"bytes=99-99", 99, 99}, {"bytes=-1000", 0, 99},
			// Syntax S3 does not serve: the whole object.
			{"bytes=5-2", -1, -1}, {"items=0-1", -1, -1}, {"bytes=0-1,3-4", -1, -1}, {"bytes=x-y", -1, -1},
		},
		"large": {
			{"bytes=0-65535", 0, 65535}, {"bytes=131071-131073", 131071, 131073}, {"bytes=1000-200000", 1000, 200000},
			{"bytes=-10", 300<<10 - 10, 300<<10 - 1}, {"bytes=307000-", 307000, 300<<10 - 1},
			{"bytes=307000-999999", 307000, 300<<10 - 1},
		},
	}
	for key, ranges := range tests {
		full := objects[key]
		for _, r := range ranges {
			t.Run(key+"/"+r.hdr, func(t *testing.T) {
				out, err := e.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String(key), Range: aws.String(r.hdr)})
				if err != nil {
					t.Fatalf("GetObject: %v", err)
				}
				got := readAll(t, out.Body)
				want, wantStatus, wantCR := full, http.StatusOK, ""
				if r.first >= 0 {
					want, wantStatus = full[r.first:r.last+1], http.StatusPartialContent
					wantCR = fmt.Sprintf("bytes %d-%d/%d", r.first, r.last, len(full))
				}
				if !bytes.Equal(got, want) {
					t.Errorf("body: got %d bytes, want %d bytes [%d-%d]", len(got), len(want), r.first, r.last)
				}
				if s := httpStatusOf(out.ResultMetadata); s != wantStatus {
					t.Errorf("status: got %d, want %d", s, wantStatus)
				}
				if got := aws.ToString(out.ContentRange); got != wantCR {
					t.Errorf("Content-Range: got %q, want %q", got, wantCR)
				}
				if got := aws.ToInt64(out.ContentLength); got != int64(len(want)) {
					t.Errorf("Content-Length: got %d, want %d", got, len(want))
				}
			})
		}
	}
	for _, tc := range []struct{ key, hdr string }{
		{"small", "bytes=100-"}, {"small", "bytes=200-300"}, {"large", "bytes=307200-"}, {"small", "bytes=-0"},
	} {
		t.Run("unsatisfiable/"+tc.key+"/"+tc.hdr, func(t *testing.T) {
			_, err := e.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String(tc.key), Range: aws.String(tc.hdr)})
			wantErr(t, err, "InvalidRange", http.StatusRequestedRangeNotSatisfiable)
		})
	}
	t.Run("unsatisfiable/raw", func(t *testing.T) {
		resp, body := e.raw(http.MethodGet, "/"+b+"/small", nil, rawOpts{header: http.Header{"Range": {"bytes=500-"}}})
		wantXMLError(t, resp, body, "InvalidRange", http.StatusRequestedRangeNotSatisfiable)
		if got := resp.Header.Get("Content-Range"); got != "bytes */100" {
			t.Errorf("Content-Range: got %q, want %q", got, "bytes */100")
		}
	})
	t.Run("HEAD", func(t *testing.T) {
		out, err := e.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String("large"), Range: aws.String("bytes=10-19")})
		if err != nil {
			t.Fatalf("HeadObject: %v", err)
		}
		if got := aws.ToInt64(out.ContentLength); got != 10 {
			t.Errorf("Content-Length: got %d, want 10", got)
		}
		if got, want := aws.ToString(out.ContentRange), fmt.Sprintf("bytes 10-19/%d", 300<<10); got != want {
			t.Errorf("Content-Range: got %q, want %q", got, want)
		}
	})
}

func TestGetObjectConditions(t *testing.T) {
	e := newEnv(t)
	b := e.bucket()
	put := e.put(b, "k", []byte("conditional"))
	etag := aws.ToString(put.ETag)
	head, err := e.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String("k")})
	if err != nil {
		t.Fatalf("HeadObject: %v", err)
	}
	lm := aws.ToTime(head.LastModified)
	before, after := lm.Add(-time.Hour), lm.Add(time.Hour)
	tests := []struct {
		name          string
		ifMatch       string
		ifNoneMatch   string
		ifModified    time.Time
		ifUnmodified  time.Time
		status        int
		code          string // GET's error code; HEAD has no body
		headErrorCode string
	}{
		{name: "IfMatch", ifMatch: etag, status: 200},
		{name: "IfMatchStar", ifMatch: "*", status: 200},
		{name: "IfMatchList", ifMatch: `"aaa", ` + etag, status: 200},
		{name: "IfMatchWrong", ifMatch: `"0000"`, status: 412, code: "PreconditionFailed"},
		{name: "IfNoneMatch", ifNoneMatch: etag, status: 304, code: "NotModified"},
		{name: "IfNoneMatchStar", ifNoneMatch: "*", status: 304, code: "NotModified"},
		{name: "IfNoneMatchOther", ifNoneMatch: `"0000"`, status: 200},
		{name: "IfModifiedSinceBefore", ifModified: before, status: 200},
		{name: "IfModifiedSinceAfter", ifModified: after, status: 304, code: "NotModified"},
		{name: "IfModifiedSinceExact", ifModified: lm, status: 304, code: "NotModified"},
		{name: "IfUnmodifiedSinceAfter", ifUnmodified: after, status: 200},
		{name: "IfUnmodifiedSinceExact", ifUnmodified: lm, status: 200},
		{name: "IfUnmodifiedSinceBefore", ifUnmodified: before, status: 412, code: "PreconditionFailed"},
		// RFC 9110 §13.2.2 order, as S3 documents it.
		{name: "IfMatchTrueOverridesIfUnmodifiedSince", ifMatch: etag, ifUnmodified: before, status: 200},
		{name: "IfNoneMatchFalseOverridesIfModifiedSince", ifNoneMatch: `"0000"`, ifModified: after, status: 200},
		{name: "IfMatchFalseBeforeIfNoneMatch", ifMatch: `"0000"`, ifNoneMatch: etag, status: 412, code: "PreconditionFailed"},
		{name: "IfUnmodifiedSinceFalseBeforeIfNoneMatch", ifUnmodified: before, ifNoneMatch: etag, status: 412, code: "PreconditionFailed"},
		{name: "IfMatchTrueIfModifiedSinceFalse", ifMatch: etag, ifModified: after, status: 304, code: "NotModified"},
	}
	opt := func(s string) *string {
		if s == "" {
			return nil
		}
		return aws.String(s)
	}
	optTime := func(t time.Time) *time.Time {
		if t.IsZero() {
			return nil
		}
		return aws.Time(t)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := e.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("k"),
				IfMatch: opt(tc.ifMatch), IfNoneMatch: opt(tc.ifNoneMatch), IfModifiedSince: optTime(tc.ifModified), IfUnmodifiedSince: optTime(tc.ifUnmodified)})
			if tc.status == 200 {
				if err != nil {
					t.Fatalf("GetObject: got %v, want 200", err)
				}
				if got := readAll(t, out.Body); string(got) != "conditional" {
					t.Errorf("body: got %q, want %q", got, "conditional")
				}
			} else {
				wantErr(t, err, tc.code, tc.status)
			}
			_, err = e.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String("k"),
				IfMatch: opt(tc.ifMatch), IfNoneMatch: opt(tc.ifNoneMatch), IfModifiedSince: optTime(tc.ifModified), IfUnmodifiedSince: optTime(tc.ifUnmodified)})
			if tc.status == 200 {
				if err != nil {
					t.Errorf("HeadObject: got %v, want 200", err)
				}
			} else if got := status(err); got != tc.status {
				t.Errorf("HeadObject: got status %d (%v), want %d", got, err, tc.status)
			}
		})
	}
	t.Run("NotModifiedCarriesETag", func(t *testing.T) {
		resp, body := e.raw(http.MethodGet, "/"+b+"/k", nil, rawOpts{header: http.Header{"If-None-Match": {etag}}})
		if resp.StatusCode != http.StatusNotModified {
			t.Fatalf("status: got %d, want 304", resp.StatusCode)
		}
		if len(body) != 0 {
			t.Errorf("304 body: got %q, want none", body)
		}
		if got := resp.Header.Get("ETag"); got != etag {
			t.Errorf("304 ETag: got %q, want %q", got, etag)
		}
	})
}

func TestObjectErrorsAndDelete(t *testing.T) {
	e := newEnv(t)
	b := e.bucket()

	t.Run("MissingKey", func(t *testing.T) {
		_, err := e.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("nope")})
		wantErr(t, err, "NoSuchKey", http.StatusNotFound)
		_, err = e.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String("nope")})
		wantErr(t, err, "NotFound", http.StatusNotFound)
		resp, body := e.raw(http.MethodGet, "/"+b+"/no/such%20key", nil, rawOpts{})
		doc := wantXMLError(t, resp, body, "NoSuchKey", http.StatusNotFound)
		if want := "/" + b + "/no/such%20key"; doc.Resource != want && doc.Resource != "/"+b+"/no/such key" {
			t.Errorf("Resource: got %q, want %q", doc.Resource, want)
		}
	})

	t.Run("DeleteObjectIdempotent", func(t *testing.T) {
		e.put(b, "gone", []byte("x"))
		for i := range 2 {
			out, err := e.s3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(b), Key: aws.String("gone")})
			if err != nil {
				t.Fatalf("DeleteObject #%d: %v", i+1, err)
			}
			if got := httpStatusOf(out.ResultMetadata); got != http.StatusNoContent {
				t.Errorf("DeleteObject #%d: got status %d, want 204", i+1, got)
			}
		}
		if e.exists(b, "gone") {
			t.Errorf("object exists after DeleteObject")
		}
		// A version that does not exist is deleted as well: S3 answers
		// 204 and names it.
		out, err := e.s3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(b), Key: aws.String("gone"), VersionId: aws.String("3HL4kqtJlcpXroDTDmJ")})
		if err != nil || httpStatusOf(out.ResultMetadata) != http.StatusNoContent {
			t.Errorf("DeleteObject of a missing version: %v, want 204", err)
		}
		_, err = e.s3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(b), Key: aws.String("gone"), VersionId: aws.String("bad version")})
		wantErr(t, err, "InvalidArgument", http.StatusBadRequest)
	})

	t.Run("DeleteObjects", func(t *testing.T) {
		for _, k := range []string{"d/1", "d/2", "d/3", "keep"} {
			e.put(b, k, []byte(k))
		}
		out, err := e.s3.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String(b), Delete: &types.Delete{
			Objects: []types.ObjectIdentifier{{Key: aws.String("d/1")}, {Key: aws.String("d/2")}, {Key: aws.String("never-existed")},
				{Key: aws.String("d/3"), VersionId: aws.String("nonexistent-version")}},
		}})
		if err != nil {
			t.Fatalf("DeleteObjects: %v", err)
		}
		var deleted []string
		for _, d := range out.Deleted {
			deleted = append(deleted, aws.ToString(d.Key))
		}
		slices.Sort(deleted)
		// A missing version counts as deleted, as S3 answers.
		if want := []string{"d/1", "d/2", "d/3", "never-existed"}; !slices.Equal(deleted, want) {
			t.Errorf("Deleted: got %q, want %q", deleted, want)
		}
		if len(out.Errors) != 0 {
			t.Errorf("Errors: got %+v, want none", out.Errors)
		}
		if got, want := e.keys(b), []string{"d/3", "keep"}; !slices.Equal(got, want) {
			t.Errorf("keys after DeleteObjects: got %q, want %q", got, want)
		}

		quiet, err := e.s3.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String(b), Delete: &types.Delete{
			Quiet: aws.Bool(true), Objects: []types.ObjectIdentifier{{Key: aws.String("d/3")}, {Key: aws.String("missing")}}}})
		if err != nil {
			t.Fatalf("DeleteObjects quiet: %v", err)
		}
		if len(quiet.Deleted) != 0 || len(quiet.Errors) != 0 {
			t.Errorf("quiet DeleteObjects: got %d deleted and %d errors, want 0 and 0", len(quiet.Deleted), len(quiet.Errors))
		}
		if got, want := e.keys(b), []string{"keep"}; !slices.Equal(got, want) {
			t.Errorf("keys after quiet DeleteObjects: got %q, want %q", got, want)
		}

		var many []types.ObjectIdentifier
		for i := range 1001 {
			many = append(many, types.ObjectIdentifier{Key: aws.String(fmt.Sprint(i))})
		}
		_, err = e.s3.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String(b), Delete: &types.Delete{Objects: many}})
		wantErr(t, err, "MalformedXML", http.StatusBadRequest)
	})

	t.Run("DeleteObjectsNeedsIntegrityHeader", func(t *testing.T) {
		doc := []byte(`<Delete><Object><Key>keep</Key></Object></Delete>`)
		resp, body := e.raw(http.MethodPost, "/"+b+"?delete", doc, rawOpts{})
		wantXMLError(t, resp, body, "InvalidRequest", http.StatusBadRequest)
		sum := md5.Sum(doc)
		resp, body = e.raw(http.MethodPost, "/"+b+"?delete", doc, rawOpts{header: http.Header{"Content-Md5": {base64.StdEncoding.EncodeToString(sum[:])}}})
		if resp.StatusCode != 200 {
			t.Fatalf("DeleteObjects with Content-MD5: got %d %s, want 200", resp.StatusCode, body)
		}
		if e.exists(b, "keep") {
			t.Errorf("keep still exists after DeleteObjects")
		}
	})
}

func TestObjectKeys(t *testing.T) {
	e := newEnv(t)
	b := e.bucket()
	long := strings.Repeat("€", 341) + "a" // 1024 bytes
	if len(long) != 1024 {
		t.Fatalf("long key is %d bytes, want 1024", len(long))
	}
	keys := []string{
		"../../etc/passwd", "a//b", "a/./b", "a/../b", "dir", "dir/", "/leading", "trailing/", "sp ace", "plus+sign",
		"percent%20", "question?mark", "hash#tag", "amp&eq=", "tab\tchar", "ünïcødé/日本語", "emoji🙂", "~tilde", long,
		"semi;colon", "comma,star*", "quote\"apos'", "back\\slash", "<angle>", "..", ".",
	}
	for i, k := range keys {
		e.put(b, k, []byte(fmt.Sprint(i)))
	}
	for i, k := range keys {
		if got := e.get(b, k); string(got) != fmt.Sprint(i) {
			t.Errorf("GetObject %q: got %q, want %q", k, got, fmt.Sprint(i))
		}
	}
	want := slices.Clone(keys)
	slices.Sort(want)
	if got := e.keys(b); !slices.Equal(got, want) {
		t.Errorf("ListObjectsV2: got %q, want %q", got, want)
	}
	// Keys are names, never paths: nothing escaped the data directory.
	if e.exists(b, "etc/passwd") {
		t.Errorf(`"etc/passwd" exists: "../../etc/passwd" was normalized`)
	}

	t.Run("KeyTooLong", func(t *testing.T) {
		_, err := e.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String(long + "b"), Body: strings.NewReader("x")})
		wantErr(t, err, "KeyTooLongError", http.StatusBadRequest)
		_, err = e.s3.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(b), Key: aws.String(long + "b")})
		wantErr(t, err, "KeyTooLongError", http.StatusBadRequest)
		_, err = e.s3.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(b), Key: aws.String(long + "b"), CopySource: aws.String(b + "/dir")})
		wantErr(t, err, "KeyTooLongError", http.StatusBadRequest)
	})

	t.Run("DirAndDirSlashDistinct", func(t *testing.T) {
		if got := e.get(b, "dir"); string(got) != fmt.Sprint(slices.Index(keys, "dir")) {
			t.Errorf("dir: got %q", got)
		}
		if _, err := e.s3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(b), Key: aws.String("dir/")}); err != nil {
			t.Fatalf("DeleteObject dir/: %v", err)
		}
		if !e.exists(b, "dir") || e.exists(b, "dir/") {
			t.Errorf("after deleting dir/: dir exists=%v, dir/ exists=%v; want true, false", e.exists(b, "dir"), e.exists(b, "dir/"))
		}
	})

	t.Run("EscapedSlashInKey", func(t *testing.T) {
		resp, body := e.raw(http.MethodPut, "/"+b+"/x%2Fy", []byte("esc"), rawOpts{})
		if resp.StatusCode != 200 {
			t.Fatalf("PUT x%%2Fy: got %d %s", resp.StatusCode, body)
		}
		if got := e.get(b, "x/y"); string(got) != "esc" {
			t.Errorf("x/y: got %q, want %q", got, "esc")
		}
	})
}

func TestStorageClasses(t *testing.T) {
	e := newEnv(t)
	b := e.bucket()
	classes := []types.StorageClass{
		types.StorageClassStandard, types.StorageClassReducedRedundancy, types.StorageClassStandardIa,
		types.StorageClassOnezoneIa, types.StorageClassIntelligentTiering, types.StorageClassGlacierIr,
		types.StorageClassGlacier, types.StorageClassDeepArchive,
	}
	for _, c := range classes {
		t.Run(string(c), func(t *testing.T) {
			key := "obj-" + string(c)
			if _, err := e.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String(key), Body: strings.NewReader("x"), StorageClass: c}); err != nil {
				t.Fatalf("PutObject: %v", err)
			}
			h, err := e.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String(key)})
			if err != nil {
				t.Fatalf("HeadObject: %v", err)
			}
			want := c
			if c == types.StorageClassStandard {
				want = "" // S3 sends no x-amz-storage-class for STANDARD
			}
			if got := types.StorageClass(headerOf(h.ResultMetadata, "x-amz-storage-class")); got != want {
				t.Errorf("HEAD x-amz-storage-class: got %q, want %q", got, want)
			}
			mpu, err := e.s3.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(b), Key: aws.String("mpu-" + key), StorageClass: c})
			if err != nil {
				t.Fatalf("CreateMultipartUpload: %v", err)
			}
			parts, err := e.s3.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String(b), Key: aws.String("mpu-" + key), UploadId: mpu.UploadId})
			if err != nil {
				t.Fatalf("ListParts: %v", err)
			}
			if parts.StorageClass != c {
				t.Errorf("ListParts StorageClass: got %q, want %q", parts.StorageClass, c)
			}
		})
	}
	t.Run("Listings", func(t *testing.T) {
		v2, err := e.s3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(b)})
		if err != nil {
			t.Fatalf("ListObjectsV2: %v", err)
		}
		v1, err := e.s3.ListObjects(ctx, &s3.ListObjectsInput{Bucket: aws.String(b)})
		if err != nil {
			t.Fatalf("ListObjects: %v", err)
		}
		if len(v2.Contents) != len(classes) || len(v1.Contents) != len(classes) {
			t.Fatalf("listings: got %d and %d objects, want %d", len(v2.Contents), len(v1.Contents), len(classes))
		}
		for i, o := range v2.Contents {
			want := strings.TrimPrefix(aws.ToString(o.Key), "obj-")
			if string(o.StorageClass) != want || string(v1.Contents[i].StorageClass) != want {
				t.Errorf("%s: got v2 %q, v1 %q, want %q", aws.ToString(o.Key), o.StorageClass, v1.Contents[i].StorageClass, want)
			}
		}
		ups, err := e.s3.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(b)})
		if err != nil {
			t.Fatalf("ListMultipartUploads: %v", err)
		}
		for _, u := range ups.Uploads {
			if want := strings.TrimPrefix(aws.ToString(u.Key), "mpu-obj-"); string(u.StorageClass) != want {
				t.Errorf("upload %s: got %q, want %q", aws.ToString(u.Key), u.StorageClass, want)
			}
		}
	})
	t.Run("Unknown", func(t *testing.T) {
		for _, c := range []types.StorageClass{"FOO", "standard", "EXPRESS_ONEZONE_X"} {
			_, err := e.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("bad"), Body: strings.NewReader("x"), StorageClass: c})
			wantErr(t, err, "InvalidStorageClass", http.StatusBadRequest)
			_, err = e.s3.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(b), Key: aws.String("bad"), StorageClass: c})
			wantErr(t, err, "InvalidStorageClass", http.StatusBadRequest)
			_, err = e.s3.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(b), Key: aws.String("bad"), CopySource: aws.String(b + "/obj-STANDARD"), StorageClass: c})
			wantErr(t, err, "InvalidStorageClass", http.StatusBadRequest)
		}
		if e.exists(b, "bad") {
			t.Errorf("object stored despite InvalidStorageClass")
		}
	})
}

func TestObjectSizes(t *testing.T) {
	e := newEnv(t)
	b := e.bucket()
	const inlineMax = 128 << 10
	tests := []struct {
		name string
		size int
		blob bool // stored as a file
	}{
		{"empty", 0, false}, {"one", 1, false}, {"inline-max", inlineMax, false},
		{"inline-max+1", inlineMax + 1, true}, {"1MiB+3", 1<<20 + 3, true},
	}
	for _, tc := range tests {
		for _, c := range []struct {
			name   string
			client *s3.Client
		}{{"signed", e.s3}, {"chunked", e.tls}} {
			t.Run(tc.name+"/"+c.name, func(t *testing.T) {
				body := pattern(tc.size)
				before := e.blobFiles()
				key := tc.name + "/" + c.name
				out, err := c.client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String(key), Body: bytes.NewReader(body)})
				if err != nil {
					t.Fatalf("PutObject: %v", err)
				}
				if got, want := aws.ToString(out.ETag), `"`+md5hex(body)+`"`; got != want {
					t.Errorf("ETag: got %s, want %s", got, want)
				}
				if got, want := e.blobFiles()-before, map[bool]int{false: 0, true: 1}[tc.blob]; got != want {
					t.Errorf("new blob files: got %d, want %d", got, want)
				}
				if got := e.get(b, key); !bytes.Equal(got, body) {
					t.Errorf("GetObject: got %d bytes, want %d (equal: false)", len(got), len(body))
				}
				h, err := e.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String(key)})
				if err != nil {
					t.Fatalf("HeadObject: %v", err)
				}
				if got := aws.ToInt64(h.ContentLength); got != int64(tc.size) {
					t.Errorf("Content-Length: got %d, want %d", got, tc.size)
				}
			})
		}
	}
	t.Run("EmptyRange", func(t *testing.T) {
		_, err := e.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("empty/signed"), Range: aws.String("bytes=0-")})
		wantErr(t, err, "InvalidRange", http.StatusRequestedRangeNotSatisfiable)
	})
	t.Run("Overwrite", func(t *testing.T) {
		// Replacing a file-backed object with an inline one frees the file.
		before := e.blobFiles()
		e.put(b, "1MiB+3/signed", []byte("small now"))
		if got := e.blobFiles(); got != before-1 {
			t.Errorf("blob files after overwrite: got %d, want %d", got, before-1)
		}
		if got := e.get(b, "1MiB+3/signed"); string(got) != "small now" {
			t.Errorf("GetObject: got %q, want %q", got, "small now")
		}
	})
	t.Run("DeleteFreesBlob", func(t *testing.T) {
		before := e.blobFiles()
		if _, err := e.s3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(b), Key: aws.String("1MiB+3/chunked")}); err != nil {
			t.Fatalf("DeleteObject: %v", err)
		}
		if got := e.blobFiles(); got != before-1 {
			t.Errorf("blob files after delete: got %d, want %d", got, before-1)
		}
	})
}

// escapeKey percent-encodes a key for a raw request path.
func escapeKey(k string) string {
	return strings.ReplaceAll(url.PathEscape(k), "%2F", "/")
}
