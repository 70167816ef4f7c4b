// Package cli is firn's command line: it parses arguments, runs the
// command and turns the outcome into an exit code. cmd/firn only calls
// Run, so the CLI can be driven from tests.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/firnhq/firn/internal/app"
	"github.com/firnhq/firn/internal/config"
)

// Exit codes.
const (
	ExitOK      = 0
	ExitFailure = 1 // the command failed
	ExitUsage   = 2 // bad arguments or configuration
)

// Version is set at build time with -ldflags "-X ...cli.Version=...".
var Version = "dev"

const usage = `firn — a self-hosted, S3-compatible archival storage server

Usage:
  firn server [flags]     run the S3 server (firn server -h for flags)
  firn pack ls|extract    read archive packs without the server (firn pack -h)
  firn admin ...          users and keys, master key rotation, restore jobs, retrieval policy, archive scrub/compaction (firn admin)
  firn report audit       who did what, denied requests (firn report)
  firn get s3://B/K [DEST]  download any object, restoring an archived one first (firn get -h)
  firn restore s3://B/P   plan, cost and run the restore of every archived object under a prefix (firn restore -h)
  firn backup ...         encrypted, deduplicated backups to any S3 endpoint (firn backup -h)
  firn lifecycle preview|simulate  what a lifecycle policy will do and cost (firn lifecycle -h)
  firn version            print the version

Settings come from flags, FIRN_* environment variables and a config file
(--config firn.toml or .yaml). Root credentials: FIRN_ACCESS_KEY and
FIRN_SECRET_KEY, or generated on first start and stored in the data
directory.
`

// Run runs firn with args (without the program name) and returns the exit
// code.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return ExitUsage
	}
	switch args[0] {
	case "server":
		return runServer(ctx, args[1:], stdout, stderr)
	case "admin":
		return runAdmin(ctx, args[1:], stdout, stderr)
	case "pack":
		return runPack(ctx, args[1:], stdout, stderr)
	case "backup":
		return runBackup(ctx, args[1:], stdout, stderr)
	case "lifecycle":
		return runLifecycle(ctx, args[1:], stdout, stderr)
	case "report":
		return runReport(ctx, args[1:], stdout, stderr)
	case "get":
		return runGet(ctx, args[1:], stdout, stderr)
	case "restore":
		return runRestore(ctx, args[1:], stdout, stderr)
	case "version", "--version":
		fmt.Fprintln(stdout, "firn", Version)
		return ExitOK
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return ExitOK
	}
	fmt.Fprintf(stderr, "firn: unknown command %q\n\n%s", args[0], usage)
	return ExitUsage
}

func runServer(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, fs, err := config.LoadServer(args, os.Getenv)
	if errors.Is(err, flag.ErrHelp) {
		return ExitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "firn server: %v\n", err)
		if fs != nil && fs.Parsed() {
			return ExitUsage
		}
		return ExitUsage
	}
	log, err := app.NewLogger(cfg, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "firn server: %v\n", err)
		return ExitUsage
	}
	srv, err := app.Start(ctx, cfg, log, stdout)
	if err != nil {
		log.Error("start", "err", err)
		return ExitFailure
	}
	<-ctx.Done()
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Error("shutdown", "err", err)
		return ExitFailure
	}
	return ExitOK
}
