package s3api_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/firnhq/firn/internal/config"
)

// restoreEnv runs a server whose model day lasts 24 s, so a Standard
// restore (1 model hour here) takes a second and Bulk two.
func restoreEnv(t *testing.T) *env {
	return newEnvWith(t, func(c *config.Server) {
		c.DayLength = 24 * time.Second
		c.RestoreLatency = "Expedited=0s,Standard=1h,Bulk=2h"
		c.RestoreEvery = 20 * time.Millisecond
	})
}

func restoreXML(days int, tier string) []byte {
	return fmt.Appendf(nil, `<RestoreRequest xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Days>%d</Days><GlacierJobParameters><Tier>%s</Tier></GlacierJobParameters></RestoreRequest>`, days, tier)
}

func TestRestoreObject(t *testing.T) {
	e := restoreEnv(t)
	ctx := context.Background()
	b := e.bucket()
	body := bytes.Repeat([]byte("frozen "), 40000) // > inline size
	if _, err := e.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("cold"),
		Body: bytes.NewReader(body), StorageClass: types.StorageClassGlacier}); err != nil {
		t.Fatal(err)
	}

	// GET and CopyObject refuse an archived object, naming its class.
	resp, rb := e.raw(http.MethodGet, "/"+b+"/cold", nil, rawOpts{})
	wantXMLError(t, resp, rb, "InvalidObjectState", http.StatusForbidden)
	var doc struct {
		StorageClass string `xml:"StorageClass"`
	}
	xml.Unmarshal(rb, &doc)
	if doc.StorageClass != "GLACIER" {
		t.Errorf("InvalidObjectState body: got StorageClass %q, want GLACIER (%s)", doc.StorageClass, rb)
	}
	if _, err := e.s3.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(b), Key: aws.String("copy"), CopySource: aws.String(b + "/cold")}); errorCode(err) != "InvalidObjectState" {
		t.Errorf("CopyObject from GLACIER: got %v, want InvalidObjectState", err)
	}
	if h, err := e.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String("cold")}); err != nil || h.StorageClass != types.StorageClassGlacier || h.Restore != nil {
		t.Errorf("HeadObject before restore: %v, class %q, restore %v", err, h.StorageClass, h.Restore)
	}

	// A new restore: 202; another one while it runs: 409.
	resp, rb = e.raw(http.MethodPost, "/"+b+"/cold?restore", restoreXML(1, "Bulk"), rawOpts{})
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("RestoreObject: got %d %s, want 202", resp.StatusCode, rb)
	}
	resp, rb = e.raw(http.MethodPost, "/"+b+"/cold?restore", restoreXML(1, "Bulk"), rawOpts{})
	wantXMLError(t, resp, rb, "RestoreAlreadyInProgress", http.StatusConflict)
	h, err := e.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String("cold")})
	if err != nil || aws.ToString(h.Restore) != `ongoing-request="true"` {
		t.Errorf("HeadObject while restoring: %v, x-amz-restore %q", err, aws.ToString(h.Restore))
	}
	if _, err := e.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("cold")}); errorCode(err) != "InvalidObjectState" {
		t.Errorf("GetObject while restoring: got %v, want InvalidObjectState", err)
	}
	// A faster tier upgrades it (the SDK call, as applications make it).
	if _, err := e.s3.RestoreObject(ctx, &s3.RestoreObjectInput{Bucket: aws.String(b), Key: aws.String("cold"),
		RestoreRequest: &types.RestoreRequest{Days: aws.Int32(1), GlacierJobParameters: &types.GlacierJobParameters{Tier: types.TierStandard}}}); err != nil {
		t.Fatalf("upgrade to Standard: %v", err)
	}

	// It completes: x-amz-restore says until when, and GET serves it.
	deadline := time.Now().Add(15 * time.Second)
	for {
		h, err = e.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String("cold")})
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(aws.ToString(h.Restore), `ongoing-request="false", expiry-date="`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("restore did not complete: x-amz-restore %q", aws.ToString(h.Restore))
		}
		time.Sleep(50 * time.Millisecond)
	}
	if h.StorageClass != types.StorageClassGlacier {
		t.Errorf("class of a restored object: got %q, want GLACIER", h.StorageClass)
	}
	expiry, err := http.ParseTime(strings.TrimSuffix(strings.TrimPrefix(aws.ToString(h.Restore), `ongoing-request="false", expiry-date="`), `"`))
	if err != nil {
		t.Fatalf("expiry-date: %v", err)
	}
	if expiry.UnixNano()%int64(24*time.Second) != 0 {
		t.Errorf("expiry %v is not on a model midnight", expiry)
	}
	if got := e.get(b, "cold"); !bytes.Equal(got, body) {
		t.Errorf("GetObject after restore: %d bytes, want the %d archived", len(got), len(body))
	}
	// Listing with RestoreStatus.
	lo, err := e.s3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(b),
		OptionalObjectAttributes: []types.OptionalObjectAttributes{types.OptionalObjectAttributesRestoreStatus}})
	if err != nil || len(lo.Contents) != 1 || lo.Contents[0].RestoreStatus == nil || aws.ToBool(lo.Contents[0].RestoreStatus.IsRestoreInProgress) ||
		lo.Contents[0].RestoreStatus.RestoreExpiryDate == nil {
		t.Errorf("ListObjectsV2 RestoreStatus: %v %+v", err, lo.Contents)
	}
	// Restoring again while the copy exists extends it: 200.
	resp, rb = e.raw(http.MethodPost, "/"+b+"/cold?restore", restoreXML(3, "Standard"), rawOpts{})
	if resp.StatusCode != http.StatusOK {
		t.Errorf("re-restore: got %d %s, want 200", resp.StatusCode, rb)
	}
}

func TestRestoreObjectErrors(t *testing.T) {
	e := restoreEnv(t)
	ctx := context.Background()
	b := e.bucket()
	for key, class := range map[string]types.StorageClass{"std": "", "ir": types.StorageClassGlacierIr, "deep": types.StorageClassDeepArchive, "it": types.StorageClassIntelligentTiering} {
		if _, err := e.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String(key), Body: strings.NewReader("x"), StorageClass: class}); err != nil {
			t.Fatal(err)
		}
	}
	// GLACIER_IR is archived but readable at once.
	if got := e.get(b, "ir"); string(got) != "x" {
		t.Errorf("GET GLACIER_IR: got %q", got)
	}
	tests := []struct {
		name, key string
		body      []byte
		code      string
		status    int
	}{
		{"standard object", "std", restoreXML(1, "Standard"), "InvalidObjectState", 403},
		{"GLACIER_IR object", "ir", restoreXML(1, "Standard"), "InvalidObjectState", 403},
		{"INTELLIGENT_TIERING in an active tier", "it", restoreXML(1, "Standard"), "ObjectAlreadyInActiveTierError", 403},
		{"Expedited from DEEP_ARCHIVE", "deep", restoreXML(1, "Expedited"), "InvalidArgument", 400},
		{"Days 0", "deep", restoreXML(0, "Standard"), "InvalidArgument", 400},
		{"empty body", "deep", nil, "MalformedXML", 400},
		{"no Days", "deep", []byte(`<RestoreRequest/>`), "MalformedXML", 400},
		{"unknown tier", "deep", restoreXML(1, "Slow"), "MalformedXML", 400},
		{"top-level Tier beside GlacierJobParameters", "deep", []byte(`<RestoreRequest><Days>1</Days><Tier>Bulk</Tier><GlacierJobParameters><Tier>Bulk</Tier></GlacierJobParameters></RestoreRequest>`), "MalformedXML", 400},
		{"not XML", "deep", []byte(`{"Days":1}`), "MalformedXML", 400},
		{"SELECT", "deep", []byte(`<RestoreRequest><Type>SELECT</Type></RestoreRequest>`), "NotImplemented", 501},
		{"missing key", "nope", restoreXML(1, "Standard"), "NoSuchKey", 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, rb := e.raw(http.MethodPost, "/"+b+"/"+tt.key+"?restore", tt.body, rawOpts{})
			wantXMLError(t, resp, rb, tt.code, tt.status)
		})
	}
	// None of that started a restore.
	h, err := e.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String("deep")})
	if err != nil || h.Restore != nil {
		t.Errorf("after refused restores: %v, x-amz-restore %q", err, aws.ToString(h.Restore))
	}
}
