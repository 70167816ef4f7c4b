package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/firnhq/firn/internal/object"
)

// adminBucketRestoreOnGet runs `firn admin bucket restore-on-get`.
func adminBucketRestoreOnGet(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs, data := adminFlags("firn admin bucket restore-on-get", stderr)
	tier := fs.String("tier", "", "restore tier the GET starts: Expedited, Standard or Bulk (setting this turns the option on)")
	days := fs.Int("days", 1, "days the restored copy lives")
	off := fs.Bool("off", false, "turn the option off")
	bucket, rest := splitName(args)
	if err := fs.Parse(rest); err != nil {
		return ExitUsage
	}
	if bucket == "" && fs.NArg() > 0 {
		bucket = fs.Arg(0)
	}
	if bucket == "" || *off && *tier != "" {
		fmt.Fprintln(stderr, "firn admin bucket restore-on-get BUCKET [--tier T [--days N] | --off] [--data DIR]")
		return ExitUsage
	}
	svc, closer, code := openAdmin(*data, stderr)
	if closer == nil {
		return code
	}
	defer closer.Close()
	switch {
	case *off:
		if err := svc.SetRestoreOnGet(ctx, bucket, nil); err != nil {
			fmt.Fprintln(stderr, "firn admin:", err)
			return ExitFailure
		}
		fmt.Fprintf(stdout, "s3://%s: restore on GET off\n", bucket)
	case *tier != "":
		if err := svc.SetRestoreOnGet(ctx, bucket, &object.RestoreOnGet{Tier: *tier, Days: *days}); err != nil {
			fmt.Fprintln(stderr, "firn admin:", err)
			return ExitUsage
		}
		fmt.Fprintf(stdout, "s3://%s: a GET of an archived object starts a %s restore for %d days\n", bucket, *tier, *days)
	default:
		o, err := svc.GetRestoreOnGet(ctx, bucket)
		if err != nil {
			fmt.Fprintln(stderr, "firn admin:", err)
			return ExitFailure
		}
		if o == nil {
			fmt.Fprintf(stdout, "s3://%s: restore on GET off\n", bucket)
		} else {
			fmt.Fprintf(stdout, "s3://%s: restore on GET with the %s tier for %d days\n", bucket, o.Tier, o.Days)
		}
	}
	return ExitOK
}
