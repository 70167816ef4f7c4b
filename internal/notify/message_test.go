package notify

import (
	"bytes"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"
)

// at is 2024-05-06T05:08:09.123456789Z, written in another zone.
var at = time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.FixedZone("CEST", 2*3600))

const hostID = "FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD"

// put is an ObjectCreated:Put of an unversioned object.
func put() Event {
	return Event{
		Name:            "ObjectCreated:Put",
		Time:            at,
		Region:          "us-west-2",
		ConfigurationID: "testConfigRule",
		Bucket:          "mybucket",
		BucketOwner:     "A3NL1KOZZKExample",
		Key:             "HappyFace.jpg",
		Size:            1024,
		ETag:            "d41d8cd98f00b204e9800998ecf8427e",
		Principal:       "AIDAJDPLRKLG7UEXAMPLE",
		SourceIP:        "127.0.0.1",
		RequestID:       "C3D13FE58DE4C810",
		HostID:          hostID,
	}
}

// system makes e an event firn causes itself.
func system(e Event, name string) Event {
	e.Name = name
	e.Principal, e.SourceIP = System, System
	return e
}

// head is the common start of a record for put-based events, up to and
// including the bucket.
func head(version, name, principal, ip string) string {
	return `{"Records":[{"eventVersion":"` + version + `","eventSource":"aws:s3","awsRegion":"us-west-2","eventTime":"2024-05-06T05:08:09.123Z","eventName":"` + name + `",` +
		`"userIdentity":{"principalId":"` + principal + `"},"requestParameters":{"sourceIPAddress":"` + ip + `"},` +
		`"responseElements":{"x-amz-request-id":"C3D13FE58DE4C810","x-amz-id-2":"` + hostID + `"},` +
		`"s3":{"s3SchemaVersion":"1.0","configurationId":"testConfigRule","bucket":{"name":"mybucket","ownerIdentity":{"principalId":"A3NL1KOZZKExample"},"arn":"arn:aws:s3:::mybucket"},`
}

func TestRender(t *testing.T) {
	user := func(version, name string) string { return head(version, name, "AIDAJDPLRKLG7UEXAMPLE", "127.0.0.1") }
	sys := func(version, name string) string { return head(version, name, System, System) }

	versioned := put()
	versioned.VersionID = "096fKKXTRTtl3on89fVO.nfljtsv6qko"
	versioned.ETag = `"d41d8cd98f00b204e9800998ecf8427e"` // quotes are dropped

	del := put()
	del.Name = "ObjectRemoved:Delete"
	del.Size, del.ETag = 0, ""

	marker := del
	marker.Name = "s3:ObjectRemoved:DeleteMarkerCreated" // the "s3:" prefix is dropped
	marker.VersionID = "dm1"

	restored := system(put(), "ObjectRestore:Completed")
	restored.RestoreExpiry = time.Date(2024, 5, 9, 0, 0, 0, 0, time.UTC)
	restored.RestoreClass = "DEEP_ARCHIVE"

	transitioned := system(put(), "LifecycleTransition")
	transitioned.TransitionClass = "GLACIER"

	tiered := system(put(), "IntelligentTiering")
	tiered.AccessTier = "ARCHIVE_ACCESS"

	expired := system(put(), "LifecycleExpiration:Delete")
	expired.Size, expired.ETag = 0, ""

	empty := put()
	empty.Size = 0
	empty.ETag = "d41d8cd98f00b204e9800998ecf8427e"

	unknown := Event{Name: "ObjectCreated:Copy", Time: at, Key: "k"}

	tests := []struct {
		name      string
		e         Event
		sequencer string
		want      string
	}{
		{"put", put(), "0055AED6DCD90281E5",
			user("2.1", "ObjectCreated:Put") + `"object":{"key":"HappyFace.jpg","size":1024,"eTag":"d41d8cd98f00b204e9800998ecf8427e","sequencer":"0055AED6DCD90281E5"}}}]}`},
		{"put versioned", versioned, "000000000000002A",
			user("2.1", "ObjectCreated:Put") + `"object":{"key":"HappyFace.jpg","size":1024,"eTag":"d41d8cd98f00b204e9800998ecf8427e","versionId":"096fKKXTRTtl3on89fVO.nfljtsv6qko","sequencer":"000000000000002A"}}}]}`},
		{"put of an empty object", empty, "0000000000000001",
			user("2.1", "ObjectCreated:Put") + `"object":{"key":"HappyFace.jpg","size":0,"eTag":"d41d8cd98f00b204e9800998ecf8427e","sequencer":"0000000000000001"}}}]}`},
		{"delete", del, "0000000000000002",
			user("2.1", "ObjectRemoved:Delete") + `"object":{"key":"HappyFace.jpg","sequencer":"0000000000000002"}}}]}`},
		{"delete marker", marker, "0000000000000003",
			user("2.1", "ObjectRemoved:DeleteMarkerCreated") + `"object":{"key":"HappyFace.jpg","versionId":"dm1","sequencer":"0000000000000003"}}}]}`},
		{"restore completed", restored, "0000000000000004",
			sys("2.1", "ObjectRestore:Completed") + `"object":{"key":"HappyFace.jpg","size":1024,"eTag":"d41d8cd98f00b204e9800998ecf8427e","sequencer":"0000000000000004"}},` +
				`"glacierEventData":{"restoreEventData":{"lifecycleRestorationExpiryTime":"2024-05-09T00:00:00.000Z","lifecycleRestoreStorageClass":"DEEP_ARCHIVE"}}}]}`},
		{"lifecycle transition", transitioned, "0000000000000005",
			sys("2.3", "LifecycleTransition") + `"object":{"key":"HappyFace.jpg","size":1024,"eTag":"d41d8cd98f00b204e9800998ecf8427e","sequencer":"0000000000000005"}},` +
				`"lifecycleEventData":{"transitionEventData":{"destinationStorageClass":"GLACIER"}}}]}`},
		{"intelligent tiering", tiered, "",
			sys("2.3", "IntelligentTiering") + `"object":{"key":"HappyFace.jpg","size":1024,"eTag":"d41d8cd98f00b204e9800998ecf8427e"}},` +
				`"intelligentTieringEventData":{"destinationAccessTier":"ARCHIVE_ACCESS"}}]}`},
		{"lifecycle expiration", expired, "0000000000000006",
			sys("2.3", "LifecycleExpiration:Delete") + `"object":{"key":"HappyFace.jpg","sequencer":"0000000000000006"}}}]}`},
		{"nothing known", unknown, "",
			`{"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"","eventTime":"2024-05-06T05:08:09.123Z","eventName":"ObjectCreated:Copy",` +
				`"userIdentity":{"principalId":""},"requestParameters":{"sourceIPAddress":""},"responseElements":{"x-amz-request-id":"","x-amz-id-2":""},` +
				`"s3":{"s3SchemaVersion":"1.0","configurationId":"","bucket":{"name":"","ownerIdentity":{"principalId":""},"arn":"arn:aws:s3:::"},"object":{"key":"k","size":0}}}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Render(tt.e, tt.sequencer)
			if string(got) != tt.want {
				t.Errorf("Render:\ngot  %s\nwant %s", got, tt.want)
			}
			if !json.Valid(got) {
				t.Errorf("not JSON: %s", got)
			}
		})
	}
}

func TestRenderNoHTMLEscaping(t *testing.T) {
	e := put()
	e.Bucket, e.ConfigurationID = "b", "a<b>&c"
	got := Render(e, "")
	if !bytes.Contains(got, []byte(`"configurationId":"a<b>&c"`)) {
		t.Errorf("configurationId escaped: %s", got)
	}
}

func TestEventVersion(t *testing.T) {
	for name, want := range map[string]string{
		"ObjectCreated:Put":                             "2.1",
		"ObjectCreated:CompleteMultipartUpload":         "2.1",
		"ObjectRemoved:Delete":                          "2.1",
		"ObjectRemoved:DeleteMarkerCreated":             "2.1",
		"ObjectRestore:Post":                            "2.1",
		"ObjectRestore:Completed":                       "2.1",
		"ReducedRedundancyLostObject":                   "2.1",
		"ObjectAnnotation:Put":                          "2.1",
		"Replication:OperationFailedReplication":        "2.2",
		"Replication:OperationReplicatedAfterThreshold": "2.2",
		"LifecycleTransition":                           "2.3",
		"LifecycleExpiration:Delete":                    "2.3",
		"LifecycleExpiration:DeleteMarkerCreated":       "2.3",
		"IntelligentTiering":                            "2.3",
		"ObjectTagging:Put":                             "2.3",
		"ObjectTagging:Delete":                          "2.3",
		"ObjectAcl:Put":                                 "2.3",
		"ObjectRestore:Delete":                          "2.3",
	} {
		var rec struct {
			Records []struct {
				EventVersion string `json:"eventVersion"`
				EventName    string `json:"eventName"`
			}
		}
		e := put()
		e.Name = "s3:" + name
		if err := json.Unmarshal(Render(e, ""), &rec); err != nil {
			t.Fatal(err)
		}
		if got := rec.Records[0].EventVersion; got != want {
			t.Errorf("%s: eventVersion %q, want %q", name, got, want)
		}
		if got := rec.Records[0].EventName; got != name {
			t.Errorf("eventName %q, want %q", got, name)
		}
	}
}

func TestEncodeKey(t *testing.T) {
	tests := []struct{ key, want string }{
		{"HappyFace.jpg", "HappyFace.jpg"},
		{"red flower.jpg", "red+flower.jpg"},
		{"photos/2024/cat.jpg", "photos/2024/cat.jpg"},
		{"a+b", "a%2Bb"},
		{"dt=2018-05-04/_SUCCESS", "dt%3D2018-05-04/_SUCCESS"},
		{"test/10:47:07.log", "test/10%3A47%3A07.log"},
		{"this im + age.txt", "this+im+%2B+age.txt"},
		{"ü", "%C3%BC"},
		{"日本/語.txt", "%E6%97%A5%E6%9C%AC/%E8%AA%9E.txt"},
		{"a~b*c-d_e.f", "a%7Eb*c-d_e.f"},
		{"100%", "100%25"},
		{"q?x&y#z", "q%3Fx%26y%23z"},
		{"tab\there", "tab%09here"},
		{"", ""},
	}
	for _, tt := range tests {
		got := encodeKey(tt.key)
		if got != tt.want {
			t.Errorf("encodeKey(%q) = %q, want %q", tt.key, got, tt.want)
		}
		// What consumers do (unquote_plus, URLDecoder.decode) gives the
		// key back.
		back, err := url.QueryUnescape(got)
		if err != nil || back != tt.key {
			t.Errorf("QueryUnescape(%q) = %q, %v; want %q", got, back, err, tt.key)
		}
	}
}

func TestRenderKeys(t *testing.T) {
	for key, want := range map[string]string{
		"my folder/sub dir/ünï cødé.txt": `"key":"my+folder/sub+dir/%C3%BCn%C3%AF+c%C3%B8d%C3%A9.txt"`,
		"a\"b\\c":                        `"key":"a%22b%5Cc"`,
	} {
		e := put()
		e.Key = key
		if got := Render(e, ""); !bytes.Contains(got, []byte(want)) {
			t.Errorf("Render of key %q: %s, want it to hold %s", key, got, want)
		}
	}
}

// The shape of github.com/aws/aws-lambda-go/events.S3Event, which many
// consumers unmarshal S3's messages into.
type (
	lambdaS3Event struct {
		Records []lambdaS3EventRecord `json:"Records"`
	}
	lambdaS3EventRecord struct {
		EventVersion      string                    `json:"eventVersion"`
		EventSource       string                    `json:"eventSource"`
		AWSRegion         string                    `json:"awsRegion"`
		EventTime         time.Time                 `json:"eventTime"`
		EventName         string                    `json:"eventName"`
		PrincipalID       lambdaS3UserIdentity      `json:"userIdentity"`
		RequestParameters lambdaS3RequestParameters `json:"requestParameters"`
		ResponseElements  map[string]string         `json:"responseElements"`
		S3                lambdaS3Entity            `json:"s3"`
	}
	lambdaS3UserIdentity struct {
		PrincipalID string `json:"principalId"`
	}
	lambdaS3RequestParameters struct {
		SourceIPAddress string `json:"sourceIPAddress"`
	}
	lambdaS3Entity struct {
		SchemaVersion   string         `json:"s3SchemaVersion"`
		ConfigurationID string         `json:"configurationId"`
		Bucket          lambdaS3Bucket `json:"bucket"`
		Object          lambdaS3Object `json:"object"`
	}
	lambdaS3Bucket struct {
		Name          string               `json:"name"`
		OwnerIdentity lambdaS3UserIdentity `json:"ownerIdentity"`
		Arn           string               `json:"arn"`
	}
	lambdaS3Object struct {
		Key           string `json:"key"`
		Size          int64  `json:"size,omitempty"`
		URLDecodedKey string `json:"urlDecodedKey"`
		VersionID     string `json:"versionId"`
		ETag          string `json:"eTag"`
		Sequencer     string `json:"sequencer"`
	}
)

func TestRenderLambdaShape(t *testing.T) {
	e := put()
	e.Key = "my folder/Happy Face.jpg"
	e.VersionID = "v1"
	var got lambdaS3Event
	if err := json.Unmarshal(Render(e, Sequencer(7)), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Records) != 1 {
		t.Fatalf("%d records, want 1", len(got.Records))
	}
	r := got.Records[0]
	checks := []struct{ field, got, want string }{
		{"eventVersion", r.EventVersion, "2.1"},
		{"eventSource", r.EventSource, "aws:s3"},
		{"awsRegion", r.AWSRegion, "us-west-2"},
		{"eventTime", r.EventTime.Format(time.RFC3339Nano), "2024-05-06T05:08:09.123Z"},
		{"eventName", r.EventName, "ObjectCreated:Put"},
		{"userIdentity.principalId", r.PrincipalID.PrincipalID, "AIDAJDPLRKLG7UEXAMPLE"},
		{"requestParameters.sourceIPAddress", r.RequestParameters.SourceIPAddress, "127.0.0.1"},
		{"x-amz-request-id", r.ResponseElements["x-amz-request-id"], "C3D13FE58DE4C810"},
		{"x-amz-id-2", r.ResponseElements["x-amz-id-2"], hostID},
		{"s3SchemaVersion", r.S3.SchemaVersion, "1.0"},
		{"configurationId", r.S3.ConfigurationID, "testConfigRule"},
		{"bucket.name", r.S3.Bucket.Name, "mybucket"},
		{"bucket.ownerIdentity", r.S3.Bucket.OwnerIdentity.PrincipalID, "A3NL1KOZZKExample"},
		{"bucket.arn", r.S3.Bucket.Arn, "arn:aws:s3:::mybucket"},
		{"object.key", r.S3.Object.Key, "my+folder/Happy+Face.jpg"},
		{"object.versionId", r.S3.Object.VersionID, "v1"},
		{"object.eTag", r.S3.Object.ETag, "d41d8cd98f00b204e9800998ecf8427e"},
		{"object.sequencer", r.S3.Object.Sequencer, "0000000000000007"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.field, c.got, c.want)
		}
	}
	if r.S3.Object.Size != 1024 {
		t.Errorf("object.size = %d, want 1024", r.S3.Object.Size)
	}
	if len(r.ResponseElements) != 2 {
		t.Errorf("responseElements %v, want 2 entries", r.ResponseElements)
	}
	if key, err := url.QueryUnescape(r.S3.Object.Key); err != nil || key != e.Key {
		t.Errorf("decoded key %q, %v; want %q", key, err, e.Key)
	}
}

// TestRenderNoUnknownFields decodes every optional part strictly, so a
// misspelt JSON name fails.
func TestRenderNoUnknownFields(t *testing.T) {
	type strictRecord struct {
		lambdaS3EventRecord
		GlacierEventData *struct {
			RestoreEventData struct {
				LifecycleRestorationExpiryTime time.Time `json:"lifecycleRestorationExpiryTime"`
				LifecycleRestoreStorageClass   string    `json:"lifecycleRestoreStorageClass"`
			} `json:"restoreEventData"`
		} `json:"glacierEventData"`
		LifecycleEventData *struct {
			TransitionEventData struct {
				DestinationStorageClass string `json:"destinationStorageClass"`
			} `json:"transitionEventData"`
		} `json:"lifecycleEventData"`
		IntelligentTieringEventData *struct {
			DestinationAccessTier string `json:"destinationAccessTier"`
		} `json:"intelligentTieringEventData"`
	}
	restored := system(put(), "ObjectRestore:Completed")
	restored.RestoreExpiry, restored.RestoreClass = at, "GLACIER"
	transitioned := system(put(), "LifecycleTransition")
	transitioned.TransitionClass = "GLACIER_IR"
	tiered := system(put(), "IntelligentTiering")
	tiered.AccessTier = "DEEP_ARCHIVE_ACCESS"
	for _, e := range []Event{put(), restored, transitioned, tiered} {
		dec := json.NewDecoder(bytes.NewReader(Render(e, "01")))
		dec.DisallowUnknownFields()
		var got struct {
			Records []strictRecord `json:"Records"`
		}
		if err := dec.Decode(&got); err != nil {
			t.Fatalf("%s: %v", e.Name, err)
		}
		r := got.Records[0]
		switch e.Name {
		case "ObjectRestore:Completed":
			if r.GlacierEventData == nil || !r.GlacierEventData.RestoreEventData.LifecycleRestorationExpiryTime.Equal(at.Truncate(time.Millisecond)) ||
				r.GlacierEventData.RestoreEventData.LifecycleRestoreStorageClass != "GLACIER" {
				t.Errorf("glacierEventData %+v", r.GlacierEventData)
			}
		case "LifecycleTransition":
			if r.LifecycleEventData == nil || r.LifecycleEventData.TransitionEventData.DestinationStorageClass != "GLACIER_IR" {
				t.Errorf("lifecycleEventData %+v", r.LifecycleEventData)
			}
		case "IntelligentTiering":
			if r.IntelligentTieringEventData == nil || r.IntelligentTieringEventData.DestinationAccessTier != "DEEP_ARCHIVE_ACCESS" {
				t.Errorf("intelligentTieringEventData %+v", r.IntelligentTieringEventData)
			}
		}
		want := 1
		if e.Name == "ObjectCreated:Put" {
			want = 0
		}
		if n := countTrue(r.GlacierEventData != nil, r.LifecycleEventData != nil, r.IntelligentTieringEventData != nil); n != want {
			t.Errorf("%s: %d event data objects, want %d", e.Name, n, want)
		}
	}
}

func countTrue(bs ...bool) int {
	n := 0
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}

func TestSequencer(t *testing.T) {
	tests := []struct {
		seq  int64
		want string
	}{
		{0, "0000000000000000"},
		{1, "0000000000000001"},
		{255, "00000000000000FF"},
		{1 << 40, "0000010000000000"},
		{1<<63 - 1, "7FFFFFFFFFFFFFFF"},
	}
	for _, tt := range tests {
		if got := Sequencer(tt.seq); got != tt.want {
			t.Errorf("Sequencer(%d) = %q, want %q", tt.seq, got, tt.want)
		}
	}
	// Numeric order is string order.
	seqs := []int64{0, 9, 10, 15, 16, 255, 256, 4095, 4096, 1 << 32, 1<<63 - 1}
	for i := 1; i < len(seqs); i++ {
		if a, b := Sequencer(seqs[i-1]), Sequencer(seqs[i]); strings.Compare(a, b) >= 0 {
			t.Errorf("Sequencer(%d) = %s not before Sequencer(%d) = %s", seqs[i-1], a, seqs[i], b)
		}
	}
}

func TestTestMessage(t *testing.T) {
	got := string(TestMessage("bucketname", "5582815E1AEA5ADF", "8cLeGAmw098X5cv4Zkwcmo8vvZa3eH3eKxsPzbB9wrR+YstdA6Knx4Ip8EXAMPLE",
		time.Date(2014, 10, 13, 8, 57, 2, 89999999, time.FixedZone("PDT", -7*3600))))
	want := `{"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2014-10-13T15:57:02.089Z","Bucket":"bucketname","RequestId":"5582815E1AEA5ADF",` +
		`"HostId":"8cLeGAmw098X5cv4Zkwcmo8vvZa3eH3eKxsPzbB9wrR+YstdA6Knx4Ip8EXAMPLE"}`
	if got != want {
		t.Errorf("TestMessage:\ngot  %s\nwant %s", got, want)
	}
}
