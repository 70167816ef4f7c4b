package crash

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// The corruption tests damage the shard files of sealed archive packs
// under a running server, the way a failing disk would, and check what
// clients see:
//
//   - TestCorruptWithinParity: a damaged block in one pack and a missing
//     shard in another (within the 2 parity shards) are invisible to
//     clients: every restore completes and serves the archived bytes;
//     a scrub then rewrites the damaged shard and rebuilds the missing
//     one, byte for byte as they were sealed.
//   - TestCorruptBeyondParity: with 3 of a pack's 6 shards damaged its
//     object cannot be read; it must never be served with wrong bytes,
//     and its restore job must fail visibly (state "failed", an error in
//     the log) without holding up other restores.

const (
	corruptBucket   = "corrupt"
	corruptPackSize = 1 << 20 // objects of 256 KiB and more spilled to disk get a pack of their own
	shardsPerPack   = 6       // the default 4 + 2
	shardHeaderLen  = 64      // docs/pack-format.md
)

// corruptEnv is a data directory with six archive directories (one per
// shard of a pack, as on six disks).
type corruptEnv struct {
	t       *testing.T
	dir     string
	data    string
	archive []string
}

func newCorruptEnv(t *testing.T) *corruptEnv {
	if testing.Short() {
		t.Skip("crash test skipped in -short mode")
	}
	dir := t.TempDir()
	e := &corruptEnv{t: t, dir: dir, data: filepath.Join(dir, "data")}
	for i := range shardsPerPack {
		d := filepath.Join(dir, fmt.Sprintf("disk%d", i))
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
		e.archive = append(e.archive, d)
	}
	return e
}

// start runs the server on the environment's data with small packs,
// instant restores and the extra flags.
func (e *corruptEnv) start(logName string, extra ...string) *server {
	e.t.Helper()
	args := []string{"--log-level", "debug", "--archive-dirs", strings.Join(e.archive, ","),
		"--pack-size", strconv.Itoa(corruptPackSize), "--seal-every", "1s",
		"--restore-latency", "Expedited=0s,Standard=0s,Bulk=0s", "--restore-every", "50ms"}
	return startServer(e.t, e.data, filepath.Join(e.dir, logName), append(args, extra...)...)
}

// packInfo is one pack as `firn pack ls` shows it.
type packInfo struct {
	id     string
	found  int      // shard files found
	labels []string // bucket/key of its objects
}

// packLs runs `firn pack ls` on the archive directories; ok is false when
// it failed (e.g. while a pack is being sealed).
func (e *corruptEnv) packLs() (packs map[string]*packInfo, out string, ok bool) {
	e.t.Helper()
	cmd := exec.Command(firnBin, append([]string{"pack", "ls"}, e.archive...)...)
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	if err := cmd.Run(); err != nil {
		return nil, fmt.Sprintf("firn pack ls: %v\n%s%s", err, so.String(), se.String()), false
	}
	packs = map[string]*packInfo{}
	var cur *packInfo
	for _, l := range strings.Split(so.String(), "\n") {
		f := strings.Fields(l)
		switch {
		case len(f) == 0:
		case f[0] == "pack" && len(f) >= 2:
			// pack ID  sealed TIME  4+2 shards, N found  ...
			cur = &packInfo{id: f[1]}
			for i := 1; i < len(f); i++ {
				if f[i] == "found" {
					cur.found, _ = strconv.Atoi(f[i-1])
				}
			}
			packs[cur.id] = cur
		case cur != nil && strings.HasPrefix(l, " "):
			// ID  SIZE  STORED COMPRESSION  TIME  "BUCKET/KEY" [version "V"]
			label := "-"
			for _, x := range f[1:] {
				if u, err := strconv.Unquote(x); err == nil {
					label = u
					break
				}
			}
			cur.labels = append(cur.labels, label)
		}
	}
	return packs, so.String() + se.String(), true
}

// waitSealed waits until every key is in a sealed pack whose journal is
// gone, putting filler objects in the archive to fill the open pack, and
// returns the pack of each key.
func (e *corruptEnv) waitSealed(ctx context.Context, c *s3.Client, keys []string) (map[string]*packInfo, map[string]*packInfo) {
	e.t.Helper()
	deadline := time.Now().Add(150 * time.Second) // --seal-every is checked once a minute
	fillers := 0
	start := time.Now()
	var last string
	for {
		packs, out, ok := e.packLs()
		last = out
		if ok {
			byKey := map[string]*packInfo{}
			for _, p := range packs {
				for _, l := range p.labels {
					byKey[strings.TrimPrefix(l, corruptBucket+"/")] = p
				}
			}
			done := true
			for _, k := range keys {
				p := byKey[k]
				if p == nil || p.found != shardsPerPack {
					done = false
					break
				}
				if _, err := os.Stat(filepath.Join(e.data, "archive-state", "journal", p.id+".journal")); !errors.Is(err, os.ErrNotExist) {
					done = false
					break
				}
			}
			if done {
				return packs, byKey
			}
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("objects not sealed into packs within 150s; last listing:\n%s", last)
		}
		if fillers < 8 && time.Since(start) > 2*time.Second {
			// Fill the open pack so that it seals.
			fillers++
			putObject(ctx, e.t, c, fmt.Sprintf("filler/%02d", fillers), randomBytes(200<<10), types.StorageClassGlacier)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// shardPath is where shard i of pack id is, or "" if no archive
// directory holds it.
func (e *corruptEnv) shardPath(id string, i int) string {
	for _, d := range e.archive {
		p := filepath.Join(d, fmt.Sprintf("%s-%02d.shard", id, i))
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

func putObject(ctx context.Context, t *testing.T, c *s3.Client, key string, body []byte, class types.StorageClass) {
	t.Helper()
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(corruptBucket), Key: aws.String(key),
		Body: bytes.NewReader(body), ContentLength: aws.Int64(int64(len(body))), StorageClass: class}); err != nil {
		t.Fatalf("PUT %s: %v", key, err)
	}
}

func restoreObject(ctx context.Context, t *testing.T, c *s3.Client, key string) {
	t.Helper()
	if _, err := c.RestoreObject(ctx, &s3.RestoreObjectInput{Bucket: aws.String(corruptBucket), Key: aws.String(key),
		RestoreRequest: &types.RestoreRequest{Days: aws.Int32(1), GlacierJobParameters: &types.GlacierJobParameters{Tier: types.TierStandard}}}); err != nil {
		t.Fatalf("RestoreObject %s: %v", key, err)
	}
}

// getResult is what a GET answered.
type getResult struct {
	status int
	code   string // S3 error code
	body   []byte
	err    error // a failure that is not an S3 error answer
}

func getObject(ctx context.Context, c *s3.Client, key string) getResult {
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(corruptBucket), Key: aws.String(key)})
	if err != nil {
		var re *awshttp.ResponseError
		var ae smithy.APIError
		if errors.As(err, &re) && errors.As(err, &ae) {
			return getResult{status: re.HTTPStatusCode(), code: ae.ErrorCode()}
		}
		return getResult{err: err}
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		return getResult{status: 200, body: b, err: fmt.Errorf("read body: %w", err)}
	}
	return getResult{status: 200, body: b}
}

// restored reports whether HEAD shows a completed restore, and the
// x-amz-restore value.
func restored(ctx context.Context, t *testing.T, c *s3.Client, key string) (bool, string) {
	t.Helper()
	h, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(corruptBucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("HEAD %s: %v", key, err)
	}
	r := aws.ToString(h.Restore)
	return strings.HasPrefix(r, `ongoing-request="false"`), r
}

func fileSum(t *testing.T, path string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

// damage overwrites n bytes of path at off with random bytes, keeping its
// size.
func damage(t *testing.T, path string, off, n int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	if off+n > fi.Size() {
		t.Fatalf("damage %s: %d+%d past its %d bytes", path, off, n, fi.Size())
	}
	garbage := make([]byte, n)
	crand.Read(garbage)
	if _, err := f.WriteAt(garbage, off); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// logLines returns the lines of a server log that contain every one of
// the substrings.
func logLines(t *testing.T, path string, subs ...string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
next:
	for _, l := range strings.Split(string(b), "\n") {
		for _, s := range subs {
			if !strings.Contains(l, s) {
				continue next
			}
		}
		out = append(out, l)
	}
	return out
}

type adminJob struct {
	ID, Bucket, Key, Tier, State, Error string
}

// restoreJobs runs `firn admin restore list --json` on the data
// directory (the server running on it).
func (e *corruptEnv) restoreJobs() []adminJob {
	e.t.Helper()
	cmd := exec.Command(firnBin, "admin", "restore", "list", "--data", e.data, "--json", "--limit", "1000")
	var se bytes.Buffer
	cmd.Stderr = &se
	out, err := cmd.Output()
	if err != nil {
		e.t.Fatalf("firn admin restore list: %v\n%s", err, se.String())
	}
	var jobs []adminJob
	if err := json.Unmarshal(out, &jobs); err != nil {
		e.t.Fatalf("firn admin restore list: %v\n%s", err, out)
	}
	return jobs
}

func TestCorruptWithinParity(t *testing.T) {
	e := newCorruptEnv(t)
	ctx := context.Background()
	srv := e.start("server-1.log")
	c, _ := newClient(srv.addr, false)
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(corruptBucket)}); err != nil {
		t.Fatal(err)
	}
	// The small ones share journal packs; those above 1 MiB (spilled to
	// disk, at least a quarter of the pack size) are sealed into packs of
	// their own at once.
	sizes := []int{3 << 10, 17<<10 + 5, 60 << 10, 150<<10 + 1, 333 << 10, 700<<10 + 3, 1300 << 10, 2500<<10 + 7, 4 << 20}
	want := map[string][32]byte{}
	var keys []string
	for i, n := range sizes {
		key := fmt.Sprintf("obj/%02d-%d", i, n)
		b := randomBytes(int64(n))
		putObject(ctx, t, c, key, b, types.StorageClassGlacier)
		want[key] = sha256.Sum256(b)
		keys = append(keys, key)
	}
	packs, byKey := e.waitSealed(ctx, c, keys)
	t.Logf("%d objects sealed into %d packs", len(keys), len(packs))

	// p1: the pack holding the most of our objects; p2: the largest
	// object's own pack.
	count := map[string]int{}
	for _, k := range keys {
		count[byKey[k].id]++
	}
	p1 := byKey[keys[0]].id
	for id, n := range count {
		if n > count[p1] {
			p1 = id
		}
	}
	p2 := byKey[keys[len(keys)-1]].id
	if p1 == p2 || count[p1] < 2 {
		t.Fatalf("want a pack of several objects and another pack; got %v", count)
	}
	var inP1 []string
	for _, k := range keys {
		if byKey[k].id == p1 {
			inP1 = append(inP1, k)
		}
	}
	t.Logf("pack %s holds %v; pack %s holds %v", p1, inP1, p2, byKey[keys[len(keys)-1]].labels)

	// Damage data shard 0 of p1 in the middle (object bytes, not the
	// shard header) and delete data shard 1 of p2 (the middle of the
	// 4 MiB object).
	bad := e.shardPath(p1, 0)
	gone := e.shardPath(p2, 1)
	if bad == "" || gone == "" {
		t.Fatalf("shard files not found: %q %q", bad, gone)
	}
	badOrig, err := os.ReadFile(bad)
	if err != nil {
		t.Fatal(err)
	}
	goneOrig := fileSum(t, gone)
	size := int64(len(badOrig))
	damage(t, bad, size/2-4096, 8192)
	if fileSum(t, bad) == sha256.Sum256(badOrig) {
		t.Fatal("damage did not change the shard")
	}
	if err := os.Remove(gone); err != nil {
		t.Fatal(err)
	}
	t.Logf("damaged %s (bytes %d-%d of %d) and deleted %s", bad, size/2-4096, size/2+4096, size, gone)

	// Every object is restored with its archived bytes.
	for _, k := range keys {
		restoreObject(ctx, t, c, k)
	}
	deadline := time.Now().Add(60 * time.Second)
	for _, k := range keys {
		for {
			ok, r := restored(ctx, t, c, k)
			if ok {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: restore did not complete within 60s (x-amz-restore %q); jobs: %+v", k, r, e.restoreJobs())
			}
			time.Sleep(50 * time.Millisecond)
		}
		g := getObject(ctx, c, k)
		switch {
		case g.err != nil || g.status != 200:
			t.Errorf("GET %s after the restore: %d %s %v", k, g.status, g.code, g.err)
		case sha256.Sum256(g.body) != want[k]:
			t.Errorf("GET %s after the restore: %d bytes that differ from the archived ones", k, len(g.body))
		}
	}
	for _, j := range e.restoreJobs() {
		if j.State != "done" && !strings.HasPrefix(j.Key, "filler/") {
			t.Errorf("restore job of %s is %q, want done", j.Key, j.State)
		}
	}
	if fileSum(t, bad) == sha256.Sum256(badOrig) {
		t.Logf("reading %s repaired it in place", filepath.Base(bad))
	} else {
		t.Logf("reading %s left it damaged", filepath.Base(bad))
	}
	if _, err := os.Stat(gone); err == nil {
		t.Logf("reading pack %s recreated %s", p2, filepath.Base(gone))
	}
	if l := logLines(t, srv.log, "level=ERROR"); len(l) > 0 {
		t.Errorf("damage within the parity logged errors:\n%s", strings.Join(l, "\n"))
	}
	srv.stop(t)
	if t.Failed() {
		t.FailNow()
	}

	// Damage the shard again, where no read will repair it, and let a
	// scrub find both faults (the scrub runs on the server's once-a-minute
	// maintenance tick).
	damage(t, bad, size/3, 10000)
	damaged := fileSum(t, bad)
	if damaged == sha256.Sum256(badOrig) {
		t.Fatal("damage did not change the shard")
	}
	os.Remove(gone)
	srv = e.start("server-2.log", "--scrub-every", "1s")
	c, _ = newClient(srv.addr, false)
	deadline = time.Now().Add(150 * time.Second)
	for {
		_, err := os.Stat(gone)
		if fileSum(t, bad) != damaged && err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("scrub did not repair %s (repaired: %v) and rebuild %s (%v) within 150s", bad, fileSum(t, bad) != damaged, gone, err)
		}
		time.Sleep(time.Second)
	}
	// The scrub's last word (its report) is logged when it is done.
	for time.Now().Before(deadline) && len(logLines(t, srv.log, "scrub")) == 0 {
		time.Sleep(200 * time.Millisecond)
	}
	if fileSum(t, bad) != sha256.Sum256(badOrig) {
		t.Errorf("scrub rewrote %s, but not as it was sealed", bad)
	}
	if fileSum(t, gone) != goneOrig {
		t.Errorf("scrub rebuilt %s, but not as it was sealed", gone)
	}
	if fileSize(t, bad) != size {
		t.Errorf("%s is %d bytes after the scrub, was %d", bad, fileSize(t, bad), size)
	}
	t.Logf("scrub log:\n%s", strings.Join(logLines(t, srv.log, "scrub"), "\n"))
	if l := logLines(t, srv.log, "pack block repaired from parity", p1); len(l) == 0 {
		t.Errorf("no 'pack block repaired from parity' logged for pack %s", p1)
	}
	if l := logLines(t, srv.log, "pack shard rebuilt from parity", p2); len(l) == 0 {
		t.Errorf("no 'pack shard rebuilt from parity' logged for pack %s", p2)
	}
	if l := logLines(t, srv.log, "scrubbed archive"); len(l) == 0 || !strings.Contains(l[0], "shards_rebuilt=1") || strings.Contains(l[0], "blocks_repaired=0") {
		t.Errorf("scrub report: %q, want blocks repaired and 1 shard rebuilt", l)
	}
	if l := logLines(t, srv.log, "level=ERROR"); len(l) > 0 {
		t.Errorf("scrub within the parity logged errors:\n%s", strings.Join(l, "\n"))
	}
	// The offline reader finds every shard of both packs.
	packs, out, ok := e.packLs()
	if !ok {
		t.Fatalf("after the scrub: %s", out)
	}
	for _, id := range []string{p1, p2} {
		if p := packs[id]; p == nil || p.found != shardsPerPack {
			t.Errorf("after the scrub `firn pack ls` shows pack %s as %+v, want %d shards found:\n%s", id, p, shardsPerPack, out)
		}
	}
	// The restored copies are still served.
	for _, k := range keys {
		if g := getObject(ctx, c, k); g.err != nil || g.status != 200 || sha256.Sum256(g.body) != want[k] {
			t.Errorf("GET %s after the restart: %d %s %v (bytes match: %v)", k, g.status, g.code, g.err, sha256.Sum256(g.body) == want[k])
		}
	}
	srv.stop(t)
}

func TestCorruptBeyondParity(t *testing.T) {
	e := newCorruptEnv(t)
	ctx := context.Background()
	// A short lease: a job whose worker gave up without ending it is
	// tried again soon, and every try must fail safe.
	srv := e.start("server-1.log", "--restore-lease", "2s")
	c, _ := newClient(srv.addr, false)
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(corruptBucket)}); err != nil {
		t.Fatal(err)
	}
	const lost, ok = "beyond/lost.bin", "beyond/ok.bin"
	lostBody, okBody := randomBytes(2<<20+123), randomBytes(1500<<10)
	putObject(ctx, t, c, lost, lostBody, types.StorageClassGlacier)
	putObject(ctx, t, c, ok, okBody, types.StorageClassGlacier)
	_, byKey := e.waitSealed(ctx, c, []string{lost, ok})
	p := byKey[lost]
	if len(p.labels) != 1 || p == byKey[ok] {
		t.Fatalf("pack %s holds %v, want %s alone", p.id, p.labels, lost)
	}

	// Damage M+1 = 3 of the 6 shards, every block of them (the headers
	// stay intact): no row keeps the 4 good blocks a rebuild needs.
	for _, i := range []int{0, 2, 5} {
		path := e.shardPath(p.id, i)
		if path == "" {
			t.Fatalf("shard %d of pack %s not found", i, p.id)
		}
		damage(t, path, shardHeaderLen, fileSize(t, path)-shardHeaderLen)
	}
	t.Logf("damaged shards 0, 2 and 5 of pack %s (%s)", p.id, lost)

	restoreObject(ctx, t, c, lost)
	restoreObject(ctx, t, c, ok)
	// Watch for 30s at most, and at least 3s (more than the lease)
	// after the job failed, so that a job retried after failing would
	// be seen.
	var state string
	var job adminJob
	var failedAt time.Time
	okDone := false
	deadline := time.Now().Add(30 * time.Second)
	gets := 0
	for time.Now().Before(deadline) && (failedAt.IsZero() || time.Since(failedAt) < 3*time.Second || !okDone) {
		g := getObject(ctx, c, lost)
		gets++
		switch {
		case g.status == 200 && !bytes.Equal(g.body, lostBody):
			t.Fatalf("GET %s answered 200 with %d bytes that differ from the archived ones (read error: %v)", lost, len(g.body), g.err)
		case g.status == 200:
			t.Fatalf("GET %s answered 200 with the archived bytes from a pack damaged beyond its parity: the damage did not take", lost)
		case g.err != nil:
			t.Fatalf("GET %s: %v", lost, g.err)
		case g.status != 403 || g.code != "InvalidObjectState":
			t.Fatalf("GET %s: %d %s, want 403 InvalidObjectState", lost, g.status, g.code)
		}
		for _, j := range e.restoreJobs() {
			if j.Key == lost {
				job, state = j, j.State
			}
		}
		switch {
		case state == "failed" && failedAt.IsZero():
			failedAt = time.Now()
		case state != "failed" && !failedAt.IsZero():
			t.Fatalf("restore job of %s went from failed to %q: %+v", lost, state, job)
		}
		if !okDone {
			okDone, _ = restored(ctx, t, c, ok)
		}
		time.Sleep(100 * time.Millisecond)
	}
	_, hdr := restored(ctx, t, c, lost)
	t.Logf("%d GETs of %s, all 403 InvalidObjectState; its job: %+v; x-amz-restore %q", gets, lost, job, hdr)
	if state != "failed" {
		t.Errorf("restore job of %s is %q after 30s, want failed", lost, state)
	} else if strings.Contains(hdr, `ongoing-request="true"`) {
		t.Errorf("HEAD %s after its restore failed: x-amz-restore %q; a client polling for the restore would wait forever", lost, hdr)
	}
	if n := len(logLines(t, srv.log, "restore job done", lost)); n > 0 {
		t.Errorf("the server logged %d completed restores of %s", n, lost)
	}
	errLines := logLines(t, srv.log, "level=ERROR", lost)
	if len(errLines) == 0 {
		t.Errorf("no level=ERROR line in the server log names %s; lines naming it:\n%s", lost, strings.Join(logLines(t, srv.log, lost), "\n"))
	} else {
		t.Logf("server log:\n%s", strings.Join(errLines, "\n"))
	}
	// A failed restore does not hold up the others.
	if !okDone {
		t.Errorf("restore of %s (an intact pack) did not complete within 30s", ok)
	} else if g := getObject(ctx, c, ok); g.status != 200 || !bytes.Equal(g.body, okBody) {
		t.Errorf("GET %s: %d %s %v (bytes match: %v)", ok, g.status, g.code, g.err, bytes.Equal(g.body, okBody))
	}
	srv.stop(t)
}
