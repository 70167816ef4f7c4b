package sim

import (
	"math"
	"testing"
	"time"

	"github.com/firnhq/firn/internal/lifecycle"
)

const kib = 1 << 10

// jan1 is the start of the test calendars: January has 31 days,
// February 28, March 31, April 30.
var jan1 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

// TestLedger checks the cost model on single segments against dollars
// worked out by hand.
func TestLedger(t *testing.T) {
	// 8 KiB at STANDARD per archived object, per month, in dollars.
	const std8k = 8.0 * kib / GB * 0.023
	tests := []struct {
		name string
		seg  Segment
		want []float64 // cost per month, from January
	}{
		{"standard, a full month",
			Segment{Class: lifecycle.Standard, Size: GB, Weight: 1, Start: 0, End: 31, Closed: true},
			[]float64{0.023, 0}},
		{"standard, ten days",
			Segment{Class: lifecycle.Standard, Size: GB, Weight: 1, Start: 0, End: 10, Closed: true},
			[]float64{0.023 * 10 / 31, 0}},
		{"IA deleted after 10 days: 20 more days charged",
			Segment{Class: lifecycle.StandardIA, Size: GB, Weight: 1, Start: 0, End: 10, Closed: true},
			[]float64{0.0125*10/31 + 0.0125*20/31, 0}},
		{"IA kept 45 days: no early deletion",
			Segment{Class: lifecycle.StandardIA, Size: GB, Weight: 1, Start: 0, End: 45, Closed: true},
			[]float64{0.0125, 0.0125 * 14 / 28, 0}},
		{"IA still there at the horizon: no early deletion",
			Segment{Class: lifecycle.StandardIA, Size: GB, Weight: 1, Start: 50, End: -1},
			[]float64{0, 0.0125 * 9 / 28}},
		{"IA minimum billable size: 1000 × 1 KiB billed as 1000 × 128 KiB",
			Segment{Class: lifecycle.StandardIA, Size: kib, Weight: 1000, Start: 0, End: -1},
			[]float64{1000 * 128.0 * kib / GB * 0.0125, 1000 * 128.0 * kib / GB * 0.0125}},
		{"GLACIER_IR minimum size and 90 days: 1 KiB deleted on day 31",
			Segment{Class: lifecycle.GlacierIR, Size: kib, Weight: 1, Start: 0, End: 31, Closed: true},
			// 31 days of January stored; the 59 days left (days 31..89:
			// all of February and of March) on February's bill.
			[]float64{128.0 * kib / GB * 0.004, 128.0 * kib / GB * 0.004 * (1 + 31.0/31)}},
		{"GLACIER: 1000 × 1 MiB with 32 KiB + 8 KiB overhead and transition requests",
			Segment{Class: lifecycle.Glacier, Size: 1 << 20, Weight: 1000, Start: 0, End: -1, Entered: 0, Transitioned: true},
			[]float64{1000*(1024.0+32)*kib/GB*0.0036 + 1000*std8k + 1000*0.03/1000,
				1000*(1024.0+32)*kib/GB*0.0036 + 1000*std8k}},
		{"DEEP_ARCHIVE deleted on March 1: the rest of 180 days billed in March",
			// Size + 32 KiB overhead = exactly 1 GiB at the class rate.
			Segment{Class: lifecycle.DeepArchive, Size: GB - 32*kib, Weight: 1, Start: 0, End: 59, Closed: true},
			// Days 59..179 are March, April, May and 29 days of June.
			[]float64{0.00099 + std8k, 0.00099 + std8k, 0.00099 * (3 + 29.0/30), 0}},
		{"DEEP_ARCHIVE entered before the start: the minimum counts from Entered",
			Segment{Class: lifecycle.DeepArchive, Size: GB - 32*kib, Weight: 1, Start: 0, End: 31, Entered: -170, Closed: true},
			[]float64{0.00099 + std8k, 0}},
		{"INTELLIGENT_TIERING, never read: Frequent 30 days, Infrequent to day 90, then Archive Instant",
			Segment{Class: lifecycle.IntelligentTiering, Size: GB, Weight: 1, Start: 0, End: -1, Transitioned: true},
			[]float64{0.023*30/31 + 0.0125/31 + 0.0025/1000 + 0.01/1000, 0.0125 + 0.0025/1000,
				0.0125 + 0.0025/1000, 0.004 + 0.0025/1000}},
		{"INTELLIGENT_TIERING under 128 KiB: Frequent, unmonitored",
			Segment{Class: lifecycle.IntelligentTiering, Size: 64 * kib, Weight: 1, Start: 0, End: -1},
			[]float64{64.0 * kib / GB * 0.023, 64.0 * kib / GB * 0.023, 64.0 * kib / GB * 0.023, 64.0 * kib / GB * 0.023}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cal := NewCalendar(jan1, len(tt.want))
			l := NewLedger(cal, DefaultPrices())
			l.Add(tt.seg)
			ms := l.Months()
			for i, want := range tt.want {
				if got := ms[i].Cost; !near(got, want) {
					t.Errorf("month %d: got $%.12f, want $%.12f", i+1, got, want)
				}
			}
		})
	}
}

func TestLedgerContents(t *testing.T) {
	cal := NewCalendar(jan1, 3)
	l := NewLedger(cal, DefaultPrices())
	l.Add(Segment{Class: lifecycle.Standard, Size: 100, Weight: 2, Start: 0, End: 40, Closed: true})
	l.Add(Segment{Class: lifecycle.Glacier, Size: 100, Weight: 2, Start: 40, End: -1, Entered: 40, Transitioned: true})
	ms := l.Months()
	class := func(m int, c string) ClassMonth {
		for _, x := range ms[m].Classes {
			if x.Class == c {
				return x
			}
		}
		return ClassMonth{}
	}
	if got := class(0, lifecycle.Standard); got.Bytes != 200 || got.Objects != 2 {
		t.Errorf("January STANDARD: got %v bytes, %v objects, want 200, 2", got.Bytes, got.Objects)
	}
	if got := class(1, lifecycle.Standard); got.Objects != 0 {
		t.Errorf("February STANDARD: got %v objects, want 0", got.Objects)
	}
	if got := class(2, lifecycle.Glacier); got.Bytes != 200 || got.Objects != 2 || got.Transitions != 0 {
		t.Errorf("March GLACIER: got %+v", got)
	}
	if got := class(1, lifecycle.Glacier); !near(got.Transitions, 2*0.03/1000) {
		t.Errorf("February GLACIER transitions: got %v", got.Transitions)
	}
}

func TestCalendar(t *testing.T) {
	cal := NewCalendar(time.Date(2026, 1, 15, 13, 0, 0, 0, time.UTC), 2)
	if got := cal.Time(0); !got.Equal(time.Date(2026, 1, 15, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("start: got %v", got)
	}
	if got, want := cal.Horizon(), 31+28; got != want {
		t.Errorf("horizon: got %d, want %d", got, want)
	}
	for _, tt := range []struct{ day, month int }{{0, 0}, {30, 0}, {31, 1}, {58, 1}} {
		if got := cal.MonthOf(tt.day); got != tt.month {
			t.Errorf("MonthOf(%d): got %d, want %d", tt.day, got, tt.month)
		}
	}
	if got := cal.Day(time.Date(2026, 1, 14, 23, 0, 0, 0, time.UTC)); got != -1 {
		t.Errorf("Day before the start: got %d, want -1", got)
	}
	// Days 0..16 are January 15..31 (1/31 each), 17..30 February 1..14.
	if got, want := cal.frac(0, 31), 17.0/31+14.0/28; !near(got, want) {
		t.Errorf("frac: got %v, want %v", got, want)
	}
}
