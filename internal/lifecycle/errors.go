package lifecycle

import "fmt"

// Error codes a lifecycle configuration can be refused with.
const (
	CodeMalformedXML    = "MalformedXML"
	CodeInvalidArgument = "InvalidArgument"
	CodeInvalidRequest  = "InvalidRequest"
)

// msgMalformedXML is S3's message for MalformedXML.
const msgMalformedXML = "The XML you provided was not well-formed or did not validate against our published schema"

// Error is a refused configuration: S3's error code and message. The
// protocol layer answers it with Status.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Status is the HTTP status S3 answers every lifecycle validation error
// with: 400.
func (e *Error) Status() int { return 400 }

func malformed() *Error { return &Error{CodeMalformedXML, msgMalformedXML} }

func invalidArgument(format string, args ...any) *Error {
	return &Error{CodeInvalidArgument, fmt.Sprintf(format, args...)}
}

func invalidRequest(format string, args ...any) *Error {
	return &Error{CodeInvalidRequest, fmt.Sprintf(format, args...)}
}
