// Package retrievaltest is the conformance suite for retrieval.Store
// implementations: an implementation's test calls Run with a function that
// opens a fresh, empty store, and every contract documented on
// retrieval.Store is checked against it, each subtest on its own store:
//
//	func TestRetrievalStore(t *testing.T) {
//		retrievaltest.Run(t, func(t *testing.T) retrieval.Store {
//			return newStoreForTest(t)
//		})
//	}
//
// The suite is meant to run under the race detector.
package retrievaltest

import (
	"context"
	"fmt"
	"math"
	"reflect"
	"sync"
	"testing"

	"github.com/firnhq/firn/internal/retrieval"
)

// Run runs the conformance suite against the stores open returns.
func Run(t *testing.T, open func(t *testing.T) retrieval.Store) {
	t.Helper()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, open(t))
		})
	}
}

var tests = []struct {
	name string
	fn   func(t *testing.T, s retrieval.Store)
}{
	{"Policy/DefaultNone", testPolicyDefault},
	{"Policy/RoundTrip", testPolicyRoundTrip},
	{"Retrieved/Empty", testRetrievedEmpty},
	{"Retrieved/Accumulates", testRetrievedAccumulates},
	{"Retrieved/RangeAndOrder", testRetrievedRange},
	{"Retrieved/Concurrent", testRetrievedConcurrent},
}

func testPolicyDefault(t *testing.T, s retrieval.Store) {
	got, err := s.GetPolicy(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got != (retrieval.Policy{}) {
		t.Errorf("GetPolicy on an empty store = %v, want None", got)
	}
}

func testPolicyRoundTrip(t *testing.T, s retrieval.Store) {
	ctx := context.Background()
	for _, p := range []retrieval.Policy{
		{Strategy: retrieval.BytesPerHour, BytesPerHour: 10 << 30},
		{Strategy: retrieval.FreeTier},
		{Strategy: retrieval.BytesPerHour, BytesPerHour: 1},
		{Strategy: retrieval.BytesPerHour, BytesPerHour: math.MaxInt64},
		{Strategy: retrieval.None},
	} {
		if err := s.PutPolicy(ctx, p); err != nil {
			t.Fatalf("PutPolicy(%v): %v", p, err)
		}
		got, err := s.GetPolicy(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got != p {
			t.Errorf("GetPolicy after PutPolicy(%v) = %v", p, got)
		}
	}
}

func testRetrievedEmpty(t *testing.T, s retrieval.Store) {
	got, err := s.Retrieved(context.Background(), math.MinInt64, math.MaxInt64)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 0 {
		t.Errorf("Retrieved on an empty store = %v, want none", got)
	}
}

func add(t *testing.T, s retrieval.Store, day int64, tier string, n int64) {
	t.Helper()
	if err := s.AddRetrieved(context.Background(), day, tier, n); err != nil {
		t.Fatalf("AddRetrieved(%d, %s, %d): %v", day, tier, n, err)
	}
}

func retrieved(t *testing.T, s retrieval.Store, from, to int64) []retrieval.DayTier {
	t.Helper()
	got, err := s.Retrieved(context.Background(), from, to)
	if err != nil {
		t.Fatalf("Retrieved(%d, %d): %v", from, to, err)
	}
	return got
}

func testRetrievedAccumulates(t *testing.T, s retrieval.Store) {
	add(t, s, 20000, retrieval.TierStandard, 100)
	add(t, s, 20000, retrieval.TierStandard, 23)
	add(t, s, 20000, retrieval.TierStandard, 0)
	add(t, s, 20000, retrieval.TierBulk, 5)
	want := []retrieval.DayTier{
		{Day: 20000, Tier: retrieval.TierBulk, Bytes: 5},
		{Day: 20000, Tier: retrieval.TierStandard, Bytes: 123},
	}
	if got := retrieved(t, s, 20000, 20000); !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	// Large totals are kept exactly.
	add(t, s, 20001, retrieval.TierExpedited, 1<<50)
	add(t, s, 20001, retrieval.TierExpedited, 1<<50)
	if got := retrieved(t, s, 20001, 20001); len(got) != 1 || got[0].Bytes != 1<<51 {
		t.Errorf("got %v, want 2^51 bytes", got)
	}
}

func testRetrievedRange(t *testing.T, s retrieval.Store) {
	for _, d := range []int64{-3, -1, 0, 1, 5, 6, 1 << 40} {
		add(t, s, d, retrieval.TierStandard, d&0xff+1)
		add(t, s, d, retrieval.TierBulk, 1)
		add(t, s, d, retrieval.TierExpedited, 2)
	}
	got := retrieved(t, s, -1, 5)
	var days []int64
	for i, dt := range got {
		days = append(days, dt.Day)
		if i > 0 {
			prev := got[i-1]
			if prev.Day > dt.Day || (prev.Day == dt.Day && prev.Tier >= dt.Tier) {
				t.Errorf("not ordered by day then tier: %v", got)
			}
		}
	}
	wantDays := []int64{-1, -1, -1, 0, 0, 0, 1, 1, 1, 5, 5, 5}
	if !reflect.DeepEqual(days, wantDays) {
		t.Errorf("days of Retrieved(-1, 5) = %v, want %v", days, wantDays)
	}
	if got[0] != (retrieval.DayTier{Day: -1, Tier: retrieval.TierBulk, Bytes: 1}) {
		t.Errorf("first = %v", got[0])
	}
	if got := retrieved(t, s, 5, -1); len(got) != 0 {
		t.Errorf("Retrieved(5, -1) = %v, want none", got)
	}
	if got := retrieved(t, s, 2, 4); len(got) != 0 {
		t.Errorf("Retrieved(2, 4) = %v, want none", got)
	}
	if got := retrieved(t, s, 1<<40, 1<<40); len(got) != 3 {
		t.Errorf("Retrieved(2^40) = %v, want 3 tiers", got)
	}
}

func testRetrievedConcurrent(t *testing.T, s retrieval.Store) {
	const workers, each = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if err := s.AddRetrieved(context.Background(), 7, retrieval.TierStandard, int64(w*each+i)); err != nil {
					errs <- fmt.Errorf("worker %d: %w", w, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	const n = workers * each
	want := int64(n * (n - 1) / 2)
	got := retrieved(t, s, 7, 7)
	if len(got) != 1 || got[0].Bytes != want {
		t.Errorf("after concurrent adds: %v, want one total of %d", got, want)
	}
}
