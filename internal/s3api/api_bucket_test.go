package s3api_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func TestBuckets(t *testing.T) {
	e := newEnv(t)

	t.Run("ListBucketsEmpty", func(t *testing.T) {
		out, err := e.s3.ListBuckets(ctx, &s3.ListBucketsInput{})
		if err != nil {
			t.Fatalf("ListBuckets: %v", err)
		}
		if len(out.Buckets) != 0 {
			t.Errorf("buckets: got %d, want 0", len(out.Buckets))
		}
		if out.Owner == nil || aws.ToString(out.Owner.ID) == "" {
			t.Errorf("Owner: got %+v, want an owner with an ID", out.Owner)
		}
	})

	t.Run("CreateListHeadLocationDelete", func(t *testing.T) {
		names := []string{"zeta-bucket", "alpha-bucket", "mid.bucket.dots"}
		for _, n := range names {
			out, err := e.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(n)})
			if err != nil {
				t.Fatalf("CreateBucket %s: %v", n, err)
			}
			if got, want := aws.ToString(out.Location), "/"+n; got != want {
				t.Errorf("Location: got %q, want %q", got, want)
			}
		}
		out, err := e.s3.ListBuckets(ctx, &s3.ListBucketsInput{})
		if err != nil {
			t.Fatalf("ListBuckets: %v", err)
		}
		var got []string
		for _, b := range out.Buckets {
			got = append(got, aws.ToString(b.Name))
			if b.CreationDate == nil || b.CreationDate.IsZero() {
				t.Errorf("bucket %s: CreationDate missing", aws.ToString(b.Name))
			}
		}
		want := slices.Clone(names)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("ListBuckets: got %v, want %v", got, want)
		}
		for _, n := range names {
			h, err := e.s3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(n)})
			if err != nil {
				t.Fatalf("HeadBucket %s: %v", n, err)
			}
			if got := aws.ToString(h.BucketRegion); got != testRegion {
				t.Errorf("HeadBucket %s region: got %q, want %q", n, got, testRegion)
			}
			loc, err := e.s3.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String(n)})
			if err != nil {
				t.Fatalf("GetBucketLocation %s: %v", n, err)
			}
			if loc.LocationConstraint != "" {
				t.Errorf("GetBucketLocation %s: got %q, want \"\" (us-east-1)", n, loc.LocationConstraint)
			}
			if _, err := e.s3.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(n)}); err != nil {
				t.Fatalf("DeleteBucket %s: %v", n, err)
			}
			_, err = e.s3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(n)})
			if got := status(err); got != http.StatusNotFound {
				t.Errorf("HeadBucket after delete: got status %d (%v), want 404", got, err)
			}
		}
	})

	t.Run("LocationConstraint", func(t *testing.T) {
		tests := []struct {
			name, loc string
			code      string // "" for success
		}{
			{"loc-server-region", testRegion, ""},
			{"loc-other-region", "eu-west-1", "IllegalLocationConstraintException"},
			{"loc-bogus", "moon-1", "IllegalLocationConstraintException"},
		}
		for _, tc := range tests {
			t.Run(tc.loc, func(t *testing.T) {
				_, err := e.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(tc.name),
					CreateBucketConfiguration: &types.CreateBucketConfiguration{LocationConstraint: types.BucketLocationConstraint(tc.loc)}})
				if tc.code == "" {
					if err != nil {
						t.Fatalf("CreateBucket with %s: %v", tc.loc, err)
					}
					return
				}
				wantErr(t, err, tc.code, http.StatusBadRequest)
				_, err = e.s3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(tc.name)})
				if got := status(err); got != http.StatusNotFound {
					t.Errorf("HeadBucket after failed create: got status %d, want 404", got)
				}
			})
		}
	})

	t.Run("InvalidNames", func(t *testing.T) {
		for _, name := range []string{
			"ab", strings.Repeat("a", 64), "MyBucket", "a..b", "192.168.1.1", "xn--x", "-bucket", "bucket-",
			"bucket_name", "a.-b", "sthree-x", "bucket-s3alias", "b--ol-s3",
		} {
			t.Run(name, func(t *testing.T) {
				_, err := e.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)})
				wantErr(t, err, "InvalidBucketName", http.StatusBadRequest)
			})
		}
		for _, name := range []string{"abc", strings.Repeat("a", 63), "a.b.c", "1-2-3", "192.168.1.1x"} {
			t.Run("valid-"+name, func(t *testing.T) {
				if _, err := e.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
					t.Fatalf("CreateBucket %q: got %v, want success", name, err)
				}
			})
		}
	})

	t.Run("AlreadyOwnedByYou", func(t *testing.T) {
		b := e.bucket()
		_, err := e.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b)})
		wantErr(t, err, "BucketAlreadyOwnedByYou", http.StatusConflict)
	})

	t.Run("HeadMissing", func(t *testing.T) {
		_, err := e.s3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("no-such-bucket-here")})
		wantErr(t, err, "NotFound", http.StatusNotFound)
	})

	t.Run("DeleteNotEmpty", func(t *testing.T) {
		b := e.bucket()
		e.put(b, "k", []byte("x"))
		_, err := e.s3.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(b)})
		wantErr(t, err, "BucketNotEmpty", http.StatusConflict)
		if got := e.get(b, "k"); string(got) != "x" {
			t.Errorf("object after failed DeleteBucket: got %q, want %q", got, "x")
		}
		if _, err := e.s3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(b), Key: aws.String("k")}); err != nil {
			t.Fatalf("DeleteObject: %v", err)
		}
		if _, err := e.s3.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(b)}); err != nil {
			t.Fatalf("DeleteBucket once empty: %v", err)
		}
	})

	t.Run("DeleteBucketWithUploads", func(t *testing.T) {
		// Incomplete uploads do not keep a bucket alive: deleting it
		// aborts them.
		b := e.bucket()
		if _, err := e.s3.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(b), Key: aws.String("u")}); err != nil {
			t.Fatalf("CreateMultipartUpload: %v", err)
		}
		if _, err := e.s3.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(b)}); err != nil {
			t.Fatalf("DeleteBucket with an upload: %v", err)
		}
	})

	t.Run("NoSuchBucket", func(t *testing.T) {
		missing := aws.String("missing-bucket")
		ops := map[string]func() error{
			"DeleteBucket": func() error {
				_, err := e.s3.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: missing})
				return err
			},
			"GetBucketLocation": func() error {
				_, err := e.s3.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: missing})
				return err
			},
			"ListObjects": func() error {
				_, err := e.s3.ListObjects(ctx, &s3.ListObjectsInput{Bucket: missing})
				return err
			},
			"ListObjectsV2": func() error {
				_, err := e.s3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: missing})
				return err
			},
			"ListMultipartUploads": func() error {
				_, err := e.s3.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: missing})
				return err
			},
			"PutObject": func() error {
				_, err := e.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: missing, Key: aws.String("k"), Body: strings.NewReader("x")})
				return err
			},
			"GetObject": func() error {
				_, err := e.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: missing, Key: aws.String("k")})
				return err
			},
			"DeleteObject": func() error {
				_, err := e.s3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: missing, Key: aws.String("k")})
				return err
			},
			"CreateMultipartUpload": func() error {
				_, err := e.s3.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: missing, Key: aws.String("k")})
				return err
			},
		}
		for name, op := range ops {
			t.Run(name, func(t *testing.T) {
				wantErr(t, op(), "NoSuchBucket", http.StatusNotFound)
			})
		}
	})

	t.Run("XMLErrorBody", func(t *testing.T) {
		resp, body := e.raw(http.MethodGet, "/missing-bucket-xml?list-type=2", nil, rawOpts{})
		doc := wantXMLError(t, resp, body, "NoSuchBucket", http.StatusNotFound)
		if doc.Resource != "/missing-bucket-xml" {
			t.Errorf("Resource: got %q, want %q", doc.Resource, "/missing-bucket-xml")
		}
		if doc.HostID == "" || doc.HostID != resp.Header.Get("x-amz-id-2") {
			t.Errorf("HostId: got %q, want the x-amz-id-2 header %q", doc.HostID, resp.Header.Get("x-amz-id-2"))
		}
	})

	t.Run("VirtualHostedStyle", func(t *testing.T) {
		const b = "vhost-bucket"
		if _, err := e.vhost.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b)}); err != nil {
			t.Fatalf("CreateBucket (virtual-hosted): %v", err)
		}
		if _, err := e.vhost.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(b)}); err != nil {
			t.Fatalf("HeadBucket (virtual-hosted): %v", err)
		}
		for _, key := range []string{"plain", "dir/sub/key", "sp ace+plus%pct", "ünï/çødé"} {
			if _, err := e.vhost.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String(key), Body: strings.NewReader("v:" + key)}); err != nil {
				t.Fatalf("PutObject %q (virtual-hosted): %v", key, err)
			}
			// Written virtual-hosted, read path-style: the same object.
			if got := e.get(b, key); string(got) != "v:"+key {
				t.Errorf("GetObject %q: got %q, want %q", key, got, "v:"+key)
			}
		}
		out, err := e.vhost.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(b), Delimiter: aws.String("/")})
		if err != nil {
			t.Fatalf("ListObjectsV2 (virtual-hosted): %v", err)
		}
		if len(out.Contents) != 2 || len(out.CommonPrefixes) != 2 {
			t.Errorf("ListObjectsV2: got %d keys and %d prefixes, want 2 and 2", len(out.Contents), len(out.CommonPrefixes))
		}
		_, err = e.vhost.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("vhost-missing"), Key: aws.String("k")})
		wantErr(t, err, "NoSuchBucket", http.StatusNotFound)
		loc, err := e.vhost.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String(b)})
		if err != nil {
			t.Fatalf("GetBucketLocation (virtual-hosted): %v", err)
		}
		if loc.LocationConstraint != "" {
			t.Errorf("LocationConstraint: got %q, want \"\"", loc.LocationConstraint)
		}
	})
}
