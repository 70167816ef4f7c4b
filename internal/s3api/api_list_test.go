package s3api_test

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func TestListObjects(t *testing.T) {
	e := newEnv(t)
	b := e.bucket()
	base := []string{"a", "b/1", "b/2", "b/c/3", "c", "d/", "e f", "plus+key", "ünï/ç", "~tilde"}
	var many []string
	for i := range 30 {
		many = append(many, fmt.Sprintf("many/%03d", i))
	}
	all := append(slices.Clone(base), many...)
	slices.Sort(all)
	for _, k := range all {
		e.put(b, k, []byte(k))
	}

	keysOf := func(objs []types.Object) []string {
		var out []string
		for _, o := range objs {
			out = append(out, aws.ToString(o.Key))
		}
		return out
	}
	prefixesOf := func(cps []types.CommonPrefix) []string {
		var out []string
		for _, p := range cps {
			out = append(out, aws.ToString(p.Prefix))
		}
		return out
	}

	tests := []struct {
		name, prefix, delim, startAfter string
		keys, prefixes                  []string
	}{
		{name: "All", keys: all},
		{name: "Prefix", prefix: "b/", keys: []string{"b/1", "b/2", "b/c/3"}},
		{name: "PrefixNoMatch", prefix: "zzz"},
		{name: "Delimiter", delim: "/", keys: []string{"a", "c", "e f", "plus+key", "~tilde"}, prefixes: []string{"b/", "d/", "many/", "ünï/"}},
		{name: "PrefixDelimiter", prefix: "b/", delim: "/", keys: []string{"b/1", "b/2"}, prefixes: []string{"b/c/"}},
		{name: "PrefixWithoutSlash", prefix: "b", delim: "/", prefixes: []string{"b/"}},
		{name: "OtherDelimiter", delim: "1", keys: slices.DeleteFunc(slices.Clone(all), func(k string) bool { return strings.Contains(k, "1") }),
			prefixes: []string{"b/1", "many/001", "many/01", "many/021"}},
		{name: "StartAfter", startAfter: "many/027", keys: []string{"many/028", "many/029", "plus+key", "~tilde", "ünï/ç"}},
		{name: "StartAfterWithPrefix", prefix: "b/", startAfter: "b/1", keys: []string{"b/2", "b/c/3"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := &s3.ListObjectsV2Input{Bucket: aws.String(b)}
			if tc.prefix != "" {
				in.Prefix = aws.String(tc.prefix)
			}
			if tc.delim != "" {
				in.Delimiter = aws.String(tc.delim)
			}
			if tc.startAfter != "" {
				in.StartAfter = aws.String(tc.startAfter)
			}
			out, err := e.s3.ListObjectsV2(ctx, in)
			if err != nil {
				t.Fatalf("ListObjectsV2: %v", err)
			}
			if got := keysOf(out.Contents); !slices.Equal(got, tc.keys) {
				t.Errorf("v2 keys: got %q, want %q", got, tc.keys)
			}
			if got := prefixesOf(out.CommonPrefixes); !slices.Equal(got, tc.prefixes) {
				t.Errorf("v2 prefixes: got %q, want %q", got, tc.prefixes)
			}
			if got, want := aws.ToInt32(out.KeyCount), int32(len(tc.keys)+len(tc.prefixes)); got != want {
				t.Errorf("KeyCount: got %d, want %d", got, want)
			}
			if aws.ToBool(out.IsTruncated) {
				t.Errorf("IsTruncated: got true, want false")
			}
			if got := aws.ToString(out.StartAfter); got != tc.startAfter {
				t.Errorf("StartAfter: got %q, want %q", got, tc.startAfter)
			}
			if tc.startAfter != "" {
				return
			}
			v1, err := e.s3.ListObjects(ctx, &s3.ListObjectsInput{Bucket: aws.String(b), Prefix: in.Prefix, Delimiter: in.Delimiter})
			if err != nil {
				t.Fatalf("ListObjects: %v", err)
			}
			if got := keysOf(v1.Contents); !slices.Equal(got, tc.keys) {
				t.Errorf("v1 keys: got %q, want %q", got, tc.keys)
			}
			if got := prefixesOf(v1.CommonPrefixes); !slices.Equal(got, tc.prefixes) {
				t.Errorf("v1 prefixes: got %q, want %q", got, tc.prefixes)
			}
		})
	}

	t.Run("Entries", func(t *testing.T) {
		out, err := e.s3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(b), Prefix: aws.String("e f")})
		if err != nil {
			t.Fatalf("ListObjectsV2: %v", err)
		}
		if len(out.Contents) != 1 {
			t.Fatalf("got %d entries, want 1", len(out.Contents))
		}
		o := out.Contents[0]
		if got, want := aws.ToString(o.ETag), `"`+md5hex([]byte("e f"))+`"`; got != want {
			t.Errorf("ETag: got %s, want %s", got, want)
		}
		if got := aws.ToInt64(o.Size); got != 3 {
			t.Errorf("Size: got %d, want 3", got)
		}
		if o.StorageClass != types.ObjectStorageClassStandard {
			t.Errorf("StorageClass: got %q, want STANDARD", o.StorageClass)
		}
		if o.LastModified == nil || o.LastModified.IsZero() {
			t.Errorf("LastModified missing")
		}
		if got := aws.ToString(out.Name); got != b {
			t.Errorf("Name: got %q, want %q", got, b)
		}
	})

	t.Run("PagingV2", func(t *testing.T) {
		for _, delim := range []string{"", "/"} {
			var keys, prefixes []string
			pages := 0
			p := s3.NewListObjectsV2Paginator(e.s3, &s3.ListObjectsV2Input{Bucket: aws.String(b), MaxKeys: aws.Int32(4), Delimiter: aws.String(delim)})
			for p.HasMorePages() {
				page, err := p.NextPage(ctx)
				if err != nil {
					t.Fatalf("ListObjectsV2 page %d: %v", pages+1, err)
				}
				pages++
				if n := len(page.Contents) + len(page.CommonPrefixes); n > 4 {
					t.Errorf("page %d: got %d entries, want at most 4", pages, n)
				}
				if aws.ToBool(page.IsTruncated) != (page.NextContinuationToken != nil) {
					t.Errorf("page %d: IsTruncated %v with NextContinuationToken %v", pages, aws.ToBool(page.IsTruncated), page.NextContinuationToken)
				}
				keys = append(keys, keysOf(page.Contents)...)
				prefixes = append(prefixes, prefixesOf(page.CommonPrefixes)...)
			}
			wantKeys, wantPrefixes := all, []string(nil)
			if delim == "/" {
				wantKeys, wantPrefixes = tests[3].keys, tests[3].prefixes
			}
			if !slices.Equal(keys, wantKeys) || !slices.Equal(prefixes, wantPrefixes) {
				t.Errorf("delimiter %q: paged keys %q prefixes %q, want %q %q", delim, keys, prefixes, wantKeys, wantPrefixes)
			}
			if want := (len(wantKeys) + len(wantPrefixes) + 3) / 4; pages != want {
				t.Errorf("delimiter %q: got %d pages, want %d", delim, pages, want)
			}
		}
	})

	t.Run("PagingV2StartAfter", func(t *testing.T) {
		var keys []string
		p := s3.NewListObjectsV2Paginator(e.s3, &s3.ListObjectsV2Input{Bucket: aws.String(b), MaxKeys: aws.Int32(3), StartAfter: aws.String("many/010")})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				t.Fatalf("ListObjectsV2: %v", err)
			}
			keys = append(keys, keysOf(page.Contents)...)
		}
		if want := all[slices.Index(all, "many/010")+1:]; !slices.Equal(keys, want) {
			t.Errorf("paged after many/010: got %q, want %q", keys, want)
		}
	})

	t.Run("PagingV1", func(t *testing.T) {
		for _, delim := range []string{"", "/"} {
			var keys, prefixes []string
			marker := ""
			for page := 1; ; page++ {
				if page > 50 {
					t.Fatalf("delimiter %q: listing does not end", delim)
				}
				out, err := e.s3.ListObjects(ctx, &s3.ListObjectsInput{Bucket: aws.String(b), MaxKeys: aws.Int32(3), Marker: aws.String(marker), Delimiter: aws.String(delim)})
				if err != nil {
					t.Fatalf("ListObjects: %v", err)
				}
				if got := aws.ToString(out.Marker); got != marker {
					t.Errorf("Marker: got %q, want %q", got, marker)
				}
				keys = append(keys, keysOf(out.Contents)...)
				prefixes = append(prefixes, prefixesOf(out.CommonPrefixes)...)
				if !aws.ToBool(out.IsTruncated) {
					break
				}
				// S3 sends NextMarker only with a delimiter; else the
				// last key is the marker.
				if delim != "" {
					marker = aws.ToString(out.NextMarker)
					if marker == "" {
						t.Fatalf("truncated page with a delimiter has no NextMarker")
					}
				} else {
					if out.NextMarker != nil {
						t.Errorf("NextMarker without delimiter: got %q, want none", aws.ToString(out.NextMarker))
					}
					marker = keys[len(keys)-1]
				}
			}
			wantKeys, wantPrefixes := all, []string(nil)
			if delim == "/" {
				wantKeys, wantPrefixes = tests[3].keys, tests[3].prefixes
			}
			if !slices.Equal(keys, wantKeys) || !slices.Equal(prefixes, wantPrefixes) {
				t.Errorf("delimiter %q: paged keys %q prefixes %q, want %q %q", delim, keys, prefixes, wantKeys, wantPrefixes)
			}
		}
	})

	t.Run("MaxKeysZero", func(t *testing.T) {
		out, err := e.s3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(b), MaxKeys: aws.Int32(0)})
		if err != nil {
			t.Fatalf("ListObjectsV2: %v", err)
		}
		if len(out.Contents) != 0 || aws.ToInt32(out.KeyCount) != 0 || aws.ToBool(out.IsTruncated) || aws.ToInt32(out.MaxKeys) != 0 {
			t.Errorf("max-keys 0: got %d keys, KeyCount %d, truncated %v, MaxKeys %d; want 0, 0, false, 0",
				len(out.Contents), aws.ToInt32(out.KeyCount), aws.ToBool(out.IsTruncated), aws.ToInt32(out.MaxKeys))
		}
		v1, err := e.s3.ListObjects(ctx, &s3.ListObjectsInput{Bucket: aws.String(b), MaxKeys: aws.Int32(0)})
		if err != nil {
			t.Fatalf("ListObjects: %v", err)
		}
		if len(v1.Contents) != 0 || aws.ToBool(v1.IsTruncated) {
			t.Errorf("v1 max-keys 0: got %d keys, truncated %v; want 0, false", len(v1.Contents), aws.ToBool(v1.IsTruncated))
		}
	})

	t.Run("MaxKeysCapped", func(t *testing.T) {
		out, err := e.s3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(b), MaxKeys: aws.Int32(5000)})
		if err != nil {
			t.Fatalf("ListObjectsV2: %v", err)
		}
		if got := aws.ToInt32(out.MaxKeys); got != 1000 {
			t.Errorf("MaxKeys: got %d, want 1000", got)
		}
	})

	t.Run("EncodingTypeURL", func(t *testing.T) {
		out, err := e.s3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(b), EncodingType: types.EncodingTypeUrl, Delimiter: aws.String("/")})
		if err != nil {
			t.Fatalf("ListObjectsV2: %v", err)
		}
		if out.EncodingType != types.EncodingTypeUrl {
			t.Errorf("EncodingType: got %q, want url", out.EncodingType)
		}
		decode := func(s string) string {
			d, err := url.QueryUnescape(s)
			if err != nil {
				t.Errorf("key %q does not URL-decode: %v", s, err)
			}
			return d
		}
		var keys, prefixes []string
		for _, k := range keysOf(out.Contents) {
			keys = append(keys, decode(k))
		}
		for _, p := range prefixesOf(out.CommonPrefixes) {
			prefixes = append(prefixes, decode(p))
		}
		if !slices.Equal(keys, tests[3].keys) || !slices.Equal(prefixes, tests[3].prefixes) {
			t.Errorf("decoded: got keys %q prefixes %q, want %q %q", keys, prefixes, tests[3].keys, tests[3].prefixes)
		}
		// On the wire: space, '+' and non-ASCII are escaped.
		resp, body := e.raw(http.MethodGet, "/"+b+"?list-type=2&encoding-type=url&delimiter=%2F", nil, rawOpts{})
		if resp.StatusCode != 200 {
			t.Fatalf("raw list: got %d %s", resp.StatusCode, body)
		}
		for _, want := range []string{"<Key>e%20f</Key>", "<Key>plus%2Bkey</Key>", "<Prefix>%C3%BCn%C3%AF/</Prefix>", "<Delimiter>/</Delimiter>", "<EncodingType>url</EncodingType>"} {
			if !strings.Contains(string(body), want) {
				t.Errorf("raw listing lacks %s: %s", want, body)
			}
		}
		v1, err := e.s3.ListObjects(ctx, &s3.ListObjectsInput{Bucket: aws.String(b), EncodingType: types.EncodingTypeUrl, Prefix: aws.String("e ")})
		if err != nil {
			t.Fatalf("ListObjects: %v", err)
		}
		if got := keysOf(v1.Contents); len(got) != 1 || decode(got[0]) != "e f" || got[0] == "e f" {
			t.Errorf("v1 url-encoded keys: got %q, want [\"e%%20f\"]", got)
		}
	})

	t.Run("FetchOwner", func(t *testing.T) {
		out, err := e.s3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(b), MaxKeys: aws.Int32(1)})
		if err != nil {
			t.Fatalf("ListObjectsV2: %v", err)
		}
		if out.Contents[0].Owner != nil {
			t.Errorf("Owner without fetch-owner: got %+v, want none", out.Contents[0].Owner)
		}
		out, err = e.s3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(b), MaxKeys: aws.Int32(1), FetchOwner: aws.Bool(true)})
		if err != nil {
			t.Fatalf("ListObjectsV2: %v", err)
		}
		if o := out.Contents[0].Owner; o == nil || aws.ToString(o.ID) == "" {
			t.Errorf("Owner with fetch-owner: got %+v, want an ID", o)
		}
		v1, err := e.s3.ListObjects(ctx, &s3.ListObjectsInput{Bucket: aws.String(b), MaxKeys: aws.Int32(1)})
		if err != nil {
			t.Fatalf("ListObjects: %v", err)
		}
		if o := v1.Contents[0].Owner; o == nil || aws.ToString(o.ID) == "" {
			t.Errorf("v1 Owner: got %+v, want an ID", o)
		}
	})

	t.Run("InvalidParameters", func(t *testing.T) {
		for _, q := range []string{"list-type=2&max-keys=-1", "max-keys=abc", "list-type=2&encoding-type=base64", "list-type=2&continuation-token=%21%21", "list-type=2&continuation-token="} {
			resp, body := e.raw(http.MethodGet, "/"+b+"?"+q, nil, rawOpts{})
			wantXMLError(t, resp, body, "InvalidArgument", http.StatusBadRequest)
		}
	})
}
