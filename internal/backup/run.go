package backup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync/atomic"

	"github.com/firnhq/firn/internal/backup/chunker"
	"github.com/firnhq/firn/internal/backup/repo"
	"github.com/firnhq/firn/internal/clock"
)

// Progress counts the work of a run or a restore as it happens; another
// goroutine may read it at any time.
type Progress struct {
	Files    atomic.Int64 // files done
	Bytes    atomic.Int64 // bytes of the files done (or written, in a restore)
	BytesNew atomic.Int64 // plaintext bytes of new chunks
	Packs    atomic.Int64 // packs uploaded or downloaded
}

// RunOptions say what to back up.
type RunOptions struct {
	// Paths are the files and directories to back up.
	Paths []string
	// Type is repo.TypeFull or repo.TypeIncremental (default).
	Type string
	Tags []string
	// Excludes are glob patterns (filepath.Match) matched against the
	// base name and the absolute path of every entry.
	Excludes []string
	// Host is recorded in the snapshot and selects the parent; default
	// os.Hostname.
	Host string
	// StdinName, when set, adds a file of that name at the root of the
	// snapshot holding the standard output of StdinCommand (run with
	// sh -c) or, without a command, everything read from Stdin.
	StdinName    string
	StdinCommand string
	Stdin        io.Reader
	// Program is recorded in the snapshot, e.g. "firn 1.2".
	Program  string
	Clock    clock.Clock  // default the system clock
	Log      *slog.Logger // warnings about unreadable files; nil discards
	Progress *Progress    // nil: none
	// ChunkSizes overrides the chunker's sizes (tests): min, max, bits.
	ChunkSizes *[3]int
}

// PartialError is returned by Run with a saved snapshot when some files
// could not be read: they are missing from it.
type PartialError struct {
	Snapshot *repo.Snapshot
	Failed   []string // "path: error"
}

func (e *PartialError) Error() string {
	return fmt.Sprintf("snapshot %s saved, but %d entries could not be read (first: %s)", e.Snapshot.ID.Short(), len(e.Failed), e.Failed[0])
}

type archiver struct {
	r        *repo.Repository
	o        RunOptions
	log      *slog.Logger
	ch       *chunker.Chunker
	buf      []byte
	stats    repo.Stats
	failed   []string
	progress *Progress
}

// Run backs up o's sources into r and saves a snapshot. The index must
// be loaded (r.LoadIndex).
func Run(ctx context.Context, r *repo.Repository, o RunOptions) (*repo.Snapshot, error) {
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	start := o.Clock.Now()
	if o.Type == "" {
		o.Type = repo.TypeIncremental
	}
	if o.Type != repo.TypeFull && o.Type != repo.TypeIncremental {
		return nil, fmt.Errorf("backup type %q: want full or incremental", o.Type)
	}
	if o.Host == "" {
		o.Host, _ = os.Hostname()
	}
	if len(o.Paths) == 0 && o.StdinName == "" {
		return nil, errors.New("nothing to back up: give paths or a stdin name")
	}
	if strings.ContainsAny(o.StdinName, "/\x00") || o.StdinName == "." || o.StdinName == ".." {
		return nil, fmt.Errorf("stdin name %q: want a plain file name", o.StdinName)
	}
	for _, p := range o.Excludes {
		if _, err := filepath.Match(p, ""); err != nil {
			return nil, fmt.Errorf("exclude %q: %w", p, err)
		}
	}
	var paths []string
	for _, p := range o.Paths {
		abs, err := filepath.Abs(p)
		if err != nil {
			return nil, err
		}
		if _, err := os.Lstat(abs); err != nil {
			return nil, fmt.Errorf("source: %w", err)
		}
		paths = append(paths, abs)
	}
	paths = topLevel(paths)
	a := &archiver{r: r, o: o, log: o.Log, buf: make([]byte, chunker.MaxSize), progress: o.Progress}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	if a.progress == nil {
		a.progress = &Progress{}
	}
	pol := r.Config().ChunkerPolynomial
	if cs := o.ChunkSizes; cs != nil {
		a.ch = chunker.NewSized(nil, pol, uint(cs[0]), uint(cs[1]), cs[2])
		a.buf = make([]byte, cs[1])
	} else {
		a.ch = chunker.New(nil, pol)
	}
	sn := &repo.Snapshot{Time: start.UTC(), Host: o.Host, Tags: o.Tags, Paths: paths, StdinName: o.StdinName,
		Command: o.StdinCommand, Excludes: o.Excludes, Type: o.Type, Program: o.Program}
	if sn.Paths == nil {
		sn.Paths = []string{}
	}
	if u := os.Getenv("USER"); u != "" {
		sn.Username = u
	}
	var parentTree *repo.Tree
	if o.Type == repo.TypeIncremental {
		parent, err := findParent(ctx, r, o.Host, paths, o.StdinName)
		if err != nil {
			return nil, err
		}
		if parent == nil {
			sn.Type = repo.TypeFull // nothing to be incremental to
		} else {
			sn.Parent = &parent.ID
			if parentTree, err = r.LoadTree(ctx, parent.Tree); err != nil {
				return nil, fmt.Errorf("parent snapshot %s: %w", parent.ID.Short(), err)
			}
		}
	}
	before := r.Stats()
	root, err := a.saveRoot(ctx, paths, parentTree)
	if err != nil {
		return nil, err
	}
	if o.StdinName != "" {
		n, err := a.saveStdin(ctx)
		if err != nil {
			return nil, err
		}
		if root.Find(n.Name) != nil {
			return nil, fmt.Errorf("stdin name %q clashes with a source path", n.Name)
		}
		root.Nodes = append(root.Nodes, n)
		sortNodes(root.Nodes)
	}
	if sn.Tree, err = r.SaveTree(ctx, root); err != nil {
		return nil, err
	}
	if err := r.Flush(ctx); err != nil {
		return nil, err
	}
	after := r.Stats()
	a.stats.BlobsNew = after.BlobsNew - before.BlobsNew
	a.stats.BytesNew = after.BytesNew - before.BytesNew
	a.stats.BytesStored = after.BytesStored - before.BytesStored
	a.stats.PacksNew = after.PacksNew - before.PacksNew
	a.stats.Errors = int64(len(a.failed))
	a.stats.DurationSecond = o.Clock.Now().Sub(start).Seconds()
	sn.Stats = a.stats
	if _, err := r.SaveSnapshot(ctx, sn); err != nil {
		return nil, err
	}
	if len(a.failed) > 0 {
		return sn, &PartialError{Snapshot: sn, Failed: a.failed}
	}
	return sn, nil
}

// findParent returns the newest snapshot of host with the same sources.
func findParent(ctx context.Context, r *repo.Repository, host string, paths []string, stdin string) (*repo.Snapshot, error) {
	sns, err := r.Snapshots(ctx)
	if err != nil {
		return nil, err
	}
	for i := len(sns) - 1; i >= 0; i-- {
		sn := sns[i]
		if sn.Host == host && slices.Equal(sn.Paths, paths) && sn.StdinName == stdin {
			return sn, nil
		}
	}
	return nil, nil
}

// topLevel sorts paths and drops those inside another one.
func topLevel(paths []string) []string {
	sort.Strings(paths)
	var out []string
	for _, p := range paths {
		if len(out) > 0 {
			last := out[len(out)-1]
			if p == last || strings.HasPrefix(p, strings.TrimSuffix(last, "/")+"/") {
				continue
			}
		}
		out = append(out, p)
	}
	return out
}

func sortNodes(ns []*repo.Node) {
	sort.Slice(ns, func(i, j int) bool { return ns[i].Name < ns[j].Name })
}

// vdir is a directory on the way from / to the source paths.
type vdir struct {
	children map[string]*vdir
	leaf     bool // a source path itself
}

// saveRoot saves the tree of /, holding the source paths at their
// absolute place, and returns it unsaved.
func (a *archiver) saveRoot(ctx context.Context, paths []string, parent *repo.Tree) (*repo.Tree, error) {
	root := &vdir{children: map[string]*vdir{}}
	for _, p := range paths {
		d := root
		for _, c := range strings.Split(strings.Trim(filepath.ToSlash(p), "/"), "/") {
			if c == "" {
				continue
			}
			if d.children[c] == nil {
				d.children[c] = &vdir{children: map[string]*vdir{}}
			}
			d = d.children[c]
		}
		d.leaf = true
	}
	if root.leaf { // "/" itself
		fi, err := os.Lstat("/")
		if err != nil {
			return nil, err
		}
		if !fi.IsDir() {
			return nil, errors.New("source: / is not a directory")
		}
		return a.saveDirTree(ctx, "/", parent)
	}
	return a.saveVirtual(ctx, "/", root, parent)
}

func (a *archiver) saveVirtual(ctx context.Context, dir string, v *vdir, parent *repo.Tree) (*repo.Tree, error) {
	t := &repo.Tree{Nodes: []*repo.Node{}}
	names := make([]string, 0, len(v.children))
	for n := range v.children {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		c := v.children[name]
		p := filepath.Join(dir, name)
		fi, err := os.Lstat(p)
		if err != nil {
			return nil, fmt.Errorf("source: %w", err)
		}
		pn := parent.Find(name)
		if c.leaf {
			n, err := a.saveNode(ctx, p, fi, pn)
			if err != nil {
				return nil, err
			}
			if n != nil {
				t.Nodes = append(t.Nodes, n)
			}
			continue
		}
		if !fi.IsDir() {
			return nil, fmt.Errorf("source: %s is not a directory", p)
		}
		var sub *repo.Tree
		if pn != nil && pn.Subtree != nil {
			if sub, err = a.r.LoadTree(ctx, *pn.Subtree); err != nil {
				return nil, err
			}
		}
		st, err := a.saveVirtual(ctx, p, c, sub)
		if err != nil {
			return nil, err
		}
		id, err := a.r.SaveTree(ctx, st)
		if err != nil {
			return nil, err
		}
		n := nodeOf(name, fi)
		n.Subtree = &id
		t.Nodes = append(t.Nodes, n)
	}
	return t, nil
}

// nodeOf returns the node of fi, without content.
func nodeOf(name string, fi fs.FileInfo) *repo.Node {
	n := &repo.Node{Name: name, Mode: fi.Mode() & (fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky),
		ModTime: fi.ModTime().UTC()}
	n.UID, n.GID, n.Inode, n.Device = statIDs(fi)
	switch {
	case fi.IsDir():
		n.Type = repo.NodeDir
	case fi.Mode()&fs.ModeSymlink != 0:
		n.Type = repo.NodeSymlink
	case fi.Mode().IsRegular():
		n.Type = repo.NodeFile
		n.Size = fi.Size()
	}
	return n
}

func (a *archiver) fail(path string, err error) {
	a.failed = append(a.failed, fmt.Sprintf("%s: %v", path, err))
	a.log.Warn("skipped", "path", path, "err", err)
}

func (a *archiver) excluded(path string) bool {
	base := filepath.Base(path)
	for _, p := range a.o.Excludes {
		if ok, _ := filepath.Match(p, base); ok {
			return true
		}
		if ok, _ := filepath.Match(p, path); ok {
			return true
		}
	}
	return false
}

// saveNode saves the file, directory or symlink at path and returns its
// node; nil (and a recorded failure) for what cannot be read or backed up.
func (a *archiver) saveNode(ctx context.Context, path string, fi fs.FileInfo, parent *repo.Node) (*repo.Node, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	name := filepath.Base(path)
	switch {
	case fi.IsDir():
		return a.saveDirNode(ctx, path, fi, parent)
	case fi.Mode()&fs.ModeSymlink != 0:
		n := nodeOf(name, fi)
		target, err := os.Readlink(path)
		if err != nil {
			a.fail(path, err)
			return nil, nil
		}
		n.LinkTarget = target
		return n, nil
	case fi.Mode().IsRegular():
		return a.saveFile(ctx, path, fi, parent)
	}
	a.log.Info("skipped special file", "path", path, "mode", fi.Mode().String())
	return nil, nil
}

// saveDirNode saves directory path, comparing with parent's subtree.
func (a *archiver) saveDirNode(ctx context.Context, path string, fi fs.FileInfo, parent *repo.Node) (*repo.Node, error) {
	n := nodeOf(filepath.Base(path), fi)
	var parentTree *repo.Tree
	if parent != nil && parent.Type == repo.NodeDir && parent.Subtree != nil {
		var err error
		if parentTree, err = a.r.LoadTree(ctx, *parent.Subtree); err != nil {
			return nil, err
		}
	}
	t, err := a.saveDirTree(ctx, path, parentTree)
	if err != nil || t == nil {
		return nil, err
	}
	id, err := a.r.SaveTree(ctx, t)
	if err != nil {
		return nil, err
	}
	n.Subtree = &id
	return n, nil
}

// saveDirTree saves the entries of directory path and returns its tree,
// unsaved; nil (and a recorded failure) when it cannot be listed.
func (a *archiver) saveDirTree(ctx context.Context, path string, parentTree *repo.Tree) (*repo.Tree, error) {
	ents, err := os.ReadDir(path)
	if err != nil {
		a.fail(path, err)
		return nil, nil
	}
	a.stats.Dirs++
	t := &repo.Tree{Nodes: []*repo.Node{}}
	for _, e := range ents { // sorted by name
		p := filepath.Join(path, e.Name())
		if a.excluded(p) {
			continue
		}
		cfi, err := os.Lstat(p)
		if err != nil {
			a.fail(p, err)
			continue
		}
		cn, err := a.saveNode(ctx, p, cfi, parentTree.Find(e.Name()))
		if err != nil {
			return nil, err
		}
		if cn != nil {
			t.Nodes = append(t.Nodes, cn)
		}
	}
	return t, nil
}

// unchanged reports whether n can reuse the content of parent: same
// type, size, mtime, inode and device, and every chunk still indexed.
func (a *archiver) unchanged(n, parent *repo.Node) bool {
	if parent == nil || parent.Type != repo.NodeFile || parent.Size != n.Size || !parent.ModTime.Equal(n.ModTime) ||
		parent.Inode != n.Inode || parent.Device != n.Device {
		return false
	}
	for _, id := range parent.Content {
		if !a.r.HasBlob(repo.DataBlob, id) {
			return false
		}
	}
	return true
}

func (a *archiver) saveFile(ctx context.Context, path string, fi fs.FileInfo, parent *repo.Node) (*repo.Node, error) {
	n := nodeOf(filepath.Base(path), fi)
	a.stats.Files++
	a.stats.BytesTotal += n.Size
	defer func() {
		a.progress.Files.Add(1)
		a.progress.Bytes.Add(n.Size)
	}()
	if a.unchanged(n, parent) {
		n.Content = parent.Content
		a.stats.FilesUnchanged++
		return n, nil
	}
	f, err := os.Open(path)
	if err != nil {
		a.fail(path, err)
		a.stats.Files--
		return nil, nil
	}
	defer f.Close()
	size, content, err := a.saveContent(ctx, f)
	if err != nil {
		if ctx.Err() != nil || isRepoError(err) {
			return nil, err
		}
		a.fail(path, err)
		a.stats.Files--
		return nil, nil
	}
	// What was read is what is stored, even if the file grew meanwhile.
	n.Size, n.Content = size, content
	if parent == nil {
		a.stats.FilesNew++
	} else {
		a.stats.FilesChanged++
	}
	return n, nil
}

// repoError marks errors of the repository (as opposed to the source).
type repoError struct{ error }

func (e repoError) Unwrap() error { return e.error }

func isRepoError(err error) bool {
	var re repoError
	return errors.As(err, &re)
}

// saveContent chunks r and stores the new chunks.
func (a *archiver) saveContent(ctx context.Context, r io.Reader) (int64, []repo.ID, error) {
	a.ch.Reset(r)
	var (
		size    int64
		content = []repo.ID{}
	)
	for {
		chunk, err := a.ch.Next(a.buf)
		if errors.Is(err, io.EOF) {
			return size, content, nil
		}
		if err != nil {
			return 0, nil, err
		}
		size += int64(len(chunk))
		a.stats.BytesRead += int64(len(chunk))
		id, isNew, err := a.r.SaveBlob(ctx, repo.DataBlob, chunk)
		if err != nil {
			return 0, nil, repoError{err}
		}
		if isNew {
			a.progress.BytesNew.Add(int64(len(chunk)))
		}
		content = append(content, id)
	}
}

// saveStdin stores the output of the command (or Stdin) as a file node.
func (a *archiver) saveStdin(ctx context.Context) (*repo.Node, error) {
	now := a.o.Clock.Now().UTC()
	n := &repo.Node{Name: a.o.StdinName, Type: repo.NodeFile, Mode: 0o600, ModTime: now,
		UID: uint32(os.Getuid()), GID: uint32(os.Getgid())}
	var (
		src io.Reader
		cmd *exec.Cmd
	)
	if a.o.StdinCommand != "" {
		cmd = exec.CommandContext(ctx, "sh", "-c", a.o.StdinCommand)
		cmd.Stderr = os.Stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			return nil, err
		}
		if err := cmd.Start(); err != nil {
			return nil, fmt.Errorf("stdin command: %w", err)
		}
		src = out
	} else {
		src = a.o.Stdin
		if src == nil {
			src = os.Stdin
		}
	}
	size, content, err := a.saveContent(ctx, src)
	if cmd != nil {
		if err != nil {
			cmd.Process.Kill()
		}
		if werr := cmd.Wait(); werr != nil && err == nil {
			err = fmt.Errorf("stdin command %q: %w", a.o.StdinCommand, werr)
		}
	}
	if err != nil {
		return nil, err
	}
	n.Size, n.Content = size, content
	a.stats.Files++
	a.stats.FilesNew++
	a.stats.BytesTotal += size
	a.progress.Files.Add(1)
	a.progress.Bytes.Add(size)
	return n, nil
}
