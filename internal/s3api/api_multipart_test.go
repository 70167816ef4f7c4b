package s3api_test

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/s3/manager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

const minPart = 5 << 20

// multipartETag is S3's ETag of a multipart object: the MD5 of the
// concatenated binary part MD5s, then "-N".
func multipartETag(parts ...[]byte) string {
	var cat []byte
	for _, p := range parts {
		s := md5.Sum(p)
		cat = append(cat, s[:]...)
	}
	s := md5.Sum(cat)
	return fmt.Sprintf(`"%s-%d"`, hex.EncodeToString(s[:]), len(parts))
}

// upload starts a multipart upload and returns its id.
func (e *env) upload(bucket, key string) *string {
	e.t.Helper()
	out, err := e.s3.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		e.t.Fatalf("CreateMultipartUpload %s/%s: %v", bucket, key, err)
	}
	return out.UploadId
}

// part uploads one part and returns its completion entry.
func (e *env) part(bucket, key string, id *string, n int32, body []byte) types.CompletedPart {
	e.t.Helper()
	out, err := e.s3.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(bucket), Key: aws.String(key), UploadId: id,
		PartNumber: aws.Int32(n), Body: bytes.NewReader(body)})
	if err != nil {
		e.t.Fatalf("UploadPart %d: %v", n, err)
	}
	if got, want := aws.ToString(out.ETag), `"`+md5hex(body)+`"`; got != want {
		e.t.Errorf("UploadPart %d ETag: got %s, want %s", n, got, want)
	}
	return types.CompletedPart{PartNumber: aws.Int32(n), ETag: out.ETag}
}

func (e *env) complete(bucket, key string, id *string, parts ...types.CompletedPart) (*s3.CompleteMultipartUploadOutput, error) {
	return e.s3.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key), UploadId: id,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}})
}

func TestMultipart(t *testing.T) {
	e := newEnv(t)
	b := e.bucket()
	p1, p2, p3 := pattern(minPart), bytes.Repeat([]byte("0123456789abcdef"), minPart/16), []byte("tail part")
	whole := slices.Concat(p1, p2, p3)

	t.Run("RoundTrip", func(t *testing.T) {
		mpu, err := e.s3.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(b), Key: aws.String("mp"),
			ContentType: aws.String("video/x-test"), Metadata: map[string]string{"m": "v"}, Tagging: aws.String("k=v")})
		if err != nil {
			t.Fatalf("CreateMultipartUpload: %v", err)
		}
		if aws.ToString(mpu.Bucket) != b || aws.ToString(mpu.Key) != "mp" || aws.ToString(mpu.UploadId) == "" {
			t.Errorf("CreateMultipartUpload: got bucket %q key %q id %q", aws.ToString(mpu.Bucket), aws.ToString(mpu.Key), aws.ToString(mpu.UploadId))
		}
		id := mpu.UploadId
		// Out of order, and part 2 uploaded twice: the last one counts.
		c3 := e.part(b, "mp", id, 3, p3)
		e.part(b, "mp", id, 2, []byte("replaced later"))
		c1 := e.part(b, "mp", id, 1, p1)
		c2 := e.part(b, "mp", id, 2, p2)
		if e.exists(b, "mp") {
			t.Errorf("object visible before CompleteMultipartUpload")
		}
		out, err := e.complete(b, "mp", id, c1, c2, c3)
		if err != nil {
			t.Fatalf("CompleteMultipartUpload: %v", err)
		}
		want := multipartETag(p1, p2, p3)
		if got := aws.ToString(out.ETag); got != want {
			t.Errorf("ETag: got %s, want %s", got, want)
		}
		if aws.ToString(out.Bucket) != b || aws.ToString(out.Key) != "mp" || aws.ToString(out.Location) == "" {
			t.Errorf("Complete result: got bucket %q key %q location %q", aws.ToString(out.Bucket), aws.ToString(out.Key), aws.ToString(out.Location))
		}
		if got := e.get(b, "mp"); !bytes.Equal(got, whole) {
			t.Errorf("GetObject: got %d bytes, want %d (equal: false)", len(got), len(whole))
		}
		h, err := e.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String("mp")})
		if err != nil {
			t.Fatalf("HeadObject: %v", err)
		}
		if aws.ToString(h.ETag) != want || aws.ToString(h.ContentType) != "video/x-test" || h.Metadata["m"] != "v" {
			t.Errorf("HeadObject: got ETag %s type %q meta %v, want %s video/x-test m=v", aws.ToString(h.ETag), aws.ToString(h.ContentType), h.Metadata, want)
		}
		if got := aws.ToInt64(h.ContentLength); got != int64(len(whole)) {
			t.Errorf("Content-Length: got %d, want %d", got, len(whole))
		}
		tg, err := e.s3.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String(b), Key: aws.String("mp")})
		if err != nil || len(tg.TagSet) != 1 || aws.ToString(tg.TagSet[0].Key) != "k" {
			t.Errorf("tags: got %+v (%v), want k=v", tg, err)
		}
		// The upload is gone.
		_, err = e.s3.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String(b), Key: aws.String("mp"), UploadId: id})
		wantErr(t, err, "NoSuchUpload", http.StatusNotFound)
		_, err = e.complete(b, "mp", id, c1, c2, c3)
		wantErr(t, err, "NoSuchUpload", http.StatusNotFound)
	})

	t.Run("GetPartNumber", func(t *testing.T) {
		offsets := []int{0, len(p1), len(p1) + len(p2), len(whole)}
		for i := range 3 {
			n := int32(i + 1)
			out, err := e.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("mp"), PartNumber: aws.Int32(n)})
			if err != nil {
				t.Fatalf("GetObject part %d: %v", n, err)
			}
			got := readAll(t, out.Body)
			if !bytes.Equal(got, whole[offsets[i]:offsets[i+1]]) {
				t.Errorf("part %d: got %d bytes, want %d", n, len(got), offsets[i+1]-offsets[i])
			}
			if got := aws.ToInt32(out.PartsCount); got != 3 {
				t.Errorf("part %d PartsCount: got %d, want 3", n, got)
			}
			if got, want := aws.ToString(out.ContentRange), fmt.Sprintf("bytes %d-%d/%d", offsets[i], offsets[i+1]-1, len(whole)); got != want {
				t.Errorf("part %d Content-Range: got %q, want %q", n, got, want)
			}
			if got := httpStatusOf(out.ResultMetadata); got != http.StatusPartialContent {
				t.Errorf("part %d status: got %d, want 206", n, got)
			}
			if got, want := aws.ToString(out.ETag), multipartETag(p1, p2, p3); got != want {
				t.Errorf("part %d ETag: got %s, want the object's %s", n, got, want)
			}
			h, err := e.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String("mp"), PartNumber: aws.Int32(n)})
			if err != nil {
				t.Fatalf("HeadObject part %d: %v", n, err)
			}
			if got := aws.ToInt64(h.ContentLength); got != int64(offsets[i+1]-offsets[i]) {
				t.Errorf("HeadObject part %d Content-Length: got %d, want %d", n, got, offsets[i+1]-offsets[i])
			}
		}
		_, err := e.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("mp"), PartNumber: aws.Int32(4)})
		wantErr(t, err, "InvalidPartNumber", http.StatusRequestedRangeNotSatisfiable)
		_, err = e.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String("mp"), PartNumber: aws.Int32(4)})
		if got := status(err); got != http.StatusRequestedRangeNotSatisfiable {
			t.Errorf("HeadObject part 4: got status %d, want 416", got)
		}
		_, err = e.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("mp"), PartNumber: aws.Int32(10001)})
		wantErr(t, err, "InvalidArgument", http.StatusBadRequest)
		_, err = e.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("mp"), PartNumber: aws.Int32(1), Range: aws.String("bytes=0-1")})
		wantErr(t, err, "InvalidRequest", http.StatusBadRequest)

		// A single-part object has exactly one part: the whole object.
		e.put(b, "single", []byte("single"))
		out, err := e.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("single"), PartNumber: aws.Int32(1)})
		if err != nil {
			t.Fatalf("GetObject single part 1: %v", err)
		}
		if got := readAll(t, out.Body); string(got) != "single" {
			t.Errorf("single part 1: got %q, want %q", got, "single")
		}
		_, err = e.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("single"), PartNumber: aws.Int32(2)})
		wantErr(t, err, "InvalidPartNumber", http.StatusRequestedRangeNotSatisfiable)
	})

	t.Run("RangeAcrossParts", func(t *testing.T) {
		for _, r := range [][2]int{{minPart - 10, minPart + 9}, {2*minPart - 3, 2*minPart + 4}, {minPart - 1, 2 * minPart}, {0, len(whole) - 1}} {
			out, err := e.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("mp"), Range: aws.String(fmt.Sprintf("bytes=%d-%d", r[0], r[1]))})
			if err != nil {
				t.Fatalf("GetObject %v: %v", r, err)
			}
			if got := readAll(t, out.Body); !bytes.Equal(got, whole[r[0]:r[1]+1]) {
				t.Errorf("range %v: got %d bytes, want %d (equal: false)", r, len(got), r[1]-r[0]+1)
			}
		}
	})

	t.Run("CompleteErrors", func(t *testing.T) {
		id := e.upload(b, "bad")
		small1 := e.part(b, "bad", id, 1, []byte("small one"))
		small2 := e.part(b, "bad", id, 2, []byte("small two"))
		tests := []struct {
			name   string
			parts  []types.CompletedPart
			code   string
			status int
		}{
			{"WrongOrder", []types.CompletedPart{small2, small1}, "InvalidPartOrder", 400},
			{"Duplicate", []types.CompletedPart{small1, small1}, "InvalidPartOrder", 400},
			{"WrongETag", []types.CompletedPart{{PartNumber: aws.Int32(1), ETag: aws.String(`"00000000000000000000000000000000"`)}}, "InvalidPart", 400},
			{"MissingPart", []types.CompletedPart{{PartNumber: aws.Int32(7), ETag: small1.ETag}}, "InvalidPart", 400},
			{"SmallNonLastPart", []types.CompletedPart{small1, small2}, "EntityTooSmall", 400},
			{"Empty", []types.CompletedPart{}, "MalformedXML", 400},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				_, err := e.complete(b, "bad", id, tc.parts...)
				wantErr(t, err, tc.code, tc.status)
			})
		}
		_, err := e.s3.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(b), Key: aws.String("bad"), UploadId: id})
		wantErr(t, err, "MalformedXML", http.StatusBadRequest)
		if e.exists(b, "bad") {
			t.Fatalf("object created by a failed CompleteMultipartUpload")
		}
		// The upload survived every failure; a small last part is fine.
		if _, err := e.complete(b, "bad", id, small2); err != nil {
			t.Fatalf("CompleteMultipartUpload with one part: %v", err)
		}
		if got := e.get(b, "bad"); string(got) != "small two" {
			t.Errorf("GetObject: got %q, want %q", got, "small two")
		}
		_, err = e.complete(b, "bad", aws.String("no-such-upload-id"), small1)
		wantErr(t, err, "NoSuchUpload", http.StatusNotFound)
		// An upload id belongs to its key.
		id2 := e.upload(b, "key-a")
		pa := e.part(b, "key-a", id2, 1, []byte("x"))
		_, err = e.complete(b, "key-b", id2, pa)
		wantErr(t, err, "NoSuchUpload", http.StatusNotFound)
	})

	t.Run("UploadPartErrors", func(t *testing.T) {
		id := e.upload(b, "parts")
		for _, n := range []int32{0, 10001, -1} {
			_, err := e.s3.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(b), Key: aws.String("parts"), UploadId: id, PartNumber: aws.Int32(n), Body: strings.NewReader("x")})
			wantErr(t, err, "InvalidArgument", http.StatusBadRequest)
		}
		_, err := e.s3.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(b), Key: aws.String("parts"), UploadId: aws.String("bogus"), PartNumber: aws.Int32(1), Body: strings.NewReader("x")})
		wantErr(t, err, "NoSuchUpload", http.StatusNotFound)
	})

	t.Run("Abort", func(t *testing.T) {
		before := e.blobFiles()
		id := e.upload(b, "aborted")
		c1 := e.part(b, "aborted", id, 1, []byte("part one"))
		e.part(b, "aborted", id, 2, []byte("part two"))
		if got := e.blobFiles(); got != before+2 {
			t.Errorf("blob files with two parts: got %d, want %d", got, before+2)
		}
		out, err := e.s3.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String(b), Key: aws.String("aborted"), UploadId: id})
		if err != nil {
			t.Fatalf("AbortMultipartUpload: %v", err)
		}
		if got := httpStatusOf(out.ResultMetadata); got != http.StatusNoContent {
			t.Errorf("AbortMultipartUpload status: got %d, want 204", got)
		}
		if got := e.blobFiles(); got != before {
			t.Errorf("blob files after abort: got %d, want %d", got, before)
		}
		ops := map[string]func() error{
			"ListParts": func() error {
				_, err := e.s3.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String(b), Key: aws.String("aborted"), UploadId: id})
				return err
			},
			"UploadPart": func() error {
				_, err := e.s3.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(b), Key: aws.String("aborted"), UploadId: id, PartNumber: aws.Int32(3), Body: strings.NewReader("x")})
				return err
			},
			"Complete": func() error { _, err := e.complete(b, "aborted", id, c1); return err },
			"AbortAgain": func() error {
				_, err := e.s3.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String(b), Key: aws.String("aborted"), UploadId: id})
				return err
			},
		}
		for name, op := range ops {
			t.Run(name, func(t *testing.T) { wantErr(t, op(), "NoSuchUpload", http.StatusNotFound) })
		}
		if e.exists(b, "aborted") {
			t.Errorf("aborted upload left an object")
		}
	})

	t.Run("ListPartsPaging", func(t *testing.T) {
		id := e.upload(b, "many-parts")
		var want []int32
		for n := int32(1); n <= 12; n++ {
			e.part(b, "many-parts", id, n, []byte(strings.Repeat("p", int(n))))
			want = append(want, n)
		}
		var got []int32
		marker := ""
		for page := 0; ; page++ {
			if page > 5 {
				t.Fatalf("ListParts does not end")
			}
			in := &s3.ListPartsInput{Bucket: aws.String(b), Key: aws.String("many-parts"), UploadId: id, MaxParts: aws.Int32(5)}
			if marker != "" {
				in.PartNumberMarker = aws.String(marker)
			}
			out, err := e.s3.ListParts(ctx, in)
			if err != nil {
				t.Fatalf("ListParts: %v", err)
			}
			if aws.ToInt32(out.MaxParts) != 5 || aws.ToString(out.UploadId) != aws.ToString(id) || aws.ToString(out.Key) != "many-parts" {
				t.Errorf("ListParts: got MaxParts %d id %q key %q", aws.ToInt32(out.MaxParts), aws.ToString(out.UploadId), aws.ToString(out.Key))
			}
			if out.Initiator == nil || out.Owner == nil || aws.ToString(out.Owner.ID) == "" {
				t.Errorf("ListParts: Initiator/Owner missing")
			}
			for _, p := range out.Parts {
				n := aws.ToInt32(p.PartNumber)
				got = append(got, n)
				if aws.ToInt64(p.Size) != int64(n) || aws.ToString(p.ETag) != `"`+md5hex([]byte(strings.Repeat("p", int(n))))+`"` {
					t.Errorf("part %d: got size %d ETag %s", n, aws.ToInt64(p.Size), aws.ToString(p.ETag))
				}
			}
			if !aws.ToBool(out.IsTruncated) {
				break
			}
			marker = aws.ToString(out.NextPartNumberMarker)
		}
		if !slices.Equal(got, want) {
			t.Errorf("parts: got %v, want %v", got, want)
		}
		_, err := e.s3.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String(b), Key: aws.String("many-parts"), UploadId: aws.String("nope")})
		wantErr(t, err, "NoSuchUpload", http.StatusNotFound)
	})

	t.Run("UploadPartCopy", func(t *testing.T) {
		src := pattern(minPart + 1000)
		e.put(b, "copy-src", src)
		id := e.upload(b, "assembled")
		cp := func(n int32, source, rng string) (*s3.UploadPartCopyOutput, error) {
			in := &s3.UploadPartCopyInput{Bucket: aws.String(b), Key: aws.String("assembled"), UploadId: id, PartNumber: aws.Int32(n), CopySource: aws.String(b + "/" + source)}
			if rng != "" {
				in.CopySourceRange = aws.String(rng)
			}
			return e.s3.UploadPartCopy(ctx, in)
		}
		var parts []types.CompletedPart
		var want [][]byte
		for i, c := range []struct {
			source, rng string
			body        []byte
		}{
			{"copy-src", fmt.Sprintf("bytes=0-%d", minPart-1), src[:minPart]},
			{"copy-src", "", src},
			{"copy-src", fmt.Sprintf("bytes=%d-%d", minPart-500, minPart+999), src[minPart-500:]},
		} {
			out, err := cp(int32(i+1), c.source, c.rng)
			if err != nil {
				t.Fatalf("UploadPartCopy %d: %v", i+1, err)
			}
			if got, w := aws.ToString(out.CopyPartResult.ETag), `"`+md5hex(c.body)+`"`; got != w {
				t.Errorf("UploadPartCopy %d ETag: got %s, want %s", i+1, got, w)
			}
			parts = append(parts, types.CompletedPart{PartNumber: aws.Int32(int32(i + 1)), ETag: out.CopyPartResult.ETag})
			want = append(want, c.body)
		}
		out, err := e.complete(b, "assembled", id, parts...)
		if err != nil {
			t.Fatalf("CompleteMultipartUpload: %v", err)
		}
		if got, w := aws.ToString(out.ETag), multipartETag(want...); got != w {
			t.Errorf("ETag: got %s, want %s", got, w)
		}
		if got := e.get(b, "assembled"); !bytes.Equal(got, slices.Concat(want...)) {
			t.Errorf("assembled object differs from its sources")
		}

		id = e.upload(b, "copy-errors")
		for _, rng := range []string{fmt.Sprintf("bytes=0-%d", minPart+1000), "bytes=10-5", "bytes=-5", "bytes=5-", "junk"} {
			in := &s3.UploadPartCopyInput{Bucket: aws.String(b), Key: aws.String("copy-errors"), UploadId: id, PartNumber: aws.Int32(1),
				CopySource: aws.String(b + "/copy-src"), CopySourceRange: aws.String(rng)}
			_, err := e.s3.UploadPartCopy(ctx, in)
			wantErr(t, err, "InvalidArgument", http.StatusBadRequest)
		}
		_, err = e.s3.UploadPartCopy(ctx, &s3.UploadPartCopyInput{Bucket: aws.String(b), Key: aws.String("copy-errors"), UploadId: id, PartNumber: aws.Int32(1),
			CopySource: aws.String(b + "/copy-src"), CopySourceIfMatch: aws.String(`"0000"`)})
		wantErr(t, err, "PreconditionFailed", http.StatusPreconditionFailed)
		_, err = e.s3.UploadPartCopy(ctx, &s3.UploadPartCopyInput{Bucket: aws.String(b), Key: aws.String("copy-errors"), UploadId: id, PartNumber: aws.Int32(1),
			CopySource: aws.String(b + "/nothing-here")})
		wantErr(t, err, "NoSuchKey", http.StatusNotFound)
		_, err = e.s3.UploadPartCopy(ctx, &s3.UploadPartCopyInput{Bucket: aws.String(b), Key: aws.String("copy-errors"), UploadId: aws.String("nope"), PartNumber: aws.Int32(1),
			CopySource: aws.String(b + "/copy-src")})
		wantErr(t, err, "NoSuchUpload", http.StatusNotFound)
	})
}

func TestListMultipartUploads(t *testing.T) {
	e := newEnv(t)
	b := e.bucket()
	type up struct{ key, id string }
	var all []up
	for _, k := range []string{"a/1", "a/2", "a/2", "b/1", "c", "a/2"} {
		all = append(all, up{k, aws.ToString(e.upload(b, k))})
	}
	// S3 order: by key, then by initiation time.
	slices.SortStableFunc(all, func(x, y up) int { return strings.Compare(x.key, y.key) })

	t.Run("All", func(t *testing.T) {
		out, err := e.s3.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(b)})
		if err != nil {
			t.Fatalf("ListMultipartUploads: %v", err)
		}
		var got []up
		for _, u := range out.Uploads {
			got = append(got, up{aws.ToString(u.Key), aws.ToString(u.UploadId)})
			if u.Initiated == nil || u.Initiator == nil || u.Owner == nil || u.StorageClass != types.StorageClassStandard {
				t.Errorf("upload %s: got Initiated %v Initiator %v Owner %v class %q", aws.ToString(u.Key), u.Initiated, u.Initiator, u.Owner, u.StorageClass)
			}
		}
		if !slices.Equal(got, all) {
			t.Errorf("uploads: got %v, want %v", got, all)
		}
		if aws.ToString(out.Bucket) != b || aws.ToBool(out.IsTruncated) {
			t.Errorf("got bucket %q truncated %v, want %q false", aws.ToString(out.Bucket), aws.ToBool(out.IsTruncated), b)
		}
	})

	t.Run("Prefix", func(t *testing.T) {
		out, err := e.s3.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(b), Prefix: aws.String("a/")})
		if err != nil {
			t.Fatalf("ListMultipartUploads: %v", err)
		}
		if len(out.Uploads) != 4 || aws.ToString(out.Prefix) != "a/" {
			t.Errorf("prefix a/: got %d uploads, prefix %q; want 4, a/", len(out.Uploads), aws.ToString(out.Prefix))
		}
	})

	t.Run("Delimiter", func(t *testing.T) {
		out, err := e.s3.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(b), Delimiter: aws.String("/")})
		if err != nil {
			t.Fatalf("ListMultipartUploads: %v", err)
		}
		var prefixes, keys []string
		for _, p := range out.CommonPrefixes {
			prefixes = append(prefixes, aws.ToString(p.Prefix))
		}
		for _, u := range out.Uploads {
			keys = append(keys, aws.ToString(u.Key))
		}
		if !slices.Equal(prefixes, []string{"a/", "b/"}) || !slices.Equal(keys, []string{"c"}) {
			t.Errorf("delimiter /: got prefixes %q uploads %q, want [a/ b/] [c]", prefixes, keys)
		}
	})

	t.Run("Paging", func(t *testing.T) {
		var got []up
		keyMarker, idMarker := "", ""
		for page := 0; ; page++ {
			if page > 10 {
				t.Fatalf("ListMultipartUploads does not end")
			}
			in := &s3.ListMultipartUploadsInput{Bucket: aws.String(b), MaxUploads: aws.Int32(2)}
			if keyMarker != "" {
				in.KeyMarker, in.UploadIdMarker = aws.String(keyMarker), aws.String(idMarker)
			}
			out, err := e.s3.ListMultipartUploads(ctx, in)
			if err != nil {
				t.Fatalf("ListMultipartUploads: %v", err)
			}
			if len(out.Uploads) > 2 {
				t.Errorf("page %d: got %d uploads, want at most 2", page, len(out.Uploads))
			}
			for _, u := range out.Uploads {
				got = append(got, up{aws.ToString(u.Key), aws.ToString(u.UploadId)})
			}
			if !aws.ToBool(out.IsTruncated) {
				break
			}
			keyMarker, idMarker = aws.ToString(out.NextKeyMarker), aws.ToString(out.NextUploadIdMarker)
		}
		if !slices.Equal(got, all) {
			t.Errorf("paged uploads: got %v, want %v", got, all)
		}
		// A key marker alone skips every upload of that key.
		out, err := e.s3.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(b), KeyMarker: aws.String("a/2")})
		if err != nil {
			t.Fatalf("ListMultipartUploads: %v", err)
		}
		var keys []string
		for _, u := range out.Uploads {
			keys = append(keys, aws.ToString(u.Key))
		}
		if !slices.Equal(keys, []string{"b/1", "c"}) {
			t.Errorf("key-marker a/2: got %q, want [b/1 c]", keys)
		}
	})
}

func TestManagerUploader(t *testing.T) {
	e := newEnv(t)
	b := e.bucket()
	body := pattern(20 << 20)
	up := manager.NewUploader(e.s3, func(u *manager.Uploader) { u.PartSize = 5 << 20; u.Concurrency = 4 })
	out, err := up.Upload(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("big/object.bin"), Body: bytes.NewReader(body)})
	if err != nil {
		t.Fatalf("Upload: %v", err)
	}
	if len(out.CompletedParts) != 4 {
		t.Errorf("parts: got %d, want 4", len(out.CompletedParts))
	}
	parts := [][]byte{body[:5<<20], body[5<<20 : 10<<20], body[10<<20 : 15<<20], body[15<<20:]}
	if got, want := aws.ToString(out.ETag), multipartETag(parts...); got != want {
		t.Errorf("ETag: got %s, want %s", got, want)
	}
	if got := e.get(b, "big/object.bin"); !bytes.Equal(got, body) {
		t.Errorf("GetObject: got %d bytes, want %d (equal: false)", len(got), len(body))
	}
	// The downloader reads it back with ranged GETs.
	buf := manager.NewWriteAtBuffer(make([]byte, 0, len(body)))
	n, err := manager.NewDownloader(e.s3, func(d *manager.Downloader) { d.PartSize = 3 << 20 }).
		Download(ctx, buf, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("big/object.bin")})
	if err != nil {
		t.Fatalf("Download: %v", err)
	}
	if n != int64(len(body)) || !bytes.Equal(buf.Bytes(), body) {
		t.Errorf("Download: got %d bytes (equal %v), want %d", n, bytes.Equal(buf.Bytes(), body), len(body))
	}
	// A small body goes as a single PutObject.
	out, err = up.Upload(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("small"), Body: bytes.NewReader([]byte("tiny"))})
	if err != nil {
		t.Fatalf("Upload small: %v", err)
	}
	if got := e.get(b, "small"); string(got) != "tiny" {
		t.Errorf("small: got %q, want tiny", got)
	}
	ups, err := e.s3.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(b)})
	if err != nil {
		t.Fatalf("ListMultipartUploads: %v", err)
	}
	if len(ups.Uploads) != 0 {
		t.Errorf("uploads left after Upload: got %d, want 0", len(ups.Uploads))
	}
}
