package policy

import "testing"

func TestIsPublic(t *testing.T) {
	const res = `"Action":"s3:GetObject","Resource":"arn:aws:s3:::photos/*"`
	star := func(cond string) string {
		s := `{"Effect":"Allow","Principal":"*",` + res
		if cond != "" {
			s += `,"Condition":` + cond
		}
		return s + "}"
	}
	tests := []struct {
		name string
		doc  string
		want bool
	}{
		{"principal star", doc(star("")), true},
		{"AWS star", doc(`{"Effect":"Allow","Principal":{"AWS":"*"},` + res + `}`), true},
		{"star among named principals", doc(`{"Effect":"Allow","Principal":{"AWS":["` + alice + `","*"]},` + res + `}`), true},
		{"canonical user star", doc(`{"Effect":"Allow","Principal":{"CanonicalUser":"*"},` + res + `}`), true},
		{"wildcard principal ARN", doc(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/*"},` + res + `}`), true},
		{"federated principal", doc(`{"Effect":"Allow","Principal":{"Federated":"graph.facebook.com"},` + res + `}`), true},
		{"NotPrincipal allow", doc(`{"Effect":"Allow","NotPrincipal":{"AWS":"` + alice + `"},` + res + `}`), true},
		{"named principal", doc(`{"Effect":"Allow","Principal":{"AWS":"` + alice + `"},` + res + `}`), false},
		{"other account", doc(`{"Effect":"Allow","Principal":{"AWS":"444455556666"},` + res + `}`), false},
		{"service principal", doc(`{"Effect":"Allow","Principal":{"Service":"logging.s3.amazonaws.com"},` + res + `}`), false},
		{"deny to everyone", doc(`{"Effect":"Deny","Principal":"*",` + res + `}`), false},
		{"one public statement among private ones", doc(`{"Effect":"Allow","Principal":{"AWS":"`+alice+`"},`+res+`}`, star("")), true},

		{"source IP block", doc(star(`{"IpAddress":{"aws:SourceIp":"192.0.2.0/24"}}`)), false},
		{"source IP blocks and an address", doc(star(`{"IpAddress":{"aws:SourceIp":["192.0.2.0/24","2001:db8::/32","203.0.113.9"]}}`)), false},
		{"source IP everywhere", doc(star(`{"IpAddress":{"aws:SourceIp":["192.0.2.0/24","0.0.0.0/0"]}}`)), true},
		{"source IPv6 everywhere", doc(star(`{"IpAddress":{"aws:SourceIp":"::/0"}}`)), true},
		{"NotIpAddress does not restrict", doc(star(`{"NotIpAddress":{"aws:SourceIp":"192.0.2.0/24"}}`)), true},
		{"IpAddressIfExists does not restrict", doc(star(`{"IpAddressIfExists":{"aws:SourceIp":"192.0.2.0/24"}}`)), true},
		{"fixed source VPC", doc(star(`{"StringEquals":{"aws:SourceVpc":"vpc-91237329"}}`)), false},
		{"wildcard source VPC", doc(star(`{"StringLike":{"aws:SourceVpc":"vpc-*"}}`)), true},
		{"fixed VPC endpoint", doc(star(`{"StringEquals":{"aws:SourceVpce":["vpce-1a2b3c4d","vpce-5e6f7a8b"]}}`)), false},
		{"one wildcard value among fixed", doc(star(`{"StringEquals":{"aws:SourceVpce":["vpce-1a2b3c4d","vpce-*"]}}`)), true},
		{"fixed organization", doc(star(`{"StringEquals":{"aws:PrincipalOrgID":"o-a1b2c3d4e5"}}`)), false},
		{"fixed principal account", doc(star(`{"StringEquals":{"aws:PrincipalAccount":"111122223333"}}`)), false},
		{"fixed principal ARN", doc(star(`{"ArnEquals":{"aws:PrincipalArn":"` + alice + `"}}`)), false},
		{"fixed source account", doc(star(`{"StringEquals":{"aws:SourceAccount":"111122223333"}}`)), false},
		{"fixed source owner", doc(star(`{"StringEquals":{"aws:SourceOwner":"111122223333"}}`)), false},
		{"fixed source ARN", doc(star(`{"ArnLike":{"aws:SourceArn":"arn:aws:cloudtrail:us-east-1:111122223333:trail/main"}}`)), false},
		{"wildcard source ARN", doc(star(`{"ArnLike":{"aws:SourceArn":"arn:aws:cloudtrail:*:111122223333:trail/*"}}`)), true},
		{"variable source ARN", doc(star(`{"ArnEquals":{"aws:SourceArn":"arn:aws:sns:us-east-1:111122223333:${aws:username}"}}`)), true},
		{"case of the key does not matter", doc(star(`{"StringEquals":{"AWS:SOURCEVPC":"vpc-91237329"}}`)), false},
		{"fixed KMS key", doc(star(`{"StringEquals":{"s3:x-amz-server-side-encryption-aws-kms-key-id":"arn:aws:kms:us-east-1:111122223333:key/1234"}}`)), false},
		{"fixed user ID", doc(star(`{"StringEquals":{"aws:userid":"AIDAEXAMPLEID"}}`)), false},
		{"user ID of one role's sessions", doc(star(`{"StringLike":{"aws:userid":"AROAEXAMPLEID:*"}}`)), false},
		{"wildcard user ID", doc(star(`{"StringLike":{"aws:userid":"AROA*"}}`)), true},
		{"access point ARN with fixed account", doc(star(`{"StringLike":{"s3:DataAccessPointArn":"arn:aws:s3:us-west-2:123456789012:accesspoint/*"}}`)), false},
		{"access point ARN with any account", doc(star(`{"StringLike":{"s3:DataAccessPointArn":"arn:aws:s3:us-west-2:*:accesspoint/*"}}`)), true},
		{"fixed access point account", doc(star(`{"StringEquals":{"s3:DataAccessPointAccount":"123456789012"}}`)), false},
		{"negated operator does not restrict", doc(star(`{"StringNotEquals":{"aws:SourceVpc":"vpc-91237329"}}`)), true},
		{"IfExists does not restrict", doc(star(`{"StringEqualsIfExists":{"aws:SourceVpc":"vpc-91237329"}}`)), true},
		{"ForAllValues does not restrict", doc(star(`{"ForAllValues:StringEquals":{"aws:SourceVpc":"vpc-91237329"}}`)), true},
		{"ForAnyValue restricts", doc(star(`{"ForAnyValue:StringEquals":{"aws:SourceVpc":"vpc-91237329"}}`)), false},
		{"other keys do not restrict", doc(star(`{"Bool":{"aws:SecureTransport":"true"},"StringEquals":{"s3:x-amz-server-side-encryption":"AES256"}}`)), true},
		{"one restricting key among others", doc(star(`{"Bool":{"aws:SecureTransport":"true"},"StringEquals":{"aws:SourceVpc":"vpc-91237329"}}`)), false},
		{"numeric operator on a listed key", doc(star(`{"NumericEquals":{"aws:SourceAccount":"111122223333"}}`)), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := parseKind(t, kindBucket, "photos", tt.doc)
			if got := p.IsPublic(); got != tt.want {
				t.Errorf("IsPublic() = %v, want %v\n%s", got, tt.want, tt.doc)
			}
		})
	}
}

func TestIdentityPolicyIsNotPublic(t *testing.T) {
	p := parseKind(t, kindIdentity, "", doc(`{"Effect":"Allow","Action":"s3:*","Resource":"*"}`))
	if p.IsPublic() {
		t.Error("identity policy reported public")
	}
}
