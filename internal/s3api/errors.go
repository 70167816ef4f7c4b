package s3api

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/firnhq/firn/internal/checksum"
	"github.com/firnhq/firn/internal/lifecycle"
	"github.com/firnhq/firn/internal/lifecycle/tiering"
	"github.com/firnhq/firn/internal/meta"
	"github.com/firnhq/firn/internal/object"
	"github.com/firnhq/firn/internal/retrieval"
	"github.com/firnhq/firn/internal/s3api/sigv4"
)

// APIError is an S3 error as it goes on the wire.
type APIError struct {
	Code    string
	Message string
	Status  int
	// Extra elements some errors carry (e.g. BucketName, Key,
	// StorageClass), written after Message in this order.
	Extra [][2]string
}

func (e *APIError) Error() string { return e.Code + ": " + e.Message }

// with returns a copy of e with another message.
func (e *APIError) with(msg string) *APIError {
	c := *e
	c.Message = msg
	return &c
}

// The S3 errors firn answers with: code, HTTP status and AWS's message, in
// one table.
var (
	errAccessDenied              = &APIError{"AccessDenied", "Access Denied", 403, nil}
	errAuthorizationMalformed    = &APIError{"AuthorizationHeaderMalformed", "The authorization header is malformed.", 400, nil}
	errAuthQueryParams           = &APIError{"AuthorizationQueryParametersError", "Error parsing the X-Amz-Credential parameter.", 400, nil}
	errBadDigest                 = &APIError{"BadDigest", "The Content-MD5 you specified did not match what we received.", 400, nil}
	errBucketAlreadyExists       = &APIError{"BucketAlreadyExists", "The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.", 409, nil}
	errBucketAlreadyOwnedByYou   = &APIError{"BucketAlreadyOwnedByYou", "Your previous request to create the named bucket succeeded and you already own it.", 409, nil}
	errBucketNotEmpty            = &APIError{"BucketNotEmpty", "The bucket you tried to delete is not empty", 409, nil}
	errEntityTooLarge            = &APIError{"EntityTooLarge", "Your proposed upload exceeds the maximum allowed object size.", 400, nil}
	errEntityTooSmall            = &APIError{"EntityTooSmall", "Your proposed upload is smaller than the minimum allowed object size.", 400, nil}
	errIllegalLocation           = &APIError{"IllegalLocationConstraintException", "The unspecified location constraint is incompatible for the region specific endpoint this request was sent to.", 400, nil}
	errIncompleteBody            = &APIError{"IncompleteBody", "You did not provide the number of bytes specified by the Content-Length HTTP header.", 400, nil}
	errInternal                  = &APIError{"InternalError", "We encountered an internal error. Please try again.", 500, nil}
	errInvalidAccessKeyID        = &APIError{"InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.", 403, nil}
	errInvalidArgument           = &APIError{"InvalidArgument", "Invalid Argument", 400, nil}
	errInvalidBucketName         = &APIError{"InvalidBucketName", "The specified bucket is not valid.", 400, nil}
	errInvalidDigest             = &APIError{"InvalidDigest", "The Content-MD5 you specified is not valid.", 400, nil}
	errInvalidPart               = &APIError{"InvalidPart", "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.", 400, nil}
	errInvalidPartNumber         = &APIError{"InvalidPartNumber", "The requested partnumber is not satisfiable", 416, nil}
	errInvalidPartOrder          = &APIError{"InvalidPartOrder", "The list of parts was not in ascending order. Parts must be ordered by part number.", 400, nil}
	errInvalidRange              = &APIError{"InvalidRange", "The requested range is not satisfiable", 416, nil}
	errInvalidRequest            = &APIError{"InvalidRequest", "Invalid Request", 400, nil}
	errInvalidStorageClass       = &APIError{"InvalidStorageClass", "The storage class you specified is not valid", 400, nil}
	errInvalidTag                = &APIError{"InvalidTag", "The tag provided was not a valid tag.", 400, nil}
	errInvalidURI                = &APIError{"InvalidURI", "Couldn't parse the specified URI.", 400, nil}
	errKeyTooLong                = &APIError{"KeyTooLongError", "Your key is too long", 400, nil}
	errMalformedXML              = &APIError{"MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema", 400, nil}
	errMetadataTooLarge          = &APIError{"MetadataTooLarge", "Your metadata headers exceed the maximum allowed metadata size.", 400, nil}
	errMethodNotAllowed          = &APIError{"MethodNotAllowed", "The specified method is not allowed against this resource.", 405, nil}
	errMissingContentLength      = &APIError{"MissingContentLength", "You must provide the Content-Length HTTP header.", 411, nil}
	errMissingSecurityHeader     = &APIError{"InvalidRequest", "Missing required header for this request: x-amz-content-sha256", 400, nil}
	errNoSuchBucket              = &APIError{"NoSuchBucket", "The specified bucket does not exist", 404, nil}
	errNoSuchKey                 = &APIError{"NoSuchKey", "The specified key does not exist.", 404, nil}
	errNoSuchVersion             = &APIError{"NoSuchVersion", "The specified version does not exist.", 404, nil}
	errNoSuchUpload              = &APIError{"NoSuchUpload", "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.", 404, nil}
	errNotImplemented            = &APIError{"NotImplemented", "A header you provided implies functionality that is not implemented", 501, nil}
	errNotModified               = &APIError{"NotModified", "Not Modified", 304, nil}
	errPreconditionFailed        = &APIError{"PreconditionFailed", "At least one of the pre-conditions you specified did not hold", 412, nil}
	errRequestTimeTooSkewed      = &APIError{"RequestTimeTooSkewed", "The difference between the request time and the server's time is too large.", 403, nil}
	errSignatureDoesNotMatch     = &APIError{"SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided. Check your key and signing method.", 403, nil}
	errXAmzContentSHA256Mismatch = &APIError{"XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match what was computed.", 400, nil}
	errRequestExpired            = &APIError{"AccessDenied", "Request has expired", 403, nil}
	errMalformedTrailer          = &APIError{"MalformedTrailerError", "The request contained trailing data that was not well-formed or did not conform to our published schema.", 400, nil}
	errHeaderTooLarge            = &APIError{"RequestHeaderSectionTooLarge", "Your request header section exceeds the maximum allowed size.", 400, [][2]string{{"MaxSizeAllowed", "8192"}}}
	errInvalidObjectState        = &APIError{"InvalidObjectState", "The operation is not valid for the object's storage class", 403, nil}
	errRestoreNotAllowed         = &APIError{"InvalidObjectState", "Restore is not allowed for the object's current storage class", 403, nil}
	errObjectInActiveTier        = &APIError{"ObjectAlreadyInActiveTierError", "This action is not allowed against this storage tier.", 403, nil}
	errRestoreAlreadyInProgress  = &APIError{"RestoreAlreadyInProgress", "Object restore is already in progress", 409, nil}
	// errPolicyEnforced: a Standard restore the data retrieval policy
	// refuses. S3 has no such error; firn answers as Glacier does (400,
	// never retried by SDKs), see docs/configuration.md.
	errPolicyEnforced = &APIError{"PolicyEnforcedException", "RestoreObject request denied by current data retrieval policy.", 400, nil}
	errSlowDown       = &APIError{"SlowDown", "Please reduce your request rate.", 503, nil}

	// errNoSuchLifecycleConfiguration is answered with the bucket's
	// name (BucketName), as S3 does.
	errNoSuchLifecycleConfiguration = &APIError{"NoSuchLifecycleConfiguration", "The lifecycle configuration does not exist", 404, nil}
	// errNoSuchConfiguration: no Intelligent-Tiering configuration with
	// the id asked for.
	errNoSuchConfiguration   = &APIError{"NoSuchConfiguration", "The specified configuration does not exist.", 404, nil}
	errTooManyConfigurations = &APIError{"TooManyConfigurations", tiering.MsgTooManyConfigurations, 400, nil}
)

// toAPIError maps a domain error to the S3 error for it, in one place.
// Anything unknown is an InternalError (and is logged by the caller).
func toAPIError(err error) (*APIError, bool) {
	var api *APIError
	if errors.As(err, &api) {
		return api, true
	}
	var se *sigv4.Error
	if errors.As(err, &se) {
		return sigError(se), true
	}
	var ae *object.ArchivedError
	if errors.As(err, &ae) {
		e := errInvalidObjectState.with(errInvalidObjectState.Message)
		e.Extra = [][2]string{{"StorageClass", ae.StorageClass}}
		if ae.AccessTier != "" {
			e.Extra = append(e.Extra, [2]string{"AccessTier", ae.AccessTier})
		}
		return e, true
	}
	var pe *retrieval.EnforcedError
	if errors.As(err, &pe) {
		msg := "RestoreObject request denied by current data retrieval policy."
		if pe.Detail != "" {
			msg += " " + pe.Detail
		}
		return errPolicyEnforced.with(msg), true
	}
	var le *lifecycle.Error
	if errors.As(err, &le) {
		return lifecycleError(le), true
	}
	if api, ok := notificationError(err); ok {
		return api, true
	}
	var ia *object.InvalidArgumentError
	if errors.As(err, &ia) {
		e := errInvalidArgument.with(ia.Msg)
		if ia.Name != "" {
			e.Extra = [][2]string{{"ArgumentName", ia.Name}, {"ArgumentValue", ia.Value}}
		}
		return e, true
	}
	var dm *object.DeleteMarkerError
	if errors.As(err, &dm) && dm.Specified {
		return errMethodNotAllowed, true
	}
	var ir *object.InvalidRequestError
	if errors.As(err, &ir) {
		return errInvalidRequest.with(ir.Msg), true
	}
	for _, m := range errorMap {
		if errors.Is(err, m.err) {
			return m.api, true
		}
	}
	if errors.Is(err, object.ErrChecksumMismatch) {
		return errBadDigest.with(checksumMismatchMessage(err)), true
	}
	if errors.Is(err, context.Canceled) {
		return errIncompleteBody, true
	}
	return errInternal, false
}

var errorMap = []struct {
	err error
	api *APIError
}{
	{meta.ErrNoSuchBucket, errNoSuchBucket},
	{meta.ErrNoSuchKey, errNoSuchKey},
	{meta.ErrNoSuchUpload, errNoSuchUpload},
	{meta.ErrNoSuchVersion, errNoSuchVersion},
	{object.ErrNoSuchEncryptionConfiguration, errNoSuchEncryptionConfiguration},
	{object.ErrNoSuchPublicAccessBlock, errNoSuchPublicAccessBlock},
	{object.ErrNoSuchBucketPolicy, errNoSuchBucketPolicy},
	{object.ErrRestoreDaysRequired, errMalformedXML},
	{object.ErrPublicPolicyBlocked, errAccessDenied},
	{object.ErrPublicACLBlocked, errAccessDenied},
	{object.ErrACLNotSupported, errACLNotSupported},
	{object.ErrInvalidACL, errInvalidArgument.with("Invalid canned ACL")},
	{object.ErrBucketACLWithOwnership, errBucketACLWithOwnership},
	{object.ErrSSENotConfigured, errInvalidArgument.with("Server Side Encryption (SSE-S3) is not available: this server has no master key (--master-key-file or FIRN_MASTER_KEY).")},
	{object.ErrKMSNotConfigured, errInvalidArgument.with("Server Side Encryption with AWS KMS managed keys is not available: no KMS is configured on this server.")},
	{object.ErrInvalidEncryptionAlgorithm, errInvalidArgument.with("The encryption method specified is not supported")},
	{object.ErrSSECRequired, errSSECRequired},
	{object.ErrSSECNotApplicable, errSSECNotApplicable},
	{object.ErrSSECKeyMismatch, errAccessDenied},
	{meta.ErrBucketNotEmpty, errBucketNotEmpty},
	{object.ErrNoSuchLifecycleConfiguration, errNoSuchLifecycleConfiguration},
	{object.ErrNoSuchTieringConfiguration, errNoSuchConfiguration},
	{object.ErrTooManyTieringConfigurations, errTooManyConfigurations},
	{object.ErrInvalidBucketName, errInvalidBucketName},
	{object.ErrRestoreNotAllowed, errRestoreNotAllowed},
	{object.ErrActiveTier, errObjectInActiveTier},
	{object.ErrRestoreInProgress, errRestoreAlreadyInProgress},
	{object.ErrSlowDown, errSlowDown},
	{object.ErrBucketAlreadyOwnedByYou, errBucketAlreadyOwnedByYou},
	{object.ErrBucketAlreadyExists, errBucketAlreadyExists},
	{object.ErrInvalidLocation, errIllegalLocation},
	{object.ErrKeyTooLong, errKeyTooLong},
	{object.ErrInvalidKey, errInvalidURI},
	{object.ErrInvalidStorageClass, errInvalidStorageClass},
	{object.ErrPreconditionFailed, errPreconditionFailed},
	{object.ErrNotModified, errNotModified},
	{object.ErrInvalidRange, errInvalidRange},
	{object.ErrInvalidPartNumber, errInvalidPartNumber},
	{object.ErrBadDigest, errBadDigest},
	{object.ErrIncompleteBody, errIncompleteBody},
	{object.ErrEntityTooLarge, errEntityTooLarge},
	{object.ErrEntityTooSmall, errEntityTooSmall},
	{object.ErrInvalidPart, errInvalidPart},
	{object.ErrInvalidPartOrder, errInvalidPartOrder},
	{object.ErrInvalidTag, errInvalidTag},
	{object.ErrMalformedCompleteRequest, errMalformedXML.with("The XML you provided was not well-formed or did not validate against our published schema")},
	{sigv4.ErrMissingAuth, errAccessDenied},
	{sigv4.ErrMalformedAuth, errAuthorizationMalformed},
	{sigv4.ErrUnsupportedAlgorithm, errInvalidRequest.with("The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.")},
	{sigv4.ErrInvalidAccessKeyID, errInvalidAccessKeyID},
	{sigv4.ErrSignatureMismatch, errSignatureDoesNotMatch},
	{sigv4.ErrRequestTimeTooSkewed, errRequestTimeTooSkewed},
	{sigv4.ErrExpired, errRequestExpired},
	{sigv4.ErrContentSHA256Mismatch, errXAmzContentSHA256Mismatch},
	{sigv4.ErrInvalidContentSHA256, errInvalidArgument.with("x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER or a valid sha256 value.")},
	{sigv4.ErrMissingContentSHA256, errMissingSecurityHeader},
	{sigv4.ErrIncompleteBody, errIncompleteBody},
	{sigv4.ErrMalformedChunk, errIncompleteBody.with("The request body is not a valid aws-chunked stream.")},
	{sigv4.ErrChunkSignatureMismatch, errSignatureDoesNotMatch},
	{sigv4.ErrRegionMismatch, errAuthorizationMalformed},
	{checksum.ErrInvalidValue, errInvalidRequest.with("Value for x-amz-checksum header is invalid.")},
}

// sigError maps an authentication failure, with the details S3 gives.
func sigError(se *sigv4.Error) *APIError {
	var e *APIError
	switch {
	case errors.Is(se, sigv4.ErrNotYetValid):
		e = errAccessDenied.with("Request is not valid yet")
	case errors.Is(se, sigv4.ErrHeadersNotSigned):
		e = errAccessDenied.with("There were headers present in the request which were not signed")
	case errors.Is(se, sigv4.ErrMalformedTrailer):
		e = errMalformedTrailer
	case errors.Is(se, sigv4.ErrSignatureMismatch), errors.Is(se, sigv4.ErrChunkSignatureMismatch):
		e = errSignatureDoesNotMatch.with(errSignatureDoesNotMatch.Message)
		if se.AccessKeyID != "" {
			e.Extra = append(e.Extra, [2]string{"AWSAccessKeyId", se.AccessKeyID})
		}
		if se.StringToSign != "" {
			e.Extra = append(e.Extra, [2]string{"StringToSign", se.StringToSign}, [2]string{"CanonicalRequest", se.CanonicalRequest})
		}
		return e
	case se.Presigned && (errors.Is(se, sigv4.ErrMalformedAuth) || errors.Is(se, sigv4.ErrRegionMismatch) || errors.Is(se, sigv4.ErrUnsupportedAlgorithm)):
		e = errAuthQueryParams
	default:
		for _, m := range errorMap {
			if errors.Is(se, m.err) {
				e = m.api
				break
			}
		}
		if e == nil {
			e = errAccessDenied
		}
	}
	e = e.with(e.Message)
	if se.Detail != "" && (e.Code == "AuthorizationHeaderMalformed" || e.Code == "AuthorizationQueryParametersError" || e.Code == "InvalidRequest" || e.Code == "InvalidArgument") {
		e.Message = se.Detail
	}
	if errors.Is(se, sigv4.ErrRegionMismatch) && se.Region != "" {
		e.Extra = append(e.Extra, [2]string{"Region", se.Region})
	}
	return e
}

// lifecycleError maps a refused lifecycle configuration to the entry of
// the error table with its code, carrying S3's message.
// lifecycleError maps a refused configuration document (lifecycle or
// Intelligent-Tiering: they share lifecycle.Error) to S3's error.
func lifecycleError(le *lifecycle.Error) *APIError {
	switch le.Code {
	case lifecycle.CodeMalformedXML:
		return errMalformedXML
	case lifecycle.CodeInvalidArgument:
		return errInvalidArgument.with(le.Message)
	case lifecycle.CodeInvalidRequest:
		return errInvalidRequest.with(le.Message)
	}
	return &APIError{le.Code, le.Message, le.Status(), nil}
}

func checksumMismatchMessage(err error) string {
	// The object error names the header: "x-amz-checksum-crc32: ...".
	msg := err.Error()
	for _, a := range checksum.Algorithms {
		if strings.Contains(msg, a.Header()+":") {
			return fmt.Sprintf("The %s you specified did not match the calculated checksum.", a)
		}
	}
	return "The checksum you specified did not match the calculated checksum."
}

type errorBody struct {
	XMLName   xml.Name `xml:"Error"`
	Code      string
	Message   string
	Extra     []xmlElem
	Resource  string `xml:",omitempty"`
	RequestID string `xml:"RequestId"`
	HostID    string `xml:"HostId"`
}

type xmlElem struct {
	XMLName xml.Name
	Value   string `xml:",chardata"`
}

// writeError sends e for request r.
func writeError(w http.ResponseWriter, r *http.Request, reqID string, e *APIError) {
	h := w.Header()
	h.Del("Content-Length")
	if e.Status == http.StatusNotModified {
		// A 304 describes the object: it keeps ETag and Last-Modified
		// (RFC 9110 §15.4.5).
		w.WriteHeader(e.Status)
		return
	}
	h.Del("ETag")
	if r.Method == http.MethodHead {
		w.WriteHeader(e.Status)
		return
	}
	body := errorBody{Code: e.Code, Message: e.Message, Resource: r.URL.Path, RequestID: reqID, HostID: hostID(reqID)}
	for _, x := range e.Extra {
		body.Extra = append(body.Extra, xmlElem{XMLName: xml.Name{Local: x[0]}, Value: x[1]})
	}
	out, _ := xml.Marshal(body)
	h.Set("Content-Type", "application/xml")
	h.Set("Content-Length", fmt.Sprint(len(xml.Header)+len(out)))
	w.WriteHeader(e.Status)
	w.Write([]byte(xml.Header))
	w.Write(out)
}
