// Package retrieval holds firn's data retrieval policies and retrieval
// metering: what Amazon S3 Glacier calls a data retrieval policy
// (GetDataRetrievalPolicy / SetDataRetrievalPolicy), the admission check
// that applies it to a new restore job, and the per-day, per-tier count of
// retrieved bytes that cost reports read. It is pure logic: no HTTP, no
// storage implementation, no goroutines. Time comes in as arguments (or a
// clock.Clock for the Meter), never from time.Now.
//
// # Policies
//
// One Policy holds for the whole deployment (AWS keeps one per account and
// Region). It has one of three strategies:
//
//   - None, the default and the zero Policy: every retrieval is accepted.
//   - FreeTier: the Standard bytes accepted during one model day may not
//     exceed the daily free allowance, Config.FreeTierMonthlyBytes
//     (DefaultFreeTierMonthlyBytes, 10 GiB) divided by the number of days
//     in the current month.
//   - BytesPerHour: a new Standard job is refused if it would push the peak
//     retrieval rate of the Standard jobs in progress during its window
//     above Policy.BytesPerHour.
//
// Policies read and write JSON in the exact shape of the Glacier API,
// {"Policy":{"Rules":[{"Strategy":"BytesPerHour","BytesPerHour":N}]}}
// (Parse, Policy.MarshalJSON); ParseRules reads the inner
// {"Rules":[...]} document that `aws glacier set-data-retrieval-policy
// --policy` takes. Invalid documents give an *InvalidPolicyError carrying
// the Glacier error code to answer with.
//
// # Admission
//
// Policy.Admit judges one new restore job against the jobs already
// accepted. Only Standard jobs are governed: Expedited and Bulk are always
// accepted, as in AWS, and do not count toward rates or the allowance. A
// refusal is an *EnforcedError (errors.Is ErrPolicyEnforced); nothing has
// been recorded, so a refused request costs nothing.
//
// Admit only ever judges the new job. Jobs accepted earlier are never
// re-evaluated: a policy change applies to the next request, never to jobs
// already accepted (they keep running, and they still count toward the
// rate and the day's allowance that later requests are judged against).
//
// A job's retrieval rate is its size divided by its duration in model
// hours (a model hour is DayLength/24), rounded up to a whole byte per
// hour; it contributes that rate during [Start, Start+Duration). A job
// with no Duration is given DefaultStandardHours model hours, about what
// a Standard retrieval takes on AWS (3-5 hours). The peak is the highest
// sum of the rates of the accepted Standard jobs at any instant of the new
// job's window, plus the new job's own rate; windows are half-open, so a
// job that ends exactly when another starts does not overlap it.
//
// # Model days
//
// Days follow firn's model clock (clock.Clock.DayLength, --day-length):
// model day n is [n*DayLength, (n+1)*DayLength) counted from the Unix
// epoch (Day, DayStart), the same boundaries object.NextMidnight uses, so
// with 24-hour days a day is a UTC calendar day. The FreeTier allowance is
// prorated over the month of the model calendar: model day n is the
// calendar date 1970-01-01 plus n days, and the allowance of that day is
// the monthly allowance divided by the length of that date's month
// (DailyFreeAllowance).
//
// # Metering
//
// A Meter adds the bytes of each retrieval to a Store under its model day
// and tier, and reads them back for cost reports. The Store interface is
// defined here, by its consumer; MemStore implements it in memory and
// retrievaltest holds the conformance suite every implementation runs.
//
// # Caveats
//
//   - Admit is pure. To hold under concurrent requests (and several firn
//     nodes), call it inside the transaction that records the new job,
//     over the jobs read in that same transaction; otherwise two requests
//     may each see room for themselves and both be accepted.
//   - The caller chooses which jobs to pass: for FreeTier, every Standard
//     job accepted since the start of the current model day (finished or
//     not); for BytesPerHour, every Standard job whose window has not
//     ended. Passing more is harmless: other jobs are ignored.
//   - The FreeTier allowance counts bytes accepted, not bytes delivered; a
//     job that later fails still used its share of the day.
//   - Day and DayStart use nanoseconds since the Unix epoch when the day
//     length is not a whole number of seconds, which limits such clocks to
//     the years 1678 to 2262.
package retrieval
