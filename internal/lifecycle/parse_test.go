package lifecycle

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func ptr[T any](v T) *T { return &v }

func date(s string) *time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return &t
}

// doc wraps rules in a LifecycleConfiguration in S3's namespace.
func doc(rules ...string) string {
	return `<LifecycleConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">` +
		strings.Join(rules, "") + `</LifecycleConfiguration>`
}

// rule wraps the inside of a Rule; an ID and Status are added unless
// inner has its own.
func rule(inner string) string {
	if !strings.Contains(inner, "<Status>") {
		inner = "<Status>Enabled</Status>" + inner
	}
	return "<Rule>" + inner + "</Rule>"
}

const everything = `<?xml version="1.0" encoding="UTF-8"?>
<LifecycleConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Rule>
    <ID>all-elements</ID>
    <Filter>
      <And>
        <Prefix>logs/</Prefix>
        <Tag><Key>k1</Key><Value>v1</Value></Tag>
        <Tag><Key>k2</Key><Value></Value></Tag>
        <ObjectSizeGreaterThan>500</ObjectSizeGreaterThan>
        <ObjectSizeLessThan>64000000</ObjectSizeLessThan>
      </And>
    </Filter>
    <Status>Enabled</Status>
    <Transition><Days>30</Days><StorageClass>STANDARD_IA</StorageClass></Transition>
    <Transition><Days>60</Days><StorageClass>INTELLIGENT_TIERING</StorageClass></Transition>
    <Transition><Days>90</Days><StorageClass>GLACIER_IR</StorageClass></Transition>
    <Transition><Days>180</Days><StorageClass>GLACIER</StorageClass></Transition>
    <Transition><Days>365</Days><StorageClass>DEEP_ARCHIVE</StorageClass></Transition>
    <Expiration><Days>3650</Days></Expiration>
    <NoncurrentVersionTransition>
      <NoncurrentDays>30</NoncurrentDays>
      <NewerNoncurrentVersions>2</NewerNoncurrentVersions>
      <StorageClass>ONEZONE_IA</StorageClass>
    </NoncurrentVersionTransition>
    <NoncurrentVersionTransition><NoncurrentDays>60</NoncurrentDays><StorageClass>GLACIER</StorageClass></NoncurrentVersionTransition>
    <NoncurrentVersionExpiration>
      <NoncurrentDays>100</NoncurrentDays>
      <NewerNoncurrentVersions>5</NewerNoncurrentVersions>
    </NoncurrentVersionExpiration>
  </Rule>
  <Rule>
    <ID>dated</ID>
    <Filter><Prefix>tax/</Prefix></Filter>
    <Status>Disabled</Status>
    <Transition><Date>2030-01-01T00:00:00.000Z</Date><StorageClass>GLACIER</StorageClass></Transition>
    <Expiration><Date>2031-01-01T00:00:00Z</Date></Expiration>
    <AbortIncompleteMultipartUpload><DaysAfterInitiation>7</DaysAfterInitiation></AbortIncompleteMultipartUpload>
  </Rule>
  <Rule>
    <ID>markers</ID>
    <Filter></Filter>
    <Status>Enabled</Status>
    <Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration>
  </Rule>
  <Rule>
    <ID>tagged</ID>
    <Filter><Tag><Key>class</Key><Value>cold</Value></Tag></Filter>
    <Status>Enabled</Status>
    <Transition><Days>0</Days><StorageClass>GLACIER_IR</StorageClass></Transition>
  </Rule>
  <Rule>
    <ID>big</ID>
    <Filter><ObjectSizeGreaterThan>1048576</ObjectSizeGreaterThan></Filter>
    <Status>Enabled</Status>
    <Transition><Days>1</Days><StorageClass>DEEP_ARCHIVE</StorageClass></Transition>
  </Rule>
  <Rule>
    <ID>small</ID>
    <Filter><ObjectSizeLessThan>1024</ObjectSizeLessThan></Filter>
    <Status>Enabled</Status>
    <Expiration><Days>1</Days></Expiration>
  </Rule>
</LifecycleConfiguration>`

// everythingWant is what Parse makes of everything.
var everythingWant = &Configuration{Rules: []Rule{
	{
		ID:     "all-elements",
		Status: Enabled,
		Filter: &Filter{And: &And{
			Prefix:                ptr("logs/"),
			Tags:                  []Tag{{"k1", "v1"}, {"k2", ""}},
			ObjectSizeGreaterThan: ptr[int64](500),
			ObjectSizeLessThan:    ptr[int64](64000000),
		}},
		Transitions: []Transition{
			{Days: ptr(30), StorageClass: StandardIA},
			{Days: ptr(60), StorageClass: IntelligentTiering},
			{Days: ptr(90), StorageClass: GlacierIR},
			{Days: ptr(180), StorageClass: Glacier},
			{Days: ptr(365), StorageClass: DeepArchive},
		},
		Expiration: &Expiration{Days: ptr(3650)},
		NoncurrentVersionTransitions: []NoncurrentVersionTransition{
			{NoncurrentDays: ptr(30), NewerNoncurrentVersions: ptr(2), StorageClass: OnezoneIA},
			{NoncurrentDays: ptr(60), StorageClass: Glacier},
		},
		NoncurrentVersionExpiration: &NoncurrentVersionExpiration{NoncurrentDays: ptr(100), NewerNoncurrentVersions: ptr(5)},
	},
	{
		ID:                             "dated",
		Status:                         Disabled,
		Filter:                         &Filter{Prefix: ptr("tax/")},
		Transitions:                    []Transition{{Date: date("2030-01-01T00:00:00Z"), StorageClass: Glacier}},
		Expiration:                     &Expiration{Date: date("2031-01-01T00:00:00Z")},
		AbortIncompleteMultipartUpload: &AbortIncompleteMultipartUpload{DaysAfterInitiation: ptr(7)},
	},
	{
		ID:         "markers",
		Status:     Enabled,
		Filter:     &Filter{},
		Expiration: &Expiration{ExpiredObjectDeleteMarker: ptr(true)},
	},
	{
		ID:          "tagged",
		Status:      Enabled,
		Filter:      &Filter{Tag: &Tag{"class", "cold"}},
		Transitions: []Transition{{Days: ptr(0), StorageClass: GlacierIR}},
	},
	{
		ID:          "big",
		Status:      Enabled,
		Filter:      &Filter{ObjectSizeGreaterThan: ptr[int64](1048576)},
		Transitions: []Transition{{Days: ptr(1), StorageClass: DeepArchive}},
	},
	{
		ID:         "small",
		Status:     Enabled,
		Filter:     &Filter{ObjectSizeLessThan: ptr[int64](1024)},
		Expiration: &Expiration{Days: ptr(1)},
	},
}}

func TestParseEverything(t *testing.T) {
	got, err := Parse([]byte(everything))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if !reflect.DeepEqual(got, everythingWant) {
		t.Errorf("Parse:\ngot  %#v\nwant %#v", got, everythingWant)
	}
}

func TestParseAccepts(t *testing.T) {
	tests := []struct {
		name string
		body string
		want *Configuration
	}{
		{
			name: "no namespace",
			body: `<LifecycleConfiguration><Rule><ID>a</ID><Filter><Prefix></Prefix></Filter><Status>Enabled</Status>` +
				`<Expiration><Days>1</Days></Expiration></Rule></LifecycleConfiguration>`,
			want: &Configuration{Rules: []Rule{{ID: "a", Status: Enabled, Filter: &Filter{Prefix: ptr("")}, Expiration: &Expiration{Days: ptr(1)}}}},
		},
		{
			name: "other prefix bound to the namespace",
			body: `<s3:LifecycleConfiguration xmlns:s3="http://s3.amazonaws.com/doc/2006-03-01/"><s3:Rule><s3:ID>a</s3:ID>` +
				`<s3:Filter/><s3:Status>Enabled</s3:Status><s3:Expiration><s3:Days>1</s3:Days></s3:Expiration></s3:Rule></s3:LifecycleConfiguration>`,
			want: &Configuration{Rules: []Rule{{ID: "a", Status: Enabled, Filter: &Filter{}, Expiration: &Expiration{Days: ptr(1)}}}},
		},
		{
			name: "lifecycle V1 prefix",
			body: doc(rule(`<ID>v1</ID><Prefix>logs/</Prefix><Expiration><Days>10</Days></Expiration>`),
				rule(`<ID>v1b</ID><Prefix>tmp/</Prefix><Expiration><Days>1</Days></Expiration>`)),
			want: &Configuration{Rules: []Rule{
				{ID: "v1", Status: Enabled, Prefix: ptr("logs/"), Expiration: &Expiration{Days: ptr(10)}},
				{ID: "v1b", Status: Enabled, Prefix: ptr("tmp/"), Expiration: &Expiration{Days: ptr(1)}},
			}},
		},
		{
			name: "plain date, whitespace around numbers, boolean 1",
			body: doc(rule(`<ID>d</ID><Filter/><Transition><Date>2030-01-01</Date><StorageClass>GLACIER</StorageClass></Transition>`)) +
				"\n<!-- trailing comment -->\n",
			want: &Configuration{Rules: []Rule{{ID: "d", Status: Enabled, Filter: &Filter{},
				Transitions: []Transition{{Date: date("2030-01-01T00:00:00Z"), StorageClass: Glacier}}}}},
		},
		{
			name: "date with an offset that is midnight UTC",
			body: doc(rule(`<ID>d</ID><Filter/><Expiration><Date>2030-01-01T01:00:00+01:00</Date></Expiration>`)),
			want: &Configuration{Rules: []Rule{{ID: "d", Status: Enabled, Filter: &Filter{},
				Expiration: &Expiration{Date: date("2030-01-01T00:00:00Z")}}}},
		},
		{
			name: "numbers with spaces and xs:boolean 1",
			body: doc(rule(`<ID>n</ID><Filter/><Expiration><ExpiredObjectDeleteMarker> 1 </ExpiredObjectDeleteMarker></Expiration>` +
				`<NoncurrentVersionExpiration><NoncurrentDays> 7 </NoncurrentDays></NoncurrentVersionExpiration>`)),
			want: &Configuration{Rules: []Rule{{ID: "n", Status: Enabled, Filter: &Filter{},
				Expiration:                  &Expiration{ExpiredObjectDeleteMarker: ptr(true)},
				NoncurrentVersionExpiration: &NoncurrentVersionExpiration{NoncurrentDays: ptr(7)}}}},
		},
		{
			name: "transition to GLACIER_IR at day 0, IA at exactly 30, IA to GLACIER 30 days later",
			body: doc(rule(`<ID>z</ID><Filter/><Transition><Days>0</Days><StorageClass>GLACIER_IR</StorageClass></Transition>`),
				rule(`<ID>ia</ID><Filter><Prefix>a/</Prefix></Filter><Transition><Days>30</Days><StorageClass>ONEZONE_IA</StorageClass></Transition>`+
					`<Transition><Days>60</Days><StorageClass>GLACIER</StorageClass></Transition>`)),
			want: &Configuration{Rules: []Rule{
				{ID: "z", Status: Enabled, Filter: &Filter{}, Transitions: []Transition{{Days: ptr(0), StorageClass: GlacierIR}}},
				{ID: "ia", Status: Enabled, Filter: &Filter{Prefix: ptr("a/")}, Transitions: []Transition{
					{Days: ptr(30), StorageClass: OnezoneIA}, {Days: ptr(60), StorageClass: Glacier}}},
			}},
		},
		{
			name: "ExpiredObjectDeleteMarker with a transition, and false",
			body: doc(rule(`<ID>m</ID><Filter/><Expiration><ExpiredObjectDeleteMarker>false</ExpiredObjectDeleteMarker></Expiration>` +
				`<Transition><Days>12</Days><StorageClass>DEEP_ARCHIVE</StorageClass></Transition>`)),
			want: &Configuration{Rules: []Rule{{ID: "m", Status: Enabled, Filter: &Filter{},
				Transitions: []Transition{{Days: ptr(12), StorageClass: DeepArchive}},
				Expiration:  &Expiration{ExpiredObjectDeleteMarker: ptr(false)}}}},
		},
		{
			name: "same class for current and noncurrent transitions",
			body: doc(rule(`<ID>s</ID><Filter/><Transition><Days>1</Days><StorageClass>DEEP_ARCHIVE</StorageClass></Transition>` +
				`<NoncurrentVersionTransition><NoncurrentDays>1</NoncurrentDays><StorageClass>DEEP_ARCHIVE</StorageClass></NoncurrentVersionTransition>`)),
			want: &Configuration{Rules: []Rule{{ID: "s", Status: Enabled, Filter: &Filter{},
				Transitions:                  []Transition{{Days: ptr(1), StorageClass: DeepArchive}},
				NoncurrentVersionTransitions: []NoncurrentVersionTransition{{NoncurrentDays: ptr(1), StorageClass: DeepArchive}}}}},
		},
		{
			name: "size bounds at their limits",
			body: doc(rule(`<ID>b</ID><Filter><And><ObjectSizeGreaterThan>0</ObjectSizeGreaterThan>` +
				`<ObjectSizeLessThan>1099511627776000</ObjectSizeLessThan></And></Filter><Expiration><Days>1</Days></Expiration>`)),
			want: &Configuration{Rules: []Rule{{ID: "b", Status: Enabled,
				Filter:     &Filter{And: &And{ObjectSizeGreaterThan: ptr[int64](0), ObjectSizeLessThan: ptr(MaxObjectSize)}},
				Expiration: &Expiration{Days: ptr(1)}}}},
		},
		{
			name: "NewerNoncurrentVersions 1 and 100",
			body: doc(rule(`<ID>n</ID><Filter/><NoncurrentVersionTransition><NoncurrentDays>0</NoncurrentDays>` +
				`<NewerNoncurrentVersions>1</NewerNoncurrentVersions><StorageClass>GLACIER</StorageClass></NoncurrentVersionTransition>` +
				`<NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays><NewerNoncurrentVersions>100</NewerNoncurrentVersions></NoncurrentVersionExpiration>`)),
			want: &Configuration{Rules: []Rule{{ID: "n", Status: Enabled, Filter: &Filter{},
				NoncurrentVersionTransitions: []NoncurrentVersionTransition{{NoncurrentDays: ptr(0), NewerNoncurrentVersions: ptr(1), StorageClass: Glacier}},
				NoncurrentVersionExpiration:  &NoncurrentVersionExpiration{NoncurrentDays: ptr(1), NewerNoncurrentVersions: ptr(100)}}}},
		},
		{
			name: "V1 prefixes that do not overlap, one per action kind",
			body: doc(rule(`<ID>a</ID><Prefix>a</Prefix><Expiration><Days>1</Days></Expiration>`),
				rule(`<ID>b</ID><Prefix>ab</Prefix><Transition><Days>1</Days><StorageClass>GLACIER</StorageClass></Transition>`)),
			want: &Configuration{Rules: []Rule{
				{ID: "a", Status: Enabled, Prefix: ptr("a"), Expiration: &Expiration{Days: ptr(1)}},
				{ID: "b", Status: Enabled, Prefix: ptr("ab"), Transitions: []Transition{{Days: ptr(1), StorageClass: Glacier}}},
			}},
		},
		{
			name: "ID of 255 characters",
			body: doc(rule(`<ID>` + strings.Repeat("é", 255) + `</ID><Filter/><Expiration><Days>1</Days></Expiration>`)),
			want: &Configuration{Rules: []Rule{{ID: strings.Repeat("é", 255), Status: Enabled, Filter: &Filter{}, Expiration: &Expiration{Days: ptr(1)}}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse([]byte(tt.body))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse:\ngot  %#v\nwant %#v", got, tt.want)
			}
		})
	}
}

func TestParseGeneratesIDs(t *testing.T) {
	body := []byte(doc(
		rule(`<Filter><Prefix>a/</Prefix></Filter><Expiration><Days>1</Days></Expiration>`),
		rule(`<ID></ID><Filter><Prefix>a/</Prefix></Filter><Expiration><Days>1</Days></Expiration>`),
		rule(`<ID>given</ID><Filter><Prefix>b/</Prefix></Filter><Expiration><Days>1</Days></Expiration>`),
	))
	c1, err := Parse(body)
	if err != nil {
		t.Fatal(err)
	}
	c2, err := Parse(body)
	if err != nil {
		t.Fatal(err)
	}
	id0, id1 := c1.Rules[0].ID, c1.Rules[1].ID
	if len(id0) != 48 || len(id1) != 48 {
		t.Errorf("generated IDs %q, %q: want 48 characters", id0, id1)
	}
	if id0 == id1 {
		t.Errorf("two identical rules got the same ID %q", id0)
	}
	if c2.Rules[0].ID != id0 || c2.Rules[1].ID != id1 {
		t.Errorf("IDs not deterministic: %q %q then %q %q", id0, id1, c2.Rules[0].ID, c2.Rules[1].ID)
	}
	if got := c1.Rules[2].ID; got != "given" {
		t.Errorf("given ID became %q", got)
	}
	// Generated IDs survive a round trip.
	c3, err := Parse(c1.Marshal())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c1, c3) {
		t.Errorf("round trip changed the configuration:\n%#v\n%#v", c1, c3)
	}
}

func TestParseRefuses(t *testing.T) {
	const (
		malformedXML = CodeMalformedXML
		badArg       = CodeInvalidArgument
		badReq       = CodeInvalidRequest
	)
	exp := `<Expiration><Days>1</Days></Expiration>`
	tests := []struct {
		name    string
		body    string
		code    string
		message string // "" for MalformedXML's fixed message
	}{
		// The document itself.
		{"empty body", ``, malformedXML, ""},
		{"not XML", `hello`, malformedXML, ""},
		{"text before the root", `x` + doc(rule(`<Filter/>`+exp)), malformedXML, ""},
		{"unclosed", `<LifecycleConfiguration><Rule>`, malformedXML, ""},
		{"wrong root", `<BucketLifecycleConfiguration>` + rule(`<Filter/>`+exp) + `</BucketLifecycleConfiguration>`, malformedXML, ""},
		{"second root", doc(rule(`<Filter/>`+exp)) + `<LifecycleConfiguration/>`, malformedXML, ""},
		{"text after the root", doc(rule(`<Filter/>`+exp)) + `junk`, malformedXML, ""},
		{"unknown element at the top", doc(rule(`<Filter/>`+exp), `<Foo/>`), malformedXML, ""},
		{"unknown element in a rule", doc(rule(`<Filter/>` + exp + `<Foo/>`)), malformedXML, ""},
		{"unknown element in a filter", doc(rule(`<Filter><Suffix>x</Suffix></Filter>` + exp)), malformedXML, ""},
		{"unknown element in an action", doc(rule(`<Filter/><Expiration><Days>1</Days><Hours>2</Hours></Expiration>`)), malformedXML, ""},

		// Rule elements.
		{"two IDs", doc(rule(`<ID>a</ID><ID>b</ID><Filter/>` + exp)), malformedXML, ""},
		{"no Status", doc(`<Rule><Filter/>` + exp + `</Rule>`), malformedXML, ""},
		{"two Status", doc(rule(`<Status>Enabled</Status><Status>Enabled</Status><Filter/>` + exp)), malformedXML, ""},
		{"Status in lower case", doc(rule(`<Status>enabled</Status><Filter/>` + exp)), malformedXML, ""},
		{"empty Status", doc(rule(`<Status></Status><Filter/>` + exp)), malformedXML, ""},
		{"neither Filter nor Prefix", doc(rule(exp)), malformedXML, ""},
		{"two Filters", doc(rule(`<Filter/><Filter/>` + exp)), malformedXML, ""},
		{"two Expirations", doc(rule(`<Filter/>` + exp + exp)), malformedXML, ""},
		{"two NoncurrentVersionExpirations", doc(rule(`<Filter/>` + strings.Repeat(`<NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays></NoncurrentVersionExpiration>`, 2))), malformedXML, ""},
		{"two AbortIncompleteMultipartUploads", doc(rule(`<Filter/>` + strings.Repeat(`<AbortIncompleteMultipartUpload><DaysAfterInitiation>1</DaysAfterInitiation></AbortIncompleteMultipartUpload>`, 2))), malformedXML, ""},

		// Filters.
		{"prefix and tag not in And", doc(rule(`<Filter><Prefix>a</Prefix><Tag><Key>k</Key><Value>v</Value></Tag></Filter>` + exp)), malformedXML, ""},
		{"prefix and size not in And", doc(rule(`<Filter><Prefix>a</Prefix><ObjectSizeLessThan>5</ObjectSizeLessThan></Filter>` + exp)), malformedXML, ""},
		{"both sizes not in And", doc(rule(`<Filter><ObjectSizeGreaterThan>1</ObjectSizeGreaterThan><ObjectSizeLessThan>5</ObjectSizeLessThan></Filter>` + exp)), malformedXML, ""},
		{"And beside a prefix", doc(rule(`<Filter><Prefix>a</Prefix><And><Prefix>a</Prefix><ObjectSizeLessThan>5</ObjectSizeLessThan></And></Filter>` + exp)), malformedXML, ""},
		{"two prefixes in a filter", doc(rule(`<Filter><Prefix>a</Prefix><Prefix>b</Prefix></Filter>` + exp)), malformedXML, ""},
		{"two tags not in And", doc(rule(`<Filter><Tag><Key>a</Key><Value>1</Value></Tag><Tag><Key>b</Key><Value>2</Value></Tag></Filter>` + exp)), malformedXML, ""},
		{"And with one predicate", doc(rule(`<Filter><And><Prefix>a</Prefix></And></Filter>` + exp)), malformedXML, ""},
		{"And with one tag", doc(rule(`<Filter><And><Tag><Key>a</Key><Value>1</Value></Tag></And></Filter>` + exp)), malformedXML, ""},
		{"empty And", doc(rule(`<Filter><And></And></Filter>` + exp)), malformedXML, ""},
		{"two prefixes in And", doc(rule(`<Filter><And><Prefix>a</Prefix><Prefix>b</Prefix></And></Filter>` + exp)), malformedXML, ""},
		{"tag without Value", doc(rule(`<Filter><Tag><Key>k</Key></Tag></Filter>` + exp)), malformedXML, ""},
		{"tag without Key", doc(rule(`<Filter><Tag><Value>v</Value></Tag></Filter>` + exp)), malformedXML, ""},
		{"tag with empty Key", doc(rule(`<Filter><Tag><Key></Key><Value>v</Value></Tag></Filter>` + exp)), malformedXML, ""},
		{"size not a number", doc(rule(`<Filter><ObjectSizeLessThan>big</ObjectSizeLessThan></Filter>` + exp)), malformedXML, ""},
		{"size beyond a long", doc(rule(`<Filter><ObjectSizeLessThan>9223372036854775808</ObjectSizeLessThan></Filter>` + exp)), malformedXML, ""},

		// Action schema.
		{"empty Expiration", doc(rule(`<Filter/><Expiration></Expiration>`)), malformedXML, ""},
		{"Expiration Days and Date", doc(rule(`<Filter/><Expiration><Days>1</Days><Date>2030-01-01T00:00:00Z</Date></Expiration>`)), malformedXML, ""},
		{"ExpiredObjectDeleteMarker with Days", doc(rule(`<Filter/><Expiration><Days>1</Days><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration>`)), malformedXML, ""},
		{"ExpiredObjectDeleteMarker with Date", doc(rule(`<Filter/><Expiration><Date>2030-01-01T00:00:00Z</Date><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration>`)), malformedXML, ""},
		{"ExpiredObjectDeleteMarker not a boolean", doc(rule(`<Filter/><Expiration><ExpiredObjectDeleteMarker>yes</ExpiredObjectDeleteMarker></Expiration>`)), malformedXML, ""},
		{"Days not a number", doc(rule(`<Filter/><Expiration><Days>ten</Days></Expiration>`)), malformedXML, ""},
		{"Days beyond an int", doc(rule(`<Filter/><Expiration><Days>2147483648</Days></Expiration>`)), malformedXML, ""},
		{"Days twice", doc(rule(`<Filter/><Expiration><Days>1</Days><Days>2</Days></Expiration>`)), malformedXML, ""},
		{"Date as an HTTP date", doc(rule(`<Filter/><Expiration><Date>Fri, 01 Jan 2016 00:00:00 GMT</Date></Expiration>`)), malformedXML, ""},
		{"Date without separators", doc(rule(`<Filter/><Expiration><Date>20200101</Date></Expiration>`)), malformedXML, ""},
		{"Transition Days and Date", doc(rule(`<Filter/><Transition><Days>1</Days><Date>2030-01-01T00:00:00Z</Date><StorageClass>GLACIER</StorageClass></Transition>`)), malformedXML, ""},
		{"Transition neither Days nor Date", doc(rule(`<Filter/><Transition><StorageClass>GLACIER</StorageClass></Transition>`)), malformedXML, ""},
		{"Transition without StorageClass", doc(rule(`<Filter/><Transition><Days>1</Days></Transition>`)), malformedXML, ""},
		{"empty Transition", doc(rule(`<Filter/><Transition></Transition>`)), malformedXML, ""},
		{"Transition to STANDARD", doc(rule(`<Filter/><Transition><Days>1</Days><StorageClass>STANDARD</StorageClass></Transition>`)), malformedXML, ""},
		{"Transition to a lower-case class", doc(rule(`<Filter/><Transition><Days>1</Days><StorageClass>glacier</StorageClass></Transition>`)), malformedXML, ""},
		{"Transition to REDUCED_REDUNDANCY", doc(rule(`<Filter/><Transition><Days>1</Days><StorageClass>REDUCED_REDUNDANCY</StorageClass></Transition>`)), malformedXML, ""},
		{"NoncurrentVersionTransition without NoncurrentDays", doc(rule(`<Filter/><NoncurrentVersionTransition><StorageClass>GLACIER</StorageClass></NoncurrentVersionTransition>`)), malformedXML, ""},
		{"NoncurrentVersionTransition without StorageClass", doc(rule(`<Filter/><NoncurrentVersionTransition><NoncurrentDays>1</NoncurrentDays></NoncurrentVersionTransition>`)), malformedXML, ""},
		{"NoncurrentVersionTransition to an unknown class", doc(rule(`<Filter/><NoncurrentVersionTransition><NoncurrentDays>1</NoncurrentDays><StorageClass>COLD</StorageClass></NoncurrentVersionTransition>`)), malformedXML, ""},
		{"empty NoncurrentVersionExpiration", doc(rule(`<Filter/><NoncurrentVersionExpiration></NoncurrentVersionExpiration>`)), malformedXML, ""},
		{"NoncurrentVersionExpiration with only NewerNoncurrentVersions", doc(rule(`<Filter/><NoncurrentVersionExpiration><NewerNoncurrentVersions>1</NewerNoncurrentVersions></NoncurrentVersionExpiration>`)), malformedXML, ""},
		{"empty AbortIncompleteMultipartUpload", doc(rule(`<Filter/><AbortIncompleteMultipartUpload></AbortIncompleteMultipartUpload>`)), malformedXML, ""},
		{"schema faults come before rule counts", doc(rule(`<Status>on</Status><Filter/>`+exp), rule(`<ID>x</ID><ID>y</ID><Filter/>`+exp)), malformedXML, ""},

		// Rules and IDs.
		{"no rules", doc(), badReq, "At least one lifecycle rule must be specified."},
		{"1001 rules", doc(strings.Repeat(rule(`<Filter/>`+exp), 1001)), badReq, "The number of lifecycle rules must not exceed the allowed limit of 1000 rules."},
		{"ID too long", doc(rule(`<ID>` + strings.Repeat("x", 256) + `</ID><Filter/>` + exp)), badArg, "ID length should not exceed allowed limit of 255"},
		{"same ID twice", doc(rule(`<ID>a</ID><Filter><Prefix>x</Prefix></Filter>`+exp), rule(`<ID>a</ID><Filter><Prefix>y</Prefix></Filter>`+exp)), badArg, "Rule ID must be unique. Found same ID for more than one rule"},

		// Lifecycle V1 and V2.
		{"Filter and Prefix in one rule", doc(rule(`<Filter/><Prefix>a</Prefix>` + exp)), badReq, "Base level prefix cannot be used in Lifecycle V2, prefixes are only supported in the Filter."},
		{"V2 then a V1 rule", doc(rule(`<Filter/>`+exp), rule(`<Prefix>a</Prefix>`+exp)), badReq, "Base level prefix cannot be used in Lifecycle V2, prefixes are only supported in the Filter."},
		{"V1 then a V2 rule", doc(rule(`<Prefix>a</Prefix>`+exp), rule(`<Filter/>`+exp)), badReq, "Filter element can only be used in Lifecycle V2."},
		{"NewerNoncurrentVersions in V1", doc(rule(`<Prefix>a</Prefix><NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays><NewerNoncurrentVersions>2</NewerNoncurrentVersions></NoncurrentVersionExpiration>`)), badReq, "NewerNoncurrentVersions element can only be used in Lifecycle V2."},
		{"NewerNoncurrentVersions in a V1 transition", doc(rule(`<Prefix>a</Prefix><NoncurrentVersionTransition><NoncurrentDays>1</NoncurrentDays><NewerNoncurrentVersions>2</NewerNoncurrentVersions><StorageClass>GLACIER</StorageClass></NoncurrentVersionTransition>`)), badReq, "NewerNoncurrentVersions element can only be used in Lifecycle V2."},
		{"V1 overlapping prefixes", doc(rule(`<ID>1</ID><Prefix>a</Prefix>`+exp), rule(`<ID>2</ID><Prefix></Prefix>`+exp)), badReq, "Found overlapping prefixes '' and 'a' for same action type 'Expiration'"},
		{"V1 equal prefixes", doc(rule(`<ID>1</ID><Prefix>p/</Prefix><AbortIncompleteMultipartUpload><DaysAfterInitiation>1</DaysAfterInitiation></AbortIncompleteMultipartUpload>`),
			rule(`<ID>2</ID><Prefix>p/</Prefix><AbortIncompleteMultipartUpload><DaysAfterInitiation>2</DaysAfterInitiation></AbortIncompleteMultipartUpload>`)), badReq, "Found overlapping prefixes 'p/' and 'p/' for same action type 'AbortIncompleteMultipartUpload'"},
		{"V1 overlapping transitions", doc(rule(`<ID>1</ID><Prefix>logs/</Prefix><Transition><Days>1</Days><StorageClass>GLACIER</StorageClass></Transition>`),
			rule(`<ID>2</ID><Prefix>logs/old/</Prefix><Transition><Days>5</Days><StorageClass>GLACIER</StorageClass></Transition>`)), badReq, "Found overlapping prefixes 'logs/' and 'logs/old/' for same action type 'Transition'"},

		// Filter values.
		{"negative ObjectSizeGreaterThan", doc(rule(`<Filter><ObjectSizeGreaterThan>-1</ObjectSizeGreaterThan></Filter>` + exp)), badReq, "'ObjectSizeGreaterThan' should be between 0 and 1099511627776000."},
		{"ObjectSizeGreaterThan too big", doc(rule(`<Filter><ObjectSizeGreaterThan>1099511627776001</ObjectSizeGreaterThan></Filter>` + exp)), badReq, "'ObjectSizeGreaterThan' should be between 0 and 1099511627776000."},
		{"ObjectSizeLessThan zero", doc(rule(`<Filter><ObjectSizeLessThan>0</ObjectSizeLessThan></Filter>` + exp)), badReq, "'ObjectSizeLessThan' should be between 1 and 1099511627776000."},
		{"ObjectSizeLessThan too big in And", doc(rule(`<Filter><And><Prefix/><ObjectSizeLessThan>1099511627776001</ObjectSizeLessThan></And></Filter>` + exp)), badReq, "'ObjectSizeLessThan' should be between 1 and 1099511627776000."},
		{"ObjectSizeLessThan equal to ObjectSizeGreaterThan", doc(rule(`<Filter><And><ObjectSizeGreaterThan>10</ObjectSizeGreaterThan><ObjectSizeLessThan>10</ObjectSizeLessThan></And></Filter>` + exp)), badReq, "'ObjectSizeLessThan' has to be a value greater than 'ObjectSizeGreaterThan'."},
		{"ObjectSizeLessThan below ObjectSizeGreaterThan", doc(rule(`<Filter><And><ObjectSizeGreaterThan>10</ObjectSizeGreaterThan><ObjectSizeLessThan>5</ObjectSizeLessThan></And></Filter>` + exp)), badReq, "'ObjectSizeLessThan' has to be a value greater than 'ObjectSizeGreaterThan'."},
		{"duplicate tag keys", doc(rule(`<Filter><And><Tag><Key>k</Key><Value>1</Value></Tag><Tag><Key>k</Key><Value>2</Value></Tag></And></Filter>` + exp)), badReq, "Duplicate Tag Keys are not allowed."},

		// Actions.
		{"no action", doc(rule(`<ID>x</ID><Filter/>`)), badReq, "At least one action needs to be specified in a rule"},
		{"Expiration Days 0", doc(rule(`<Filter/><Expiration><Days>0</Days></Expiration>`)), badArg, "'Days' for Expiration action must be a positive integer"},
		{"Expiration Days negative", doc(rule(`<Filter/><Expiration><Days>-3</Days></Expiration>`)), badArg, "'Days' for Expiration action must be a positive integer"},
		{"Expiration Date not at midnight", doc(rule(`<Filter/><Expiration><Date>2030-01-01T15:00:00Z</Date></Expiration>`)), badArg, "'Date' must be at midnight GMT"},
		{"Expiration Date at local midnight", doc(rule(`<Filter/><Expiration><Date>2030-01-01T00:00:00+02:00</Date></Expiration>`)), badArg, "'Date' must be at midnight GMT"},
		{"Expiration Date with milliseconds", doc(rule(`<Filter/><Expiration><Date>2030-01-01T00:00:00.001Z</Date></Expiration>`)), badArg, "'Date' must be at midnight GMT"},
		{"ExpiredObjectDeleteMarker with a tag", doc(rule(`<Filter><Tag><Key>k</Key><Value>v</Value></Tag></Filter><Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration>`)), badReq, "ExpiredObjectDeleteMarker cannot be specified with Tags."},
		{"ExpiredObjectDeleteMarker with tags in And", doc(rule(`<Filter><And><Prefix>p</Prefix><Tag><Key>k</Key><Value>v</Value></Tag></And></Filter><Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration>`)), badReq, "ExpiredObjectDeleteMarker cannot be specified with Tags."},
		{"ExpiredObjectDeleteMarker with a size", doc(rule(`<Filter><ObjectSizeGreaterThan>5</ObjectSizeGreaterThan></Filter><Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration>`)), badReq, "ExpiredObjectDeleteMarker cannot be specified with Object Size."},
		{"Transition Days negative", doc(rule(`<Filter/><Transition><Days>-1</Days><StorageClass>DEEP_ARCHIVE</StorageClass></Transition>`)), badArg, "'Days' in Transition action must be nonnegative"},
		{"STANDARD_IA at 29 days", doc(rule(`<Filter/><Transition><Days>29</Days><StorageClass>STANDARD_IA</StorageClass></Transition>`)), badArg, "'Days' in Transition action must be greater than or equal to 30 for storageClass 'STANDARD_IA'"},
		{"ONEZONE_IA at 0 days", doc(rule(`<Filter/><Transition><Days>0</Days><StorageClass>ONEZONE_IA</StorageClass></Transition>`)), badArg, "'Days' in Transition action must be greater than or equal to 30 for storageClass 'ONEZONE_IA'"},
		{"Transition Date not at midnight", doc(rule(`<Filter/><Transition><Date>2026-01-01T15:00:00.000Z</Date><StorageClass>DEEP_ARCHIVE</StorageClass></Transition>`)), badArg, "'Date' must be at midnight GMT"},
		{"same class twice", doc(rule(`<Filter><Prefix>test/</Prefix></Filter><Transition><Days>90</Days><StorageClass>GLACIER</StorageClass></Transition><Transition><Days>30</Days><StorageClass>GLACIER</StorageClass></Transition>`)),
			badReq, "'StorageClass' must be different for 'Transition' actions in same 'Rule' with filter '(prefix=test/)'"},
		{"same class twice, tag filter", doc(rule(`<Filter><Tag><Key>archive</Key><Value>true</Value></Tag></Filter><Transition><Days>30</Days><StorageClass>GLACIER</StorageClass></Transition><Transition><Days>90</Days><StorageClass>GLACIER</StorageClass></Transition>`)),
			badReq, "'StorageClass' must be different for 'Transition' actions in same 'Rule' with filter '(tag={key=archive, value=true})'"},
		{"mixed Date and Days transitions", doc(rule(`<Filter><Prefix>test/</Prefix></Filter><Transition><Days>30</Days><StorageClass>GLACIER</StorageClass></Transition><Transition><Date>2026-01-01T00:00:00Z</Date><StorageClass>DEEP_ARCHIVE</StorageClass></Transition>`)),
			badReq, "Found mixed 'Date' and 'Days' based Transition actions in lifecycle rule for filter '(prefix=test/)'"},
		{"Expiration Date with Transition Days", doc(rule(`<Filter><Prefix></Prefix></Filter><Expiration><Date>2027-01-03T00:00:00Z</Date></Expiration><Transition><Days>12</Days><StorageClass>DEEP_ARCHIVE</StorageClass></Transition>`)),
			badReq, "Found mixed 'Date' and 'Days' based Expiration and Transition actions in lifecycle rule for filter '(prefix=)'"},
		{"Expiration Days with Transition Date", doc(rule(`<Filter/><Expiration><Days>180</Days></Expiration><Transition><Date>2027-01-01T00:00:00Z</Date><StorageClass>DEEP_ARCHIVE</StorageClass></Transition>`)),
			badReq, "Found mixed 'Date' and 'Days' based Expiration and Transition actions in lifecycle rule for filter '()'"},
		{"DEEP_ARCHIVE not after GLACIER", doc(rule(`<Filter><And><Prefix>test/</Prefix><ObjectSizeLessThan>120120</ObjectSizeLessThan></And></Filter><Transition><Days>1</Days><StorageClass>DEEP_ARCHIVE</StorageClass></Transition><Transition><Days>1</Days><StorageClass>GLACIER</StorageClass></Transition>`)),
			badArg, "'Days' in the Transition action for StorageClass 'DEEP_ARCHIVE' for filter '(prefix=test/ and objectsizelessthan=120120)' must be greater than 'Days' in the Transition action for StorageClass 'GLACIER' for filter '(prefix=test/ and objectsizelessthan=120120)'"},
		{"GLACIER_IR before INTELLIGENT_TIERING", doc(rule(`<Filter/><Transition><Days>10</Days><StorageClass>GLACIER_IR</StorageClass></Transition><Transition><Days>20</Days><StorageClass>INTELLIGENT_TIERING</StorageClass></Transition>`)),
			badArg, "'Days' in the Transition action for StorageClass 'GLACIER_IR' for filter '()' must be greater than 'Days' in the Transition action for StorageClass 'INTELLIGENT_TIERING' for filter '()'"},
		{"DEEP_ARCHIVE date not after GLACIER date", doc(rule(`<Filter><Prefix>test/</Prefix></Filter><Transition><Date>2027-01-01T00:00:00Z</Date><StorageClass>GLACIER</StorageClass></Transition><Transition><Date>2027-01-01T00:00:00Z</Date><StorageClass>DEEP_ARCHIVE</StorageClass></Transition>`)),
			badArg, "'Date' in the Transition action for StorageClass 'DEEP_ARCHIVE' for filter '(prefix=test/)' must be greater than 'Date' in the Transition action for StorageClass 'GLACIER' for filter '(prefix=test/)'"},
		{"GLACIER less than 30 days after STANDARD_IA", doc(rule(`<Filter><Prefix>p/</Prefix></Filter><Transition><Days>30</Days><StorageClass>STANDARD_IA</StorageClass></Transition><Transition><Days>59</Days><StorageClass>GLACIER</StorageClass></Transition>`)),
			badArg, "'Days' in the Transition action for StorageClass 'GLACIER' for filter '(prefix=p/)' must be greater than 'Days' in the Transition action for StorageClass 'STANDARD_IA' for filter '(prefix=p/)' by at least 30 days"},
		{"Expiration not after a transition", doc(rule(`<Filter><Prefix></Prefix></Filter><Transition><Days>30</Days><StorageClass>INTELLIGENT_TIERING</StorageClass></Transition><Expiration><Days>30</Days></Expiration>`)),
			badArg, "'Days' in the Expiration action for filter '(prefix=)' must be greater than 'Days' in the Transition action"},
		{"Expiration not after a transition, V1", doc(rule(`<Prefix>test/</Prefix><Transition><Days>180</Days><StorageClass>DEEP_ARCHIVE</StorageClass></Transition><Expiration><Days>180</Days></Expiration>`)),
			badArg, "'Days' in the Expiration action for filter '(prefix=test/)' must be greater than 'Days' in the Transition action"},
		{"Expiration Date not after a transition Date", doc(rule(`<Filter><Prefix>test/</Prefix></Filter><Transition><Date>2027-01-01T00:00:00Z</Date><StorageClass>DEEP_ARCHIVE</StorageClass></Transition><Expiration><Date>2027-01-01T00:00:00Z</Date></Expiration>`)),
			badArg, "'Date' in the Expiration action for filter '(prefix=test/)' must be greater than 'Date' in the Transition action"},
		{"NoncurrentDays negative", doc(rule(`<Filter/><NoncurrentVersionTransition><NoncurrentDays>-1</NoncurrentDays><StorageClass>GLACIER</StorageClass></NoncurrentVersionTransition>`)),
			badArg, "'NoncurrentDays' in NoncurrentVersionTransition action must be nonnegative"},
		{"noncurrent STANDARD_IA under 30", doc(rule(`<Filter/><NoncurrentVersionTransition><NoncurrentDays>7</NoncurrentDays><StorageClass>STANDARD_IA</StorageClass></NoncurrentVersionTransition>`)),
			badArg, "'NoncurrentDays' in NoncurrentVersionTransition action must be greater than or equal to 30 for storageClass 'STANDARD_IA'"},
		{"NewerNoncurrentVersions 0 on a transition", doc(rule(`<Filter/><NoncurrentVersionTransition><NoncurrentDays>1</NoncurrentDays><NewerNoncurrentVersions>0</NewerNoncurrentVersions><StorageClass>DEEP_ARCHIVE</StorageClass></NoncurrentVersionTransition>`)),
			badArg, "'NewerNoncurrentVersions' must be a positive integer"},
		{"NewerNoncurrentVersions 101", doc(rule(`<Filter/><NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays><NewerNoncurrentVersions>101</NewerNoncurrentVersions></NoncurrentVersionExpiration>`)),
			badArg, "'NewerNoncurrentVersions' must not exceed 100"},
		{"NewerNoncurrentVersions 0 on an expiration", doc(rule(`<Filter/><NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays><NewerNoncurrentVersions>0</NewerNoncurrentVersions></NoncurrentVersionExpiration>`)),
			badArg, "'NewerNoncurrentVersions' must be a positive integer"},
		{"noncurrent class twice", doc(rule(`<Filter><Prefix>test/</Prefix></Filter><NoncurrentVersionTransition><NoncurrentDays>30</NoncurrentDays><StorageClass>DEEP_ARCHIVE</StorageClass></NoncurrentVersionTransition><NoncurrentVersionTransition><NoncurrentDays>90</NoncurrentDays><StorageClass>DEEP_ARCHIVE</StorageClass></NoncurrentVersionTransition>`)),
			badReq, "'StorageClass' must be different for 'NoncurrentVersionTransition' actions in same 'Rule' with filter '(prefix=test/)'"},
		{"noncurrent DEEP_ARCHIVE not after GLACIER", doc(rule(`<Filter><Prefix>test/</Prefix></Filter><NoncurrentVersionTransition><NoncurrentDays>1</NoncurrentDays><StorageClass>GLACIER</StorageClass></NoncurrentVersionTransition><NoncurrentVersionTransition><NoncurrentDays>1</NoncurrentDays><StorageClass>DEEP_ARCHIVE</StorageClass></NoncurrentVersionTransition>`)),
			badArg, "'NoncurrentDays' in the NoncurrentVersionTransition action for StorageClass 'DEEP_ARCHIVE' for filter '(prefix=test/)' must be greater than 'NoncurrentDays' in the NoncurrentVersionTransition action for StorageClass 'GLACIER' for filter '(prefix=test/)'"},
		{"noncurrent GLACIER less than 30 days after ONEZONE_IA", doc(rule(`<Filter/><NoncurrentVersionTransition><NoncurrentDays>30</NoncurrentDays><StorageClass>ONEZONE_IA</StorageClass></NoncurrentVersionTransition><NoncurrentVersionTransition><NoncurrentDays>40</NoncurrentDays><StorageClass>DEEP_ARCHIVE</StorageClass></NoncurrentVersionTransition>`)),
			badArg, "'NoncurrentDays' in the NoncurrentVersionTransition action for StorageClass 'DEEP_ARCHIVE' for filter '()' must be greater than 'NoncurrentDays' in the NoncurrentVersionTransition action for StorageClass 'ONEZONE_IA' for filter '()' by at least 30 days"},
		{"NoncurrentDays 0 on an expiration", doc(rule(`<Filter/><NoncurrentVersionExpiration><NoncurrentDays>0</NoncurrentDays></NoncurrentVersionExpiration>`)),
			badArg, "'NoncurrentDays' for NoncurrentVersionExpiration action must be a positive integer"},
		{"noncurrent expiration not after a transition", doc(rule(`<Filter><Prefix></Prefix></Filter><NoncurrentVersionTransition><NoncurrentDays>30</NoncurrentDays><StorageClass>GLACIER</StorageClass></NoncurrentVersionTransition><NoncurrentVersionExpiration><NoncurrentDays>30</NoncurrentDays></NoncurrentVersionExpiration>`)),
			badArg, "'NoncurrentDays' in the NoncurrentVersionExpiration action for filter '(prefix=)' must be greater than 'NoncurrentDays' in the NoncurrentVersionTransition action"},
		{"noncurrent expiration message shows an object size filter", doc(rule(`<Filter><ObjectSizeGreaterThan>1048576</ObjectSizeGreaterThan></Filter><NoncurrentVersionTransition><NoncurrentDays>1</NoncurrentDays><StorageClass>DEEP_ARCHIVE</StorageClass></NoncurrentVersionTransition><NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays></NoncurrentVersionExpiration>`)),
			badArg, "'NoncurrentDays' in the NoncurrentVersionExpiration action for filter '(objectsizegreaterthan=1048576)' must be greater than 'NoncurrentDays' in the NoncurrentVersionTransition action"},
		{"noncurrent expiration message shows every And predicate", doc(rule(`<Filter><And><Prefix>test/</Prefix><Tag><Key>archive</Key><Value>true</Value></Tag><ObjectSizeGreaterThan>500</ObjectSizeGreaterThan><ObjectSizeLessThan>120120</ObjectSizeLessThan></And></Filter><NoncurrentVersionTransition><NoncurrentDays>1</NoncurrentDays><StorageClass>DEEP_ARCHIVE</StorageClass></NoncurrentVersionTransition><NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays></NoncurrentVersionExpiration>`)),
			badArg, "'NoncurrentDays' in the NoncurrentVersionExpiration action for filter '(prefix=test/ and tag={key=archive, value=true} and objectsizegreaterthan=500 and objectsizelessthan=120120)' must be greater than 'NoncurrentDays' in the NoncurrentVersionTransition action"},
		{"DaysAfterInitiation 0", doc(rule(`<Filter/><AbortIncompleteMultipartUpload><DaysAfterInitiation>0</DaysAfterInitiation></AbortIncompleteMultipartUpload>`)),
			badArg, "'DaysAfterInitiation' for AbortIncompleteMultipartUpload action must be a positive integer"},
		{"abort with a tag", doc(rule(`<Filter><Tag><Key>k</Key><Value>v</Value></Tag></Filter><AbortIncompleteMultipartUpload><DaysAfterInitiation>1</DaysAfterInitiation></AbortIncompleteMultipartUpload>`)),
			badReq, "AbortIncompleteMultipartUpload cannot be specified with Tags."},
		{"abort with a size", doc(rule(`<Filter><And><Prefix>a</Prefix><ObjectSizeLessThan>10</ObjectSizeLessThan></And></Filter><AbortIncompleteMultipartUpload><DaysAfterInitiation>1</DaysAfterInitiation></AbortIncompleteMultipartUpload>`)),
			badReq, "AbortIncompleteMultipartUpload cannot be specified with Object Size."},
		{"the first faulty rule is reported", doc(rule(`<ID>ok</ID><Filter/>`+exp), rule(`<ID>bad</ID><Filter><Prefix>x</Prefix></Filter><Expiration><Days>0</Days></Expiration>`), rule(`<ID>worse</ID><Filter><Prefix>y</Prefix></Filter>`)),
			badArg, "'Days' for Expiration action must be a positive integer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(tt.body))
			if err == nil {
				t.Fatalf("Parse accepted it: %#v", c)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Parse: %v is a %T, want *Error", err, err)
			}
			want := tt.message
			if want == "" {
				want = msgMalformedXML
			}
			if e.Code != tt.code || e.Message != want {
				t.Errorf("Parse:\ngot  %s: %s\nwant %s: %s", e.Code, e.Message, tt.code, want)
			}
			if e.Status() != 400 {
				t.Errorf("Status() = %d, want 400", e.Status())
			}
		})
	}
}

func TestValidateTypedConfiguration(t *testing.T) {
	tests := []struct {
		name string
		c    Configuration
		code string
	}{
		{"valid", Configuration{Rules: []Rule{{Status: Enabled, Filter: &Filter{}, Expiration: &Expiration{Days: ptr(1)}}}}, ""},
		{"no status", Configuration{Rules: []Rule{{Filter: &Filter{}, Expiration: &Expiration{Days: ptr(1)}}}}, CodeMalformedXML},
		{"NoncurrentVersionTransition without days", Configuration{Rules: []Rule{{Status: Enabled, Filter: &Filter{},
			NoncurrentVersionTransitions: []NoncurrentVersionTransition{{StorageClass: Glacier}}}}}, CodeMalformedXML},
		{"abort without days", Configuration{Rules: []Rule{{Status: Enabled, Filter: &Filter{},
			AbortIncompleteMultipartUpload: &AbortIncompleteMultipartUpload{}}}}, CodeMalformedXML},
		{"empty", Configuration{}, CodeInvalidRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.c.Validate()
			var e *Error
			switch {
			case tt.code == "" && err != nil:
				t.Errorf("Validate: %v, want nil", err)
			case tt.code != "" && (!errors.As(err, &e) || e.Code != tt.code):
				t.Errorf("Validate: %v, want %s", err, tt.code)
			}
		})
	}
}

func TestParseMinimumSize(t *testing.T) {
	tests := []struct {
		header string
		want   MinimumSize
		err    string
	}{
		{"", AllStorageClasses128K, ""},
		{"all_storage_classes_128K", AllStorageClasses128K, ""},
		{"varies_by_storage_class", VariesByStorageClass, ""},
		{"all_storage_classes_128k", "", "InvalidRequest: Invalid TransitionDefaultMinimumObjectSize found: all_storage_classes_128k"},
	}
	for _, tt := range tests {
		got, err := ParseMinimumSize(tt.header)
		if got != tt.want || (err == nil) != (tt.err == "") || (err != nil && err.Error() != tt.err) {
			t.Errorf("ParseMinimumSize(%q) = %q, %v; want %q, %q", tt.header, got, err, tt.want, tt.err)
		}
	}
	if got := MinimumSize("").String(); got != "all_storage_classes_128K" {
		t.Errorf("zero MinimumSize = %q, want the default", got)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(everything))
	f.Add([]byte(scenarioC))
	f.Add([]byte(doc(rule(`<Prefix>a</Prefix><Expiration><Days>1</Days></Expiration>`))))
	f.Add([]byte(doc(rule(`<Filter><And><Prefix>a</Prefix><Tag><Key>k</Key><Value>v</Value></Tag></And></Filter><Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration>`))))
	f.Add([]byte(doc(rule(`<Filter/><Transition><Date>2030-01-01</Date><StorageClass>GLACIER</StorageClass></Transition>`))))
	f.Add([]byte(`<LifecycleConfiguration><Rule><Filter/><Status>Enabled</Status></Rule></LifecycleConfiguration>`))
	f.Fuzz(func(t *testing.T, body []byte) {
		c, err := Parse(body)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Parse: %v is a %T, want *Error", err, err)
			}
			switch e.Code {
			case CodeMalformedXML, CodeInvalidArgument, CodeInvalidRequest:
			default:
				t.Fatalf("Parse: unexpected code %q", e.Code)
			}
			return
		}
		out := c.Marshal()
		c2, err := Parse(out)
		if err != nil {
			t.Fatalf("Parse(Marshal()) = %v\n%s", err, out)
		}
		if !reflect.DeepEqual(c, c2) {
			t.Fatalf("round trip changed the configuration:\n%#v\n%#v", c, c2)
		}
		if out2 := c2.Marshal(); !bytes.Equal(out, out2) {
			t.Fatalf("Marshal not stable:\n%s\n%s", out, out2)
		}
		// Evaluation never panics on anything Parse accepts.
		obj := Object{Key: "a", Size: 1 << 20, Created: time.Unix(1e9, 0)}
		c.Schedule(obj, Options{})
		obj.Noncurrent, obj.Versioned = true, true
		c.Schedule(obj, Options{DayLength: time.Second})
	})
}
