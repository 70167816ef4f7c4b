package glacierapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"unicode"
	"unicode/utf8"

	"github.com/firnhq/firn/internal/retrieval"
	"github.com/firnhq/firn/internal/s3api/sigv4"
)

// apiError is a Glacier error as it goes on the wire:
// {"code":"...","message":"...","type":"Client"|"Server"}.
type apiError struct {
	Code    string
	Message string
	Status  int
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

// withf returns a copy of e with another message.
func (e *apiError) withf(format string, args ...any) *apiError {
	c := *e
	c.Message = fmt.Sprintf(format, args...)
	return &c
}

// The Glacier errors firn answers with: code, default message and HTTP
// status (Glacier's error table: docs "Error Responses"), in one place.
var (
	errAccessDenied       = &apiError{"AccessDeniedException", "Access denied", http.StatusForbidden}
	errBadRequest         = &apiError{"BadRequest", "The request cannot be processed", http.StatusBadRequest}
	errBodyTooLarge       = &apiError{"BadRequest", "The request body is larger than " + strconv.Itoa(MaxBodySize) + " bytes", http.StatusBadRequest}
	errInternal           = &apiError{"ServiceUnavailableException", "The service cannot complete the request. Please try again.", http.StatusInternalServerError}
	errInvalidParameter   = &apiError{retrieval.CodeInvalidParameterValue, "Invalid parameter value", http.StatusBadRequest}
	errInvalidSignature   = &apiError{"InvalidSignatureException", "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.", http.StatusForbidden}
	errMissingAPIVersion  = &apiError{retrieval.CodeMissingParameterValue, "Required parameter missing: API version", http.StatusBadRequest}
	errMissingAuthToken   = &apiError{"MissingAuthenticationTokenException", "Missing Authentication Token", http.StatusBadRequest}
	errResourceNotFound   = &apiError{"ResourceNotFoundException", "The specified resource does not exist", http.StatusNotFound}
	errUnrecognizedClient = &apiError{"UnrecognizedClientException", "The security token included in the request is invalid.", http.StatusForbidden}
	errPolicyEnforced     = &apiError{"PolicyEnforcedException", "InitiateJob request denied by current data retrieval policy.", http.StatusBadRequest}
)

// internalError marks a failure of firn itself (a store error), answered
// 500 ServiceUnavailableException and logged, whatever it wraps.
type internalError struct{ err error }

func (e internalError) Error() string { return e.err.Error() }
func (e internalError) Unwrap() error { return e.err }

// toAPIError maps an error to the Glacier error for it. known is false
// for unexpected errors, which the caller logs.
func toAPIError(err error) (api *apiError, known bool) {
	var ie internalError
	if errors.As(err, &ie) {
		return errInternal, false
	}
	if errors.As(err, &api) {
		return api, true
	}
	var pe *retrieval.InvalidPolicyError
	if errors.As(err, &pe) {
		return &apiError{pe.Code, pe.Message, http.StatusBadRequest}, true
	}
	var ee *retrieval.EnforcedError
	if errors.As(err, &ee) {
		return errPolicyEnforced.withf("%s %s", errPolicyEnforced.Message, ee.Detail), true
	}
	var se *sigv4.Error
	if errors.As(err, &se) {
		return sigError(se), true
	}
	if errors.Is(err, context.Canceled) {
		return errBadRequest.withf("The request was cancelled"), true
	}
	return errInternal, false
}

// sigError maps a SigV4 verification failure to the error AWS's JSON
// services answer with.
func sigError(e *sigv4.Error) *apiError {
	detail := sentence(e.Detail)
	switch {
	case errors.Is(e, sigv4.ErrMissingAuth):
		return errMissingAuthToken
	case errors.Is(e, sigv4.ErrInvalidAccessKeyID):
		return errUnrecognizedClient
	case errors.Is(e, sigv4.ErrNotYetValid), errors.Is(e, sigv4.ErrRequestTimeTooSkewed), errors.Is(e, sigv4.ErrExpired):
		return errInvalidSignature.withf("Signature expired or not yet current: %s", detail)
	case errors.Is(e, sigv4.ErrHeadersNotSigned):
		return errInvalidSignature.withf("There were headers present in the request which were not signed (%s)", e.Detail)
	case errors.Is(e, sigv4.ErrSignatureMismatch), errors.Is(e, sigv4.ErrChunkSignatureMismatch):
		return errInvalidSignature
	case errors.Is(e, sigv4.ErrMalformedAuth), errors.Is(e, sigv4.ErrRegionMismatch), errors.Is(e, sigv4.ErrUnsupportedAlgorithm):
		if detail == "" {
			detail = "The request signature does not conform to AWS standards."
		}
		return errInvalidSignature.withf("%s", detail)
	case errors.Is(e, sigv4.ErrContentSHA256Mismatch):
		return errInvalidSignature.withf("The provided x-amz-content-sha256 header does not match the request body.")
	case errors.Is(e, sigv4.ErrInvalidContentSHA256), errors.Is(e, sigv4.ErrMissingContentSHA256):
		return errInvalidParameter.withf("%s", detail)
	}
	return errBadRequest.withf("The request body is malformed: %s", detail)
}

// sentence capitalizes the first letter of a detail message.
func sentence(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}

// writeError writes a Glacier JSON error.
func writeError(w http.ResponseWriter, e *apiError) {
	typ := "Client"
	if e.Status >= 500 {
		typ = "Server"
	}
	body, _ := json.Marshal(struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Type    string `json:"type"`
	}{e.Code, e.Message, typ})
	hd := w.Header()
	hd.Set("Content-Type", "application/json")
	hd.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(e.Status)
	w.Write(body)
}
