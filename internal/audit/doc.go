// Package audit is firn's compliance trail: every S3 request, and every
// lifecycle or restore action the server takes by itself, becomes one
// Record, written as one line of JSON.
//
// It imports nothing of firn's. The protocol layer builds a Record when
// it has answered a request and hands it to a Logger; the lifecycle
// engine and the restore worker do the same for what they do unasked.
// Summarize and SummarizeFiles read the log back into a Summary for
// operators and auditors.
//
// # Record format
//
// Each line is one JSON object (JSON Lines), UTF-8, terminated by "\n",
// with no newline inside it. Fields appear in the order below; a field
// that is empty (empty string, zero number, empty map) is left out, except
// time, which is always present. Readers must ignore fields they do not
// know: new ones may be added, and existing ones never change meaning.
//
//	time         string  When the request arrived or the action was taken:
//	                     RFC 3339 with nanoseconds, always UTC ("Z"), e.g.
//	                     "2025-03-01T12:34:56.789012345Z". Trailing zeros
//	                     of the fraction are dropped.
//	request_id   string  The x-amz-request-id returned to the client; it
//	                     ties a line to the server's other logs.
//	principal    string  Who acted: the access key ID the request was
//	                     signed with ("anonymous" for a request without
//	                     credentials), or a system principal for actions
//	                     the server takes by itself: "system:lifecycle"
//	                     (transitions and expirations) or "system:restore"
//	                     (completing or expiring a restored copy). A request
//	                     refused while being authenticated names the access
//	                     key ID it claimed; that ID is not proof of who sent
//	                     it.
//	source_ip    string  The client's IP address, without port.
//	action       string  What was asked for: the S3 operation with an "s3:"
//	                     prefix, as in IAM policies ("s3:GetObject",
//	                     "s3:PutObject", "s3:DeleteObject", ...). System
//	                     actions use their own prefix, by convention
//	                     "lifecycle:" or "restore:" (e.g.
//	                     "lifecycle:Transition").
//	bucket       string  The bucket acted on; absent for service-level
//	                     requests such as ListBuckets.
//	key          string  The object key acted on, exactly as stored (JSON
//	                     escaping applies; HTML characters are not escaped;
//	                     invalid UTF-8 becomes U+FFFD).
//	version_id   string  The object version read, deleted or created.
//	status       number  The HTTP status of the response; absent for system
//	                     actions, which have none. 403 marks a denied
//	                     request.
//	error_code   string  The S3 error code of the response ("AccessDenied",
//	                     "NoSuchKey", "SignatureDoesNotMatch", ...), or of a
//	                     failed system action; absent on success.
//	bytes_in     number  Request body bytes read from the client.
//	bytes_out    number  Response body bytes written to the client.
//	duration_ms  number  Time from the request's arrival to the end of the
//	                     response, in milliseconds, with a fraction.
//	user_agent   string  The client's User-Agent header.
//	detail       object  A small map of strings describing a system action,
//	                     e.g. {"rule":"tiers","storage_class":"GLACIER"};
//	                     keys in lexical order.
//
// For example (wrapped here, one line in the file):
//
//	{"time":"2025-03-01T12:34:56.789Z","request_id":"17A2B3C4D5E6F708",
//	 "principal":"AKIAEXAMPLE","source_ip":"192.0.2.10","action":"s3:GetObject",
//	 "bucket":"photos","key":"2024/cat.jpg","status":200,"bytes_out":48213,
//	 "duration_ms":3.25,"user_agent":"aws-cli/2.15.0"}
//
// # What never goes in a record
//
// The log is read by more people than the credentials are. Secret access
// keys, the Authorization header, signatures (SigV4 or SigV2, in a header
// or a presigned URL's query string: X-Amz-Signature, X-Amz-Credential,
// X-Amz-Security-Token, Signature), any request URI or query string, and
// SSE-C keys or their MD5s never belong in a Record. Record has no field
// that could carry them, and callers must not put them in Key, UserAgent
// or Detail.
//
// # Logger contract
//
// Log does not wait for the disk: it encodes the record and queues the
// line for a writer goroutine. When the queue (of BufferSize lines) is
// full, Log waits while the writer makes progress, which slows an
// overloaded server down instead of losing its records, and gives up once
// the writer has been stuck for MaxBlock. A record that could not be
// queued, was logged after Close, or that the writer failed to write, is
// counted in Dropped, never lost silently. Lines from one goroutine are written in
// the order logged; lines from several goroutines interleave whole. Close
// writes everything queued, syncs the file and reports the first error
// met. A nil *Logger discards everything, so servers without an audit log
// need no special case.
//
// Open's files are created with mode 0600 and rotate by size: the active
// file is path, rotated ones path.1 (newest) to path.N (oldest); see Open.
//
// Time comes from the caller: a Record should carry the time its request
// arrived, taken from the server's clock. Log fills in the wall-clock time
// only when Time is zero.
package audit
