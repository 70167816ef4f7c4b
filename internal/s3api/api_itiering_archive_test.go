package s3api_test

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	blobfs "github.com/firnhq/firn/internal/blob/fs"
	"github.com/firnhq/firn/internal/clock"
	"github.com/firnhq/firn/internal/meta"
	"github.com/firnhq/firn/internal/meta/sqlite"
	"github.com/firnhq/firn/internal/object"
	"github.com/firnhq/firn/internal/s3api"
	"github.com/firnhq/firn/internal/s3api/sigv4"
)

// clockedEnv is an env whose server is the S3 handler over an object
// service driven by a fake clock: the test moves time and runs the
// lifecycle and restore workers itself, so model days pass at once and
// deterministically.
type clockedEnv struct {
	*env
	svc   *object.Service
	meta  *sqlite.Store
	clock *clock.Fake
}

// newClockedEnv starts the real s3api.Handler (SigV4 and all) on an
// httptest server, over real stores in a temporary directory, with a fake
// clock at 2026-03-10 10:30 UTC and the default restore latencies.
func newClockedEnv(t *testing.T) *clockedEnv {
	t.Helper()
	t.Parallel()
	e := &env{t: t, data: t.TempDir()}
	clk := clock.NewFake(time.Date(2026, 3, 10, 10, 30, 0, 0, time.UTC))
	ms, err := sqlite.Open(filepath.Join(e.data, "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ms.Close() })
	hot, err := blobfs.Open(filepath.Join(e.data, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	arch, err := blobfs.Open(filepath.Join(e.data, "archive"))
	if err != nil {
		t.Fatal(err)
	}
	svc := object.New(object.Config{Meta: ms, Blobs: hot, Archive: arch, Clock: clk, Region: testRegion, InlineMax: 1024})
	ver := &sigv4.Verifier{Region: testRegion, Lookup: func(_ context.Context, ak string) (string, error) {
		if ak == testAccessKey {
			return testSecretKey, nil
		}
		return "", sigv4.ErrInvalidAccessKeyID
	}}
	ts := httptest.NewServer(s3api.New(s3api.Config{Service: svc, Verifier: ver}))
	t.Cleanup(ts.Close) // before the store closes (cleanups run last first)
	e.addr = ts.Listener.Addr().String()
	_, e.port, _ = net.SplitHostPort(e.addr)
	e.http = &http.Client{Transport: ts.Client().Transport, Timeout: 60 * time.Second}
	e.s3 = e.newClient("http://"+e.addr, true, nil)
	return &clockedEnv{env: e, svc: svc, meta: ms, clock: clk}
}

// days lets n model days pass one by one, running the lifecycle engine
// (which moves Intelligent-Tiering objects between access tiers) after
// each, as the server's lifecycle loop would.
func (c *clockedEnv) days(n int) {
	c.t.Helper()
	for range n {
		c.clock.Advance(24 * time.Hour)
		if _, err := c.svc.RunLifecycle(ctx, 1000); err != nil {
			c.t.Fatalf("RunLifecycle: %v", err)
		}
	}
}

// runRestores runs the restore worker once and returns how many jobs it
// finished.
func (c *clockedEnv) runRestores() int {
	c.t.Helper()
	n, err := c.svc.RunRestores(ctx, "test-worker", time.Minute, 100)
	if err != nil {
		c.t.Fatalf("RunRestores: %v", err)
	}
	return n
}

// accessTier is the stored access tier of bucket/key ("" is Frequent).
func (c *clockedEnv) accessTier(bucket, key string) string {
	c.t.Helper()
	o, err := c.meta.GetObject(ctx, bucket, key)
	if err != nil {
		c.t.Fatalf("meta get %s: %v", key, err)
	}
	return o.AccessTier
}

// wantArchivedBody checks a raw response is the InvalidObjectState of an
// Intelligent-Tiering object in accessTier, byte for byte where it
// matters: 403, and the StorageClass and AccessTier elements.
func wantArchivedBody(t *testing.T, what string, resp *http.Response, body []byte, accessTier string) {
	t.Helper()
	wantXMLError(t, resp, body, "InvalidObjectState", http.StatusForbidden)
	for _, frag := range []string{
		"<Code>InvalidObjectState</Code>",
		"<StorageClass>INTELLIGENT_TIERING</StorageClass>",
		"<AccessTier>" + accessTier + "</AccessTier>",
	} {
		if !bytes.Contains(body, []byte(frag)) {
			t.Errorf("%s: body lacks %s: %s", what, frag, body)
		}
	}
}

// TestIntelligentTieringArchiveTiersHTTP: an INTELLIGENT_TIERING object
// that idleness moved to the Archive Access or Deep Archive Access tier,
// through the S3 handler: GET, CopyObject and UploadPartCopy refuse it
// with 403 InvalidObjectState naming the class and the access tier; HEAD
// shows the class and x-amz-archive-status; RestoreObject with Days is
// 400 InvalidArgument and changes nothing, Expedited is refused from Deep
// Archive Access, a restore without Days is 202 (another meanwhile 409)
// and within the tier's restore time brings the object back to Frequent
// Access for good, byte-identical; objects in Frequent or Infrequent
// Access answer 403 ObjectAlreadyInActiveTierError.
func TestIntelligentTieringArchiveTiersHTTP(t *testing.T) {
	for _, tc := range []struct {
		tier          string
		archive, deep int32 // the configuration's tiering days
		idle          int   // model days until the object is in tier
		// The restore to run: Standard, then (if set) an upgrade to
		// upgrade; it must not be done at lower-1s after the request,
		// and be done by upper.
		upgrade      types.Tier
		lower, upper time.Duration
	}{
		// Archive Access restores at GLACIER's pace: Expedited (allowed
		// here) in 1–5 minutes.
		{tier: "ARCHIVE_ACCESS", archive: 90, idle: 91, upgrade: types.TierExpedited, lower: time.Minute, upper: 5 * time.Minute},
		// Deep Archive Access at DEEP_ARCHIVE's: no Expedited, Standard
		// within 12 hours.
		{tier: "DEEP_ARCHIVE_ACCESS", deep: 180, idle: 181, lower: 0, upper: 12 * time.Hour},
	} {
		t.Run(tc.tier, func(t *testing.T) {
			c := newClockedEnv(t)
			b := c.bucket()
			if err := c.putTiering(b, tieringConfig("cold", nil, tc.archive, tc.deep)); err != nil {
				t.Fatalf("PutBucketIntelligentTieringConfiguration: %v", err)
			}
			body := pattern(300 << 10) // monitored: ≥ 128 KiB
			putIT := func(key string, body []byte) {
				t.Helper()
				if _, err := c.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String(key),
					Body: bytes.NewReader(body), StorageClass: types.StorageClassIntelligentTiering}); err != nil {
					t.Fatalf("PutObject %s: %v", key, err)
				}
			}
			putIT("cold", body)
			c.days(tc.idle - 40)
			putIT("warm", pattern(200<<10)) // idle 40 days at the end: Infrequent
			c.days(40)
			putIT("fresh", pattern(200<<10))          // just written: Frequent
			putIT("small", []byte("never monitored")) // < 128 KiB: always Frequent
			if got := c.accessTier(b, "cold"); got != tc.tier {
				t.Fatalf("after %d idle days: access tier %q, want %s", tc.idle, got, tc.tier)
			}
			if got := c.accessTier(b, "warm"); got != object.AccessInfrequent {
				t.Fatalf("warm object: access tier %q, want INFREQUENT_ACCESS", got)
			}
			headCold := func() *s3.HeadObjectOutput {
				t.Helper()
				h, err := c.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String("cold")})
				if err != nil {
					t.Fatalf("HeadObject: %v", err)
				}
				return h
			}
			wantUnchanged := func(what string) {
				t.Helper()
				h := headCold()
				if h.StorageClass != types.StorageClassIntelligentTiering || string(h.ArchiveStatus) != tc.tier || h.Restore != nil {
					t.Errorf("after %s: class %q archive status %q restore %q; want INTELLIGENT_TIERING, %s, no restore",
						what, h.StorageClass, h.ArchiveStatus, aws.ToString(h.Restore), tc.tier)
				}
				if jobs, err := c.svc.ListRestores(ctx, "", 10); err != nil || len(jobs) != 0 {
					t.Errorf("after %s: restore jobs %+v, %v; want none", what, jobs, err)
				}
			}

			// HEAD never fails: the class, and the archive status.
			wantUnchanged("tiering")
			resp, rb := c.raw(http.MethodHead, "/"+b+"/cold", nil, rawOpts{})
			if resp.StatusCode != http.StatusOK || resp.Header.Get("x-amz-storage-class") != "INTELLIGENT_TIERING" ||
				resp.Header.Get("x-amz-archive-status") != tc.tier || resp.Header.Get("x-amz-restore") != "" {
				t.Errorf("raw HEAD: %d, headers %v", resp.StatusCode, resp.Header)
			}

			// GET, CopyObject and UploadPartCopy refuse it.
			resp, rb = c.raw(http.MethodGet, "/"+b+"/cold", nil, rawOpts{})
			wantArchivedBody(t, "GET", resp, rb, tc.tier)
			resp, rb = c.raw(http.MethodPut, "/"+b+"/copy", nil, rawOpts{header: http.Header{"X-Amz-Copy-Source": {"/" + b + "/cold"}}})
			wantArchivedBody(t, "CopyObject", resp, rb, tc.tier)
			mpu, err := c.s3.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(b), Key: aws.String("mp")})
			if err != nil {
				t.Fatal(err)
			}
			resp, rb = c.raw(http.MethodPut, "/"+b+"/mp?partNumber=1&uploadId="+aws.ToString(mpu.UploadId), nil,
				rawOpts{header: http.Header{"X-Amz-Copy-Source": {"/" + b + "/cold"}}})
			wantArchivedBody(t, "UploadPartCopy", resp, rb, tc.tier)
			// The SDK sees the same.
			_, err = c.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("cold")})
			wantErr(t, err, "InvalidObjectState", http.StatusForbidden)
			if c.exists(b, "copy") {
				t.Errorf("a refused CopyObject made the object")
			}
			parts, err := c.s3.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String(b), Key: aws.String("mp"), UploadId: mpu.UploadId})
			if err != nil || len(parts.Parts) != 0 {
				t.Errorf("a refused UploadPartCopy stored a part: %v %+v", err, parts)
			}

			// Days: 400 InvalidArgument (S3's answer), nothing changes.
			resp, rb = c.raw(http.MethodPost, "/"+b+"/cold?restore", restoreXML(2, "Standard"), rawOpts{})
			doc := wantXMLError(t, resp, rb, "InvalidArgument", http.StatusBadRequest)
			if !strings.Contains(doc.Message, "Do not specify Days") {
				t.Errorf("restore with Days: message %q", doc.Message)
			}
			wantUnchanged("a restore with Days")

			if tc.upgrade == "" {
				// No Expedited from Deep Archive Access.
				resp, rb = c.raw(http.MethodPost, "/"+b+"/cold?restore",
					[]byte(`<RestoreRequest><GlacierJobParameters><Tier>Expedited</Tier></GlacierJobParameters></RestoreRequest>`), rawOpts{})
				wantXMLError(t, resp, rb, "InvalidArgument", http.StatusBadRequest)
				wantUnchanged("an Expedited restore")
			}

			// Without Days (the CLI's --restore-request '{}'): 202.
			requested := c.clock.Now()
			resp, rb = c.raw(http.MethodPost, "/"+b+"/cold?restore", []byte(`<RestoreRequest/>`), rawOpts{})
			if resp.StatusCode != http.StatusAccepted {
				t.Fatalf("restore without Days: %d %s, want 202", resp.StatusCode, rb)
			}
			// Another at the same tier while it runs: 409.
			_, err = c.s3.RestoreObject(ctx, &s3.RestoreObjectInput{Bucket: aws.String(b), Key: aws.String("cold"),
				RestoreRequest: &types.RestoreRequest{GlacierJobParameters: &types.GlacierJobParameters{Tier: types.TierStandard}}})
			wantErr(t, err, "RestoreAlreadyInProgress", http.StatusConflict)
			resp, rb = c.raw(http.MethodPost, "/"+b+"/cold?restore", []byte(`<RestoreRequest/>`), rawOpts{})
			wantXMLError(t, resp, rb, "RestoreAlreadyInProgress", http.StatusConflict)
			if tc.upgrade != "" {
				// A faster tier speeds the running restore up.
				if _, err := c.s3.RestoreObject(ctx, &s3.RestoreObjectInput{Bucket: aws.String(b), Key: aws.String("cold"),
					RestoreRequest: &types.RestoreRequest{GlacierJobParameters: &types.GlacierJobParameters{Tier: tc.upgrade}}}); err != nil {
					t.Fatalf("upgrade to %s: %v", tc.upgrade, err)
				}
			}
			h := headCold()
			if aws.ToString(h.Restore) != `ongoing-request="true"` || string(h.ArchiveStatus) != tc.tier {
				t.Errorf("while restoring: x-amz-restore %q archive status %q", aws.ToString(h.Restore), h.ArchiveStatus)
			}
			resp, rb = c.raw(http.MethodGet, "/"+b+"/cold", nil, rawOpts{})
			wantArchivedBody(t, "GET while restoring", resp, rb, tc.tier)

			// Not done before the tier's lower bound, done by its upper.
			c.clock.Advance(max(tc.lower-time.Second, 0))
			if n := c.runRestores(); n != 0 {
				t.Fatalf("%v after the request: %d restores done, want 0", c.clock.Now().Sub(requested), n)
			}
			c.clock.Advance(requested.Add(tc.upper).Sub(c.clock.Now()))
			if n := c.runRestores(); n != 1 {
				t.Fatalf("%v after the request: %d restores done, want 1", c.clock.Now().Sub(requested), n)
			}

			// Back in Frequent Access for good: no archive status, no
			// restore state, same class, the same bytes.
			h = headCold()
			if h.StorageClass != types.StorageClassIntelligentTiering || h.ArchiveStatus != "" || h.Restore != nil {
				t.Errorf("after the restore: class %q archive status %q restore %q", h.StorageClass, h.ArchiveStatus, aws.ToString(h.Restore))
			}
			resp, _ = c.raw(http.MethodHead, "/"+b+"/cold", nil, rawOpts{})
			if _, ok := resp.Header["X-Amz-Archive-Status"]; ok || resp.Header.Get("x-amz-restore") != "" {
				t.Errorf("raw HEAD after the restore: headers %v", resp.Header)
			}
			if got := c.get(b, "cold"); !bytes.Equal(got, body) {
				t.Errorf("GET after the restore: %d bytes, not the %d stored", len(got), len(body))
			}
			if got := c.accessTier(b, "cold"); got != "" {
				t.Errorf("access tier after the restore: %q, want Frequent", got)
			}

			// Frequent and Infrequent Access objects: 403
			// ObjectAlreadyInActiveTierError, with or without Days.
			for _, key := range []string{"cold", "warm", "fresh", "small"} {
				for _, req := range [][]byte{[]byte(`<RestoreRequest/>`), restoreXML(1, "Standard")} {
					resp, rb = c.raw(http.MethodPost, "/"+b+"/"+key+"?restore", req, rawOpts{})
					wantXMLError(t, resp, rb, "ObjectAlreadyInActiveTierError", http.StatusForbidden)
				}
			}
			_, err = c.s3.RestoreObject(ctx, &s3.RestoreObjectInput{Bucket: aws.String(b), Key: aws.String("warm"), RestoreRequest: &types.RestoreRequest{}})
			wantErr(t, err, "ObjectAlreadyInActiveTierError", http.StatusForbidden)
			if jobs, _ := c.svc.ListRestores(ctx, "", 10); len(jobs) != 1 || jobs[0].State != meta.RestoreDone {
				t.Errorf("restore jobs: %+v, want the one done", jobs)
			}
			// The object copies now.
			if _, err := c.s3.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(b), Key: aws.String("copy"), CopySource: aws.String(b + "/cold")}); err != nil {
				t.Errorf("CopyObject after the restore: %v", err)
			}
		})
	}
}
