// Package tiering reads, checks and writes S3 Intelligent-Tiering
// configurations: the documents of Put/Get/List/
// DeleteBucketIntelligentTieringConfiguration, which opt the
// INTELLIGENT_TIERING objects a filter selects into the Archive Access
// and Deep Archive Access tiers after a number of days without access.
//
// It is pure, like package lifecycle: no I/O, no clock, no firn imports
// but lifecycle's tag type. The protocol layer hands Parse the body of a
// PUT and its id query parameter and writes back what Marshal and
// MarshalList return; the object service stores Configurations (as JSON)
// and the access-tier engine asks Matches and TierDays.
//
// # Validation
//
// Parse checks a document as S3 does: the schema first (anything not
// well-formed, unknown or repeated elements, a missing Id, Status or
// Tiering, values outside their enumeration, a Filter with more than one
// predicate or an And with fewer than two, and an Id that differs from
// the request's id: all MalformedXML), then the meaning of the tierings
// and tags (InvalidArgument, or InvalidRequest for repeated tag keys).
// Every failure is an *Error whose Status is 400. The limit of 1,000
// configurations per bucket is the caller's to enforce
// (MaxConfigurations, CodeTooManyConfigurations).
//
// # Caveats
//
//   - AWS documents the limits (90–730 days for ARCHIVE_ACCESS, 180–730
//     for DEEP_ARCHIVE_ACCESS, 1,000 configurations) but not every
//     message. "Days specified in ARCHIVE_ACCESS tier should not be less
//     than 90." was seen returned by S3; the other messages are firn's
//     wording in the same style.
//   - Where a document has several faults, the one reported may differ
//     from S3's.
package tiering
