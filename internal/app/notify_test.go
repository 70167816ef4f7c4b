package app

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	smithy "github.com/aws/smithy-go"

	"github.com/firnhq/firn/internal/config"
)

// s3Event mirrors the fields of AWS's event message that consumers read.
type s3Event struct {
	Records []struct {
		EventVersion string `json:"eventVersion"`
		EventSource  string `json:"eventSource"`
		EventName    string `json:"eventName"`
		EventTime    string `json:"eventTime"`
		UserIdentity struct {
			PrincipalID string `json:"principalId"`
		} `json:"userIdentity"`
		S3 struct {
			ConfigurationID string `json:"configurationId"`
			Bucket          struct {
				Name string `json:"name"`
				ARN  string `json:"arn"`
			} `json:"bucket"`
			Object struct {
				Key       string `json:"key"`
				Size      int64  `json:"size"`
				ETag      string `json:"eTag"`
				VersionID string `json:"versionId"`
				Sequencer string `json:"sequencer"`
			} `json:"object"`
		} `json:"s3"`
		LifecycleEventData *struct {
			TransitionEventData struct {
				DestinationStorageClass string `json:"destinationStorageClass"`
			} `json:"transitionEventData"`
		} `json:"lifecycleEventData"`
		IntelligentTieringEventData *struct {
			DestinationAccessTier string `json:"destinationAccessTier"`
		} `json:"intelligentTieringEventData"`
		GlacierEventData *struct {
			RestoreEventData struct {
				Expiry       string `json:"lifecycleRestorationExpiryTime"`
				StorageClass string `json:"lifecycleRestoreStorageClass"`
			} `json:"restoreEventData"`
		} `json:"glacierEventData"`
	} `json:"Records"`
	Event string `json:"Event"` // s3:TestEvent
}

// receiver is a webhook that records what it is sent, checking the
// signature.
type receiver struct {
	t      *testing.T
	secret string
	mu     sync.Mutex
	events []s3Event
	fail   bool // answer 503
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	mac := hmac.New(sha256.New, []byte(rc.secret))
	mac.Write(body)
	if r.Header.Get("X-Firn-Signature") != "sha256="+hex.EncodeToString(mac.Sum(nil)) {
		rc.t.Errorf("webhook signature %q does not match", r.Header.Get("X-Firn-Signature"))
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.fail {
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	var e s3Event
	if err := json.Unmarshal(body, &e); err != nil {
		rc.t.Errorf("webhook body %s: %v", body, err)
	}
	rc.events = append(rc.events, e)
}

// names returns the event names received so far ("TestEvent" for test
// events), with their keys.
func (rc *receiver) names() []string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var out []string
	for _, e := range rc.events {
		if e.Event != "" {
			out = append(out, "TestEvent")
			continue
		}
		for _, r := range e.Records {
			out = append(out, r.EventName+" "+r.S3.Object.Key)
		}
	}
	return out
}

func (rc *receiver) waitFor(t *testing.T, n int) []string {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		got := rc.names()
		if len(got) >= n || time.Now().After(deadline) {
			return got
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func startWithWebhook(t *testing.T, rc *receiver, tune ...func(*config.Server)) *s3.Client {
	hook := httptest.NewServer(rc)
	t.Cleanup(hook.Close)
	_, c := startFirn(t, "AK", "SK", nil, func(cfg *config.Server) {
		cfg.Targets = []config.Target{{Name: "hook", Kind: "webhook", URL: hook.URL + "/events", Options: map[string]string{"secret": rc.secret}}}
		cfg.NotifyRetryMin, cfg.NotifyRetryMax = 20*time.Millisecond, 100*time.Millisecond
		for _, f := range tune {
			f(cfg)
		}
	})
	return c
}

const hookARN = "arn:aws:sqs:us-east-1:000000000000:hook"

// TestNotificationsWebhook: a bucket configuration with the SDK, the test
// event, and the events of writes, copies, multipart uploads, tagging,
// deletes and restores arrive as AWS's JSON, filtered by prefix, in order.
func TestNotificationsWebhook(t *testing.T) {
	ctx := context.Background()
	rc := &receiver{t: t, secret: "hook-secret"}
	c := startWithWebhook(t, rc)
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("media")}); err != nil {
		t.Fatal(err)
	}
	// No configuration yet: an empty one.
	got, err := c.GetBucketNotificationConfiguration(ctx, &s3.GetBucketNotificationConfigurationInput{Bucket: aws.String("media")})
	if err != nil || len(got.QueueConfigurations)+len(got.TopicConfigurations)+len(got.LambdaFunctionConfigurations) != 0 {
		t.Fatalf("empty configuration: %+v %v", got, err)
	}
	// An unknown destination is refused and changes nothing.
	_, err = c.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{Bucket: aws.String("media"),
		NotificationConfiguration: &types.NotificationConfiguration{QueueConfigurations: []types.QueueConfiguration{{
			QueueArn: aws.String("arn:aws:sqs:us-east-1:000000000000:nope"), Events: []types.Event{"s3:ObjectCreated:*"}}}}})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "InvalidArgument" || !strings.Contains(ae.ErrorMessage(), "Unable to validate the following destination configurations") {
		t.Fatalf("unknown destination: %v", err)
	}
	filter := &types.NotificationConfigurationFilter{Key: &types.S3KeyFilter{FilterRules: []types.FilterRule{{Name: "prefix", Value: aws.String("docs/")}}}}
	_, err = c.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{Bucket: aws.String("media"),
		NotificationConfiguration: &types.NotificationConfiguration{QueueConfigurations: []types.QueueConfiguration{{
			Id: aws.String("docs"), QueueArn: aws.String(hookARN), Filter: filter,
			Events: []types.Event{"s3:ObjectCreated:*", "s3:ObjectRemoved:*", "s3:ObjectRestore:*", "s3:ObjectTagging:*"}}}}})
	if err != nil {
		t.Fatal(err)
	}
	got, err = c.GetBucketNotificationConfiguration(ctx, &s3.GetBucketNotificationConfigurationInput{Bucket: aws.String("media")})
	if err != nil || len(got.QueueConfigurations) != 1 || aws.ToString(got.QueueConfigurations[0].Id) != "docs" ||
		aws.ToString(got.QueueConfigurations[0].QueueArn) != hookARN || len(got.QueueConfigurations[0].Events) != 4 {
		t.Fatalf("configuration read back: %+v %v", got, err)
	}
	if names := rc.waitFor(t, 1); len(names) != 1 || names[0] != "TestEvent" {
		t.Fatalf("after saving the configuration: %v, want one TestEvent", names)
	}

	put := func(key, class string) {
		t.Helper()
		in := &s3.PutObjectInput{Bucket: aws.String("media"), Key: aws.String(key), Body: strings.NewReader("hello " + key)}
		if class != "" {
			in.StorageClass = types.StorageClass(class)
		}
		if _, err := c.PutObject(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	put("docs/a b.txt", "")
	put("other/skip.txt", "")
	if _, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("media"), Key: aws.String("docs/copy"), CopySource: aws.String("media/other/skip.txt")}); err != nil {
		t.Fatal(err)
	}
	mp, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("media"), Key: aws.String("docs/mp")})
	if err != nil {
		t.Fatal(err)
	}
	part, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("media"), Key: aws.String("docs/mp"), UploadId: mp.UploadId,
		PartNumber: aws.Int32(1), Body: strings.NewReader("part")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("media"), Key: aws.String("docs/mp"), UploadId: mp.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{PartNumber: aws.Int32(1), ETag: part.ETag}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: aws.String("media"), Key: aws.String("docs/mp"),
		Tagging: &types.Tagging{TagSet: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteObjectTagging(ctx, &s3.DeleteObjectTaggingInput{Bucket: aws.String("media"), Key: aws.String("docs/mp")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("media"), Key: aws.String("docs/copy")}); err != nil {
		t.Fatal(err)
	}
	put("docs/cold", "GLACIER")
	if _, err := c.RestoreObject(ctx, &s3.RestoreObjectInput{Bucket: aws.String("media"), Key: aws.String("docs/cold"),
		RestoreRequest: &types.RestoreRequest{Days: aws.Int32(2), GlacierJobParameters: &types.GlacierJobParameters{Tier: types.TierExpedited}}}); err != nil {
		t.Fatal(err)
	}
	want := []string{"TestEvent", "ObjectCreated:Put docs/a+b.txt", "ObjectCreated:Copy docs/copy",
		"ObjectCreated:CompleteMultipartUpload docs/mp", "ObjectTagging:Put docs/mp", "ObjectTagging:Delete docs/mp",
		"ObjectRemoved:Delete docs/copy", "ObjectCreated:Put docs/cold", "ObjectRestore:Post docs/cold", "ObjectRestore:Completed docs/cold"}
	names := rc.waitFor(t, len(want))
	if strings.Join(names, "\n") != strings.Join(want, "\n") {
		t.Fatalf("events:\n%s\nwant:\n%s", strings.Join(names, "\n"), strings.Join(want, "\n"))
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	last := ""
	for i, e := range rc.events[1:] {
		r := e.Records[0]
		if r.EventVersion == "" || r.EventSource != "aws:s3" || r.S3.Bucket.Name != "media" || r.S3.Bucket.ARN != "arn:aws:s3:::media" ||
			r.S3.ConfigurationID != "docs" || r.S3.Object.Sequencer <= last {
			t.Errorf("event %d: %+v", i, r)
		}
		last = r.S3.Object.Sequencer
		if strings.HasPrefix(r.EventName, "ObjectCreated:Put") && (r.S3.Object.Size == 0 || r.S3.Object.ETag == "") {
			t.Errorf("created event without size or eTag: %+v", r)
		}
	}
	done := rc.events[len(rc.events)-1].Records[0]
	if done.GlacierEventData == nil || done.GlacierEventData.RestoreEventData.StorageClass != "GLACIER" || done.GlacierEventData.RestoreEventData.Expiry == "" {
		t.Errorf("restore completed without glacierEventData: %+v", done)
	}
	if p := rc.events[1].Records[0].UserIdentity.PrincipalID; p != "AK" {
		t.Errorf("principal of a PUT: %q", p)
	}
}

// TestNotificationsRetry: a webhook that fails gets the events again
// once it answers, none lost, in order.
func TestNotificationsRetry(t *testing.T) {
	ctx := context.Background()
	rc := &receiver{t: t, secret: "s"}
	c := startWithWebhook(t, rc)
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("retries")}); err != nil {
		t.Fatal(err)
	}
	_, err := c.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{Bucket: aws.String("retries"),
		SkipDestinationValidation: aws.Bool(true),
		NotificationConfiguration: &types.NotificationConfiguration{QueueConfigurations: []types.QueueConfiguration{{
			QueueArn: aws.String(hookARN), Events: []types.Event{"s3:ObjectCreated:Put"}}}}})
	if err != nil {
		t.Fatal(err)
	}
	rc.mu.Lock()
	rc.fail = true
	rc.mu.Unlock()
	for _, k := range []string{"k1", "k2", "k3"} {
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("retries"), Key: aws.String(k), Body: strings.NewReader(k)}); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(300 * time.Millisecond)
	if n := len(rc.names()); n != 0 {
		t.Fatalf("%d events recorded by a failing webhook", n)
	}
	rc.mu.Lock()
	rc.fail = false
	rc.mu.Unlock()
	want := "ObjectCreated:Put k1,ObjectCreated:Put k2,ObjectCreated:Put k3"
	if got := strings.Join(rc.waitFor(t, 3), ","); got != want {
		t.Fatalf("after recovery: %s, want %s", got, want)
	}
}

// TestNotificationsLifecycle: lifecycle transitions (a class change in
// place and a move to the archive), expirations and the expiry of a
// restored copy produce their events, from s3.amazonaws.com.
func TestNotificationsLifecycle(t *testing.T) {
	ctx := context.Background()
	rc := &receiver{t: t, secret: "s"}
	c := startWithWebhook(t, rc, func(cfg *config.Server) { cfg.DayLength = 50 * time.Millisecond })
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("aging")}); err != nil {
		t.Fatal(err)
	}
	_, err := c.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{Bucket: aws.String("aging"),
		NotificationConfiguration: &types.NotificationConfiguration{QueueConfigurations: []types.QueueConfiguration{{
			QueueArn: aws.String(hookARN), Events: []types.Event{"s3:LifecycleTransition", "s3:LifecycleExpiration:*", "s3:ObjectRestore:Delete", "s3:IntelligentTiering"}}}}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.PutBucketLifecycleConfiguration(ctx, &s3.PutBucketLifecycleConfigurationInput{Bucket: aws.String("aging"),
		LifecycleConfiguration: &types.BucketLifecycleConfiguration{Rules: []types.LifecycleRule{{
			ID: aws.String("age"), Status: types.ExpirationStatusEnabled, Filter: &types.LifecycleRuleFilter{Prefix: aws.String("logs/")},
			Transitions: []types.Transition{{Days: aws.Int32(30), StorageClass: types.TransitionStorageClassStandardIa},
				{Days: aws.Int32(60), StorageClass: types.TransitionStorageClassGlacier}},
			Expiration: &types.LifecycleExpiration{Days: aws.Int32(90)}}}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("aging"), Key: aws.String("logs/a"),
		Body: strings.NewReader(strings.Repeat("log line\n", 20000))}); err != nil { // above the 128 KiB transition minimum
		t.Fatal(err)
	}
	_, err = c.PutBucketIntelligentTieringConfiguration(ctx, &s3.PutBucketIntelligentTieringConfigurationInput{Bucket: aws.String("aging"), Id: aws.String("deep"),
		IntelligentTieringConfiguration: &types.IntelligentTieringConfiguration{Id: aws.String("deep"), Status: types.IntelligentTieringStatusEnabled,
			Tierings: []types.Tiering{{AccessTier: types.IntelligentTieringAccessTierArchiveAccess, Days: aws.Int32(90)}}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("aging"), Key: aws.String("tiered"), StorageClass: types.StorageClassIntelligentTiering,
		Body: strings.NewReader(strings.Repeat("x", 200<<10))}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("aging"), Key: aws.String("cold"), Body: strings.NewReader("c"),
		StorageClass: types.StorageClassGlacier}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.RestoreObject(ctx, &s3.RestoreObjectInput{Bucket: aws.String("aging"), Key: aws.String("cold"),
		RestoreRequest: &types.RestoreRequest{Days: aws.Int32(1), GlacierJobParameters: &types.GlacierJobParameters{Tier: types.TierExpedited}}}); err != nil {
		t.Fatal(err)
	}
	want := []string{"TestEvent", "ObjectRestore:Delete cold", "LifecycleTransition logs/a", "LifecycleTransition logs/a", "LifecycleExpiration:Delete logs/a",
		"IntelligentTiering tiered"}
	got := rc.waitFor(t, len(want))
	// The Intelligent-Tiering move and the expiration fall on the same
	// model day: compare as sets, each key's events in order.
	if g, w := slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want)); !slices.Equal(g, w) ||
		strings.Join(slices.DeleteFunc(slices.Clone(got), func(s string) bool { return !strings.HasSuffix(s, "logs/a") }), ",") !=
			"LifecycleTransition logs/a,LifecycleTransition logs/a,LifecycleExpiration:Delete logs/a" {
		t.Fatalf("events: %v, want %v", got, want)
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var classes []string
	for _, e := range rc.events[1:] {
		r := e.Records[0]
		if r.UserIdentity.PrincipalID != "s3.amazonaws.com" || r.EventVersion != "2.3" {
			t.Errorf("%s: principal %q, version %q", r.EventName, r.UserIdentity.PrincipalID, r.EventVersion)
		}
		if r.LifecycleEventData != nil {
			classes = append(classes, r.LifecycleEventData.TransitionEventData.DestinationStorageClass)
		}
		if r.EventName == "IntelligentTiering" && (r.IntelligentTieringEventData == nil || r.IntelligentTieringEventData.DestinationAccessTier != "ARCHIVE_ACCESS") {
			t.Errorf("IntelligentTiering event without its tier: %+v", r)
		}
	}
	if strings.Join(classes, ",") != "STANDARD_IA,GLACIER" {
		t.Errorf("transition classes: %v", classes)
	}
}

// TestNotificationsVersioned: in a versioned bucket a DELETE creates a
// marker (ObjectRemoved:DeleteMarkerCreated with the marker's version
// id) and deleting a version is ObjectRemoved:Delete with its id.
func TestNotificationsVersioned(t *testing.T) {
	ctx := context.Background()
	rc := &receiver{t: t, secret: "s"}
	c := startWithWebhook(t, rc)
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("versions")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String("versions"),
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}}); err != nil {
		t.Fatal(err)
	}
	_, err := c.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{Bucket: aws.String("versions"),
		NotificationConfiguration: &types.NotificationConfiguration{TopicConfigurations: []types.TopicConfiguration{{
			TopicArn: aws.String("arn:aws:sns:us-east-1:000000000000:hook"), Events: []types.Event{"s3:ObjectCreated:*", "s3:ObjectRemoved:*"}}}}})
	if err != nil {
		t.Fatal(err)
	}
	put, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("versions"), Key: aws.String("doc"), Body: strings.NewReader("v1")})
	if err != nil {
		t.Fatal(err)
	}
	del, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("versions"), Key: aws.String("doc")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("versions"), Key: aws.String("doc"), VersionId: put.VersionId}); err != nil {
		t.Fatal(err)
	}
	want := "TestEvent,ObjectCreated:Put doc,ObjectRemoved:DeleteMarkerCreated doc,ObjectRemoved:Delete doc"
	if got := strings.Join(rc.waitFor(t, 4), ","); got != want {
		t.Fatalf("events: %s, want %s", got, want)
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	for i, vid := range []string{aws.ToString(put.VersionId), aws.ToString(del.VersionId), aws.ToString(put.VersionId)} {
		o := rc.events[i+1].Records[0].S3.Object
		if o.VersionID != vid || vid == "" {
			t.Errorf("event %d: versionId %q, want %q", i+1, o.VersionID, vid)
		}
		if i > 0 && (o.Size != 0 || o.ETag != "") {
			t.Errorf("removal event %d with size or eTag: %+v", i+1, o)
		}
	}
}

// TestNotificationsLifecycleMarkers: in a versioned bucket a lifecycle
// expiration adds a delete marker (LifecycleExpiration:DeleteMarkerCreated)
// and the noncurrent version's expiration deletes it for good
// (LifecycleExpiration:Delete with its version id); the marker, now an
// expired object delete marker, goes too (LifecycleExpiration:Delete
// with the marker's id), as AWS's Expiration does in versioned buckets.
func TestNotificationsLifecycleMarkers(t *testing.T) {
	ctx := context.Background()
	rc := &receiver{t: t, secret: "s"}
	c := startWithWebhook(t, rc, func(cfg *config.Server) { cfg.DayLength = 50 * time.Millisecond })
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("kept")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String("kept"),
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{Bucket: aws.String("kept"),
		NotificationConfiguration: &types.NotificationConfiguration{QueueConfigurations: []types.QueueConfiguration{{
			QueueArn: aws.String(hookARN), Events: []types.Event{"s3:LifecycleExpiration:*"}}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutBucketLifecycleConfiguration(ctx, &s3.PutBucketLifecycleConfigurationInput{Bucket: aws.String("kept"),
		LifecycleConfiguration: &types.BucketLifecycleConfiguration{Rules: []types.LifecycleRule{{
			ID: aws.String("expire"), Status: types.ExpirationStatusEnabled, Filter: &types.LifecycleRuleFilter{Prefix: aws.String("")},
			Expiration:                  &types.LifecycleExpiration{Days: aws.Int32(2)},
			NoncurrentVersionExpiration: &types.NoncurrentVersionExpiration{NoncurrentDays: aws.Int32(2)}}}}}); err != nil {
		t.Fatal(err)
	}
	put, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("kept"), Key: aws.String("doc"), Body: strings.NewReader("v1")})
	if err != nil {
		t.Fatal(err)
	}
	want := "TestEvent,LifecycleExpiration:DeleteMarkerCreated doc,LifecycleExpiration:Delete doc,LifecycleExpiration:Delete doc"
	if got := strings.Join(rc.waitFor(t, 4), ","); got != want {
		t.Fatalf("events: %s, want %s", got, want)
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	marker, gone, markerGone := rc.events[1].Records[0].S3.Object, rc.events[2].Records[0].S3.Object, rc.events[3].Records[0].S3.Object
	if marker.VersionID == "" || marker.VersionID == aws.ToString(put.VersionId) || gone.VersionID != aws.ToString(put.VersionId) ||
		markerGone.VersionID != marker.VersionID {
		t.Errorf("marker version %q, deleted versions %q and %q (put %q)", marker.VersionID, gone.VersionID, markerGone.VersionID, aws.ToString(put.VersionId))
	}
}
