package s3api_test

import (
	"bytes"
	"context"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// TestPublicAccessBlock: new buckets block public access (S3's default
// since 2023); the configuration round-trips, deleting it leaves none,
// and public canned ACLs are refused under BlockPublicAcls and,
// without it, because firn has no ACLs; private ones are accepted.
func TestPublicAccessBlock(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	b := e.bucket()
	got, err := e.s3.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: aws.String(b)})
	if err != nil {
		t.Fatalf("GetPublicAccessBlock of a new bucket: %v", err)
	}
	if c := got.PublicAccessBlockConfiguration; !aws.ToBool(c.BlockPublicAcls) || !aws.ToBool(c.IgnorePublicAcls) ||
		!aws.ToBool(c.BlockPublicPolicy) || !aws.ToBool(c.RestrictPublicBuckets) {
		t.Errorf("new bucket: %+v, want every block on", c)
	}
	put := func(acl types.ObjectCannedACL) error {
		_, err := e.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("k"), ACL: acl, Body: bytes.NewReader([]byte("x"))})
		return err
	}
	for _, acl := range []types.ObjectCannedACL{"", types.ObjectCannedACLPrivate, types.ObjectCannedACLBucketOwnerFullControl} {
		if err := put(acl); err != nil {
			t.Errorf("PUT with ACL %q: %v", acl, err)
		}
	}
	wantErr(t, put(types.ObjectCannedACLPublicRead), "AccessDenied", http.StatusForbidden)
	_, err = e.s3.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(b), Key: aws.String("m"), ACL: types.ObjectCannedACLPublicReadWrite})
	wantErr(t, err, "AccessDenied", http.StatusForbidden)

	cfg := &types.PublicAccessBlockConfiguration{BlockPublicAcls: aws.Bool(false), IgnorePublicAcls: aws.Bool(true),
		BlockPublicPolicy: aws.Bool(true), RestrictPublicBuckets: aws.Bool(false)}
	if _, err := e.s3.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{Bucket: aws.String(b), PublicAccessBlockConfiguration: cfg}); err != nil {
		t.Fatalf("PutPublicAccessBlock: %v", err)
	}
	got, err = e.s3.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: aws.String(b)})
	if err != nil {
		t.Fatal(err)
	}
	if c := got.PublicAccessBlockConfiguration; aws.ToBool(c.BlockPublicAcls) || !aws.ToBool(c.IgnorePublicAcls) ||
		!aws.ToBool(c.BlockPublicPolicy) || aws.ToBool(c.RestrictPublicBuckets) {
		t.Errorf("round trip: %+v", c)
	}
	// Not blocked, but firn has no ACLs to grant access with.
	wantErr(t, put(types.ObjectCannedACLPublicRead), "NotImplemented", http.StatusNotImplemented)

	// AWS's documents write TRUE; parse without regard to case.
	doc := []byte(`<PublicAccessBlockConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><BlockPublicAcls>TRUE</BlockPublicAcls></PublicAccessBlockConfiguration>`)
	resp, body := e.raw(http.MethodPut, "/"+b+"?publicAccessBlock", doc, rawOpts{header: http.Header{"Content-Md5": {contentMD5(doc)}}})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT with TRUE: %d %s", resp.StatusCode, body)
	}
	wantErr(t, put(types.ObjectCannedACLPublicRead), "AccessDenied", http.StatusForbidden)
	doc = []byte(`<PublicAccessBlockConfiguration><BlockPublicAcls>maybe</BlockPublicAcls></PublicAccessBlockConfiguration>`)
	resp, body = e.raw(http.MethodPut, "/"+b+"?publicAccessBlock", doc, rawOpts{header: http.Header{"Content-Md5": {contentMD5(doc)}}})
	wantXMLError(t, resp, body, "MalformedXML", http.StatusBadRequest)

	if _, err := e.s3.DeletePublicAccessBlock(ctx, &s3.DeletePublicAccessBlockInput{Bucket: aws.String(b)}); err != nil {
		t.Fatalf("DeletePublicAccessBlock: %v", err)
	}
	_, err = e.s3.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: aws.String(b)})
	wantErr(t, err, "NoSuchPublicAccessBlockConfiguration", http.StatusNotFound)

	// Buckets are created with ACLs disabled: only private is accepted.
	_, err = e.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b + "-pub"), ACL: types.BucketCannedACLPublicRead})
	wantErr(t, err, "InvalidBucketAclWithObjectOwnership", http.StatusBadRequest)
	if _, err := e.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b + "-priv"), ACL: types.BucketCannedACLPrivate}); err != nil {
		t.Errorf("CreateBucket with a private ACL: %v", err)
	}
	_, err = e.s3.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: aws.String("no-such-bucket-x")})
	wantErr(t, err, "NoSuchBucket", http.StatusNotFound)
}
