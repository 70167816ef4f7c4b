package backup

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/firnhq/firn/internal/backup/repo"
)

func TestApplyPolicy(t *testing.T) {
	day := func(s string) time.Time {
		tm, err := time.Parse("2006-01-02 15:04", s)
		if err != nil {
			panic(err)
		}
		return tm
	}
	// One snapshot a day at 02:00 for 100 days from Monday 2026-01-05,
	// plus a second one on the last day.
	var daily []string
	for i := range 100 {
		daily = append(daily, day("2026-01-05 02:00").AddDate(0, 0, i).Format("2006-01-02 15:04"))
	}
	daily = append(daily, "2026-04-14 14:00")
	for _, tc := range []struct {
		name   string
		times  []string
		policy Policy
		keep   []string
	}{
		{"last 2", []string{"2026-01-01 00:00", "2026-01-02 00:00", "2026-01-03 00:00"}, Policy{Last: 2},
			[]string{"2026-01-03 00:00", "2026-01-02 00:00"}},
		{"daily keeps newest of each day", []string{"2026-01-01 01:00", "2026-01-01 23:00", "2026-01-02 05:00"}, Policy{Daily: 5},
			[]string{"2026-01-02 05:00", "2026-01-01 23:00"}},
		{"daily 7 of 100 days", daily, Policy{Daily: 7},
			[]string{"2026-04-14 14:00", "2026-04-13 02:00", "2026-04-12 02:00", "2026-04-11 02:00", "2026-04-10 02:00", "2026-04-09 02:00", "2026-04-08 02:00"}},
		{"weekly 3 uses ISO weeks", daily, Policy{Weekly: 3},
			// 2026-04-14 is a Tuesday; the weeks before end on Sundays.
			[]string{"2026-04-14 14:00", "2026-04-12 02:00", "2026-04-05 02:00"}},
		{"monthly 12 of 100 days", daily, Policy{Monthly: 12},
			[]string{"2026-04-14 14:00", "2026-03-31 02:00", "2026-02-28 02:00", "2026-01-31 02:00"}},
		{"7 daily 4 weekly 12 monthly", daily, Policy{Daily: 7, Weekly: 4, Monthly: 12},
			[]string{"2026-04-14 14:00", "2026-04-13 02:00", "2026-04-12 02:00", "2026-04-11 02:00", "2026-04-10 02:00",
				"2026-04-09 02:00", "2026-04-08 02:00", "2026-04-05 02:00", "2026-03-29 02:00", "2026-03-31 02:00",
				"2026-02-28 02:00", "2026-01-31 02:00"}},
		{"yearly", []string{"2024-06-01 00:00", "2025-03-01 00:00", "2025-09-01 00:00"}, Policy{Yearly: 10},
			[]string{"2025-09-01 00:00", "2024-06-01 00:00"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var sns []*repo.Snapshot
			for i, s := range tc.times {
				sns = append(sns, &repo.Snapshot{Time: day(s), Host: "h", Paths: []string{"/d"}, ID: repo.ID{byte(i), byte(i >> 8)}})
			}
			var got []string
			for _, d := range ApplyPolicy(sns, tc.policy, time.UTC) {
				if d.Keep {
					got = append(got, d.Snapshot.Time.Format("2006-01-02 15:04"))
				}
			}
			want := slices.Clone(tc.keep)
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("kept\n got %v\nwant %v", got, want)
			}
		})
	}
}

func TestApplyPolicyGroups(t *testing.T) {
	var sns []*repo.Snapshot
	for i, host := range []string{"a", "b", "a", "b"} {
		sns = append(sns, &repo.Snapshot{Time: time.Date(2026, 1, 1+i, 0, 0, 0, 0, time.UTC), Host: host, Paths: []string{"/d"}})
	}
	kept := map[string]int{}
	for _, d := range ApplyPolicy(sns, Policy{Last: 1}, nil) {
		if d.Keep {
			kept[d.Snapshot.Host]++
			if fmt.Sprint(d.Reasons) != "[last]" {
				t.Errorf("reasons %v, want [last]", d.Reasons)
			}
		}
	}
	if kept["a"] != 1 || kept["b"] != 1 {
		t.Errorf("kept per host %v, want one each", kept)
	}
}
