package sigv4

import (
	"errors"
	"strings"
)

// Sentinel errors. Every error returned by Verify, and every verification
// error returned by Result.Body, is an *Error whose Kind is one of these, so
// errors.Is(err, ErrX) works; errors.As gives the detail message. Errors that
// are not an *Error (a failing Lookup, a broken connection) are passed
// through unchanged and should be answered as InternalError (500) or by
// dropping the connection.
//
// The suggested S3 mapping is given for each sentinel.
var (
	// ErrMissingAuth: the request carries neither an Authorization header
	// nor presigned query parameters. It is an anonymous request: the
	// protocol layer may serve it if the resource is public, else answer
	// 403 AccessDenied.
	ErrMissingAuth = errors.New("sigv4: request is not signed")

	// ErrMalformedAuth: the Authorization header, the X-Amz-* query
	// parameters, the credential scope (service, terminator, date) or the
	// request date cannot be understood, or both header and query
	// authentication are present. S3: 400 AuthorizationHeaderMalformed for
	// header auth, 400 AuthorizationQueryParametersError for presigned
	// requests (Error.Presigned tells them apart).
	ErrMalformedAuth = errors.New("sigv4: malformed authorization")

	// ErrUnsupportedAlgorithm: the request is signed with something other
	// than AWS4-HMAC-SHA256: Signature Version 2 ("AWS AKID:sig" or
	// AWSAccessKeyId/Signature query parameters), SigV4a
	// (AWS4-ECDSA-P256-SHA256) or an unknown scheme. S3: 400
	// InvalidRequest ("Please use AWS4-HMAC-SHA256.") for header auth,
	// 400 AuthorizationQueryParametersError for presigned URLs.
	ErrUnsupportedAlgorithm = errors.New("sigv4: unsupported signing algorithm")

	// ErrInvalidAccessKeyID: Lookup does not know the access key.
	// S3: 403 InvalidAccessKeyId.
	ErrInvalidAccessKeyID = errors.New("sigv4: the AWS access key id does not exist")

	// ErrSignatureMismatch: the request signature is wrong (wrong secret,
	// tampered request). Error.CanonicalRequest and Error.StringToSign hold
	// what the server computed, as S3 returns them. S3: 403
	// SignatureDoesNotMatch.
	ErrSignatureMismatch = errors.New("sigv4: the request signature does not match")

	// ErrRequestTimeTooSkewed: a header-signed request is dated more than
	// MaxSkew away from the server clock. S3: 403 RequestTimeTooSkewed.
	ErrRequestTimeTooSkewed = errors.New("sigv4: the difference between the request time and the server's time is too large")

	// ErrNotYetValid: a presigned URL is dated more than MaxSkew in the
	// future. It wraps ErrRequestTimeTooSkewed (so a mapping that does not
	// know it still answers 403), but S3 answers 403 AccessDenied "Request
	// is not valid yet". Test for it before ErrRequestTimeTooSkewed.
	ErrNotYetValid error = &kindError{msg: "sigv4: request is not valid yet", parent: ErrRequestTimeTooSkewed}

	// ErrExpired: a presigned URL is used after X-Amz-Date + X-Amz-Expires.
	// S3: 403 AccessDenied "Request has expired".
	ErrExpired = errors.New("sigv4: request has expired")

	// ErrContentSHA256Mismatch: the body does not hash to the hex
	// x-amz-content-sha256 value. Returned by Result.Body at EOF.
	// S3: 400 XAmzContentSHA256Mismatch.
	ErrContentSHA256Mismatch = errors.New("sigv4: the provided x-amz-content-sha256 does not match what was computed")

	// ErrInvalidContentSHA256: x-amz-content-sha256 is neither 64 hex
	// digits nor a known sentinel (or is a streaming sentinel on a
	// presigned request). S3: 400 InvalidArgument "x-amz-content-sha256
	// must be UNSIGNED-PAYLOAD, STREAMING-..., or a valid sha256 value."
	ErrInvalidContentSHA256 = errors.New("sigv4: invalid x-amz-content-sha256")

	// ErrMissingContentSHA256: a header-signed request has no
	// x-amz-content-sha256 header. S3: 400 InvalidRequest "Missing
	// required header for this request: x-amz-content-sha256".
	ErrMissingContentSHA256 = errors.New("sigv4: missing required header for this request: x-amz-content-sha256")

	// ErrIncompleteBody: an aws-chunked body ended before its final chunk,
	// inside a chunk, or decoded to fewer bytes than
	// x-amz-decoded-content-length. S3: 400 IncompleteBody.
	ErrIncompleteBody = errors.New("sigv4: the request body is incomplete")

	// ErrMalformedChunk: aws-chunked framing is broken (bad chunk-size
	// line, missing or malformed chunk-signature, missing CRLF, data after
	// the final chunk, more data than x-amz-decoded-content-length, a
	// chunk larger than MaxChunkSize, a bad x-amz-decoded-content-length).
	// S3 has no dedicated code; answer 400 InvalidRequest (for a chunk
	// over-running the decoded length S3 answers IncompleteBody, which
	// is also acceptable).
	ErrMalformedChunk = errors.New("sigv4: malformed aws-chunked encoding")

	// ErrMalformedTrailer: the trailer section of an aws-chunked body is
	// broken (no colon, undeclared or duplicate trailer, declared trailer
	// missing, missing x-amz-trailer-signature). It wraps ErrMalformedChunk;
	// S3 answers 400 MalformedTrailerError.
	ErrMalformedTrailer error = &kindError{msg: "sigv4: malformed aws-chunked trailer", parent: ErrMalformedChunk}

	// ErrChunkSignatureMismatch: a chunk-signature or the
	// x-amz-trailer-signature of a signed aws-chunked body is wrong.
	// S3: 403 SignatureDoesNotMatch.
	ErrChunkSignatureMismatch = errors.New("sigv4: chunk signature does not match")

	// ErrRegionMismatch: the credential scope names another region than
	// Verifier.Region. S3: 400 AuthorizationHeaderMalformed (header) or
	// AuthorizationQueryParametersError (presigned), message "the region
	// 'x' is wrong; expecting 'y'" (Error.Detail), with <Region>y</Region>.
	ErrRegionMismatch = errors.New("sigv4: wrong region")

	// ErrHeadersNotSigned: the request carries x-amz-* headers that are not
	// part of the signature (S3 requires every x-amz-* header to be signed).
	// It wraps ErrSignatureMismatch as a fallback, but S3 answers 403
	// AccessDenied "There were headers present in the request which were
	// not signed". Test for it before ErrSignatureMismatch.
	ErrHeadersNotSigned error = &kindError{msg: "sigv4: there were headers present in the request which were not signed", parent: ErrSignatureMismatch}
)

// kindError is a sentinel that refines another sentinel.
type kindError struct {
	msg    string
	parent error
}

func (e *kindError) Error() string { return e.msg }
func (e *kindError) Unwrap() error { return e.parent }

// Error is the concrete type of the verification errors returned by Verify
// and by Result.Body. Its fields never contain secret material and may be
// shown to the client.
type Error struct {
	// Kind is one of the sentinel errors of this package.
	Kind error
	// Detail is a human-readable explanation, suitable for the <Message>
	// element of an S3 error response; empty when Kind says it all.
	Detail string
	// Presigned reports whether the request used query (presigned URL)
	// authentication, which changes some S3 error codes.
	Presigned bool
	// Region is the server region for ErrRegionMismatch (S3 returns it in
	// the <Region> element), else empty.
	Region string
	// AccessKeyID is the access key the request claimed, when known.
	AccessKeyID string
	// CanonicalRequest and StringToSign are what the server computed, set
	// for ErrSignatureMismatch only (S3 returns them to help debug
	// clients).
	CanonicalRequest string
	StringToSign     string
}

// Error returns the sentinel's message followed by the detail.
func (e *Error) Error() string {
	msg := "sigv4: verification failed"
	if e.Kind != nil {
		msg = e.Kind.Error()
	}
	if e.Detail == "" {
		return msg
	}
	var b strings.Builder
	b.Grow(len(msg) + 2 + len(e.Detail))
	b.WriteString(msg)
	b.WriteString(": ")
	b.WriteString(e.Detail)
	return b.String()
}

// Unwrap returns Kind, so errors.Is matches the sentinel.
func (e *Error) Unwrap() error { return e.Kind }

func newError(kind error, detail string) *Error {
	return &Error{Kind: kind, Detail: detail}
}
