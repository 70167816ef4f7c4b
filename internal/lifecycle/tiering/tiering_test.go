package tiering

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/firnhq/firn/internal/lifecycle"
)

// doc wraps the inside of an IntelligentTieringConfiguration named id.
func doc(id, inner string) []byte {
	return []byte(`<IntelligentTieringConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Id>` + id + `</Id>` +
		inner + `</IntelligentTieringConfiguration>`)
}

func tier(tier string, days int) string {
	return fmt.Sprintf(`<Tiering><Days>%d</Days><AccessTier>%s</AccessTier></Tiering>`, days, tier)
}

const enabled = `<Status>Enabled</Status>`

func TestTieringParse(t *testing.T) {
	archive90 := tier(ArchiveAccess, 90)
	for _, c := range []struct {
		name string
		id   string // the query id; "cfg" when empty
		body []byte
		code string // "" for accepted
		msg  string // checked when not ""
	}{
		{name: "archive only", body: doc("cfg", enabled+archive90)},
		{name: "deep archive only", body: doc("cfg", `<Status>Disabled</Status>`+tier(DeepArchiveAccess, 180))},
		{name: "both at the bounds", body: doc("cfg", enabled+tier(ArchiveAccess, 729)+tier(DeepArchiveAccess, 730))},
		{name: "no namespace", body: []byte(`<IntelligentTieringConfiguration><Id>cfg</Id>` + enabled + archive90 + `</IntelligentTieringConfiguration>`)},
		{name: "prefix filter", body: doc("cfg", `<Filter><Prefix>logs/</Prefix></Filter>`+enabled+archive90)},
		{name: "empty filter", body: doc("cfg", `<Filter></Filter>`+enabled+archive90)},
		{name: "tag filter", body: doc("cfg", `<Filter><Tag><Key>k</Key><Value>v</Value></Tag></Filter>`+enabled+archive90)},
		{name: "and of prefix and tag", body: doc("cfg", `<Filter><And><Prefix>p</Prefix><Tag><Key>k</Key><Value>v</Value></Tag></And></Filter>`+enabled+archive90)},
		{name: "and of two tags", body: doc("cfg", `<Filter><And><Tag><Key>a</Key><Value></Value></Tag><Tag><Key>b</Key><Value>v</Value></Tag></And></Filter>`+enabled+archive90)},

		{name: "not XML", body: []byte("nope"), code: CodeMalformedXML},
		{name: "empty body", body: nil, code: CodeMalformedXML},
		{name: "wrong root", body: []byte(`<LifecycleConfiguration/>`), code: CodeMalformedXML},
		{name: "trailing element", body: append(doc("cfg", enabled+archive90), "<x/>"...), code: CodeMalformedXML},
		{name: "id differs from the query", id: "other", body: doc("cfg", enabled+archive90), code: CodeMalformedXML},
		{name: "no Id", body: []byte(`<IntelligentTieringConfiguration>` + enabled + archive90 + `</IntelligentTieringConfiguration>`), code: CodeMalformedXML},
		{name: "two Ids", body: doc("cfg", `<Id>cfg</Id>`+enabled+archive90), code: CodeMalformedXML},
		{name: "no Status", body: doc("cfg", archive90), code: CodeMalformedXML},
		{name: "status not exactly Enabled", body: doc("cfg", `<Status>enabled</Status>`+archive90), code: CodeMalformedXML},
		{name: "no Tiering", body: doc("cfg", enabled), code: CodeMalformedXML},
		{name: "unknown element", body: doc("cfg", enabled+archive90+`<Extra/>`), code: CodeMalformedXML},
		{name: "unknown access tier", body: doc("cfg", enabled+tier("GLACIER", 90)), code: CodeMalformedXML},
		{name: "Days not a number", body: doc("cfg", enabled+`<Tiering><Days>ninety</Days><AccessTier>ARCHIVE_ACCESS</AccessTier></Tiering>`), code: CodeMalformedXML},
		{name: "Days missing", body: doc("cfg", enabled+`<Tiering><AccessTier>ARCHIVE_ACCESS</AccessTier></Tiering>`), code: CodeMalformedXML},
		{name: "AccessTier missing", body: doc("cfg", enabled+`<Tiering><Days>90</Days></Tiering>`), code: CodeMalformedXML},
		{name: "two predicates outside And", body: doc("cfg", `<Filter><Prefix>p</Prefix><Tag><Key>k</Key><Value>v</Value></Tag></Filter>`+enabled+archive90), code: CodeMalformedXML},
		{name: "And of one predicate", body: doc("cfg", `<Filter><And><Prefix>p</Prefix></And></Filter>`+enabled+archive90), code: CodeMalformedXML},
		{name: "tag without a value", body: doc("cfg", `<Filter><Tag><Key>k</Key></Tag></Filter>`+enabled+archive90), code: CodeMalformedXML},
		{name: "tag with an empty key", body: doc("cfg", `<Filter><Tag><Key></Key><Value>v</Value></Tag></Filter>`+enabled+archive90), code: CodeMalformedXML},
		{name: "repeated tag keys in And", body: doc("cfg", `<Filter><And><Tag><Key>k</Key><Value>1</Value></Tag><Tag><Key>k</Key><Value>2</Value></Tag></And></Filter>`+enabled+archive90),
			code: CodeInvalidRequest, msg: "Duplicate Tag Keys are not allowed."},

		{name: "archive under 90 days", body: doc("cfg", enabled+tier(ArchiveAccess, 89)), code: CodeInvalidArgument,
			msg: "Days specified in ARCHIVE_ACCESS tier should not be less than 90."},
		{name: "deep archive under 180 days", body: doc("cfg", enabled+tier(DeepArchiveAccess, 179)), code: CodeInvalidArgument,
			msg: "Days specified in DEEP_ARCHIVE_ACCESS tier should not be less than 180."},
		{name: "negative days", body: doc("cfg", enabled+tier(ArchiveAccess, -1)), code: CodeInvalidArgument,
			msg: "Days specified in ARCHIVE_ACCESS tier should not be less than 90."},
		{name: "archive over 730 days", body: doc("cfg", enabled+tier(ArchiveAccess, 731)), code: CodeInvalidArgument,
			msg: "Days specified in ARCHIVE_ACCESS tier should not be more than 730."},
		{name: "deep archive over 730 days", body: doc("cfg", enabled+tier(DeepArchiveAccess, 731)), code: CodeInvalidArgument,
			msg: "Days specified in DEEP_ARCHIVE_ACCESS tier should not be more than 730."},
		{name: "same tier twice", body: doc("cfg", enabled+archive90+tier(ArchiveAccess, 100)), code: CodeInvalidArgument,
			msg: "Only one Tiering per AccessTier is allowed. Found more than one for ARCHIVE_ACCESS."},
		{name: "deep archive not after archive", body: doc("cfg", enabled+tier(ArchiveAccess, 200)+tier(DeepArchiveAccess, 200)), code: CodeInvalidArgument,
			msg: "Days specified in DEEP_ARCHIVE_ACCESS tier should be greater than days specified in ARCHIVE_ACCESS tier."},
		{name: "deep archive before archive", body: doc("cfg", enabled+tier(DeepArchiveAccess, 180)+tier(ArchiveAccess, 365)), code: CodeInvalidArgument,
			msg: "Days specified in DEEP_ARCHIVE_ACCESS tier should be greater than days specified in ARCHIVE_ACCESS tier."},
	} {
		t.Run(c.name, func(t *testing.T) {
			id := c.id
			if id == "" {
				id = "cfg"
			}
			cfg, err := Parse(id, c.body)
			if c.code == "" {
				if err != nil {
					t.Fatalf("Parse: got %v, want success", err)
				}
				// What Marshal writes parses back to the same configuration.
				again, err := Parse(id, cfg.Marshal())
				if err != nil {
					t.Fatalf("Parse(Marshal()): %v\n%s", err, cfg.Marshal())
				}
				if !reflect.DeepEqual(again, cfg) {
					t.Errorf("round trip: got %+v, want %+v", again, cfg)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Parse: got %v, want an *Error with code %s", err, c.code)
			}
			if e.Code != c.code {
				t.Errorf("code: got %s (%s), want %s", e.Code, e.Message, c.code)
			}
			if c.msg != "" && e.Message != c.msg {
				t.Errorf("message: got %q, want %q", e.Message, c.msg)
			}
			if e.Status() != 400 {
				t.Errorf("status: got %d, want 400", e.Status())
			}
		})
	}
}

func TestTieringMarshal(t *testing.T) {
	p := "logs/"
	c := Configuration{ID: "a", Status: Enabled, Filter: &Filter{And: &And{Prefix: &p, Tags: []lifecycle.Tag{{Key: "k", Value: "v"}, {Key: "x", Value: "y"}}}},
		Tierings: []Tiering{{Days: 90, AccessTier: ArchiveAccess}, {Days: 180, AccessTier: DeepArchiveAccess}}}
	got := string(c.Marshal())
	want := `<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<IntelligentTieringConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Id>a</Id>` +
		`<Filter><And><Prefix>logs/</Prefix><Tag><Key>k</Key><Value>v</Value></Tag><Tag><Key>x</Key><Value>y</Value></Tag></And></Filter>` +
		`<Status>Enabled</Status><Tiering><Days>90</Days><AccessTier>ARCHIVE_ACCESS</AccessTier></Tiering>` +
		`<Tiering><Days>180</Days><AccessTier>DEEP_ARCHIVE_ACCESS</AccessTier></Tiering></IntelligentTieringConfiguration>`
	if got != want {
		t.Errorf("Marshal:\ngot  %s\nwant %s", got, want)
	}

	list := string(MarshalList(Page{Configurations: []Configuration{c}, ContinuationToken: "t1", NextContinuationToken: "t2"}))
	for _, part := range []string{`<ListBucketIntelligentTieringConfigurationsOutput xmlns="http://s3.amazonaws.com/doc/2006-03-01/">`,
		`<IsTruncated>true</IsTruncated><ContinuationToken>t1</ContinuationToken><NextContinuationToken>t2</NextContinuationToken><IntelligentTieringConfiguration><Id>a</Id>`} {
		if !strings.Contains(list, part) {
			t.Errorf("MarshalList: %s\nwant it to contain %s", list, part)
		}
	}
	last := MarshalList(Page{})
	if !bytes.Contains(last, []byte(`<IsTruncated>false</IsTruncated></ListBucketIntelligentTieringConfigurationsOutput>`)) {
		t.Errorf("MarshalList of an empty last page: %s", last)
	}
}

// TestJSON: the stored form reads back to the same configuration.
func TestTieringJSON(t *testing.T) {
	cfg, err := Parse("j", doc("j", `<Filter><Tag><Key>k</Key><Value>v</Value></Tag></Filter>`+enabled+tier(DeepArchiveAccess, 365)))
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var back Configuration
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&back, cfg) {
		t.Errorf("JSON round trip: got %+v, want %+v (%s)", back, *cfg, b)
	}
}

func TestTieringMatches(t *testing.T) {
	p, empty := "logs/", ""
	tags := map[string]string{"team": "a", "tier": "cold"}
	for _, c := range []struct {
		name   string
		filter *Filter
		key    string
		want   bool
	}{
		{"no filter", nil, "x", true},
		{"empty filter", &Filter{}, "x", true},
		{"empty prefix", &Filter{Prefix: &empty}, "x", true},
		{"prefix match", &Filter{Prefix: &p}, "logs/1", true},
		{"prefix miss", &Filter{Prefix: &p}, "data/1", false},
		{"tag match", &Filter{Tag: &lifecycle.Tag{Key: "team", Value: "a"}}, "x", true},
		{"tag value differs", &Filter{Tag: &lifecycle.Tag{Key: "team", Value: "b"}}, "x", false},
		{"and match", &Filter{And: &And{Prefix: &p, Tags: []lifecycle.Tag{{Key: "team", Value: "a"}, {Key: "tier", Value: "cold"}}}}, "logs/1", true},
		{"and prefix miss", &Filter{And: &And{Prefix: &p, Tags: []lifecycle.Tag{{Key: "team", Value: "a"}}}}, "data/1", false},
		{"and tag miss", &Filter{And: &And{Tags: []lifecycle.Tag{{Key: "team", Value: "a"}, {Key: "owner", Value: "z"}}}}, "x", false},
	} {
		cfg := Configuration{Filter: c.filter}
		if got := cfg.Matches(c.key, tags); got != c.want {
			t.Errorf("%s: Matches(%q): got %v, want %v", c.name, c.key, got, c.want)
		}
	}
	cfg := Configuration{Tierings: []Tiering{{Days: 120, AccessTier: ArchiveAccess}}}
	if d, ok := cfg.TierDays(ArchiveAccess); !ok || d != 120 {
		t.Errorf("TierDays(ARCHIVE_ACCESS): got %d, %v; want 120, true", d, ok)
	}
	if _, ok := cfg.TierDays(DeepArchiveAccess); ok {
		t.Errorf("TierDays(DEEP_ARCHIVE_ACCESS): got true, want false")
	}
}
