package app

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/firnhq/firn/internal/adminapi"
	"github.com/firnhq/firn/internal/config"
	"github.com/firnhq/firn/internal/retrieval"
)

// adminCallAs is adminCall signed with other credentials.
func adminCallAs(t *testing.T, addr, ak, sk, method, path string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+addr+adminapi.PathPrefix+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(nil)
	hash := hex.EncodeToString(sum[:])
	req.Header.Set("X-Amz-Content-Sha256", hash)
	if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: ak, SecretAccessKey: sk}, req, hash, "s3", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// adminJSON calls the admin API as root, wants 200 and decodes the
// answer into v.
func adminJSON(t *testing.T, addr, path string, v any) {
	t.Helper()
	st, body := adminCall(t, addr, http.MethodPost, path, "")
	if st != http.StatusOK {
		t.Fatalf("POST %s: %d %s", path, st, body)
	}
	if err := json.Unmarshal([]byte(body), v); err != nil {
		t.Fatalf("POST %s: %q: %v", path, body, err)
	}
}

// shardFiles lists the shard files under an archive directory, sorted
// (by pack, then shard index).
func shardFiles(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.shard"))
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	return files
}

// flipBytes inverts n bytes of path at offset at.
func flipBytes(t *testing.T, path string, at int64, n int) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, n)
	if _, err := f.ReadAt(b, at); err != nil {
		t.Fatal(err)
	}
	for i := range b {
		b[i] ^= 0x5a
	}
	if _, err := f.WriteAt(b, at); err != nil {
		t.Fatal(err)
	}
}

func putGlacier(t *testing.T, c *s3.Client, bucket, key string, body []byte) {
	t.Helper()
	if _, err := c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key),
		Body: bytes.NewReader(body), StorageClass: types.StorageClassGlacier}); err != nil {
		t.Fatal(err)
	}
}

// restoreAndGet restores key (Standard, instant in these tests) and
// returns its bytes.
func restoreAndGet(t *testing.T, c *s3.Client, bucket, key string) []byte {
	t.Helper()
	ctx := context.Background()
	if _, err := c.RestoreObject(ctx, &s3.RestoreObjectInput{Bucket: aws.String(bucket), Key: aws.String(key),
		RestoreRequest: &types.RestoreRequest{Days: aws.Int32(1), GlacierJobParameters: &types.GlacierJobParameters{Tier: types.TierStandard}}}); err != nil {
		t.Fatalf("restore %s: %v", key, err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		h, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
		if err != nil {
			t.Fatal(err)
		}
		if h.Restore != nil && strings.HasPrefix(*h.Restore, `ongoing-request="false"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("restore of %s did not complete: %v", key, aws.ToString(h.Restore))
		}
		time.Sleep(30 * time.Millisecond)
	}
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("GET %s: %v", key, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestAdminArchive: through the admin API, flush seals the open pack;
// compaction leaves a mostly deleted pack alone until its objects reach
// --compact-min-age, and rewrites it when forced; a scrub repairs a
// damaged and a missing shard of the new pack and says so; the surviving
// objects restore byte for byte; other credentials than root's are
// refused, and every call is in the audit log.
func TestAdminArchive(t *testing.T) {
	ctx := context.Background()
	var data string
	srv, c := startFirn(t, "AK", "SK", nil, func(cfg *config.Server) { data = cfg.Data })
	addr := srv.Addr()
	archiveDir := filepath.Join(data, "archive")
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("cold")}); err != nil {
		t.Fatal(err)
	}
	keys := []string{"k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7", "k8", "k9"}
	bodies := map[string][]byte{}
	for _, k := range keys {
		b := make([]byte, 20000)
		rand.Read(b) // incompressible: the pack's live share is what it seems
		bodies[k] = b
		putGlacier(t, c, "cold", k, b)
	}
	for _, k := range keys[2:] {
		if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("cold"), Key: aws.String(k)}); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(shardFiles(t, archiveDir)); n != 0 {
		t.Fatalf("%d shard files before the flush, want none (the pack is open)", n)
	}
	var flushed map[string]string
	adminJSON(t, addr, "archive/flush", &flushed)
	if flushed["result"] != "sealed" {
		t.Errorf("flush: %v", flushed)
	}
	first := shardFiles(t, archiveDir)
	if len(first) != 6 {
		t.Fatalf("after the flush: %d shard files, want one pack of 6", len(first))
	}

	// 2 of 10 objects live, but stored just now: younger than 180 model days.
	var rep adminapi.CompactReport
	adminJSON(t, addr, "archive/compact", &rep)
	if rep.Packs != 0 || rep.Objects != 0 || rep.Force || rep.MinAgeDays != 180 || rep.LiveRatio != 0.5 {
		t.Errorf("compact without force: %+v, want nothing done under the 180-day minimum", rep)
	}
	// A lower live ratio than the pack's 20% selects nothing, even forced.
	rep = adminapi.CompactReport{}
	adminJSON(t, addr, "archive/compact?force=true&live-ratio=0.1", &rep)
	if rep.Packs != 0 || rep.LiveRatio != 0.1 {
		t.Errorf("forced compact at live ratio 0.1: %+v, want nothing done", rep)
	}
	rep = adminapi.CompactReport{}
	adminJSON(t, addr, "archive/compact?force=true", &rep)
	if rep.Packs < 1 || rep.Objects != 2 || rep.BytesReclaimed < 8*20000 || !rep.Force {
		t.Fatalf("forced compact: %+v, want the pack rewritten with its 2 live objects", rep)
	}
	for _, bad := range []string{"archive/compact?force=maybe", "archive/compact?live-ratio=0", "archive/compact?live-ratio=1.5"} {
		if st, body := adminCall(t, addr, http.MethodPost, bad, ""); st != http.StatusBadRequest || !strings.Contains(body, "InvalidArgument") {
			t.Errorf("POST %s: %d %s, want 400 InvalidArgument", bad, st, body)
		}
	}
	if st, _ := adminCall(t, addr, http.MethodGet, "archive/scrub", ""); st != http.StatusNotFound {
		t.Errorf("GET archive/scrub: %d, want 404", st)
	}
	adminJSON(t, addr, "archive/flush", &flushed)
	second := shardFiles(t, archiveDir)
	if len(second) != 6 || filepath.Base(second[0])[:32] == filepath.Base(first[0])[:32] {
		t.Fatalf("after compaction and flush: shard files %v, want only the 6 of a new pack (old: %v)", second, first)
	}

	// Damage a data shard in its first block and delete a parity shard:
	// both within the parity.
	flipBytes(t, second[1], 64+3, 7)
	if err := os.Remove(second[5]); err != nil {
		t.Fatal(err)
	}
	var scrub adminapi.ScrubReport
	adminJSON(t, addr, "archive/scrub", &scrub)
	if scrub.Packs != 1 || scrub.BlocksRepaired < 1 || scrub.ShardsRebuilt != 1 || scrub.Objects != 2 || scrub.Unrecoverable == nil || len(scrub.Unrecoverable) != 0 {
		t.Errorf("scrub: %+v, want 1 pack, a block repaired, 1 shard rebuilt, 2 objects, none unrecoverable", scrub)
	}
	if _, err := os.Stat(second[5]); err != nil {
		t.Errorf("the deleted shard was not rebuilt: %v", err)
	}
	scrub = adminapi.ScrubReport{}
	adminJSON(t, addr, "archive/scrub", &scrub)
	if scrub.BlocksRepaired != 0 || scrub.ShardsRebuilt != 0 {
		t.Errorf("second scrub: %+v, want nothing left to repair", scrub)
	}

	for _, k := range keys[:2] {
		if got := restoreAndGet(t, c, "cold", k); !bytes.Equal(got, bodies[k]) {
			t.Errorf("%s after compaction and scrub: %d bytes, want the %d stored", k, len(got), len(bodies[k]))
		}
	}

	// Root only.
	st, body := adminCall(t, addr, http.MethodPost, "users", `{"name":"ops"}`)
	if st != http.StatusOK {
		t.Fatalf("add user: %d %s", st, body)
	}
	st, body = adminCall(t, addr, http.MethodPost, "users/ops/keys", "")
	var key adminapi.Key
	if err := json.Unmarshal([]byte(body), &key); st != http.StatusOK || err != nil {
		t.Fatalf("create key: %d %s %v", st, body, err)
	}
	for _, path := range []string{"archive/scrub", "archive/compact?force=true", "archive/flush"} {
		if st, body := adminCallAs(t, addr, key.ID, key.Secret, http.MethodPost, path); st != http.StatusForbidden || !strings.Contains(body, "AccessDenied") {
			t.Errorf("POST %s as a user: %d %s, want 403 AccessDenied", path, st, body)
		}
	}
	if st, body := adminCallAs(t, addr, "AK", "wrong", http.MethodPost, "archive/flush"); st != http.StatusForbidden {
		t.Errorf("POST archive/flush with a bad signature: %d %s, want 403", st, body)
	}

	if err := srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(AuditLogPath(data))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"action":"firn:admin POST archive/scrub"`, `"action":"firn:admin POST archive/compact"`, `"action":"firn:admin POST archive/flush"`} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("audit log lacks %s", want)
		}
	}
	if !strings.Contains(string(raw), `"principal":"`+key.ID+`"`) {
		t.Errorf("audit log lacks the denied user's calls")
	}
}

// TestCompactMinAgeSetting: with --compact-min-age 0 a compaction that
// is not forced rewrites a pack as soon as it is below the live ratio;
// --compact-live-ratio is the ratio used.
func TestCompactMinAgeSetting(t *testing.T) {
	ctx := context.Background()
	srv, c := startFirn(t, "AK", "SK", nil, func(cfg *config.Server) {
		cfg.CompactMinAge = 0
		cfg.CompactLiveRatio = 0.6
	})
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("cold")}); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"a", "b"} {
		b := make([]byte, 20000)
		rand.Read(b)
		putGlacier(t, c, "cold", k, b)
	}
	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("cold"), Key: aws.String("a")}); err != nil {
		t.Fatal(err)
	}
	var flushed map[string]string
	adminJSON(t, srv.Addr(), "archive/flush", &flushed)
	var rep adminapi.CompactReport
	adminJSON(t, srv.Addr(), "archive/compact", &rep)
	if rep.Packs != 1 || rep.Objects != 1 || rep.MinAgeDays != 0 || rep.LiveRatio != 0.6 || rep.Force {
		t.Errorf("compact: %+v, want the half-live pack rewritten without force", rep)
	}
	// Once the server shuts down, on-demand work is refused, not run on
	// a closed store.
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := srv.ops.Flush(ctx); !errors.Is(err, adminapi.ErrUnavailable) {
		t.Errorf("flush after shutdown: got %v, want ErrUnavailable", err)
	}
	if _, err := srv.ops.Scrub(ctx); !errors.Is(err, adminapi.ErrUnavailable) {
		t.Errorf("scrub after shutdown: got %v, want ErrUnavailable", err)
	}
}

// TestFreeTierBytes: --free-tier-bytes is the FreeTier policy's monthly
// allowance, prorated per day: a server with a small one refuses a
// Standard restore above the day's share with PolicyEnforcedException,
// which the default 10 GiB accepts; 0 is no free allowance at all.
func TestFreeTierBytes(t *testing.T) {
	ctx := context.Background()
	start := func(freeTier int64) (*Server, *s3.Client) {
		srv, c := startFirn(t, "AK", "SK", nil, func(cfg *config.Server) {
			if freeTier >= 0 {
				cfg.FreeTierBytes = freeTier
			}
		})
		if err := srv.svc.RetrievalStore().PutPolicy(ctx, retrieval.Policy{Strategy: retrieval.FreeTier}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("cold")}); err != nil {
			t.Fatal(err)
		}
		putGlacier(t, c, "cold", "small", bytes.Repeat([]byte("s"), 1000))
		putGlacier(t, c, "cold", "big", bytes.Repeat([]byte("b"), 5000))
		return srv, c
	}
	restore := func(c *s3.Client, key string) error {
		_, err := c.RestoreObject(ctx, &s3.RestoreObjectInput{Bucket: aws.String("cold"), Key: aws.String(key),
			RestoreRequest: &types.RestoreRequest{Days: aws.Int32(1), GlacierJobParameters: &types.GlacierJobParameters{Tier: types.TierStandard}}})
		return err
	}
	enforced := func(err error) bool {
		var ae smithy.APIError
		return errors.As(err, &ae) && ae.ErrorCode() == "PolicyEnforcedException"
	}

	// 93,000 bytes a month: 3,000 to 3,321 a day, whatever the month.
	_, small := start(93000)
	if err := restore(small, "small"); err != nil {
		t.Fatalf("1,000 bytes within the day's allowance: %v", err)
	}
	if err := restore(small, "big"); !enforced(err) {
		t.Errorf("5,000 more bytes than the day's allowance: got %v, want PolicyEnforcedException", err)
	}

	_, dflt := start(-1) // the default, 10 GiB
	if err := restore(dflt, "big"); err != nil {
		t.Errorf("5,000 bytes under the default allowance: %v", err)
	}

	_, none := start(0)
	if err := restore(none, "small"); !enforced(err) {
		t.Errorf("1,000 bytes with no free allowance: got %v, want PolicyEnforcedException", err)
	}
}
