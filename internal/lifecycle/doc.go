// Package lifecycle reads, checks and evaluates S3 bucket lifecycle
// configurations.
//
// It is pure: it does no I/O, imports nothing of firn's, and never reads
// the clock. The protocol layer hands it the body of
// PutBucketLifecycleConfiguration and writes back what Marshal returns for
// GetBucketLifecycleConfiguration; the lifecycle engine asks it when each
// object version next becomes due, and for what.
//
// # Parsing
//
// Parse decodes a LifecycleConfiguration document, with or without S3's
// namespace, and checks it as S3 does: first the schema (unknown or
// repeated elements, missing required ones, values of the wrong type or
// outside an enumeration, all MalformedXML), then the rules' meaning, each
// fault answered with S3's code and, where S3 was seen answering it, S3's
// message. Every failure is an *Error; its Status is always 400. Rules
// without an ID get a deterministic one, so a configuration reads back
// the same way every time.
//
// # Evaluation
//
// An Object describes one version of a key as the lifecycle sees it.
// Configuration.Next returns the first action due on it and when;
// Configuration.Evaluate returns what to do at a given instant, resolving
// conflicts between rules as S3 documents: permanent deletion beats
// transition, transition beats the creation of a delete marker, and among
// transitions the coldest class allowed from the object's current class
// wins (Intelligent-Tiering being preferred to everything but GLACIER and
// DEEP_ARCHIVE). Configuration.Schedule plays the whole future of a
// version for previews.
//
// Day counts become due times by adding that many model days to the base
// time (creation, or the moment a version became noncurrent) and rounding
// up to the next model-day boundary; an instant already on a boundary
// moves to the next one, as in object.NextMidnight. With 24-hour days the
// boundary is 00:00 UTC. Date-based actions are due at their Date.
//
// # Caveats
//
//   - S3 documents neither the order in which it checks a configuration
//     nor every message; where several faults are present the first one
//     reported may differ from S3's, and messages S3 was never seen
//     returning are firn's own wording.
//   - An object is eligible for only one action per day in S3. Evaluate
//     and Next are stateless and do not enforce that; the engine may.
//   - A Date in the past makes matching objects due at once: their due
//     time is the Date itself, before their creation.
package lifecycle
