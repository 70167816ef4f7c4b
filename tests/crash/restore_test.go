package crash

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// TestCrashDuringRestores kills the server with SIGKILL while restore
// jobs are copying archived objects back, restarts it, and checks that
// every restore completes exactly once with byte-identical data and that
// no half-made copy is left behind.
func TestCrashDuringRestores(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test skipped in -short mode")
	}
	ctx := context.Background()
	data := t.TempDir()
	args := []string{"--log-level", "debug", "--restore-latency", "Expedited=0s,Standard=0s,Bulk=0s", "--restore-lease", "2s", "--restore-every", "50ms"}
	srv := startServer(t, data, filepath.Join(t.TempDir(), "server-1.log"), args...)
	c, _ := newClient(srv.addr, false)
	const bkt = "restores"
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bkt)}); err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	const n = 80
	sums := map[string][32]byte{}
	for i := range n {
		key := fmt.Sprintf("cold/%03d", i)
		body := randomBytes(int64(200<<10 + r.IntN(2<<20)))
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bkt), Key: aws.String(key),
			Body: bytes.NewReader(body), StorageClass: types.StorageClassGlacier}); err != nil {
			t.Fatal(err)
		}
		sums[key] = sha256.Sum256(body)
	}
	for key := range sums {
		if _, err := c.RestoreObject(ctx, &s3.RestoreObjectInput{Bucket: aws.String(bkt), Key: aws.String(key),
			RestoreRequest: &types.RestoreRequest{Days: aws.Int32(1), GlacierJobParameters: &types.GlacierJobParameters{Tier: types.TierStandard}}}); err != nil {
			t.Fatalf("RestoreObject %s: %v", key, err)
		}
	}
	time.Sleep(time.Duration(50+r.IntN(250)) * time.Millisecond)
	srv.kill()

	// The test only means something if the kill caught restores unfinished.
	log1, _ := os.ReadFile(srv.log)
	before := strings.Count(string(log1), "restore job done")
	t.Logf("restores completed before the kill: %d of %d", before, n)

	srv = startServer(t, data, filepath.Join(t.TempDir(), "server-2.log"), args...)
	c, _ = newClient(srv.addr, false)
	deadline := time.Now().Add(90 * time.Second)
	for key, want := range sums {
		for {
			h, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bkt), Key: aws.String(key)})
			if err != nil {
				t.Fatalf("HeadObject %s: %v", key, err)
			}
			if strings.HasPrefix(aws.ToString(h.Restore), `ongoing-request="false"`) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: restore did not complete after the restart (x-amz-restore %q)", key, aws.ToString(h.Restore))
			}
			time.Sleep(50 * time.Millisecond)
		}
		out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bkt), Key: aws.String(key)})
		if err != nil {
			t.Fatalf("GetObject %s: %v", key, err)
		}
		h := sha256.New()
		io.Copy(h, out.Body)
		out.Body.Close()
		if [32]byte(h.Sum(nil)) != want {
			t.Errorf("%s: restored bytes differ from what was archived", key)
		}
	}

	// Exactly once: one job per object, done.
	cmd := exec.Command(firnBin, "admin", "restore", "list", "--data", data, "--json", "--limit", "100000")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("firn admin restore list: %v", err)
	}
	var jobs []struct{ Key, State string }
	if err := json.Unmarshal(out, &jobs); err != nil {
		t.Fatal(err)
	}
	per := map[string]int{}
	for _, j := range jobs {
		if j.State != "done" {
			t.Errorf("job for %s is %s, want done", j.Key, j.State)
		}
		per[j.Key]++
	}
	for key := range sums {
		if per[key] != 1 {
			t.Errorf("%s: %d restore jobs, want exactly 1", key, per[key])
		}
	}
	// No orphaned copies: the hot store holds exactly one copy per
	// object (interrupted copies were collected at start-up).
	committed, tmp := blobFiles(t, data)
	if committed != n || tmp != 0 {
		t.Errorf("hot store: %d committed and %d temporary files, want %d and 0", committed, tmp, n)
	}
	srv.stop(t)
}
