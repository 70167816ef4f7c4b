package crash

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/firnhq/firn/internal/sse"
)

// vkey is what a worker knows of its key's versions: the acknowledged
// ones (id → content digest), the acknowledged delete markers, and at
// most one write whose outcome the kill made unknown.
type vkey struct {
	versions map[string][32]byte
	markers  map[string]bool
	deleted  map[string]bool // versions whose deletion was acknowledged
	unknown  string          // "put", "marker" or "delete:<id>" in flight at the kill
}

// TestCrashVersioning kills the server in the middle of versioned,
// encrypted writes (new versions, delete markers, deletions of
// versions) and checks after the restart: every acknowledged version
// reads back byte for byte, no acknowledged deletion is undone, at most
// the one write in flight per key left a trace, and deleting every
// version leaves no blob behind.
func TestCrashVersioning(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test: skipped with -short")
	}
	ctx := context.Background()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	keyFile := filepath.Join(dir, "master.keys")
	os.WriteFile(keyFile, []byte(sse.GenerateKeyLine("k1")+"\n"), 0o600)
	srv := startServer(t, data, filepath.Join(dir, "v-0.log"), "--master-key-file", keyFile)
	c, hc := newClient(srv.addr, false)
	const vb = "versioned"
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(vb)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String(vb),
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}}); err != nil {
		t.Fatal(err)
	}
	const nworkers = 8
	keys := make([]*vkey, nworkers)
	var killed atomic.Bool
	loadCtx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	var acked atomic.Int64
	for w := range nworkers {
		k := &vkey{versions: map[string][32]byte{}, markers: map[string]bool{}, deleted: map[string]bool{}}
		keys[w] = k
		key := fmt.Sprintf("k%d", w)
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 7))
			for loadCtx.Err() == nil {
				switch n := r.IntN(10); {
				case n < 6 || len(k.versions) == 0:
					body := randomBytes(int64(1 + r.IntN(300<<10)))
					k.unknown = "put"
					out, err := c.PutObject(loadCtx, &s3.PutObjectInput{Bucket: aws.String(vb), Key: aws.String(key), Body: bytes.NewReader(body)})
					if err != nil {
						if !killed.Load() {
							t.Errorf("PUT %s before the kill: %v", key, err)
						}
						return
					}
					k.versions[aws.ToString(out.VersionId)] = sha256.Sum256(body)
				case n < 8:
					k.unknown = "marker"
					out, err := c.DeleteObject(loadCtx, &s3.DeleteObjectInput{Bucket: aws.String(vb), Key: aws.String(key)})
					if err != nil {
						if !killed.Load() {
							t.Errorf("DELETE %s before the kill: %v", key, err)
						}
						return
					}
					k.markers[aws.ToString(out.VersionId)] = true
				default:
					var victim string
					for id := range k.versions {
						victim = id
						break
					}
					k.unknown = "delete:" + victim
					if _, err := c.DeleteObject(loadCtx, &s3.DeleteObjectInput{Bucket: aws.String(vb), Key: aws.String(key), VersionId: aws.String(victim)}); err != nil {
						if !killed.Load() {
							t.Errorf("DELETE %s version %s before the kill: %v", key, victim, err)
						}
						return
					}
					delete(k.versions, victim)
					k.deleted[victim] = true
				}
				k.unknown = ""
				acked.Add(1)
			}
		})
	}
	time.Sleep(time.Second + rand.N(time.Second))
	killed.Store(true)
	srv.kill()
	cancel()
	wg.Wait()
	hc.CloseIdleConnections()
	t.Logf("killed after %d acknowledged versioned writes", acked.Load())

	srv = startServer(t, data, filepath.Join(dir, "v-1.log"), "--master-key-file", keyFile)
	c, _ = newClient(srv.addr, false)
	for w, k := range keys {
		key := fmt.Sprintf("k%d", w)
		out, err := c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String(vb), Prefix: aws.String(key)})
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		var extra []string
		for _, v := range out.Versions {
			id := aws.ToString(v.VersionId)
			seen[id] = true
			if _, ok := k.versions[id]; !ok {
				extra = append(extra, "version "+id)
			}
		}
		for _, m := range out.DeleteMarkers {
			id := aws.ToString(m.VersionId)
			seen[id] = true
			if !k.markers[id] {
				extra = append(extra, "marker "+id)
			}
		}
		for id, sum := range k.versions {
			if !seen[id] {
				if k.unknown != "delete:"+id { // an unacknowledged deletion may have happened
					t.Errorf("%s: acknowledged version %s is gone", key, id)
				}
				continue
			}
			got, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(vb), Key: aws.String(key), VersionId: aws.String(id)})
			if err != nil {
				t.Errorf("%s version %s: %v", key, id, err)
				continue
			}
			b, err := io.ReadAll(got.Body)
			got.Body.Close()
			if err != nil || sha256.Sum256(b) != sum {
				t.Errorf("%s version %s: content differs (%v)", key, id, err)
			}
		}
		for id := range k.markers {
			if !seen[id] {
				t.Errorf("%s: acknowledged delete marker %s is gone", key, id)
			}
		}
		// What the kill left unknown may have happened, once.
		allowed := 0
		if k.unknown == "put" || k.unknown == "marker" {
			allowed = 1
		}
		if len(extra) > allowed {
			t.Errorf("%s: unacknowledged versions %q (in flight: %q)", key, extra, k.unknown)
		}
		for id := range k.deleted {
			if seen[id] {
				t.Errorf("%s: version %s came back after its acknowledged deletion", key, id)
			}
		}
		// The latest version decides what a plain GET sees.
		var newest string
		var newestMarker bool
		for _, v := range out.Versions {
			if aws.ToBool(v.IsLatest) {
				newest = aws.ToString(v.VersionId)
			}
		}
		for _, m := range out.DeleteMarkers {
			if aws.ToBool(m.IsLatest) {
				newest, newestMarker = aws.ToString(m.VersionId), true
			}
		}
		if len(out.Versions)+len(out.DeleteMarkers) > 0 && newest == "" {
			t.Errorf("%s: no latest version among %d", key, len(out.Versions)+len(out.DeleteMarkers))
		}
		got, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(vb), Key: aws.String(key)})
		if newestMarker || newest == "" {
			if err == nil {
				got.Body.Close()
				t.Errorf("%s: GET succeeded under a latest delete marker", key)
			}
		} else if err != nil {
			t.Errorf("%s: GET of the latest version %s: %v", key, newest, err)
		} else {
			got.Body.Close()
			if aws.ToString(got.VersionId) != newest {
				t.Errorf("%s: GET read version %s, latest is %s", key, aws.ToString(got.VersionId), newest)
			}
		}
	}
	// Deleting every version and marker leaves no blob behind.
	for w := range keys {
		key := fmt.Sprintf("k%d", w)
		out, err := c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String(vb), Prefix: aws.String(key)})
		if err != nil {
			t.Fatal(err)
		}
		var ids []types.ObjectIdentifier
		for _, v := range out.Versions {
			ids = append(ids, types.ObjectIdentifier{Key: v.Key, VersionId: v.VersionId})
		}
		for _, m := range out.DeleteMarkers {
			ids = append(ids, types.ObjectIdentifier{Key: m.Key, VersionId: m.VersionId})
		}
		if len(ids) > 0 {
			if _, err := c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String(vb), Delete: &types.Delete{Objects: ids}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(vb)}); err != nil {
		t.Errorf("DeleteBucket after deleting every version: %v", err)
	}
	// Freed blobs are deleted after the commit; give it a moment.
	deadline := time.Now().Add(10 * time.Second)
	for {
		committed, _ := blobFiles(t, data)
		if committed == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("%d blob files left after deleting every version", committed)
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
}
