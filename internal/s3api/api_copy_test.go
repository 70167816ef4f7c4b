package s3api_test

import (
	"bytes"
	"maps"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func TestCopyObject(t *testing.T) {
	e := newEnv(t)
	b, b2 := e.bucket(), e.bucket()
	srcKey := "src dir/ünï+key"
	src := aws.String(b + "/" + escapeKey(srcKey))
	body := pattern(1000)
	put, err := e.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String(srcKey), Body: bytes.NewReader(body),
		ContentType: aws.String("text/source"), CacheControl: aws.String("max-age=1"), Metadata: map[string]string{"origin": "source"},
		Tagging: aws.String("t=src")})
	if err != nil {
		t.Fatalf("PutObject: %v", err)
	}
	etag := aws.ToString(put.ETag)

	head := func(t *testing.T, bucket, key string) *s3.HeadObjectOutput {
		t.Helper()
		h, err := e.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
		if err != nil {
			t.Fatalf("HeadObject %s/%s: %v", bucket, key, err)
		}
		return h
	}
	tags := func(t *testing.T, bucket, key string) map[string]string {
		t.Helper()
		out, err := e.s3.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String(bucket), Key: aws.String(key)})
		if err != nil {
			t.Fatalf("GetObjectTagging: %v", err)
		}
		m := map[string]string{}
		for _, tg := range out.TagSet {
			m[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
		}
		return m
	}

	t.Run("DirectiveCOPY", func(t *testing.T) {
		out, err := e.s3.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(b2), Key: aws.String("copy"), CopySource: src,
			// Ignored under COPY.
			ContentType: aws.String("text/ignored"), Metadata: map[string]string{"origin": "ignored"}})
		if err != nil {
			t.Fatalf("CopyObject: %v", err)
		}
		if got := aws.ToString(out.CopyObjectResult.ETag); got != etag {
			t.Errorf("copy ETag: got %s, want %s", got, etag)
		}
		if out.CopyObjectResult.LastModified == nil {
			t.Errorf("copy LastModified: missing")
		}
		if got := e.get(b2, "copy"); !bytes.Equal(got, body) {
			t.Errorf("copied body differs")
		}
		h := head(t, b2, "copy")
		if got := aws.ToString(h.ContentType); got != "text/source" {
			t.Errorf("Content-Type: got %q, want text/source", got)
		}
		if got := aws.ToString(h.CacheControl); got != "max-age=1" {
			t.Errorf("Cache-Control: got %q, want max-age=1", got)
		}
		if want := map[string]string{"origin": "source"}; !maps.Equal(h.Metadata, want) {
			t.Errorf("metadata: got %v, want %v", h.Metadata, want)
		}
		if got, want := tags(t, b2, "copy"), map[string]string{"t": "src"}; !maps.Equal(got, want) {
			t.Errorf("tags: got %v, want %v", got, want)
		}
	})

	t.Run("DirectiveREPLACE", func(t *testing.T) {
		_, err := e.s3.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(b2), Key: aws.String("replaced"), CopySource: src,
			MetadataDirective: types.MetadataDirectiveReplace, ContentType: aws.String("text/new"), Metadata: map[string]string{"fresh": "yes"},
			TaggingDirective: types.TaggingDirectiveReplace, Tagging: aws.String("n=1")})
		if err != nil {
			t.Fatalf("CopyObject: %v", err)
		}
		h := head(t, b2, "replaced")
		if got := aws.ToString(h.ContentType); got != "text/new" {
			t.Errorf("Content-Type: got %q, want text/new", got)
		}
		if got := aws.ToString(h.CacheControl); got != "" {
			t.Errorf("Cache-Control: got %q, want none (REPLACE drops it)", got)
		}
		if want := map[string]string{"fresh": "yes"}; !maps.Equal(h.Metadata, want) {
			t.Errorf("metadata: got %v, want %v", h.Metadata, want)
		}
		if got, want := tags(t, b2, "replaced"), map[string]string{"n": "1"}; !maps.Equal(got, want) {
			t.Errorf("tags: got %v, want %v", got, want)
		}
		_, err = e.s3.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(b2), Key: aws.String("x"), CopySource: src,
			MetadataDirective: "MERGE"})
		wantErr(t, err, "InvalidArgument", http.StatusBadRequest)
	})

	t.Run("SourceConditions", func(t *testing.T) {
		h := head(t, b, srcKey)
		lm := aws.ToTime(h.LastModified)
		tests := []struct {
			name string
			in   s3.CopyObjectInput
			ok   bool
		}{
			{"IfMatch", s3.CopyObjectInput{CopySourceIfMatch: aws.String(etag)}, true},
			{"IfMatchWrong", s3.CopyObjectInput{CopySourceIfMatch: aws.String(`"0000"`)}, false},
			{"IfNoneMatch", s3.CopyObjectInput{CopySourceIfNoneMatch: aws.String(etag)}, false},
			{"IfNoneMatchOther", s3.CopyObjectInput{CopySourceIfNoneMatch: aws.String(`"0000"`)}, true},
			{"IfModifiedSinceAfter", s3.CopyObjectInput{CopySourceIfModifiedSince: aws.Time(lm.Add(time.Hour))}, false},
			{"IfModifiedSinceBefore", s3.CopyObjectInput{CopySourceIfModifiedSince: aws.Time(lm.Add(-time.Hour))}, true},
			{"IfUnmodifiedSinceBefore", s3.CopyObjectInput{CopySourceIfUnmodifiedSince: aws.Time(lm.Add(-time.Hour))}, false},
			{"IfUnmodifiedSinceAfter", s3.CopyObjectInput{CopySourceIfUnmodifiedSince: aws.Time(lm.Add(time.Hour))}, true},
			{"IfMatchTrueIfUnmodifiedSinceFalse", s3.CopyObjectInput{CopySourceIfMatch: aws.String(etag), CopySourceIfUnmodifiedSince: aws.Time(lm.Add(-time.Hour))}, true},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				in := tc.in
				in.Bucket, in.Key, in.CopySource = aws.String(b2), aws.String("cond-"+tc.name), src
				_, err := e.s3.CopyObject(ctx, &in)
				if tc.ok {
					if err != nil {
						t.Fatalf("CopyObject: got %v, want success", err)
					}
					return
				}
				wantErr(t, err, "PreconditionFailed", http.StatusPreconditionFailed)
				if e.exists(b2, "cond-"+tc.name) {
					t.Errorf("destination written despite a failed precondition")
				}
			})
		}
	})

	t.Run("SelfCopy", func(t *testing.T) {
		e.put(b, "self", []byte("self body"))
		_, err := e.s3.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(b), Key: aws.String("self"), CopySource: aws.String(b + "/self")})
		wantErr(t, err, "InvalidRequest", http.StatusBadRequest)

		_, err = e.s3.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(b), Key: aws.String("self"), CopySource: aws.String(b + "/self"),
			MetadataDirective: types.MetadataDirectiveReplace, ContentType: aws.String("text/changed"), Metadata: map[string]string{"v": "2"}})
		if err != nil {
			t.Fatalf("self CopyObject with REPLACE: %v", err)
		}
		h := head(t, b, "self")
		if got := aws.ToString(h.ContentType); got != "text/changed" {
			t.Errorf("Content-Type: got %q, want text/changed", got)
		}
		if want := map[string]string{"v": "2"}; !maps.Equal(h.Metadata, want) {
			t.Errorf("metadata: got %v, want %v", h.Metadata, want)
		}

		_, err = e.s3.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(b), Key: aws.String("self"), CopySource: aws.String(b + "/self"),
			StorageClass: types.StorageClassStandardIa})
		if err != nil {
			t.Fatalf("self CopyObject with a new storage class: %v", err)
		}
		h = head(t, b, "self")
		if h.StorageClass != types.StorageClassStandardIa {
			t.Errorf("storage class: got %q, want STANDARD_IA", h.StorageClass)
		}
		if want := map[string]string{"v": "2"}; !maps.Equal(h.Metadata, want) {
			t.Errorf("metadata after class change: got %v, want %v (COPY keeps it)", h.Metadata, want)
		}
		if got := e.get(b, "self"); string(got) != "self body" {
			t.Errorf("body after self copies: got %q, want %q", got, "self body")
		}
	})

	t.Run("LargeAndCrossBucket", func(t *testing.T) {
		big := pattern(700 << 10)
		e.put(b, "big", big)
		if _, err := e.s3.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(b2), Key: aws.String("big-copy"), CopySource: aws.String(b + "/big")}); err != nil {
			t.Fatalf("CopyObject: %v", err)
		}
		// The copy owns its bytes: deleting the source leaves it intact.
		if _, err := e.s3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(b), Key: aws.String("big")}); err != nil {
			t.Fatalf("DeleteObject: %v", err)
		}
		if got := e.get(b2, "big-copy"); !bytes.Equal(got, big) {
			t.Errorf("copied body differs from source")
		}
	})

	t.Run("Errors", func(t *testing.T) {
		tests := []struct {
			name, source, code string
			status             int
		}{
			{"MissingKey", b + "/nope", "NoSuchKey", 404},
			{"MissingBucket", "no-such-src-bucket/k", "NoSuchBucket", 404},
			{"NoKey", b, "InvalidArgument", 400},
			{"BadVersion", b + "/" + escapeKey(srcKey) + "?versionId=abc", "NoSuchVersion", 404},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				_, err := e.s3.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(b2), Key: aws.String("err"), CopySource: aws.String(tc.source)})
				wantErr(t, err, tc.code, tc.status)
			})
		}
		_, err := e.s3.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("no-such-dst-bucket"), Key: aws.String("k"), CopySource: src})
		wantErr(t, err, "NoSuchBucket", http.StatusNotFound)
		if e.exists(b2, "err") {
			t.Errorf("destination written by a failed copy")
		}
	})

	t.Run("LeadingSlashSource", func(t *testing.T) {
		if _, err := e.s3.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(b2), Key: aws.String("slash"), CopySource: aws.String("/" + b + "/" + escapeKey(srcKey))}); err != nil {
			t.Fatalf("CopyObject with /bucket/key source: %v", err)
		}
		if got := e.get(b2, "slash"); !bytes.Equal(got, body) {
			t.Errorf("copied body differs")
		}
	})
}
