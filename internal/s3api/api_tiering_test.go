package s3api_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// tieringConfig is an Intelligent-Tiering configuration named id with an
// Archive Access tiering at archive days (none if 0) and a Deep Archive
// Access one at deep days (none if 0).
func tieringConfig(id string, filter *types.IntelligentTieringFilter, archive, deep int32) *types.IntelligentTieringConfiguration {
	c := &types.IntelligentTieringConfiguration{Id: aws.String(id), Filter: filter, Status: types.IntelligentTieringStatusEnabled}
	if archive != 0 {
		c.Tierings = append(c.Tierings, types.Tiering{Days: aws.Int32(archive), AccessTier: types.IntelligentTieringAccessTierArchiveAccess})
	}
	if deep != 0 {
		c.Tierings = append(c.Tierings, types.Tiering{Days: aws.Int32(deep), AccessTier: types.IntelligentTieringAccessTierDeepArchiveAccess})
	}
	return c
}

func (e *env) putTiering(bucket string, c *types.IntelligentTieringConfiguration) error {
	_, err := e.s3.PutBucketIntelligentTieringConfiguration(ctx, &s3.PutBucketIntelligentTieringConfigurationInput{
		Bucket: aws.String(bucket), Id: c.Id, IntelligentTieringConfiguration: c})
	return err
}

func (e *env) getTiering(bucket, id string) (*types.IntelligentTieringConfiguration, error) {
	out, err := e.s3.GetBucketIntelligentTieringConfiguration(ctx, &s3.GetBucketIntelligentTieringConfigurationInput{
		Bucket: aws.String(bucket), Id: aws.String(id)})
	if err != nil {
		return nil, err
	}
	return out.IntelligentTieringConfiguration, nil
}

func (e *env) deleteTiering(bucket, id string) error {
	_, err := e.s3.DeleteBucketIntelligentTieringConfiguration(ctx, &s3.DeleteBucketIntelligentTieringConfigurationInput{
		Bucket: aws.String(bucket), Id: aws.String(id)})
	return err
}

// listTiering lists all of bucket's configurations page by page and
// returns their IDs and the size of each page.
func (e *env) listTiering(bucket string) (ids []string, pages []int) {
	e.t.Helper()
	var token *string
	for {
		out, err := e.s3.ListBucketIntelligentTieringConfigurations(ctx, &s3.ListBucketIntelligentTieringConfigurationsInput{
			Bucket: aws.String(bucket), ContinuationToken: token})
		if err != nil {
			e.t.Fatalf("ListBucketIntelligentTieringConfigurations: %v", err)
		}
		if aws.ToString(out.ContinuationToken) != aws.ToString(token) {
			e.t.Errorf("ContinuationToken: got %q, want the request's %q", aws.ToString(out.ContinuationToken), aws.ToString(token))
		}
		pages = append(pages, len(out.IntelligentTieringConfigurationList))
		for _, c := range out.IntelligentTieringConfigurationList {
			ids = append(ids, aws.ToString(c.Id))
		}
		if !aws.ToBool(out.IsTruncated) {
			if out.NextContinuationToken != nil {
				e.t.Errorf("last page has NextContinuationToken %q", *out.NextContinuationToken)
			}
			return ids, pages
		}
		if aws.ToString(out.NextContinuationToken) == "" {
			e.t.Fatalf("truncated page without NextContinuationToken")
		}
		token = out.NextContinuationToken
	}
}

func TestTieringRoundTrip(t *testing.T) {
	e := newEnv(t)
	b := e.bucket()
	cold := tieringConfig("cold", &types.IntelligentTieringFilter{And: &types.IntelligentTieringAndOperator{Prefix: aws.String("logs/"),
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("a")}, {Key: aws.String("keep"), Value: aws.String("")}}}}, 90, 180)
	archive := tieringConfig("archive", &types.IntelligentTieringFilter{Prefix: aws.String("data/")}, 365, 0)
	deep := tieringConfig("deep", &types.IntelligentTieringFilter{Tag: &types.Tag{Key: aws.String("k"), Value: aws.String("v")}}, 0, 730)
	deep.Status = types.IntelligentTieringStatusDisabled
	whole := tieringConfig("whole", nil, 100, 200)
	for _, c := range []*types.IntelligentTieringConfiguration{cold, archive, deep, whole} {
		if err := e.putTiering(b, c); err != nil {
			t.Fatalf("put %s: %v", *c.Id, err)
		}
	}
	for _, want := range []*types.IntelligentTieringConfiguration{cold, archive, deep, whole} {
		got, err := e.getTiering(b, *want.Id)
		if err != nil {
			t.Fatalf("get %s: %v", *want.Id, err)
		}
		if g, w := jsonOf(t, got), jsonOf(t, want); g != w {
			t.Errorf("get %s:\ngot  %s\nwant %s", *want.Id, g, w)
		}
	}
	if ids, pages := e.listTiering(b); fmt.Sprint(ids) != "[archive cold deep whole]" || len(pages) != 1 {
		t.Errorf("list: got %v in pages %v, want [archive cold deep whole] in one page", ids, pages)
	}

	// A PUT of an existing id replaces it.
	if err := e.putTiering(b, tieringConfig("cold", nil, 120, 0)); err != nil {
		t.Fatal(err)
	}
	if got, err := e.getTiering(b, "cold"); err != nil || jsonOf(t, got) != jsonOf(t, tieringConfig("cold", nil, 120, 0)) {
		t.Errorf("get after replace: got %s, %v", jsonOf(t, got), err)
	}

	if err := e.deleteTiering(b, "cold"); err != nil {
		t.Fatalf("delete: %v", err)
	}
	_, err := e.getTiering(b, "cold")
	wantErr(t, err, "NoSuchConfiguration", http.StatusNotFound)
	wantErr(t, e.deleteTiering(b, "cold"), "NoSuchConfiguration", http.StatusNotFound)
	if ids, _ := e.listTiering(b); fmt.Sprint(ids) != "[archive deep whole]" {
		t.Errorf("list after delete: got %v", ids)
	}
	for _, id := range []string{"archive", "deep", "whole"} {
		if err := e.deleteTiering(b, id); err != nil {
			t.Fatal(err)
		}
	}
	if ids, pages := e.listTiering(b); len(ids) != 0 || len(pages) != 1 {
		t.Errorf("list of none: got %v in pages %v, want one empty page", ids, pages)
	}
}

// TestTieringLimit: 1,000 configurations list 100 to a page; a 1,001st
// is refused with TooManyConfigurations, while replacing one is not.
func TestTieringLimit(t *testing.T) {
	e := newEnv(t)
	b := e.bucket()
	var want []string
	for i := range 1000 {
		id := fmt.Sprintf("c%04d", i)
		want = append(want, id)
		if err := e.putTiering(b, tieringConfig(id, &types.IntelligentTieringFilter{Prefix: aws.String(id + "/")}, 90, 0)); err != nil {
			t.Fatalf("put %s: %v", id, err)
		}
	}
	ids, pages := e.listTiering(b)
	if fmt.Sprint(ids) != fmt.Sprint(want) {
		t.Errorf("list: got %d ids, want c0000..c0999 in order", len(ids))
	}
	if fmt.Sprint(pages) != "[100 100 100 100 100 100 100 100 100 100]" {
		t.Errorf("page sizes: got %v, want ten pages of 100", pages)
	}

	err := e.putTiering(b, tieringConfig("one-too-many", nil, 90, 0))
	wantErr(t, err, "TooManyConfigurations", http.StatusBadRequest)
	var ae smithy.APIError
	if want := "You are attempting to create a new configuration but have already reached the 1,000-configuration limit."; err != nil &&
		(!errors.As(err, &ae) || ae.ErrorMessage() != want) {
		t.Errorf("TooManyConfigurations message: got %v, want %q", err, want)
	}
	if _, err := e.getTiering(b, "one-too-many"); errorCode(err) != "NoSuchConfiguration" {
		t.Errorf("refused configuration stored: get gave %v", err)
	}
	if err := e.putTiering(b, tieringConfig("c0500", nil, 400, 0)); err != nil {
		t.Errorf("replace at the limit: %v", err)
	}
	if err := e.deleteTiering(b, "c0000"); err != nil {
		t.Fatal(err)
	}
	if err := e.putTiering(b, tieringConfig("one-more", nil, 90, 0)); err != nil {
		t.Errorf("put after a delete at the limit: %v", err)
	}
}

// putTieringRaw PUTs doc as configuration id ("" leaves the id out).
func (e *env) putTieringRaw(bucket, id string, doc []byte) (*http.Response, []byte) {
	e.t.Helper()
	q := "?intelligent-tiering"
	if id != "" {
		q += "&id=" + id
	}
	return e.raw(http.MethodPut, "/"+bucket+q, doc, rawOpts{})
}

// rawTieringList is the listing document of bucket.
func (e *env) rawTieringList(bucket string) []byte {
	e.t.Helper()
	resp, body := e.raw(http.MethodGet, "/"+bucket+"?intelligent-tiering", nil, rawOpts{})
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("GET ?intelligent-tiering: status %d: %s", resp.StatusCode, body)
	}
	return body
}

func itDoc(id, inner string) []byte {
	return []byte(`<IntelligentTieringConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Id>` + id + `</Id>` + inner +
		`</IntelligentTieringConfiguration>`)
}

func itTier(tier string, days int) string {
	return fmt.Sprintf(`<Tiering><Days>%d</Days><AccessTier>%s</AccessTier></Tiering>`, days, tier)
}

// TestTieringValidation: every class of refusal reaches the client with
// S3's code, status and message, and changes nothing.
func TestTieringValidation(t *testing.T) {
	e := newEnv(t)
	b := e.bucket()
	if err := e.putTiering(b, tieringConfig("cfg", nil, 90, 180)); err != nil {
		t.Fatal(err)
	}
	before := e.rawTieringList(b)
	const on = `<Status>Enabled</Status>`
	a90 := itTier("ARCHIVE_ACCESS", 90)
	for _, c := range []struct {
		name string
		id   string
		doc  []byte
		code string
		msg  string // "" for the code's fixed message
	}{
		{"not XML", "cfg", []byte("not XML"), "MalformedXML", ""},
		{"empty body", "cfg", nil, "MalformedXML", ""},
		{"body id differs from the query's", "other", itDoc("cfg", on+a90), "MalformedXML", ""},
		{"no Id element", "cfg", []byte(`<IntelligentTieringConfiguration>` + on + a90 + `</IntelligentTieringConfiguration>`), "MalformedXML", ""},
		{"no Status", "cfg", itDoc("cfg", a90), "MalformedXML", ""},
		{"bad Status", "cfg", itDoc("cfg", `<Status>On</Status>`+a90), "MalformedXML", ""},
		{"no Tiering", "cfg", itDoc("cfg", on), "MalformedXML", ""},
		{"unknown access tier", "cfg", itDoc("cfg", on+itTier("GLACIER", 90)), "MalformedXML", ""},
		{"Days not an integer", "cfg", itDoc("cfg", on+`<Tiering><Days>9x</Days><AccessTier>ARCHIVE_ACCESS</AccessTier></Tiering>`), "MalformedXML", ""},
		{"unknown element", "cfg", itDoc("cfg", on+a90+`<Priority>1</Priority>`), "MalformedXML", ""},
		{"two filter predicates", "cfg", itDoc("cfg", `<Filter><Prefix>a</Prefix><Tag><Key>k</Key><Value>v</Value></Tag></Filter>`+on+a90), "MalformedXML", ""},
		{"And of one predicate", "cfg", itDoc("cfg", `<Filter><And><Prefix>a</Prefix></And></Filter>`+on+a90), "MalformedXML", ""},
		{"repeated tag keys", "cfg", itDoc("cfg", `<Filter><And><Tag><Key>k</Key><Value>1</Value></Tag><Tag><Key>k</Key><Value>2</Value></Tag></And></Filter>`+on+a90),
			"InvalidRequest", "Duplicate Tag Keys are not allowed."},
		{"no id parameter", "", itDoc("cfg", on+a90), "InvalidArgument", "Missing required parameter: id"},
		{"archive under 90 days", "cfg", itDoc("cfg", on+itTier("ARCHIVE_ACCESS", 89)),
			"InvalidArgument", "Days specified in ARCHIVE_ACCESS tier should not be less than 90."},
		{"deep archive under 180 days", "cfg", itDoc("cfg", on+itTier("DEEP_ARCHIVE_ACCESS", 90)),
			"InvalidArgument", "Days specified in DEEP_ARCHIVE_ACCESS tier should not be less than 180."},
		{"archive over 730 days", "cfg", itDoc("cfg", on+itTier("ARCHIVE_ACCESS", 731)),
			"InvalidArgument", "Days specified in ARCHIVE_ACCESS tier should not be more than 730."},
		{"deep archive over 730 days", "cfg", itDoc("cfg", on+itTier("DEEP_ARCHIVE_ACCESS", 1000)),
			"InvalidArgument", "Days specified in DEEP_ARCHIVE_ACCESS tier should not be more than 730."},
		{"one tier twice", "cfg", itDoc("cfg", on+a90+itTier("ARCHIVE_ACCESS", 120)),
			"InvalidArgument", "Only one Tiering per AccessTier is allowed. Found more than one for ARCHIVE_ACCESS."},
		{"deep archive not after archive", "cfg", itDoc("cfg", on+itTier("ARCHIVE_ACCESS", 365)+itTier("DEEP_ARCHIVE_ACCESS", 365)),
			"InvalidArgument", "Days specified in DEEP_ARCHIVE_ACCESS tier should be greater than days specified in ARCHIVE_ACCESS tier."},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp, body := e.putTieringRaw(b, c.id, c.doc)
			doc := wantXMLError(t, resp, body, c.code, http.StatusBadRequest)
			if c.msg != "" && doc.Message != c.msg {
				t.Errorf("Message: got %q, want %q", doc.Message, c.msg)
			}
			if after := e.rawTieringList(b); !bytes.Equal(after, before) {
				t.Errorf("configurations changed by a refused PUT:\nbefore %s\nafter  %s", before, after)
			}
		})
	}

	// Through the SDK: the code and message reach the caller.
	err := e.putTiering(b, tieringConfig("cfg", nil, 89, 0))
	wantErr(t, err, "InvalidArgument", http.StatusBadRequest)
	var ae smithy.APIError
	if want := "Days specified in ARCHIVE_ACCESS tier should not be less than 90."; err != nil && (!errors.As(err, &ae) || ae.ErrorMessage() != want) {
		t.Errorf("SDK error message: got %v, want %q", err, want)
	}
	if after := e.rawTieringList(b); !bytes.Equal(after, before) {
		t.Errorf("configurations changed by a refused SDK PUT")
	}

	// A DELETE without id, and a listing with a token firn never gave.
	resp, body := e.raw(http.MethodDelete, "/"+b+"?intelligent-tiering", nil, rawOpts{})
	wantXMLError(t, resp, body, "InvalidArgument", http.StatusBadRequest)
	resp, body = e.raw(http.MethodGet, "/"+b+"?intelligent-tiering&continuation-token=%25%25", nil, rawOpts{})
	wantXMLError(t, resp, body, "InvalidArgument", http.StatusBadRequest)
	if after := e.rawTieringList(b); !bytes.Equal(after, before) {
		t.Errorf("configurations changed by a refused DELETE")
	}
}

// TestTieringNoSuch: the 404s of a missing configuration and of a
// missing bucket.
func TestTieringNoSuch(t *testing.T) {
	e := newEnv(t)
	b := e.bucket()
	resp, body := e.raw(http.MethodGet, "/"+b+"?intelligent-tiering&id=nope", nil, rawOpts{})
	if doc := wantXMLError(t, resp, body, "NoSuchConfiguration", http.StatusNotFound); doc.Message != "The specified configuration does not exist." {
		t.Errorf("NoSuchConfiguration message: got %q", doc.Message)
	}

	const missing = "no-such-bucket-here"
	wantErr(t, e.putTiering(missing, tieringConfig("x", nil, 90, 0)), "NoSuchBucket", http.StatusNotFound)
	_, err := e.getTiering(missing, "x")
	wantErr(t, err, "NoSuchBucket", http.StatusNotFound)
	wantErr(t, e.deleteTiering(missing, "x"), "NoSuchBucket", http.StatusNotFound)
	_, err = e.s3.ListBucketIntelligentTieringConfigurations(ctx, &s3.ListBucketIntelligentTieringConfigurationsInput{Bucket: aws.String(missing)})
	wantErr(t, err, "NoSuchBucket", http.StatusNotFound)
}

// TestTieringBucketRecreated: a deleted bucket's configurations do not
// come back with a new bucket of the same name, even once cached.
func TestTieringBucketRecreated(t *testing.T) {
	e := newEnv(t)
	b := e.bucket()
	if err := e.putTiering(b, tieringConfig("x", nil, 90, 0)); err != nil {
		t.Fatal(err)
	}
	if ids, _ := e.listTiering(b); len(ids) != 1 {
		t.Fatalf("list: got %v, want [x]", ids)
	}
	if _, err := e.s3.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(b)}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b)}); err != nil {
		t.Fatal(err)
	}
	if ids, _ := e.listTiering(b); len(ids) != 0 {
		t.Errorf("list after the bucket was recreated: got %v, want none", ids)
	}
	_, err := e.getTiering(b, "x")
	wantErr(t, err, "NoSuchConfiguration", http.StatusNotFound)
}

// jsonOf renders v for comparison.
func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
