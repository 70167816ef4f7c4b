package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path"
	"time"

	"github.com/firnhq/firn/internal/notify/target"
	"github.com/firnhq/firn/s3archive"
)

const getUsage = `Usage:
  firn get s3://BUCKET/KEY [DEST] [flags]
  firn get -b BUCKET -k KEY [-e DAYS] [DEST] [flags]

Downloads an object whatever its storage class: an archived one (GLACIER,
DEEP_ARCHIVE, an Intelligent-Tiering archive tier) is restored first and
waited for. DEST defaults to the key's base name; "-" is standard output.
Run it again after an interruption to resume waiting for the same restore.
Works against firn or any S3 endpoint (AWS credentials chain and profiles).

Notifications: --notify DEST (repeatable) sends S3 event messages (AWS's
JSON) about the restore: ObjectRestore:Post when this run requests it or
finds it running, ObjectRestore:Completed when the object is readable
(not with --no-wait). Nothing is sent for an object that needs no
restore. DEST is one of
  https://… or http://…                    a webhook (HMAC signature with
                                           --notify-secret-env VAR)
  nats://HOST:PORT/SUBJECT[?stream=NAME]   a JetStream publish; without
                                           stream, a stream capturing
                                           SUBJECT must exist
  mailto:ADDR or ADDR                      an email, via the SMTP server of
                                           FIRN_SMTP_URL (smtp://[USER:PASS@]HOST[:PORT]),
                                           from FIRN_SMTP_FROM (default firn@HOSTNAME)
A notification that cannot be delivered is a warning on stderr (and
counted in --json's "notify_errors"); it does not change the exit code.

Exit codes: 0 downloaded (or, with --no-wait, restore requested or
running: see --json), 1 failure, 2 usage.
`

// runGet runs `firn get`.
func runGet(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("firn get", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, getUsage); fs.PrintDefaults() }
	var conn s3Flags
	conn.register(fs)
	bucket := fs.String("b", "", "bucket (instead of s3://BUCKET/KEY)")
	key := fs.String("k", "", "key (instead of s3://BUCKET/KEY)")
	days := fs.Int("days", 1, "days the restored copy lives")
	fs.IntVar(days, "e", 1, "days the restored copy lives (as --days)")
	tier := fs.String("tier", s3archive.TierStandard, "restore tier: Expedited, Standard or Bulk")
	version := fs.String("version-id", "", "read this version")
	noWait := fs.Bool("no-wait", false, "request the restore and return without waiting")
	owner := fs.String("expected-bucket-owner", "", "account id the bucket must belong to")
	asJSON := fs.Bool("json", false, "print the outcome as JSON")
	timeout := fs.Duration("timeout", 0, "give up waiting after this long (0: never)")
	var nf notifyFlags
	nf.register(fs)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return ExitUsage
	}
	if *bucket == "" && len(pos) > 0 {
		b, k, err := splitS3URL(pos[0])
		if err != nil {
			fmt.Fprintln(stderr, "firn get:", err)
			return ExitUsage
		}
		*bucket, *key, pos = b, k, pos[1:]
	}
	if *bucket == "" || *key == "" || len(pos) > 1 {
		fs.Usage()
		return ExitUsage
	}
	if !validTier(*tier) {
		fmt.Fprintf(stderr, "firn get: --tier %q: want Expedited, Standard or Bulk\n", *tier)
		return ExitUsage
	}
	dest := path.Base(*key)
	if len(pos) == 1 {
		dest = pos[0]
	}
	nt, err := nf.open(ctx, "firn get", os.Getenv, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "firn get:", err)
		return ExitUsage
	}
	defer nt.close()
	c, err := conn.client(ctx)
	if err != nil {
		fmt.Fprintln(stderr, "firn get:", err)
		return ExitFailure
	}
	if *timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *timeout)
		defer cancel()
	}
	src := "s3://" + *bucket + "/" + *key
	// restoring: this run requested the restore or found it running,
	// and has sent ObjectRestore:Post (when notifying).
	restoring := false
	notifyEvent := func(name, class string) {
		if nt == nil {
			return
		}
		e := headEvent(ctx, c, name, *bucket, *key, *version, *owner, class)
		nt.send(ctx, []target.Message{restoreMessage(e, *version)})
	}
	opts := s3archive.Options{Days: *days, Tier: *tier, VersionID: *version, NoWait: *noWait, ExpectedBucketOwner: *owner,
		OnEvent: func(e s3archive.Event) {
			if !*asJSON {
				switch e.Kind {
				case s3archive.Requested:
					fmt.Fprintf(stderr, "%s is in %s: restore requested (%s tier), expected by %s\n", src, classOf(e.StorageClass, e.ArchiveStatus),
						e.Tier, e.ExpectedReady.Local().Format(time.RFC1123))
				case s3archive.Waiting:
					fmt.Fprintf(stderr, "waiting for the restore of %s (expected by %s)\n", src, e.ExpectedReady.Local().Format(time.RFC1123))
				}
			}
			switch {
			case (e.Kind == s3archive.Requested || e.Kind == s3archive.Waiting) && !restoring:
				// Requested by this run, or (a Waiting before any
				// Requested) found running.
				restoring = true
				notifyEvent(eventRestorePost, e.StorageClass)
			case e.Kind == s3archive.Ready && restoring:
				notifyEvent(eventRestoreCompleted, e.StorageClass)
			}
		}}
	out, err := s3archive.GetObject(ctx, c, *bucket, *key, opts)
	var pe *s3archive.PendingError
	if errors.As(err, &pe) {
		state := "restoring"
		if pe.Err != nil {
			fmt.Fprintln(stderr, "firn get: stopped waiting:", pe.Err, "(run it again to resume)")
		} else if !restoring {
			// --no-wait found the restore running: no event told of it.
			restoring = true
			notifyEvent(eventRestorePost, pe.StorageClass)
		}
		if *asJSON {
			result := map[string]any{"source": src, "state": state, "storage_class": pe.StorageClass,
				"archive_status": pe.ArchiveStatus, "tier": pe.Tier, "expected_ready": pe.ExpectedReady.UTC()}
			nt.addCounts(result)
			printJSON(stdout, stderr, result)
		} else if pe.Err == nil {
			fmt.Fprintf(stderr, "restore of %s under way; run `firn get` again after %s\n", src, pe.ExpectedReady.Local().Format(time.RFC1123))
		}
		if pe.Err != nil {
			return ExitFailure
		}
		return ExitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "firn get: %s: %v\n", src, s3Error(err))
		return ExitFailure
	}
	defer out.Body.Close()
	var w io.Writer = stdout
	var f *os.File
	if dest != "-" {
		// Write beside the destination, then rename: an interrupted
		// download never leaves a partial file under its name.
		f, err = os.CreateTemp(path.Dir(dest), ".firn-get-*")
		if err != nil {
			fmt.Fprintln(stderr, "firn get:", err)
			return ExitFailure
		}
		defer os.Remove(f.Name())
		w = f
	}
	n, err := io.Copy(w, out.Body)
	if err == nil && f != nil {
		if err = f.Sync(); err == nil {
			err = f.Close()
		}
		if err == nil {
			err = os.Rename(f.Name(), dest)
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "firn get: %s: %v\n", src, err)
		return ExitFailure
	}
	if *asJSON {
		result := map[string]any{"source": src, "state": "downloaded", "dest": dest, "bytes": n}
		nt.addCounts(result)
		return printJSON(stdout, stderr, result)
	}
	if dest != "-" {
		fmt.Fprintf(stderr, "%s -> %s (%d bytes)\n", src, dest, n)
	}
	return ExitOK
}

func classOf(class, archiveStatus string) string {
	if archiveStatus != "" {
		return class + " (" + archiveStatus + ")"
	}
	return class
}

// s3Error shortens an SDK error to its S3 code and message.
func s3Error(err error) error {
	var ae interface {
		ErrorCode() string
		ErrorMessage() string
	}
	if errors.As(err, &ae) {
		return fmt.Errorf("%s: %s", ae.ErrorCode(), ae.ErrorMessage())
	}
	return err
}

// validTier reports whether tier names a restore tier.
func validTier(tier string) bool {
	switch tier {
	case s3archive.TierExpedited, s3archive.TierStandard, s3archive.TierBulk:
		return true
	}
	return false
}
