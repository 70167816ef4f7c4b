package s3api_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// scenarioCBackupPolicy is scenario C's least-privilege identity policy.
func scenarioCBackupPolicy(bucket string) string {
	return `{"Version": "2012-10-17", "Statement": [{
	  "Sid": "BackupAutomation", "Effect": "Allow",
	  "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket", "s3:GetBucketLocation",
	             "s3:GetBucketVersioning", "s3:RestoreObject"],
	  "Resource": ["arn:aws:s3:::` + bucket + `", "arn:aws:s3:::` + bucket + `/*"]}]}`
}

// admin calls the admin API as root and decodes the JSON answer into v.
func (e *env) admin(method, path string, body string, v any) int {
	e.t.Helper()
	resp, b := e.raw(method, "/_firn/admin/v1/"+path, []byte(body), rawOpts{})
	if v != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(b, v); err != nil {
			e.t.Fatalf("admin %s %s: decode %q: %v", method, path, b, err)
		}
	}
	return resp.StatusCode
}

// newUser creates a user with policy (if any) and returns a client
// signing with a fresh key of it.
func (e *env) newUser(name, policy string) (*s3.Client, string) {
	e.t.Helper()
	if st := e.admin(http.MethodPost, "users", `{"name":"`+name+`"}`, nil); st != http.StatusOK {
		e.t.Fatalf("create user %s: status %d", name, st)
	}
	if policy != "" {
		if st := e.admin(http.MethodPut, "users/"+name+"/policy", policy, nil); st != http.StatusNoContent {
			e.t.Fatalf("attach policy to %s: status %d", name, st)
		}
	}
	var k struct {
		ID     string `json:"access_key_id"`
		Secret string `json:"secret_access_key"`
	}
	if st := e.admin(http.MethodPost, "users/"+name+"/keys", "", &k); st != http.StatusOK || k.ID == "" || k.Secret == "" {
		e.t.Fatalf("create key for %s: status %d, %+v", name, st, k)
	}
	return e.withCreds(k.ID, k.Secret), k.ID
}

// TestScenarioCLeastPrivilege: a user holding only scenario C's backup
// policy does its job on the backup bucket and is denied everything
// else: other buckets, DeleteBucket, PutBucketPolicy, configuration
// changes, listing all buckets.
func TestScenarioCLeastPrivilege(t *testing.T) {
	e := newEnv(t)
	b, other := e.bucket(), e.bucket()
	e.put(other, "secret.txt", []byte("not yours"))
	u, _ := e.newUser("backup", scenarioCBackupPolicy(b))

	// Allowed: exactly the scenario's actions.
	key := "backups/full/2026-12-02T01:00:00Z/db.dump"
	if _, err := u.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String(key), Body: strings.NewReader("dump")}); err != nil {
		t.Fatalf("PutObject: %v", err)
	}
	out, err := u.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("GetObject: %v", err)
	}
	got, _ := io.ReadAll(out.Body)
	out.Body.Close()
	if string(got) != "dump" {
		t.Errorf("GetObject: %q", got)
	}
	if _, err := u.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(b), Prefix: aws.String("backups/")}); err != nil {
		t.Errorf("ListObjectsV2: %v", err)
	}
	if _, err := u.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String(key)}); err != nil {
		t.Errorf("HeadObject (s3:GetObject): %v", err)
	}
	if _, err := u.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String(b)}); err != nil {
		t.Errorf("GetBucketLocation: %v", err)
	}
	if _, err := u.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String(b)}); err != nil {
		t.Errorf("GetBucketVersioning: %v", err)
	}
	if _, err := u.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("cold"), Body: strings.NewReader("x"),
		StorageClass: types.StorageClassGlacier}); err != nil {
		t.Fatalf("PutObject GLACIER: %v", err)
	}
	if _, err := u.RestoreObject(ctx, &s3.RestoreObjectInput{Bucket: aws.String(b), Key: aws.String("cold"),
		RestoreRequest: &types.RestoreRequest{Days: aws.Int32(1)}}); err != nil {
		t.Errorf("RestoreObject: %v", err)
	}
	if _, err := u.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(b), Key: aws.String("cold")}); err != nil {
		t.Errorf("DeleteObject: %v", err)
	}
	// Objects the user writes are the account's: root reads them.
	if got := e.get(b, key); string(got) != "dump" {
		t.Errorf("root reading the user's object: %q", got)
	}

	// Denied: everything else.
	denied := map[string]func() error{
		"GetObject in another bucket": func() error {
			_, err := u.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(other), Key: aws.String("secret.txt")})
			return err
		},
		"PutObject in another bucket": func() error {
			_, err := u.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(other), Key: aws.String("x"), Body: strings.NewReader("x")})
			return err
		},
		"ListObjectsV2 of another bucket": func() error {
			_, err := u.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(other)})
			return err
		},
		"DeleteBucket": func() error {
			_, err := u.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(b)})
			return err
		},
		"PutBucketPolicy": func() error {
			_, err := u.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(b), Policy: aws.String(scenarioCBackupPolicy(b))})
			return err
		},
		"PutBucketVersioning": func() error {
			_, err := u.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String(b),
				VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusSuspended}})
			return err
		},
		"GetBucketLifecycleConfiguration": func() error {
			_, err := u.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: aws.String(b)})
			return err
		},
		"ListBuckets": func() error {
			_, err := u.ListBuckets(ctx, &s3.ListBucketsInput{})
			return err
		},
		"CreateBucket": func() error {
			_, err := u.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b + "-new")})
			return err
		},
		"CopyObject from another bucket": func() error {
			_, err := u.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(b), Key: aws.String("stolen"), CopySource: aws.String(other + "/secret.txt")})
			return err
		},
		"DeleteObjectTagging": func() error {
			_, err := u.DeleteObjectTagging(ctx, &s3.DeleteObjectTaggingInput{Bucket: aws.String(b), Key: aws.String(key)})
			return err
		},
	}
	for name, f := range denied {
		t.Run(name, func(t *testing.T) { wantErr(t, f(), "AccessDenied", http.StatusForbidden) })
	}
	// Multi-delete decides per key.
	mo, err := u.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String(b), Delete: &types.Delete{Objects: []types.ObjectIdentifier{{Key: aws.String(key)}}}})
	if err != nil || len(mo.Deleted) != 1 {
		t.Errorf("DeleteObjects on the backup bucket: %+v %v", mo, err)
	}
	if e.exists(other, "secret.txt") == false {
		t.Fatal("fixture: secret.txt missing")
	}

	// A revoked key is refused; a deleted user's keys too.
	ak := ""
	var keys []struct {
		ID string `json:"access_key_id"`
	}
	e.admin(http.MethodGet, "keys?user=backup", "", &keys)
	if len(keys) == 1 {
		ak = keys[0].ID
	}
	if st := e.admin(http.MethodDelete, "keys/"+ak, "", nil); st != http.StatusNoContent {
		t.Fatalf("revoke: status %d", st)
	}
	_, err = u.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String(key)})
	wantErr(t, err, "InvalidAccessKeyId", http.StatusForbidden)
}

// TestBucketPolicies: bucket policies grant and deny users (explicit
// deny wins over an identity allow), public policies are refused under
// BlockPublicPolicy, and an anonymous caller gets in only through a
// public policy on a bucket that does not restrict public access.
func TestBucketPolicies(t *testing.T) {
	e := newEnv(t)
	b := e.bucket()
	e.put(b, "shared/report.txt", []byte("report"))
	e.put(b, "private/x.txt", []byte("x"))
	u, _ := e.newUser("reader", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::`+b+`/private/*"}]}`)
	get := func(c *s3.Client, key string) error {
		out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String(key)})
		if err == nil {
			out.Body.Close()
		}
		return err
	}
	wantErr(t, get(u, "shared/report.txt"), "AccessDenied", http.StatusForbidden)
	if err := get(u, "private/x.txt"); err != nil {
		t.Fatalf("identity policy allow: %v", err)
	}
	pol := `{"Version":"2012-10-17","Statement":[
	  {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:user/reader"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::` + b + `/shared/*"},
	  {"Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::` + b + `/private/*",
	   "Condition":{"StringNotEquals":{"aws:username":"nobody"}}}]}`
	if _, err := e.s3.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(b), Policy: aws.String(pol)}); err != nil {
		t.Fatalf("PutBucketPolicy: %v", err)
	}
	gp, err := e.s3.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String(b)})
	if err != nil || aws.ToString(gp.Policy) != pol {
		t.Errorf("GetBucketPolicy: %v %q", err, aws.ToString(gp.Policy))
	}
	if err := get(u, "shared/report.txt"); err != nil {
		t.Errorf("bucket policy allow: %v", err)
	}
	wantErr(t, get(u, "private/x.txt"), "AccessDenied", http.StatusForbidden) // explicit deny wins
	if err := get(e.s3, "private/x.txt"); err != nil {
		t.Errorf("root is not bound by bucket policies here: %v", err)
	}

	// Malformed policies.
	for _, bad := range []string{`not json`, `{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::` + b + `/*"}]}`,
		`{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:Fly","Resource":"arn:aws:s3:::` + b + `/*"}]}`} {
		_, err := e.s3.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(b), Policy: aws.String(bad)})
		wantErr(t, err, "MalformedPolicy", http.StatusBadRequest)
	}

	// Public read: refused while BlockPublicPolicy is on.
	public := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::` + b + `/shared/*"}]}`
	_, err = e.s3.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(b), Policy: aws.String(public)})
	wantErr(t, err, "AccessDenied", http.StatusForbidden)
	st, err := e.s3.GetBucketPolicyStatus(ctx, &s3.GetBucketPolicyStatusInput{Bucket: aws.String(b)})
	if err != nil || aws.ToBool(st.PolicyStatus.IsPublic) {
		t.Errorf("GetBucketPolicyStatus of the private policy: %+v %v", st, err)
	}
	anon := func() int {
		resp, _ := e.raw(http.MethodGet, "/"+b+"/shared/report.txt", nil, rawOpts{unsigned: true})
		return resp.StatusCode
	}
	if s := anon(); s != http.StatusForbidden {
		t.Errorf("anonymous GET without a public policy: %d", s)
	}
	if _, err := e.s3.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{Bucket: aws.String(b),
		PublicAccessBlockConfiguration: &types.PublicAccessBlockConfiguration{BlockPublicPolicy: aws.Bool(false), RestrictPublicBuckets: aws.Bool(true)}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s3.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(b), Policy: aws.String(public)}); err != nil {
		t.Fatalf("public policy without the block: %v", err)
	}
	if st, err := e.s3.GetBucketPolicyStatus(ctx, &s3.GetBucketPolicyStatusInput{Bucket: aws.String(b)}); err != nil || !aws.ToBool(st.PolicyStatus.IsPublic) {
		t.Errorf("GetBucketPolicyStatus of the public policy: %+v %v", st, err)
	}
	if s := anon(); s != http.StatusForbidden {
		t.Errorf("anonymous GET under RestrictPublicBuckets: %d, want 403", s)
	}
	if _, err := e.s3.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{Bucket: aws.String(b),
		PublicAccessBlockConfiguration: &types.PublicAccessBlockConfiguration{}}); err != nil {
		t.Fatal(err)
	}
	resp, body := e.raw(http.MethodGet, "/"+b+"/shared/report.txt", nil, rawOpts{unsigned: true})
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, []byte("report")) {
		t.Errorf("anonymous GET through a public policy: %d %q", resp.StatusCode, body)
	}
	resp, _ = e.raw(http.MethodGet, "/"+b+"/private/x.txt", nil, rawOpts{unsigned: true})
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("anonymous GET outside the public prefix: %d", resp.StatusCode)
	}
	resp, _ = e.raw(http.MethodPut, "/"+b+"/shared/new.txt", []byte("x"), rawOpts{unsigned: true})
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("anonymous PUT: %d", resp.StatusCode)
	}
	if _, err := e.s3.DeleteBucketPolicy(ctx, &s3.DeleteBucketPolicyInput{Bucket: aws.String(b)}); err != nil {
		t.Fatal(err)
	}
	_, err = e.s3.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String(b)})
	wantErr(t, err, "NoSuchBucketPolicy", http.StatusNotFound)
	if s := anon(); s != http.StatusForbidden {
		t.Errorf("anonymous GET after the policy went: %d", s)
	}
}

// TestAdminAPI: only root may use it; users, policies and keys round-trip
// with AWS-like errors.
func TestAdminAPI(t *testing.T) {
	e := newEnv(t)
	if st := e.admin(http.MethodPost, "users", `{"name":"bad name"}`, nil); st != http.StatusBadRequest {
		t.Errorf("invalid user name: %d", st)
	}
	u, _ := e.newUser("ops", "")
	if st := e.admin(http.MethodPost, "users", `{"name":"ops"}`, nil); st != http.StatusConflict {
		t.Errorf("duplicate user: %d", st)
	}
	if st := e.admin(http.MethodPut, "users/ops/policy", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}]}`, nil); st != http.StatusBadRequest {
		t.Errorf("identity policy with a Principal: %d", st)
	}
	if st := e.admin(http.MethodGet, "users/ops/policy", "", nil); st != http.StatusNotFound {
		t.Errorf("policy of a user without one: %d", st)
	}
	var users []struct {
		Name string `json:"name"`
	}
	if st := e.admin(http.MethodGet, "users", "", &users); st != http.StatusOK || len(users) != 1 || users[0].Name != "ops" {
		t.Errorf("list users: %d %+v", st, users)
	}
	// A user cannot call the admin API, nor can anyone unsigned.
	req, _ := http.NewRequest(http.MethodGet, "http://"+e.addr+"/_firn/admin/v1/users", nil)
	if resp, err := e.http.Do(req); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("unsigned admin call: %v %v", resp, err)
	}
	_, err := u.ListBuckets(ctx, &s3.ListBucketsInput{})
	wantErr(t, err, "AccessDenied", http.StatusForbidden)
	if st := e.admin(http.MethodDelete, "users/ops", "", nil); st != http.StatusNoContent {
		t.Errorf("remove user: %d", st)
	}
	_, err = u.ListBuckets(ctx, &s3.ListBucketsInput{})
	wantErr(t, err, "InvalidAccessKeyId", http.StatusForbidden)
	if st := e.admin(http.MethodGet, "nowhere", "", nil); st != http.StatusNotFound {
		t.Errorf("unknown route: %d", st)
	}
}
