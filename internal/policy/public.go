package policy

import (
	"strings"
)

// fixedKeys are the condition keys that, compared with a fixed value, keep
// an Allow to everyone from being public (lower-cased). aws:SourceIp,
// aws:userid and s3:DataAccessPointArn have rules of their own.
var fixedKeys = keySet(
	"aws:SourceArn", "aws:SourceVpc", "aws:SourceVpce", "aws:SourceOwner",
	"aws:SourceAccount", "aws:PrincipalOrgID", "aws:PrincipalAccount",
	"aws:PrincipalArn", "s3:x-amz-server-side-encryption-aws-kms-key-id",
	"s3:DataAccessPointAccount",
)

// IsPublic reports whether the policy grants public access in the sense S3
// gives the word for Block Public Access (BlockPublicPolicy,
// RestrictPublicBuckets) and GetBucketPolicyStatus.
//
// A policy is public if one of its Allow statements is granted to everyone
// and not narrowed down by a condition. A statement is granted to everyone
// when its Principal is "*" or holds "*" (in any of AWS, CanonicalUser,
// Service or Federated), holds a wildcard ARN or a Federated identity
// provider, or when it uses NotPrincipal. It is narrowed down when one of
// its conditions requires, with a positive operator (StringEquals,
// StringEqualsIgnoreCase, StringLike, ArnEquals, ArnLike, IpAddress; not
// IfExists, not ForAllValues), only fixed values (no '*', '?' or policy
// variable) of one of these keys:
//
//   - aws:SourceIp, as CIDR blocks, none of them 0.0.0.0/0 or ::/0;
//   - aws:SourceArn, aws:SourceVpc, aws:SourceVpce, aws:SourceOwner,
//     aws:SourceAccount;
//   - the principal keys aws:PrincipalOrgID, aws:PrincipalAccount and
//     aws:PrincipalArn;
//   - s3:x-amz-server-side-encryption-aws-kms-key-id;
//   - aws:userid, where "AROLEID:*" (a role's unique ID and any session)
//     also counts as fixed;
//   - s3:DataAccessPointArn, where the access point name may hold
//     wildcards as long as the account ID is fixed;
//   - s3:DataAccessPointAccount.
//
// Deny statements never make a policy public.
func (p *Policy) IsPublic() bool {
	if p == nil {
		return false
	}
	for i := range p.statements {
		st := &p.statements[i]
		if !st.deny && st.toEveryone() && !st.narrowed() {
			return true
		}
	}
	return false
}

// toEveryone reports whether the statement's principal element lets in
// callers nobody named.
func (st *statement) toEveryone() bool {
	if !st.hasPrincipal {
		return false
	}
	if st.notPrincipal {
		return true
	}
	for _, p := range st.principals {
		if p.any || p.pat != nil || p.kind == principalFederated {
			return true
		}
	}
	return false
}

// narrowed reports whether one of the statement's conditions ties it to
// fixed values of a key S3 accepts as making a grant non-public.
func (st *statement) narrowed() bool {
	for i := range st.conditions {
		if st.conditions[i].fixesCaller() {
			return true
		}
	}
	return false
}

func (c *condition) fixesCaller() bool {
	if c.op.negated || c.ifExists || c.qual == qualForAll {
		return false
	}
	if c.lkey == "aws:sourceip" {
		if c.op.fam != famIP {
			return false
		}
		for _, v := range c.values {
			if v.ip.Bits() == 0 {
				return false
			}
		}
		return true
	}
	switch c.op.fam {
	case famString, famStringIgnoreCase, famStringLike, famArn:
	default:
		return false
	}
	var fixed func(string) bool
	switch {
	case c.lkey == "aws:userid":
		fixed = fixedUserID
	case c.lkey == "s3:dataaccesspointarn":
		fixed = fixedAccessPointARN
	case fixedKeys[c.lkey]:
		fixed = isFixed
	default:
		return false
	}
	for _, v := range c.values {
		if !fixed(v.raw) {
			return false
		}
	}
	return true
}

// isFixed reports whether a policy value holds no wildcard and no policy
// variable.
func isFixed(v string) bool {
	return v != "" && !strings.ContainsAny(v, "*?") && !strings.Contains(v, "${")
}

// fixedUserID accepts a fixed aws:userid, or a role's unique ID followed by
// ":*" (every session of one role).
func fixedUserID(v string) bool {
	if isFixed(v) {
		return true
	}
	id, ok := strings.CutSuffix(v, ":*")
	return ok && isFixed(id) && !strings.Contains(id, ":")
}

// fixedAccessPointARN accepts an access point ARN whose account ID is
// fixed; the access point name may hold wildcards.
func fixedAccessPointARN(v string) bool {
	if strings.Contains(v, "${") {
		return false
	}
	parts := strings.SplitN(v, ":", 6)
	return len(parts) == 6 && parts[0] == "arn" && isFixed(parts[1]) && isFixed(parts[2]) &&
		isFixed(parts[4]) && strings.HasPrefix(parts[5], "accesspoint/")
}
