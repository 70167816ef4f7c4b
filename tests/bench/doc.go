// Package bench measures a real firn server process under S3 load; see
// bench_test.go for how to run it.
package bench
