package policy

import (
	"errors"
	"testing"
)

// st builds a bucket-policy statement on the bucket "photos" around a
// Condition (or other extra members), for parse tests.
func st(extra string) string {
	s := `{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::photos/*"`
	if extra != "" {
		s += "," + extra
	}
	return s + "}"
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		kind policyKind
		doc  string
		want string
	}{
		// Document level.
		{"empty document", kindBucket, ``, "Policies must be valid JSON and the first byte must be '{'"},
		{"array document", kindBucket, `[]`, "Policies must be valid JSON and the first byte must be '{'"},
		{"truncated JSON", kindBucket, `{"Statement":[`, "This policy contains invalid Json"},
		{"trailing garbage", kindBucket, doc(st("")) + `x`, "This policy contains invalid Json"},
		{"missing Statement", kindBucket, `{"Version":"2012-10-17"}`, "Missing required field Statement"},
		{"empty Statement", kindBucket, `{"Version":"2012-10-17","Statement":[]}`, "Could not parse the policy: Statement is empty!"},
		{"Statement of the wrong type", kindBucket, `{"Statement":"yes"}`, "Invalid policy syntax."},
		{"statement that is no object", kindBucket, `{"Statement":["x"]}`, "Invalid policy syntax."},
		{"unknown version", kindBucket, `{"Version":"2020-01-01","Statement":[` + st("") + `]}`, "The policy must contain a valid version string"},
		{"version of the wrong type", kindBucket, `{"Version":2012,"Statement":[` + st("") + `]}`, "The policy must contain a valid version string"},
		{"Id of the wrong type", kindBucket, `{"Id":1,"Statement":[` + st("") + `]}`, "Invalid policy syntax."},
		{"unknown top-level field", kindBucket, `{"Version":"2012-10-17","Foo":1,"Statement":[` + st("") + `]}`, "Unknown field Foo"},
		{"element names are case-sensitive", kindBucket, `{"version":"2012-10-17","Statement":[` + st("") + `]}`, "Unknown field version"},
		{"duplicated member", kindBucket, `{"Statement":[` + st("") + `],"Statement":[` + st("") + `]}`, "Invalid policy syntax."},

		// Statement elements.
		{"unknown statement field", kindBucket, doc(st(`"Actions":"s3:GetObject"`)), "Unknown field Actions"},
		{"invalid effect", kindBucket, doc(`{"Effect":"allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::photos/*"}`), "Invalid effect: allow"},
		{"effect of the wrong type", kindBucket, doc(`{"Effect":true,"Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::photos/*"}`), "Invalid policy syntax."},
		{"Sid of the wrong type", kindBucket, doc(st(`"Sid":7`)), "Invalid policy syntax."},
		{"missing Effect", kindBucket, doc(`{"Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::photos/*"}`), "Statement is missing required element"},
		{"missing Action", kindBucket, doc(`{"Effect":"Allow","Principal":"*","Resource":"arn:aws:s3:::photos/*"}`), "Statement is missing required element"},
		{"missing Resource", kindBucket, doc(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject"}`), "Statement is missing required element"},
		{"duplicated statement member", kindBucket, doc(`{"Effect":"Allow","Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::photos/*"}`), "Invalid policy syntax."},
		{"Action and NotAction", kindBucket, doc(st(`"NotAction":"s3:PutObject"`)), "Invalid policy syntax."},
		{"Resource and NotResource", kindBucket, doc(st(`"NotResource":"arn:aws:s3:::photos/x"`)), "Invalid policy syntax."},
		{"Principal and NotPrincipal", kindBucket, doc(st(`"NotPrincipal":{"AWS":"` + alice + `"}`)), "Invalid policy syntax."},

		// Principals.
		{"bucket policy without principal", kindBucket, doc(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::photos/*"}`), "Missing required field Principal"},
		{"identity policy with principal", kindIdentity, doc(st("")), "Policy document should not specify a principal."},
		{"identity policy with NotPrincipal", kindIdentity, doc(`{"Effect":"Deny","NotPrincipal":{"AWS":"` + alice + `"},"Action":"s3:GetObject","Resource":"*"}`), "Policy document should not specify a principal."},
		{"principal string other than star", kindBucket, doc(`{"Effect":"Allow","Principal":"alice","Action":"s3:GetObject","Resource":"arn:aws:s3:::photos/*"}`), "Invalid principal in policy"},
		{"AWS principal that is no ARN", kindBucket, doc(`{"Effect":"Allow","Principal":{"AWS":"alice"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::photos/*"}`), "Invalid principal in policy"},
		{"AWS principal truncated ARN", kindBucket, doc(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::photos/*"}`), "Invalid principal in policy"},
		{"unknown principal type", kindBucket, doc(`{"Effect":"Allow","Principal":{"User":"alice"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::photos/*"}`), "Invalid principal in policy"},
		{"empty principal object", kindBucket, doc(`{"Effect":"Allow","Principal":{},"Action":"s3:GetObject","Resource":"arn:aws:s3:::photos/*"}`), "Invalid principal in policy"},
		{"empty principal list", kindBucket, doc(`{"Effect":"Allow","Principal":{"AWS":[]},"Action":"s3:GetObject","Resource":"arn:aws:s3:::photos/*"}`), "Invalid principal in policy"},
		{"principal of the wrong type", kindBucket, doc(`{"Effect":"Allow","Principal":5,"Action":"s3:GetObject","Resource":"arn:aws:s3:::photos/*"}`), "Invalid principal in policy"},
		{"empty service principal", kindBucket, doc(`{"Effect":"Allow","Principal":{"Service":""},"Action":"s3:GetObject","Resource":"arn:aws:s3:::photos/*"}`), "Invalid principal in policy"},

		// Actions.
		{"action without service", kindBucket, doc(`{"Effect":"Allow","Principal":"*","Action":"GetObject","Resource":"arn:aws:s3:::photos/*"}`), "Policy has invalid action"},
		{"action with bad characters", kindGeneric, doc(`{"Effect":"Allow","Action":"s3:Get Object","Resource":"*"}`), "Policy has invalid action"},
		{"unknown S3 action", kindBucket, doc(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObjectx","Resource":"arn:aws:s3:::photos/*"}`), "Policy has invalid action"},
		{"S3 action wildcard matching nothing", kindBucket, doc(`{"Effect":"Allow","Principal":"*","Action":"s3:Frobnicate*","Resource":"arn:aws:s3:::photos/*"}`), "Policy has invalid action"},
		{"other service in a bucket policy", kindBucket, doc(`{"Effect":"Allow","Principal":"*","Action":"ec2:RunInstances","Resource":"arn:aws:s3:::photos/*"}`), "Policy has invalid action"},
		{"empty action list", kindBucket, doc(`{"Effect":"Allow","Principal":"*","Action":[],"Resource":"arn:aws:s3:::photos/*"}`), "Policy has invalid action"},
		{"action of the wrong type", kindBucket, doc(`{"Effect":"Allow","Principal":"*","Action":{"s3":"GetObject"},"Resource":"arn:aws:s3:::photos/*"}`), "Policy has invalid action"},
		{"one bad action in a list", kindGeneric, doc(`{"Effect":"Allow","Action":["s3:GetObject",3],"Resource":"*"}`), "Policy has invalid action"},

		// Resources.
		{"resource that is no ARN", kindBucket, doc(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"photos/*"}`), "Policy has invalid resource"},
		{"resource with too few components", kindGeneric, doc(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:photos"}`), "Policy has invalid resource"},
		{"star resource in a bucket policy", kindBucket, doc(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*"}`), "Policy has invalid resource"},
		{"resource in another bucket", kindBucket, doc(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::other/*"}`), "Policy has invalid resource"},
		{"resource of another service", kindBucket, doc(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:sns:us-east-1:111122223333:topic"}`), "Policy has invalid resource"},
		{"empty resource list", kindBucket, doc(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":[]}`), "Policy has invalid resource"},
		{"object action on the bucket ARN only", kindBucket, doc(`{"Effect":"Allow","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::photos"}`), "Action does not apply to any resource(s) in statement"},
		{"bucket action on object ARNs only", kindBucket, doc(`{"Effect":"Allow","Principal":"*","Action":["s3:GetObject","s3:ListBucket"],"Resource":"arn:aws:s3:::photos/*"}`), "Action does not apply to any resource(s) in statement"},
		{"account action in a bucket policy", kindBucket, doc(`{"Effect":"Allow","Principal":"*","Action":"s3:ListAllMyBuckets","Resource":["arn:aws:s3:::photos","arn:aws:s3:::photos/*"]}`), "Action does not apply to any resource(s) in statement"},

		// Conditions.
		{"unknown operator", kindBucket, doc(st(`"Condition":{"StringEqualz":{"aws:username":"a"}}`)), "Invalid Condition type : StringEqualz"},
		{"operator names are case-sensitive", kindBucket, doc(st(`"Condition":{"stringequals":{"aws:username":"a"}}`)), "Invalid Condition type : stringequals"},
		{"Null takes no IfExists", kindBucket, doc(st(`"Condition":{"NullIfExists":{"aws:username":"true"}}`)), "Invalid Condition type : NullIfExists"},
		{"unknown set qualifier", kindBucket, doc(st(`"Condition":{"ForSomeValues:StringEquals":{"aws:TagKeys":"a"}}`)), "Invalid Condition type : ForSomeValues:StringEquals"},
		{"condition key without service", kindGeneric, doc(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"StringEquals":{"username":"a"}}}`), "Policy has an invalid condition key"},
		{"unknown S3 condition key", kindBucket, doc(st(`"Condition":{"StringEquals":{"s3:FakeKeyDoesNotExist":"a"}}`)), "Policy has an invalid condition key"},
		{"unknown global condition key", kindBucket, doc(st(`"Condition":{"StringEquals":{"aws:Frobnication":"a"}}`)), "Policy has an invalid condition key"},
		{"other service's key in a bucket policy", kindBucket, doc(st(`"Condition":{"StringEquals":{"ec2:InstanceType":"t3.micro"}}`)), "Policy has an invalid condition key"},
		{"tag key family without a tag", kindBucket, doc(st(`"Condition":{"StringEquals":{"s3:ExistingObjectTag/":"a"}}`)), "Policy has an invalid condition key"},
		{"bad IP address", kindBucket, doc(st(`"Condition":{"IpAddress":{"aws:SourceIp":"300.1.1.1"}}`)), "Invalid IP address in Conditions"},
		{"bad CIDR", kindBucket, doc(st(`"Condition":{"NotIpAddress":{"aws:SourceIp":["192.0.2.0/24","192.0.2.0/33"]}}`)), "Invalid IP address in Conditions"},
		{"bad number", kindBucket, doc(st(`"Condition":{"NumericLessThan":{"s3:max-keys":"ten"}}`)), "Invalid policy syntax."},
		{"hexadecimal number", kindBucket, doc(st(`"Condition":{"NumericLessThan":{"s3:max-keys":"0x10"}}`)), "Invalid policy syntax."},
		{"bad date", kindBucket, doc(st(`"Condition":{"DateLessThan":{"aws:CurrentTime":"yesterday"}}`)), "Invalid policy syntax."},
		{"bad bool", kindBucket, doc(st(`"Condition":{"Bool":{"aws:SecureTransport":"yes"}}`)), "Invalid policy syntax."},
		{"bad Null value", kindBucket, doc(st(`"Condition":{"Null":{"aws:SecureTransport":"maybe"}}`)), "Invalid policy syntax."},
		{"condition that is no object", kindBucket, doc(st(`"Condition":["StringEquals"]`)), "Invalid policy syntax."},
		{"operator block that is no object", kindBucket, doc(st(`"Condition":{"StringEquals":"aws:username"}`)), "Invalid policy syntax."},
		{"condition value object", kindBucket, doc(st(`"Condition":{"StringEquals":{"aws:username":{"a":"b"}}}`)), "Invalid policy syntax."},
		{"condition value null", kindBucket, doc(st(`"Condition":{"StringEquals":{"aws:username":null}}`)), "Invalid policy syntax."},
		{"empty condition value list", kindBucket, doc(st(`"Condition":{"StringEquals":{"aws:username":[]}}`)), "Invalid policy syntax."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			switch tt.kind {
			case kindBucket:
				_, err = ParseBucket([]byte(tt.doc), "photos")
			case kindIdentity:
				_, err = ParseIdentity([]byte(tt.doc))
			default:
				_, err = Parse([]byte(tt.doc))
			}
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("got error %v (%T), want *Error %q", err, err, tt.want)
			}
			if pe.Msg != tt.want || err.Error() != tt.want {
				t.Errorf("got %q, want %q", pe.Msg, tt.want)
			}
		})
	}
}

func TestParseAccepts(t *testing.T) {
	tests := []struct {
		name   string
		kind   policyKind
		bucket string
		doc    string
	}{
		{"S3 user guide IP example", kindBucket, "amzn-s3-demo-bucket", `{
			"Version": "2012-10-17",
			"Id": "S3PolicyId1",
			"Statement": [{
				"Sid": "IPAllow",
				"Effect": "Deny",
				"Principal": "*",
				"Action": "s3:*",
				"Resource": ["arn:aws:s3:::amzn-s3-demo-bucket", "arn:aws:s3:::amzn-s3-demo-bucket/*"],
				"Condition": {"NotIpAddress": {"aws:SourceIp": "192.0.2.0/24"}}
			}]}`},
		{"wildcard action on object ARNs", kindBucket, "photos", doc(`{"Effect":"Allow","Principal":"*","Action":"s3:Get*","Resource":"arn:aws:s3:::photos/*"}`)},
		{"star action on the bucket ARN", kindBucket, "photos", doc(`{"Effect":"Allow","Principal":"*","Action":"*","Resource":"arn:aws:s3:::photos"}`)},
		{"wildcard bucket name", kindBucket, "photos", doc(`{"Effect":"Allow","Principal":"*","Action":["s3:ListBucket","s3:GetObject"],"Resource":"arn:aws:s3:::pho*"}`)},
		{"wildcard everything after the service", kindBucket, "photos", doc(`{"Effect":"Allow","Principal":"*","Action":"s3:ListBucket","Resource":"arn:aws:s3:::*"}`)},
		{"any bucket when none is named", kindBucket, "", doc(`{"Effect":"Allow","Principal":"*","Action":["s3:ListBucket","s3:PutObject"],"Resource":["arn:aws:s3:::x","arn:aws:s3:::x/*"]}`)},
		{"NotAction skips the resource check", kindBucket, "photos", doc(`{"Effect":"Deny","Principal":"*","NotAction":"s3:GetObject","Resource":"arn:aws:s3:::photos"}`)},
		{"tagged condition keys", kindBucket, "photos", doc(st(`"Condition":{"StringEquals":{"s3:ExistingObjectTag/class":"public","aws:PrincipalTag/team":"ops"}}`))},
		{"condition keys in any case", kindBucket, "photos", doc(st(`"Condition":{"StringEquals":{"AWS:SOURCEVPC":"vpc-1","S3:X-AMZ-ACL":"private"}}`))},
		{"variable resource in a bucket policy", kindBucket, "home", doc(`{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::home/${aws:username}/*"}`)},
		{"every operator", kindBucket, "photos", doc(st(`"Condition":{
			"StringEquals":{"aws:username":"a"},"StringNotEquals":{"aws:username":"b"},
			"StringEqualsIgnoreCase":{"aws:username":"a"},"StringNotEqualsIgnoreCase":{"aws:username":"b"},
			"StringLike":{"aws:username":"a*"},"StringNotLike":{"aws:username":"b*"},
			"NumericEquals":{"s3:max-keys":1},"NumericNotEquals":{"s3:max-keys":2},
			"NumericLessThan":{"s3:max-keys":3},"NumericLessThanEquals":{"s3:max-keys":"3.5"},
			"NumericGreaterThan":{"s3:max-keys":"-1"},"NumericGreaterThanEquals":{"s3:max-keys":"1e0"},
			"DateEquals":{"aws:CurrentTime":"2025-01-01"},"DateNotEquals":{"aws:CurrentTime":"1735689600"},
			"DateLessThan":{"aws:CurrentTime":"2025-01-01T00:00:00Z"},"DateLessThanEquals":{"aws:CurrentTime":"2025-01-01T00:00:00.123+02:00"},
			"DateGreaterThan":{"aws:CurrentTime":"20250101T000000Z"},"DateGreaterThanEquals":{"aws:CurrentTime":"2025-01-01T00:00"},
			"Bool":{"aws:SecureTransport":true},"BinaryEquals":{"aws:SourceIdentity":"QQ=="},
			"IpAddress":{"aws:SourceIp":["192.0.2.1","2001:db8::/32"]},"NotIpAddress":{"aws:SourceIp":"::1"},
			"ArnEquals":{"aws:SourceArn":"arn:aws:sns:us-east-1:111122223333:t"},"ArnLike":{"aws:SourceArn":"arn:aws:sns:*:*:*"},
			"ArnNotEquals":{"aws:SourceArn":"arn:aws:sns:us-east-1:111122223333:u"},"ArnNotLike":{"aws:SourceArn":"arn:aws:sqs:*:*:*"},
			"Null":{"aws:TokenIssueTime":"true"},
			"StringEqualsIfExists":{"s3:x-amz-storage-class":"GLACIER"},
			"ForAnyValue:StringLike":{"aws:TagKeys":"env*"},"ForAllValues:StringEquals":{"aws:TagKeys":["env","team"]},
			"ForAllValues:StringNotEqualsIfExists":{"aws:TagKeys":"secret"}}`))},
		{"identity policy with other services", kindIdentity, "", doc(`{"Effect":"Allow","Action":["iam:GetUser","sts:AssumeRole"],"Resource":"*","Condition":{"StringEquals":{"ec2:InstanceType":"t3.micro"}}}`)},
		{"generic policy with and without principals", kindGeneric, "", doc(st(""), `{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}`)},
		{"federated principal", kindBucket, "photos", doc(`{"Effect":"Allow","Principal":{"Federated":"graph.facebook.com"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::photos/*"}`)},
		{"CloudFront origin access identity", kindBucket, "photos", doc(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity E2QWRUHAPOMQZL"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::photos/*"}`)},
		{"single statement object", kindBucket, "photos", `{"Statement":` + st("") + `}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := parseKind(t, tt.kind, tt.bucket, tt.doc)
			if len(p.statements) == 0 {
				t.Fatal("no statements")
			}
		})
	}
}

func TestParseVersionAndID(t *testing.T) {
	p := parseKind(t, kindGeneric, "", `{"Id":"backup-policy","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}`)
	if p.Version != Version2008 || p.ID != "backup-policy" {
		t.Errorf("got Version %q ID %q, want %q %q", p.Version, p.ID, Version2008, "backup-policy")
	}
	p = parseKind(t, kindGeneric, "", doc(`{"Effect":"Allow","Action":"s3:*","Resource":"*"}`))
	if p.Version != VersionCurrent {
		t.Errorf("got Version %q, want %q", p.Version, VersionCurrent)
	}
}

// TestCatalogKinds keeps the action catalog consistent: every entry has a
// resource kind, and names are unique without regard to case.
func TestCatalogKinds(t *testing.T) {
	lower := make(map[string]string)
	for name, kind := range s3Actions {
		if kind == 0 {
			t.Errorf("%s has no resource kind", name)
		}
		l := string(s3ActionNames[name])
		if other, dup := lower[l]; dup {
			t.Errorf("%s and %s differ only in case", name, other)
		}
		lower[l] = name
	}
	for _, a := range []string{"GetObject", "PutObject", "DeleteObject", "RestoreObject", "ListBucket", "GetBucketLocation", "GetBucketVersioning", "PutBucketPolicy", "DeleteBucket"} {
		if _, ok := s3Actions[a]; !ok {
			t.Errorf("catalog lacks s3:%s", a)
		}
	}
}
