package policy

import (
	"errors"
	"testing"
)

// fuzzRequests are evaluated against every document the fuzzer gets
// through a parser.
var fuzzRequests = []Request{
	{Principal: alice, Action: "s3:GetObject", Resource: "arn:aws:s3:::photos/a/b.jpg",
		Context: ctx("aws:SourceIp", "192.0.2.7", "aws:username", "alice", "aws:CurrentTime", "2025-01-01T00:00:00Z",
			"aws:TagKeys", "env|team", "s3:max-keys", "10", "aws:SecureTransport", "true")},
	{Principal: "*", Action: "s3:ListBucket", Resource: "arn:aws:s3:::photos",
		Context: ctx("aws:SourceIp", "2001:db8::1", "s3:prefix", "${*}/é?*")},
	{Principal: "", Action: "", Resource: ""},
	{Principal: "arn:aws:sts::111122223333:assumed-role/r/s", Action: "S3:*", Resource: "*",
		Context: ctx("AWS:USERNAME", "a|b", "aws:SourceIp", "not-an-ip", "aws:CurrentTime", "garbage")},
}

func FuzzParse(f *testing.F) {
	seeds := []string{
		``, `{}`, `{"Statement":[]}`, `[`, `{"Statement":{}}`,
		doc(stAliceGetPhotos), doc(stPublicGet), doc(stAllowAll),
		backupIdentityPolicy, backupBucketPolicy,
		doc(`{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::home/${aws:username, 'g''x'}/${*}"}`),
		doc(`{"Effect":"Deny","NotPrincipal":{"AWS":["111122223333","arn:aws:iam::1:user/*"]},"NotAction":"s3:Get?","NotResource":"arn:aws:s3:::photos/*"}`),
		doc(st(`"Condition":{"ForAllValues:StringNotLikeIfExists":{"aws:TagKeys":["a*",1,true]},"IpAddress":{"aws:SourceIp":"::/0"},"DateLessThan":{"aws:CurrentTime":"1700000000"},"NumericGreaterThan":{"s3:max-keys":-1.5e2},"Null":{"aws:userid":false},"ArnLike":{"aws:SourceArn":"arn:*:*:*:*:*"}}`)),
		`{"Version":"2008-10-17","Id":"x","Statement":[{"Sid":"1","Effect":"Allow","Principal":{"CanonicalUser":"abc","Service":["s.amazonaws.com"],"Federated":"f"},"Action":["*"],"Resource":["*"]}]}`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		parsers := []func([]byte) (*Policy, error){
			Parse,
			ParseIdentity,
			func(b []byte) (*Policy, error) { return ParseBucket(b, "photos") },
			func(b []byte) (*Policy, error) { return ParseBucket(b, "") },
		}
		for _, parse := range parsers {
			p, err := parse(data)
			if err != nil {
				var pe *Error
				if !errors.As(err, &pe) || pe.Msg == "" {
					t.Fatalf("error %v (%T) is not a non-empty *Error", err, err)
				}
				if p != nil {
					t.Fatal("non-nil policy with an error")
				}
				continue
			}
			if p == nil {
				t.Fatal("nil policy without an error")
			}
			for _, r := range fuzzRequests {
				switch d := p.Evaluate(r); d {
				case NotApplicable, Allow, Deny:
				default:
					t.Fatalf("Evaluate returned %v", d)
				}
			}
			_ = p.IsPublic()
		}
	})
}
