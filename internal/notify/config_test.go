package notify

import (
	"bytes"
	"encoding/base64"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

const (
	queueARN = "arn:aws:sqs:us-east-1:000000000000:q"
	topicARN = "arn:aws:sns:us-west-2:444455556666:topic"
	funcARN  = "arn:aws:lambda:us-east-1:000000000000:function:thumbs"
)

// doc wraps rules in a NotificationConfiguration in S3's namespace.
func doc(inner string) string {
	return `<NotificationConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">` + inner + `</NotificationConfiguration>`
}

// queue is a QueueConfiguration for queueARN with id (none when ""),
// events and a filter (none when "").
func queue(id, filter string, events ...string) string {
	var b strings.Builder
	b.WriteString("<QueueConfiguration>")
	if id != "" {
		b.WriteString("<Id>" + id + "</Id>")
	}
	b.WriteString("<Queue>" + queueARN + "</Queue>")
	for _, e := range events {
		b.WriteString("<Event>" + e + "</Event>")
	}
	if filter != "" {
		b.WriteString("<Filter><S3Key>" + filter + "</S3Key></Filter>")
	}
	b.WriteString("</QueueConfiguration>")
	return b.String()
}

func prefix(v string) string {
	return "<FilterRule><Name>prefix</Name><Value>" + v + "</Value></FilterRule>"
}
func suffix(v string) string {
	return "<FilterRule><Name>suffix</Name><Value>" + v + "</Value></FilterRule>"
}

func TestParseConfig(t *testing.T) {
	tests := []struct {
		name string
		body string
		want Config // rules with ID "" get a generated one, checked apart
	}{
		{"empty", `<NotificationConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"/>`, Config{}},
		{"empty without namespace", `<NotificationConfiguration></NotificationConfiguration>`, Config{}},
		{"declaration and comments", "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- c -->" + doc("") + "\n<!-- d -->\n", Config{}},
		{"eventbridge only", doc("<EventBridgeConfiguration/>"), Config{EventBridge: true}},
		{
			// What the AWS CLI sends for
			// {"QueueConfigurations":[{"QueueArn":"arn:aws:sqs:us-east-1:000000000000:q",
			//  "Events":["s3:ObjectCreated:*"],"Filter":{"Key":{"FilterRules":[{"Name":"prefix","Value":"images/"}]}}}]}
			"aws cli queue with prefix",
			doc(`<QueueConfiguration><Queue>arn:aws:sqs:us-east-1:000000000000:q</Queue><Event>s3:ObjectCreated:*</Event><Filter><S3Key><FilterRule><Name>prefix</Name><Value>images/</Value></FilterRule></S3Key></Filter></QueueConfiguration>`),
			Config{Rules: []Rule{{Kind: KindQueue, ARN: queueARN, Events: []string{"s3:ObjectCreated:*"}, Prefix: "images/"}}},
		},
		{
			// The sample of the API reference, with all three kinds.
			"all kinds",
			doc(`<TopicConfiguration><Id>optional-id</Id><Topic>` + topicARN + `</Topic><Event>s3:ObjectCreated:*</Event>` +
				`<Filter><S3Key><FilterRule><Name>prefix</Name><Value>images/</Value></FilterRule><FilterRule><Name>suffix</Name><Value>.jpg</Value></FilterRule></S3Key></Filter></TopicConfiguration>` +
				`<QueueConfiguration><Id>q1</Id><Queue>` + queueARN + `</Queue><Event>s3:ObjectRemoved:*</Event></QueueConfiguration>` +
				`<CloudFunctionConfiguration><Id>f1</Id><CloudFunction>` + funcARN + `</CloudFunction><Event>s3:ObjectRestore:Completed</Event><Event>s3:LifecycleTransition</Event></CloudFunctionConfiguration>` +
				`<EventBridgeConfiguration></EventBridgeConfiguration>`),
			Config{Rules: []Rule{
				{ID: "optional-id", Kind: KindTopic, ARN: topicARN, Events: []string{"s3:ObjectCreated:*"}, Prefix: "images/", Suffix: ".jpg"},
				{ID: "q1", Kind: KindQueue, ARN: queueARN, Events: []string{"s3:ObjectRemoved:*"}},
				{ID: "f1", Kind: KindCloudFunction, ARN: funcARN, Events: []string{"s3:ObjectRestore:Completed", "s3:LifecycleTransition"}},
			}, EventBridge: true},
		},
		{
			// Terraform's order: Filter first, Value before Name.
			"elements in any order",
			doc(`<QueueConfiguration><Filter><S3Key><FilterRule><Name>prefix</Name><Value>tf-acc-test/</Value></FilterRule><FilterRule><Value>.mp4</Value><Name>suffix</Name></FilterRule></S3Key></Filter>` +
				`<Id>tf</Id><Queue>` + queueARN + `</Queue><Event>s3:ObjectCreated:*</Event><Event>s3:ObjectRemoved:Delete</Event></QueueConfiguration>`),
			Config{Rules: []Rule{{ID: "tf", Kind: KindQueue, ARN: queueARN, Events: []string{"s3:ObjectCreated:*", "s3:ObjectRemoved:Delete"}, Prefix: "tf-acc-test/", Suffix: ".mp4"}}},
		},
		{
			"interleaved kinds group by kind",
			doc(queue("q1", "", "s3:ObjectCreated:Put") + `<TopicConfiguration><Id>t1</Id><Topic>` + topicARN + `</Topic><Event>s3:ObjectRemoved:*</Event></TopicConfiguration>` +
				queue("q2", "", "s3:ObjectRestore:*")),
			Config{Rules: []Rule{
				{ID: "t1", Kind: KindTopic, ARN: topicARN, Events: []string{"s3:ObjectRemoved:*"}},
				{ID: "q1", Kind: KindQueue, ARN: queueARN, Events: []string{"s3:ObjectCreated:Put"}},
				{ID: "q2", Kind: KindQueue, ARN: queueARN, Events: []string{"s3:ObjectRestore:*"}},
			}},
		},
		{
			"filter names in any case",
			doc(queue("q", "<FilterRule><Name>Prefix</Name><Value>a/</Value></FilterRule><FilterRule><Name>SUFFIX</Name><Value>.txt</Value></FilterRule>", "s3:ObjectCreated:*")),
			Config{Rules: []Rule{{ID: "q", Kind: KindQueue, ARN: queueARN, Events: []string{"s3:ObjectCreated:*"}, Prefix: "a/", Suffix: ".txt"}}},
		},
		{
			"values kept as given",
			doc(queue("q", prefix("my+folder/ x")+suffix("%2Ejpg"), "s3:ObjectCreated:*")),
			Config{Rules: []Rule{{ID: "q", Kind: KindQueue, ARN: queueARN, Events: []string{"s3:ObjectCreated:*"}, Prefix: "my+folder/ x", Suffix: "%2Ejpg"}}},
		},
		{
			"empty filter value",
			doc(queue("q", "<FilterRule><Name>prefix</Name><Value></Value></FilterRule>", "s3:ObjectCreated:*")),
			Config{Rules: []Rule{{ID: "q", Kind: KindQueue, ARN: queueARN, Events: []string{"s3:ObjectCreated:*"}}}},
		},
		{
			"filter without S3Key",
			doc(`<QueueConfiguration><Id>q</Id><Queue>` + queueARN + `</Queue><Event>s3:ObjectCreated:*</Event><Filter/></QueueConfiguration>`),
			Config{Rules: []Rule{{ID: "q", Kind: KindQueue, ARN: queueARN, Events: []string{"s3:ObjectCreated:*"}}}},
		},
		{
			"white space around events and arn",
			doc("<QueueConfiguration><Id>q</Id><Queue>\n  " + queueARN + "\n</Queue><Event> s3:ObjectCreated:Copy </Event></QueueConfiguration>"),
			Config{Rules: []Rule{{ID: "q", Kind: KindQueue, ARN: queueARN, Events: []string{"s3:ObjectCreated:Copy"}}}},
		},
		{
			"deprecated invocation role dropped",
			doc(`<CloudFunctionConfiguration><Id>f</Id><CloudFunction>` + funcARN + `</CloudFunction><InvocationRole>arn:aws:iam::1:role/r</InvocationRole><Event>s3:ObjectCreated:*</Event></CloudFunctionConfiguration>`),
			Config{Rules: []Rule{{ID: "f", Kind: KindCloudFunction, ARN: funcARN, Events: []string{"s3:ObjectCreated:*"}}}},
		},
		{
			"same event, disjoint prefixes",
			doc(queue("a", prefix("images/"), "s3:ObjectCreated:*") + queue("b", prefix("videos/"), "s3:ObjectCreated:*")),
			Config{Rules: []Rule{
				{ID: "a", Kind: KindQueue, ARN: queueARN, Events: []string{"s3:ObjectCreated:*"}, Prefix: "images/"},
				{ID: "b", Kind: KindQueue, ARN: queueARN, Events: []string{"s3:ObjectCreated:*"}, Prefix: "videos/"},
			}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseConfig([]byte(tt.body))
			if err != nil {
				t.Fatalf("ParseConfig: %v", err)
			}
			for i := range got.Rules {
				if i < len(tt.want.Rules) && tt.want.Rules[i].ID == "" {
					if !isGeneratedID(got.Rules[i].ID) {
						t.Errorf("rule %d: generated Id %q does not look like S3's", i, got.Rules[i].ID)
					}
					got.Rules[i].ID = ""
				}
			}
			if !reflect.DeepEqual(*got, tt.want) {
				t.Errorf("got %+v, want %+v", *got, tt.want)
			}
		})
	}
}

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// isGeneratedID reports whether id has the shape of the Ids S3
// generates: the base64 form of a UUID.
func isGeneratedID(id string) bool {
	b, err := base64.StdEncoding.DecodeString(id)
	return err == nil && len(id) == 48 && uuidRE.Match(b)
}

func TestParseConfigErrors(t *testing.T) {
	const (
		malformedXML = CodeMalformedXML
		badArg       = CodeInvalidArgument
	)
	created := "s3:ObjectCreated:*"
	tests := []struct {
		name    string
		body    string
		code    string
		message string
	}{
		{"empty body", ``, malformedXML, msgMalformedXML},
		{"not xml", `hello`, malformedXML, msgMalformedXML},
		{"unclosed", `<NotificationConfiguration>`, malformedXML, msgMalformedXML},
		{"wrong root", `<LifecycleConfiguration/>`, malformedXML, msgMalformedXML},
		{"two roots", doc("") + doc(""), malformedXML, msgMalformedXML},
		{"text after root", doc("") + "x", malformedXML, msgMalformedXML},
		{"unknown element", doc("<Bogus/>"), malformedXML, msgMalformedXML},
		{"unknown rule element", doc(`<QueueConfiguration><Queue>` + queueARN + `</Queue><Event>s3:ObjectCreated:*</Event><Bogus/></QueueConfiguration>`), malformedXML, msgMalformedXML},
		{"two ids", doc(`<QueueConfiguration><Id>a</Id><Id>b</Id><Queue>` + queueARN + `</Queue><Event>s3:ObjectCreated:*</Event></QueueConfiguration>`), malformedXML, msgMalformedXML},
		{"two arns", doc(`<QueueConfiguration><Queue>` + queueARN + `</Queue><Queue>` + queueARN + `</Queue><Event>s3:ObjectCreated:*</Event></QueueConfiguration>`), malformedXML, msgMalformedXML},
		{"topic element in queue", doc(`<QueueConfiguration><Topic>` + topicARN + `</Topic><Event>s3:ObjectCreated:*</Event></QueueConfiguration>`), malformedXML, msgMalformedXML},
		{"invocation role on queue", doc(`<QueueConfiguration><Queue>` + queueARN + `</Queue><InvocationRole>r</InvocationRole><Event>s3:ObjectCreated:*</Event></QueueConfiguration>`), malformedXML, msgMalformedXML},
		{"two filters", doc(`<QueueConfiguration><Queue>` + queueARN + `</Queue><Event>s3:ObjectCreated:*</Event><Filter/><Filter/></QueueConfiguration>`), malformedXML, msgMalformedXML},
		{"two S3Keys", doc(`<QueueConfiguration><Queue>` + queueARN + `</Queue><Event>s3:ObjectCreated:*</Event><Filter><S3Key/><S3Key/></Filter></QueueConfiguration>`), malformedXML, msgMalformedXML},
		{"unknown filter element", doc(`<QueueConfiguration><Queue>` + queueARN + `</Queue><Event>s3:ObjectCreated:*</Event><Filter><Prefix>a</Prefix></Filter></QueueConfiguration>`), malformedXML, msgMalformedXML},
		{"filter rule with two names", doc(queue("", "<FilterRule><Name>prefix</Name><Name>suffix</Name><Value>a</Value></FilterRule>", created)), malformedXML, msgMalformedXML},
		{"two eventbridge", doc("<EventBridgeConfiguration/><EventBridgeConfiguration/>"), malformedXML, msgMalformedXML},
		{"eventbridge with content", doc("<EventBridgeConfiguration><X/></EventBridgeConfiguration>"), malformedXML, msgMalformedXML},
		{"schema before meaning", doc(queue("", "", "s3:Nope") + "<Bogus/>"), malformedXML, msgMalformedXML},

		{"no arn", doc(`<QueueConfiguration><Event>s3:ObjectCreated:*</Event></QueueConfiguration>`), badArg, "The ARN is not well formed"},
		{"empty arn", doc(`<TopicConfiguration><Topic></Topic><Event>s3:ObjectCreated:*</Event></TopicConfiguration>`), badArg, "The ARN is not well formed"},
		{"bad arn", doc(`<QueueConfiguration><Queue>my-queue</Queue><Event>s3:ObjectCreated:*</Event></QueueConfiguration>`), badArg, "The ARN is not well formed"},
		{"s3 arn", doc(`<QueueConfiguration><Queue>arn:aws:s3:::bucket</Queue><Event>s3:ObjectCreated:*</Event></QueueConfiguration>`), badArg, "The ARN is not well formed"},
		{"no event", doc(queue("", "")), badArg, msgNoEvent},
		{"unknown event", doc(queue("", "", "s3:ObjectCreated:Nope")), badArg, "The event is not supported for notifications"},
		{"test event", doc(queue("", "", "s3:TestEvent")), badArg, "The event is not supported for notifications"},
		{"event without s3 prefix", doc(queue("", "", "ObjectCreated:Put")), badArg, "The event is not supported for notifications"},
		{"event in wrong case", doc(queue("", "", "s3:objectcreated:*")), badArg, "The event is not supported for notifications"},
		{"empty event", doc(queue("", "", "")), badArg, "The event is not supported for notifications"},
		{"bad filter name", doc(queue("", "<FilterRule><Name>regex</Name><Value>a</Value></FilterRule>", created)), badArg, "filter rule name must be either prefix or suffix"},
		{"filter without name", doc(queue("", "<FilterRule><Value>a</Value></FilterRule>", created)), badArg, "filter rule name must be either prefix or suffix"},
		{"two prefixes", doc(queue("", prefix("a")+prefix("b"), created)), badArg, "Cannot specify more than one prefix rule in a filter."},
		{"two prefixes in other case", doc(queue("", prefix("a")+"<FilterRule><Name>PREFIX</Name><Value>a</Value></FilterRule>", created)), badArg, "Cannot specify more than one prefix rule in a filter."},
		{"two suffixes", doc(queue("", suffix("a")+suffix("b"), created)), badArg, "Cannot specify more than one suffix rule in a filter."},
		{"value too long", doc(queue("", prefix(strings.Repeat("a", 1025)), created)), badArg, msgFilterValueTooBig},
		{"duplicate ids", doc(queue("x", prefix("a/"), created) + queue("x", prefix("b/"), created)), badArg, msgDuplicateID},
		{"duplicate ids across kinds", doc(queue("x", "", "s3:ObjectCreated:*") + `<TopicConfiguration><Id>x</Id><Topic>` + topicARN + `</Topic><Event>s3:ObjectRemoved:*</Event></TopicConfiguration>`), badArg, msgDuplicateID},
		{"overlap", doc(queue("a", "", created) + queue("b", "", created)), badArg, msgOverlap},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseConfig([]byte(tt.body))
			if err == nil {
				t.Fatalf("ParseConfig accepted it: %+v", c)
			}
			e, ok := err.(*Error)
			if !ok {
				t.Fatalf("error %T %v, want *Error", err, err)
			}
			if e.Code != tt.code || e.Message != tt.message {
				t.Errorf("got %s %q, want %s %q", e.Code, e.Message, tt.code, tt.message)
			}
			if e.Status() != 400 {
				t.Errorf("status %d, want 400", e.Status())
			}
			if e.Error() != tt.code+": "+tt.message {
				t.Errorf("Error() = %q", e.Error())
			}
		})
	}
}

func TestParseConfigOverlap(t *testing.T) {
	type r struct {
		events         []string
		prefix, suffix string
		topic          bool // a TopicConfiguration instead of a queue
	}
	tests := []struct {
		name    string
		a, b    r
		overlap bool
	}{
		{"same event, no filters", r{events: []string{"s3:ObjectCreated:*"}}, r{events: []string{"s3:ObjectCreated:*"}}, true},
		{"same event, different destination kinds", r{events: []string{"s3:ObjectCreated:Put"}}, r{events: []string{"s3:ObjectCreated:Put"}, topic: true}, true},
		{"same event, disjoint prefixes", r{events: []string{"s3:ObjectCreated:*"}, prefix: "images/"}, r{events: []string{"s3:ObjectCreated:*"}, prefix: "videos/"}, false},
		{"same event, nested prefixes", r{events: []string{"s3:ObjectCreated:*"}, prefix: "images/"}, r{events: []string{"s3:ObjectCreated:*"}, prefix: "images/2024/"}, true},
		{"same event, equal prefixes", r{events: []string{"s3:ObjectCreated:*"}, prefix: "a"}, r{events: []string{"s3:ObjectCreated:*"}, prefix: "a"}, true},
		{"wildcard vs specific, overlapping prefixes", r{events: []string{"s3:ObjectCreated:*"}, prefix: "img"}, r{events: []string{"s3:ObjectCreated:Put"}, prefix: "img/"}, true},
		{"specific vs wildcard, overlapping prefixes", r{events: []string{"s3:ObjectCreated:Put"}, prefix: "img/"}, r{events: []string{"s3:ObjectCreated:*"}}, true},
		{"wildcard vs specific, disjoint prefixes", r{events: []string{"s3:ObjectCreated:*"}, prefix: "a/"}, r{events: []string{"s3:ObjectCreated:Put"}, prefix: "b/"}, false},
		{"different events, same filter", r{events: []string{"s3:ObjectCreated:*"}, prefix: "a/"}, r{events: []string{"s3:ObjectRemoved:*"}, prefix: "a/"}, false},
		{"different events, no filters", r{events: []string{"s3:ObjectCreated:Put"}}, r{events: []string{"s3:ObjectCreated:Copy"}}, false},
		{"different families with similar names", r{events: []string{"s3:LifecycleExpiration:*"}}, r{events: []string{"s3:LifecycleTransition"}}, false},
		{"one shared event among others", r{events: []string{"s3:ObjectCreated:Put", "s3:ObjectRemoved:Delete"}}, r{events: []string{"s3:ObjectRestore:*", "s3:ObjectRemoved:*"}}, true},
		{"same event, different suffixes", r{events: []string{"s3:ObjectCreated:*"}, suffix: ".jpg"}, r{events: []string{"s3:ObjectCreated:*"}, suffix: ".png"}, false},
		{"same event, nested suffixes", r{events: []string{"s3:ObjectCreated:*"}, suffix: ".jpg"}, r{events: []string{"s3:ObjectCreated:*"}, suffix: "thumb.jpg"}, true},
		{"prefix only vs suffix only", r{events: []string{"s3:ObjectCreated:*"}, prefix: "images/"}, r{events: []string{"s3:ObjectCreated:*"}, suffix: ".jpg"}, true},
		{"same prefix, different suffixes", r{events: []string{"s3:ObjectCreated:*"}, prefix: "images/", suffix: ".jpg"}, r{events: []string{"s3:ObjectCreated:*"}, prefix: "images/", suffix: ".png"}, false},
		{"different prefixes, same suffix", r{events: []string{"s3:ObjectCreated:*"}, prefix: "a/", suffix: ".jpg"}, r{events: []string{"s3:ObjectCreated:*"}, prefix: "b/", suffix: ".jpg"}, false},
		{"unfiltered vs filtered", r{events: []string{"s3:ObjectCreated:*"}}, r{events: []string{"s3:ObjectCreated:*"}, prefix: "a/", suffix: ".jpg"}, true},
	}
	build := func(id string, x r) string {
		var f string
		if x.prefix != "" {
			f += prefix(x.prefix)
		}
		if x.suffix != "" {
			f += suffix(x.suffix)
		}
		if !x.topic {
			return queue(id, f, x.events...)
		}
		s := `<TopicConfiguration><Id>` + id + `</Id><Topic>` + topicARN + `</Topic>`
		for _, e := range x.events {
			s += "<Event>" + e + "</Event>"
		}
		if f != "" {
			s += "<Filter><S3Key>" + f + "</S3Key></Filter>"
		}
		return s + "</TopicConfiguration>"
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, body := range []string{doc(build("a", tt.a) + build("b", tt.b)), doc(build("b", tt.b) + build("a", tt.a))} {
				_, err := ParseConfig([]byte(body))
				switch {
				case tt.overlap && err == nil:
					t.Errorf("accepted %s", body)
				case tt.overlap && err.(*Error).Message != msgOverlap:
					t.Errorf("got %v, want overlap", err)
				case !tt.overlap && err != nil:
					t.Errorf("refused: %v", err)
				}
			}
		})
	}
}

func TestMarshal(t *testing.T) {
	c := &Config{Rules: []Rule{
		{ID: "q", Kind: KindQueue, ARN: queueARN, Events: []string{"s3:ObjectCreated:*"}, Prefix: "a&b/", Suffix: ".jpg"},
		{ID: "t", Kind: KindTopic, ARN: topicARN, Events: []string{"s3:ObjectRemoved:*", "s3:ObjectRestore:*"}},
		{ID: "f", Kind: KindCloudFunction, ARN: funcARN, Events: []string{"s3:IntelligentTiering"}, Suffix: ".x"},
	}, EventBridge: true}
	want := `<?xml version="1.0" encoding="UTF-8"?>` + "\n" + doc(
		`<TopicConfiguration><Id>t</Id><Topic>`+topicARN+`</Topic><Event>s3:ObjectRemoved:*</Event><Event>s3:ObjectRestore:*</Event></TopicConfiguration>`+
			`<QueueConfiguration><Id>q</Id><Queue>`+queueARN+`</Queue><Event>s3:ObjectCreated:*</Event>`+
			`<Filter><S3Key><FilterRule><Name>Prefix</Name><Value>a&amp;b/</Value></FilterRule><FilterRule><Name>Suffix</Name><Value>.jpg</Value></FilterRule></S3Key></Filter></QueueConfiguration>`+
			`<CloudFunctionConfiguration><Id>f</Id><CloudFunction>`+funcARN+`</CloudFunction><Event>s3:IntelligentTiering</Event>`+
			`<Filter><S3Key><FilterRule><Name>Suffix</Name><Value>.x</Value></FilterRule></S3Key></Filter></CloudFunctionConfiguration>`+
			`<EventBridgeConfiguration></EventBridgeConfiguration>`)
	if got := string(c.Marshal()); got != want {
		t.Errorf("Marshal:\ngot  %s\nwant %s", got, want)
	}

	empty := string((&Config{}).Marshal())
	if want := `<?xml version="1.0" encoding="UTF-8"?>` + "\n" + doc(""); empty != want {
		t.Errorf("empty Marshal:\ngot  %s\nwant %s", empty, want)
	}
}

func TestRoundTrip(t *testing.T) {
	bodies := []string{
		doc(""),
		doc("<EventBridgeConfiguration/>"),
		doc(queue("", prefix("images/"), "s3:ObjectCreated:*")),
		doc(`<TopicConfiguration><Topic>` + topicARN + `</Topic><Event>s3:ObjectCreated:*</Event></TopicConfiguration>` +
			queue("q&amp;&lt;>\"'", prefix("a b+c/&amp;")+suffix(" .jpg\t"), "s3:ObjectRemoved:Delete", "s3:ObjectRemoved:Delete") +
			`<CloudFunctionConfiguration><CloudFunction>arn:aws:lambda:eu-west-1:1:plain</CloudFunction><Event>s3:ObjectAcl:Put</Event></CloudFunctionConfiguration>` +
			"<EventBridgeConfiguration/>"),
		doc(queue("  spaced id ", prefix("&#13;x"), "s3:ObjectTagging:*")),
	}
	for _, body := range bodies {
		c1, err := ParseConfig([]byte(body))
		if err != nil {
			t.Fatalf("ParseConfig(%s): %v", body, err)
		}
		out := c1.Marshal()
		c2, err := ParseConfig(out)
		if err != nil {
			t.Fatalf("ParseConfig(Marshal()) of %s: %v\n%s", body, err, out)
		}
		if !reflect.DeepEqual(c1, c2) {
			t.Errorf("round trip of %s:\ngot  %+v\nwant %+v", body, c2, c1)
		}
		if out2 := c2.Marshal(); !bytes.Equal(out, out2) {
			t.Errorf("Marshal not stable:\n%s\n%s", out, out2)
		}
	}
}

func TestGeneratedIDs(t *testing.T) {
	body := doc(queue("", prefix("a/"), "s3:ObjectCreated:*") + queue("", prefix("b/"), "s3:ObjectCreated:*") +
		queue("given", prefix("c/"), "s3:ObjectCreated:*") + `<QueueConfiguration><Id></Id><Queue>` + queueARN + `</Queue><Event>s3:ObjectRemoved:*</Event></QueueConfiguration>`)
	c1, err := ParseConfig([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for i, r := range c1.Rules {
		if i == 2 {
			if r.ID != "given" {
				t.Errorf("rule 2: Id %q, want the given one", r.ID)
			}
		} else if !isGeneratedID(r.ID) {
			t.Errorf("rule %d: generated Id %q does not look like S3's", i, r.ID)
		}
		if seen[r.ID] {
			t.Errorf("Id %q given twice", r.ID)
		}
		seen[r.ID] = true
	}
	c2, err := ParseConfig([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c1, c2) {
		t.Errorf("Ids differ between parses of the same document:\n%+v\n%+v", c1, c2)
	}

	// A given Id equal to the one that would be generated is kept, and
	// the generated one moves aside.
	one := doc(queue("", prefix("a/"), "s3:ObjectCreated:*"))
	c3, err := ParseConfig([]byte(one))
	if err != nil {
		t.Fatal(err)
	}
	gen := c3.Rules[0].ID
	c4, err := ParseConfig([]byte(doc(queue(gen, prefix("x/"), "s3:ObjectRemoved:*") + queue("", prefix("a/"), "s3:ObjectCreated:*"))))
	if err != nil {
		t.Fatal(err)
	}
	if c4.Rules[0].ID != gen || c4.Rules[1].ID == gen || !isGeneratedID(c4.Rules[1].ID) {
		t.Errorf("Ids %q, %q: want %q kept and a different generated one", c4.Rules[0].ID, c4.Rules[1].ID, gen)
	}
}

func TestMatch(t *testing.T) {
	c := &Config{Rules: []Rule{
		{ID: "all-created", Kind: KindQueue, Events: []string{"s3:ObjectCreated:*"}, Prefix: "images/"},
		{ID: "put-jpg", Kind: KindQueue, Events: []string{"s3:ObjectCreated:Put"}, Prefix: "docs/", Suffix: ".jpg"},
		{ID: "removed", Kind: KindTopic, Events: []string{"s3:ObjectRemoved:Delete", "s3:LifecycleExpiration:*"}},
		{ID: "restore", Kind: KindCloudFunction, Events: []string{"s3:ObjectRestore:Completed"}, Prefix: "my+folder/"},
		{ID: "transition", Kind: KindQueue, Events: []string{"s3:LifecycleTransition"}, Suffix: "%3D1"},
	}}
	tests := []struct {
		event, key string
		want       []string
	}{
		{"s3:ObjectCreated:Put", "images/a.png", []string{"all-created"}},
		{"ObjectCreated:Put", "images/a.png", []string{"all-created"}},
		{"s3:ObjectCreated:Copy", "images/", []string{"all-created"}},
		{"s3:ObjectCreated:Put", "Images/a.png", nil},
		{"s3:ObjectCreated:Put", "docs/a.jpg", []string{"put-jpg"}},
		{"s3:ObjectCreated:Put", "docs/a.JPG", nil},
		{"s3:ObjectCreated:Post", "docs/a.jpg", nil},
		{"s3:ObjectCreated:Put", "docs/a.jpg.png", nil},
		{"s3:ObjectCreated:Put", "x/docs/a.jpg", nil},
		{"s3:ObjectRemoved:Delete", "anything", []string{"removed"}},
		{"s3:ObjectRemoved:DeleteMarkerCreated", "anything", nil},
		{"s3:LifecycleExpiration:DeleteMarkerCreated", "k", []string{"removed"}},
		{"s3:ObjectRestore:Completed", "my folder/a", []string{"restore"}}, // the URL-encoded form of the key
		{"s3:ObjectRestore:Completed", "my+folder/a", []string{"restore"}}, // the raw key
		{"s3:ObjectRestore:Completed", "myfolder/a", nil},
		{"s3:ObjectRestore:Post", "my folder/a", nil},
		{"s3:LifecycleTransition", "part=1", []string{"transition"}},
		{"s3:TestEvent", "images/a", nil},
		{"s3:ObjectCreated:*", "images/a", []string{"all-created"}},
	}
	for _, tt := range tests {
		var got []string
		for _, r := range c.Match(tt.event, tt.key) {
			got = append(got, r.ID)
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Match(%q, %q) = %q, want %q", tt.event, tt.key, got, tt.want)
		}
	}
	if got := (*Config)(nil).Match("s3:ObjectCreated:Put", "k"); got != nil {
		t.Errorf("nil config matched %v", got)
	}
}

func TestMatchOrderAndAll(t *testing.T) {
	c := &Config{Rules: []Rule{
		{ID: "1", Events: []string{"s3:ObjectCreated:Put"}, Prefix: "a/"},
		{ID: "2", Events: []string{"s3:ObjectCreated:*"}, Prefix: "b/"},
		{ID: "3", Events: []string{"s3:ObjectRemoved:*", "s3:ObjectCreated:Put"}, Suffix: ".x"},
	}}
	var got []string
	for _, r := range c.Match("s3:ObjectCreated:Put", "a/f.x") {
		got = append(got, r.ID)
	}
	if want := []string{"1", "3"}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestEmpty(t *testing.T) {
	for _, tt := range []struct {
		c    *Config
		want bool
	}{
		{nil, true},
		{&Config{}, true},
		{&Config{EventBridge: true}, false},
		{&Config{Rules: []Rule{{ID: "x"}}}, false},
	} {
		if got := tt.c.Empty(); got != tt.want {
			t.Errorf("%+v.Empty() = %v, want %v", tt.c, got, tt.want)
		}
	}
}

func TestValidEvent(t *testing.T) {
	valid := []string{
		"s3:ObjectCreated:*", "s3:ObjectCreated:Put", "s3:ObjectCreated:Post", "s3:ObjectCreated:Copy", "s3:ObjectCreated:CompleteMultipartUpload",
		"s3:ObjectRemoved:*", "s3:ObjectRemoved:Delete", "s3:ObjectRemoved:DeleteMarkerCreated",
		"s3:ObjectRestore:*", "s3:ObjectRestore:Post", "s3:ObjectRestore:Completed", "s3:ObjectRestore:Delete",
		"s3:ReducedRedundancyLostObject",
		"s3:Replication:*", "s3:Replication:OperationFailedReplication", "s3:Replication:OperationNotTracked",
		"s3:Replication:OperationMissedThreshold", "s3:Replication:OperationReplicatedAfterThreshold",
		"s3:LifecycleTransition", "s3:LifecycleExpiration:*", "s3:LifecycleExpiration:Delete", "s3:LifecycleExpiration:DeleteMarkerCreated",
		"s3:IntelligentTiering", "s3:ObjectAcl:Put",
		"s3:ObjectTagging:*", "s3:ObjectTagging:Put", "s3:ObjectTagging:Delete",
		"s3:ObjectAnnotation:*", "s3:ObjectAnnotation:Put", "s3:ObjectAnnotation:Delete",
	}
	for _, e := range valid {
		if !ValidEvent(e) {
			t.Errorf("ValidEvent(%q) = false", e)
		}
	}
	if len(valid) != len(configurable) {
		t.Errorf("%d configurable events, want %d", len(configurable), len(valid))
	}
	for _, e := range []string{"s3:TestEvent", "", "s3:*", "s3:ObjectCreated", "ObjectCreated:Put", "s3:ObjectAcl:*", "s3:IntelligentTiering:*", "s3:LifecycleTransition:*"} {
		if ValidEvent(e) {
			t.Errorf("ValidEvent(%q) = true", e)
		}
	}
}

func FuzzParseConfig(f *testing.F) {
	seeds := []string{
		doc(""),
		doc("<EventBridgeConfiguration/>"),
		doc(queue("", prefix("images/"), "s3:ObjectCreated:*")),
		doc(queue("a", prefix("images/")+suffix(".jpg"), "s3:ObjectCreated:*") + queue("b", prefix("videos/"), "s3:ObjectCreated:Put")),
		doc(`<TopicConfiguration><Id>t</Id><Topic>` + topicARN + `</Topic><Event>s3:ObjectRemoved:*</Event></TopicConfiguration>` +
			`<CloudFunctionConfiguration><CloudFunction>` + funcARN + `</CloudFunction><Event>s3:LifecycleTransition</Event></CloudFunctionConfiguration>`),
		doc(queue("x", "<FilterRule><Name>SUFFIX</Name><Value>&#13;&amp;</Value></FilterRule>", " s3:ObjectTagging:* ")),
		doc(queue("", prefix("a")+prefix("b"), "s3:ObjectCreated:*")),
		doc("<Bogus/>"),
		"",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		c1, err := ParseConfig(body)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error %T %v, want *Error", err, err)
			}
			return
		}
		out := c1.Marshal()
		c2, err := ParseConfig(out)
		if err != nil {
			t.Fatalf("ParseConfig(Marshal()) refused: %v\n%s", err, out)
		}
		if !reflect.DeepEqual(c1, c2) {
			t.Fatalf("round trip differs:\n%+v\n%+v", c1, c2)
		}
		for _, r := range c1.Rules {
			if r.ID == "" {
				t.Fatalf("rule without Id: %+v", r)
			}
			// A key built from the filter is selected by it.
			for _, e := range r.Events {
				found := false
				for _, m := range c1.Match(e, r.Prefix+"k"+r.Suffix) {
					found = found || m.ID == r.ID
				}
				if !found {
					t.Fatalf("Match(%q, %q) misses rule %+v", e, r.Prefix+"k"+r.Suffix, r)
				}
			}
		}
	})
}
