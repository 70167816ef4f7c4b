package glacierapi

import (
	"context"
	"errors"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/glacier"
	"github.com/aws/aws-sdk-go-v2/service/glacier/types"
	"github.com/aws/smithy-go"

	"github.com/firnhq/firn/internal/retrieval"
	"github.com/firnhq/firn/internal/s3api/sigv4"
)

func getPolicy(t *testing.T, c *glacier.Client, account string) (types.DataRetrievalRule, error) {
	t.Helper()
	in := &glacier.GetDataRetrievalPolicyInput{}
	if account != "" {
		in.AccountId = aws.String(account)
	}
	out, err := c.GetDataRetrievalPolicy(context.Background(), in)
	if err != nil {
		return types.DataRetrievalRule{}, err
	}
	if out.Policy == nil || len(out.Policy.Rules) != 1 {
		t.Fatalf("GetDataRetrievalPolicy returned %+v", out.Policy)
	}
	return out.Policy.Rules[0], nil
}

func setPolicy(c *glacier.Client, account string, rules ...types.DataRetrievalRule) error {
	in := &glacier.SetDataRetrievalPolicyInput{Policy: &types.DataRetrievalPolicy{Rules: rules}}
	if account != "" {
		in.AccountId = aws.String(account)
	}
	_, err := c.SetDataRetrievalPolicy(context.Background(), in)
	return err
}

func rule(strategy string, bph *int64) types.DataRetrievalRule {
	return types.DataRetrievalRule{Strategy: aws.String(strategy), BytesPerHour: bph}
}

// apiError returns the code and HTTP status of an SDK error.
func sdkError(t *testing.T, err error) (string, int) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("not an API error: %v", err)
	}
	status := 0
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
	}
	return ae.ErrorCode(), status
}

func TestSDKGetDefaultPolicy(t *testing.T) {
	e := newEnv(t, nil)
	got, err := getPolicy(t, e.client(), "")
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(got.Strategy) != "None" || got.BytesPerHour != nil {
		t.Errorf("default policy = %s/%v, want None without BytesPerHour", aws.ToString(got.Strategy), got.BytesPerHour)
	}
}

func TestSDKSetThenGet(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client()
	for _, tc := range []struct {
		rule types.DataRetrievalRule
		want retrieval.Policy
	}{
		{rule("BytesPerHour", aws.Int64(10737418240)), retrieval.Policy{Strategy: retrieval.BytesPerHour, BytesPerHour: 10737418240}},
		{rule("FreeTier", nil), retrieval.Policy{Strategy: retrieval.FreeTier}},
		{rule("BytesPerHour", aws.Int64(math.MaxInt64)), retrieval.Policy{Strategy: retrieval.BytesPerHour, BytesPerHour: math.MaxInt64}},
		{rule("BytesPerHour", aws.Int64(1)), retrieval.Policy{Strategy: retrieval.BytesPerHour, BytesPerHour: 1}},
		{rule("None", nil), retrieval.Policy{}},
	} {
		name := aws.ToString(tc.rule.Strategy)
		if err := setPolicy(c, "", tc.rule); err != nil {
			t.Fatalf("set %s: %v", name, err)
		}
		got, err := getPolicy(t, c, "")
		if err != nil {
			t.Fatalf("get after %s: %v", name, err)
		}
		if aws.ToString(got.Strategy) != name || aws.ToInt64(got.BytesPerHour) != aws.ToInt64(tc.rule.BytesPerHour) ||
			(got.BytesPerHour == nil) != (tc.rule.BytesPerHour == nil) {
			t.Errorf("after setting %s/%v: got %s/%v", name, aws.ToInt64(tc.rule.BytesPerHour), aws.ToString(got.Strategy), got.BytesPerHour)
		}
		stored, err := e.store.GetPolicy(context.Background())
		if err != nil || stored != tc.want {
			t.Errorf("store holds %v, %v; want %v", stored, err, tc.want)
		}
	}
	if !strings.Contains(e.logs.String(), "data retrieval policy set") || !strings.Contains(e.logs.String(), testAccessKey) {
		t.Errorf("policy change not logged with its author:\n%s", e.logs)
	}
	if strings.Contains(e.logs.String(), testSecret) {
		t.Errorf("the secret key appears in the log")
	}
}

func TestSDKInvalidSets(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client()
	initial := rule("BytesPerHour", aws.Int64(5000))
	if err := setPolicy(c, "", initial); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		rules []types.DataRetrievalRule
		nilP  bool
		code  string
	}{
		{"BytesPerHour without a value", []types.DataRetrievalRule{rule("BytesPerHour", nil)}, false, "MissingParameterValueException"},
		{"BytesPerHour zero", []types.DataRetrievalRule{rule("BytesPerHour", aws.Int64(0))}, false, "InvalidParameterValueException"},
		{"BytesPerHour negative", []types.DataRetrievalRule{rule("BytesPerHour", aws.Int64(-1))}, false, "InvalidParameterValueException"},
		{"FreeTier with BytesPerHour", []types.DataRetrievalRule{rule("FreeTier", aws.Int64(1))}, false, "InvalidParameterValueException"},
		{"None with BytesPerHour", []types.DataRetrievalRule{rule("None", aws.Int64(1))}, false, "InvalidParameterValueException"},
		{"unknown strategy", []types.DataRetrievalRule{rule("Unlimited", nil)}, false, "InvalidParameterValueException"},
		{"no strategy", []types.DataRetrievalRule{{}}, false, "MissingParameterValueException"},
		{"two rules", []types.DataRetrievalRule{rule("None", nil), rule("FreeTier", nil)}, false, "InvalidParameterValueException"},
		{"no rules", []types.DataRetrievalRule{}, false, "InvalidParameterValueException"},
		{"no policy", nil, true, "MissingParameterValueException"},
	} {
		in := &glacier.SetDataRetrievalPolicyInput{}
		if !tc.nilP {
			in.Policy = &types.DataRetrievalPolicy{Rules: tc.rules}
		}
		_, err := c.SetDataRetrievalPolicy(context.Background(), in)
		if err == nil {
			t.Errorf("%s: accepted", tc.name)
			continue
		}
		code, status := sdkError(t, err)
		if code != tc.code || status != http.StatusBadRequest {
			t.Errorf("%s: %s (HTTP %d), want %s (400): %v", tc.name, code, status, tc.code, err)
		}
		// The SDK decodes Glacier's modelled errors into their types.
		switch tc.code {
		case "InvalidParameterValueException":
			var x *types.InvalidParameterValueException
			if !errors.As(err, &x) || aws.ToString(x.Type) != "Client" {
				t.Errorf("%s: not a typed InvalidParameterValueException: %v", tc.name, err)
			}
		case "MissingParameterValueException":
			var x *types.MissingParameterValueException
			if !errors.As(err, &x) || aws.ToString(x.Type) != "Client" {
				t.Errorf("%s: not a typed MissingParameterValueException: %v", tc.name, err)
			}
		}
	}
	got, err := getPolicy(t, c, "")
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(got.Strategy) != "BytesPerHour" || aws.ToInt64(got.BytesPerHour) != 5000 {
		t.Errorf("invalid sets changed the policy: %s/%v", aws.ToString(got.Strategy), got.BytesPerHour)
	}
}

func TestSDKAccountID(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client()
	for _, acct := range []string{"-", testAccount} {
		if _, err := getPolicy(t, c, acct); err != nil {
			t.Errorf("account %q: %v", acct, err)
		}
		if err := setPolicy(c, acct, rule("FreeTier", nil)); err != nil {
			t.Errorf("set with account %q: %v", acct, err)
		}
	}
	for _, acct := range []string{"123456789012", "--", "111122223334"} {
		_, err := getPolicy(t, c, acct)
		if code, status := sdkError(t, err); code != "AccessDeniedException" || status != http.StatusForbidden {
			t.Errorf("account %q: %s (%d), want AccessDeniedException (403)", acct, code, status)
		}
		err = setPolicy(c, acct, rule("None", nil))
		if code, _ := sdkError(t, err); code != "AccessDeniedException" {
			t.Errorf("set with account %q: %s", acct, code)
		}
	}
	if p, _ := e.store.GetPolicy(context.Background()); p.Strategy != retrieval.FreeTier {
		t.Errorf("a denied set changed the policy to %v", p)
	}

	// Without a configured account id, only "-" is accepted.
	c = newEnvWith(t, Config{}).client()
	if _, err := getPolicy(t, c, "-"); err != nil {
		t.Errorf("account - without AccountID: %v", err)
	}
	_, err := getPolicy(t, c, testAccount)
	if code, _ := sdkError(t, err); code != "AccessDeniedException" {
		t.Errorf("account %s without AccountID: %s", testAccount, code)
	}
}

func TestSDKWrongCredentials(t *testing.T) {
	e := newEnv(t, nil)
	for _, tc := range []struct {
		name      string
		key, sec  string
		code      string
		status    int
		signingFn func(*glacier.Options)
	}{
		{"wrong secret", testAccessKey, "not-the-secret", "InvalidSignatureException", 403, nil},
		{"unknown key", "AKIDUNKNOWN", testSecret, "UnrecognizedClientException", 403, nil},
		{"wrong region", testAccessKey, testSecret, "InvalidSignatureException", 403, func(o *glacier.Options) { o.Region = "eu-west-1" }},
	} {
		opts := []func(*glacier.Options){func(o *glacier.Options) {
			o.Credentials = aws.NewCredentialsCache(staticCreds{tc.key, tc.sec})
		}}
		if tc.signingFn != nil {
			opts = append(opts, tc.signingFn)
		}
		_, err := getPolicy(t, e.client(opts...), "")
		if code, status := sdkError(t, err); code != tc.code || status != tc.status {
			t.Errorf("%s: %s (%d), want %s (%d): %v", tc.name, code, status, tc.code, tc.status, err)
		}
	}
}

type staticCreds struct{ key, secret string }

func (s staticCreds) Retrieve(context.Context) (aws.Credentials, error) {
	return aws.Credentials{AccessKeyID: s.key, SecretAccessKey: s.secret, Source: "test"}, nil
}

func TestRawErrors(t *testing.T) {
	e := newEnv(t, nil)
	const path = "/-/policies/data-retrieval"
	good := `{"Policy":{"Rules":[{"Strategy":"FreeTier"}]}}`
	for _, tc := range []struct {
		name   string
		rr     rawRequest
		status int
		code   string
		msg    string // substring of the message
	}{
		{"unsigned", rawRequest{method: "GET", path: path, service: "-"}, 400, "MissingAuthenticationTokenException", "Missing Authentication Token"},
		{"signed for s3", rawRequest{method: "GET", path: path, service: "s3"}, 403, "InvalidSignatureException", "'glacier'"},
		{"signed for s3 with payload header", rawRequest{method: "PUT", path: path, body: good, service: "s3",
			header: map[string]string{"X-Amz-Content-Sha256": sigv4.UnsignedPayload}}, 403, "InvalidSignatureException", "'glacier'"},
		{"wrong secret", rawRequest{method: "GET", path: path, secret: "nope"}, 403, "InvalidSignatureException", "does not match"},
		{"unknown key", rawRequest{method: "GET", path: path, accessKey: "AKIDNOBODY"}, 403, "UnrecognizedClientException", "security token"},
		{"skewed", rawRequest{method: "GET", path: path, at: time.Now().Add(-time.Hour)}, 403, "InvalidSignatureException", "Signature expired"},
		{"body not the signed one", rawRequest{method: "PUT", path: path, body: good, signedHash: sigv4.EmptySHA256}, 403, "InvalidSignatureException", "does not match"},
		{"body does not match declared hash", rawRequest{method: "PUT", path: path, body: good, signedHash: sigv4.EmptySHA256,
			header: map[string]string{"X-Amz-Content-Sha256": sigv4.EmptySHA256}}, 403, "InvalidSignatureException", "x-amz-content-sha256"},
		{"unsigned x-amz header", rawRequest{method: "GET", path: path, afterSigning: map[string]string{"X-Amz-Meta-Sneaky": "1"}}, 403, "InvalidSignatureException", "not signed (unsigned headers: x-amz-meta-sneaky)"},
		{"version header added after signing", rawRequest{method: "GET", path: path, noVersion: true, afterSigning: map[string]string{"X-Amz-Glacier-Version": APIVersion}}, 403, "InvalidSignatureException", "x-amz-glacier-version"},
		{"no API version", rawRequest{method: "GET", path: path, noVersion: true}, 400, "MissingParameterValueException", "Required parameter missing: API version"},
		{"wrong API version", rawRequest{method: "GET", path: path, header: map[string]string{"X-Amz-Glacier-Version": "2011-01-01"}}, 400, "InvalidParameterValueException", "2011-01-01"},
		{"malformed JSON", rawRequest{method: "PUT", path: path, body: `{"Policy":`}, 400, "SerializationException", "not well-formed JSON"},
		{"wrong JSON type", rawRequest{method: "PUT", path: path, body: `{"Policy":{"Rules":[{"Strategy":"BytesPerHour","BytesPerHour":"10"}]}}`}, 400, "SerializationException", "BytesPerHour must be a number"},
		{"empty body", rawRequest{method: "PUT", path: path}, 400, "MissingParameterValueException", "Policy"},
		{"body too large", rawRequest{method: "PUT", path: path, body: strings.Repeat(" ", MaxBodySize+1)}, 400, "BadRequest", "larger than"},
		{"other method", rawRequest{method: "POST", path: path}, 404, "ResourceNotFoundException", "firn does not serve POST /-/policies/data-retrieval"},
		{"DELETE", rawRequest{method: "DELETE", path: path}, 404, "ResourceNotFoundException", "GetDataRetrievalPolicy"},
		{"trailing slash", rawRequest{method: "GET", path: path + "/"}, 404, "ResourceNotFoundException", "does not serve"},
		{"root", rawRequest{method: "GET", path: "/"}, 404, "ResourceNotFoundException", "does not serve"},
		{"no account", rawRequest{method: "GET", path: "//policies/data-retrieval"}, 404, "ResourceNotFoundException", "does not serve"},
		{"list vaults", rawRequest{method: "GET", path: "/-/vaults"}, 404, "ResourceNotFoundException", "does not serve GET /-/vaults"},
		{"describe vault", rawRequest{method: "GET", path: "/-/vaults/photos"}, 404, "ResourceNotFoundException",
			"Vault not found for ARN: arn:aws:glacier:us-east-1:" + testAccount + ":vaults/photos"},
		{"initiate job", rawRequest{method: "POST", path: "/" + testAccount + "/vaults/photos/jobs", body: `{"Type":"archive-retrieval"}`}, 404, "ResourceNotFoundException", "Vault not found"},
		{"create vault", rawRequest{method: "PUT", path: "/-/vaults/photos"}, 404, "ResourceNotFoundException", "does not serve PUT"},
		{"provisioned capacity", rawRequest{method: "GET", path: "/-/provisioned-capacity"}, 404, "ResourceNotFoundException", "does not serve"},
		{"other account", rawRequest{method: "GET", path: "/999999999999/vaults"}, 403, "AccessDeniedException", "999999999999"},
	} {
		ge, body := e.do(t, tc.rr)
		t.Logf("%s: %d %s", tc.name, ge.Status, body)
		if ge.Status != tc.status || ge.Code != tc.code || !strings.Contains(ge.Message, tc.msg) {
			t.Errorf("%s: HTTP %d %s; want %d %s containing %q\n%s", tc.name, ge.Status, body, tc.status, tc.code, tc.msg, body)
		}
		if ge.Type != "Client" {
			t.Errorf("%s: type %q, want Client", tc.name, ge.Type)
		}
	}
	if p, _ := e.store.GetPolicy(context.Background()); p != (retrieval.Policy{}) {
		t.Errorf("failed requests changed the policy to %v", p)
	}
}

func TestRawSuccess(t *testing.T) {
	e := newEnv(t, nil)
	const path = "/-/policies/data-retrieval"
	// A client that declares its payload hash, like the Go SDK on PUT.
	ge, body := e.do(t, rawRequest{method: "PUT", path: path,
		body:   `{"Policy":{"Rules":[{"Strategy":"BytesPerHour","BytesPerHour":42}]}}`,
		header: map[string]string{"X-Amz-Content-Sha256": "6f4e1b2f1a0a7d8bb8be5e8e1d1a0f0c6c9d4a3b2e1f0a9b8c7d6e5f4a3b2c1d"}})
	if ge.Status != http.StatusForbidden { // the declared hash is not the body's
		t.Errorf("PUT with a wrong declared hash: %d %s", ge.Status, body)
	}
	ge, body = e.do(t, rawRequest{method: "PUT", path: path,
		body: `{"Policy":{"Rules":[{"Strategy":"BytesPerHour","BytesPerHour":42}]}}`})
	if ge.Status != http.StatusNoContent || len(body) != 0 {
		t.Fatalf("PUT: %d %q, want 204 and no body", ge.Status, body)
	}
	ge, body = e.do(t, rawRequest{method: "GET", path: path})
	if ge.Status != http.StatusOK || string(body) != `{"Policy":{"Rules":[{"Strategy":"BytesPerHour","BytesPerHour":42}]}}` {
		t.Errorf("GET: %d %s", ge.Status, body)
	}
}

// failingStore fails every call.
type failingStore struct{ retrieval.MemStore }

var errStoreDown = errors.New("metadata store is down")

func (*failingStore) GetPolicy(context.Context) (retrieval.Policy, error) {
	return retrieval.Policy{}, errStoreDown
}
func (*failingStore) PutPolicy(context.Context, retrieval.Policy) error { return errStoreDown }

func TestStoreErrors(t *testing.T) {
	e := newEnv(t, &failingStore{})
	const path = "/-/policies/data-retrieval"
	for _, rr := range []rawRequest{
		{method: "GET", path: path},
		{method: "PUT", path: path, body: `{"Policy":{"Rules":[{"Strategy":"None"}]}}`},
	} {
		ge, body := e.do(t, rr)
		if ge.Status != 500 || ge.Code != "ServiceUnavailableException" || ge.Type != "Server" {
			t.Errorf("%s with a failing store: %d %s", rr.method, ge.Status, body)
		}
		if strings.Contains(string(body), errStoreDown.Error()) {
			t.Errorf("internal error leaked to the client: %s", body)
		}
	}
	if !strings.Contains(e.logs.String(), errStoreDown.Error()) {
		t.Errorf("store error not logged:\n%s", e.logs)
	}
}

func TestSignedForGlacierFailsOnS3Verifier(t *testing.T) {
	e := newEnv(t, nil)
	req := e.newRequest(t, rawRequest{method: "GET", path: "/-/policies/data-retrieval",
		header: map[string]string{"X-Amz-Content-Sha256": sigv4.EmptySHA256}})
	s3 := &sigv4.Verifier{Region: testRegion, Lookup: lookup} // Service "" is s3
	if _, err := s3.Verify(req); !errors.Is(err, sigv4.ErrMalformedAuth) {
		t.Errorf("S3 verifier on a glacier-signed request: %v, want ErrMalformedAuth", err)
	}
	glacierV := &sigv4.Verifier{Region: testRegion, Service: Service, Lookup: lookup}
	if _, err := glacierV.Verify(req); err != nil {
		t.Errorf("glacier verifier: %v", err)
	}
}

func TestNew(t *testing.T) {
	store := &retrieval.MemStore{}
	for _, tc := range []struct {
		name string
		c    Config
		ok   bool
	}{
		{"complete", Config{Verifier: &sigv4.Verifier{Service: "glacier", Lookup: lookup}, Store: store}, true},
		{"no verifier", Config{Store: store}, false},
		{"s3 verifier", Config{Verifier: &sigv4.Verifier{Lookup: lookup}, Store: store}, false},
		{"no store", Config{Verifier: &sigv4.Verifier{Service: "glacier", Lookup: lookup}}, false},
	} {
		h, err := New(tc.c)
		if (err == nil) != tc.ok || (h != nil) != tc.ok {
			t.Errorf("%s: New = %v, %v", tc.name, h, err)
		}
	}
}

func TestToAPIError(t *testing.T) {
	enforced := &retrieval.EnforcedError{Detail: "BytesPerHour: over the quota."}
	api, known := toAPIError(enforced)
	if !known || api.Code != "PolicyEnforcedException" || api.Status != 400 ||
		api.Message != "InitiateJob request denied by current data retrieval policy. BytesPerHour: over the quota." {
		t.Errorf("EnforcedError → %+v, %v", api, known)
	}
	if api, known := toAPIError(errors.New("boom")); known || api.Status != 500 {
		t.Errorf("unknown error → %+v, %v", api, known)
	}
	if api, _ := toAPIError(internalError{&retrieval.InvalidPolicyError{Code: "X", Message: "y"}}); api.Status != 500 {
		t.Errorf("internal error wrapping a client error → %+v", api)
	}
	if api, _ := toAPIError(context.Canceled); api.Status != 400 {
		t.Errorf("cancelled → %+v", api)
	}
}

func TestIsGlacierRequest(t *testing.T) {
	auth := func(service string) string {
		return "AWS4-HMAC-SHA256 Credential=AKID/20250101/us-east-1/" + service + "/aws4_request, SignedHeaders=host;x-amz-date, Signature=00"
	}
	for _, tc := range []struct {
		name   string
		target string
		header map[string]string
		want   bool
	}{
		{"version header", "/-/policies/data-retrieval", map[string]string{"X-Amz-Glacier-Version": "2012-06-01"}, true},
		{"any version value", "/bucket/key", map[string]string{"x-amz-glacier-version": ""}, true},
		{"glacier scope", "/-/policies/data-retrieval", map[string]string{"Authorization": auth("glacier")}, true},
		{"glacier scope without spaces", "/x", map[string]string{"Authorization": "AWS4-HMAC-SHA256 Credential=A/20250101/r/glacier/aws4_request,SignedHeaders=host,Signature=00"}, true},
		{"s3 scope", "/bucket/key", map[string]string{"Authorization": auth("s3")}, false},
		{"presigned glacier", "/-/policies/data-retrieval?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20250101%2Fus-east-1%2Fglacier%2Faws4_request", nil, true},
		{"presigned s3", "/bucket/key?X-Amz-Credential=AKID%2F20250101%2Fus-east-1%2Fs3%2Faws4_request", nil, false},
		{"anonymous S3", "/bucket/key", nil, false},
		{"S3 with glacier in the key", "/glacier/aws4_request?prefix=glacier", map[string]string{"Authorization": auth("s3")}, false},
		{"bad scope", "/x", map[string]string{"Authorization": "AWS4-HMAC-SHA256 Credential=glacier"}, false},
		{"too many scope parts", "/x", map[string]string{"Authorization": "AWS4-HMAC-SHA256 Credential=A/B/20250101/r/glacier/aws4_request"}, false},
		{"SigV2", "/x", map[string]string{"Authorization": "AWS AKID:sig"}, false},
		{"bad query", "/x?X-Amz-Credential=%zz", nil, false},
	} {
		r, err := http.NewRequest("GET", "http://127.0.0.1:9000"+tc.target, nil)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range tc.header {
			r.Header[http.CanonicalHeaderKey(k)] = []string{v}
		}
		if got := IsGlacierRequest(r); got != tc.want {
			t.Errorf("%s: IsGlacierRequest = %v, want %v", tc.name, got, tc.want)
		}
	}
}
