package notify

import (
	"bytes"
	"context"
	"io"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/firnhq/firn/internal/config"
	"github.com/firnhq/firn/internal/testenv"
)

// TestScenarioBRestoreConsumer is scenario B's flow: a consumer listens on
// a RabbitMQ queue that receives the bucket's s3:ObjectRestore:Completed
// events, requests the restore of archived objects, and fetches each one
// when its event arrives (not by polling), as it would against AWS.
func TestScenarioBRestoreConsumer(t *testing.T) {
	addr := testenv.Service(t, "RabbitMQ", "127.0.0.1:5672")
	queue := "firn-restores-" + suffix()
	c := startFirn(t, config.Target{Name: "restores", Kind: "amqp", URL: "amqp://guest:guest@" + addr + "/",
		Options: map[string]string{"declare_queue": queue}})
	configure(t, c, "archive-b", "restores", "s3:ObjectRestore:Completed")
	ctx := context.Background()
	bodies := map[string][]byte{"reports/2025 q1.pdf": bytes.Repeat([]byte("q1"), 5000), "reports/2025-q2.pdf": []byte("q2")}
	for k, b := range bodies {
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("archive-b"), Key: aws.String(k), Body: bytes.NewReader(b),
			StorageClass: types.StorageClassGlacier}); err != nil {
			t.Fatal(err)
		}
	}
	conn, err := amqp.Dial("amqp://guest:guest@" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	defer ch.QueueDelete(queue, false, false, false)
	// The queue exists once the test event was delivered to it.
	var deliveries <-chan amqp.Delivery
	for deadline := time.Now().Add(10 * time.Second); ; {
		if _, err := ch.QueueDeclarePassive(queue, true, false, false, false, nil); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("queue %s never declared", queue)
		}
		if ch, err = conn.Channel(); err != nil { // a failed passive declare closes the channel
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if deliveries, err = ch.Consume(queue, "", true, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	for k := range bodies {
		// Archived: GET refuses until the restore.
		if _, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("archive-b"), Key: aws.String(k)}); err == nil ||
			!strings.Contains(err.Error(), "InvalidObjectState") {
			t.Fatalf("GET of an archived object: %v", err)
		}
		if _, err := c.RestoreObject(ctx, &s3.RestoreObjectInput{Bucket: aws.String("archive-b"), Key: aws.String(k),
			RestoreRequest: &types.RestoreRequest{Days: aws.Int32(1), GlacierJobParameters: &types.GlacierJobParameters{Tier: types.TierStandard}}}); err != nil {
			t.Fatal(err)
		}
	}
	fetched := map[string]bool{}
	timeout := time.After(30 * time.Second)
	for len(fetched) < len(bodies) {
		select {
		case d := <-deliveries:
			r := parse(t, d.Body)
			if r == nil {
				continue // the test event of the configuration
			}
			if r.EventName != "ObjectRestore:Completed" || r.GlacierEventData == nil || r.GlacierEventData.RestoreEventData.Expiry == "" {
				t.Fatalf("event: %+v", r)
			}
			key, err := url.QueryUnescape(r.S3.Object.Key)
			if err != nil {
				t.Fatal(err)
			}
			out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("archive-b"), Key: aws.String(key)})
			if err != nil {
				t.Fatalf("GET after the completed event for %q: %v", key, err)
			}
			got, _ := io.ReadAll(out.Body)
			out.Body.Close()
			if !bytes.Equal(got, bodies[key]) {
				t.Fatalf("%s: %d bytes, want %d", key, len(got), len(bodies[key]))
			}
			fetched[key] = true
		case <-timeout:
			t.Fatalf("restore events for %d of %d objects", len(fetched), len(bodies))
		}
	}
}
