package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/firnhq/firn/internal/blob/pack"
)

// packArchive writes objects into a pack store and seals them, and
// returns the archive dirs (the store and its index are closed).
func packArchive(t *testing.T, objs map[pack.Label][]byte, unlabeled [][]byte) ([]string, map[string][]byte) {
	t.Helper()
	root := t.TempDir()
	var dirs []string
	for i := range 6 {
		dirs = append(dirs, filepath.Join(root, fmt.Sprintf("disk%d", i)))
	}
	s, err := pack.Open(pack.Config{StateDir: filepath.Join(root, "state"), Dirs: dirs, PackSize: 64 << 10, BlockSize: 1024})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	byID := map[string][]byte{}
	write := func(l pack.Label, data []byte) {
		w, err := s.CreateLabeled(t.Context(), l)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
		if err := w.Commit(t.Context()); err != nil {
			t.Fatal(err)
		}
		byID[w.ID()] = data
	}
	for l, data := range objs {
		write(l, data)
	}
	for _, data := range unlabeled {
		write(pack.Label{}, data)
	}
	if err := s.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	return dirs, byID
}

func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := Run(context.Background(), args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func content(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = seed + byte(i*7+i/251)
	}
	return b
}

func TestPackLsExtract(t *testing.T) {
	objs := map[pack.Label][]byte{
		{Bucket: "photos", Key: "2024/beach.jpg"}:                        content(30000, 1),
		{Bucket: "photos", Key: "2024/hike.jpg", VersionID: "v1"}:        content(50000, 2),
		{Bucket: "docs", Key: "report.txt"}:                              bytes.Repeat([]byte("quarterly numbers\n"), 2000),
		{Bucket: "docs", Key: "../../escape"}:                            []byte("nope"),
		{Bucket: "docs", Key: "/abs/./x"}:                                []byte("abs"),
		{Bucket: "../up", Key: "k"}:                                      []byte("bucket"),
		{Bucket: "docs", Key: "dir/"}:                                    nil,
		{Bucket: "docs", Key: "100%/done"}:                               []byte("pct"),
		{Bucket: "big", Key: "db.dump", UploadID: "u/1", PartNumber: 1}:  content(20000, 3),
		{Bucket: "big", Key: "db.dump", UploadID: "u/1", PartNumber: 12}: content(7000, 4),
	}
	dirs, byID := packArchive(t, objs, [][]byte{content(1000, 9)})

	code, out, errOut := run(t, append([]string{"pack", "ls"}, dirs...)...)
	if code != ExitOK {
		t.Fatalf("pack ls: exit %d, stderr %s", code, errOut)
	}
	for id := range byID {
		if !strings.Contains(out, id) {
			t.Errorf("pack ls: id %s missing from\n%s", id, out)
		}
	}
	for _, want := range []string{`"photos/2024/beach.jpg"`, `version "v1"`, "zstd", "none", "4+2 shards, 6 found", `"big/db.dump" upload "u/1" part 12`} {
		if !strings.Contains(out, want) {
			t.Errorf("pack ls: %q missing from\n%s", want, out)
		}
	}

	// Extract everything, with one disk lost.
	if err := os.RemoveAll(dirs[2]); err != nil {
		t.Fatal(err)
	}
	outDir := filepath.Join(t.TempDir(), "out")
	code, out, errOut = run(t, append([]string{"pack", "extract", "--out", outDir}, dirs...)...)
	if code != ExitOK {
		t.Fatalf("pack extract: exit %d, stderr %s", code, errOut)
	}
	want := map[string][]byte{
		"photos/2024/beach.jpg":         objs[pack.Label{Bucket: "photos", Key: "2024/beach.jpg"}],
		"photos/2024/hike.jpg":          objs[pack.Label{Bucket: "photos", Key: "2024/hike.jpg", VersionID: "v1"}],
		"docs/report.txt":               objs[pack.Label{Bucket: "docs", Key: "report.txt"}],
		"docs/%2E%2E/%2E%2E/escape":     []byte("nope"),
		"docs/%2F/abs/%2E/x":            []byte("abs"),
		"..%2Fup/k":                     []byte("bucket"),
		"docs/dir/%2F":                  {},
		"docs/100%25/done":              []byte("pct"),
		"big/db.dump.parts/u%2F1/00001": objs[pack.Label{Bucket: "big", Key: "db.dump", UploadID: "u/1", PartNumber: 1}],
		"big/db.dump.parts/u%2F1/00012": objs[pack.Label{Bucket: "big", Key: "db.dump", UploadID: "u/1", PartNumber: 12}],
	}
	for name, data := range want {
		got, err := os.ReadFile(filepath.Join(outDir, filepath.FromSlash(name)))
		if err != nil || !bytes.Equal(got, data) {
			t.Errorf("extracted %s: got (%d bytes, %v), want %d bytes", name, len(got), err, len(data))
		}
	}
	// The unlabeled object is at OUTDIR/ID.
	for id, data := range byID {
		if bytes.Equal(data, content(1000, 9)) {
			got, err := os.ReadFile(filepath.Join(outDir, id))
			if err != nil || !bytes.Equal(got, data) {
				t.Errorf("unlabeled object: got (%d bytes, %v)", len(got), err)
			}
		}
	}
	// Nothing outside OUTDIR.
	parent := filepath.Dir(outDir)
	ents, _ := os.ReadDir(parent)
	if len(ents) != 1 {
		t.Errorf("extract wrote beside OUTDIR: %v", ents)
	}
	if n := strings.Count(out, "\n"); n != len(byID) {
		t.Errorf("extract printed %d lines, want %d", n, len(byID))
	}

	// Filters.
	out2 := filepath.Join(t.TempDir(), "out2")
	code, _, errOut = run(t, append([]string{"pack", "extract", "--out", out2, "--prefix", "photos/2024/b"}, dirs...)...)
	if code != ExitOK {
		t.Fatalf("extract --prefix: exit %d: %s", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(out2, "photos", "2024", "beach.jpg")); err != nil {
		t.Errorf("extract --prefix: %v", err)
	}
	if _, err := os.Stat(filepath.Join(out2, "photos", "2024", "hike.jpg")); err == nil {
		t.Errorf("extract --prefix photos/2024/b wrote hike.jpg")
	}
	var oneID string
	for id, data := range byID {
		if bytes.Equal(data, []byte("pct")) {
			oneID = id
		}
	}
	out3 := filepath.Join(t.TempDir(), "out3")
	code, out, _ = run(t, append([]string{"pack", "extract", "--out", out3, "--id", oneID[:12]}, dirs...)...)
	if code != ExitOK || strings.Count(out, "\n") != 1 {
		t.Errorf("extract --id: exit %d, output %q, want one object", code, out)
	}
	// A second extract into the same dir does not overwrite: it writes
	// beside.
	code, _, errOut = run(t, append([]string{"pack", "extract", "--out", out3, "--id", oneID}, dirs...)...)
	if code != ExitOK {
		t.Fatalf("second extract: exit %d: %s", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(out3, "docs", "100%25", "done~"+oneID)); err != nil {
		t.Errorf("second extract: %v", err)
	}
}

// TestPackExtractBeyondParity: with three of six disks gone, extract
// fails (exit 1) for the objects it cannot rebuild and writes no wrong
// bytes.
func TestPackExtractBeyondParity(t *testing.T) {
	dirs, byID := packArchive(t, nil, [][]byte{content(20000, 1), content(20000, 2)})
	for _, d := range dirs[:3] {
		os.RemoveAll(d)
	}
	outDir := t.TempDir()
	code, _, errOut := run(t, append([]string{"pack", "extract", "--out", outDir}, dirs...)...)
	if code != ExitFailure {
		t.Errorf("extract with 3 of 6 shards: exit %d, want %d (stderr %s)", code, ExitFailure, errOut)
	}
	for id, data := range byID {
		if got, err := os.ReadFile(filepath.Join(outDir, id)); err == nil && !bytes.Equal(got, data) {
			t.Errorf("object %s: wrong bytes written", id)
		}
	}
}

func TestPackUsage(t *testing.T) {
	for _, args := range [][]string{{"pack"}, {"pack", "nope"}, {"pack", "ls"}, {"pack", "extract", "x"}} {
		if code, _, _ := run(t, args...); code != ExitUsage {
			t.Errorf("firn %s: exit %d, want %d", strings.Join(args, " "), code, ExitUsage)
		}
	}
}
