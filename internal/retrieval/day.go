package retrieval

import "time"

// defaultDayLength is the model day when none is configured.
const defaultDayLength = 24 * time.Hour

func dayLengthOr(d time.Duration) time.Duration {
	if d <= 0 {
		return defaultDayLength
	}
	return d
}

// Day returns the index of the model day holding t: the day
// [n*dayLength, (n+1)*dayLength) counted from the Unix epoch (day 0 starts
// at 1970-01-01T00:00:00Z; earlier instants have negative days). With
// 24-hour days it is the UTC calendar day. A dayLength ≤ 0 means 24 hours.
func Day(t time.Time, dayLength time.Duration) int64 {
	dl := dayLengthOr(dayLength)
	if dl%time.Second == 0 {
		return floorDiv(t.Unix(), int64(dl/time.Second))
	}
	return floorDiv(t.UnixNano(), int64(dl))
}

// DayStart returns the instant model day day begins, in UTC: the inverse
// of Day, so Day(DayStart(n, dl), dl) == n.
func DayStart(day int64, dayLength time.Duration) time.Time {
	dl := dayLengthOr(dayLength)
	if dl%time.Second == 0 {
		return time.Unix(day*int64(dl/time.Second), 0).UTC()
	}
	return time.Unix(0, day*int64(dl)).UTC()
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// daysPer400Years is the length of the Gregorian calendar's cycle: the
// calendar repeats every 146,097 days.
const daysPer400Years = 146097

// DaysInMonth returns the length (28 to 31) of the month that holds model
// day day on the model calendar, where day 0 is 1970-01-01 and each model
// day is one calendar day. With 24-hour days this is the real UTC month.
func DaysInMonth(day int64) int {
	// The calendar repeats every 400 years; fold the day into the first
	// cycle after 1970 so that any index maps to a representable date.
	d := day % daysPer400Years
	if d < 0 {
		d += daysPer400Years
	}
	date := time.Unix(d*86400, 0).UTC()
	return time.Date(date.Year(), date.Month()+1, 0, 0, 0, 0, 0, time.UTC).Day()
}
