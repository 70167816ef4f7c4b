package sigv4

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/smithy-go/encoding/httpbinding"
)

var (
	sdkCreds   = aws.Credentials{AccessKeyID: docAccessKey, SecretAccessKey: docSecret}
	signTime   = time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC)
	specialKey = []string{
		"plain.txt", "a b", "a+b", "ü", "a//b", "../../etc/passwd", "a/./b", "~", "!*'()",
		"日本語/ファイル名.txt", "a&b=c?d#e", "semi;colon,comma", "100%", "tab\tkey", "dir/",
		"$@:[]{}|^`\"<>\\", "%2F", "a%20b",
	}
)

// s3URL returns the path-style URL the S3 client builds for a key: the key
// is escaped with the SDK's own EscapePath (as its REST serializer does).
func s3URL(bucket, key, rawQuery string) string {
	u := "http://s3.example.com/" + bucket
	if key != "" {
		u += "/" + httpbinding.EscapePath(key, false)
	}
	if rawQuery != "" {
		u += "?" + rawQuery
	}
	return u
}

type sdkReq struct {
	method, url string
	header      http.Header
	body        []byte
	payloadHash string // "" = hex SHA-256 of body
	creds       *aws.Credentials
	region      string
	at          time.Time
}

// sign signs the request with aws-sdk-go-v2's SigV4 signer configured as
// the S3 client configures it (no path re-escaping), and returns the
// request as the server receives it.
func (q sdkReq) sign(t testing.TB) *http.Request {
	t.Helper()
	req := q.build(t)
	creds, region, at := q.defaults()
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, q.hash(), "s3", region, at,
		func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true }); err != nil {
		t.Fatalf("SignHTTP: %v", err)
	}
	return toServer(t, req)
}

// presign presigns the request for expires and returns it as the server
// receives it (signed headers included).
func (q sdkReq) presign(t testing.TB, expires time.Duration) *http.Request {
	t.Helper()
	req := q.build(t)
	qv := req.URL.Query()
	qv.Set("X-Amz-Expires", strconv.Itoa(int(expires/time.Second)))
	req.URL.RawQuery = qv.Encode()
	creds, region, at := q.defaults()
	hash := q.payloadHash
	if hash == "" {
		hash = UnsignedPayload
	}
	signed, hdr, err := v4.NewSigner().PresignHTTP(context.Background(), creds, req, hash, "s3", region, at,
		func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	if err != nil {
		t.Fatalf("PresignHTTP: %v", err)
	}
	out, err := http.NewRequest(q.method, signed, bytes.NewReader(q.body))
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range hdr {
		if k != "Host" {
			out.Header[k] = vs
		}
	}
	return toServer(t, out)
}

func (q sdkReq) build(t testing.TB) *http.Request {
	t.Helper()
	method := q.method
	if method == "" {
		method = http.MethodGet
	}
	req, err := http.NewRequest(method, q.url, bytes.NewReader(q.body))
	if err != nil {
		t.Fatalf("NewRequest(%q): %v", q.url, err)
	}
	if len(q.body) == 0 {
		req.Body, req.ContentLength = http.NoBody, 0
	}
	for k, vs := range q.header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	return req
}

func (q sdkReq) defaults() (aws.Credentials, string, time.Time) {
	creds, region, at := sdkCreds, "us-east-1", signTime
	if q.creds != nil {
		creds = *q.creds
	}
	if q.region != "" {
		region = q.region
	}
	if !q.at.IsZero() {
		at = q.at
	}
	return creds, region, at
}

func (q sdkReq) hash() string {
	if q.payloadHash != "" {
		return q.payloadHash
	}
	s := sha256.Sum256(q.body)
	return hex.EncodeToString(s[:])
}

// withHash sets x-amz-content-sha256, which the S3 client always sends.
func withHash(h http.Header, q *sdkReq) http.Header {
	if h == nil {
		h = http.Header{}
	}
	h.Set("X-Amz-Content-Sha256", q.hash())
	return h
}

func TestVerifySDKSigned(t *testing.T) {
	var cases []sdkReq
	for _, key := range specialKey {
		cases = append(cases,
			sdkReq{method: "GET", url: s3URL("bucket", key, "")},
			sdkReq{method: "PUT", url: s3URL("bucket", key, "x-id=PutObject"), body: []byte("hello, " + key),
				header: http.Header{"Content-Type": {"text/plain"}, "X-Amz-Meta-Note": {"  two   spaces  "}}},
			sdkReq{method: "HEAD", url: s3URL("bucket", key, "versionId=3%2F4")},
			sdkReq{method: "DELETE", url: s3URL("bucket", key, "")},
		)
	}
	cases = append(cases,
		sdkReq{method: "GET", url: "http://s3.example.com/"},
		sdkReq{method: "GET", url: "http://bucket.s3.example.com:9000/"},
		sdkReq{method: "GET", url: s3URL("bucket", "", "list-type=2&prefix=a%20b%2Bc&delimiter=%2F&max-keys=10")},
		sdkReq{method: "GET", url: s3URL("bucket", "", "uploads&prefix=")},
		sdkReq{method: "GET", url: s3URL("bucket", "", "a=2&a=1&b&c=&a=10")},
		sdkReq{method: "GET", url: s3URL("bucket", "", "k%C3%BC=v%C3%BC&%7E=~&sp=a%20b&star=%2A")},
		sdkReq{method: "POST", url: s3URL("bucket", "", "delete"), body: []byte("<Delete><Object><Key>a</Key></Object></Delete>"),
			header: http.Header{"Content-Md5": {"1B2M2Y8AsgTpgAmY7PhCfg=="}}},
		sdkReq{method: "POST", url: s3URL("bucket", "obj", "uploads")},
		sdkReq{method: "PUT", url: s3URL("bucket", "obj", "partNumber=1&uploadId=abc%2Bdef"), body: bytes.Repeat([]byte("x"), 1000)},
		sdkReq{method: "GET", url: s3URL("bucket", "obj", ""), header: http.Header{
			"Range": {"bytes=0-9"}, "If-None-Match": {`"etag"`}, "X-Amz-Meta-Multi": {"a", "b  c"},
		}},
		sdkReq{method: "GET", url: s3URL("bucket", "obj", ""), payloadHash: UnsignedPayload},
		sdkReq{method: "PUT", url: s3URL("bucket", "obj", ""), body: []byte("unsigned body"), payloadHash: UnsignedPayload},
		sdkReq{method: "GET", url: s3URL("bucket", "obj", ""), creds: &aws.Credentials{AccessKeyID: "AKID2", SecretAccessKey: keys["AKID2"]}},
	)
	for _, q := range cases {
		t.Run(q.method+" "+q.url, func(t *testing.T) {
			q.header = withHash(q.header, &q)
			r := q.sign(t)
			res, err := newVerifier(signTime).Verify(r)
			wantKind(t, err, nil)
			body, err := readAll(t, res)
			wantKind(t, err, nil)
			if !bytes.Equal(body, q.body) {
				t.Errorf("body = %q, want %q", body, q.body)
			}
			if res.Presigned || res.Streaming != "" || res.DecodedLength != int64(len(q.body)) {
				t.Errorf("result = %+v", res)
			}

			// Presigned variant.
			q.header.Del("X-Amz-Content-Sha256")
			r = q.presign(t, time.Hour)
			res, err = newVerifier(signTime.Add(59 * time.Minute)).Verify(r)
			wantKind(t, err, nil)
			if !res.Presigned {
				t.Errorf("Presigned = false")
			}
		})
	}
}

// TestVerifyServerPath checks that the canonical URI is rebuilt from what
// the server receives, whatever escaping the client chose for characters
// outside the unreserved set.
func TestVerifyServerPath(t *testing.T) {
	q := sdkReq{method: "GET", url: s3URL("bucket", "!*'()", "")}
	q.header = withHash(nil, &q)
	req := q.build(t)
	if err := v4.NewSigner().SignHTTP(context.Background(), sdkCreds, req, q.hash(), "s3", "us-east-1", signTime,
		func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true }); err != nil {
		t.Fatal(err)
	}
	// The same request sent with the sub-delims unescaped: S3 decodes and
	// re-encodes, so it still verifies.
	req.URL.RawPath = "/bucket/!*'()"
	_, err := newVerifier(signTime).Verify(toServer(t, req))
	wantKind(t, err, nil)
}

func TestVerifyFailures(t *testing.T) {
	base := func() sdkReq {
		q := sdkReq{method: "PUT", url: s3URL("bucket", "key", "x-id=PutObject"), body: []byte("payload"),
			header: http.Header{"X-Amz-Meta-A": {"1"}}}
		q.header = withHash(q.header, &q)
		return q
	}
	tests := []struct {
		name   string
		req    func(t *testing.T) *http.Request
		now    time.Time
		want   error
		detail string
	}{
		{name: "wrong secret", want: ErrSignatureMismatch, req: func(t *testing.T) *http.Request {
			q := base()
			q.creds = &aws.Credentials{AccessKeyID: docAccessKey, SecretAccessKey: "wrong"}
			return q.sign(t)
		}},
		{name: "unknown key", want: ErrInvalidAccessKeyID, req: func(t *testing.T) *http.Request {
			q := base()
			q.creds = &aws.Credentials{AccessKeyID: "AKIDUNKNOWN", SecretAccessKey: "x"}
			return q.sign(t)
		}},
		{name: "wrong region", want: ErrRegionMismatch, detail: "the region 'eu-west-1' is wrong; expecting 'us-east-1'", req: func(t *testing.T) *http.Request {
			q := base()
			q.region = "eu-west-1"
			return q.sign(t)
		}},
		{name: "tampered header", want: ErrSignatureMismatch, req: func(t *testing.T) *http.Request {
			r := base().sign(t)
			r.Header.Set("X-Amz-Meta-A", "2")
			return r
		}},
		{name: "tampered query", want: ErrSignatureMismatch, req: func(t *testing.T) *http.Request {
			r := base().sign(t)
			r.URL.RawQuery += "&acl"
			return r
		}},
		{name: "tampered path", want: ErrSignatureMismatch, req: func(t *testing.T) *http.Request {
			r := base().sign(t)
			r.URL.Path, r.URL.RawPath = "/bucket/kez", ""
			return r
		}},
		{name: "tampered method", want: ErrSignatureMismatch, req: func(t *testing.T) *http.Request {
			r := base().sign(t)
			r.Method = http.MethodPost
			return r
		}},
		{name: "tampered host", want: ErrSignatureMismatch, req: func(t *testing.T) *http.Request {
			r := base().sign(t)
			r.Host = "evil.example.com"
			return r
		}},
		{name: "tampered payload hash", want: ErrSignatureMismatch, req: func(t *testing.T) *http.Request {
			r := base().sign(t)
			r.Header.Set("X-Amz-Content-Sha256", UnsignedPayload)
			return r
		}},
		{name: "unsigned x-amz header", want: ErrHeadersNotSigned, detail: "x-amz-acl", req: func(t *testing.T) *http.Request {
			r := base().sign(t)
			r.Header.Set("X-Amz-Acl", "public-read")
			return r
		}},
		{name: "skewed past", want: ErrRequestTimeTooSkewed, now: signTime.Add(15*time.Minute + time.Second), req: func(t *testing.T) *http.Request {
			return base().sign(t)
		}},
		{name: "skewed future", want: ErrRequestTimeTooSkewed, now: signTime.Add(-15*time.Minute - time.Second), req: func(t *testing.T) *http.Request {
			return base().sign(t)
		}},
		{name: "skew within tolerance", now: signTime.Add(-15 * time.Minute), req: func(t *testing.T) *http.Request {
			return base().sign(t)
		}},
		{name: "missing content sha256", want: ErrMissingContentSHA256, req: func(t *testing.T) *http.Request {
			q := base()
			q.header.Del("X-Amz-Content-Sha256")
			return q.sign(t)
		}},
		{name: "invalid content sha256", want: ErrInvalidContentSHA256, req: func(t *testing.T) *http.Request {
			q := base()
			q.payloadHash = "abc"
			q.header.Set("X-Amz-Content-Sha256", "abc")
			return q.sign(t)
		}},
		{name: "no auth", want: ErrMissingAuth, req: func(t *testing.T) *http.Request {
			return toServer(t, base().build(t))
		}},
		{name: "sigv2", want: ErrUnsupportedAlgorithm, req: func(t *testing.T) *http.Request {
			r := toServer(t, base().build(t))
			r.Header.Set("Authorization", "AWS AKIAIOSFODNN7EXAMPLE:frJIUN8DYpKDtOLCwo//yllqDzg=")
			return r
		}},
		{name: "sigv2 presigned", want: ErrUnsupportedAlgorithm, req: func(t *testing.T) *http.Request {
			r := toServer(t, base().build(t))
			r.URL.RawQuery = "AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Expires=1141889120&Signature=vjbyPxybdZaNmGa%2ByT272YEAiv4%3D"
			return r
		}},
		{name: "sigv4a", want: ErrUnsupportedAlgorithm, req: func(t *testing.T) *http.Request {
			r := base().sign(t)
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), Algorithm, "AWS4-ECDSA-P256-SHA256", 1))
			return r
		}},
		{name: "header and query auth", want: ErrMalformedAuth, req: func(t *testing.T) *http.Request {
			r := base().sign(t)
			r.URL.RawQuery += "&X-Amz-Signature=00"
			return r
		}},
		{name: "wrong service", want: ErrMalformedAuth, req: func(t *testing.T) *http.Request {
			q := base()
			r := q.build(t)
			creds, region, at := q.defaults()
			if err := v4.NewSigner().SignHTTP(context.Background(), creds, r, q.hash(), "s3-object-lambda", region, at); err != nil {
				t.Fatal(err)
			}
			return toServer(t, r)
		}},
		{name: "scope date differs from x-amz-date", want: ErrMalformedAuth, req: func(t *testing.T) *http.Request {
			r := base().sign(t)
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "/20250314/", "/20250313/", 1))
			return r
		}},
		{name: "bad x-amz-date", want: ErrMalformedAuth, req: func(t *testing.T) *http.Request {
			r := base().sign(t)
			r.Header.Set("X-Amz-Date", "2025-03-14T15:09:26Z")
			return r
		}},
		{name: "host not signed", want: ErrMalformedAuth, req: func(t *testing.T) *http.Request {
			r := base().sign(t)
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "host;", "", 1))
			return r
		}},
		{name: "duplicate authorization", want: ErrMalformedAuth, req: func(t *testing.T) *http.Request {
			r := base().sign(t)
			r.Header.Add("Authorization", r.Header.Get("Authorization"))
			return r
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			now := tc.now
			if now.IsZero() {
				now = signTime
			}
			res, err := newVerifier(now).Verify(tc.req(t))
			wantKind(t, err, tc.want)
			if tc.want == nil {
				if _, err := readAll(t, res); err != nil {
					t.Fatal(err)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T is not an *Error", err)
			}
			if !strings.Contains(e.Detail, tc.detail) {
				t.Errorf("detail %q does not contain %q", e.Detail, tc.detail)
			}
			if tc.want == ErrSignatureMismatch && (e.CanonicalRequest == "" || e.StringToSign == "") {
				t.Errorf("mismatch without canonical request / string to sign")
			}
			if tc.want == ErrRegionMismatch && e.Region != "us-east-1" {
				t.Errorf("Region = %q", e.Region)
			}
		})
	}
}

func TestVerifyLookupError(t *testing.T) {
	boom := errors.New("database is down")
	v := newVerifier(signTime)
	v.Lookup = func(context.Context, string) (string, error) { return "", boom }
	q := sdkReq{url: s3URL("b", "k", "")}
	q.header = withHash(nil, &q)
	_, err := v.Verify(q.sign(t))
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want %v", err, boom)
	}
	var e *Error
	if errors.As(err, &e) {
		t.Fatalf("a lookup failure must not be an *Error: %v", err)
	}
}

func TestVerifyPayloadHashMismatch(t *testing.T) {
	q := sdkReq{method: "PUT", url: s3URL("b", "k", ""), body: []byte("the real body")}
	q.header = withHash(nil, &q)
	r := q.sign(t)
	r.Body = io.NopCloser(strings.NewReader("a forged body"))
	res, err := newVerifier(signTime).Verify(r)
	wantKind(t, err, nil)
	got, err := readAll(t, res)
	wantKind(t, err, ErrContentSHA256Mismatch)
	if string(got) != "a forged body" {
		t.Errorf("got %q", got)
	}
	if _, err2 := res.Body.Read(make([]byte, 1)); err2 != err {
		t.Errorf("second Read = %v, want sticky %v", err2, err)
	}
}

func TestVerifyAuthorizationSpacing(t *testing.T) {
	q := sdkReq{method: "GET", url: s3URL("b", "k", "")}
	q.header = withHash(nil, &q)
	r := q.sign(t)
	auth := r.Header.Get("Authorization")
	rest := strings.TrimPrefix(auth, Algorithm+" ")
	parts := strings.Split(rest, ", ")
	if len(parts) != 3 {
		t.Fatalf("unexpected SDK Authorization %q", auth)
	}
	for _, variant := range []string{
		Algorithm + " " + strings.Join(parts, ","),
		Algorithm + " " + strings.Join(parts, " , "),
		Algorithm + "   " + strings.Join(parts, ",   "),
		Algorithm + " " + parts[2] + ", " + parts[0] + ", " + parts[1],
		Algorithm + " " + strings.Join(parts, ", ") + ",",
	} {
		r.Header.Set("Authorization", variant)
		_, err := newVerifier(signTime).Verify(r)
		if err != nil {
			t.Errorf("%q: %v", variant, err)
		}
	}
}

// TestVerifyDateHeader checks a request dated by Date only (no X-Amz-Date),
// which the SDK never produces.
func TestVerifyDateHeader(t *testing.T) {
	s := refSigner{secret: docSecret, date: "20250314", region: "us-east-1", service: "s3", amzDate: "20250314T150926Z"}
	cr := "GET\n/b/k\n\ndate:Fri, 14 Mar 2025 15:09:26 GMT\nhost:s3.example.com\nx-amz-content-sha256:" + EmptySHA256 +
		"\n\ndate;host;x-amz-content-sha256\n" + EmptySHA256
	raw := "GET /b/k HTTP/1.1\r\nHost: s3.example.com\r\nDate: Fri, 14 Mar 2025 15:09:26 GMT\r\n" +
		"X-Amz-Content-Sha256: " + EmptySHA256 + "\r\n" +
		"Authorization: AWS4-HMAC-SHA256 Credential=" + docAccessKey + "/" + s.scope() +
		", SignedHeaders=date;host;x-amz-content-sha256, Signature=" + s.signCanonical(cr) + "\r\n\r\n"
	_, err := newVerifier(signTime).Verify(parseWire(t, raw))
	wantKind(t, err, nil)
	_, err = newVerifier(signTime.Add(time.Hour)).Verify(parseWire(t, raw))
	wantKind(t, err, ErrRequestTimeTooSkewed)
}

func TestVerifyPresignFailures(t *testing.T) {
	q := sdkReq{method: "GET", url: s3URL("bucket", "a b/ü", "")}
	presigned := q.presign(t, time.Hour)
	at := func(d time.Duration) *Verifier { return newVerifier(signTime.Add(d)) }

	_, err := at(time.Hour).Verify(presigned)
	wantKind(t, err, nil)
	_, err = at(time.Hour + time.Second).Verify(presigned)
	wantKind(t, err, ErrExpired)
	_, err = at(-16 * time.Minute).Verify(presigned)
	wantKind(t, err, ErrNotYetValid)
	if !errors.Is(err, ErrRequestTimeTooSkewed) {
		t.Errorf("ErrNotYetValid should wrap ErrRequestTimeTooSkewed")
	}

	mutate := func(f func(v url.Values)) *http.Request {
		r := q.presign(t, time.Hour)
		v := r.URL.Query()
		f(v)
		r.URL.RawQuery = v.Encode()
		return r
	}
	for name, tc := range map[string]struct {
		f    func(v url.Values)
		want error
	}{
		"expires 0":         {func(v url.Values) { v.Set("X-Amz-Expires", "0") }, ErrMalformedAuth},
		"expires > week":    {func(v url.Values) { v.Set("X-Amz-Expires", "604801") }, ErrMalformedAuth},
		"expires signed":    {func(v url.Values) { v.Set("X-Amz-Expires", "+3600") }, ErrMalformedAuth},
		"expires tampered":  {func(v url.Values) { v.Set("X-Amz-Expires", "7200") }, ErrSignatureMismatch},
		"missing date":      {func(v url.Values) { v.Del("X-Amz-Date") }, ErrMalformedAuth},
		"missing signature": {func(v url.Values) { v.Del("X-Amz-Signature") }, ErrMalformedAuth},
		"double signature":  {func(v url.Values) { v.Add("X-Amz-Signature", v.Get("X-Amz-Signature")) }, ErrMalformedAuth},
		"bad algorithm":     {func(v url.Values) { v.Set("X-Amz-Algorithm", "AWS4-HMAC-SHA1") }, ErrUnsupportedAlgorithm},
		"wrong region": {func(v url.Values) {
			v.Set("X-Amz-Credential", strings.Replace(v.Get("X-Amz-Credential"), "us-east-1", "us-west-2", 1))
		}, ErrRegionMismatch},
		"wrong terminator": {func(v url.Values) {
			v.Set("X-Amz-Credential", strings.Replace(v.Get("X-Amz-Credential"), "aws4_request", "aws4_reques", 1))
		}, ErrMalformedAuth},
		"extra param": {func(v url.Values) { v.Set("response-content-type", "text/html") }, ErrSignatureMismatch},
		"unknown key": {func(v url.Values) {
			v.Set("X-Amz-Credential", "NOPE"+strings.TrimPrefix(v.Get("X-Amz-Credential"), docAccessKey))
		}, ErrInvalidAccessKeyID},
		"streaming sentinel": {func(v url.Values) { v.Set("X-Amz-Content-Sha256", StreamingPayload) }, ErrInvalidContentSHA256},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := at(time.Minute).Verify(mutate(tc.f))
			wantKind(t, err, tc.want)
			var e *Error
			if errors.As(err, &e) && !e.Presigned {
				t.Errorf("Error.Presigned = false")
			}
		})
	}

	// x-amz-* headers added to a presigned request must be signed.
	r := q.presign(t, time.Hour)
	r.Header.Set("X-Amz-Acl", "public-read")
	_, err = at(time.Minute).Verify(r)
	wantKind(t, err, ErrHeadersNotSigned)
}

// TestVerifyPresignSignedHeaders presigns a PUT with headers that must be
// sent with the request.
func TestVerifyPresignSignedHeaders(t *testing.T) {
	q := sdkReq{method: "PUT", url: s3URL("bucket", "obj", "x-id=PutObject"), body: []byte("data"),
		header: http.Header{"Content-Type": {"image/png"}, "X-Amz-Acl": {"private"}}}
	r := q.presign(t, time.Hour)
	if r.URL.Query().Get("X-Amz-SignedHeaders") == "host" {
		t.Fatalf("expected more signed headers: %s", r.URL.RawQuery)
	}
	res, err := newVerifier(signTime).Verify(r)
	wantKind(t, err, nil)
	body, err := readAll(t, res)
	wantKind(t, err, nil)
	if string(body) != "data" {
		t.Errorf("body %q", body)
	}
	r = q.presign(t, time.Hour)
	r.Header.Set("Content-Type", "text/html")
	_, err = newVerifier(signTime).Verify(r)
	wantKind(t, err, ErrSignatureMismatch)
}

func TestVerifyNoRegion(t *testing.T) {
	q := sdkReq{url: s3URL("b", "k", ""), region: "garage"}
	q.header = withHash(nil, &q)
	v := newVerifier(signTime)
	v.Region = ""
	_, err := v.Verify(q.sign(t))
	wantKind(t, err, nil)
}

func TestVerifyMisuse(t *testing.T) {
	if _, err := (&Verifier{}).Verify(httptestRequest()); err == nil {
		t.Error("Verify without Lookup succeeded")
	}
	if _, err := newVerifier(signTime).Verify(nil); err == nil {
		t.Error("Verify(nil) succeeded")
	}
	if _, err := newVerifier(signTime).Verify(&http.Request{}); err == nil {
		t.Error("Verify without URL succeeded")
	}
}

func httptestRequest() *http.Request {
	r, _ := http.NewRequest(http.MethodGet, "http://example.com/", nil)
	return r
}

func TestTrimAWSChunked(t *testing.T) {
	for in, want := range map[string]string{
		"aws-chunked":            "",
		"aws-chunked,gzip":       "gzip",
		"gzip, aws-chunked":      "gzip",
		"gzip,AWS-Chunked , br":  "gzip,br",
		"gzip":                   "gzip",
		"":                       "",
		"aws-chunked, ,identity": "identity",
	} {
		if got := TrimAWSChunked(in); got != want {
			t.Errorf("TrimAWSChunked(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCanonicalURI(t *testing.T) {
	for in, want := range map[string]string{
		"":                   "/",
		"/":                  "/",
		"/b/a%20b":           "/b/a%20b",
		"/b/a b":             "/b/a%20b",
		"/b/a+b":             "/b/a%2Bb",
		"/b/%c3%bc":          "/b/%C3%BC",
		"/b/ü":               "/b/%C3%BC",
		"/b/a//b/../c/./d":   "/b/a//b/../c/./d",
		"/b/!*'()~":          "/b/%21%2A%27%28%29~",
		"/b/%21%2A%27%28%29": "/b/%21%2A%27%28%29",
		"/b/a%2Fb":           "/b/a%2Fb",
		"/b/a%2fb":           "/b/a%2Fb",
		"/b/%7E%41":          "/b/~A",
		"/b/100%":            "/b/100%25",
		"/b/%zz":             "/b/%25zz",
		"/b/%4":              "/b/%254",
	} {
		if got := string(appendCanonicalURI(nil, in)); got != want {
			t.Errorf("canonical URI of %q = %q, want %q", in, got, want)
		}
	}
}

func TestCanonicalQuery(t *testing.T) {
	for in, want := range map[string]string{
		"":                        "",
		"acl":                     "acl=",
		"b=2&a=1&a=0&&c":          "a=0&a=1&b=2&c=",
		"p=a+b&q=a%20b&r=a%2Bb":   "p=a%20b&q=a%20b&r=a%2Bb",
		"k=%7e%2f~/":              "k=~%2F~%2F",
		"x;y=1":                   "x%3By=1",
		"v=a-b&v=a%2Fb":           "v=a%2Fb&v=a-b", // sorted after encoding
		"X-Amz-Signature=abc&z=1": "X-Amz-Signature=abc&z=1",
	} {
		params, err := parseQuery(in)
		if err != nil {
			t.Fatalf("parseQuery(%q): %v", in, err)
		}
		if got := string(appendCanonicalQuery(nil, params, false)); got != want {
			t.Errorf("canonical query of %q = %q, want %q", in, got, want)
		}
	}
	params, _ := parseQuery("X-Amz-Signature=abc&z=1")
	if got := string(appendCanonicalQuery(nil, params, true)); got != "z=1" {
		t.Errorf("presigned canonical query = %q", got)
	}
	if _, err := parseQuery("a=%zz"); err == nil {
		t.Error("invalid escape accepted")
	}
}

func TestInvalidQueryEscape(t *testing.T) {
	r := httptestRequest()
	r.URL.RawQuery = "prefix=%zz"
	_, err := newVerifier(signTime).Verify(r)
	wantKind(t, err, ErrMissingAuth) // anonymous: not an auth problem
	r.URL.RawQuery = "X-Amz-Credential=x&prefix=%zz"
	_, err = newVerifier(signTime).Verify(r)
	wantKind(t, err, ErrMalformedAuth)
}

func TestHeaderValues(t *testing.T) {
	raw := "PUT /b/k HTTP/1.1\r\nHost: h.example.com:8080\r\nTransfer-Encoding: chunked\r\n" +
		"X-Amz-Meta-A: 1\r\nX-Amz-Meta-A:   two   words  \r\nx_odd: v\r\n\r\n0\r\n\r\n"
	r := parseWire(t, raw)
	got := string(appendCanonicalHeaders(nil, r, []string{"content-length", "host", "transfer-encoding", "x-amz-meta-a", "x_odd", "absent"}))
	want := "content-length:\nhost:h.example.com:8080\ntransfer-encoding:chunked\nx-amz-meta-a:1,two words\nx_odd:v\nabsent:\n"
	if got != want {
		t.Errorf("canonical headers:\n%q\nwant\n%q", got, want)
	}
	// A client-side request: Content-Length only in the field.
	r, _ = http.NewRequest("PUT", "http://h/b", strings.NewReader("abc"))
	if got := string(appendCanonicalHeaders(nil, r, []string{"content-length"})); got != "content-length:3\n" {
		t.Errorf("got %q", got)
	}
}

func TestErrorMessages(t *testing.T) {
	for _, err := range []error{ErrNotYetValid, ErrMalformedTrailer, ErrHeadersNotSigned, newError(ErrExpired, "at noon"), &Error{}} {
		if err.Error() == "" || !strings.HasPrefix(err.Error(), "sigv4: ") {
			t.Errorf("bad message %q", err.Error())
		}
	}
	if !errors.Is(ErrMalformedTrailer, ErrMalformedChunk) || !errors.Is(ErrHeadersNotSigned, ErrSignatureMismatch) {
		t.Error("refined sentinels must wrap their parent")
	}
}

func TestVerifierDefaults(t *testing.T) {
	q := sdkReq{url: s3URL("b", "k", ""), at: time.Now().Add(-time.Minute)}
	q.header = withHash(nil, &q)
	v := &Verifier{Lookup: lookup, Service: "s3", MaxSkew: 2 * time.Minute}
	_, err := v.Verify(q.sign(t))
	wantKind(t, err, nil)
}
