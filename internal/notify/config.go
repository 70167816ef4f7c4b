package notify

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/xml"
	"strings"

	"github.com/firnhq/firn/internal/s3xml"
)

// Namespace is the XML namespace of S3 documents.
const Namespace = "http://s3.amazonaws.com/doc/2006-03-01/"

// Kinds of configuration rule: the element a rule comes from, without
// "Configuration".
const (
	KindTopic         = "Topic"         // TopicConfiguration, an SNS topic
	KindQueue         = "Queue"         // QueueConfiguration, an SQS queue
	KindCloudFunction = "CloudFunction" // CloudFunctionConfiguration, a Lambda function
)

// Error codes a notification configuration can be refused with.
const (
	CodeMalformedXML    = "MalformedXML"
	CodeInvalidArgument = "InvalidArgument"
)

// Messages of the errors ParseConfig returns. Those S3 was seen
// answering are S3's; the others are firn's.
const (
	msgMalformedXML      = "The XML you provided was not well-formed or did not validate against our published schema"
	msgBadARN            = "The ARN is not well formed"
	msgNoEvent           = "A notification configuration must specify at least one event"
	msgBadEvent          = "The event is not supported for notifications"
	msgBadFilterName     = "filter rule name must be either prefix or suffix"
	msgTwoPrefixes       = "Cannot specify more than one prefix rule in a filter."
	msgTwoSuffixes       = "Cannot specify more than one suffix rule in a filter."
	msgFilterValueTooBig = "Size of filter rule value cannot exceed 1024 bytes in UTF-8 representation"
	msgOverlap           = "Configurations overlap. Configurations on the same bucket cannot share a common event type."
	msgDuplicateID       = "Notification configuration Id must be unique. Found same Id for more than one configuration"
)

// MaxFilterValue is the longest prefix or suffix a filter rule may hold,
// in bytes: the longest key.
const MaxFilterValue = 1024

// Config is a bucket's notification configuration: the
// NotificationConfiguration document of Put/GetBucketNotificationConfiguration.
// The zero Config is the empty configuration (no notifications).
type Config struct {
	// Rules are the Topic, Queue and CloudFunction configurations.
	// ParseConfig returns them grouped by kind in the order S3 writes
	// them (Topic, Queue, CloudFunction), each group in document order.
	Rules []Rule
	// EventBridge is set when the document holds
	// <EventBridgeConfiguration/>. It is stored and returned; firn
	// delivers nothing for it.
	EventBridge bool
}

// Rule is one TopicConfiguration, QueueConfiguration or
// CloudFunctionConfiguration.
type Rule struct {
	// ID is the rule's <Id>, as given. ParseConfig generates one when the
	// document has none (see ParseConfig).
	ID string
	// Kind is KindTopic, KindQueue or KindCloudFunction.
	Kind string
	// ARN is the destination (<Topic>, <Queue> or <CloudFunction>).
	ARN string
	// Events are the event types, as given, with their "s3:" prefix, e.g.
	// "s3:ObjectCreated:*".
	Events []string
	// Prefix and Suffix are the S3Key filter rules, "" for none. They are
	// stored as given: S3 documents that special characters are written
	// URL-encoded (a space as '+'), and Match accepts either form.
	Prefix, Suffix string
}

// Error is a refused configuration: S3's error code (CodeMalformedXML or
// CodeInvalidArgument) and message. Its HTTP status is always 400.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Status is the HTTP status S3 answers every configuration error with:
// 400.
func (e *Error) Status() int { return 400 }

func malformed() *Error         { return &Error{CodeMalformedXML, msgMalformedXML} }
func invalid(msg string) *Error { return &Error{CodeInvalidArgument, msg} }

// configurable are the event types a configuration may name: S3's Event
// enumeration without s3:TestEvent, which S3 alone sends.
var configurable = map[string]bool{
	"s3:ObjectCreated:*":                               true,
	"s3:ObjectCreated:Put":                             true,
	"s3:ObjectCreated:Post":                            true,
	"s3:ObjectCreated:Copy":                            true,
	"s3:ObjectCreated:CompleteMultipartUpload":         true,
	"s3:ObjectRemoved:*":                               true,
	"s3:ObjectRemoved:Delete":                          true,
	"s3:ObjectRemoved:DeleteMarkerCreated":             true,
	"s3:ObjectRestore:*":                               true,
	"s3:ObjectRestore:Post":                            true,
	"s3:ObjectRestore:Completed":                       true,
	"s3:ObjectRestore:Delete":                          true,
	"s3:ReducedRedundancyLostObject":                   true,
	"s3:Replication:*":                                 true,
	"s3:Replication:OperationFailedReplication":        true,
	"s3:Replication:OperationNotTracked":               true,
	"s3:Replication:OperationMissedThreshold":          true,
	"s3:Replication:OperationReplicatedAfterThreshold": true,
	"s3:LifecycleTransition":                           true,
	"s3:LifecycleExpiration:*":                         true,
	"s3:LifecycleExpiration:Delete":                    true,
	"s3:LifecycleExpiration:DeleteMarkerCreated":       true,
	"s3:IntelligentTiering":                            true,
	"s3:ObjectAcl:Put":                                 true,
	"s3:ObjectTagging:*":                               true,
	"s3:ObjectTagging:Put":                             true,
	"s3:ObjectTagging:Delete":                          true,
	"s3:ObjectAnnotation:*":                            true,
	"s3:ObjectAnnotation:Put":                          true,
	"s3:ObjectAnnotation:Delete":                       true,
}

// ValidEvent reports whether name (with its "s3:" prefix) is an event
// type a configuration may name. s3:TestEvent is not one.
func ValidEvent(name string) bool { return configurable[name] }

// The wire form of a document. Every element is a slice so that a
// repeated element can be told from a single one, and unknown elements
// are collected so they can be refused.
type (
	xmlConfig struct {
		XMLName     xml.Name   `xml:"NotificationConfiguration"`
		Topics      []xmlRule  `xml:"TopicConfiguration"`
		Queues      []xmlRule  `xml:"QueueConfiguration"`
		Functions   []xmlRule  `xml:"CloudFunctionConfiguration"`
		EventBridge []xmlEmpty `xml:"EventBridgeConfiguration"`
		Unknown     []xmlAny   `xml:",any"`
	}
	xmlAny struct {
		XMLName xml.Name
	}
	xmlEmpty struct {
		Unknown []xmlAny `xml:",any"`
	}
	xmlRule struct {
		ID            []string    `xml:"Id"`
		Topic         []string    `xml:"Topic"`
		Queue         []string    `xml:"Queue"`
		CloudFunction []string    `xml:"CloudFunction"`
		Event         []string    `xml:"Event"`
		Filter        []xmlFilter `xml:"Filter"`
		// InvocationRole belongs to the deprecated
		// PutBucketNotification's CloudFunctionConfiguration; it is
		// accepted and dropped.
		InvocationRole []string `xml:"InvocationRole"`
		Unknown        []xmlAny `xml:",any"`
	}
	xmlFilter struct {
		S3Key   []xmlS3Key `xml:"S3Key"`
		Unknown []xmlAny   `xml:",any"`
	}
	xmlS3Key struct {
		FilterRule []xmlFilterRule `xml:"FilterRule"`
		Unknown    []xmlAny        `xml:",any"`
	}
	xmlFilterRule struct {
		Name    []string `xml:"Name"`
		Value   []string `xml:"Value"`
		Unknown []xmlAny `xml:",any"`
	}
)

// ParseConfig decodes the body of PutBucketNotificationConfiguration and
// checks it as S3 does, short of validating destinations (whether the
// queues, topics and functions exist is the caller's concern):
//
//   - the document must be well-formed, its root a NotificationConfiguration
//     (in any namespace), without unknown or repeated elements
//     (MalformedXML);
//   - every rule needs a well-formed ARN (see ParseARN; the ARN's service
//     is not compared with the rule's kind here) and at least one event
//     type, each configurable (ValidEvent);
//   - filter rules are named prefix or suffix in any case, at most one of
//     each, values at most MaxFilterValue bytes;
//   - no two rules may share an event type (counting wildcards) with
//     overlapping filters (see Config.Match for what filters select):
//     "Configurations overlap";
//   - Ids must be distinct.
//
// Event names and ARNs are trimmed of surrounding white space; Ids and
// filter values are kept as given. A rule without an Id (or with an empty
// one) gets a generated Id shaped like S3's: the base64 form of a UUID,
// 48 characters. It is derived from the rule's content and position, so
// the same document always yields the same Ids.
//
// Every failure is an *Error.
func ParseConfig(body []byte) (*Config, error) {
	var w xmlConfig
	if err := decodeDocument(body, &w); err != nil {
		return nil, err
	}
	if len(w.Unknown) > 0 || len(w.EventBridge) > 1 {
		return nil, malformed()
	}
	c := &Config{EventBridge: len(w.EventBridge) == 1}
	if c.EventBridge && len(w.EventBridge[0].Unknown) > 0 {
		return nil, malformed()
	}
	groups := []struct {
		kind  string
		rules []xmlRule
	}{{KindTopic, w.Topics}, {KindQueue, w.Queues}, {KindCloudFunction, w.Functions}}
	// The schema first, for every rule, then the meaning.
	for _, g := range groups {
		for i := range g.rules {
			if !g.rules[i].wellFormed(g.kind) {
				return nil, malformed()
			}
		}
	}
	for _, g := range groups {
		for i := range g.rules {
			r, err := g.rules[i].rule(g.kind)
			if err != nil {
				return nil, err
			}
			c.Rules = append(c.Rules, r)
		}
	}
	if err := c.checkOverlap(); err != nil {
		return nil, err
	}
	if err := c.assignIDs(); err != nil {
		return nil, err
	}
	return c, nil
}

// decodeDocument decodes body into v (a struct whose XMLName names the
// root element): one element with nothing but white space, comments and
// processing instructions around it. Anything else is MalformedXML.
func decodeDocument(body []byte, v any) error {
	if err := s3xml.Decode(body, v); err != nil {
		return malformed()
	}
	return nil
}

// arns returns the destination elements of w, which for kind must hold
// the ARN and for the other kinds must be absent.
func (w *xmlRule) arns(kind string) (own []string, others int) {
	switch kind {
	case KindTopic:
		return w.Topic, len(w.Queue) + len(w.CloudFunction)
	case KindQueue:
		return w.Queue, len(w.Topic) + len(w.CloudFunction)
	default:
		return w.CloudFunction, len(w.Topic) + len(w.Queue)
	}
}

// wellFormed reports whether w fits the schema of a kind configuration:
// no unknown elements, no other kind's destination, no repeated
// singletons.
func (w *xmlRule) wellFormed(kind string) bool {
	own, others := w.arns(kind)
	if len(w.Unknown) > 0 || others > 0 || len(own) > 1 || len(w.ID) > 1 ||
		len(w.Filter) > 1 || len(w.InvocationRole) > 1 ||
		(kind != KindCloudFunction && len(w.InvocationRole) > 0) {
		return false
	}
	for _, f := range w.Filter {
		if len(f.Unknown) > 0 || len(f.S3Key) > 1 {
			return false
		}
		for _, k := range f.S3Key {
			if len(k.Unknown) > 0 {
				return false
			}
			for _, fr := range k.FilterRule {
				if len(fr.Unknown) > 0 || len(fr.Name) > 1 || len(fr.Value) > 1 {
					return false
				}
			}
		}
	}
	return true
}

// rule converts a well-formed wire rule, checking its meaning.
func (w *xmlRule) rule(kind string) (Rule, error) {
	r := Rule{Kind: kind}
	if len(w.ID) == 1 {
		r.ID = w.ID[0]
	}
	own, _ := w.arns(kind)
	if len(own) == 1 {
		r.ARN = strings.TrimSpace(own[0])
	}
	if _, _, _, _, err := ParseARN(r.ARN); err != nil {
		return r, invalid(msgBadARN)
	}
	if len(w.Event) == 0 {
		return r, invalid(msgNoEvent)
	}
	r.Events = make([]string, len(w.Event))
	for i, e := range w.Event {
		e = strings.TrimSpace(e)
		if !ValidEvent(e) {
			return r, invalid(msgBadEvent)
		}
		r.Events[i] = e
	}
	if len(w.Filter) == 0 || len(w.Filter[0].S3Key) == 0 {
		return r, nil
	}
	var prefixes, suffixes int
	for _, fr := range w.Filter[0].S3Key[0].FilterRule {
		var name, value string
		if len(fr.Name) == 1 {
			name = strings.TrimSpace(fr.Name[0])
		}
		if len(fr.Value) == 1 {
			value = fr.Value[0]
		}
		switch {
		case strings.EqualFold(name, "prefix"):
			prefixes++
			r.Prefix = value
		case strings.EqualFold(name, "suffix"):
			suffixes++
			r.Suffix = value
		default:
			return r, invalid(msgBadFilterName)
		}
		if prefixes > 1 {
			return r, invalid(msgTwoPrefixes)
		}
		if suffixes > 1 {
			return r, invalid(msgTwoSuffixes)
		}
		if len(value) > MaxFilterValue {
			return r, invalid(msgFilterValueTooBig)
		}
	}
	return r, nil
}

// checkOverlap refuses two rules that share an event type and whose
// filters can both select the same key, whatever their destinations.
func (c *Config) checkOverlap() error {
	for i := range c.Rules {
		for j := i + 1; j < len(c.Rules); j++ {
			a, b := &c.Rules[i], &c.Rules[j]
			if filtersOverlap(a, b) && shareEvent(a.Events, b.Events) {
				return invalid(msgOverlap)
			}
		}
	}
	return nil
}

// filtersOverlap reports whether some key matches both rules' filters:
// exactly when one prefix is a prefix of the other and one suffix a
// suffix of the other (the key longer prefix + longer suffix matches
// both). An empty prefix or suffix overlaps everything.
func filtersOverlap(a, b *Rule) bool {
	prefixes := strings.HasPrefix(a.Prefix, b.Prefix) || strings.HasPrefix(b.Prefix, a.Prefix)
	suffixes := strings.HasSuffix(a.Suffix, b.Suffix) || strings.HasSuffix(b.Suffix, a.Suffix)
	return prefixes && suffixes
}

// shareEvent reports whether an event type is covered by both lists.
func shareEvent(a, b []string) bool {
	for _, x := range a {
		for _, y := range b {
			if covers(x, y) || covers(y, x) {
				return true
			}
		}
	}
	return false
}

// covers reports whether configured event type pattern (with "s3:")
// covers event type name: they are equal, or pattern is "<family>:*" and
// name is of that family.
func covers(pattern, name string) bool {
	if pattern == name {
		return true
	}
	family, ok := strings.CutSuffix(pattern, "*")
	return ok && strings.HasSuffix(family, ":") && strings.HasPrefix(name, family)
}

// assignIDs refuses repeated Ids and gives every rule without one a
// generated Id, distinct from every other.
func (c *Config) assignIDs() error {
	taken := make(map[string]bool, len(c.Rules))
	for _, r := range c.Rules {
		if r.ID == "" {
			continue
		}
		if taken[r.ID] {
			return invalid(msgDuplicateID)
		}
		taken[r.ID] = true
	}
	for i := range c.Rules {
		r := &c.Rules[i]
		if r.ID != "" {
			continue
		}
		seed := marshalRule(r)
		seed = binary.BigEndian.AppendUint32(seed, uint32(i))
		for {
			sum := sha256.Sum256(seed)
			id := base64.StdEncoding.EncodeToString([]byte(uuidString(sum[:16])))
			if !taken[id] {
				r.ID, taken[id] = id, true
				break
			}
			seed = sum[:]
		}
	}
	return nil
}

// uuidString formats 16 bytes as a version 4 UUID string.
func uuidString(b []byte) string {
	var u [16]byte
	copy(u[:], b)
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	h := hex.EncodeToString(u[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// The output form of a document, in S3's element order.
type (
	outConfig struct {
		XMLName     xml.Name  `xml:"http://s3.amazonaws.com/doc/2006-03-01/ NotificationConfiguration"`
		Topics      []outRule `xml:"TopicConfiguration"`
		Queues      []outRule `xml:"QueueConfiguration"`
		Functions   []outRule `xml:"CloudFunctionConfiguration"`
		EventBridge *struct{} `xml:"EventBridgeConfiguration"`
	}
	outRule struct {
		ID            string     `xml:"Id,omitempty"`
		Topic         string     `xml:"Topic,omitempty"`
		Queue         string     `xml:"Queue,omitempty"`
		CloudFunction string     `xml:"CloudFunction,omitempty"`
		Events        []string   `xml:"Event"`
		Filter        *outFilter `xml:"Filter"`
	}
	outFilter struct {
		Rules []outFilterRule `xml:"S3Key>FilterRule"`
	}
	outFilterRule struct {
		Name  string `xml:"Name"`
		Value string `xml:"Value"`
	}
)

// Marshal returns the document GetBucketNotificationConfiguration answers
// with: an XML declaration and a NotificationConfiguration in S3's
// namespace holding the Topic, then Queue, then CloudFunction
// configurations, then EventBridgeConfiguration. Filter rule names are
// written "Prefix" and "Suffix", as S3 writes them. Rules of an unknown
// kind are left out. An empty configuration is an empty
// NotificationConfiguration element.
func (c *Config) Marshal() []byte {
	var out outConfig
	for i := range c.Rules {
		r := &c.Rules[i]
		o := toOut(r)
		switch r.Kind {
		case KindTopic:
			out.Topics = append(out.Topics, o)
		case KindQueue:
			out.Queues = append(out.Queues, o)
		case KindCloudFunction:
			out.Functions = append(out.Functions, o)
		}
	}
	if c.EventBridge {
		out.EventBridge = &struct{}{}
	}
	b, err := xml.Marshal(out)
	if err != nil {
		// Only unsupported types make xml.Marshal fail; these are fixed.
		panic("notify: marshal: " + err.Error())
	}
	return append([]byte(xml.Header), b...)
}

// marshalRule renders one rule; it seeds generated Ids.
func marshalRule(r *Rule) []byte {
	b, err := xml.Marshal(struct {
		XMLName xml.Name
		outRule
	}{xml.Name{Local: r.Kind}, toOut(r)})
	if err != nil {
		panic("notify: marshal: " + err.Error())
	}
	return b
}

func toOut(r *Rule) outRule {
	o := outRule{ID: r.ID, Events: r.Events}
	switch r.Kind {
	case KindTopic:
		o.Topic = r.ARN
	case KindQueue:
		o.Queue = r.ARN
	case KindCloudFunction:
		o.CloudFunction = r.ARN
	}
	if r.Prefix != "" || r.Suffix != "" {
		o.Filter = &outFilter{}
		if r.Prefix != "" {
			o.Filter.Rules = append(o.Filter.Rules, outFilterRule{"Prefix", r.Prefix})
		}
		if r.Suffix != "" {
			o.Filter.Rules = append(o.Filter.Rules, outFilterRule{"Suffix", r.Suffix})
		}
	}
	return o
}

// Empty reports whether c configures nothing: no rules and no
// EventBridge.
func (c *Config) Empty() bool { return c == nil || (len(c.Rules) == 0 && !c.EventBridge) }

// Match returns the rules, in c's order, that event (an event type such
// as "s3:ObjectCreated:Put"; the "s3:" prefix may be left out, as in
// Event.Name) about key is delivered for: one of the rule's event types
// is the event or a wildcard covering it ("s3:ObjectCreated:*"), and the
// rule's filter selects key.
//
// A filter selects a key when the key starts with its prefix and ends
// with its suffix, compared byte by byte and case-sensitively. S3
// documents that filter values with special characters are written
// URL-encoded (a space as '+'); so that both habits work, the filter
// (prefix and suffix together) may match either the raw key or the key as
// event messages encode it.
func (c *Config) Match(event, key string) []Rule {
	if c == nil {
		return nil
	}
	if !strings.HasPrefix(event, "s3:") {
		event = "s3:" + event
	}
	var matched []Rule
	var encoded string
	for _, r := range c.Rules {
		hit := false
		for _, e := range r.Events {
			if covers(e, event) {
				hit = true
				break
			}
		}
		if !hit {
			continue
		}
		if r.Prefix != "" || r.Suffix != "" {
			if encoded == "" {
				encoded = encodeKey(key)
			}
			if !selects(&r, key) && !selects(&r, encoded) {
				continue
			}
		}
		matched = append(matched, r)
	}
	return matched
}

// selects reports whether r's filter selects key, taken literally.
func selects(r *Rule, key string) bool {
	return strings.HasPrefix(key, r.Prefix) && strings.HasSuffix(key, r.Suffix)
}
