package s3api_test

import (
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"hash"
	"hash/crc32"
	"hash/crc64"
	"net/http"
	"slices"
	"strconv"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// newHash returns the hash of an S3 checksum algorithm, computed
// independently of the server's implementation.
func newHash(a types.ChecksumAlgorithm) hash.Hash {
	switch a {
	case types.ChecksumAlgorithmCrc32:
		return crc32.NewIEEE()
	case types.ChecksumAlgorithmCrc32c:
		return crc32.New(crc32.MakeTable(crc32.Castagnoli))
	case types.ChecksumAlgorithmCrc64nvme:
		return crc64.New(crc64.MakeTable(0x9a6c9329ac4bc9b5))
	case types.ChecksumAlgorithmSha1:
		return sha1.New()
	case types.ChecksumAlgorithmSha256:
		return sha256.New()
	}
	panic("unknown algorithm " + a)
}

func rawSum(a types.ChecksumAlgorithm, b []byte) []byte {
	h := newHash(a)
	h.Write(b)
	return h.Sum(nil)
}

func sum64(a types.ChecksumAlgorithm, b []byte) string {
	return base64.StdEncoding.EncodeToString(rawSum(a, b))
}

// checksumOf picks the field for a out of an SDK output's checksums.
func checksumOf(a types.ChecksumAlgorithm, crc32, crc32c, crc64, sha1, sha256 *string) string {
	return aws.ToString(map[types.ChecksumAlgorithm]*string{
		types.ChecksumAlgorithmCrc32: crc32, types.ChecksumAlgorithmCrc32c: crc32c, types.ChecksumAlgorithmCrc64nvme: crc64,
		types.ChecksumAlgorithmSha1: sha1, types.ChecksumAlgorithmSha256: sha256,
	}[a])
}

var algorithms = []types.ChecksumAlgorithm{
	types.ChecksumAlgorithmCrc32, types.ChecksumAlgorithmCrc32c, types.ChecksumAlgorithmSha1,
	types.ChecksumAlgorithmSha256, types.ChecksumAlgorithmCrc64nvme,
}

func TestChecksums(t *testing.T) {
	e := newEnv(t)
	b := e.bucket()
	clients := []struct {
		name   string
		client *s3.Client
	}{{"header", e.s3}, {"trailer", e.tls}}

	for _, alg := range algorithms {
		for _, c := range clients {
			for _, size := range []int{11, 200 << 10} {
				name := string(alg) + "/" + c.name + "/" + strconv.Itoa(size)
				t.Run(name, func(t *testing.T) {
					body := pattern(size)
					want := sum64(alg, body)
					put, err := c.client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String(name), Body: bytes.NewReader(body), ChecksumAlgorithm: alg})
					if err != nil {
						t.Fatalf("PutObject: %v", err)
					}
					if got := checksumOf(alg, put.ChecksumCRC32, put.ChecksumCRC32C, put.ChecksumCRC64NVME, put.ChecksumSHA1, put.ChecksumSHA256); got != want {
						t.Errorf("PutObject checksum: got %q, want %q", got, want)
					}
					get, err := e.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String(name), ChecksumMode: types.ChecksumModeEnabled})
					if err != nil {
						t.Fatalf("GetObject: %v", err)
					}
					if got := readAll(t, get.Body); !bytes.Equal(got, body) {
						t.Errorf("body differs")
					}
					if got := checksumOf(alg, get.ChecksumCRC32, get.ChecksumCRC32C, get.ChecksumCRC64NVME, get.ChecksumSHA1, get.ChecksumSHA256); got != want {
						t.Errorf("GetObject checksum: got %q, want %q", got, want)
					}
					if get.ChecksumType != types.ChecksumTypeFullObject {
						t.Errorf("GetObject checksum type: got %q, want FULL_OBJECT", get.ChecksumType)
					}
					head, err := e.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String(name), ChecksumMode: types.ChecksumModeEnabled})
					if err != nil {
						t.Fatalf("HeadObject: %v", err)
					}
					if got := checksumOf(alg, head.ChecksumCRC32, head.ChecksumCRC32C, head.ChecksumCRC64NVME, head.ChecksumSHA1, head.ChecksumSHA256); got != want {
						t.Errorf("HeadObject checksum: got %q, want %q", got, want)
					}
					// Without checksum mode, no checksum header.
					head, err = e.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String(name)})
					if err != nil {
						t.Fatalf("HeadObject: %v", err)
					}
					if got := checksumOf(alg, head.ChecksumCRC32, head.ChecksumCRC32C, head.ChecksumCRC64NVME, head.ChecksumSHA1, head.ChecksumSHA256); got != "" {
						t.Errorf("HeadObject checksum without checksum mode: got %q, want none", got)
					}
				})
			}
		}
	}

	t.Run("ListShowsAlgorithm", func(t *testing.T) {
		out, err := e.s3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(b), Prefix: aws.String("SHA1/header/11")})
		if err != nil {
			t.Fatalf("ListObjectsV2: %v", err)
		}
		if len(out.Contents) != 1 || !slices.Equal(out.Contents[0].ChecksumAlgorithm, []types.ChecksumAlgorithm{types.ChecksumAlgorithmSha1}) {
			t.Errorf("ListObjectsV2: got %+v, want one entry with ChecksumAlgorithm [SHA1]", out.Contents)
		}
	})

	t.Run("WrongChecksumHeader", func(t *testing.T) {
		body := []byte("checksummed body")
		for _, tc := range []struct {
			header, value string
		}{
			{"x-amz-checksum-crc32", sum64(types.ChecksumAlgorithmCrc32, []byte("other"))},
			{"x-amz-checksum-crc32c", sum64(types.ChecksumAlgorithmCrc32c, []byte("other"))},
			{"x-amz-checksum-crc64nvme", sum64(types.ChecksumAlgorithmCrc64nvme, []byte("other"))},
			{"x-amz-checksum-sha1", sum64(types.ChecksumAlgorithmSha1, []byte("other"))},
			{"x-amz-checksum-sha256", sum64(types.ChecksumAlgorithmSha256, []byte("other"))},
		} {
			resp, rb := e.raw(http.MethodPut, "/"+b+"/bad-sum", body, rawOpts{header: http.Header{http.CanonicalHeaderKey(tc.header): {tc.value}}})
			wantXMLError(t, resp, rb, "BadDigest", http.StatusBadRequest)
		}
		// A large body (a blob) is not kept either.
		before := e.blobFiles()
		big := pattern(300 << 10)
		resp, rb := e.raw(http.MethodPut, "/"+b+"/bad-sum", big, rawOpts{header: http.Header{"X-Amz-Checksum-Crc32": {sum64(types.ChecksumAlgorithmCrc32, body)}}})
		wantXMLError(t, resp, rb, "BadDigest", http.StatusBadRequest)
		if e.exists(b, "bad-sum") {
			t.Errorf("object stored despite BadDigest")
		}
		if got := e.blobFiles(); got != before {
			t.Errorf("blob files after BadDigest: got %d, want %d", got, before)
		}
		// Nor does a failed overwrite touch the existing object.
		e.put(b, "kept", []byte("original"))
		resp, rb = e.raw(http.MethodPut, "/"+b+"/kept", body, rawOpts{header: http.Header{"X-Amz-Checksum-Crc32": {sum64(types.ChecksumAlgorithmCrc32, []byte("nope"))}}})
		wantXMLError(t, resp, rb, "BadDigest", http.StatusBadRequest)
		if got := e.get(b, "kept"); string(got) != "original" {
			t.Errorf("object after failed overwrite: got %q, want %q", got, "original")
		}
		// Right value: stored.
		resp, rb = e.raw(http.MethodPut, "/"+b+"/good-sum", body, rawOpts{header: http.Header{"X-Amz-Checksum-Crc32": {sum64(types.ChecksumAlgorithmCrc32, body)}}})
		if resp.StatusCode != 200 || resp.Header.Get("x-amz-checksum-crc32") != sum64(types.ChecksumAlgorithmCrc32, body) {
			t.Errorf("PUT with the right checksum: got %d %q %s", resp.StatusCode, resp.Header.Get("x-amz-checksum-crc32"), rb)
		}
		// The SDK sends a caller-provided value as it is.
		_, err := e.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("bad-sum"), Body: bytes.NewReader(body),
			ChecksumSHA256: aws.String(sum64(types.ChecksumAlgorithmSha256, []byte("x")))})
		wantErr(t, err, "BadDigest", http.StatusBadRequest)
	})

	t.Run("InvalidChecksumValue", func(t *testing.T) {
		for _, v := range []string{"not base64!", "AAAA", base64.StdEncoding.EncodeToString(make([]byte, 8))} {
			resp, rb := e.raw(http.MethodPut, "/"+b+"/bad-value", []byte("x"), rawOpts{header: http.Header{"X-Amz-Checksum-Crc32": {v}}})
			wantXMLError(t, resp, rb, "InvalidRequest", http.StatusBadRequest)
		}
		resp, rb := e.raw(http.MethodPut, "/"+b+"/two-sums", []byte("x"), rawOpts{header: http.Header{
			"X-Amz-Checksum-Crc32": {sum64(types.ChecksumAlgorithmCrc32, []byte("x"))}, "X-Amz-Checksum-Sha1": {sum64(types.ChecksumAlgorithmSha1, []byte("x"))}}})
		wantXMLError(t, resp, rb, "InvalidRequest", http.StatusBadRequest)
		if e.exists(b, "bad-value") || e.exists(b, "two-sums") {
			t.Errorf("object stored despite an invalid checksum header")
		}
	})

	t.Run("ContentMD5", func(t *testing.T) {
		body := []byte("md5 checked")
		good := md5.Sum(body)
		bad := md5.Sum([]byte("something else"))
		if _, err := e.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("md5"), Body: bytes.NewReader(body),
			ContentMD5: aws.String(base64.StdEncoding.EncodeToString(good[:]))}); err != nil {
			t.Fatalf("PutObject with the right Content-MD5: %v", err)
		}
		_, err := e.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("md5-bad"), Body: bytes.NewReader(body),
			ContentMD5: aws.String(base64.StdEncoding.EncodeToString(bad[:]))})
		wantErr(t, err, "BadDigest", http.StatusBadRequest)
		for _, v := range []string{"not-base64!!", base64.StdEncoding.EncodeToString([]byte("short"))} {
			_, err = e.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("md5-bad"), Body: bytes.NewReader(body), ContentMD5: aws.String(v)})
			wantErr(t, err, "InvalidDigest", http.StatusBadRequest)
		}
		if e.exists(b, "md5-bad") {
			t.Errorf("object stored despite a bad Content-MD5")
		}
		resp, rb := e.raw(http.MethodPut, "/"+b+"/md5-raw", body, rawOpts{header: http.Header{"Content-Md5": {base64.StdEncoding.EncodeToString(bad[:])}}})
		wantXMLError(t, resp, rb, "BadDigest", http.StatusBadRequest)
		// Also on a part.
		id := e.upload(b, "md5-part")
		_, err = e.s3.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(b), Key: aws.String("md5-part"), UploadId: id, PartNumber: aws.Int32(1),
			Body: bytes.NewReader(body), ContentMD5: aws.String(base64.StdEncoding.EncodeToString(bad[:]))})
		wantErr(t, err, "BadDigest", http.StatusBadRequest)
	})

	t.Run("CopyObject", func(t *testing.T) {
		body := pattern(1000)
		e.put(b, "copy-src", body)
		out, err := e.s3.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(b), Key: aws.String("copy-dst"), CopySource: aws.String(b + "/copy-src"),
			ChecksumAlgorithm: types.ChecksumAlgorithmSha256})
		if err != nil {
			t.Fatalf("CopyObject: %v", err)
		}
		if got, want := aws.ToString(out.CopyObjectResult.ChecksumSHA256), sum64(types.ChecksumAlgorithmSha256, body); got != want {
			t.Errorf("CopyObject SHA256: got %q, want %q", got, want)
		}
	})
}

// composite is S3's COMPOSITE multipart checksum.
func composite(a types.ChecksumAlgorithm, parts ...[]byte) string {
	var cat []byte
	for _, p := range parts {
		cat = append(cat, rawSum(a, p)...)
	}
	return sum64(a, cat) + "-" + strconv.Itoa(len(parts))
}

func TestMultipartChecksums(t *testing.T) {
	e := newEnv(t)
	b := e.bucket()
	p1, p2 := pattern(minPart), []byte("the short last part")
	whole := slices.Concat(p1, p2)
	tests := []struct {
		alg    types.ChecksumAlgorithm
		typ    types.ChecksumType // "" for the default
		client *s3.Client
		want   string
		wantT  types.ChecksumType
	}{
		{types.ChecksumAlgorithmCrc32, "", e.s3, composite(types.ChecksumAlgorithmCrc32, p1, p2), types.ChecksumTypeComposite},
		{types.ChecksumAlgorithmCrc32c, types.ChecksumTypeComposite, e.tls, composite(types.ChecksumAlgorithmCrc32c, p1, p2), types.ChecksumTypeComposite},
		{types.ChecksumAlgorithmSha256, "", e.tls, composite(types.ChecksumAlgorithmSha256, p1, p2), types.ChecksumTypeComposite},
		{types.ChecksumAlgorithmSha1, types.ChecksumTypeComposite, e.s3, composite(types.ChecksumAlgorithmSha1, p1, p2), types.ChecksumTypeComposite},
		{types.ChecksumAlgorithmCrc32, types.ChecksumTypeFullObject, e.tls, sum64(types.ChecksumAlgorithmCrc32, whole), types.ChecksumTypeFullObject},
		{types.ChecksumAlgorithmCrc32c, types.ChecksumTypeFullObject, e.s3, sum64(types.ChecksumAlgorithmCrc32c, whole), types.ChecksumTypeFullObject},
		{types.ChecksumAlgorithmCrc64nvme, "", e.tls, sum64(types.ChecksumAlgorithmCrc64nvme, whole), types.ChecksumTypeFullObject},
	}
	for _, tc := range tests {
		name := string(tc.alg) + "-" + string(tc.wantT)
		t.Run(name, func(t *testing.T) {
			key := "mp-" + name
			mpu, err := tc.client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(b), Key: aws.String(key),
				ChecksumAlgorithm: tc.alg, ChecksumType: tc.typ})
			if err != nil {
				t.Fatalf("CreateMultipartUpload: %v", err)
			}
			if mpu.ChecksumAlgorithm != tc.alg || mpu.ChecksumType != tc.wantT {
				t.Errorf("CreateMultipartUpload: got %q %q, want %q %q", mpu.ChecksumAlgorithm, mpu.ChecksumType, tc.alg, tc.wantT)
			}
			var parts []types.CompletedPart
			// Parts 1 and 3: part numbers need not be contiguous, and GET
			// ?partNumber must pick a part by its number, not its position.
			for i, body := range [][]byte{p1, p2} {
				n := int32(2*i + 1)
				out, err := tc.client.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(b), Key: aws.String(key), UploadId: mpu.UploadId,
					PartNumber: aws.Int32(n), Body: bytes.NewReader(body), ChecksumAlgorithm: tc.alg})
				if err != nil {
					t.Fatalf("UploadPart %d: %v", n, err)
				}
				got := checksumOf(tc.alg, out.ChecksumCRC32, out.ChecksumCRC32C, out.ChecksumCRC64NVME, out.ChecksumSHA1, out.ChecksumSHA256)
				if want := sum64(tc.alg, body); got != want {
					t.Errorf("UploadPart %d checksum: got %q, want %q", n, got, want)
				}
				cp := types.CompletedPart{PartNumber: aws.Int32(n), ETag: out.ETag}
				switch tc.alg {
				case types.ChecksumAlgorithmCrc32:
					cp.ChecksumCRC32 = out.ChecksumCRC32
				case types.ChecksumAlgorithmCrc32c:
					cp.ChecksumCRC32C = out.ChecksumCRC32C
				case types.ChecksumAlgorithmCrc64nvme:
					cp.ChecksumCRC64NVME = out.ChecksumCRC64NVME
				case types.ChecksumAlgorithmSha1:
					cp.ChecksumSHA1 = out.ChecksumSHA1
				case types.ChecksumAlgorithmSha256:
					cp.ChecksumSHA256 = out.ChecksumSHA256
				}
				parts = append(parts, cp)
			}
			lp, err := e.s3.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String(b), Key: aws.String(key), UploadId: mpu.UploadId})
			if err != nil {
				t.Fatalf("ListParts: %v", err)
			}
			if lp.ChecksumAlgorithm != tc.alg || len(lp.Parts) != 2 {
				t.Fatalf("ListParts: got algorithm %q and %d parts, want %q and 2", lp.ChecksumAlgorithm, len(lp.Parts), tc.alg)
			}
			for i, p := range lp.Parts {
				if got, want := checksumOf(tc.alg, p.ChecksumCRC32, p.ChecksumCRC32C, p.ChecksumCRC64NVME, p.ChecksumSHA1, p.ChecksumSHA256), sum64(tc.alg, [][]byte{p1, p2}[i]); got != want {
					t.Errorf("ListParts part %d checksum: got %q, want %q", i+1, got, want)
				}
			}

			// A wrong part checksum fails the completion.
			bad := parts[0]
			bad.ChecksumCRC32, bad.ChecksumCRC32C, bad.ChecksumCRC64NVME, bad.ChecksumSHA1, bad.ChecksumSHA256 = nil, nil, nil, nil, nil
			wrong := aws.String(sum64(tc.alg, []byte("wrong")))
			switch tc.alg {
			case types.ChecksumAlgorithmCrc32:
				bad.ChecksumCRC32 = wrong
			case types.ChecksumAlgorithmCrc32c:
				bad.ChecksumCRC32C = wrong
			case types.ChecksumAlgorithmCrc64nvme:
				bad.ChecksumCRC64NVME = wrong
			case types.ChecksumAlgorithmSha1:
				bad.ChecksumSHA1 = wrong
			case types.ChecksumAlgorithmSha256:
				bad.ChecksumSHA256 = wrong
			}
			_, err = e.complete(b, key, mpu.UploadId, bad, parts[1])
			wantErr(t, err, "InvalidPart", http.StatusBadRequest)

			in := &s3.CompleteMultipartUploadInput{Bucket: aws.String(b), Key: aws.String(key), UploadId: mpu.UploadId,
				MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}}
			if tc.wantT == types.ChecksumTypeFullObject {
				// A whole-object value is checked: wrong fails, right passes.
				in.ChecksumType = types.ChecksumTypeFullObject
				setSum := func(v string) {
					switch tc.alg {
					case types.ChecksumAlgorithmCrc32:
						in.ChecksumCRC32 = aws.String(v)
					case types.ChecksumAlgorithmCrc32c:
						in.ChecksumCRC32C = aws.String(v)
					case types.ChecksumAlgorithmCrc64nvme:
						in.ChecksumCRC64NVME = aws.String(v)
					}
				}
				setSum(sum64(tc.alg, p1))
				_, err := e.s3.CompleteMultipartUpload(ctx, in)
				wantErr(t, err, "BadDigest", http.StatusBadRequest)
				setSum(tc.want)
			}
			out, err := e.s3.CompleteMultipartUpload(ctx, in)
			if err != nil {
				t.Fatalf("CompleteMultipartUpload: %v", err)
			}
			if got := checksumOf(tc.alg, out.ChecksumCRC32, out.ChecksumCRC32C, out.ChecksumCRC64NVME, out.ChecksumSHA1, out.ChecksumSHA256); got != tc.want {
				t.Errorf("Complete checksum: got %q, want %q", got, tc.want)
			}
			if out.ChecksumType != tc.wantT {
				t.Errorf("Complete checksum type: got %q, want %q", out.ChecksumType, tc.wantT)
			}

			get, err := e.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String(key), ChecksumMode: types.ChecksumModeEnabled})
			if err != nil {
				t.Fatalf("GetObject: %v", err)
			}
			if got := readAll(t, get.Body); !bytes.Equal(got, whole) {
				t.Errorf("GetObject: body differs")
			}
			if got := checksumOf(tc.alg, get.ChecksumCRC32, get.ChecksumCRC32C, get.ChecksumCRC64NVME, get.ChecksumSHA1, get.ChecksumSHA256); got != tc.want {
				t.Errorf("GetObject checksum: got %q, want %q", got, tc.want)
			}
			if get.ChecksumType != tc.wantT {
				t.Errorf("GetObject checksum type: got %q, want %q", get.ChecksumType, tc.wantT)
			}
			for i, body := range [][]byte{p1, p2} {
				n := int32(2*i + 1)
				gp, err := e.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String(key), PartNumber: aws.Int32(n), ChecksumMode: types.ChecksumModeEnabled})
				if err != nil {
					t.Fatalf("GetObject part %d: %v", n, err)
				}
				if got := readAll(t, gp.Body); !bytes.Equal(got, body) {
					t.Errorf("part %d: body differs", n)
				}
				if got, want := checksumOf(tc.alg, gp.ChecksumCRC32, gp.ChecksumCRC32C, gp.ChecksumCRC64NVME, gp.ChecksumSHA1, gp.ChecksumSHA256), sum64(tc.alg, body); got != want {
					t.Errorf("GetObject part %d checksum: got %q, want %q", n, got, want)
				}
			}
		})
	}

	t.Run("Invalid", func(t *testing.T) {
		_, err := e.s3.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(b), Key: aws.String("x"),
			ChecksumAlgorithm: types.ChecksumAlgorithmSha256, ChecksumType: types.ChecksumTypeFullObject})
		wantErr(t, err, "InvalidRequest", http.StatusBadRequest)
		_, err = e.s3.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(b), Key: aws.String("x"),
			ChecksumAlgorithm: types.ChecksumAlgorithmCrc64nvme, ChecksumType: types.ChecksumTypeComposite})
		wantErr(t, err, "InvalidRequest", http.StatusBadRequest)
		_, err = e.s3.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(b), Key: aws.String("x"), ChecksumAlgorithm: "MD4"})
		wantErr(t, err, "InvalidRequest", http.StatusBadRequest)
		// A part must use the upload's algorithm.
		mpu, err := e.s3.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(b), Key: aws.String("x"), ChecksumAlgorithm: types.ChecksumAlgorithmSha1})
		if err != nil {
			t.Fatalf("CreateMultipartUpload: %v", err)
		}
		_, err = e.s3.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(b), Key: aws.String("x"), UploadId: mpu.UploadId, PartNumber: aws.Int32(1),
			Body: bytes.NewReader([]byte("x")), ChecksumAlgorithm: types.ChecksumAlgorithmCrc32})
		wantErr(t, err, "InvalidRequest", http.StatusBadRequest)
	})
}
