// Package e2e runs real S3 clients — the AWS CLI (v1 and v2), rclone,
// s3cmd, restic and boto3 — as subprocesses against a real `firn server`
// process that TestMain builds and starts.
//
// A test whose client is not installed is skipped, unless
// FIRN_E2E_REQUIRE=1 (as in CI), when it fails instead. Each client runs
// with a temporary HOME and its configuration in temporary files, never
// the user's own. With FIRN_E2E_RACE=1 (as `make test` sets) the server
// is built with -race, and a data race it reports fails the run.
package e2e
