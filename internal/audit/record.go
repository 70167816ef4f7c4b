package audit

import (
	"bytes"
	"encoding/json"
	"math"
	"time"
)

// Principals that are not access key IDs.
const (
	// PrincipalAnonymous is the principal of a request that carried no
	// credentials at all.
	PrincipalAnonymous = "anonymous"
	// PrincipalLifecycle is the principal of actions the lifecycle engine
	// takes by itself (transitions, expirations).
	PrincipalLifecycle = "system:lifecycle"
	// PrincipalRestore is the principal of actions the restore worker
	// takes by itself (completing or expiring a restored copy).
	PrincipalRestore = "system:restore"
)

// Record is one line of the audit log: one S3 request, or one action the
// server took by itself. Its JSON form is the operator-facing format the
// package documentation describes field by field; every field but Time
// is omitted when empty.
//
// A Record never holds a secret. It has, on purpose, no field for
// headers, query strings or request URIs, so that an Authorization
// header, a SigV4 or SigV2 signature, the query string of a presigned URL
// (X-Amz-Signature, X-Amz-Credential, X-Amz-Security-Token), a secret
// access key or an SSE-C key (x-amz-server-side-encryption-customer-key)
// cannot end up in the log by accident. Callers must not smuggle them in
// through Detail, Key or UserAgent either.
type Record struct {
	// Time is when the request arrived or the action was taken. Log
	// writes it in UTC, and fills it with the current time if it is zero.
	Time time.Time `json:"time"`
	// RequestID is the x-amz-request-id the server answered with.
	RequestID string `json:"request_id,omitempty"`
	// Principal is who acted: an access key ID, PrincipalAnonymous, or a
	// "system:" principal such as PrincipalLifecycle or PrincipalRestore.
	Principal string `json:"principal,omitempty"`
	// SourceIP is the client's address, without port.
	SourceIP string `json:"source_ip,omitempty"`
	// Action is what was asked for, e.g. "s3:GetObject".
	Action string `json:"action,omitempty"`
	// Bucket is the bucket acted on, if any.
	Bucket string `json:"bucket,omitempty"`
	// Key is the object key acted on, if any.
	Key string `json:"key,omitempty"`
	// VersionID is the object version acted on or created, if any.
	VersionID string `json:"version_id,omitempty"`
	// Status is the HTTP status of the response (0 for system actions
	// that have none).
	Status int `json:"status,omitempty"`
	// ErrorCode is the S3 error code of a failed request, e.g.
	// "AccessDenied", or of a failed system action.
	ErrorCode string `json:"error_code,omitempty"`
	// BytesIn is the number of request body bytes read.
	BytesIn int64 `json:"bytes_in,omitempty"`
	// BytesOut is the number of response body bytes written.
	BytesOut int64 `json:"bytes_out,omitempty"`
	// DurationMS is how long the request took, in milliseconds.
	DurationMS float64 `json:"duration_ms,omitempty"`
	// UserAgent is the client's User-Agent header.
	UserAgent string `json:"user_agent,omitempty"`
	// Detail holds a few extra facts about a system action, e.g.
	// {"rule": "tiers", "storage_class": "GLACIER"}. Keep it small.
	Detail map[string]string `json:"detail,omitempty"`
}

// Milliseconds converts d to the unit of Record.DurationMS.
func Milliseconds(d time.Duration) float64 {
	return float64(d) / float64(time.Millisecond)
}

// repair makes r encodable: a UTC time within the years JSON allows, and
// a finite duration.
func (r *Record) repair() {
	if y := r.Time.Year(); r.Time.IsZero() || y < 0 || y > 9999 {
		r.Time = time.Now()
	}
	r.Time = r.Time.UTC()
	if math.IsNaN(r.DurationMS) || math.IsInf(r.DurationMS, 0) {
		r.DurationMS = 0
	}
}

// appendJSON appends r's JSON form and a newline to dst. HTML characters
// are not escaped, so a key such as "a&b" stays greppable.
func (r *Record) appendJSON(dst *bytes.Buffer) error {
	enc := json.NewEncoder(dst)
	enc.SetEscapeHTML(false)
	return enc.Encode(r) // Encode terminates the value with '\n'
}
