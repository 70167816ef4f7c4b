package object

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/firnhq/firn/internal/blob/pack"
	"github.com/firnhq/firn/internal/clock"
)

// TestMultipartArchivePartsLabeled: the parts of a multipart upload in
// an archive class are stored in the archive packs each with a label
// naming the bucket, the key, the upload and its part number, so that a
// pack read without firn's metadata (pack.OpenArchive, as `firn pack ls`
// does) puts the object together again; and the object restores intact.
func TestMultipartArchivePartsLabeled(t *testing.T) {
	f := &fixture{t: t, dir: t.TempDir(), clock: clock.NewFake(time.Date(2026, 3, 10, 10, 30, 0, 0, time.UTC))}
	var dirs []string
	for i := range 3 {
		dirs = append(dirs, filepath.Join(f.dir, fmt.Sprintf("disk%d", i)))
	}
	ps, err := pack.Open(pack.Config{StateDir: filepath.Join(f.dir, "archive-state"), Dirs: dirs, DataShards: 2, ParityShards: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ps.Close() })
	f.tune = func(c *Config) { c.Archive, c.MinPartSize = ps, 1 }
	f.open()
	t.Cleanup(func() { f.meta.Close() })
	ctx := context.Background()
	if err := f.svc.CreateBucket(ctx, "data", "", "owner"); err != nil {
		t.Fatal(err)
	}

	const key = "backups/2026/03/db.tar"
	u, err := f.svc.CreateMultipartUpload(ctx, CreateUploadInput{Bucket: "data", Key: key, Owner: "owner", StorageClass: Glacier})
	if err != nil {
		t.Fatal(err)
	}
	parts := [][]byte{
		bytes.Repeat([]byte("part one "), 3000),
		bytes.Repeat([]byte("part two "), 2000),
		[]byte("the last part"),
	}
	var done []CompletedPart
	for i, body := range parts {
		p, err := f.svc.UploadPart(ctx, UploadPartInput{Bucket: "data", Key: key, UploadID: u.ID, PartNumber: i + 1,
			Body: bytes.NewReader(body), Size: int64(len(body))})
		if err != nil {
			t.Fatalf("UploadPart %d: %v", i+1, err)
		}
		done = append(done, CompletedPart{Number: i + 1, ETag: p.ETag})
	}
	o, err := f.svc.CompleteMultipartUpload(ctx, CompleteInput{Bucket: "data", Key: key, UploadID: u.ID, Parts: done})
	if err != nil {
		t.Fatal(err)
	}
	if len(o.Segments) != len(parts) {
		t.Fatalf("segments %+v, want one per part", o.Segments)
	}
	if err := ps.Flush(ctx); err != nil {
		t.Fatal(err)
	}

	a, err := pack.OpenArchive(dirs, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	type found struct {
		e pack.Entry
		p *pack.ArchivePack
	}
	byID := map[string]found{}
	for _, p := range a.Packs {
		if p.Err != nil {
			t.Errorf("pack %s: %v", p.ID, p.Err)
		}
		for _, e := range p.Entries {
			byID[e.ID] = found{e, p}
		}
	}
	if len(byID) != len(parts) {
		t.Errorf("the packs hold %d objects, want the %d parts", len(byID), len(parts))
	}
	for i, sg := range o.Segments {
		fd, ok := byID[sg.BlobID]
		if !ok {
			t.Errorf("part %d (blob %s) is in no sealed pack", i+1, sg.BlobID)
			continue
		}
		want := pack.Label{Bucket: "data", Key: key, UploadID: u.ID, PartNumber: i + 1}
		if fd.e.Label != want {
			t.Errorf("part %d label: %+v, want %+v", i+1, fd.e.Label, want)
		}
		rc, err := fd.p.Open(&fd.e)
		if err != nil {
			t.Fatalf("open part %d in its pack: %v", i+1, err)
		}
		got, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || !bytes.Equal(got, parts[i]) {
			t.Errorf("part %d bytes in the pack: %d, %v; want the %d uploaded", i+1, len(got), err, len(parts[i]))
		}
	}

	// The object itself restores intact from the packs.
	if _, err := f.svc.RestoreObject(ctx, RestoreRequest{Bucket: "data", Key: key, Days: 1, Tier: TierExpedited}); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(5 * time.Minute)
	if n := f.run(); n != 1 {
		t.Fatalf("restores done: %d", n)
	}
	got, err := f.get("data", key)
	if err != nil || !bytes.Equal(got, bytes.Join(parts, nil)) {
		t.Errorf("GET after the restore: %d bytes, %v", len(got), err)
	}
}
