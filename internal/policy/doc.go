// Package policy parses and evaluates AWS access policies: S3 bucket
// policies and the identity policies attached to firn's users.
//
// It imports nothing of firn's and does no I/O. The protocol layer parses a
// document once (ParseBucket when a bucket policy is put, ParseIdentity for
// a user's policies), keeps the *Policy, and for every request builds a
// Request and asks each applicable policy for a Decision; Decide combines
// them. The same *Policy may be evaluated from many goroutines at once.
//
// # Documents
//
// A document is a JSON object with Version ("2012-10-17" or "2008-10-17";
// absent means 2008), an optional Id, and Statement: one statement object
// or a non-empty array of them. A statement has an optional Sid, Effect
// ("Allow" or "Deny"), exactly one of Principal and NotPrincipal (required
// in bucket policies, forbidden in identity policies), exactly one of
// Action and NotAction, exactly one of Resource and NotResource, and an
// optional Condition. Element names are case-sensitive, a member may not
// appear twice in one object, and an unknown member is an error.
//
// Principal is "*" or an object whose keys are AWS, CanonicalUser, Service
// or Federated, each with a string or an array of strings. An AWS value is
// "*", a 12-digit account ID, or an ARN; an account ID and
// "arn:aws:iam::ACCOUNT:root" stand for every principal of that account; a
// role ARN also covers that role's sessions
// ("arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION").
//
// Action entries are "*" or "service:name"; names match without regard to
// case and may hold the wildcards '*' (any run of characters) and '?' (one
// character). Resource entries are "*" or ARNs and match case-sensitively
// with the same wildcards, which may span '/'.
//
// # Evaluation
//
// A statement matches a request when its action, resource and principal
// elements match (the Not... forms match what the plain form does not) and
// all of its conditions hold. A policy's Decision is Deny if any matching
// statement denies, Allow if any matching statement allows, and
// NotApplicable otherwise. Decide implements AWS's rule across policies:
// an explicit deny wins, then an allow, and the default is to deny.
//
// Conditions map operators to keys to values. Every operator block and
// every key in it must hold (AND); the values listed for one key are
// alternatives (OR). Key names match without regard to case; values are
// compared as the operator says: String* (IgnoreCase variants fold case,
// Like variants take wildcards), Numeric*, Date* (ISO 8601 or seconds
// since the epoch), Bool, BinaryEquals, IpAddress and NotIpAddress (CIDR
// blocks or single addresses, IPv4 and IPv6), Arn* (each of an ARN's six
// components matched on its own, with wildcards) and Null (whether the key
// is absent). Any operator but Null takes the IfExists suffix, which makes
// it true when the key is absent, and the ForAnyValue: or ForAllValues:
// prefix for keys with several values.
//
// A key that is absent makes a condition false, except for negated
// operators (StringNotEquals, StringNotLike, NumericNotEquals,
// DateNotEquals, NotIpAddress, ArnNotEquals, ArnNotLike), which are true,
// IfExists, which is true, ForAllValues, which is true, and Null. A key
// that is present with several values but no set qualifier matches when
// any one of them does (for a negated operator: when none does).
//
// # Policy variables
//
// In version 2012-10-17 documents, Resource entries and the values of
// String and Arn conditions may hold variables: "${aws:username}" is
// replaced by the single value of that key in the request, and
// "${key, 'default'}" falls back to the quoted default (in which a
// doubled single quote stands for one). A variable whose key is absent, or
// has several values, and has no default matches nothing: a Resource
// holding it matches no resource, a condition value holding it equals
// nothing (so a negated operator holds). The substituted text is literal:
// a '*' in a user name is no wildcard. "${*}", "${?}" and "${$}" stand for
// a literal '*', '?' and '$'. In 2008-10-17 documents all of this is
// plain text.
//
// # Errors
//
// Every parse error is an *Error whose Msg is the message S3 gives for a
// MalformedPolicy, where known: "Policies must be valid JSON and the first
// byte must be '{'", "This policy contains invalid Json", "Invalid policy
// syntax." (a member of the wrong type, a duplicated or conflicting
// element), "The policy must contain a valid version string", "Missing
// required field Statement", "Could not parse the policy: Statement is
// empty!", "Unknown field NAME", "Invalid effect: VALUE", "Missing
// required field Principal", "Statement is missing required element"
// (Effect, Action or Resource), "Invalid principal in policy", "Policy has
// invalid action", "Policy has invalid resource", "Action does not apply to
// any resource(s) in statement", "Invalid Condition type : NAME", "Policy
// has an invalid condition key" and "Invalid IP address in Conditions".
// ParseIdentity refuses a principal with IAM's "Policy document should not
// specify a principal.".
//
// # Public policies
//
// IsPublic implements S3's definition of a public bucket policy, used by
// Block Public Access and GetBucketPolicyStatus: an Allow to everyone
// ("*", NotPrincipal, wildcard or federated principals) that no condition
// ties to fixed values of a caller-identifying key such as aws:SourceIp,
// aws:SourceVpc or aws:PrincipalOrgID. The exact rules are on IsPublic.
//
// # Caveats
//
//   - Only policies are judged here: bucket ownership, ACLs, Block Public
//     Access and the "same account" rules of resource policies are the
//     caller's business. An account principal matches every principal of
//     that account on its own, without asking that account's identity
//     policies.
//   - Principals are matched as strings. AWS refuses wildcards in principal
//     ARNs other than "*"; this package accepts and matches them, and
//     counts them as public.
//   - ParseBucket knows S3's actions and condition keys from a catalog
//     (catalog.go) that has to follow AWS when it adds new ones. It does not
//     check which condition keys apply to which actions, nor the 20 KB size
//     limit of bucket policies.
//   - Identity and generic policies are checked for form only: an action
//     of a service that does not exist, or a condition key nobody sets, is
//     accepted and simply never matches.
package policy
