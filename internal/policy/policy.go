package policy

// Policy language versions. A document that names no version is read with
// Version2008 semantics.
const (
	// VersionCurrent is the current policy language: policy variables in
	// Resource and condition values are expanded.
	VersionCurrent = "2012-10-17"
	// Version2008 is the original policy language: "${...}" is plain text.
	Version2008 = "2008-10-17"
)

// Policy is a parsed, validated policy document. Build one with Parse,
// ParseBucket or ParseIdentity; it is immutable afterwards and safe for
// concurrent use. The zero Policy (and a nil *Policy) has no statements:
// it evaluates to NotApplicable for every request and is not public.
type Policy struct {
	// Version is the language version the document was read with:
	// VersionCurrent, or Version2008 (also when the document named none).
	Version string
	// ID is the document's optional Id element.
	ID string

	statements []statement
}

// Decision is what one policy says about one request.
type Decision int

const (
	// NotApplicable means no statement of the policy matched the request:
	// the policy neither allows nor denies it (an implicit deny).
	NotApplicable Decision = iota
	// Allow means at least one Allow statement matched and no Deny did.
	Allow
	// Deny means at least one Deny statement matched (an explicit deny).
	Deny
)

// String returns "NotApplicable", "Allow" or "Deny".
func (d Decision) String() string {
	switch d {
	case NotApplicable:
		return "NotApplicable"
	case Allow:
		return "Allow"
	case Deny:
		return "Deny"
	}
	return "Decision(?)"
}

// Request is one authorization question: may Principal perform Action on
// Resource, given what is known about the request (Context)?
type Request struct {
	// Principal is the caller's ARN, e.g.
	// "arn:aws:iam::000000000000:user/alice", a service principal name
	// ("cloudtrail.amazonaws.com"), a canonical user ID, or "*" (or "")
	// for an anonymous request.
	Principal string
	// Action is the IAM action, e.g. "s3:GetObject". Matched without
	// regard to case.
	Action string
	// Resource is the ARN acted upon, e.g. "arn:aws:s3:::bucket" or
	// "arn:aws:s3:::bucket/key". Matched case-sensitively.
	Resource string
	// Context holds the condition keys of the request and their values,
	// e.g. "aws:SourceIp": {"192.0.2.7"}, "aws:SecureTransport": {"true"},
	// "aws:CurrentTime": {"2025-01-02T03:04:05Z"}, "aws:username":
	// {"alice"}, "s3:prefix": {"home/alice/"}. Key names are matched
	// without regard to case; a key that is absent or has no values is
	// "not present". Evaluate fills in nothing by itself: the caller
	// supplies every key it wants conditions to see, the current time
	// included.
	Context map[string][]string
}

// Evaluate applies the policy to r: Deny if any matching statement is a
// Deny, else Allow if any matching statement is an Allow, else
// NotApplicable. A statement matches when its principal, action and
// resource elements all match r and every one of its conditions holds.
// Statements without a Principal element (identity policies) match every
// principal.
func (p *Policy) Evaluate(r Request) Decision {
	if p == nil || len(p.statements) == 0 {
		return NotApplicable
	}
	req := newEvalRequest(r)
	allowed := false
	for i := range p.statements {
		st := &p.statements[i]
		if !st.matches(req) {
			continue
		}
		if st.deny {
			return Deny
		}
		allowed = true
	}
	if allowed {
		return Allow
	}
	return NotApplicable
}

// Decide combines the decisions of every policy that applies to one
// request (identity policies, the bucket policy, ...) the way AWS does:
// an explicit Deny anywhere denies; otherwise an Allow anywhere allows;
// otherwise the request is denied by default. It reports whether the
// request is allowed; with no decisions at all it returns false.
func Decide(decisions ...Decision) bool {
	allowed := false
	for _, d := range decisions {
		switch d {
		case Deny:
			return false
		case Allow:
			allowed = true
		}
	}
	return allowed
}

// Error is a policy document that cannot be accepted. Msg is the text S3
// puts in a MalformedPolicy error, e.g. "Policy has invalid action"; the
// protocol layer sends it as the error message unchanged.
type Error struct {
	Msg string
}

// Error returns e.Msg.
func (e *Error) Error() string { return e.Msg }

// Parse reads a policy document without tying it to a kind of policy: a
// statement may name a Principal (or NotPrincipal) or not, actions of any
// service are accepted, and a Resource may be "*" or any ARN. Use
// ParseBucket for bucket policies and ParseIdentity for policies attached
// to users. Errors are always of type *Error.
func Parse(doc []byte) (*Policy, error) {
	return parse(doc, parseOptions{kind: kindGeneric})
}

// ParseBucket reads a bucket policy the way PutBucketPolicy does: every
// statement needs a Principal or NotPrincipal; every action must be an S3
// action ("s3:..." or "*") known to S3; every Resource must be an S3 ARN
// that can name bucket or an object in it ("*" is refused); condition keys
// must be global ("aws:...") or S3 ("s3:...") keys that exist; and each
// action must apply to at least one of the statement's resources (a bucket
// action to the bucket ARN, an object action to an object ARN). If bucket
// is "", resources must be S3 bucket or object ARNs of any bucket. Errors
// are always of type *Error.
func ParseBucket(doc []byte, bucket string) (*Policy, error) {
	return parse(doc, parseOptions{kind: kindBucket, bucket: bucket})
}

// ParseIdentity reads an identity policy, one attached to a user, group or
// role: no statement may name a Principal or NotPrincipal, since the
// principal is whoever the policy is attached to. Actions and resources are
// checked for form only, as in Parse. Errors are always of type *Error.
func ParseIdentity(doc []byte) (*Policy, error) {
	return parse(doc, parseOptions{kind: kindIdentity})
}
