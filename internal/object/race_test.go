package object

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"testing"
)

// A read that started returns the whole version it began with, even when
// the object is overwritten or deleted meanwhile; the old bytes go once
// the reader is closed.
func TestReadSurvivesOverwriteAndDelete(t *testing.T) {
	f := newFixture(t)
	f.svc.minPartSize = 1
	ctx := context.Background()
	old := bytes.Repeat([]byte("old "), 3000)

	// A multipart object: three blobs, opened one after another.
	u, err := f.svc.CreateMultipartUpload(ctx, CreateUploadInput{Bucket: "data", Key: "mp", Owner: "owner"})
	if err != nil {
		t.Fatal(err)
	}
	var parts []CompletedPart
	for i := range 3 {
		p, err := f.svc.UploadPart(ctx, UploadPartInput{Bucket: "data", Key: "mp", UploadID: u.ID, PartNumber: i + 1,
			Body: bytes.NewReader(old[i*4000 : (i+1)*4000]), Size: 4000})
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, CompletedPart{Number: p.Number, ETag: p.ETag})
	}
	if _, err := f.svc.CompleteMultipartUpload(ctx, CompleteInput{Bucket: "data", Key: "mp", UploadID: u.ID, Parts: parts}); err != nil {
		t.Fatal(err)
	}
	f.put("data", "single", "", old)

	for _, key := range []string{"mp", "single"} {
		_, rd, err := f.svc.GetObject(ctx, GetInput{Bucket: "data", Key: key})
		if err != nil {
			t.Fatal(err)
		}
		head := make([]byte, 100)
		if _, err := io.ReadFull(rd, head); err != nil {
			t.Fatal(err)
		}
		f.put("data", key, "", bytes.Repeat([]byte("new "), 3000))
		rest, err := io.ReadAll(rd)
		if err != nil {
			t.Fatalf("%s: read after overwrite: %v", key, err)
		}
		if got := append(head, rest...); !bytes.Equal(got, old) {
			t.Errorf("%s: read after overwrite returned %d bytes, not the version it began with", key, len(got))
		}
		before := f.files("hot")
		rd.Close()
		if after := f.files("hot"); after >= before {
			t.Errorf("%s: closing the reader left the old blobs (%d files before, %d after)", key, before, after)
		}
	}

	// Deleting during a read: the same.
	_, rd, err := f.svc.GetObject(ctx, GetInput{Bucket: "data", Key: "single"})
	if err != nil {
		t.Fatal(err)
	}
	f.svc.DeleteObject(ctx, "data", "single", "")
	if got, err := io.ReadAll(rd); err != nil || len(got) != 12000 {
		t.Errorf("read after delete: %d bytes, %v", len(got), err)
	}
	rd.Close()
	if n, err := f.svc.CollectGarbage(ctx, 0); err != nil || n != 0 {
		t.Errorf("collector after reads: removed %d (%v), want 0 (nothing orphaned)", n, err)
	}
}

// S3 documents a copy onto itself with a checksum algorithm as the way to
// add a checksum to an existing object.
func TestSelfCopyAddsChecksum(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.put("data", "k", "", []byte("hello world"))
	o, err := f.svc.CopyObject(ctx, CopyInput{SrcBucket: "data", SrcKey: "k", Bucket: "data", Key: "k", Owner: "owner", Algorithm: "SHA256"})
	if err != nil {
		t.Fatal(err)
	}
	const want = "uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek="
	if o.Checksum.Algorithm != "SHA256" || o.Checksum.Value != want {
		t.Errorf("got checksum %+v, want SHA256 %s", o.Checksum, want)
	}
	h, _ := f.svc.HeadObject(ctx, GetInput{Bucket: "data", Key: "k"})
	if h.Checksum.Value != want {
		t.Errorf("stored checksum %+v", h.Checksum)
	}
}

// Paging ListMultipartUploads with a delimiter moves past each common
// prefix instead of returning it forever.
func TestListUploadsPagesPastCommonPrefixes(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for _, k := range []string{"a/1", "a/2", "b/1", "c"} {
		if _, err := f.svc.CreateMultipartUpload(ctx, CreateUploadInput{Bucket: "data", Key: k, Owner: "owner"}); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	keyMarker, idMarker := "", ""
	for range 10 {
		page, err := f.svc.ListMultipartUploads(ctx, "data", "", "/", keyMarker, idMarker, 1)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, page.CommonPrefixes...)
		for _, u := range page.Uploads {
			got = append(got, u.Key)
		}
		if !page.IsTruncated {
			break
		}
		keyMarker, idMarker = page.NextKeyMarker, page.NextIDMarker
	}
	if want := "[a/ b/ c]"; fmt.Sprint(got) != want {
		t.Errorf("pages: got %v, want %s", got, want)
	}
}
