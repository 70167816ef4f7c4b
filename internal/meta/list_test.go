package meta_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/firnhq/firn/internal/meta"
	"github.com/firnhq/firn/internal/meta/sqlite"
)

// memScanner is a meta.Scanner over sorted key lists, counting the objects
// it returns.
type memScanner struct {
	buckets  map[string][]string
	returned int
}

func newMem(bucket string, keys ...string) *memScanner {
	keys = slices.Clone(keys)
	slices.Sort(keys)
	keys = slices.Compact(keys)
	return &memScanner{buckets: map[string][]string{bucket: keys}}
}

func (m *memScanner) ScanObjects(ctx context.Context, bucket, prefix, after string, limit int) ([]meta.Object, error) {
	keys, ok := m.buckets[bucket]
	if !ok {
		return nil, meta.ErrNoSuchBucket
	}
	var out []meta.Object
	i, _ := slices.BinarySearch(keys, max(after, prefix))
	for ; i < len(keys) && len(out) < limit; i++ {
		k := keys[i]
		if !strings.HasPrefix(k, prefix) {
			if k > prefix {
				break
			}
			continue
		}
		if k > after {
			out = append(out, meta.Object{Bucket: bucket, Key: k, Size: int64(len(k))})
		}
	}
	m.returned += len(out)
	return out, nil
}

// entry is one listing entry: a key, or a common prefix.
type entry struct {
	name   string
	prefix bool
}

func (e entry) String() string {
	if e.prefix {
		return e.name + "(CP)"
	}
	return e.name
}

// refList is S3 listing by brute force: every key under prefix after
// after, rolled up at the first delim past the prefix, one entry per
// common prefix; a common prefix equal to after was returned already.
func refList(keys []string, prefix, delim, after string) []entry {
	keys = slices.Clone(keys)
	slices.Sort(keys)
	var out []entry
	for _, k := range keys {
		if !strings.HasPrefix(k, prefix) || k <= after {
			continue
		}
		e := entry{name: k}
		if delim != "" {
			if i := strings.Index(k[len(prefix):], delim); i >= 0 {
				e = entry{name: k[:len(prefix)+i+len(delim)], prefix: true}
			}
		}
		if e.prefix && e.name == after {
			continue
		}
		if len(out) > 0 && out[len(out)-1] == e {
			continue
		}
		out = append(out, e)
	}
	return out
}

// entries merges a page's objects and common prefixes in key order.
func entries(p meta.ListPage) []entry {
	var out []entry
	for _, o := range p.Objects {
		out = append(out, entry{name: o.Key})
	}
	for _, cp := range p.CommonPrefixes {
		out = append(out, entry{name: cp, prefix: true})
	}
	slices.SortFunc(out, func(a, b entry) int { return strings.Compare(a.name, b.name) })
	return out
}

// checkPage compares one List page with the reference.
func checkPage(t *testing.T, s meta.Scanner, keys []string, p meta.ListParams) (meta.ListPage, bool) {
	t.Helper()
	page, err := meta.List(t.Context(), s, "b", p)
	if err != nil {
		t.Errorf("List(%+v): %v", p, err)
		return page, false
	}
	ref := refList(keys, p.Prefix, p.Delimiter, p.After)
	want := ref[:min(len(ref), p.MaxKeys)]
	got := entries(page)
	ok := true
	if !slices.Equal(got, want) {
		t.Errorf("List(%+v): got %v, want %v", p, got, want)
		ok = false
	}
	// MaxKeys 0 is an empty, untruncated page, as S3 does.
	if wantTrunc := p.MaxKeys > 0 && len(ref) > p.MaxKeys; page.IsTruncated != wantTrunc {
		t.Errorf("List(%+v): got IsTruncated %v, want %v", p, page.IsTruncated, wantTrunc)
		ok = false
	}
	if len(want) > 0 && page.NextAfter != want[len(want)-1].name {
		t.Errorf("List(%+v): got NextAfter %q, want %q", p, page.NextAfter, want[len(want)-1].name)
		ok = false
	}
	if !slices.IsSorted(page.CommonPrefixes) || !slices.IsSortedFunc(page.Objects, func(a, b meta.Object) int { return strings.Compare(a.Key, b.Key) }) {
		t.Errorf("List(%+v): objects or common prefixes out of order", p)
	}
	return page, ok
}

// checkPaging pages through a listing with p.MaxKeys per page and checks
// that the pages together are the whole listing.
func checkPaging(t *testing.T, s meta.Scanner, keys []string, p meta.ListParams) {
	t.Helper()
	want := refList(keys, p.Prefix, p.Delimiter, p.After)
	var all []entry
	for n := 0; ; n++ {
		if n > len(keys)+1 {
			t.Errorf("List(%+v) paging does not end", p)
			return
		}
		page, ok := checkPage(t, s, keys, p)
		if !ok {
			return
		}
		all = append(all, entries(page)...)
		if !page.IsTruncated {
			break
		}
		p.After = page.NextAfter
	}
	if !slices.Equal(all, want) {
		t.Errorf("List paged by %d from %q: got %v, want %v", p.MaxKeys, p.After, all, want)
	}
}

// fixedKeys is in byte order.
var fixedKeys = []string{
	"a", "a--b", "a--c--d", "a/", "a//d", "a/b", "a/b/c", "a/c", "ab", "abc/x",
	"b/1", "b/2", "b/3/x", "c", "d/", "é/1", "é/2", "日本/x", "日本/語/x", "😀",
}

func TestList(t *testing.T) {
	if !slices.IsSorted(fixedKeys) {
		t.Fatal("fixedKeys is not sorted")
	}
	s := newMem("b", fixedKeys...)
	tests := []struct {
		name string
		p    meta.ListParams
		want []string // "(CP)" marks common prefixes
		more bool
	}{
		{"everything", meta.ListParams{MaxKeys: 1000}, fixedKeys, false},
		{"prefix", meta.ListParams{Prefix: "a/", MaxKeys: 1000}, []string{"a/", "a//d", "a/b", "a/b/c", "a/c"}, false},
		{"delimiter", meta.ListParams{Delimiter: "/", MaxKeys: 1000},
			[]string{"a", "a--b", "a--c--d", "a/(CP)", "ab", "abc/(CP)", "b/(CP)", "c", "d/(CP)", "é/(CP)", "日本/(CP)", "😀"}, false},
		{"prefix and delimiter", meta.ListParams{Prefix: "a/", Delimiter: "/", MaxKeys: 1000},
			[]string{"a/", "a//(CP)", "a/b", "a/b/(CP)", "a/c"}, false},
		{"multi-character delimiter", meta.ListParams{Delimiter: "--", MaxKeys: 1000},
			[]string{"a", "a--(CP)", "a/", "a//d", "a/b", "a/b/c", "a/c", "ab", "abc/x", "b/1", "b/2", "b/3/x", "c", "d/", "é/1", "é/2", "日本/x", "日本/語/x", "😀"}, false},
		{"multi-byte delimiter", meta.ListParams{Prefix: "日", Delimiter: "本/", MaxKeys: 1000}, []string{"日本/(CP)"}, false},
		{"delimiter not found", meta.ListParams{Prefix: "b/", Delimiter: "|", MaxKeys: 1000}, []string{"b/1", "b/2", "b/3/x"}, false},
		{"truncated", meta.ListParams{Delimiter: "/", MaxKeys: 4}, []string{"a", "a--b", "a--c--d", "a/(CP)"}, true},
		{"after a key", meta.ListParams{Delimiter: "/", After: "ab", MaxKeys: 3}, []string{"abc/(CP)", "b/(CP)", "c"}, true},
		{"after a common prefix", meta.ListParams{Delimiter: "/", After: "a/", MaxKeys: 2}, []string{"ab", "abc/(CP)"}, true},
		{"after inside a common prefix", meta.ListParams{Delimiter: "/", After: "a/b", MaxKeys: 2}, []string{"a/(CP)", "ab"}, true},
		{"after past everything", meta.ListParams{Delimiter: "/", After: "😀", MaxKeys: 2}, nil, false},
		{"after below prefix", meta.ListParams{Prefix: "b/", After: "a", MaxKeys: 1000}, []string{"b/1", "b/2", "b/3/x"}, false},
		{"after equal to prefix", meta.ListParams{Prefix: "a/", Delimiter: "/", After: "a/", MaxKeys: 1000},
			[]string{"a//(CP)", "a/b", "a/b/(CP)", "a/c"}, false},
		{"MaxKeys 0", meta.ListParams{Delimiter: "/", MaxKeys: 0}, nil, false},
		{"MaxKeys 1", meta.ListParams{Delimiter: "/", After: "a--c--d", MaxKeys: 1}, []string{"a/(CP)"}, true},
		{"no match", meta.ListParams{Prefix: "zzz", Delimiter: "/", MaxKeys: 10}, nil, false},
	}
	for _, tc := range tests {
		page, err := meta.List(t.Context(), s, "b", tc.p)
		if err != nil {
			t.Errorf("%s: List: %v", tc.name, err)
			continue
		}
		var got []string
		for _, e := range entries(page) {
			got = append(got, e.String())
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
		if page.IsTruncated != tc.more {
			t.Errorf("%s: got IsTruncated %v, want %v", tc.name, page.IsTruncated, tc.more)
		}
		// And the same against the reference.
		checkPage(t, s, fixedKeys, tc.p)
	}
}

func TestListMissingBucket(t *testing.T) {
	s := newMem("b", "k")
	for _, n := range []int{0, 1, 1000} {
		_, err := meta.List(t.Context(), s, "missing", meta.ListParams{Delimiter: "/", MaxKeys: n})
		if !errors.Is(err, meta.ErrNoSuchBucket) {
			t.Errorf("List(MaxKeys %d) of a missing bucket: got %v, want %v", n, err, meta.ErrNoSuchBucket)
		}
	}
}

func TestListPagingFixed(t *testing.T) {
	s := newMem("b", fixedKeys...)
	for _, delim := range []string{"", "/", "--", "a", "b/"} {
		for _, prefix := range []string{"", "a", "a/", "b/", "日本/"} {
			for _, maxKeys := range []int{1, 2, 3, 1000} {
				checkPaging(t, s, fixedKeys, meta.ListParams{Prefix: prefix, Delimiter: delim, MaxKeys: maxKeys})
			}
		}
	}
}

// TestListRollsUpInOneStep: a listing costs what it returns, not what
// its common prefixes hold.
func TestListRollsUpInOneStep(t *testing.T) {
	var keys []string
	for i := range 5000 {
		keys = append(keys, fmt.Sprintf("big/%05d", i), fmt.Sprintf("huge/%05d/x", i))
	}
	keys = append(keys, "a", "c", "z")
	s := newMem("b", keys...)
	for _, maxKeys := range []int{1, 3, 5, 1000} {
		s.returned = 0
		page, err := meta.List(t.Context(), s, "b", meta.ListParams{Delimiter: "/", MaxKeys: maxKeys})
		if err != nil {
			t.Fatal(err)
		}
		if n := len(page.Objects) + len(page.CommonPrefixes); n != min(maxKeys, 5) {
			t.Errorf("List(MaxKeys %d): got %d entries, want %d", maxKeys, n, min(maxKeys, 5))
		}
		if s.returned > 2*(maxKeys+1)+5 {
			t.Errorf("List(MaxKeys %d) over 10000 rolled-up keys: scanned %d objects, want O(entries)", maxKeys, s.returned)
		}
	}
}

// TestListLargePages: pages larger than List's scan batch (1000) take
// several scans.
func TestListLargePages(t *testing.T) {
	var keys []string
	for i := range 2600 {
		keys = append(keys, fmt.Sprintf("k%05d", i))
		if i%500 == 0 {
			keys = append(keys, fmt.Sprintf("k%05d/sub/%d", i, i), fmt.Sprintf("k%05d/sub/%dx", i, i))
		}
	}
	s := newMem("b", keys...)
	for _, delim := range []string{"", "/"} {
		for _, maxKeys := range []int{999, 1000, 1001, 2000, 5000} {
			checkPaging(t, s, keys, meta.ListParams{Delimiter: delim, MaxKeys: maxKeys})
		}
	}
}

// Random key sets over a small alphabet with multi-byte runes, so that
// prefixes, delimiters and markers collide often.
var runes = []string{"a", "b", "/", "-", "é", "日", "😀", "\u007f"}

func randKey(r *rand.Rand) string {
	var b strings.Builder
	for range 1 + r.IntN(5) {
		b.WriteString(runes[r.IntN(len(runes))])
	}
	return b.String()
}

// randCut returns a prefix of s cut at a rune boundary.
func randCut(r *rand.Rand, s string) string {
	var cuts []int
	for i := range s {
		cuts = append(cuts, i)
	}
	cuts = append(cuts, len(s))
	return s[:cuts[r.IntN(len(cuts))]]
}

var delims = []string{"", "/", "a", "//", "a/", "é", "-日", "😀", "ab"}

// randParams picks listing parameters biased towards the interesting
// cases: prefixes of existing keys, markers that are keys, common
// prefixes, the prefix itself.
func randParams(r *rand.Rand, keys []string) meta.ListParams {
	p := meta.ListParams{Delimiter: delims[r.IntN(len(delims))]}
	switch r.IntN(4) {
	case 0:
	case 1:
		p.Prefix = randKey(r)[:1]
	default:
		p.Prefix = randCut(r, keys[r.IntN(len(keys))])
	}
	switch r.IntN(6) {
	case 0:
	case 1:
		p.After = keys[r.IntN(len(keys))]
	case 2:
		p.After = randKey(r)
	case 3:
		p.After = p.Prefix
	default:
		// A common prefix of the listing, when there is one.
		ref := refList(keys, p.Prefix, p.Delimiter, "")
		if len(ref) > 0 {
			p.After = ref[r.IntN(len(ref))].name
		}
	}
	return p
}

func TestListProperty(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 1))
	trials := 400
	if testing.Short() {
		trials = 50
	}
	for range trials {
		keys := make([]string, 1+r.IntN(40))
		for i := range keys {
			keys[i] = randKey(r)
		}
		s := newMem("b", keys...)
		for range 10 {
			p := randParams(r, keys)
			for _, maxKeys := range []int{0, 1, 2, 3, 1000} {
				p.MaxKeys = maxKeys
				if maxKeys == 0 {
					page, err := meta.List(t.Context(), s, "b", p)
					if err != nil || len(page.Objects) != 0 || len(page.CommonPrefixes) != 0 || page.IsTruncated {
						t.Errorf("List(%+v): got (%+v, %v), want an empty untruncated page", p, page, err)
					}
					continue
				}
				checkPaging(t, s, keys, p)
			}
			if t.Failed() {
				t.Fatalf("keys %q (seed %d)", keys, seed)
			}
		}
	}
}

// TestListSQLite runs the property test over the sqlite store, whose
// ScanObjects sees the "\xff"-suffixed markers List makes.
func TestListSQLite(t *testing.T) {
	ctx := t.Context()
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 2))
	sets, params := 2, 40
	if testing.Short() {
		sets, params = 1, 10
	}
	for set := range sets {
		st, err := sqlite.Open(filepath.Join(t.TempDir(), fmt.Sprintf("meta%d.db", set)))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		if err := st.CreateBucket(ctx, meta.Bucket{Name: "b", Created: time.Now()}); err != nil {
			t.Fatal(err)
		}
		keys := slices.Clone(fixedKeys)
		for range 30 {
			keys = append(keys, randKey(r))
		}
		slices.Sort(keys)
		keys = slices.Compact(keys)
		// Concurrently, so that they share commits.
		errs := make([]error, len(keys))
		var wg sync.WaitGroup
		for i, k := range keys {
			wg.Go(func() {
				_, errs[i] = st.PutObject(ctx, &meta.Object{Bucket: "b", Key: k, LastModified: time.Now(), StorageClass: "STANDARD"}, nil)
			})
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
		for range params {
			p := randParams(r, keys)
			for _, maxKeys := range []int{1, 3, 1000} {
				p.MaxKeys = maxKeys
				checkPaging(t, st, keys, p)
			}
			if t.Failed() {
				t.Fatalf("keys %q (seed %d)", keys, seed)
			}
		}
	}
}

// TestListManyPrefixesCost: a delimiter listing over many rolled-up
// prefixes fetches rows in proportion to the entries it returns, not a
// full scan batch per prefix.
func TestListManyPrefixesCost(t *testing.T) {
	var keys []string
	for p := range 300 {
		for k := range 100 {
			keys = append(keys, fmt.Sprintf("p%03d/%03d", p, k))
		}
	}
	s := newMem("b", keys...)
	page, err := meta.List(t.Context(), s, "b", meta.ListParams{Delimiter: "/", MaxKeys: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.CommonPrefixes) != 300 {
		t.Fatalf("got %d common prefixes, want 300", len(page.CommonPrefixes))
	}
	if s.returned > 3*300 {
		t.Errorf("scanned %d rows for 300 entries, want at most %d", s.returned, 3*300)
	}
}
