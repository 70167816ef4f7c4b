package s3api

import (
	"net/http/httptest"
	"net/url"
	"testing"
)

// TestActionOfFollowsRouting: a request naming several subresources is
// authorized for the one routing serves, never a cheaper one.
func TestActionOfFollowsRouting(t *testing.T) {
	for _, tc := range []struct {
		method, bucket, key, query, want string
	}{
		{"PUT", "b", "", "policy&tagging", "s3:PutBucketPolicy"},
		{"PUT", "b", "", "tagging&lifecycle", "s3:PutLifecycleConfiguration"},
		{"PUT", "b", "", "versioning&acl", "s3:PutBucketVersioning"},
		{"DELETE", "b", "", "publicAccessBlock&tagging", "s3:PutBucketPublicAccessBlock"},
		{"DELETE", "b", "", "policy&cors", "s3:DeleteBucketPolicy"},
		{"GET", "b", "", "policy&policyStatus", "s3:GetBucketPolicyStatus"},
		{"GET", "b", "", "versions&location", "s3:GetBucketLocation"},
		{"POST", "b", "k", "uploads&select", "s3:PutObject"},
		{"POST", "b", "k", "uploadId=x&restore", "s3:PutObject"},
		{"POST", "b", "k", "restore", "s3:RestoreObject"},
		{"PUT", "b", "k", "tagging&acl", "s3:PutObjectTagging"},
		{"GET", "b", "k", "uploadId=x&tagging", "s3:ListMultipartUploadParts"},
		{"DELETE", "b", "k", "uploadId=x&versionId=v", "s3:AbortMultipartUpload"},
	} {
		q, _ := url.ParseQuery(tc.query)
		rq := &request{r: httptest.NewRequest(tc.method, "/", nil), bucket: tc.bucket, key: tc.key, q: q}
		// Run many times: a map-ordered lookup would give different
		// answers.
		for range 50 {
			if got, _ := actionOf(rq); got != tc.want {
				t.Fatalf("%s %s/%s?%s: action %s, want %s", tc.method, tc.bucket, tc.key, tc.query, got, tc.want)
			}
		}
	}
}
