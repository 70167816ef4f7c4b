package metatest

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/firnhq/firn/internal/meta"
)

// scanKeys are in byte (UTF-8 binary) order, which differs from UTF-16
// order ("\uff61" < "😀" in UTF-8 but not in UTF-16), from case-insensitive
// and locale collations ("B" < "a"), and which SQL LIKE wildcards ('%',
// '_') must not disturb.
var scanKeys = []string{
	" ",
	"A",
	"B",
	"a",
	"a b",
	"a%b",
	"a/",
	"a/b",
	"a/b/c",
	"a/c",
	"a0",
	"a\\b",
	"a_b",
	"aa",
	"ab",
	"axb",
	"b",
	"z",
	"\u007f",
	"é",
	"éa",
	"\u0800",
	"日本",
	"日本/語",
	"\ue000",
	"\uff61",
	"😀",
	"😀/x",
	"\U0010ffff",
}

// fillScanKeys stores scanKeys in random order; every third object is
// inline.
func fillScanKeys(t *testing.T, s meta.Store) {
	t.Helper()
	if !slices.IsSorted(scanKeys) {
		t.Fatal("metatest: scanKeys is not sorted")
	}
	for _, i := range rand.Perm(len(scanKeys)) {
		k := scanKeys[i]
		if i%3 == 0 {
			put(t, s, inlineObject(bucket, k, "data of "+k))
		} else {
			put(t, s, newObject(bucket, k, "blob-"+k))
		}
	}
}

// wantScan is ScanObjects' contract over scanKeys.
func wantScan(prefix, after string, limit int) []string {
	var out []string
	for _, k := range scanKeys {
		if len(out) == limit {
			break
		}
		if strings.HasPrefix(k, prefix) && k > after {
			out = append(out, k)
		}
	}
	return out
}

func scanKeysOf(t *testing.T, s meta.Store, prefix, after string, limit int) ([]string, bool) {
	t.Helper()
	objs, err := s.ScanObjects(t.Context(), bucket, prefix, after, limit)
	if err != nil {
		t.Errorf("ScanObjects(prefix %q, after %q, limit %d): %v", prefix, after, limit, err)
		return nil, false
	}
	return keysOf(objs), true
}

func testScanOrder(t *testing.T, s meta.Store) {
	createBucket(t, s, bucket)
	createBucket(t, s, "other")
	put(t, s, newObject("other", "a/b", "other-blob"))
	got, err := s.ScanObjects(t.Context(), bucket, "", "", 10)
	must(t, "ScanObjects of an empty bucket", err)
	if len(got) != 0 {
		t.Errorf("ScanObjects of an empty bucket: got %q, want none", keysOf(got))
	}
	fillScanKeys(t, s)
	keys, ok := scanKeysOf(t, s, "", "", 1000)
	if ok && !slices.Equal(keys, scanKeys) {
		t.Errorf("ScanObjects of everything:\ngot  %q\nwant %q", keys, scanKeys)
	}
}

func testScanPrefix(t *testing.T, s meta.Store) {
	createBucket(t, s, bucket)
	fillScanKeys(t, s)
	for _, prefix := range []string{"", "a", "a/", "a/b", "a/b/c", "a/b/c/", "a%", "a_", "a\\", "A", "é", "e", "日本", "日", "😀", "\U0010ffff", "nomatch", "zz", " "} {
		if keys, ok := scanKeysOf(t, s, prefix, "", 1000); ok {
			if want := wantScan(prefix, "", 1000); !slices.Equal(keys, want) {
				t.Errorf("ScanObjects(prefix %q): got %q, want %q", prefix, keys, want)
			}
		}
	}
}

func testScanAfter(t *testing.T, s meta.Store) {
	createBucket(t, s, bucket)
	fillScanKeys(t, s)
	tests := []struct{ prefix, after string }{
		{"", ""},
		{"", "a/b"},        // an existing key
		{"", "a/bb"},       // between keys
		{"", "a"},          // a key that is also a prefix of others
		{"", "é"},          // multi-byte
		{"", "\uffff"},     // past the BMP keys, before 4-byte ones
		{"", "\U0010ffff"}, // the last key
		{"a/", "a/"},       // after equal to prefix: a key equal to the prefix is not after it
		{"a/", "a"},        // after below the prefix
		{"a/", ""},
		{"a/", "a/b"},
		{"a/", "b"},    // after above everything under the prefix
		{"a", "0"},     // after below the prefix, not a prefix of it
		{"b", "a/b/c"}, // after below the prefix
		{"日本", "日本"},
		{"日本", "日本/"},
		{"😀", "😀"},
	}
	for _, tc := range tests {
		if keys, ok := scanKeysOf(t, s, tc.prefix, tc.after, 1000); ok {
			if want := wantScan(tc.prefix, tc.after, 1000); !slices.Equal(keys, want) {
				t.Errorf("ScanObjects(prefix %q, after %q): got %q, want %q", tc.prefix, tc.after, keys, want)
			}
		}
	}
}

func testScanLimit(t *testing.T, s meta.Store) {
	createBucket(t, s, bucket)
	fillScanKeys(t, s)
	for _, prefix := range []string{"", "a", "日本"} {
		want := wantScan(prefix, "", 1000)
		for _, limit := range []int{1, 2, 3, 7, len(scanKeys), 1000} {
			var all []string
			after := ""
			for page := 0; ; page++ {
				if page > len(scanKeys)+1 {
					t.Fatalf("ScanObjects(prefix %q, limit %d) does not end", prefix, limit)
				}
				keys, ok := scanKeysOf(t, s, prefix, after, limit)
				if !ok {
					break
				}
				if len(keys) > limit {
					t.Errorf("ScanObjects(prefix %q, after %q, limit %d): got %d objects, want at most %d", prefix, after, limit, len(keys), limit)
				}
				if w := wantScan(prefix, after, limit); !slices.Equal(keys, w) {
					t.Errorf("ScanObjects(prefix %q, after %q, limit %d): got %q, want %q", prefix, after, limit, keys, w)
				}
				all = append(all, keys...)
				if len(keys) < limit {
					break
				}
				after = keys[len(keys)-1]
			}
			if !slices.Equal(all, want) {
				t.Errorf("ScanObjects(prefix %q) paged by %d: got %q, want %q", prefix, limit, all, want)
			}
		}
	}
}

func testScanNoInline(t *testing.T, s meta.Store) {
	createBucket(t, s, bucket)
	var want []*meta.Object
	for i := range 10 {
		o := inlineObject(bucket, fmt.Sprintf("k%02d", i), strings.Repeat("x", i+1))
		o.UserMeta = map[string]string{"i": fmt.Sprint(i)}
		o.Tags = []meta.Tag{{Key: "i", Value: fmt.Sprint(i)}}
		if i%2 == 1 {
			o = fullObject(o.Key)
		}
		put(t, s, o)
		want = append(want, o)
	}
	objs, err := s.ScanObjects(t.Context(), bucket, "", "", 100)
	must(t, "ScanObjects", err)
	if len(objs) != len(want) {
		t.Fatalf("ScanObjects: got %d objects, want %d", len(objs), len(want))
	}
	for i := range objs {
		checkObject(t, "ScanObjects result "+want[i].Key, &objs[i], want[i], false)
	}
}
