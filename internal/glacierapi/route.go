package glacierapi

import (
	"net/http"
	"net/url"
	"strings"
)

// IsGlacierRequest reports whether r is addressed to the Glacier API
// rather than S3, so that one listener can serve both: it carries an
// x-amz-glacier-version header (every Glacier SDK and the AWS CLI send
// it; S3 requests never do), or its SigV4 credential scope, in the
// Authorization header or the X-Amz-Credential query parameter, names the
// service "glacier". It only looks at headers and the query, never at the
// body, and does not authenticate anything.
func IsGlacierRequest(r *http.Request) bool {
	if len(r.Header.Values("X-Amz-Glacier-Version")) > 0 {
		return true
	}
	for _, a := range r.Header.Values("Authorization") {
		if scopeService(credentialOf(a)) == Service {
			return true
		}
	}
	if r.URL != nil && strings.Contains(r.URL.RawQuery, "X-Amz-Credential=") {
		if q, err := url.ParseQuery(r.URL.RawQuery); err == nil {
			if scopeService(q.Get("X-Amz-Credential")) == Service {
				return true
			}
		}
	}
	return false
}

// credentialOf returns the Credential value of an AWS4-HMAC-SHA256
// Authorization header: "AKID/20250101/us-east-1/glacier/aws4_request".
func credentialOf(authz string) string {
	_, rest, ok := strings.Cut(authz, "Credential=")
	if !ok {
		return ""
	}
	if i := strings.IndexAny(rest, ", "); i >= 0 {
		rest = rest[:i]
	}
	return rest
}

// scopeService returns the service of a credential
// "AKID/date/region/service/aws4_request", or "".
func scopeService(cred string) string {
	parts := strings.Split(cred, "/")
	if len(parts) != 5 || parts[4] != "aws4_request" {
		return ""
	}
	return parts[3]
}
