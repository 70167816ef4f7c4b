package policy

import "testing"

// Scenario C step 3: a least-privilege identity for the backup automation,
// allowed exactly seven actions on the backup bucket and its objects.
const backupIdentityPolicy = `{
  "Version": "2012-10-17",
  "Statement": [{
    "Sid": "BackupAutomation",
    "Effect": "Allow",
    "Action": [
      "s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket",
      "s3:GetBucketLocation", "s3:GetBucketVersioning", "s3:RestoreObject"
    ],
    "Resource": ["arn:aws:s3:::backups", "arn:aws:s3:::backups/*"]
  }]
}`

// The same grant written as a bucket policy on the backup bucket, plus the
// usual deny of plain HTTP.
const backupBucketPolicy = `{
  "Version": "2012-10-17",
  "Statement": [{
    "Sid": "BackupAutomation",
    "Effect": "Allow",
    "Principal": {"AWS": "arn:aws:iam::000000000000:user/backup"},
    "Action": [
      "s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket",
      "s3:GetBucketLocation", "s3:GetBucketVersioning", "s3:RestoreObject"
    ],
    "Resource": ["arn:aws:s3:::backups", "arn:aws:s3:::backups/*"]
  }, {
    "Sid": "DenyInsecureTransport",
    "Effect": "Deny",
    "Principal": "*",
    "Action": "s3:*",
    "Resource": ["arn:aws:s3:::backups", "arn:aws:s3:::backups/*"],
    "Condition": {"Bool": {"aws:SecureTransport": "false"}}
  }]
}`

const backupUser = "arn:aws:iam::000000000000:user/backup"

type scenarioCase struct {
	action, resource string
	allowed          bool
}

var scenarioC = []scenarioCase{
	// Exactly the seven actions, on the right resource kind.
	{"s3:GetObject", "arn:aws:s3:::backups/backups/full/2025-01-05T01:00:00Z/db.dump", true},
	{"s3:PutObject", "arn:aws:s3:::backups/backups/incremental/2025-01-06T02:00:00Z/files.tar", true},
	{"s3:DeleteObject", "arn:aws:s3:::backups/backups/full/old/db.dump", true},
	{"s3:RestoreObject", "arn:aws:s3:::backups/backups/full/2024-01-07T01:00:00Z/db.dump", true},
	{"s3:ListBucket", "arn:aws:s3:::backups", true},
	{"s3:GetBucketLocation", "arn:aws:s3:::backups", true},
	{"s3:GetBucketVersioning", "arn:aws:s3:::backups", true},
	// Action names are not case-sensitive.
	{"S3:GETOBJECT", "arn:aws:s3:::backups/x", true},
	// Another bucket, including one whose name starts the same.
	{"s3:GetObject", "arn:aws:s3:::other/backups/x", false},
	{"s3:PutObject", "arn:aws:s3:::backups-replica/x", false},
	{"s3:ListBucket", "arn:aws:s3:::other", false},
	// Anything else on the backup bucket.
	{"s3:DeleteBucket", "arn:aws:s3:::backups", false},
	{"s3:PutBucketPolicy", "arn:aws:s3:::backups", false},
	{"s3:PutBucketVersioning", "arn:aws:s3:::backups", false},
	{"s3:PutLifecycleConfiguration", "arn:aws:s3:::backups", false},
	{"s3:DeleteObjectVersion", "arn:aws:s3:::backups/x", false},
	{"s3:GetObjectVersion", "arn:aws:s3:::backups/x", false},
	{"s3:PutObjectAcl", "arn:aws:s3:::backups/x", false},
	{"s3:ListAllMyBuckets", "arn:aws:s3:::", false},
	{"s3:CreateBucket", "arn:aws:s3:::newbucket", false},
}

func TestScenarioCIdentityPolicy(t *testing.T) {
	p, err := ParseIdentity([]byte(backupIdentityPolicy))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range scenarioC {
		d := p.Evaluate(Request{Principal: backupUser, Action: tc.action, Resource: tc.resource})
		if got := Decide(d); got != tc.allowed {
			t.Errorf("%s on %s: decision %v, allowed %v, want %v", tc.action, tc.resource, d, got, tc.allowed)
		}
	}
}

func TestScenarioCBucketPolicy(t *testing.T) {
	p, err := ParseBucket([]byte(backupBucketPolicy), "backups")
	if err != nil {
		t.Fatal(err)
	}
	// The public access block is on with all four switches: the policy
	// must not count as public, or PutBucketPolicy would be refused.
	if p.IsPublic() {
		t.Fatal("backup bucket policy counted as public")
	}
	secure := map[string][]string{"aws:SecureTransport": {"true"}}
	for _, tc := range scenarioC {
		d := p.Evaluate(Request{Principal: backupUser, Action: tc.action, Resource: tc.resource, Context: secure})
		if got := Decide(d); got != tc.allowed {
			t.Errorf("%s on %s: decision %v, allowed %v, want %v", tc.action, tc.resource, d, got, tc.allowed)
		}
	}
	// Other principals get nothing, and plain HTTP is denied outright.
	if d := p.Evaluate(Request{Principal: alice, Action: "s3:GetObject", Resource: "arn:aws:s3:::backups/x", Context: secure}); d != NotApplicable {
		t.Errorf("other user: got %v, want NotApplicable", d)
	}
	if d := p.Evaluate(Request{Principal: "*", Action: "s3:GetObject", Resource: "arn:aws:s3:::backups/x", Context: secure}); d != NotApplicable {
		t.Errorf("anonymous: got %v, want NotApplicable", d)
	}
	insecure := map[string][]string{"aws:SecureTransport": {"false"}}
	if d := p.Evaluate(Request{Principal: backupUser, Action: "s3:GetObject", Resource: "arn:aws:s3:::backups/x", Context: insecure}); d != Deny {
		t.Errorf("plain HTTP: got %v, want Deny", d)
	}
	// The bucket policy is for the backups bucket only.
	if _, err := ParseBucket([]byte(backupBucketPolicy), "photos"); err == nil || err.Error() != "Policy has invalid resource" {
		t.Errorf("policy put on another bucket: got %v, want Policy has invalid resource", err)
	}
}

// TestScenarioCCombined combines the identity policy with a bucket policy
// that denies deletes to everyone: the explicit deny wins.
func TestScenarioCCombined(t *testing.T) {
	id, err := ParseIdentity([]byte(backupIdentityPolicy))
	if err != nil {
		t.Fatal(err)
	}
	bucket, err := ParseBucket([]byte(doc(`{"Sid":"NoDeletes","Effect":"Deny","Principal":"*","Action":["s3:DeleteObject","s3:DeleteObjectVersion"],"Resource":"arn:aws:s3:::backups/*"}`)), "backups")
	if err != nil {
		t.Fatal(err)
	}
	del := Request{Principal: backupUser, Action: "s3:DeleteObject", Resource: "arn:aws:s3:::backups/x"}
	if Decide(id.Evaluate(del), bucket.Evaluate(del)) {
		t.Error("delete allowed despite the bucket policy's deny")
	}
	put := Request{Principal: backupUser, Action: "s3:PutObject", Resource: "arn:aws:s3:::backups/x"}
	if !Decide(id.Evaluate(put), bucket.Evaluate(put)) {
		t.Error("put refused")
	}
}
