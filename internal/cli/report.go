package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/firnhq/firn/internal/app"
	"github.com/firnhq/firn/internal/audit"
)

const reportUsage = `Usage:
  firn report audit [--data DIR | --file LOG] [--from T] [--to T] [--principal KEY] [--bucket B] [--denied N] [--json]
      who did what, the requests denied and the errors, from the audit log and
      its rotated files (T: RFC 3339 time, or a duration before now such as 24h)
`

// runReport runs `firn report ...`.
func runReport(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "audit" {
		fmt.Fprint(stderr, reportUsage)
		return ExitUsage
	}
	fs := flag.NewFlagSet("firn report audit", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := dataFlag(fs)
	file := fs.String("file", "", "audit log file (default DATA/audit/audit.log)")
	from := fs.String("from", "", "only records at or after this time")
	to := fs.String("to", "", "only records before this time")
	principal := fs.String("principal", "", "only this principal's records")
	bucket := fs.String("bucket", "", "only records about this bucket")
	denied := fs.Int("denied", 0, "list at most this many denied requests (default 100; negative: none)")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := fs.Parse(args[1:]); err != nil {
		return ExitUsage
	}
	opts := audit.SummaryOptions{Principal: *principal, Bucket: *bucket, DeniedLimit: *denied}
	var err error
	if opts.From, err = reportTime(*from); err != nil {
		fmt.Fprintln(stderr, "firn report audit: --from:", err)
		return ExitUsage
	}
	if opts.To, err = reportTime(*to); err != nil {
		fmt.Fprintln(stderr, "firn report audit: --to:", err)
		return ExitUsage
	}
	path := *file
	if path == "" {
		path = app.AuditLogPath(*data)
	}
	files, err := audit.LogFiles(path)
	if err != nil || len(files) == 0 {
		fmt.Fprintf(stderr, "firn report audit: no audit log at %s: %v\n", path, err)
		return ExitFailure
	}
	sum, err := audit.SummarizeFiles(files, opts)
	if err != nil {
		fmt.Fprintln(stderr, "firn report audit:", err)
		return ExitFailure
	}
	if *asJSON {
		return printJSON(stdout, stderr, sum)
	}
	if err := sum.WriteText(stdout); err != nil {
		fmt.Fprintln(stderr, "firn report audit:", err)
		return ExitFailure
	}
	return ExitOK
}

// reportTime reads an RFC 3339 time or a duration before now ("" is
// none).
func reportTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseDuration(s); err == nil {
		return time.Now().Add(-d), nil
	}
	return time.Parse(time.RFC3339, s)
}
