// Package sigv4 verifies AWS Signature Version 4 (AWS4-HMAC-SHA256) on
// incoming S3 requests, server side.
//
// A Verifier checks either form of SigV4 authentication:
//
//   - header authentication: "Authorization: AWS4-HMAC-SHA256
//     Credential=AKID/20130524/us-east-1/s3/aws4_request,
//     SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=..."
//     with the request time in X-Amz-Date (or Date) and the payload hash in
//     x-amz-content-sha256;
//   - query authentication (presigned URLs): X-Amz-Algorithm,
//     X-Amz-Credential, X-Amz-Date, X-Amz-Expires, X-Amz-SignedHeaders and
//     X-Amz-Signature query parameters.
//
// It rebuilds the canonical request the way S3 does (no path normalization,
// no double encoding), looks up the secret key, and compares signatures in
// constant time. On success it returns a Result whose Body must be read
// instead of r.Body: it enforces the payload part of the signature, which
// can only be checked while the body streams:
//
//   - a hex SHA-256 x-amz-content-sha256 is checked at EOF;
//   - UNSIGNED-PAYLOAD is passed through;
//   - STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER] and
//     STREAMING-UNSIGNED-PAYLOAD-TRAILER bodies are aws-chunked: Body
//     decodes them, verifies each chunk signature before releasing its bytes,
//     and collects the trailing headers (such as x-amz-checksum-crc32).
//
// Every failure is an *Error wrapping one of the sentinel errors (ErrX);
// their documentation gives the S3 error code each should be answered with.
// Nothing in this package panics on malformed input.
package sigv4

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Well-known values of the SigV4 protocol.
const (
	// Algorithm is the only signing algorithm accepted.
	Algorithm = "AWS4-HMAC-SHA256"

	// UnsignedPayload is the x-amz-content-sha256 value of a request
	// whose body is not covered by the signature (and the implied payload
	// hash of presigned URLs).
	UnsignedPayload = "UNSIGNED-PAYLOAD"
	// StreamingPayload announces an aws-chunked body with signed chunks.
	StreamingPayload = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
	// StreamingPayloadTrailer announces an aws-chunked body with signed
	// chunks followed by signed trailing headers.
	StreamingPayloadTrailer = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
	// StreamingUnsignedPayloadTrailer announces an aws-chunked body with
	// unsigned chunks followed by (unsigned) trailing headers, usually a
	// checksum. Current AWS SDKs send it for uploads over HTTPS.
	StreamingUnsignedPayloadTrailer = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"

	// EmptySHA256 is the hex SHA-256 of the empty string.
	EmptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

	// DefaultMaxSkew is the clock skew tolerated when Verifier.MaxSkew is 0.
	DefaultMaxSkew = 15 * time.Minute
	// MaxPresignExpires is the longest X-Amz-Expires accepted (7 days).
	MaxPresignExpires = 7 * 24 * time.Hour
	// MaxChunkSize bounds the size of one signed aws-chunked chunk, which
	// must be buffered whole to verify its signature before its bytes are
	// released. SDKs use 64 KiB to 8 MiB. Unsigned chunks are streamed and
	// not bounded.
	MaxChunkSize = 16 << 20
)

const (
	amzDateFormat   = "20060102T150405Z"
	scopeDateFormat = "20060102"
	terminator      = "aws4_request"
	defaultService  = "s3"

	paramAlgorithm     = "X-Amz-Algorithm"
	paramCredential    = "X-Amz-Credential"
	paramDate          = "X-Amz-Date"
	paramExpires       = "X-Amz-Expires"
	paramSignedHeaders = "X-Amz-SignedHeaders"
	paramSignature     = "X-Amz-Signature"
	paramContentSHA256 = "X-Amz-Content-Sha256"

	// maxSignedHeaders bounds the SignedHeaders list (S3 caps user
	// metadata at 2 KB, so real requests stay far below).
	maxSignedHeaders = 256
	// maxTrailers bounds the number of trailing headers of a chunked body.
	maxTrailers = 64
)

// Lookup returns the secret key of an access key id. It must return an
// error wrapping ErrInvalidAccessKeyID when the key is unknown (or
// disabled); any other error is returned by Verify unchanged (wrapped) and
// should be answered as InternalError.
type Lookup func(ctx context.Context, accessKeyID string) (secretKey string, err error)

// Verifier checks SigV4 signatures. Its fields must not change while
// Verify runs; a Verifier is safe for concurrent use. Derived signing keys
// are cached (bounded) across all Verifiers of the process.
type Verifier struct {
	// Region is the region requests must be signed for, e.g. "us-east-1".
	// Requests signed for another region fail with ErrRegionMismatch.
	// Empty accepts any region.
	Region string
	// Service is the credential-scope service; "s3" when empty.
	Service string
	// Lookup finds secret keys. Required.
	Lookup Lookup
	// Now is the server clock; time.Now when nil.
	Now func() time.Time
	// MaxSkew is the tolerated difference between the request date and
	// Now for header-signed requests, and how far in the future a
	// presigned URL may be dated; DefaultMaxSkew when zero.
	MaxSkew time.Duration
}

// Result describes a successfully authenticated request.
type Result struct {
	// AccessKeyID is the authenticated access key.
	AccessKeyID string
	// Presigned reports query-string (presigned URL) authentication.
	Presigned bool
	// Body is the request payload to read instead of r.Body. For
	// aws-chunked uploads it yields the decoded bytes, verifying every
	// chunk signature as it goes (no unverified byte is released); for a
	// hex x-amz-content-sha256 it verifies the SHA-256 at EOF and returns
	// ErrContentSHA256Mismatch instead of io.EOF when it differs (so the
	// consumer must discard what it read when Read fails). Reading past
	// a verification failure keeps returning the error. Closing Body
	// closes r.Body. Body is not safe for concurrent use.
	Body io.ReadCloser
	// DecodedLength is the payload length: x-amz-decoded-content-length
	// for aws-chunked bodies (-1 when the client did not send it), else
	// r.ContentLength (-1 when unknown).
	DecodedLength int64
	// Trailer returns the trailing headers of an aws-chunked body, keyed
	// by lower-case name such as "x-amz-checksum-crc32" (index the map
	// directly: http.Header.Get would canonicalize the name), once Body
	// has returned io.EOF; nil before, or when there were none. The
	// x-amz-trailer-signature is verified and not included. Never nil.
	Trailer func() http.Header
	// DeclaredTrailers lists the lower-case names announced in the
	// x-amz-trailer header. For aws-chunked bodies the trailers sent must
	// be exactly these.
	DeclaredTrailers []string
	// Streaming is the x-amz-content-sha256 sentinel (StreamingPayload,
	// StreamingPayloadTrailer or StreamingUnsignedPayloadTrailer) when the
	// body is aws-chunked, else "".
	Streaming string
}

// credential is a parsed "AKID/date/region/service/aws4_request".
type credential struct {
	accessKeyID, date, region, service string
}

// authParams are the signature parameters common to both forms.
type authParams struct {
	presigned        bool
	cred             credential
	signedHeadersRaw string
	signedHeaders    []string
	signature        [sha256.Size]byte

	// presigned only
	amzDate string
	expires time.Duration
}

type payloadMode uint8

const (
	payloadUnsigned payloadMode = iota
	payloadHex
	payloadStreamingSigned
	payloadStreamingSignedTrailer
	payloadStreamingUnsignedTrailer
)

func (v *Verifier) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

func (v *Verifier) maxSkew() time.Duration {
	if v.MaxSkew > 0 {
		return v.MaxSkew
	}
	return DefaultMaxSkew
}

func (v *Verifier) service() string {
	if v.Service != "" {
		return v.Service
	}
	return defaultService
}

// Verify authenticates r. It does not read r.Body: on success the caller
// must read the payload from Result.Body, whose errors complete the
// verification. On failure it returns an *Error wrapping a sentinel (see
// the Err variables for the S3 error each maps to), or the wrapped error
// of Lookup. Verify never modifies r.
//
// Checks happen in this order: authentication form and syntax
// (ErrMissingAuth, ErrUnsupportedAlgorithm, ErrMalformedAuth), credential
// scope and date (ErrMalformedAuth, ErrRegionMismatch), time
// (ErrRequestTimeTooSkewed, ErrNotYetValid, ErrExpired), payload hash
// (ErrMissingContentSHA256, ErrInvalidContentSHA256), unsigned x-amz-*
// headers (ErrHeadersNotSigned), key lookup (ErrInvalidAccessKeyID),
// signature (ErrSignatureMismatch).
func (v *Verifier) Verify(r *http.Request) (*Result, error) {
	if r == nil || r.URL == nil {
		return nil, errors.New("sigv4: Verify called with a nil request or URL")
	}
	if v == nil || v.Lookup == nil {
		return nil, errors.New("sigv4: Verifier or its Lookup is nil")
	}
	authz := r.Header.Values("Authorization")

	params, qerr := parseQuery(r.URL.RawQuery)
	if qerr != nil {
		raw := r.URL.RawQuery
		if len(authz) == 0 && !strings.Contains(raw, paramAlgorithm) &&
			!strings.Contains(raw, paramCredential) && !strings.Contains(raw, paramSignature) {
			return nil, newError(ErrMissingAuth, "")
		}
		e := newError(ErrMalformedAuth, "the query string is not validly escaped")
		e.Presigned = len(authz) == 0
		return nil, e
	}
	presigned := hasQuery(params, paramAlgorithm) || hasQuery(params, paramCredential) ||
		hasQuery(params, paramSignature)

	var (
		a   authParams
		err *Error
	)
	switch {
	case len(authz) > 0 && presigned:
		err = newError(ErrMalformedAuth, "only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or the Authorization header should be specified")
	case len(authz) > 1:
		err = newError(ErrMalformedAuth, "more than one Authorization header")
	case len(authz) == 1:
		a, err = parseAuthorization(authz[0])
	case presigned:
		a, err = parsePresigned(params)
	case hasQuery(params, "AWSAccessKeyId") && hasQuery(params, "Signature"):
		err = newError(ErrUnsupportedAlgorithm, "Signature Version 2 presigned URLs are not supported; please use AWS4-HMAC-SHA256")
	default:
		return nil, newError(ErrMissingAuth, "")
	}
	if err != nil {
		err.Presigned = presigned
		err.AccessKeyID = a.cred.accessKeyID
		return nil, err
	}
	res, verr := v.verify(r, params, &a)
	if verr != nil {
		var e *Error
		if errors.As(verr, &e) {
			e.Presigned = a.presigned
			if e.AccessKeyID == "" {
				e.AccessKeyID = a.cred.accessKeyID
			}
		}
		return nil, verr
	}
	return res, nil
}

func (v *Verifier) verify(r *http.Request, params []queryParam, a *authParams) (*Result, error) {
	cred := a.cred
	if svc := v.service(); cred.service != svc {
		return nil, newError(ErrMalformedAuth, fmt.Sprintf("credential should be scoped to a valid service: '%s'", svc))
	}

	// Request time.
	var (
		t          time.Time
		amzDate    string
		dateHeader bool // the time came from the X-Amz-Date header
		err        *Error
		now        = v.now()
		skew       = v.maxSkew()
	)
	if a.presigned {
		t, _ = time.Parse(amzDateFormat, a.amzDate) // validated by parsePresigned
		amzDate = a.amzDate
	} else {
		t, amzDate, dateHeader, err = requestTime(r.Header)
		if err != nil {
			return nil, err
		}
	}
	if cred.date != amzDate[:8] {
		return nil, newError(ErrMalformedAuth, fmt.Sprintf("invalid credential date '%s'; it is not the same as X-Amz-Date '%s'", cred.date, amzDate[:8]))
	}
	if v.Region != "" && cred.region != v.Region {
		e := newError(ErrRegionMismatch, fmt.Sprintf("the region '%s' is wrong; expecting '%s'", cred.region, v.Region))
		e.Region = v.Region
		return nil, e
	}
	if a.presigned {
		if t.Sub(now) > skew {
			return nil, newError(ErrNotYetValid, "")
		}
		if now.After(t.Add(a.expires)) {
			return nil, newError(ErrExpired, fmt.Sprintf("request expired at %s", t.Add(a.expires).UTC().Format(time.RFC3339)))
		}
	} else if d := now.Sub(t); d > skew || d < -skew {
		return nil, newError(ErrRequestTimeTooSkewed, fmt.Sprintf("request time %s, server time %s, maximum allowed skew %s",
			t.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339), skew))
	}

	// Payload hash.
	payloadHash, hashFromHeader, err := payloadHashOf(r, params, a.presigned)
	if err != nil {
		return nil, err
	}
	mode, err := classifyPayload(payloadHash)
	if err != nil {
		return nil, err
	}
	if a.presigned && mode > payloadHex {
		return nil, newError(ErrInvalidContentSHA256, "streaming payloads are not supported with presigned URLs")
	}

	// Signed headers.
	if !slices.Contains(a.signedHeaders, "host") {
		return nil, newError(ErrMalformedAuth, "the host header must be signed")
	}
	if e := checkUnsignedHeaders(r.Header, a.signedHeaders, hashFromHeader, dateHeader); e != nil {
		return nil, e
	}

	// Streaming parameters, validated before the key lookup.
	res := &Result{
		AccessKeyID:   cred.accessKeyID,
		Presigned:     a.presigned,
		DecodedLength: r.ContentLength,
		Trailer:       noTrailer,
	}
	declared, err := declaredTrailers(r.Header)
	if err != nil {
		return nil, err
	}
	res.DeclaredTrailers = declared
	if mode >= payloadStreamingSigned {
		res.Streaming = payloadHash
		if res.DecodedLength, err = decodedContentLength(r.Header); err != nil {
			return nil, err
		}
	}

	// Secret key.
	secret, lerr := v.Lookup(r.Context(), cred.accessKeyID)
	if lerr != nil {
		if errors.Is(lerr, ErrInvalidAccessKeyID) {
			return nil, newError(ErrInvalidAccessKeyID, "")
		}
		return nil, fmt.Errorf("sigv4: looking up access key %q: %w", cred.accessKeyID, lerr)
	}

	// Signature.
	scope := cred.date + "/" + cred.region + "/" + cred.service + "/" + terminator
	cr := make([]byte, 0, 512)
	cr = buildCanonicalRequest(cr, r, params, a, payloadHash)
	crSum := sha256.Sum256(cr)
	sts := make([]byte, 0, len(Algorithm)+len(amzDate)+len(scope)+3+2*sha256.Size)
	sts = append(sts, Algorithm...)
	sts = append(sts, '\n')
	sts = append(sts, amzDate...)
	sts = append(sts, '\n')
	sts = append(sts, scope...)
	sts = append(sts, '\n')
	sts = hex.AppendEncode(sts, crSum[:])
	key := signingKey(secret, cred.date, cred.region, cred.service)
	sig := hmacSHA256(key[:], sts)
	if !hmac.Equal(sig, a.signature[:]) {
		e := newError(ErrSignatureMismatch, "the request signature we calculated does not match the signature you provided; check your key and signing method")
		e.CanonicalRequest = string(cr)
		e.StringToSign = string(sts)
		return nil, e
	}

	// Body.
	body := r.Body
	if body == nil {
		body = http.NoBody
	}
	switch mode {
	case payloadUnsigned:
		res.Body = body
	case payloadHex:
		var want [sha256.Size]byte
		_, _ = hex.Decode(want[:], []byte(payloadHash)) // validated by classifyPayload
		res.Body = &hashReader{body: body, h: sha256.New(), want: want}
	default:
		cr := newChunkedReader(body, res.DecodedLength, declared)
		if mode != payloadStreamingUnsignedTrailer {
			cr.signer = &chunkSigner{key: key, amzDate: amzDate, scope: scope, prev: hex.EncodeToString(sig)}
		}
		cr.trailers = mode != payloadStreamingSigned
		res.Body = cr
		res.Trailer = cr.Trailer
	}
	return res, nil
}

func noTrailer() http.Header { return nil }

// buildCanonicalRequest appends the SigV4 canonical request.
func buildCanonicalRequest(dst []byte, r *http.Request, params []queryParam, a *authParams, payloadHash string) []byte {
	method := r.Method
	if method == "" {
		method = http.MethodGet
	}
	dst = append(dst, method...)
	dst = append(dst, '\n')
	dst = appendCanonicalURI(dst, r.URL.EscapedPath())
	dst = append(dst, '\n')
	dst = appendCanonicalQuery(dst, params, a.presigned)
	dst = append(dst, '\n')
	dst = appendCanonicalHeaders(dst, r, a.signedHeaders)
	dst = append(dst, '\n')
	dst = append(dst, a.signedHeadersRaw...)
	dst = append(dst, '\n')
	dst = append(dst, payloadHash...)
	return dst
}

// requestTime returns the request time of a header-signed request from
// X-Amz-Date (preferred) or Date, and its ISO 8601 basic form used in the
// string to sign.
func requestTime(h http.Header) (t time.Time, amzDate string, fromAmzDate bool, err *Error) {
	if vs := h.Values("X-Amz-Date"); len(vs) > 0 {
		if len(vs) > 1 {
			return t, "", false, newError(ErrMalformedAuth, "more than one X-Amz-Date header")
		}
		t, ok := parseAmzDate(vs[0])
		if !ok {
			return t, "", false, newError(ErrMalformedAuth, "X-Amz-Date must be in the ISO 8601 basic format yyyyMMdd'T'HHmmss'Z'")
		}
		return t, vs[0], true, nil
	}
	if vs := h.Values("Date"); len(vs) == 1 {
		if t, perr := http.ParseTime(vs[0]); perr == nil {
			t = t.UTC()
			return t, t.Format(amzDateFormat), false, nil
		}
	}
	return t, "", false, newError(ErrMalformedAuth, "AWS authentication requires a valid Date or x-amz-date header")
}

// parseAmzDate parses an ISO 8601 basic timestamp strictly.
func parseAmzDate(s string) (time.Time, bool) {
	if len(s) != len(amzDateFormat) {
		return time.Time{}, false
	}
	t, err := time.Parse(amzDateFormat, s)
	if err != nil || t.Format(amzDateFormat) != s {
		return time.Time{}, false
	}
	return t, true
}

// payloadHashOf returns the payload hash of the canonical request and
// whether it came from the x-amz-content-sha256 header.
func payloadHashOf(r *http.Request, params []queryParam, presigned bool) (string, bool, *Error) {
	if presigned {
		switch qs := queryValues(params, paramContentSHA256); len(qs) {
		case 0:
		case 1:
			return qs[0], false, nil
		default:
			return "", false, newError(ErrInvalidContentSHA256, "more than one X-Amz-Content-Sha256 parameter")
		}
	}
	switch hs := r.Header.Values("X-Amz-Content-Sha256"); len(hs) {
	case 0:
		if presigned {
			return UnsignedPayload, false, nil
		}
		return "", false, newError(ErrMissingContentSHA256, "")
	case 1:
		return hs[0], true, nil
	default:
		return "", false, newError(ErrInvalidContentSHA256, "more than one x-amz-content-sha256 header")
	}
}

func classifyPayload(h string) (payloadMode, *Error) {
	switch h {
	case UnsignedPayload:
		return payloadUnsigned, nil
	case StreamingPayload:
		return payloadStreamingSigned, nil
	case StreamingPayloadTrailer:
		return payloadStreamingSignedTrailer, nil
	case StreamingUnsignedPayloadTrailer:
		return payloadStreamingUnsignedTrailer, nil
	case "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD", "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER":
		return 0, newError(ErrUnsupportedAlgorithm, "SigV4a streaming payloads are not supported")
	}
	if isHex(h, 2*sha256.Size) {
		return payloadHex, nil
	}
	return 0, newError(ErrInvalidContentSHA256, "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, STREAMING-UNSIGNED-PAYLOAD-TRAILER, or a valid sha256 value")
}

func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if _, ok := unhex(s[i]); !ok {
			return false
		}
	}
	return true
}

// checkUnsignedHeaders enforces, like S3, that every x-amz-* header of the
// request is signed. x-amz-content-sha256 and x-amz-date are exempt when
// they are the payload hash and request time: the string to sign covers
// them anyway.
func checkUnsignedHeaders(h http.Header, signed []string, exemptHash, exemptDate bool) *Error {
	var unsigned []string
	for name := range h {
		if len(name) < 6 || !strings.EqualFold(name[:6], "x-amz-") {
			continue
		}
		lname := strings.ToLower(name)
		if slices.Contains(signed, lname) ||
			(exemptHash && lname == "x-amz-content-sha256") ||
			(exemptDate && lname == "x-amz-date") {
			continue
		}
		unsigned = append(unsigned, lname)
	}
	if len(unsigned) == 0 {
		return nil
	}
	slices.Sort(unsigned)
	return newError(ErrHeadersNotSigned, "unsigned headers: "+strings.Join(unsigned, ", "))
}

// declaredTrailers parses the x-amz-trailer header.
func declaredTrailers(h http.Header) ([]string, *Error) {
	var names []string
	for _, v := range h.Values("X-Amz-Trailer") {
		for v != "" {
			var name string
			name, v, _ = strings.Cut(v, ",")
			name = strings.ToLower(strings.TrimSpace(name))
			if name == "" || slices.Contains(names, name) {
				continue
			}
			if len(names) == maxTrailers {
				return nil, newError(ErrMalformedTrailer, "too many trailers declared in x-amz-trailer")
			}
			names = append(names, name)
		}
	}
	return names, nil
}

// decodedContentLength parses x-amz-decoded-content-length; -1 if absent.
func decodedContentLength(h http.Header) (int64, *Error) {
	vs := h.Values("X-Amz-Decoded-Content-Length")
	switch len(vs) {
	case 0:
		return -1, nil
	case 1:
		if n, ok := parseDecimal(vs[0]); ok {
			return n, nil
		}
	}
	return 0, newError(ErrMalformedChunk, "invalid x-amz-decoded-content-length")
}

// parseDecimal parses a non-negative decimal integer without sign or
// spaces, as strconv.ParseInt would accept "+1".
func parseDecimal(s string) (int64, bool) {
	if s == "" || len(s) > 18 {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// TrimAWSChunked removes the "aws-chunked" coding from a Content-Encoding
// value: it describes the upload framing, not the object, and S3 does not
// store it. The remaining codings keep their order, joined by ",".
func TrimAWSChunked(contentEncoding string) string {
	if !strings.Contains(strings.ToLower(contentEncoding), "aws-chunked") {
		return contentEncoding
	}
	var kept []string
	for _, c := range strings.Split(contentEncoding, ",") {
		c = strings.TrimSpace(c)
		if c != "" && !strings.EqualFold(c, "aws-chunked") {
			kept = append(kept, c)
		}
	}
	return strings.Join(kept, ",")
}
