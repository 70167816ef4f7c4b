package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/firnhq/firn/internal/app"
	"github.com/firnhq/firn/internal/object"
	"github.com/firnhq/firn/internal/sse"
)

// adminKeyRotate rewraps every SSE-S3 object key under the current (last)
// master key of the key file. The server must know the new key too
// (restart it with the same key file first), since it reads the keys it
// was started with.
func adminKeyRotate(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs, data := adminFlags("firn admin key rotate", stderr)
	keyFile := fs.String("master-key-file", os.Getenv("FIRN_MASTER_KEY_FILE"), "master key file; its last key becomes every object's (default FIRN_MASTER_KEY_FILE, else FIRN_MASTER_KEY)")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := fs.Parse(args); err != nil {
		return ExitUsage
	}
	keys, err := app.MasterKeys(*data, *keyFile, os.Getenv("FIRN_MASTER_KEY"))
	if err != nil {
		fmt.Fprintln(stderr, "firn admin key rotate:", err)
		return ExitFailure
	}
	if keys == nil {
		fmt.Fprintln(stderr, "firn admin key rotate: no master keys: give --master-key-file or FIRN_MASTER_KEY")
		return ExitUsage
	}
	svc, closer, err := app.OpenAdminWithKeys(*data, keys)
	if err != nil {
		fmt.Fprintln(stderr, "firn admin key rotate:", err)
		return ExitFailure
	}
	defer closer.Close()
	last := time.Now()
	res, err := svc.RewrapKeys(ctx, func(r object.RewrapResult) {
		if !*asJSON && time.Since(last) > time.Second {
			fmt.Fprintf(stderr, "\rchecked %d, rewrapped %d", r.Checked, r.Rewrapped)
			last = time.Now()
		}
	})
	if err != nil {
		fmt.Fprintln(stderr, "\nfirn admin key rotate:", err)
		return ExitFailure
	}
	current := keys.(*sse.Keyring).CurrentID()
	if *asJSON {
		return printJSON(stdout, stderr, struct {
			CurrentKey            string `json:"current_key"`
			Checked, Rewrapped    int
			UploadsUnderOlderKeys int `json:"uploads_under_older_keys"`
		}{current, res.Checked, res.Rewrapped, res.Uploads})
	}
	fmt.Fprintf(stdout, "master key %q: %d SSE-S3 object versions checked, %d rewrapped\n", current, res.Checked, res.Rewrapped)
	if res.Uploads > 0 {
		fmt.Fprintf(stdout, "%d incomplete multipart uploads are under older keys: run again after they complete before retiring those keys\n", res.Uploads)
	}
	return ExitOK
}

// adminKeyGenerate prints a new key file line.
func adminKeyGenerate(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("firn admin key generate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	id := fs.String("id", time.Now().UTC().Format("20060102T150405Z"), "key id")
	if err := fs.Parse(args); err != nil {
		return ExitUsage
	}
	fmt.Fprintln(stdout, sse.GenerateKeyLine(*id))
	return ExitOK
}
