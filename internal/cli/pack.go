package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/firnhq/firn/internal/blob/pack"
)

const packUsage = `Usage:
  firn pack ls DIR...
      list the objects of every pack whose shards are under the archive
      directories DIR...
  firn pack extract --out OUTDIR [--id ID]... [--prefix PREFIX] DIR...
      write the objects out: to OUTDIR/BUCKET/KEY when they carry a label,
      else to OUTDIR/ID; --id keeps the objects whose id starts with ID,
      --prefix those whose BUCKET/KEY starts with PREFIX.

Both read the shard files alone (no server, no index database), check
every object's SHA-256 and rebuild missing or damaged shards from parity
in memory; they never write to the archive directories.
`

// runPack runs `firn pack`.
func runPack(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, packUsage)
		return ExitUsage
	}
	switch args[0] {
	case "ls":
		return runPackLs(ctx, args[1:], stdout, stderr)
	case "extract":
		return runPackExtract(ctx, args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, packUsage)
		return ExitOK
	}
	fmt.Fprintf(stderr, "firn pack: unknown command %q\n\n%s", args[0], packUsage)
	return ExitUsage
}

func packLogger(stderr io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

func runPackLs(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("firn pack ls", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, packUsage) }
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitOK
		}
		return ExitUsage
	}
	if fs.NArg() == 0 {
		fmt.Fprintf(stderr, "firn pack ls: no archive directory given\n\n%s", packUsage)
		return ExitUsage
	}
	a, err := pack.OpenArchive(fs.Args(), packLogger(stderr))
	if err != nil {
		fmt.Fprintf(stderr, "firn pack ls: %v\n", err)
		return ExitFailure
	}
	defer a.Close()
	code := ExitOK
	tw := tabwriter.NewWriter(stdout, 0, 8, 2, ' ', 0)
	for _, p := range a.Packs {
		fmt.Fprintf(tw, "pack %s\tsealed %s\t%d+%d shards, %d found\t%d objects\t%d bytes\n",
			p.ID, p.Sealed.UTC().Format(time.RFC3339), p.DataShards, p.ParityShards, p.ShardsFound, len(p.Entries), p.Length)
		if p.Err != nil {
			fmt.Fprintf(stderr, "firn pack ls: pack %s: index unreadable (%v); objects found by scanning\n", p.ID, p.Err)
			code = ExitFailure
		}
		for _, e := range p.Entries {
			fmt.Fprintf(tw, "  %s\t%d\t%d %s\t%s\t%s\n", e.ID, e.Size, e.StoredSize, e.Compression,
				e.Committed.UTC().Format(time.RFC3339), labelString(e.Label))
		}
	}
	if err := tw.Flush(); err != nil {
		fmt.Fprintf(stderr, "firn pack ls: %v\n", err)
		return ExitFailure
	}
	return code
}

// labelString shows a label as bucket/key, with the version if any, and
// the upload and part number of a multipart part.
func labelString(l pack.Label) string {
	if l == (pack.Label{}) {
		return "-"
	}
	s := fmt.Sprintf("%q", l.Bucket+"/"+l.Key)
	if l.VersionID != "" {
		s += fmt.Sprintf(" version %q", l.VersionID)
	}
	if l.PartNumber > 0 {
		s += fmt.Sprintf(" upload %q part %d", l.UploadID, l.PartNumber)
	}
	return s
}

// multiFlag collects a repeated flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func runPackExtract(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("firn pack extract", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, packUsage) }
	out := fs.String("out", "", "directory to write the objects to")
	prefix := fs.String("prefix", "", "extract only objects whose BUCKET/KEY starts with this")
	var ids multiFlag
	fs.Var(&ids, "id", "extract only objects whose id starts with this (repeatable)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitOK
		}
		return ExitUsage
	}
	if *out == "" || fs.NArg() == 0 {
		fmt.Fprintf(stderr, "firn pack extract: --out and an archive directory are required\n\n%s", packUsage)
		return ExitUsage
	}
	a, err := pack.OpenArchive(fs.Args(), packLogger(stderr))
	if err != nil {
		fmt.Fprintf(stderr, "firn pack extract: %v\n", err)
		return ExitFailure
	}
	defer a.Close()
	if err := os.MkdirAll(*out, 0o755); err != nil {
		fmt.Fprintf(stderr, "firn pack extract: %v\n", err)
		return ExitFailure
	}
	// Every file is created through root, so no label can name a path
	// outside it, not even through a symbolic link.
	root, err := os.OpenRoot(*out)
	if err != nil {
		fmt.Fprintf(stderr, "firn pack extract: %v\n", err)
		return ExitFailure
	}
	defer root.Close()
	want := func(e *pack.Entry) bool {
		if len(ids) > 0 {
			ok := false
			for _, id := range ids {
				ok = ok || strings.HasPrefix(e.ID, strings.ToLower(id))
			}
			if !ok {
				return false
			}
		}
		return *prefix == "" || strings.HasPrefix(e.Label.Bucket+"/"+e.Label.Key, *prefix)
	}
	code := ExitOK
	done := map[string]bool{}
	n := 0
	for _, p := range a.Packs {
		if p.Err != nil {
			fmt.Fprintf(stderr, "firn pack extract: pack %s: index unreadable (%v); extracting the objects found by scanning\n", p.ID, p.Err)
			code = ExitFailure
		}
		for i := range p.Entries {
			e := &p.Entries[i]
			if done[e.ID] || !want(e) {
				continue
			}
			if err := ctx.Err(); err != nil {
				fmt.Fprintf(stderr, "firn pack extract: %v\n", err)
				return ExitFailure
			}
			name, err := extractOne(root, p, e)
			if err != nil {
				fmt.Fprintf(stderr, "firn pack extract: object %s (%s): %v\n", e.ID, labelString(e.Label), err)
				code = ExitFailure
				continue
			}
			done[e.ID] = true
			n++
			fmt.Fprintf(stdout, "%s\t%s\n", e.ID, filepath.Join(*out, filepath.FromSlash(name)))
		}
	}
	fmt.Fprintf(stderr, "firn pack extract: %d objects written to %s\n", n, *out)
	return code
}

// extractOne writes e under root and returns the slash-separated name it
// was written to: its label's path, or, when that is taken or unusable,
// the label's path with ~ID appended, or ID at the top.
func extractOne(root *os.Root, p *pack.ArchivePack, e *pack.Entry) (string, error) {
	var names []string
	if e.Label.Bucket != "" || e.Label.Key != "" {
		lp := labelPath(e.Label)
		names = append(names, lp, lp+"~"+e.ID)
	}
	names = append(names, e.ID)
	var lastErr error
	for _, name := range names {
		if dir := path.Dir(name); dir != "." {
			if err := root.MkdirAll(filepath.FromSlash(dir), 0o755); err != nil {
				lastErr = err
				continue
			}
		}
		f, err := root.OpenFile(filepath.FromSlash(name), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			lastErr = err
			continue
		}
		err = copyObject(f, p, e)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			root.Remove(filepath.FromSlash(name))
			return "", err
		}
		root.Chtimes(filepath.FromSlash(name), e.Committed, e.Committed)
		return name, nil
	}
	return "", lastErr
}

func copyObject(w io.Writer, p *pack.ArchivePack, e *pack.Entry) error {
	r, err := p.Open(e)
	if err != nil {
		return err
	}
	defer r.Close()
	_, err = io.Copy(w, r)
	return err
}

// labelPath maps a label to a relative slash-separated path
// BUCKET/KEY... in which every element is a plain name: "%" is escaped
// as %25, NUL as %00, an empty element as %2F, "." and ".." as %2E and
// %2E%2E, and a "/" in the bucket as %2F.
func labelPath(l pack.Label) string {
	parts := []string{escapeElem(strings.ReplaceAll(escapePercent(l.Bucket), "/", "%2F"), false)}
	for _, el := range strings.Split(l.Key, "/") {
		parts = append(parts, escapeElem(el, true))
	}
	if l.PartNumber > 0 {
		// KEY.parts/UPLOAD/00001: the parts of an upload sort in order,
		// so concatenating them rebuilds the object.
		parts[len(parts)-1] += ".parts"
		parts = append(parts, escapeElem(strings.ReplaceAll(escapePercent(l.UploadID), "/", "%2F"), false), fmt.Sprintf("%05d", l.PartNumber))
	}
	return strings.Join(parts, "/")
}

func escapePercent(s string) string { return strings.ReplaceAll(s, "%", "%25") }

func escapeElem(s string, percent bool) string {
	if percent {
		s = escapePercent(s)
	}
	s = strings.ReplaceAll(s, "\x00", "%00")
	switch s {
	case "":
		return "%2F"
	case ".":
		return "%2E"
	case "..":
		return "%2E%2E"
	}
	return s
}
