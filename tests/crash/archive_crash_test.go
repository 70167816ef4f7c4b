package crash

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/firnhq/firn/internal/app"
	"github.com/firnhq/firn/internal/retrieval"
)

// TestCrashDuringArchiveWrites kills the server with SIGKILL while
// clients PUT objects into GLACIER and DEEP_ARCHIVE (small packs that
// seal all the time, objects that get a pack of their own, multipart
// uploads whose parts go to the archive) and while restores of the
// objects already acknowledged are requested and run. Three kill/restart
// cycles, then:
//
//   - every acknowledged object is listed with its size, ETag and
//     storage class; nothing unacknowledged is listed unless it is
//     exactly what the in-flight request sent;
//   - every acknowledged RestoreObject survived the kills (HEAD shows
//     x-amz-restore); an object never restored still refuses GET;
//   - every restore completes, and GET then returns the archived bytes;
//   - one restore job per object, done, tier and bytes as requested;
//   - the retrieval meter holds, per model day and tier, exactly the
//     bytes of the restores completed that day in that tier (each
//     restore counted once, however the kills fell);
//   - the hot store holds exactly one copy per restored object.
func TestCrashDuringArchiveWrites(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test: skipped with -short")
	}
	const (
		bkt        = "archcrash"
		dayLength  = 4 * time.Second
		packSize   = 8 << 20 // objects of 2 MiB and more get a pack of their own
		restoreFor = 30      // days: the copies outlive the test (30 × 4s)
		writers    = 4
		restorers  = 2
		cycles     = 3
	)
	start := time.Now()
	ctx := context.Background()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	args := []string{"--log-level", "debug", "--day-length", dayLength.String(),
		"--pack-size", strconv.Itoa(packSize), "--seal-every", "1s",
		"--restore-latency", "Expedited=0s,Standard=1h,Bulk=2h", // 0, 0.17s, 0.33s of wall time
		"--restore-every", "50ms", "--restore-lease", "3s"}
	var logs []string
	startAt := func(i int) *server {
		p := filepath.Join(dir, fmt.Sprintf("server-%d.log", i))
		logs = append(logs, p)
		return startServer(t, data, p, args...)
	}
	srv := startAt(0)
	c, _ := newClient(srv.addr, false)
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bkt)}); err != nil {
		t.Fatalf("create bucket: %v", err)
	}
	m := &archModel{objs: map[string]*archObj{}}

	for cycle := 1; cycle <= cycles; cycle++ {
		var killed atomic.Bool
		st := &archStats{}
		l := &archLoader{t: t, m: m, bucket: bkt, cycle: cycle, killed: &killed, stats: st, days: restoreFor}
		cl, hc := newClient(srv.addr, false)
		loadCtx, cancel := context.WithCancel(ctx)
		var wg sync.WaitGroup
		for w := range writers {
			wg.Go(func() { l.write(loadCtx, w, cl) })
		}
		for w := range restorers {
			wg.Go(func() { l.restore(loadCtx, w, cl) })
		}
		loadFor := 2*time.Second + rand.N(1500*time.Millisecond)
		time.Sleep(loadFor)
		killed.Store(true)
		srv.kill()
		cancel()
		wg.Wait()
		hc.CloseIdleConnections()
		lb, _ := os.ReadFile(srv.log)
		doneBefore := strings.Count(string(lb), "restore job done")
		journals, tmpShards := archiveLeftovers(t, data)
		jobs := adminRestoreJobs(t, data)
		pending := 0
		for _, j := range jobs {
			if j.State == "pending" {
				pending++
			}
		}
		t.Logf("cycle %d: killed after %v: %d PUTs (%d bytes) and %d multipart uploads acknowledged, %d writes in flight; "+
			"%d restores acknowledged, %d in flight; %d restore jobs done in this run, %d pending at the kill; %d open journals, %d unfinished shard files",
			cycle, loadFor.Round(time.Millisecond), st.puts.Load(), st.bytes.Load(), st.mpus.Load(), st.unknownPuts.Load(),
			st.restores.Load(), st.unknownRestores.Load(), doneBefore, pending, journals, tmpShards)
		if t.Failed() {
			t.FailNow()
		}
		if st.puts.Load() == 0 || st.restores.Load() == 0 {
			t.Fatalf("cycle %d: no load before the kill", cycle)
		}

		srv = startAt(cycle)
		c, _ = newClient(srv.addr, false)
		archVerifyListing(ctx, t, cycle, c, bkt, m)
		if l := logLines(t, srv.log, "removed orphan blobs"); len(l) > 0 {
			t.Logf("cycle %d: start-up collection: %s", cycle, l[0][strings.Index(l[0], "msg="):])
		}
		// The seals the kill interrupted are redone or forgotten: once
		// the restarted server has sealed its journals (no load now), no
		// unfinished shard file is left.
		for wait := time.Now(); ; time.Sleep(100 * time.Millisecond) {
			_, tmpShards := archiveLeftovers(t, data)
			if tmpShards == 0 {
				break
			}
			if time.Since(wait) > 10*time.Second {
				t.Errorf("cycle %d: %d unfinished shard files still there 10s after the restart", cycle, tmpShards)
				break
			}
		}
		if t.Failed() {
			t.FailNow()
		}
	}

	// Every present object: its restore (acknowledged before a kill,
	// or requested now), then its bytes.
	present := m.present()
	var mu sync.Mutex
	var requestedNow, refused, adopted int
	parallel(8, present, func(o *archObj) {
		h, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bkt), Key: aws.String(o.key)})
		if err != nil {
			t.Errorf("HEAD %s: %v", o.key, err)
			return
		}
		if sc := string(h.StorageClass); sc != string(o.class) {
			t.Errorf("HEAD %s: storage class %q, want %s", o.key, sc, o.class)
		}
		hdr := aws.ToString(h.Restore)
		switch o.restore {
		case restoreAcked:
			if hdr == "" {
				t.Errorf("%s: RestoreObject was acknowledged before a kill, but HEAD shows no x-amz-restore", o.key)
			}
			return
		case restoreUnknown:
			if hdr != "" {
				mu.Lock()
				adopted++
				mu.Unlock()
				return // the request in flight at the kill took effect
			}
		case restoreNone:
			if hdr != "" {
				t.Errorf("%s: never restored, but HEAD shows x-amz-restore %q", o.key, hdr)
				return
			}
			_, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bkt), Key: aws.String(o.key)})
			var ae smithy.APIError
			var re *awshttp.ResponseError
			if !errors.As(err, &ae) || !errors.As(err, &re) || re.HTTPStatusCode() != 403 || ae.ErrorCode() != "InvalidObjectState" {
				t.Errorf("GET %s (archived, not restored): %v, want 403 InvalidObjectState", o.key, err)
			}
			mu.Lock()
			refused++
			mu.Unlock()
		}
		if err := restoreReq(ctx, c, bkt, o.key, o.tier, restoreFor); err != nil {
			t.Errorf("RestoreObject %s after the restarts: %v", o.key, err)
			return
		}
		mu.Lock()
		requestedNow++
		mu.Unlock()
	})
	if t.Failed() {
		t.FailNow()
	}
	restoreStart := time.Now()
	deadline := restoreStart.Add(40 * time.Second)
	var readBytes atomic.Int64
	parallel(6, present, func(o *archObj) {
		for {
			h, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bkt), Key: aws.String(o.key)})
			if err != nil {
				t.Errorf("HEAD %s: %v", o.key, err)
				return
			}
			if strings.HasPrefix(aws.ToString(h.Restore), `ongoing-request="false"`) {
				break
			}
			if time.Now().After(deadline) {
				t.Errorf("%s: restore not complete 40s after the last restart (x-amz-restore %q)", o.key, aws.ToString(h.Restore))
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bkt), Key: aws.String(o.key)})
		if err != nil {
			t.Errorf("GET %s after its restore: %v", o.key, err)
			return
		}
		defer out.Body.Close()
		hs := sha256.New()
		n, err := io.Copy(hs, out.Body)
		readBytes.Add(n)
		switch {
		case err != nil:
			t.Errorf("GET %s after its restore: read body: %v", o.key, err)
		case n != o.size || [32]byte(hs.Sum(nil)) != o.sum:
			t.Errorf("GET %s after its restore: %d bytes, sha256 %x; archived %d bytes, sha256 %x", o.key, n, hs.Sum(nil)[:6], o.size, o.sum[:6])
		case strings.Trim(aws.ToString(out.ETag), `"`) != o.etag:
			t.Errorf("GET %s after its restore: ETag %s, want %s", o.key, aws.ToString(out.ETag), o.etag)
		}
	})
	t.Logf("after the last restart: %d objects present; %d restores requested now (%d of never-restored objects, refused GET before), %d in-flight restore requests had taken effect; "+
		"all restored and read back (%d bytes) in %v",
		len(present), requestedNow, refused, adopted, readBytes.Load(), time.Since(restoreStart).Round(time.Millisecond))
	if t.Failed() {
		t.FailNow()
	}
	srv.stop(t)
	end := time.Now()

	// Exactly once: one job per object, done, as requested.
	jobs := adminRestoreJobs(t, data)
	byKey := map[string][]adminRestoreJob{}
	for _, j := range jobs {
		byKey[j.Key] = append(byKey[j.Key], j)
	}
	want := map[string]*archObj{}
	for _, o := range present {
		want[o.key] = o
	}
	for k, js := range byKey {
		if want[k] == nil {
			t.Errorf("restore job(s) for %s, which is not present: %+v", k, js)
		}
	}
	type dayTier struct {
		day  int64
		tier string
	}
	fromJobs := map[dayTier]int64{}
	perTier := map[string]int64{}
	var inline, copies int
	for _, o := range present {
		js := byKey[o.key]
		if len(js) != 1 {
			t.Errorf("%s: %d restore jobs, want exactly 1: %+v", o.key, len(js), js)
			continue
		}
		j := js[0]
		switch {
		case j.State != "done" || j.Completed == nil:
			t.Errorf("%s: restore job %+v, want done", o.key, j)
			continue
		case j.Tier != string(o.tier) || j.StorageClass != string(o.class) || j.Bytes != o.size || j.Days != restoreFor:
			t.Errorf("%s: restore job %+v, want tier %s, class %s, %d bytes, %d days", o.key, j, o.tier, o.class, o.size, restoreFor)
		}
		fromJobs[dayTier{retrieval.Day(*j.Completed, dayLength), j.Tier}] += j.Bytes
		perTier[string(o.tier)] += o.size
		if o.size > inlineMax {
			copies++
		} else {
			inline++
		}
	}
	// No completion logged twice (a job run twice would be).
	doneLogs := map[string]int{}
	for _, p := range logs {
		for _, l := range logLines(t, p, "restore job done") {
			if i := strings.Index(l, " key="); i >= 0 {
				doneLogs[strings.Fields(l[i+5:])[0]]++
			}
		}
	}
	for k, n := range doneLogs {
		if n > 1 {
			t.Errorf("%s: %d restore completions logged", k, n)
		}
	}

	// The meter: the bytes of the completed restores, per model day and
	// tier, each counted once.
	svc, closer, err := app.OpenAdmin(data)
	if err != nil {
		t.Fatalf("open the metadata store: %v", err)
	}
	from, to := retrieval.Day(start, dayLength)-1, retrieval.Day(end, dayLength)+1
	metered, err := svc.RetrievalStore().Retrieved(ctx, from, to)
	closer.Close()
	if err != nil {
		t.Fatalf("read the retrieval meter: %v", err)
	}
	fromMeter := map[dayTier]int64{}
	meterTier := map[string]int64{}
	for _, d := range metered {
		fromMeter[dayTier{d.Day, d.Tier}] += d.Bytes
		meterTier[d.Tier] += d.Bytes
	}
	for k, n := range fromJobs {
		if n > 0 && fromMeter[k] != n {
			t.Errorf("meter day %d %s: %d bytes, want %d (the restores completed that day)", k.day, k.tier, fromMeter[k], n)
		}
	}
	for k, n := range fromMeter {
		if fromJobs[k] != n {
			t.Errorf("meter day %d %s: %d bytes, but restores completed that day in that tier hold %d", k.day, k.tier, n, fromJobs[k])
		}
	}
	for tier, n := range perTier {
		if meterTier[tier] != n {
			t.Errorf("meter, %s over all days: %d bytes, want %d (the sizes of the objects restored in %s)", tier, meterTier[tier], n, tier)
		}
	}
	var days []string
	for k, n := range fromMeter {
		days = append(days, fmt.Sprintf("day %d %s %d", k.day, k.tier, n))
	}
	sort.Strings(days)
	t.Logf("%d restore jobs, all done once; meter over %d (day, tier) pairs: %s", len(jobs), len(fromMeter), strings.Join(days, "; "))

	// The hot store: one copy per restored object above the inline size,
	// nothing half-written.
	committed, tmp := blobFiles(t, data)
	if committed != copies || tmp != 0 {
		t.Errorf("hot store: %d committed and %d temporary blob files, want %d restored copies (and %d inline) and 0", committed, tmp, copies, inline)
	}
	t.Logf("total %v", time.Since(start).Round(time.Millisecond))
}

// ---- the model ----

const (
	restoreNone    = iota // never requested
	restoreAcked          // RestoreObject acknowledged
	restoreUnknown        // RestoreObject in flight at a kill
)

type archObj struct {
	key     string
	class   types.StorageClass
	size    int64
	sum     [32]byte
	etag    string
	parts   int
	acked   bool // the PUT (or CompleteMultipartUpload) was acknowledged
	gone    bool // unacknowledged, and absent after the restart
	tier    types.Tier
	restore int
}

type archModel struct {
	mu    sync.Mutex
	objs  map[string]*archObj
	order []string
	queue []string // acknowledged, not yet picked by a restorer
}

func (m *archModel) add(o *archObj) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.objs[o.key] = o
	m.order = append(m.order, o.key)
}

func (m *archModel) ack(o *archObj) {
	m.mu.Lock()
	defer m.mu.Unlock()
	o.acked = true
	m.queue = append(m.queue, o.key)
}

// next takes a random acknowledged object off the restore queue.
func (m *archModel) next(r *rand.Rand) *archObj {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.queue) == 0 {
		return nil
	}
	i := r.IntN(len(m.queue))
	k := m.queue[i]
	m.queue[i] = m.queue[len(m.queue)-1]
	m.queue = m.queue[:len(m.queue)-1]
	return m.objs[k]
}

func (m *archModel) setRestore(o *archObj, state int) {
	m.mu.Lock()
	o.restore = state
	m.mu.Unlock()
}

// present returns the objects the server must hold, in write order.
func (m *archModel) present() []*archObj {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []*archObj
	for _, k := range m.order {
		if o := m.objs[k]; !o.gone {
			out = append(out, o)
		}
	}
	return out
}

// ---- the load ----

type archStats struct {
	puts, mpus, bytes, unknownPuts, restores, unknownRestores atomic.Int64
}

type archLoader struct {
	t      *testing.T
	m      *archModel
	bucket string
	cycle  int
	days   int
	killed *atomic.Bool
	stats  *archStats
}

func (l *archLoader) failed(what, key string, err error) {
	if !l.killed.Load() {
		l.t.Errorf("cycle %d: %s %s failed before the kill: %v", l.cycle, what, key, err)
	}
}

// archSize picks a single-PUT size: empty (rarely), tiny, medium, or 1–5 MiB.
func archSize(r *rand.Rand) int64 {
	switch p := r.IntN(100); {
	case p < 2:
		return 0
	case p < 50:
		return 1<<10 + r.Int64N(99<<10+1)
	case p < 65:
		return 200<<10 + r.Int64N(824<<10)
	default:
		lo, hi := math.Log(1<<20), math.Log(5<<20)
		return int64(math.Exp(lo + r.Float64()*(hi-lo)))
	}
}

func (l *archLoader) write(ctx context.Context, w int, c *s3.Client) {
	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), uint64(w)))
	for i := 0; ctx.Err() == nil; i++ {
		key := fmt.Sprintf("c%d/w%d/%05d", l.cycle, w, i)
		if r.IntN(100) < 8 {
			l.multipart(ctx, c, key, r)
			continue
		}
		class := types.StorageClassGlacier
		if r.IntN(100) < 40 {
			class = types.StorageClassDeepArchive
		}
		b := randomBytes(archSize(r))
		v := singleVersion(b)
		o := &archObj{key: key, class: class, size: v.size, sum: v.sum, etag: v.etag, tier: restoreTier(r, class)}
		l.m.add(o)
		out, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(l.bucket), Key: aws.String(key),
			Body: bytes.NewReader(b), ContentLength: aws.Int64(v.size), StorageClass: class})
		if err != nil {
			l.failed("PUT", key, err)
			l.stats.unknownPuts.Add(1)
			return
		}
		if got := strings.Trim(aws.ToString(out.ETag), `"`); got != v.etag {
			l.t.Errorf("PUT %s answered ETag %s, want %s", key, got, v.etag)
		}
		l.stats.puts.Add(1)
		l.stats.bytes.Add(v.size)
		l.m.ack(o)
	}
}

// multipart uploads 2–3 parts (5 MiB but the last) into GLACIER.
func (l *archLoader) multipart(ctx context.Context, c *s3.Client, key string, r *rand.Rand) {
	n := 2 + r.IntN(2)
	bodies := make([][]byte, n)
	whole := sha256.New()
	var md5s []byte
	var total int64
	for i := range bodies {
		sz := int64(partSize)
		if i == n-1 {
			sz = 1 + r.Int64N(3<<20)
		}
		bodies[i] = randomBytes(sz)
		whole.Write(bodies[i])
		pm := md5.Sum(bodies[i])
		md5s = append(md5s, pm[:]...)
		total += sz
	}
	em := md5.Sum(md5s)
	o := &archObj{key: key, class: types.StorageClassGlacier, size: total, etag: fmt.Sprintf("%x-%d", em, n), parts: n,
		tier: restoreTier(r, types.StorageClassGlacier)}
	whole.Sum(o.sum[:0])
	l.m.add(o)
	cr, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(l.bucket), Key: aws.String(key),
		StorageClass: types.StorageClassGlacier})
	if err != nil {
		l.failed("CreateMultipartUpload", key, err)
		l.stats.unknownPuts.Add(1)
		return
	}
	var done []types.CompletedPart
	for i, b := range bodies {
		up, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(l.bucket), Key: aws.String(key), UploadId: cr.UploadId,
			PartNumber: aws.Int32(int32(i + 1)), Body: bytes.NewReader(b), ContentLength: aws.Int64(int64(len(b)))})
		if err != nil {
			l.failed("UploadPart", key, err)
			l.stats.unknownPuts.Add(1)
			return
		}
		done = append(done, types.CompletedPart{ETag: up.ETag, PartNumber: aws.Int32(int32(i + 1))})
	}
	out, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(l.bucket), Key: aws.String(key),
		UploadId: cr.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: done}})
	if err != nil {
		l.failed("CompleteMultipartUpload", key, err)
		l.stats.unknownPuts.Add(1)
		return
	}
	if got := strings.Trim(aws.ToString(out.ETag), `"`); got != o.etag {
		l.t.Errorf("CompleteMultipartUpload %s answered ETag %s, want %s", key, got, o.etag)
	}
	l.stats.mpus.Add(1)
	l.stats.bytes.Add(total)
	l.m.ack(o)
}

// restoreTier picks the tier an object will be restored in (never
// Expedited for DEEP_ARCHIVE, which refuses it).
func restoreTier(r *rand.Rand, class types.StorageClass) types.Tier {
	if class == types.StorageClassDeepArchive {
		return []types.Tier{types.TierStandard, types.TierBulk}[r.IntN(2)]
	}
	return []types.Tier{types.TierExpedited, types.TierStandard, types.TierBulk}[r.IntN(3)]
}

// restore requests the restore of acknowledged objects, leaving about a
// fifth of them for after the restarts.
func (l *archLoader) restore(ctx context.Context, w int, c *s3.Client) {
	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), uint64(100+w)))
	for ctx.Err() == nil {
		o := l.m.next(r)
		if o == nil {
			time.Sleep(5 * time.Millisecond)
			continue
		}
		if r.IntN(5) == 0 {
			continue
		}
		l.m.setRestore(o, restoreUnknown)
		if err := restoreReq(ctx, c, l.bucket, o.key, o.tier, l.days); err != nil {
			l.failed("RestoreObject", o.key, err)
			l.stats.unknownRestores.Add(1)
			return
		}
		l.m.setRestore(o, restoreAcked)
		l.stats.restores.Add(1)
	}
}

func restoreReq(ctx context.Context, c *s3.Client, bkt, key string, tier types.Tier, days int) error {
	_, err := c.RestoreObject(ctx, &s3.RestoreObjectInput{Bucket: aws.String(bkt), Key: aws.String(key),
		RestoreRequest: &types.RestoreRequest{Days: aws.Int32(int32(days)), GlacierJobParameters: &types.GlacierJobParameters{Tier: tier}}})
	return err
}

// ---- the checks ----

// archVerifyListing checks the listing after a restart against the
// model and settles the writes that were in flight at the kill.
func archVerifyListing(ctx context.Context, t *testing.T, cycle int, c *s3.Client, bkt string, m *archModel) {
	t.Helper()
	listed := map[string]types.Object{}
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String(bkt)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("cycle %d: list: %v", cycle, err)
		}
		for _, o := range page.Contents {
			listed[aws.ToString(o.Key)] = o
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var acked, tookEffect, lost int
	for k, lo := range listed {
		o := m.objs[k]
		switch {
		case o == nil || o.gone:
			t.Errorf("cycle %d: listing shows %s, which was never written", cycle, k)
		case aws.ToInt64(lo.Size) != o.size || strings.Trim(aws.ToString(lo.ETag), `"`) != o.etag || string(lo.StorageClass) != string(o.class):
			t.Errorf("cycle %d: %s listed as %d bytes, ETag %s, class %s; written %d bytes, ETag %s, class %s (acknowledged: %v)",
				cycle, k, aws.ToInt64(lo.Size), aws.ToString(lo.ETag), lo.StorageClass, o.size, o.etag, o.class, o.acked)
		case !o.acked:
			o.acked = true // the write in flight took effect, whole
			tookEffect++
		default:
			acked++
		}
	}
	for _, k := range m.order {
		o := m.objs[k]
		if _, ok := listed[k]; ok || o.gone {
			continue
		}
		if o.acked {
			t.Errorf("cycle %d: %s (%d bytes, %s) was acknowledged but is not listed", cycle, k, o.size, o.class)
			continue
		}
		o.gone = true
		lost++
	}
	// Objects whose write took effect unacknowledged join the restore queue.
	inQueue := map[string]bool{}
	for _, k := range m.queue {
		inQueue[k] = true
	}
	for _, k := range m.order {
		if o := m.objs[k]; o.acked && !o.gone && o.restore == restoreNone && !inQueue[k] {
			m.queue = append(m.queue, k)
		}
	}
	t.Logf("cycle %d after restart: %d objects listed: %d acknowledged, %d written in flight that took effect; %d in-flight writes left no object",
		cycle, len(listed), acked, tookEffect, lost)
}

type adminRestoreJob struct {
	ID, Bucket, Key, StorageClass, Tier, State string
	Days                                       int
	Bytes                                      int64
	Requested, Due                             time.Time
	Completed, Expiry                          *time.Time
	Error                                      string
}

// adminRestoreJobs runs `firn admin restore list --json` on data.
func adminRestoreJobs(t *testing.T, data string) []adminRestoreJob {
	t.Helper()
	cmd := exec.Command(firnBin, "admin", "restore", "list", "--data", data, "--json", "--limit", "1000000")
	var se bytes.Buffer
	cmd.Stderr = &se
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("firn admin restore list: %v\n%s", err, se.String())
	}
	var jobs []adminRestoreJob
	if err := json.Unmarshal(out, &jobs); err != nil {
		t.Fatalf("firn admin restore list: %v", err)
	}
	return jobs
}

// archiveLeftovers counts the open journals and the unfinished shard
// files a kill left.
func archiveLeftovers(t *testing.T, data string) (journals, tmpShards int) {
	t.Helper()
	filepath.WalkDir(data, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		switch {
		case strings.HasSuffix(p, ".journal"):
			journals++
		case strings.HasSuffix(p, ".shard.tmp"):
			tmpShards++
		}
		return nil
	})
	return journals, tmpShards
}

// parallel runs f on every item with n goroutines.
func parallel[T any](n int, items []T, f func(T)) {
	ch := make(chan T)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			for it := range ch {
				f(it)
			}
		})
	}
	for _, it := range items {
		ch <- it
	}
	close(ch)
	wg.Wait()
}
