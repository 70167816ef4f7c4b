package s3api

import (
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"net/http"
	"strings"

	"github.com/firnhq/firn/internal/checksum"
	"github.com/firnhq/firn/internal/object"
)

// integrity reads Content-MD5 and the x-amz-checksum-* request headers
// (or their announcement in x-amz-trailer) into what the object service
// verifies.
func integrity(rq *request) (object.Integrity, error) {
	var in object.Integrity
	hd := rq.r.Header
	md, err := contentMD5(hd)
	if err != nil {
		return in, err
	}
	in.ContentMD5 = md
	algName := hd.Get("x-amz-sdk-checksum-algorithm")
	if algName == "" {
		algName = hd.Get("x-amz-checksum-algorithm")
	}
	var found []checksum.Algorithm
	for _, a := range checksum.Algorithms {
		if hd.Get(a.Header()) != "" {
			found = append(found, a)
		}
	}
	var trailed []checksum.Algorithm
	for _, t := range rq.auth.DeclaredTrailers {
		if a, ok := checksum.FromHeader(t); ok {
			trailed = append(trailed, a)
		}
	}
	if len(found)+len(trailed) > 1 {
		return in, errInvalidRequest.with("Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.")
	}
	switch {
	case len(found) == 1:
		a := found[0]
		v := hd.Get(a.Header())
		if _, err := a.Decode(v); err != nil {
			return in, errInvalidRequest.with("Value for " + a.Header() + " header is invalid.")
		}
		in.Algorithm = a
		in.Expected = func() string { return v }
	case len(trailed) == 1:
		a := trailed[0]
		in.Algorithm = a
		trailer := rq.auth.Trailer
		in.Expected = func() string {
			if trailer == nil {
				return ""
			}
			t := trailer()
			if t == nil {
				return ""
			}
			// Trailers are keyed by their lower-case names: Get would
			// canonicalize the name and miss them.
			var v string
			if vs := t[a.Header()]; len(vs) > 0 {
				v = vs[0]
			}
			if _, err := a.Decode(v); err != nil {
				return "invalid" // cannot match: reported as a mismatch
			}
			return v
		}
	case algName != "":
		a, err := checksum.Parse(algName)
		if err != nil {
			return in, errInvalidRequest.with("Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]")
		}
		in.Algorithm = a
	}
	if algName != "" && in.Algorithm != "" && !strings.EqualFold(algName, string(in.Algorithm)) {
		return in, errInvalidRequest.with("Value for x-amz-sdk-checksum-algorithm header is invalid.")
	}
	return in, nil
}

// contentMD5 decodes the Content-MD5 header: nil when absent,
// InvalidDigest when it is not a base64 MD5.
func contentMD5(hd http.Header) ([]byte, error) {
	v, ok := hd["Content-Md5"]
	if !ok {
		return nil, nil
	}
	md, err := base64.StdEncoding.DecodeString(strings.TrimSpace(strings.Join(v, "")))
	if err != nil || len(md) != md5.Size {
		return nil, errInvalidDigest
	}
	return md, nil
}

// hasIntegrityHeader reports whether the request carries Content-MD5 or
// an x-amz-checksum value (header or trailer), as S3 requires for some
// operations.
func hasIntegrityHeader(rq *request) bool {
	if rq.r.Header.Get("Content-Md5") != "" {
		return true
	}
	for _, a := range checksum.Algorithms {
		if rq.r.Header.Get(a.Header()) != "" {
			return true
		}
	}
	for _, t := range rq.auth.DeclaredTrailers {
		if _, ok := checksum.FromHeader(t); ok {
			return true
		}
	}
	return false
}

// checkBodyIntegrity verifies a fully read small body against its
// Content-MD5 and, if checksums, its x-amz-checksum-* value.
func checkBodyIntegrity(rq *request, body []byte, checksums bool) error {
	if !checksums {
		md, err := contentMD5(rq.r.Header)
		if err != nil {
			return err
		}
		if sum := md5.Sum(body); md != nil && !bytes.Equal(sum[:], md) {
			return errBadDigest
		}
		return nil
	}
	in, err := integrity(rq)
	if err != nil {
		return err
	}
	if in.ContentMD5 != nil {
		sum := md5.Sum(body)
		if !bytes.Equal(sum[:], in.ContentMD5) {
			return errBadDigest
		}
	}
	if in.Algorithm != "" && in.Expected != nil {
		h := in.Algorithm.New()
		h.Write(body)
		if want := in.Expected(); want != "" && want != checksum.Encode(h.Sum(nil)) {
			return errBadDigest.with("The " + string(in.Algorithm) + " you specified did not match the calculated checksum.")
		}
	}
	return nil
}

// setChecksumHeader writes an object's checksum as x-amz-checksum-* (and
// its type).
func setChecksumHeader(hd http.Header, alg, typ, value string) {
	a, err := checksum.Parse(alg)
	if err != nil || value == "" {
		return
	}
	hd.Set(a.Header(), value)
	if typ != "" {
		hd.Set("x-amz-checksum-type", typ)
	}
}
