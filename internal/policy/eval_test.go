package policy

import (
	"strings"
	"testing"
)

const (
	alice = "arn:aws:iam::111122223333:user/alice"
	bob   = "arn:aws:iam::111122223333:user/bob"
	carol = "arn:aws:iam::444455556666:user/carol"
)

// doc builds a 2012-10-17 policy document from statement objects.
func doc(statements ...string) string {
	return `{"Version":"2012-10-17","Statement":[` + strings.Join(statements, ",") + `]}`
}

// ctx builds a request context from key, value, key, value...; a value
// holding "|" is several values.
func ctx(kv ...string) map[string][]string {
	m := make(map[string][]string)
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = strings.Split(kv[i+1], "|")
	}
	return m
}

func parseKind(t *testing.T, kind policyKind, bucket, document string) *Policy {
	t.Helper()
	var (
		p   *Policy
		err error
	)
	switch kind {
	case kindBucket:
		p, err = ParseBucket([]byte(document), bucket)
	case kindIdentity:
		p, err = ParseIdentity([]byte(document))
	default:
		p, err = Parse([]byte(document))
	}
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, document)
	}
	return p
}

type evalCase struct {
	name string
	kind policyKind
	doc  string
	req  Request
	want Decision
}

// Statements shared by several cases.
var (
	stAliceGetPhotos = `{"Effect":"Allow","Principal":{"AWS":"` + alice + `"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::photos/*"}`
	stPublicGet      = `{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::photos/*"}`
	stAllowAll       = `{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::photos","arn:aws:s3:::photos/*"]}`
)

func get(principal, key string) Request {
	return Request{Principal: principal, Action: "s3:GetObject", Resource: "arn:aws:s3:::photos/" + key}
}

func withCtx(r Request, c map[string][]string) Request {
	r.Context = c
	return r
}

func withAction(r Request, a string) Request {
	r.Action = a
	return r
}

var evalCases = []evalCase{
	// Principals, actions and resources.
	{"allow exact principal", kindBucket, doc(stAliceGetPhotos), get(alice, "a.jpg"), Allow},
	{"other principal not applicable", kindBucket, doc(stAliceGetPhotos), get(bob, "a.jpg"), NotApplicable},
	{"other action not applicable", kindBucket, doc(stAliceGetPhotos), withAction(get(alice, "a.jpg"), "s3:PutObject"), NotApplicable},
	{"object pattern does not cover bucket", kindBucket, doc(stAliceGetPhotos),
		Request{Principal: alice, Action: "s3:GetObject", Resource: "arn:aws:s3:::photos"}, NotApplicable},
	{"resource of another bucket with same prefix", kindGeneric, doc(stAliceGetPhotos),
		Request{Principal: alice, Action: "s3:GetObject", Resource: "arn:aws:s3:::photos-old/a.jpg"}, NotApplicable},
	{"action names ignore case", kindBucket,
		doc(`{"Effect":"Allow","Principal":"*","Action":"S3:getobject","Resource":"arn:aws:s3:::photos/*"}`),
		get(alice, "a"), Allow},
	{"action wildcard star", kindBucket,
		doc(`{"Effect":"Allow","Principal":"*","Action":"s3:Get*","Resource":"arn:aws:s3:::photos/*"}`),
		withAction(get(alice, "a"), "s3:GetObjectTagging"), Allow},
	{"action wildcard star no match", kindBucket,
		doc(`{"Effect":"Allow","Principal":"*","Action":"s3:List*","Resource":"arn:aws:s3:::photos"}`),
		withAction(get(alice, "a"), "s3:GetObject"), NotApplicable},
	{"action wildcard question mark", kindBucket,
		doc(`{"Effect":"Allow","Principal":"*","Action":"s3:?etObject","Resource":"arn:aws:s3:::photos/*"}`),
		get(alice, "a"), Allow},
	{"action star matches every service", kindGeneric,
		doc(`{"Effect":"Allow","Action":"*","Resource":"*"}`),
		Request{Principal: alice, Action: "iam:CreateUser", Resource: "arn:aws:iam::111122223333:user/x"}, Allow},
	{"resource is case-sensitive", kindBucket, doc(stPublicGet),
		Request{Principal: alice, Action: "s3:GetObject", Resource: "arn:aws:s3:::Photos/a"}, NotApplicable},
	{"resource star spans slashes", kindBucket, doc(stPublicGet), get(alice, "2024/06/01/a.jpg"), Allow},
	{"resource question mark is one character", kindBucket,
		doc(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::photos/img-??.jpg"}`),
		get(alice, "img-01.jpg"), Allow},
	{"resource question mark is not two characters", kindBucket,
		doc(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::photos/img-??.jpg"}`),
		get(alice, "img-001.jpg"), NotApplicable},
	{"resource star in identity policy", kindIdentity,
		doc(`{"Effect":"Allow","Action":"s3:ListAllMyBuckets","Resource":"*"}`),
		Request{Principal: alice, Action: "s3:ListAllMyBuckets", Resource: "arn:aws:s3:::"}, Allow},
	{"statement as a single object", kindBucket,
		`{"Version":"2012-10-17","Statement":` + stAliceGetPhotos + `}`, get(alice, "a"), Allow},

	// Deny overrides allow.
	{"explicit deny overrides allow", kindBucket,
		doc(stAllowAll, `{"Effect":"Deny","Principal":"*","Action":"s3:DeleteObject","Resource":"arn:aws:s3:::photos/*"}`),
		withAction(get(alice, "a"), "s3:DeleteObject"), Deny},
	{"deny elsewhere leaves allow", kindBucket,
		doc(stAllowAll, `{"Effect":"Deny","Principal":"*","Action":"s3:DeleteObject","Resource":"arn:aws:s3:::photos/*"}`),
		get(alice, "a"), Allow},
	{"deny listed before allow still wins", kindBucket,
		doc(`{"Effect":"Deny","Principal":{"AWS":"`+bob+`"},"Action":"s3:*","Resource":"arn:aws:s3:::photos/*"}`, stAllowAll),
		get(bob, "a"), Deny},

	// Principal forms.
	{"principal star admits anonymous", kindBucket, doc(stPublicGet), get("*", "a"), Allow},
	{"principal star admits empty principal", kindBucket, doc(stPublicGet), get("", "a"), Allow},
	{"AWS star admits anonymous", kindBucket,
		doc(`{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::photos/*"}`),
		get("*", "a"), Allow},
	{"named principal refuses anonymous", kindBucket, doc(stAliceGetPhotos), get("*", "a"), NotApplicable},
	{"account ID covers its users", kindBucket,
		doc(`{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::photos/*"}`),
		get(bob, "a"), Allow},
	{"account ID refuses other accounts", kindBucket,
		doc(`{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::photos/*"}`),
		get(carol, "a"), NotApplicable},
	{"root ARN covers its account", kindBucket,
		doc(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::photos/*"}`),
		get(carol, "a"), Allow},
	{"principal list", kindBucket,
		doc(`{"Effect":"Allow","Principal":{"AWS":["` + carol + `","` + bob + `"]},"Action":"s3:GetObject","Resource":"arn:aws:s3:::photos/*"}`),
		get(bob, "a"), Allow},
	{"wildcard principal ARN", kindBucket,
		doc(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/a*"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::photos/*"}`),
		get(alice, "a"), Allow},
	{"wildcard principal ARN no match", kindBucket,
		doc(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/a*"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::photos/*"}`),
		get(bob, "a"), NotApplicable},
	{"role principal covers its sessions", kindBucket,
		doc(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/ops/backup"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::photos/*"}`),
		get("arn:aws:sts::111122223333:assumed-role/backup/nightly", "a"), Allow},
	{"service principal", kindBucket,
		doc(`{"Effect":"Allow","Principal":{"Service":"logging.s3.amazonaws.com"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::photos/logs/*"}`),
		Request{Principal: "logging.s3.amazonaws.com", Action: "s3:PutObject", Resource: "arn:aws:s3:::photos/logs/1"}, Allow},
	{"canonical user principal", kindBucket,
		doc(`{"Effect":"Allow","Principal":{"CanonicalUser":"79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::photos/*"}`),
		get("79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be", "a"), Allow},
	{"NotPrincipal deny hits everyone else", kindBucket,
		doc(stAllowAll, `{"Effect":"Deny","NotPrincipal":{"AWS":"`+alice+`"},"Action":"s3:DeleteObject","Resource":"arn:aws:s3:::photos/*"}`),
		withAction(get(bob, "a"), "s3:DeleteObject"), Deny},
	{"NotPrincipal deny spares the named principal", kindBucket,
		doc(stAllowAll, `{"Effect":"Deny","NotPrincipal":{"AWS":"`+alice+`"},"Action":"s3:DeleteObject","Resource":"arn:aws:s3:::photos/*"}`),
		withAction(get(alice, "a"), "s3:DeleteObject"), Allow},
	{"NotPrincipal deny hits anonymous", kindBucket,
		doc(stAllowAll, `{"Effect":"Deny","NotPrincipal":{"AWS":"`+alice+`"},"Action":"s3:DeleteObject","Resource":"arn:aws:s3:::photos/*"}`),
		withAction(get("*", "a"), "s3:DeleteObject"), Deny},

	// NotAction and NotResource.
	{"NotAction allows the rest", kindBucket,
		doc(`{"Effect":"Allow","Principal":"*","NotAction":"s3:DeleteObject","Resource":"arn:aws:s3:::photos/*"}`),
		get(alice, "a"), Allow},
	{"NotAction excludes the named action", kindBucket,
		doc(`{"Effect":"Allow","Principal":"*","NotAction":["s3:Delete*","s3:PutObject"],"Resource":"arn:aws:s3:::photos/*"}`),
		withAction(get(alice, "a"), "s3:DeleteObjectVersion"), NotApplicable},
	{"NotResource deny outside the public prefix", kindBucket,
		doc(stPublicGet, `{"Effect":"Deny","Principal":"*","Action":"s3:GetObject","NotResource":"arn:aws:s3:::photos/public/*"}`),
		get(alice, "private/a"), Deny},
	{"NotResource deny spares the public prefix", kindBucket,
		doc(stPublicGet, `{"Effect":"Deny","Principal":"*","Action":"s3:GetObject","NotResource":"arn:aws:s3:::photos/public/*"}`),
		get(alice, "public/a"), Allow},

	// String operators.
	{"StringEquals match", kindIdentity,
		doc(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"StringEquals":{"aws:username":"alice"}}}`),
		withCtx(get(alice, "a"), ctx("aws:username", "alice")), Allow},
	{"StringEquals is case-sensitive", kindIdentity,
		doc(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"StringEquals":{"aws:username":"alice"}}}`),
		withCtx(get(alice, "a"), ctx("aws:username", "Alice")), NotApplicable},
	{"StringEquals missing key", kindIdentity,
		doc(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"StringEquals":{"aws:username":"alice"}}}`),
		get(alice, "a"), NotApplicable},
	{"StringEqualsIgnoreCase", kindIdentity,
		doc(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"StringEqualsIgnoreCase":{"aws:username":"alice"}}}`),
		withCtx(get(alice, "a"), ctx("aws:username", "ALICE")), Allow},
	{"values of one key are ORed", kindIdentity,
		doc(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"StringEquals":{"aws:username":["alice","bob"]}}}`),
		withCtx(get(bob, "a"), ctx("aws:username", "bob")), Allow},
	{"condition key names ignore case", kindBucket,
		doc(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::photos/*","Condition":{"StringEquals":{"AWS:UserName":"alice"}}}`),
		withCtx(get(alice, "a"), ctx("aws:USERNAME", "alice")), Allow},
	{"StringNotEquals on a missing key holds", kindBucket,
		doc(stAllowAll, `{"Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::photos/*","Condition":{"StringNotEquals":{"s3:x-amz-server-side-encryption":"AES256"}}}`),
		withAction(get(alice, "a"), "s3:PutObject"), Deny},
	{"StringNotEquals with the required value", kindBucket,
		doc(stAllowAll, `{"Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::photos/*","Condition":{"StringNotEquals":{"s3:x-amz-server-side-encryption":"AES256"}}}`),
		withCtx(withAction(get(alice, "a"), "s3:PutObject"), ctx("s3:x-amz-server-side-encryption", "AES256")), Allow},
	{"StringNotEquals with another value", kindBucket,
		doc(stAllowAll, `{"Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::photos/*","Condition":{"StringNotEquals":{"s3:x-amz-server-side-encryption":"AES256"}}}`),
		withCtx(withAction(get(alice, "a"), "s3:PutObject"), ctx("s3:x-amz-server-side-encryption", "aws:kms")), Deny},
	{"StringNotEqualsIgnoreCase", kindBucket,
		doc(stAllowAll, `{"Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::photos/*","Condition":{"StringNotEqualsIgnoreCase":{"s3:x-amz-storage-class":"STANDARD_IA"}}}`),
		withCtx(withAction(get(alice, "a"), "s3:PutObject"), ctx("s3:x-amz-storage-class", "standard_ia")), Allow},
	{"StringLike with wildcard", kindBucket,
		doc(`{"Effect":"Allow","Principal":"*","Action":"s3:ListBucket","Resource":"arn:aws:s3:::photos","Condition":{"StringLike":{"s3:prefix":["public/*",""]}}}`),
		withCtx(Request{Principal: alice, Action: "s3:ListBucket", Resource: "arn:aws:s3:::photos"}, ctx("s3:prefix", "public/2024/")), Allow},
	{"StringLike without match", kindBucket,
		doc(`{"Effect":"Allow","Principal":"*","Action":"s3:ListBucket","Resource":"arn:aws:s3:::photos","Condition":{"StringLike":{"s3:prefix":["public/*",""]}}}`),
		withCtx(Request{Principal: alice, Action: "s3:ListBucket", Resource: "arn:aws:s3:::photos"}, ctx("s3:prefix", "private/")), NotApplicable},
	{"StringNotLike on a missing key holds", kindBucket,
		doc(stAllowAll, `{"Effect":"Deny","Principal":"*","Action":"s3:ListBucket","Resource":"arn:aws:s3:::photos","Condition":{"StringNotLike":{"s3:prefix":"public/*"}}}`),
		Request{Principal: alice, Action: "s3:ListBucket", Resource: "arn:aws:s3:::photos"}, Deny},
	{"several request values without qualifier: any matches", kindGeneric,
		doc(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalOrgPaths":"o-1/r-1/ou-2/"}}}`),
		withCtx(get(alice, "a"), ctx("aws:PrincipalOrgPaths", "o-1/r-1/ou-1/|o-1/r-1/ou-2/")), Allow},

	// Numeric operators.
	{"NumericLessThanEquals below", kindBucket,
		doc(`{"Effect":"Allow","Principal":"*","Action":"s3:ListBucket","Resource":"arn:aws:s3:::photos","Condition":{"NumericLessThanEquals":{"s3:max-keys":"10"}}}`),
		withCtx(Request{Principal: alice, Action: "s3:ListBucket", Resource: "arn:aws:s3:::photos"}, ctx("s3:max-keys", "10")), Allow},
	{"NumericLessThanEquals above", kindBucket,
		doc(`{"Effect":"Allow","Principal":"*","Action":"s3:ListBucket","Resource":"arn:aws:s3:::photos","Condition":{"NumericLessThanEquals":{"s3:max-keys":"10"}}}`),
		withCtx(Request{Principal: alice, Action: "s3:ListBucket", Resource: "arn:aws:s3:::photos"}, ctx("s3:max-keys", "11")), NotApplicable},
	{"NumericLessThan with a JSON number", kindBucket,
		doc(`{"Effect":"Allow","Principal":"*","Action":"s3:ListBucket","Resource":"arn:aws:s3:::photos","Condition":{"NumericLessThan":{"s3:max-keys":100}}}`),
		withCtx(Request{Principal: alice, Action: "s3:ListBucket", Resource: "arn:aws:s3:::photos"}, ctx("s3:max-keys", "99.5")), Allow},
	{"NumericEquals compares values not text", kindGeneric,
		doc(`{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*","Condition":{"NumericEquals":{"s3:max-keys":"10"}}}`),
		withCtx(Request{Principal: alice, Action: "s3:ListBucket", Resource: "arn:aws:s3:::photos"}, ctx("s3:max-keys", "1.0e1")), Allow},
	{"NumericGreaterThan", kindGeneric,
		doc(`{"Effect":"Deny","Action":"s3:ListBucket","Resource":"*","Condition":{"NumericGreaterThan":{"s3:max-keys":"1000"}}}`),
		withCtx(Request{Principal: alice, Action: "s3:ListBucket", Resource: "arn:aws:s3:::photos"}, ctx("s3:max-keys", "1001")), Deny},
	{"NumericGreaterThanEquals", kindGeneric,
		doc(`{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*","Condition":{"NumericGreaterThanEquals":{"s3:TlsVersion":"1.2"}}}`),
		withCtx(Request{Principal: alice, Action: "s3:ListBucket", Resource: "arn:aws:s3:::photos"}, ctx("s3:TlsVersion", "1.3")), Allow},
	{"NumericNotEquals on a missing key holds", kindGeneric,
		doc(`{"Effect":"Deny","Action":"s3:ListBucket","Resource":"*","Condition":{"NumericNotEquals":{"s3:max-keys":"10"}}}`),
		Request{Principal: alice, Action: "s3:ListBucket", Resource: "arn:aws:s3:::photos"}, Deny},
	{"numeric request value that is no number", kindGeneric,
		doc(`{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*","Condition":{"NumericLessThan":{"s3:max-keys":"10"}}}`),
		withCtx(Request{Principal: alice, Action: "s3:ListBucket", Resource: "arn:aws:s3:::photos"}, ctx("s3:max-keys", "five")), NotApplicable},

	// Date operators.
	{"DateGreaterThan ISO 8601", kindGeneric,
		doc(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"DateGreaterThan":{"aws:CurrentTime":"2024-01-01T00:00:00Z"}}}`),
		withCtx(get(alice, "a"), ctx("aws:CurrentTime", "2024-06-01T12:00:00Z")), Allow},
	{"DateGreaterThan with epoch request time", kindGeneric,
		doc(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"DateGreaterThan":{"aws:CurrentTime":"2024-01-01T00:00:00Z"}}}`),
		withCtx(get(alice, "a"), ctx("aws:CurrentTime", "1700000000")), NotApplicable},
	{"DateLessThan with epoch policy value", kindGeneric,
		doc(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"DateLessThan":{"aws:EpochTime":"1735689600"}}}`),
		withCtx(get(alice, "a"), ctx("aws:EpochTime", "1735689599")), Allow},
	{"DateLessThanEquals with a zone offset", kindGeneric,
		doc(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"DateLessThanEquals":{"aws:CurrentTime":"2025-01-01T01:00:00+01:00"}}}`),
		withCtx(get(alice, "a"), ctx("aws:CurrentTime", "2025-01-01T00:00:00Z")), Allow},
	{"DateEquals date only", kindGeneric,
		doc(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"DateEquals":{"aws:CurrentTime":"2025-03-01"}}}`),
		withCtx(get(alice, "a"), ctx("aws:CurrentTime", "2025-03-01T00:00:00Z")), Allow},
	{"DateGreaterThanEquals", kindGeneric,
		doc(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"DateGreaterThanEquals":{"aws:CurrentTime":"2025-03-01T00:00:00Z"}}}`),
		withCtx(get(alice, "a"), ctx("aws:CurrentTime", "2025-02-28T23:59:59Z")), NotApplicable},
	{"DateNotEquals", kindGeneric,
		doc(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"DateNotEquals":{"aws:CurrentTime":"2025-03-01T00:00:00Z"}}}`),
		withCtx(get(alice, "a"), ctx("aws:CurrentTime", "2025-03-02T00:00:00Z")), Allow},

	// Bool, Binary, Null.
	{"Bool deny over plain HTTP", kindBucket,
		doc(stAllowAll, `{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::photos","arn:aws:s3:::photos/*"],"Condition":{"Bool":{"aws:SecureTransport":"false"}}}`),
		withCtx(get(alice, "a"), ctx("aws:SecureTransport", "false")), Deny},
	{"Bool deny spares HTTPS", kindBucket,
		doc(stAllowAll, `{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::photos","arn:aws:s3:::photos/*"],"Condition":{"Bool":{"aws:SecureTransport":false}}}`),
		withCtx(get(alice, "a"), ctx("aws:SecureTransport", "TRUE")), Allow},
	{"Bool on a missing key is false", kindBucket,
		doc(stAllowAll, `{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::photos","arn:aws:s3:::photos/*"],"Condition":{"Bool":{"aws:SecureTransport":"false"}}}`),
		get(alice, "a"), Allow},
	{"BinaryEquals", kindGeneric,
		doc(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"BinaryEquals":{"aws:SourceIdentity":"QmluYXJ5"}}}`),
		withCtx(get(alice, "a"), ctx("aws:SourceIdentity", "QmluYXJ5")), Allow},
	{"Null true on a missing key", kindBucket,
		doc(stAllowAll, `{"Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::photos/*","Condition":{"Null":{"s3:x-amz-server-side-encryption":"true"}}}`),
		withAction(get(alice, "a"), "s3:PutObject"), Deny},
	{"Null true on a present key", kindBucket,
		doc(stAllowAll, `{"Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::photos/*","Condition":{"Null":{"s3:x-amz-server-side-encryption":"true"}}}`),
		withCtx(withAction(get(alice, "a"), "s3:PutObject"), ctx("s3:x-amz-server-side-encryption", "AES256")), Allow},
	{"Null false needs the key", kindGeneric,
		doc(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"Null":{"aws:TokenIssueTime":"false"}}}`),
		get(alice, "a"), NotApplicable},

	// IP addresses.
	{"IpAddress inside the block", kindBucket,
		doc(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::photos/*","Condition":{"IpAddress":{"aws:SourceIp":"192.0.2.0/24"}}}`),
		withCtx(get("*", "a"), ctx("aws:SourceIp", "192.0.2.7")), Allow},
	{"IpAddress outside the block", kindBucket,
		doc(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::photos/*","Condition":{"IpAddress":{"aws:SourceIp":"192.0.2.0/24"}}}`),
		withCtx(get("*", "a"), ctx("aws:SourceIp", "198.51.100.1")), NotApplicable},
	{"IpAddress single address and IPv6 block", kindBucket,
		doc(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::photos/*","Condition":{"IpAddress":{"aws:SourceIp":["203.0.113.5","2001:db8::/32"]}}}`),
		withCtx(get("*", "a"), ctx("aws:SourceIp", "2001:db8:1::9")), Allow},
	{"IpAddress IPv4-mapped request address", kindBucket,
		doc(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::photos/*","Condition":{"IpAddress":{"aws:SourceIp":["203.0.113.5"]}}}`),
		withCtx(get("*", "a"), ctx("aws:SourceIp", "::ffff:203.0.113.5")), Allow},
	{"NotIpAddress deny from elsewhere", kindBucket,
		doc(stAllowAll, `{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::photos/*","Condition":{"NotIpAddress":{"aws:SourceIp":["192.0.2.0/24","2001:db8::/32"]}}}`),
		withCtx(get(alice, "a"), ctx("aws:SourceIp", "198.51.100.1")), Deny},
	{"NotIpAddress deny spares the block", kindBucket,
		doc(stAllowAll, `{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::photos/*","Condition":{"NotIpAddress":{"aws:SourceIp":["192.0.2.0/24","2001:db8::/32"]}}}`),
		withCtx(get(alice, "a"), ctx("aws:SourceIp", "192.0.2.200")), Allow},

	// ARN operators.
	{"ArnLike component wildcards", kindBucket,
		doc(`{"Effect":"Allow","Principal":{"Service":"sns.amazonaws.com"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::photos/*","Condition":{"ArnLike":{"aws:SourceArn":"arn:aws:sns:*:111122223333:topic-*"}}}`),
		withCtx(get("sns.amazonaws.com", "a"), ctx("aws:SourceArn", "arn:aws:sns:eu-west-1:111122223333:topic-backups")), Allow},
	{"ArnLike star does not cross components", kindBucket,
		doc(`{"Effect":"Allow","Principal":{"Service":"sns.amazonaws.com"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::photos/*","Condition":{"ArnLike":{"aws:SourceArn":"arn:aws:sns:*:111122223333:topic-*"}}}`),
		withCtx(get("sns.amazonaws.com", "a"), ctx("aws:SourceArn", "arn:aws:sns:eu-west-1:999:111122223333:topic-x")), NotApplicable},
	{"ArnEquals", kindGeneric,
		doc(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"ArnEquals":{"aws:PrincipalArn":"` + alice + `"}}}`),
		withCtx(get(alice, "a"), ctx("aws:PrincipalArn", alice)), Allow},
	{"ArnNotEquals", kindGeneric,
		doc(`{"Effect":"Deny","Action":"s3:GetObject","Resource":"*","Condition":{"ArnNotEquals":{"aws:PrincipalArn":"` + alice + `"}}}`),
		withCtx(get(bob, "a"), ctx("aws:PrincipalArn", bob)), Deny},
	{"ArnNotLike on a missing key holds", kindGeneric,
		doc(`{"Effect":"Deny","Action":"s3:GetObject","Resource":"*","Condition":{"ArnNotLike":{"aws:SourceArn":"arn:aws:sns:*:*:*"}}}`),
		get(alice, "a"), Deny},

	// IfExists.
	{"IfExists on a missing key holds", kindGeneric,
		doc(`{"Effect":"Allow","Action":"s3:PutObject","Resource":"*","Condition":{"StringEqualsIfExists":{"s3:x-amz-storage-class":"STANDARD_IA"}}}`),
		withAction(get(alice, "a"), "s3:PutObject"), Allow},
	{"IfExists on a present key compares", kindGeneric,
		doc(`{"Effect":"Allow","Action":"s3:PutObject","Resource":"*","Condition":{"StringEqualsIfExists":{"s3:x-amz-storage-class":"STANDARD_IA"}}}`),
		withCtx(withAction(get(alice, "a"), "s3:PutObject"), ctx("s3:x-amz-storage-class", "GLACIER")), NotApplicable},
	{"IfExists on a present matching key", kindGeneric,
		doc(`{"Effect":"Allow","Action":"s3:PutObject","Resource":"*","Condition":{"StringEqualsIfExists":{"s3:x-amz-storage-class":"STANDARD_IA"}}}`),
		withCtx(withAction(get(alice, "a"), "s3:PutObject"), ctx("s3:x-amz-storage-class", "STANDARD_IA")), Allow},
	{"NumericLessThanIfExists", kindGeneric,
		doc(`{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*","Condition":{"NumericLessThanIfExists":{"s3:max-keys":"50"}}}`),
		withCtx(Request{Principal: alice, Action: "s3:ListBucket", Resource: "arn:aws:s3:::photos"}, ctx("s3:max-keys", "500")), NotApplicable},
	{"IpAddressIfExists on a missing key", kindGeneric,
		doc(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"IpAddressIfExists":{"aws:SourceIp":"10.0.0.0/8"}}}`),
		get(alice, "a"), Allow},

	// Set qualifiers.
	{"ForAnyValue one request value matches", kindGeneric,
		doc(`{"Effect":"Allow","Action":"s3:PutObject","Resource":"*","Condition":{"ForAnyValue:StringEquals":{"aws:TagKeys":["env","cost-center"]}}}`),
		withCtx(withAction(get(alice, "a"), "s3:PutObject"), ctx("aws:TagKeys", "team|env")), Allow},
	{"ForAnyValue no request value matches", kindGeneric,
		doc(`{"Effect":"Allow","Action":"s3:PutObject","Resource":"*","Condition":{"ForAnyValue:StringEquals":{"aws:TagKeys":["env","cost-center"]}}}`),
		withCtx(withAction(get(alice, "a"), "s3:PutObject"), ctx("aws:TagKeys", "team|owner")), NotApplicable},
	{"ForAnyValue on a missing key is false", kindGeneric,
		doc(`{"Effect":"Allow","Action":"s3:PutObject","Resource":"*","Condition":{"ForAnyValue:StringEquals":{"aws:TagKeys":["env"]}}}`),
		withAction(get(alice, "a"), "s3:PutObject"), NotApplicable},
	{"ForAllValues every request value matches", kindGeneric,
		doc(`{"Effect":"Allow","Action":"s3:PutObject","Resource":"*","Condition":{"ForAllValues:StringLike":{"aws:TagKeys":["env*","team"]}}}`),
		withCtx(withAction(get(alice, "a"), "s3:PutObject"), ctx("aws:TagKeys", "env-tier|team")), Allow},
	{"ForAllValues one request value outside", kindGeneric,
		doc(`{"Effect":"Allow","Action":"s3:PutObject","Resource":"*","Condition":{"ForAllValues:StringLike":{"aws:TagKeys":["env*","team"]}}}`),
		withCtx(withAction(get(alice, "a"), "s3:PutObject"), ctx("aws:TagKeys", "env-tier|owner")), NotApplicable},
	{"ForAllValues on a missing key is true", kindGeneric,
		doc(`{"Effect":"Allow","Action":"s3:PutObject","Resource":"*","Condition":{"ForAllValues:StringLike":{"aws:TagKeys":["env*"]}}}`),
		withAction(get(alice, "a"), "s3:PutObject"), Allow},
	{"ForAllValues StringNotLike, every value outside", kindGeneric,
		doc(`{"Effect":"Deny","Action":"s3:PutObject","Resource":"*","Condition":{"ForAllValues:StringNotLike":{"aws:TagKeys":"key1*"}}}`),
		withCtx(withAction(get(alice, "a"), "s3:PutObject"), ctx("aws:TagKeys", "key2:audit")), Deny},
	{"ForAllValues StringNotLike, one value inside", kindGeneric,
		doc(`{"Effect":"Deny","Action":"s3:PutObject","Resource":"*","Condition":{"ForAllValues:StringNotLike":{"aws:TagKeys":"key1*"}}}`),
		withCtx(withAction(get(alice, "a"), "s3:PutObject"), ctx("aws:TagKeys", "key1:legal")), NotApplicable},
	{"ForAnyValue StringNotEquals", kindGeneric,
		doc(`{"Effect":"Deny","Action":"s3:PutObject","Resource":"*","Condition":{"ForAnyValue:StringNotEquals":{"aws:TagKeys":["env","team"]}}}`),
		withCtx(withAction(get(alice, "a"), "s3:PutObject"), ctx("aws:TagKeys", "env|owner")), Deny},
	{"ForAnyValue StringNotEquals, all values allowed", kindGeneric,
		doc(`{"Effect":"Deny","Action":"s3:PutObject","Resource":"*","Condition":{"ForAnyValue:StringNotEquals":{"aws:TagKeys":["env","team"]}}}`),
		withCtx(withAction(get(alice, "a"), "s3:PutObject"), ctx("aws:TagKeys", "env|team")), NotApplicable},

	// Several conditions.
	{"keys are ANDed: both hold", kindBucket,
		doc(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::photos/*","Condition":{"IpAddress":{"aws:SourceIp":"192.0.2.0/24"},"Bool":{"aws:SecureTransport":"true"}}}`),
		withCtx(get("*", "a"), ctx("aws:SourceIp", "192.0.2.1", "aws:SecureTransport", "true")), Allow},
	{"keys are ANDed: one fails", kindBucket,
		doc(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::photos/*","Condition":{"IpAddress":{"aws:SourceIp":"192.0.2.0/24"},"Bool":{"aws:SecureTransport":"true"}}}`),
		withCtx(get("*", "a"), ctx("aws:SourceIp", "192.0.2.1", "aws:SecureTransport", "false")), NotApplicable},
	{"keys of one operator are ANDed", kindGeneric,
		doc(`{"Effect":"Allow","Action":"s3:PutObject","Resource":"*","Condition":{"StringEquals":{"s3:x-amz-storage-class":"GLACIER","s3:x-amz-server-side-encryption":"AES256"}}}`),
		withCtx(withAction(get(alice, "a"), "s3:PutObject"), ctx("s3:x-amz-storage-class", "GLACIER")), NotApplicable},

	// Policy variables.
	{"variable in resource", kindIdentity,
		doc(`{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::home/${aws:username}/*"}`),
		withCtx(Request{Principal: alice, Action: "s3:GetObject", Resource: "arn:aws:s3:::home/alice/notes.txt"}, ctx("aws:username", "alice")), Allow},
	{"variable in resource, other user's folder", kindIdentity,
		doc(`{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::home/${aws:username}/*"}`),
		withCtx(Request{Principal: alice, Action: "s3:GetObject", Resource: "arn:aws:s3:::home/bob/notes.txt"}, ctx("aws:username", "alice")), NotApplicable},
	{"variable without value matches nothing", kindIdentity,
		doc(`{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::home/${aws:username}/*"}`),
		Request{Principal: alice, Action: "s3:GetObject", Resource: "arn:aws:s3:::home//notes.txt"}, NotApplicable},
	{"variable with several values matches nothing", kindIdentity,
		doc(`{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::home/${aws:username}/*"}`),
		withCtx(Request{Principal: alice, Action: "s3:GetObject", Resource: "arn:aws:s3:::home/alice/x"}, ctx("aws:username", "alice|bob")), NotApplicable},
	{"variable default value", kindIdentity,
		doc(`{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::home/${aws:username, 'guest'}/*"}`),
		Request{Principal: "*", Action: "s3:GetObject", Resource: "arn:aws:s3:::home/guest/x"}, Allow},
	{"substituted value is no wildcard", kindIdentity,
		doc(`{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::home/${aws:username}/x"}`),
		withCtx(Request{Principal: alice, Action: "s3:GetObject", Resource: "arn:aws:s3:::home/alice/x"}, ctx("aws:username", "*")), NotApplicable},
	{"escaped star is literal", kindIdentity,
		doc(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/${*}"}`),
		Request{Principal: alice, Action: "s3:GetObject", Resource: "arn:aws:s3:::b/x"}, NotApplicable},
	{"escaped star matches a star", kindIdentity,
		doc(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/${*}${?}${$}"}`),
		Request{Principal: alice, Action: "s3:GetObject", Resource: "arn:aws:s3:::b/*?$"}, Allow},
	{"2008 documents do not expand variables", kindIdentity,
		`{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::home/${aws:username}/*"}]}`,
		withCtx(Request{Principal: alice, Action: "s3:GetObject", Resource: "arn:aws:s3:::home/alice/x"}, ctx("aws:username", "alice")), NotApplicable},
	{"2008 documents take variables literally", kindIdentity,
		`{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::home/${aws:username}/*"}]}`,
		Request{Principal: alice, Action: "s3:GetObject", Resource: "arn:aws:s3:::home/${aws:username}/x"}, Allow},
	{"no Version means 2008", kindIdentity,
		`{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::home/${aws:username}/*"}]}`,
		withCtx(Request{Principal: alice, Action: "s3:GetObject", Resource: "arn:aws:s3:::home/alice/x"}, ctx("aws:username", "alice")), NotApplicable},
	{"variable in a StringLike condition", kindBucket,
		doc(`{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"s3:ListBucket","Resource":"arn:aws:s3:::home","Condition":{"StringLike":{"s3:prefix":["${aws:username}/*"]}}}`),
		withCtx(Request{Principal: alice, Action: "s3:ListBucket", Resource: "arn:aws:s3:::home"}, ctx("s3:prefix", "alice/docs/", "aws:username", "alice")), Allow},
	{"variable in a StringLike condition, other prefix", kindBucket,
		doc(`{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"s3:ListBucket","Resource":"arn:aws:s3:::home","Condition":{"StringLike":{"s3:prefix":["${aws:username}/*"]}}}`),
		withCtx(Request{Principal: alice, Action: "s3:ListBucket", Resource: "arn:aws:s3:::home"}, ctx("s3:prefix", "bob/", "aws:username", "alice")), NotApplicable},
	{"variable in StringEquals", kindGeneric,
		doc(`{"Effect":"Allow","Action":"s3:PutObject","Resource":"*","Condition":{"StringEquals":{"s3:RequestObjectTag/owner":"${aws:username}"}}}`),
		withCtx(withAction(get(alice, "a"), "s3:PutObject"), ctx("s3:RequestObjectTag/owner", "alice", "aws:username", "alice")), Allow},
	{"unresolved variable makes a negated operator hold", kindGeneric,
		doc(`{"Effect":"Deny","Action":"s3:PutObject","Resource":"*","Condition":{"StringNotEquals":{"s3:RequestObjectTag/owner":"${aws:username}"}}}`),
		withCtx(withAction(get(alice, "a"), "s3:PutObject"), ctx("s3:RequestObjectTag/owner", "alice")), Deny},
	{"variable in ArnLike", kindGeneric,
		doc(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:user/${aws:username}"}}}`),
		withCtx(get(alice, "a"), ctx("aws:PrincipalArn", alice, "aws:username", "alice")), Allow},
}

func TestEvaluateCorpus(t *testing.T) {
	if len(evalCases) < 40 {
		t.Fatalf("corpus has %d cases, want at least 40", len(evalCases))
	}
	seen := make(map[string]bool)
	for _, tc := range evalCases {
		if seen[tc.name] {
			t.Fatalf("duplicate case name %q", tc.name)
		}
		seen[tc.name] = true
		t.Run(tc.name, func(t *testing.T) {
			p := parseKind(t, tc.kind, "", tc.doc)
			if got := p.Evaluate(tc.req); got != tc.want {
				t.Errorf("Evaluate(%+v) = %v, want %v\n%s", tc.req, got, tc.want, tc.doc)
			}
		})
	}
}

func TestDecide(t *testing.T) {
	tests := []struct {
		in   []Decision
		want bool
	}{
		{nil, false},
		{[]Decision{NotApplicable}, false},
		{[]Decision{Allow}, true},
		{[]Decision{NotApplicable, Allow}, true},
		{[]Decision{Allow, Deny}, false},
		{[]Decision{Deny, Allow}, false},
		{[]Decision{Deny}, false},
		{[]Decision{NotApplicable, NotApplicable}, false},
	}
	for _, tt := range tests {
		if got := Decide(tt.in...); got != tt.want {
			t.Errorf("Decide(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestDecisionString(t *testing.T) {
	for d, want := range map[Decision]string{NotApplicable: "NotApplicable", Allow: "Allow", Deny: "Deny", 7: "Decision(?)"} {
		if got := d.String(); got != want {
			t.Errorf("Decision(%d).String() = %q, want %q", int(d), got, want)
		}
	}
}

func TestZeroPolicy(t *testing.T) {
	var nilPolicy *Policy
	if got := nilPolicy.Evaluate(get(alice, "a")); got != NotApplicable {
		t.Errorf("nil policy: got %v, want NotApplicable", got)
	}
	if nilPolicy.IsPublic() {
		t.Error("nil policy is public")
	}
	var zero Policy
	if got := zero.Evaluate(get(alice, "a")); got != NotApplicable {
		t.Errorf("zero policy: got %v, want NotApplicable", got)
	}
}

// TestEvaluateConcurrent evaluates one policy from many goroutines; run
// with -race it checks that evaluation does not write shared state.
func TestEvaluateConcurrent(t *testing.T) {
	p := parseKind(t, kindIdentity, "", doc(`{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::home/${aws:username}/*","Condition":{"IpAddress":{"aws:SourceIp":"192.0.2.0/24"}}}`))
	done := make(chan Decision)
	for i := 0; i < 8; i++ {
		go func() {
			done <- p.Evaluate(withCtx(Request{Principal: alice, Action: "s3:GetObject", Resource: "arn:aws:s3:::home/alice/x"},
				ctx("AWS:USERNAME", "alice", "aws:SourceIp", "192.0.2.9")))
		}()
	}
	for i := 0; i < 8; i++ {
		if got := <-done; got != Allow {
			t.Errorf("got %v, want Allow", got)
		}
	}
}

func BenchmarkEvaluate(b *testing.B) {
	p, err := ParseBucket([]byte(backupBucketPolicy), "backups")
	if err != nil {
		b.Fatal(err)
	}
	r := Request{Principal: backupUser, Action: "s3:PutObject", Resource: "arn:aws:s3:::backups/backups/full/2025-01-05T01:00:00Z/db.dump",
		Context: map[string][]string{"aws:SecureTransport": {"true"}, "aws:SourceIp": {"192.0.2.7"}}}
	b.ReportAllocs()
	for b.Loop() {
		if p.Evaluate(r) != Allow {
			b.Fatal("not allowed")
		}
	}
}

func BenchmarkParseBucket(b *testing.B) {
	doc := []byte(backupBucketPolicy)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseBucket(doc, "backups"); err != nil {
			b.Fatal(err)
		}
	}
}
