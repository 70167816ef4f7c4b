package s3api_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func TestObjectTagging(t *testing.T) {
	e := newEnv(t)
	b := e.bucket()
	e.put(b, "k", []byte("tagged"))

	getTags := func(t *testing.T) []string {
		t.Helper()
		out, err := e.s3.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String(b), Key: aws.String("k")})
		if err != nil {
			t.Fatalf("GetObjectTagging: %v", err)
		}
		tags := []string{}
		for _, tg := range out.TagSet {
			tags = append(tags, aws.ToString(tg.Key)+"="+aws.ToString(tg.Value))
		}
		return tags
	}
	tagCount := func(t *testing.T) int32 {
		t.Helper()
		out, err := e.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("k")})
		if err != nil {
			t.Fatalf("GetObject: %v", err)
		}
		readAll(t, out.Body)
		return aws.ToInt32(out.TagCount)
	}
	put := func(tags ...types.Tag) error {
		_, err := e.s3.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: aws.String(b), Key: aws.String("k"), Tagging: &types.Tagging{TagSet: tags}})
		return err
	}
	tag := func(k, v string) types.Tag { return types.Tag{Key: aws.String(k), Value: aws.String(v)} }

	if got := getTags(t); len(got) != 0 {
		t.Errorf("tags of an untagged object: got %q, want none", got)
	}
	if err := put(tag("project", "firn"), tag("empty", ""), tag("ünï", "çødé value")); err != nil {
		t.Fatalf("PutObjectTagging: %v", err)
	}
	if got, want := getTags(t), []string{"project=firn", "empty=", "ünï=çødé value"}; !slices.Equal(got, want) {
		t.Errorf("tags: got %q, want %q", got, want)
	}
	if got := tagCount(t); got != 3 {
		t.Errorf("x-amz-tagging-count: got %d, want 3", got)
	}
	// A put replaces the whole set.
	if err := put(tag("only", "one")); err != nil {
		t.Fatalf("PutObjectTagging: %v", err)
	}
	if got, want := getTags(t), []string{"only=one"}; !slices.Equal(got, want) {
		t.Errorf("tags after replace: got %q, want %q", got, want)
	}

	t.Run("Invalid", func(t *testing.T) {
		var eleven []types.Tag
		for i := range 11 {
			eleven = append(eleven, tag(fmt.Sprint("k", i), "v"))
		}
		var ten []types.Tag
		for i := range 10 {
			ten = append(ten, tag(fmt.Sprint("k", i), "v"))
		}
		tests := []struct {
			name string
			tags []types.Tag
		}{
			{"ElevenTags", eleven},
			{"DuplicateKeys", []types.Tag{tag("dup", "1"), tag("dup", "2")}},
			{"KeyTooLong", []types.Tag{tag(strings.Repeat("k", 129), "v")}},
			{"ValueTooLong", []types.Tag{tag("k", strings.Repeat("v", 257))}},
			{"EmptyKey", []types.Tag{tag("", "v")}},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				wantErr(t, put(tc.tags...), "InvalidTag", http.StatusBadRequest)
				if got, want := getTags(t), []string{"only=one"}; !slices.Equal(got, want) {
					t.Errorf("tags after a rejected put: got %q, want %q", got, want)
				}
			})
		}
		// The limits themselves are fine (counted in characters).
		if err := put(ten...); err != nil {
			t.Errorf("ten tags: %v", err)
		}
		if err := put(tag(strings.Repeat("ü", 128), strings.Repeat("ß", 256))); err != nil {
			t.Errorf("128-character key and 256-character value: %v", err)
		}
	})

	t.Run("Delete", func(t *testing.T) {
		out, err := e.s3.DeleteObjectTagging(ctx, &s3.DeleteObjectTaggingInput{Bucket: aws.String(b), Key: aws.String("k")})
		if err != nil {
			t.Fatalf("DeleteObjectTagging: %v", err)
		}
		if got := httpStatusOf(out.ResultMetadata); got != http.StatusNoContent {
			t.Errorf("DeleteObjectTagging status: got %d, want 204", got)
		}
		if got := getTags(t); len(got) != 0 {
			t.Errorf("tags after delete: got %q, want none", got)
		}
		if got := tagCount(t); got != 0 {
			t.Errorf("x-amz-tagging-count after delete: got %d, want 0", got)
		}
		if got := e.get(b, "k"); string(got) != "tagged" {
			t.Errorf("body after tagging changes: got %q, want %q", got, "tagged")
		}
	})

	t.Run("Missing", func(t *testing.T) {
		_, err := e.s3.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String(b), Key: aws.String("nope")})
		wantErr(t, err, "NoSuchKey", http.StatusNotFound)
		_, err = e.s3.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: aws.String(b), Key: aws.String("nope"), Tagging: &types.Tagging{TagSet: []types.Tag{tag("a", "b")}}})
		wantErr(t, err, "NoSuchKey", http.StatusNotFound)
		_, err = e.s3.DeleteObjectTagging(ctx, &s3.DeleteObjectTaggingInput{Bucket: aws.String(b), Key: aws.String("nope")})
		wantErr(t, err, "NoSuchKey", http.StatusNotFound)
		_, err = e.s3.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String("no-such-tag-bucket"), Key: aws.String("k")})
		wantErr(t, err, "NoSuchBucket", http.StatusNotFound)
	})
}
