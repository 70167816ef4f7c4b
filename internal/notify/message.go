package notify

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// timeLayout is how event messages write instants: ISO 8601 at
// millisecond precision in UTC, as S3 writes them.
const timeLayout = "2006-01-02T15:04:05.000Z"

// The message's JSON, fields in the order of S3's documented samples.
type (
	message struct {
		Records []record `json:"Records"`
	}
	record struct {
		EventVersion                string                       `json:"eventVersion"`
		EventSource                 string                       `json:"eventSource"`
		AWSRegion                   string                       `json:"awsRegion"`
		EventTime                   string                       `json:"eventTime"`
		EventName                   string                       `json:"eventName"`
		UserIdentity                principal                    `json:"userIdentity"`
		RequestParameters           requestParameters            `json:"requestParameters"`
		ResponseElements            responseElements             `json:"responseElements"`
		S3                          s3Entity                     `json:"s3"`
		GlacierEventData            *glacierEventData            `json:"glacierEventData,omitempty"`
		LifecycleEventData          *lifecycleEventData          `json:"lifecycleEventData,omitempty"`
		IntelligentTieringEventData *intelligentTieringEventData `json:"intelligentTieringEventData,omitempty"`
	}
	principal struct {
		PrincipalID string `json:"principalId"`
	}
	requestParameters struct {
		SourceIPAddress string `json:"sourceIPAddress"`
	}
	responseElements struct {
		RequestID string `json:"x-amz-request-id"`
		HostID    string `json:"x-amz-id-2"`
	}
	s3Entity struct {
		SchemaVersion   string   `json:"s3SchemaVersion"`
		ConfigurationID string   `json:"configurationId"`
		Bucket          s3Bucket `json:"bucket"`
		Object          s3Object `json:"object"`
	}
	s3Bucket struct {
		Name          string    `json:"name"`
		OwnerIdentity principal `json:"ownerIdentity"`
		ARN           string    `json:"arn"`
	}
	s3Object struct {
		Key       string `json:"key"`
		Size      *int64 `json:"size,omitempty"`
		ETag      string `json:"eTag,omitempty"`
		VersionID string `json:"versionId,omitempty"`
		Sequencer string `json:"sequencer,omitempty"`
	}
	glacierEventData struct {
		RestoreEventData restoreEventData `json:"restoreEventData"`
	}
	restoreEventData struct {
		ExpiryTime   string `json:"lifecycleRestorationExpiryTime"`
		StorageClass string `json:"lifecycleRestoreStorageClass"`
	}
	lifecycleEventData struct {
		TransitionEventData transitionEventData `json:"transitionEventData"`
	}
	transitionEventData struct {
		DestinationStorageClass string `json:"destinationStorageClass"`
	}
	intelligentTieringEventData struct {
		DestinationAccessTier string `json:"destinationAccessTier"`
	}
)

// Render returns S3's event message for e, {"Records":[{...}]} with one
// record, as consumers of S3's notifications parse it:
//
//   - eventVersion is "2.3" for the event types introduced with it
//     (LifecycleTransition, LifecycleExpiration:*, IntelligentTiering,
//     ObjectTagging:*, ObjectAcl:Put, ObjectRestore:Delete), "2.2" for
//     Replication:*, and "2.1" for all others;
//   - eventTime is e.Time in UTC at millisecond precision;
//   - userIdentity, requestParameters and responseElements carry
//     e.Principal, e.SourceIP, e.RequestID and e.HostID, "" when unknown
//     (S3 fills responseElements even for the events it causes itself,
//     with ids of its own internal requests; firn has none to give unless
//     the recorder supplies them);
//   - object.key is e.Key URL-encoded as S3 encodes it (see encodeKey);
//   - object.size and object.eTag are left out for removals
//     (ObjectRemoved:*, LifecycleExpiration:*), which S3's samples show
//     without them, and written for every other event (size even when 0;
//     eTag when known, without quotes);
//   - object.versionId is written when e.VersionID is set, and
//     object.sequencer when sequencer is not "";
//   - glacierEventData comes only with ObjectRestore:Completed,
//     lifecycleEventData only with LifecycleTransition and
//     intelligentTieringEventData only with IntelligentTiering.
//
// e.Name may carry the "s3:" prefix or not; eventName never does.
func Render(e Event, sequencer string) []byte {
	name := strings.TrimPrefix(e.Name, "s3:")
	obj := s3Object{Key: encodeKey(e.Key), VersionID: e.VersionID, Sequencer: sequencer}
	if !isRemoval(name) {
		size := e.Size
		obj.Size = &size
		obj.ETag = strings.Trim(e.ETag, `"`)
	}
	r := record{
		EventVersion:      eventVersion(name),
		EventSource:       "aws:s3",
		AWSRegion:         e.Region,
		EventTime:         e.Time.UTC().Format(timeLayout),
		EventName:         name,
		UserIdentity:      principal{e.Principal},
		RequestParameters: requestParameters{e.SourceIP},
		ResponseElements:  responseElements{e.RequestID, e.HostID},
		S3: s3Entity{
			SchemaVersion:   "1.0",
			ConfigurationID: e.ConfigurationID,
			Bucket: s3Bucket{
				Name:          e.Bucket,
				OwnerIdentity: principal{e.BucketOwner},
				ARN:           "arn:aws:s3:::" + e.Bucket,
			},
			Object: obj,
		},
	}
	switch name {
	case "ObjectRestore:Completed":
		r.GlacierEventData = &glacierEventData{restoreEventData{
			ExpiryTime:   e.RestoreExpiry.UTC().Format(timeLayout),
			StorageClass: e.RestoreClass,
		}}
	case "LifecycleTransition":
		r.LifecycleEventData = &lifecycleEventData{transitionEventData{e.TransitionClass}}
	case "IntelligentTiering":
		r.IntelligentTieringEventData = &intelligentTieringEventData{e.AccessTier}
	}
	return marshalJSON(message{Records: []record{r}})
}

// eventVersion returns the eventVersion S3 writes for event type name
// (without "s3:").
func eventVersion(name string) string {
	switch {
	case strings.HasPrefix(name, "Replication:"):
		return "2.2"
	case name == "LifecycleTransition", name == "IntelligentTiering",
		name == "ObjectAcl:Put", name == "ObjectRestore:Delete",
		strings.HasPrefix(name, "LifecycleExpiration:"),
		strings.HasPrefix(name, "ObjectTagging:"):
		return "2.3"
	}
	return "2.1"
}

// isRemoval reports whether event type name (without "s3:") removes an
// object version or hides it behind a delete marker.
func isRemoval(name string) bool {
	return strings.HasPrefix(name, "ObjectRemoved:") || strings.HasPrefix(name, "LifecycleExpiration:")
}

// encodeKey URL-encodes an object key as S3 writes it in event messages:
// application/x-www-form-urlencoded as Java's URLEncoder does it (letters,
// digits and ".-*_" kept, a space written '+', every other byte of the
// UTF-8 form written %XX in upper case), except that '/' is kept, as S3
// keeps it. So "my folder/a+b=c.jpg" becomes "my+folder/a%2Bb%3Dc.jpg".
func encodeKey(key string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(key))
	for i := 0; i < len(key); i++ {
		switch c := key[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			c == '.', c == '-', c == '*', c == '_', c == '/':
			b.WriteByte(c)
		case c == ' ':
			b.WriteByte('+')
		default:
			b.WriteByte('%')
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&15])
		}
	}
	return b.String()
}

// Sequencer formats outbox sequence number seq as an S3 sequencer: 16
// upper-case hex digits. All firn sequencers have the same width, so
// they compare as S3 tells consumers to compare sequencers (right-pad
// the shorter with '0', then compare as strings) in the order of seq,
// for seq ≥ 0.
func Sequencer(seq int64) string { return fmt.Sprintf("%016X", uint64(seq)) }

// testMessage is the JSON of s3:TestEvent.
type testMessage struct {
	Service   string `json:"Service"`
	Event     string `json:"Event"`
	Time      string `json:"Time"`
	Bucket    string `json:"Bucket"`
	RequestID string `json:"RequestId"`
	HostID    string `json:"HostId"`
}

// TestMessage returns the s3:TestEvent message S3 sends to each
// destination when a configuration is saved:
// {"Service":"Amazon S3","Event":"s3:TestEvent","Time":...,"Bucket":...,
// "RequestId":...,"HostId":...}, Time in UTC at millisecond precision.
func TestMessage(bucket, requestID, hostID string, t time.Time) []byte {
	return marshalJSON(testMessage{
		Service:   "Amazon S3",
		Event:     "s3:TestEvent",
		Time:      t.UTC().Format(timeLayout),
		Bucket:    bucket,
		RequestID: requestID,
		HostID:    hostID,
	})
}

// marshalJSON encodes v compactly without HTML escaping ('<', '>' and
// '&' written as themselves, as S3 writes them).
func marshalJSON(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// The types are fixed and hold only strings and integers.
		panic("notify: marshal message: " + err.Error())
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}
