package crash

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// Two more corruption cases, beside corrupt_test.go's (restores from
// damaged packs, and the scrub within the parity):
//
//   - TestCorruptGlacierIRRead: GLACIER_IR objects live in the archive
//     packs and GET reads them there at once. One damaged shard is
//     repaired on read (byte-identical answers, whole and ranged); with
//     damage beyond the parity GET fails (a 5xx, or a body cut short
//     before its Content-Length, which the client sees as an error) and
//     never hands out a byte that differs from the archived ones; the
//     server logs the damage.
//   - TestCorruptScrubBeyondParity: the scheduled scrub finds a pack
//     with 3 of its 6 shards damaged and logs "scrub found unrecoverable
//     archive damage", naming exactly the objects whose bytes lie in the
//     lost data shards (computed here from the pack content, read with
//     an independent reader of docs/pack-format.md); the pack's other
//     objects, and the other packs, are still restored intact.

func TestCorruptGlacierIRRead(t *testing.T) {
	e := newCorruptEnv(t)
	ctx := context.Background()
	srv := e.start("server-1.log")
	c, _ := newClient(srv.addr, false)
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(corruptBucket)}); err != nil {
		t.Fatal(err)
	}
	// Each at least a quarter of the pack size: a pack of its own,
	// sealed at once.
	const within, beyondAll, beyondTail = "ir/within", "ir/beyond-all", "ir/beyond-tail"
	bodies := map[string][]byte{within: randomBytes(1500<<10 + 7), beyondAll: randomBytes(2<<20 + 123), beyondTail: randomBytes(2<<20 + 5)}
	keys := []string{within, beyondAll, beyondTail}
	for _, k := range keys {
		putObject(ctx, t, c, k, bodies[k], types.StorageClassGlacierIr)
	}
	for _, k := range keys {
		if g := getObject(ctx, c, k); g.status != 200 || g.err != nil || !bytes.Equal(g.body, bodies[k]) {
			t.Fatalf("GET %s before any damage: %d %s %v", k, g.status, g.code, g.err)
		}
	}
	_, byKey := e.waitSealed(ctx, c, keys)
	for _, k := range keys {
		if p := byKey[k]; len(p.labels) != 1 {
			t.Fatalf("pack %s holds %v, want %s alone", p.id, p.labels, k)
		}
	}
	if h, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(corruptBucket), Key: aws.String(within)}); err != nil || h.StorageClass != types.StorageClassGlacierIr {
		t.Fatalf("HEAD %s: %v, class %v", within, err, h)
	}

	// Within the parity: data shard 1 of within's pack damaged from end
	// to end (its header intact).
	p := byKey[within].id
	bad := e.shardPath(p, 1)
	if bad == "" {
		t.Fatalf("shard 1 of pack %s not found", p)
	}
	hdr := readShardHeader(t, bad)
	damage(t, bad, shardHeaderLen, fileSize(t, bad)-shardHeaderLen)
	t.Logf("damaged all %d blocks of shard 1 of pack %s (%s)", hdr.blocks, p, within)
	for i := range 2 {
		g := getObject(ctx, c, within)
		switch {
		case g.err != nil || g.status != 200:
			t.Errorf("GET %s (#%d) with one shard damaged: %d %s %v", within, i+1, g.status, g.code, g.err)
		case !bytes.Equal(g.body, bodies[within]):
			t.Errorf("GET %s (#%d) with one shard damaged: %d bytes that differ from the archived ones", within, i+1, len(g.body))
		}
	}
	// A range across the boundary of data shards 0 and 1 (content
	// offsets: the object starts after the pack header and its frame's).
	shardSpan := int64(hdr.blocks) * int64(hdr.blockSize)
	lo, hi := shardSpan-3000, shardSpan+70000
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(corruptBucket), Key: aws.String(within),
		Range: aws.String(fmt.Sprintf("bytes=%d-%d", lo, hi-1))})
	if err != nil {
		t.Errorf("ranged GET %s: %v", within, err)
	} else {
		var buf bytes.Buffer
		_, err := buf.ReadFrom(out.Body)
		out.Body.Close()
		if err != nil || !bytes.Equal(buf.Bytes(), bodies[within][lo:hi]) {
			t.Errorf("ranged GET %s bytes %d-%d: %d bytes (err %v) that differ from the archived ones", within, lo, hi-1, buf.Len(), err)
		}
	}
	if l := logLines(t, srv.log, "pack block repaired from parity", p); len(l) == 0 {
		t.Errorf("no 'pack block repaired from parity' logged for pack %s", p)
	}
	if l := logLines(t, srv.log, "level=ERROR"); len(l) > 0 {
		t.Errorf("damage within the parity logged errors:\n%s", strings.Join(l, "\n"))
	}

	// Beyond the parity: 3 of the 6 shards of a pack damaged from end to
	// end. For beyondAll data shard 0 is among them: the object's first
	// bytes are lost, nothing can be sent. For beyondTail data shard 0
	// is intact (its bytes, the first quarter of the object, are read
	// and sent) and data shard 1 is lost.
	damaged := map[string][]int{beyondAll: {0, 2, 5}, beyondTail: {1, 2, 5}}
	for k, shards := range damaged {
		id := byKey[k].id
		for _, i := range shards {
			path := e.shardPath(id, i)
			if path == "" {
				t.Fatalf("shard %d of pack %s not found", i, id)
			}
			damage(t, path, shardHeaderLen, fileSize(t, path)-shardHeaderLen)
		}
	}
	sent := map[string]string{}
	for _, k := range []string{beyondAll, beyondTail} {
		for i := range 2 {
			g := getObject(ctx, c, k)
			what := fmt.Sprintf("GET %s (#%d), beyond the parity", k, i+1)
			switch {
			case g.status == 200 && g.err == nil:
				t.Errorf("%s: 200 with a complete body of %d bytes (archived bytes: %v)", what, len(g.body), bytes.Equal(g.body, bodies[k]))
			case g.status == 200 && !bytes.HasPrefix(bodies[k], g.body):
				t.Errorf("%s: 200, and %d bytes that differ from the archived ones before the error %v", what, len(g.body), g.err)
			case g.status == 200:
				sent[k] = fmt.Sprintf("200, body cut after %d of %d bytes (all of them the archived ones): %v", len(g.body), len(bodies[k]), g.err)
			case g.status >= 500:
				sent[k] = fmt.Sprintf("%d %s", g.status, g.code)
			case g.status != 0:
				t.Errorf("%s: %d %s, want a 5xx", what, g.status, g.code)
			default:
				// No status line at all: the connection was closed
				// before the response began.
				sent[k] = fmt.Sprintf("no response: %v", g.err)
				t.Errorf("%s: the server closed the connection without any response (%v); want a 5xx error: the damage was found before a byte of the body was sent", what, g.err)
			}
		}
		t.Logf("GET %s beyond the parity: %s", k, sent[k])
		// The log says so, naming the object.
		if l := logLines(t, srv.log, k, "corrupt"); len(l) == 0 {
			t.Errorf("no line of the server log names %s and the damage; lines naming it:\n%s", k, strings.Join(logLines(t, srv.log, k), "\n"))
		} else {
			t.Logf("server log: %s", l[0])
		}
	}
	// The object within the parity is still served.
	if g := getObject(ctx, c, within); g.status != 200 || g.err != nil || !bytes.Equal(g.body, bodies[within]) {
		t.Errorf("GET %s at the end: %d %s %v", within, g.status, g.code, g.err)
	}
	srv.stop(t)
}

func TestCorruptScrubBeyondParity(t *testing.T) {
	e := newCorruptEnv(t)
	ctx := context.Background()
	// No timed sealing: the journal is sealed when it reaches the pack
	// size, so that one pack holds many objects.
	srv := e.start("server-1.log", "--seal-every", "1h")
	c, _ := newClient(srv.addr, false)
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(corruptBucket)}); err != nil {
		t.Fatal(err)
	}
	const intact = "intact/big" // a pack of its own
	bodies := map[string][]byte{intact: randomBytes(1500 << 10)}
	putObject(ctx, t, c, intact, bodies[intact], types.StorageClassGlacier)
	r := rand.New(rand.NewPCG(7, 11))
	var small []string
	var total int
	for total < corruptPackSize+100<<10 {
		k := fmt.Sprintf("small/%02d", len(small))
		b := randomBytes(int64(30<<10 + r.IntN(170<<10)))
		putObject(ctx, t, c, k, b, types.StorageClassGlacier)
		bodies[k] = b
		small = append(small, k)
		total += len(b)
	}
	// Wait for the full journal to be sealed; p is the pack of the first
	// small objects.
	var p *packInfo
	deadline := time.Now().Add(30 * time.Second)
	for {
		packs, out, ok := e.packLs()
		if ok {
			for _, pk := range packs {
				for _, l := range pk.labels {
					if l == corruptBucket+"/"+small[0] && pk.found == shardsPerPack {
						p = pk
					}
				}
			}
		}
		if p != nil {
			if _, err := os.Stat(filepath.Join(e.data, "archive-state", "journal", p.id+".journal")); os.IsNotExist(err) {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no sealed pack holds %s within 30s; last listing:\n%s", small[0], out)
		}
		p = nil
		time.Sleep(200 * time.Millisecond)
	}
	srv.stop(t)

	// The pack's content, read from its shards: where each object lies.
	paths := make([]string, shardsPerPack)
	sums := make([][32]byte, shardsPerPack)
	for i := range paths {
		if paths[i] = e.shardPath(p.id, i); paths[i] == "" {
			t.Fatalf("shard %d of pack %s not found", i, p.id)
		}
		sums[i] = fileSum(t, paths[i])
	}
	entries, h := readPack(t, paths)
	// Data shards 0 and 1 and parity shard 5 damaged from end to end:
	// every row keeps 3 good blocks of the 4 needed, and the bytes of
	// content [0, 2·n·B) are lost; those of data shards 2 and 3 are not.
	lostEnd := int64(2 * h.blocks * h.blockSize)
	lost, kept := map[string]string{}, map[string]string{}
	for _, en := range entries {
		if en.payload < lostEnd && en.stored > 0 {
			lost[en.id] = en.key
		} else {
			kept[en.id] = en.key
		}
	}
	t.Logf("pack %s: %d objects, %d-byte content in %d+%d shards of %d blocks of %d bytes; %d objects in data shards 0-1, %d after",
		p.id, len(entries), h.length, h.k, h.m, h.blocks, h.blockSize, len(lost), len(kept))
	if len(lost) == 0 || len(kept) == 0 {
		t.Fatalf("want objects on both sides of content offset %d: %+v", lostEnd, entries)
	}
	for _, i := range []int{0, 1, 5} {
		damage(t, paths[i], shardHeaderLen, fileSize(t, paths[i])-shardHeaderLen)
		sums[i] = fileSum(t, paths[i])
	}

	srv = e.start("server-2.log", "--seal-every", "1h", "--scrub-every", "1s")
	c, _ = newClient(srv.addr, false)
	var line string
	deadline = time.Now().Add(30 * time.Second)
	for line == "" {
		if l := logLines(t, srv.log, "scrub found unrecoverable archive damage"); len(l) > 0 {
			line = l[0]
			break
		}
		if l := logLines(t, srv.log, "scrubbed archive"); len(l) > 0 {
			t.Fatalf("the scrub reported no unrecoverable damage: %s", l[0])
		}
		if time.Now().After(deadline) {
			t.Fatalf("no scrub report within 30s; scrub lines:\n%s", strings.Join(logLines(t, srv.log, "scrub"), "\n"))
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("server log: %s", line)
	if !strings.Contains(line, "level=ERROR") {
		t.Errorf("scrub report is not an error: %s", line)
	}
	named := map[string]bool{}
	if _, rest, ok := strings.Cut(line, `objects="[`); ok {
		list, _, _ := strings.Cut(rest, "]")
		for _, id := range strings.Fields(list) {
			named[id] = true
		}
	}
	for id, key := range lost {
		if !named[id] {
			t.Errorf("the scrub report does not name %s (%s), whose bytes are in the lost shards", id, key)
		}
		if !strings.Contains(line, key) {
			t.Errorf("the scrub report does not name the key %s of %s", key, id)
		}
		if l := logLines(t, srv.log, "object beyond repair", id); len(l) == 0 {
			t.Errorf("no 'object beyond repair' line for %s (%s)", id, key)
		}
	}
	for id := range named {
		if _, ok := lost[id]; !ok {
			t.Errorf("the scrub report names %s (%s in pack %s), which is readable", id, kept[id], p.id)
		}
	}
	// Nothing could be rebuilt: the scrub rewrote no shard of the pack.
	for i, path := range paths {
		if fileSum(t, path) != sums[i] {
			t.Errorf("the scrub changed shard %d of pack %s, damaged beyond the parity", i, p.id)
		}
	}

	// The pack's readable objects and the intact pack are still
	// restored with their archived bytes; the lost ones are not.
	var check []string
	for _, key := range kept {
		check = append(check, strings.TrimPrefix(key, corruptBucket+"/"))
	}
	check = append(check, intact)
	sort.Strings(check)
	for _, k := range check {
		restoreObject(ctx, t, c, k)
	}
	deadline = time.Now().Add(30 * time.Second)
	for _, k := range check {
		for {
			ok, hdr := restored(ctx, t, c, k)
			if ok {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: restore did not complete within 30s (x-amz-restore %q)", k, hdr)
			}
			time.Sleep(50 * time.Millisecond)
		}
		if g := getObject(ctx, c, k); g.status != 200 || g.err != nil || !bytes.Equal(g.body, bodies[k]) {
			t.Errorf("GET %s after its restore: %d %s %v (bytes match: %v)", k, g.status, g.code, g.err, bytes.Equal(g.body, bodies[k]))
		}
	}
	var lostKeys []string
	for _, k := range lost {
		lostKeys = append(lostKeys, k)
	}
	sort.Strings(lostKeys)
	t.Logf("scrub named %d objects beyond repair (%s); %d readable objects restored intact: %s",
		len(named), strings.Join(lostKeys, " "), len(check), strings.Join(check, " "))
	srv.stop(t)
}

// ---- an independent reader of docs/pack-format.md ----

type shardHeader struct {
	k, m, index       int
	length            int64
	blockSize, blocks int
}

func parseShardHeader(b []byte) (shardHeader, error) {
	if len(b) < shardHeaderLen || string(b[:8]) != "FIRNSHRD" {
		return shardHeader{}, fmt.Errorf("not a shard header")
	}
	if crc32.Checksum(b[:60], crc32.MakeTable(crc32.Castagnoli)) != binary.LittleEndian.Uint32(b[60:]) {
		return shardHeader{}, fmt.Errorf("shard header CRC mismatch")
	}
	return shardHeader{k: int(b[10]), m: int(b[11]), index: int(b[12]), length: int64(binary.LittleEndian.Uint64(b[32:])),
		blockSize: int(binary.LittleEndian.Uint32(b[40:])), blocks: int(binary.LittleEndian.Uint32(b[44:]))}, nil
}

func readShardHeader(t *testing.T, path string) shardHeader {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, shardHeaderLen)
	if _, err := f.ReadAt(b, 0); err != nil {
		t.Fatal(err)
	}
	h, err := parseShardHeader(b)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return h
}

type packEntry struct {
	id, key        string // key: BUCKET/KEY
	frame, payload int64  // content offsets
	size, stored   int64
}

// readPack reads the content of an undamaged pack from its shard files
// (paths[i]: shard i) and returns its index entries.
func readPack(t *testing.T, paths []string) ([]packEntry, shardHeader) {
	t.Helper()
	castagnoli := crc32.MakeTable(crc32.Castagnoli)
	var h shardHeader
	var content []byte
	for i, path := range paths {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		sh, err := parseShardHeader(b)
		if err != nil || sh.index != i {
			t.Fatalf("%s: header %+v, %v", path, sh, err)
		}
		h = sh
		if i >= sh.k {
			continue
		}
		rs := sh.blockSize + 4
		for r := range sh.blocks {
			rec := b[shardHeaderLen+r*rs : shardHeaderLen+(r+1)*rs]
			if crc32.Checksum(rec[:sh.blockSize], castagnoli) != binary.LittleEndian.Uint32(rec[sh.blockSize:]) {
				t.Fatalf("%s: block %d CRC mismatch", path, r)
			}
			content = append(content, rec[:sh.blockSize]...)
		}
	}
	content = content[:h.length]
	tr := content[len(content)-32:]
	if string(tr[:8]) != "FIRNTAIL" {
		t.Fatalf("pack trailer magic %q", tr[:8])
	}
	off, n := binary.LittleEndian.Uint64(tr[8:]), binary.LittleEndian.Uint64(tr[16:])
	idx := content[off : off+n]
	if string(idx[:4]) != "FIDX" {
		t.Fatalf("pack index magic %q", idx[:4])
	}
	count := int(binary.LittleEndian.Uint32(idx[4:]))
	var out []packEntry
	pos := 8
	for range count {
		frame := int64(binary.LittleEndian.Uint64(idx[pos:]))
		bl := int(binary.LittleEndian.Uint32(idx[pos+8:]))
		body := idx[pos+12 : pos+12+bl]
		pos += 12 + bl
		label := func(at int) (string, int) {
			l := int(binary.LittleEndian.Uint16(body[at:]))
			return string(body[at+2 : at+2+l]), at + 2 + l
		}
		bucket, at := label(78)
		key, _ := label(at)
		out = append(out, packEntry{id: hex.EncodeToString(body[:16]), key: bucket + "/" + key, frame: frame,
			payload: frame + 12 + int64(bl), size: int64(binary.LittleEndian.Uint64(body[18:])), stored: int64(binary.LittleEndian.Uint64(body[26:]))})
	}
	return out, h
}
