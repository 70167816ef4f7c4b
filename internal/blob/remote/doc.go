// Package remote is a blob tier in someone else's storage: a
// blob.Store over any S3-compatible bucket (AWS S3, Ceph RGW, another
// firn), so that firn can tier to storage it does not own, including
// AWS's own archive classes.
//
// # Layout
//
// Blob id is stored as the object <Prefix><id> in Config.Bucket, in
// Config.StorageClass. Ids have the shape of the fs store's: 32 lower-case
// hex digits (128 random bits), checked before any key is built, so no id
// from outside can name another key. Nothing else is written: there is no
// temporary area and no index. Walk and Sweep look only at keys directly
// under the prefix whose rest is an id, so the bucket (and even the
// prefix) can be shared with other data.
//
// # Writes
//
// A Writer buffers up to Config.PartSize bytes in memory and never makes
// a request before it has to. A blob that fits in one buffer is sent by
// Commit as a single PutObject, which S3 makes visible atomically. A
// larger one becomes a multipart upload: the upload is started when the
// first buffer fills, every full buffer is sent as a part, and Commit
// sends the rest as the last part and completes the upload. Until
// CompleteMultipartUpload succeeds the object does not exist for GET or
// LIST, which is what makes a blob invisible before Commit. Abort aborts
// the upload; the uploads of writers that were abandoned (a crash) are
// aborted by Sweep, through ListMultipartUploads. Parts carry CRC32
// checksums, checked by the remote. See docs/adr/0004-remote-tier.md.
//
// # Reads
//
// Open is a GET with a Range header. An object that the remote keeps in
// an archive class that needs a restore before it can be read (S3
// GLACIER, DEEP_ARCHIVE, the archive tiers of INTELLIGENT_TIERING) gives
// a *NeedsRestoreError. Restoring on the remote (RestoreObject, then
// waiting) is a later step of the tiering work and is not done here.
//
// # Caveats
//
//   - A blob can have at most 10,000 parts, so the largest blob is
//     10,000 × PartSize (156 GiB at the default 16 MiB). Each Writer holds
//     up to PartSize bytes of memory.
//   - The committed time Walk reports is the remote's Last-Modified. For a
//     multipart blob some servers (AWS among them) give the time the
//     upload started, which is when the first PartSize bytes were written,
//     not when Commit returned; a garbage collector's grace period must
//     be longer than the slowest write, as it must for Sweep.
//   - Sweep judges an upload's age by its latest activity: its start, its
//     newest part and, for writers of this process, their last Write. A
//     writer of another process that stays silent for longer than
//     olderThan is aborted, and its Commit then fails.
//   - Walk lists the whole prefix: one request per 1,000 blobs, which on
//     a remote with many millions of blobs takes minutes and costs LIST
//     requests each time. See the ADR.
//   - Delete on a versioned bucket leaves the old version behind (and
//     billed); use an unversioned bucket or a lifecycle rule that expires
//     noncurrent versions. Archive classes have minimum storage durations
//     (90 or 180 days on AWS) that Delete does not avoid.
//   - Without AccessKey and SecretKey the store uses Config.Credentials
//     or the AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
//     AWS_SESSION_TOKEN environment variables; the SDK's full default
//     chain (shared files, instance roles) needs the composition root to
//     pass it as Config.Credentials.
package remote
