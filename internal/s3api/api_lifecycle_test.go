package s3api_test

import (
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/firnhq/firn/internal/config"
	"github.com/firnhq/firn/internal/lifecycle"
)

// scenarioCRules is the lifecycle configuration of scenario C (a backup
// bucket).
func scenarioCRules() []types.LifecycleRule {
	return []types.LifecycleRule{{
		ID: aws.String("backup-lifecycle-rule"), Status: types.ExpirationStatusEnabled,
		Filter: &types.LifecycleRuleFilter{Prefix: aws.String("")},
		Transitions: []types.Transition{
			{Days: aws.Int32(30), StorageClass: types.TransitionStorageClassStandardIa},
			{Days: aws.Int32(90), StorageClass: types.TransitionStorageClassGlacier},
			{Days: aws.Int32(365), StorageClass: types.TransitionStorageClassDeepArchive},
		},
		NoncurrentVersionTransitions: []types.NoncurrentVersionTransition{
			{NoncurrentDays: aws.Int32(30), StorageClass: types.TransitionStorageClassStandardIa},
			{NoncurrentDays: aws.Int32(90), StorageClass: types.TransitionStorageClassGlacier},
		},
		NoncurrentVersionExpiration: &types.NoncurrentVersionExpiration{NoncurrentDays: aws.Int32(2555)},
	}}
}

// trashRules archive a trash bucket (scenario A): everything goes to
// GLACIER after 7 days.
func trashRules() []types.LifecycleRule {
	return []types.LifecycleRule{{
		ID: aws.String("trash-to-glacier"), Status: types.ExpirationStatusEnabled,
		Filter:      &types.LifecycleRuleFilter{},
		Transitions: []types.Transition{{Days: aws.Int32(7), StorageClass: types.TransitionStorageClassGlacier}},
	}}
}

// rulesJSON renders rules for comparison.
func rulesJSON(t *testing.T, rules []types.LifecycleRule) string {
	t.Helper()
	b, err := json.Marshal(rules)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func (e *env) putLifecycle(c *s3.Client, bucket string, rules []types.LifecycleRule, min types.TransitionDefaultMinimumObjectSize) (*s3.PutBucketLifecycleConfigurationOutput, error) {
	return c.PutBucketLifecycleConfiguration(ctx, &s3.PutBucketLifecycleConfigurationInput{Bucket: aws.String(bucket),
		LifecycleConfiguration:             &types.BucketLifecycleConfiguration{Rules: rules},
		TransitionDefaultMinimumObjectSize: min})
}

// rawLifecycle is the lifecycle document of bucket as GET returns it.
func (e *env) rawLifecycle(bucket string) []byte {
	e.t.Helper()
	resp, body := e.raw(http.MethodGet, "/"+bucket+"?lifecycle", nil, rawOpts{})
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("GET ?lifecycle: status %d: %s", resp.StatusCode, body)
	}
	return body
}

func TestLifecycleRoundTrip(t *testing.T) {
	e := newEnv(t)
	for _, c := range []struct {
		name   string
		client *s3.Client
		rules  []types.LifecycleRule
		min    types.TransitionDefaultMinimumObjectSize
	}{
		{"scenario C, CRC32 header", e.s3, scenarioCRules(), ""},
		{"scenario C, aws-chunked trailer", e.tls, scenarioCRules(), types.TransitionDefaultMinimumObjectSizeVariesByStorageClass},
		{"trash bucket", e.s3, trashRules(), types.TransitionDefaultMinimumObjectSizeAllStorageClasses128k},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := e.bucket()
			put, err := e.putLifecycle(c.client, b, c.rules, c.min)
			if err != nil {
				t.Fatalf("PutBucketLifecycleConfiguration: %v", err)
			}
			wantMin := c.min
			if wantMin == "" {
				wantMin = types.TransitionDefaultMinimumObjectSizeAllStorageClasses128k
			}
			if put.TransitionDefaultMinimumObjectSize != wantMin {
				t.Errorf("PUT x-amz-transition-default-minimum-object-size: got %q, want %q", put.TransitionDefaultMinimumObjectSize, wantMin)
			}
			got, err := c.client.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: aws.String(b)})
			if err != nil {
				t.Fatalf("GetBucketLifecycleConfiguration: %v", err)
			}
			if got.TransitionDefaultMinimumObjectSize != wantMin {
				t.Errorf("GET x-amz-transition-default-minimum-object-size: got %q, want %q", got.TransitionDefaultMinimumObjectSize, wantMin)
			}
			if g, w := rulesJSON(t, got.Rules), rulesJSON(t, c.rules); g != w {
				t.Errorf("rules read back:\ngot  %s\nwant %s", g, w)
			}

			if _, err := c.client.DeleteBucketLifecycle(ctx, &s3.DeleteBucketLifecycleInput{Bucket: aws.String(b)}); err != nil {
				t.Fatalf("DeleteBucketLifecycle: %v", err)
			}
			_, err = c.client.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: aws.String(b)})
			wantErr(t, err, "NoSuchLifecycleConfiguration", http.StatusNotFound)
			// Deleting what is not there is no error.
			if _, err := c.client.DeleteBucketLifecycle(ctx, &s3.DeleteBucketLifecycleInput{Bucket: aws.String(b)}); err != nil {
				t.Errorf("DeleteBucketLifecycle of no configuration: %v", err)
			}
		})
	}
}

// TestLifecycleReplace: a PUT replaces the whole configuration; rules
// without an ID get one that reads back the same every time.
func TestLifecycleReplace(t *testing.T) {
	e := newEnv(t)
	b := e.bucket()
	if _, err := e.putLifecycle(e.s3, b, scenarioCRules(), ""); err != nil {
		t.Fatal(err)
	}
	noID := []types.LifecycleRule{{Status: types.ExpirationStatusDisabled, Filter: &types.LifecycleRuleFilter{Prefix: aws.String("tmp/")},
		Expiration: &types.LifecycleExpiration{Days: aws.Int32(1)}}}
	if _, err := e.putLifecycle(e.s3, b, noID, ""); err != nil {
		t.Fatal(err)
	}
	first := e.rawLifecycle(b)
	got, err := e.s3.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: aws.String(b)})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Rules) != 1 || aws.ToString(got.Rules[0].ID) == "" || aws.ToString(got.Rules[0].Filter.Prefix) != "tmp/" ||
		got.Rules[0].Status != types.ExpirationStatusDisabled {
		t.Fatalf("replaced configuration: got %s, want the one rule, with an ID", rulesJSON(t, got.Rules))
	}
	if again := e.rawLifecycle(b); !bytes.Equal(again, first) {
		t.Errorf("document changed between two GETs:\n%s\n%s", first, again)
	}
	if !bytes.HasPrefix(first, []byte(xml.Header[:5])) || !bytes.Contains(first, []byte(`xmlns="http://s3.amazonaws.com/doc/2006-03-01/"`)) {
		t.Errorf("document: got %s, want an XML declaration and S3's namespace", first)
	}
}

// TestLifecycleV1 sends a legacy PutBucketLifecycle document (rule-level
// Prefix) to the same endpoint, with Content-MD5 as old clients do.
func TestLifecycleV1(t *testing.T) {
	e := newEnv(t)
	b := e.bucket()
	doc := []byte(`<LifecycleConfiguration><Rule><ID>v1</ID><Prefix>logs/</Prefix><Status>Enabled</Status>` +
		`<Expiration><Days>7</Days></Expiration></Rule></LifecycleConfiguration>`)
	resp, body := e.putLifecycleRaw(b, doc, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT V1 document: status %d: %s", resp.StatusCode, body)
	}
	got, err := e.s3.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: aws.String(b)})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Rules) != 1 || aws.ToString(got.Rules[0].Prefix) != "logs/" || got.Rules[0].Filter != nil ||
		aws.ToInt32(got.Rules[0].Expiration.Days) != 7 {
		t.Errorf("V1 rule read back: got %s", rulesJSON(t, got.Rules))
	}
}

// putLifecycleRaw PUTs doc as a lifecycle configuration with its
// Content-MD5 and the given extra headers.
func (e *env) putLifecycleRaw(bucket string, doc []byte, hd http.Header) (*http.Response, []byte) {
	e.t.Helper()
	h := http.Header{}
	sum := md5.Sum(doc)
	h.Set("Content-Md5", base64.StdEncoding.EncodeToString(sum[:]))
	for k, vs := range hd {
		h[k] = vs
	}
	for k, vs := range h {
		if len(vs) == 1 && vs[0] == "" {
			delete(h, k) // an empty value removes the header
		}
	}
	return e.raw(http.MethodPut, "/"+bucket+"?lifecycle", doc, rawOpts{header: h})
}

// lifecycleErrorDoc is S3's error document with the elements lifecycle
// errors carry.
type lifecycleErrorDoc struct {
	Code       string
	Message    string
	BucketName string
}

func lcRule(body string) []byte {
	return []byte(`<LifecycleConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">` + body + `</LifecycleConfiguration>`)
}

// TestLifecycleValidation: every class of refusal reaches the client
// with S3's code and message, and leaves the previous configuration in
// place.
func TestLifecycleValidation(t *testing.T) {
	e := newEnv(t)
	b := e.bucket()
	if _, err := e.putLifecycle(e.s3, b, scenarioCRules(), ""); err != nil {
		t.Fatal(err)
	}
	before := e.rawLifecycle(b)
	const rule = `<Rule><ID>r</ID><Filter><Prefix>p/</Prefix></Filter><Status>Enabled</Status>%s</Rule>`
	r := func(actions string) []byte { return lcRule(fmt.Sprintf(rule, actions)) }
	for _, c := range []struct {
		name string
		doc  []byte
		hd   http.Header
		code string
		msg  string // "" for the code's fixed message
	}{
		{"not XML", []byte("this is not XML"), nil, "MalformedXML", ""},
		{"empty body", nil, nil, "MalformedXML", ""},
		{"no rules", lcRule(""), nil, "InvalidRequest", "At least one lifecycle rule must be specified."},
		{"status not exactly Enabled", lcRule(`<Rule><ID>r</ID><Filter/><Status>enabled</Status><Expiration><Days>1</Days></Expiration></Rule>`), nil, "MalformedXML", ""},
		{"unknown storage class", r(`<Transition><Days>30</Days><StorageClass>COLD</StorageClass></Transition>`), nil, "MalformedXML", ""},
		{"Days and Date in one Transition", r(`<Transition><Days>30</Days><Date>2030-01-01T00:00:00Z</Date><StorageClass>GLACIER</StorageClass></Transition>`), nil, "MalformedXML", ""},
		{"two predicates outside And", lcRule(`<Rule><ID>r</ID><Filter><Prefix>a</Prefix><ObjectSizeGreaterThan>5</ObjectSizeGreaterThan></Filter><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>`), nil, "MalformedXML", ""},
		{"IA before 30 days", r(`<Transition><Days>10</Days><StorageClass>STANDARD_IA</StorageClass></Transition>`), nil,
			"InvalidArgument", "'Days' in Transition action must be greater than or equal to 30 for storageClass 'STANDARD_IA'"},
		{"expiration not after transition", r(`<Transition><Days>60</Days><StorageClass>GLACIER</StorageClass></Transition><Expiration><Days>60</Days></Expiration>`), nil,
			"InvalidArgument", "'Days' in the Expiration action for filter '(prefix=p/)' must be greater than 'Days' in the Transition action"},
		{"expiration days 0", r(`<Expiration><Days>0</Days></Expiration>`), nil, "InvalidArgument", "'Days' for Expiration action must be a positive integer"},
		{"date not at midnight", r(`<Expiration><Date>2030-01-01T10:00:00Z</Date></Expiration>`), nil, "InvalidArgument", "'Date' must be at midnight GMT"},
		{"ID too long", lcRule(`<Rule><ID>` + strings.Repeat("x", 256) + `</ID><Filter/><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>`), nil,
			"InvalidArgument", "ID length should not exceed allowed limit of 255"},
		{"same ID twice", lcRule(fmt.Sprintf(rule, `<Expiration><Days>1</Days></Expiration>`) + fmt.Sprintf(rule, `<Expiration><Days>2</Days></Expiration>`)), nil,
			"InvalidArgument", "Rule ID must be unique. Found same ID for more than one rule"},
		{"same class twice", r(`<Transition><Days>30</Days><StorageClass>GLACIER</StorageClass></Transition><Transition><Days>60</Days><StorageClass>GLACIER</StorageClass></Transition>`), nil,
			"InvalidRequest", "'StorageClass' must be different for 'Transition' actions in same 'Rule' with filter '(prefix=p/)'"},
		{"Date and Days mixed", r(`<Transition><Days>30</Days><StorageClass>GLACIER</StorageClass></Transition><Expiration><Date>2030-01-01T00:00:00Z</Date></Expiration>`), nil,
			"InvalidRequest", "Found mixed 'Date' and 'Days' based Expiration and Transition actions in lifecycle rule for filter '(prefix=p/)'"},
		{"no action", r(``), nil, "InvalidRequest", "At least one action needs to be specified in a rule"},
		{"size bounds reversed", lcRule(`<Rule><ID>r</ID><Filter><And><ObjectSizeGreaterThan>500</ObjectSizeGreaterThan><ObjectSizeLessThan>100</ObjectSizeLessThan></And></Filter><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>`), nil,
			"InvalidRequest", "'ObjectSizeLessThan' has to be a value greater than 'ObjectSizeGreaterThan'."},
		{"abort with a tag filter", lcRule(`<Rule><ID>r</ID><Filter><Tag><Key>k</Key><Value>v</Value></Tag></Filter><Status>Enabled</Status><AbortIncompleteMultipartUpload><DaysAfterInitiation>1</DaysAfterInitiation></AbortIncompleteMultipartUpload></Rule>`), nil,
			"InvalidRequest", "AbortIncompleteMultipartUpload cannot be specified with Tags."},
		{"V1 and V2 rules mixed", lcRule(`<Rule><ID>a</ID><Prefix>x/</Prefix><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>` +
			`<Rule><ID>b</ID><Filter><Prefix>y/</Prefix></Filter><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>`), nil,
			"InvalidRequest", ""},
		{"unknown minimum size", r(`<Expiration><Days>1</Days></Expiration>`), http.Header{"X-Amz-Transition-Default-Minimum-Object-Size": {"bogus"}},
			"InvalidRequest", "Invalid TransitionDefaultMinimumObjectSize found: bogus"},
		{"no Content-MD5 nor checksum", r(`<Expiration><Days>1</Days></Expiration>`), http.Header{"Content-Md5": {""}},
			"InvalidRequest", "Missing required header for this request: Content-MD5"},
		{"wrong Content-MD5", r(`<Expiration><Days>1</Days></Expiration>`), http.Header{"Content-Md5": {"1B2M2Y8AsgTpgAmY7PhCfg=="}},
			"BadDigest", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp, body := e.putLifecycleRaw(b, c.doc, c.hd)
			doc := wantXMLError(t, resp, body, c.code, http.StatusBadRequest)
			if c.msg != "" && doc.Message != c.msg {
				t.Errorf("Message: got %q, want %q", doc.Message, c.msg)
			}
			if after := e.rawLifecycle(b); !bytes.Equal(after, before) {
				t.Errorf("configuration changed by a refused PUT:\nbefore %s\nafter  %s", before, after)
			}
		})
	}

	// Through the SDK: the code and message reach the caller.
	bad := []types.LifecycleRule{{ID: aws.String("r"), Status: types.ExpirationStatusEnabled, Filter: &types.LifecycleRuleFilter{},
		Transitions: []types.Transition{{Days: aws.Int32(29), StorageClass: types.TransitionStorageClassOnezoneIa}}}}
	_, err := e.putLifecycle(e.s3, b, bad, "")
	wantErr(t, err, "InvalidArgument", http.StatusBadRequest)
	var ae smithy.APIError
	if want := "'Days' in Transition action must be greater than or equal to 30 for storageClass 'ONEZONE_IA'"; err != nil &&
		(!errors.As(err, &ae) || ae.ErrorMessage() != want) {
		t.Errorf("SDK error message: got %v, want %q", err, want)
	}
	if after := e.rawLifecycle(b); !bytes.Equal(after, before) {
		t.Errorf("configuration changed by a refused SDK PUT")
	}
}

// TestLifecycleNoSuch: the 404s of a bucket without a configuration, and
// of no bucket at all.
func TestLifecycleNoSuch(t *testing.T) {
	e := newEnv(t)
	b := e.bucket()
	resp, body := e.raw(http.MethodGet, "/"+b+"?lifecycle", nil, rawOpts{})
	wantXMLError(t, resp, body, "NoSuchLifecycleConfiguration", http.StatusNotFound)
	var doc lifecycleErrorDoc
	xml.Unmarshal(body, &doc)
	if doc.Message != "The lifecycle configuration does not exist" || doc.BucketName != b {
		t.Errorf("NoSuchLifecycleConfiguration: got message %q, BucketName %q; want S3's message and %q", doc.Message, doc.BucketName, b)
	}

	const missing = "no-such-bucket-here"
	_, err := e.putLifecycle(e.s3, missing, trashRules(), "")
	wantErr(t, err, "NoSuchBucket", http.StatusNotFound)
	_, err = e.s3.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: aws.String(missing)})
	wantErr(t, err, "NoSuchBucket", http.StatusNotFound)
	_, err = e.s3.DeleteBucketLifecycle(ctx, &s3.DeleteBucketLifecycleInput{Bucket: aws.String(missing)})
	wantErr(t, err, "NoSuchBucket", http.StatusNotFound)
}

// TestLifecycleBucketRecreated: a deleted bucket's configuration does not
// come back with a new bucket of the same name.
func TestLifecycleBucketRecreated(t *testing.T) {
	e := newEnv(t)
	b := e.bucket()
	rules := []types.LifecycleRule{{ID: aws.String("x"), Status: types.ExpirationStatusEnabled, Filter: &types.LifecycleRuleFilter{},
		Expiration: &types.LifecycleExpiration{Days: aws.Int32(1)}}}
	if _, err := e.putLifecycle(e.s3, b, rules, ""); err != nil {
		t.Fatal(err)
	}
	e.put(b, "k", []byte("x"))
	if h := e.head(b, "k"); h == "" {
		t.Fatalf("x-amz-expiration before the bucket was deleted: got none")
	}
	if _, err := e.s3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(b), Key: aws.String("k")}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s3.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(b)}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b)}); err != nil {
		t.Fatal(err)
	}
	_, err := e.s3.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: aws.String(b)})
	wantErr(t, err, "NoSuchLifecycleConfiguration", http.StatusNotFound)
	e.put(b, "k", []byte("x"))
	if h := e.head(b, "k"); h != "" {
		t.Errorf("x-amz-expiration in the re-created bucket: got %q, want none", h)
	}
}

// head returns the x-amz-expiration of a HEAD of bucket/key.
func (e *env) head(bucket, key string) string {
	e.t.Helper()
	out, err := e.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		e.t.Fatalf("HeadObject %s/%s: %v", bucket, key, err)
	}
	return aws.ToString(out.Expiration)
}

// TestLifecycleExpirationHeader: GET and HEAD carry x-amz-expiration for
// the objects an enabled Expiration covers, rounded to model-day
// boundaries of the server's day length, and follow configuration
// changes at once.
func TestLifecycleExpirationHeader(t *testing.T) {
	for _, day := range []time.Duration{24 * time.Hour, time.Minute} {
		t.Run(day.String(), func(t *testing.T) {
			e := newEnvWith(t, func(c *config.Server) { c.DayLength = day })
			b := e.bucket()
			date := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
			rules := []types.LifecycleRule{
				{ID: aws.String("Delete after 3 days"), Status: types.ExpirationStatusEnabled, Filter: &types.LifecycleRuleFilter{Prefix: aws.String("tmp/")},
					Expiration: &types.LifecycleExpiration{Days: aws.Int32(3)}},
				{ID: aws.String("dated"), Status: types.ExpirationStatusEnabled, Filter: &types.LifecycleRuleFilter{Prefix: aws.String("dated/")},
					Expiration: &types.LifecycleExpiration{Date: aws.Time(date)}},
				{ID: aws.String("off"), Status: types.ExpirationStatusDisabled, Filter: &types.LifecycleRuleFilter{Prefix: aws.String("off/")},
					Expiration: &types.LifecycleExpiration{Days: aws.Int32(1)}},
				{ID: aws.String("archive only"), Status: types.ExpirationStatusEnabled, Filter: &types.LifecycleRuleFilter{Prefix: aws.String("arch/")},
					Transitions: []types.Transition{{Days: aws.Int32(1), StorageClass: types.TransitionStorageClassGlacier}}},
			}
			if _, err := e.putLifecycle(e.s3, b, rules, ""); err != nil {
				t.Fatal(err)
			}
			for _, k := range []string{"tmp/a", "dated/b", "off/c", "arch/d", "other/e"} {
				e.put(b, k, []byte("data"))
			}
			head, err := e.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String("tmp/a")})
			if err != nil {
				t.Fatal(err)
			}
			due := lifecycle.DueAfter(aws.ToTime(head.LastModified), 3, day)
			want := map[string]string{
				"tmp/a":   fmt.Sprintf(`expiry-date="%s", rule-id="Delete after 3 days"`, due.Format(http.TimeFormat)),
				"dated/b": `expiry-date="Tue, 01 Jan 2030 00:00:00 GMT", rule-id="dated"`,
			}
			for _, k := range []string{"tmp/a", "dated/b", "off/c", "arch/d", "other/e"} {
				if got := e.head(b, k); got != want[k] {
					t.Errorf("HEAD %s: x-amz-expiration %q, want %q", k, got, want[k])
				}
				out, err := e.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String(k)})
				if err != nil {
					t.Fatal(err)
				}
				readAll(t, out.Body)
				if got := aws.ToString(out.Expiration); got != want[k] {
					t.Errorf("GET %s: x-amz-expiration %q, want %q", k, got, want[k])
				}
			}

			// The writes that make an object answer with it too.
			put, err := e.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("tmp/put"), Body: strings.NewReader("x")})
			if err != nil || !strings.Contains(aws.ToString(put.Expiration), `rule-id="Delete after 3 days"`) {
				t.Errorf("PutObject: Expiration %q, %v", aws.ToString(put.Expiration), err)
			}
			cp, err := e.s3.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(b), Key: aws.String("tmp/copy"), CopySource: aws.String(b + "/other/e")})
			if err != nil || !strings.Contains(aws.ToString(cp.Expiration), `rule-id="Delete after 3 days"`) {
				t.Errorf("CopyObject: Expiration %q, %v", aws.ToString(cp.Expiration), err)
			}
			mu, err := e.s3.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(b), Key: aws.String("tmp/mp")})
			if err != nil {
				t.Fatal(err)
			}
			part, err := e.s3.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(b), Key: aws.String("tmp/mp"), UploadId: mu.UploadId,
				PartNumber: aws.Int32(1), Body: strings.NewReader("part")})
			if err != nil {
				t.Fatal(err)
			}
			done, err := e.s3.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(b), Key: aws.String("tmp/mp"), UploadId: mu.UploadId,
				MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{PartNumber: aws.Int32(1), ETag: part.ETag}}}})
			if err != nil || !strings.Contains(aws.ToString(done.Expiration), `rule-id="Delete after 3 days"`) {
				t.Errorf("CompleteMultipartUpload: Expiration %q, %v", aws.ToString(done.Expiration), err)
			}
			if put, _ := e.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("other/put"), Body: strings.NewReader("x")}); put != nil && put.Expiration != nil {
				t.Errorf("PutObject no rule covers: Expiration %q", *put.Expiration)
			}

			// A new configuration is seen at once, and so is its removal.
			rules[0].Expiration.Days = aws.Int32(10)
			if _, err := e.putLifecycle(e.s3, b, rules, ""); err != nil {
				t.Fatal(err)
			}
			due = lifecycle.DueAfter(aws.ToTime(head.LastModified), 10, day)
			if got, w := e.head(b, "tmp/a"), fmt.Sprintf(`expiry-date="%s", rule-id="Delete after 3 days"`, due.Format(http.TimeFormat)); got != w {
				t.Errorf("HEAD tmp/a after a new configuration: %q, want %q", got, w)
			}
			if _, err := e.s3.DeleteBucketLifecycle(ctx, &s3.DeleteBucketLifecycleInput{Bucket: aws.String(b)}); err != nil {
				t.Fatal(err)
			}
			if got := e.head(b, "tmp/a"); got != "" {
				t.Errorf("HEAD tmp/a after DeleteBucketLifecycle: %q, want none", got)
			}
		})
	}
}

// TestLifecycleAbortDate: CreateMultipartUpload tells when an
// AbortIncompleteMultipartUpload rule will abort the upload, and by
// which rule; an upload no rule covers gets neither header.
func TestLifecycleAbortDate(t *testing.T) {
	e := newEnv(t)
	b := e.bucket()
	rules := []types.LifecycleRule{{ID: aws.String("abort-7"), Status: types.ExpirationStatusEnabled,
		Filter:                         &types.LifecycleRuleFilter{Prefix: aws.String("up/")},
		AbortIncompleteMultipartUpload: &types.AbortIncompleteMultipartUpload{DaysAfterInitiation: aws.Int32(7)}}}
	if _, err := e.putLifecycle(e.s3, b, rules, ""); err != nil {
		t.Fatal(err)
	}
	before := time.Now().UTC()
	out, err := e.s3.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(b), Key: aws.String("up/big")})
	if err != nil {
		t.Fatal(err)
	}
	want := lifecycle.DueAfter(before, 7, 24*time.Hour)
	if out.AbortDate == nil || !out.AbortDate.Equal(want) || aws.ToString(out.AbortRuleId) != "abort-7" {
		t.Errorf("abort date %v rule %q, want %v abort-7", out.AbortDate, aws.ToString(out.AbortRuleId), want)
	}
	other, err := e.s3.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(b), Key: aws.String("keep/big")})
	if err != nil || other.AbortDate != nil || other.AbortRuleId != nil {
		t.Errorf("uncovered upload: abort date %v rule %v, %v; want none", other.AbortDate, other.AbortRuleId, err)
	}
}
