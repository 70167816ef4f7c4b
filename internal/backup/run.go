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
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/firnhq/firn/internal/backup/chunker"
	"github.com/firnhq/firn/internal/backup/repo"
	"github.com/firnhq/firn/internal/clock"
)

// Progress counts the work of a run or a restore as it happens; another
// goroutine may read it at any time.
type Progress struct {
	// TotalFiles and TotalBytes are what a run will go through, once
	// ScanTotals has counted them (Scanned set); zero before.
	TotalFiles, TotalBytes atomic.Int64
	Scanned                atomic.Bool
	Files                  atomic.Int64 // files done
	Bytes                  atomic.Int64 // bytes of the files done (or written, in a restore)
	BytesNew               atomic.Int64 // plaintext bytes of new chunks
	Packs                  atomic.Int64 // packs uploaded or downloaded
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

// The pipeline of a run. The walker (Run's goroutine) lists the sources
// in order and builds the trees; each regular file to read becomes a
// fileJob for one of the readers, which chunk files (one chunker each)
// and hand every chunk to the savers; these hash, compress, seal and
// pack the chunks in parallel (repo.Repository.SaveBlob), while full
// packs upload in the background. Every directory's tree is queued, in
// post-order, for the finisher, which waits for its files, fills in
// their content and saves the tree, so that a parent's tree is saved
// after its children's. Trees and snapshot are the same as a sequential
// run would make; only the order of blobs in packs varies.
const (
	readers    = 2  // files read and chunked at once
	filesQueue = 64 // files listed ahead of the readers
	treesQueue = 256
)

// savers is the number of goroutines hashing, compressing and sealing
// chunks: one per CPU, up to what two readers can feed (a saver handles
// chunks about as fast as a reader cuts them).
func savers() int { return max(2, min(runtime.GOMAXPROCS(0), 4)) }

type archiver struct {
	r        *repo.Repository
	o        RunOptions
	log      *slog.Logger
	progress *Progress
	pol      chunker.Pol

	ctx    context.Context // canceled with the first fatal error
	cancel context.CancelCauseFunc

	files  chan *fileJob
	chunks chan *chunkJob
	trees  chan *treeJob
	// bufs holds the chunk buffers (nil: not yet allocated), bounding
	// the chunks in flight between the readers and the savers.
	bufs     chan []byte
	chunkMax int

	readersDone sync.WaitGroup
	saversDone  sync.WaitGroup
	finished    chan struct{}

	mu     sync.Mutex // guards stats and failed
	stats  repo.Stats
	failed []string
}

// fileJob is a file to read; its node gets Size and Content when done.
type fileJob struct {
	path   string
	node   *repo.Node
	parent *repo.Node // the node in the parent snapshot, if any
	// wg counts the reading (1) and every chunk not yet saved.
	wg     sync.WaitGroup
	chunks []*chunkJob
	size   int64
	err    error // reading failed: the file is left out
}

// chunkJob is a chunk on its way to the repository.
type chunkJob struct {
	data []byte // a buffer from bufs until saved
	id   repo.ID
	err  error // saving failed (fatal)
	wg   *sync.WaitGroup
}

// treeJob is a directory's tree, whose files are being read.
type treeJob struct {
	tree  *repo.Tree
	files []*fileJob
	node  *repo.Node // gets the saved tree's id; nil for the root, saved by Run
}

func newArchiver(ctx context.Context, r *repo.Repository, o RunOptions) *archiver {
	a := &archiver{r: r, o: o, log: o.Log, progress: o.Progress, pol: r.Config().ChunkerPolynomial, chunkMax: chunker.MaxSize}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	if a.progress == nil {
		a.progress = &Progress{}
	}
	if cs := o.ChunkSizes; cs != nil {
		a.chunkMax = cs[1]
	}
	a.ctx, a.cancel = context.WithCancelCause(ctx)
	n := savers()
	a.files = make(chan *fileJob, filesQueue)
	a.chunks = make(chan *chunkJob, n)
	a.trees = make(chan *treeJob, treesQueue)
	a.bufs = make(chan []byte, readers+n+1) // each reader's, each saver's, one queued
	for range cap(a.bufs) {
		a.bufs <- nil
	}
	a.finished = make(chan struct{})
	for range readers {
		a.readersDone.Add(1)
		go a.reader()
	}
	for range n {
		a.saversDone.Add(1)
		go a.saver()
	}
	go a.finisher()
	return a
}

func (a *archiver) newChunker() *chunker.Chunker {
	if cs := a.o.ChunkSizes; cs != nil {
		return chunker.NewSized(nil, a.pol, uint(cs[0]), uint(cs[1]), cs[2])
	}
	return chunker.New(nil, a.pol)
}

// abort stops the pipeline with err (the first one counts).
func (a *archiver) abort(err error) { a.cancel(err) }

// err returns why the pipeline stopped, nil while it runs.
func (a *archiver) err() error {
	if a.ctx.Err() == nil {
		return nil
	}
	return context.Cause(a.ctx)
}

// stop waits for every queued job to be done and the goroutines to end,
// and returns the error that stopped the pipeline, if any. The walker
// must be done sending. a.ctx stays valid: packs filled by the savers
// upload with it until Flush.
func (a *archiver) stop() error {
	close(a.files)
	close(a.trees)
	a.readersDone.Wait()
	close(a.chunks)
	a.saversDone.Wait()
	<-a.finished
	return a.err()
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
	a := newArchiver(ctx, r, o)
	defer a.cancel(nil)
	root, rootFiles, err := a.saveRoot(paths, parentTree)
	if err == nil {
		err = a.queueTree(root, rootFiles, nil)
	}
	var stdin *repo.Node
	if err == nil && o.StdinName != "" {
		stdin, err = a.saveStdin()
	}
	if err != nil {
		a.abort(err)
	}
	if serr := a.stop(); serr != nil {
		err = serr // the first error, which may have caused the walker's
	}
	if err != nil {
		return nil, err
	}
	if stdin != nil {
		if root.Find(stdin.Name) != nil {
			return nil, fmt.Errorf("stdin name %q clashes with a source path", stdin.Name)
		}
		root.Nodes = append(root.Nodes, stdin)
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
		sort.Strings(a.failed) // the goroutines record them in any order
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

// saveRoot lists the tree of /, holding the source paths at their
// absolute place, and returns it unsaved with the files it holds (when a
// source is a file).
func (a *archiver) saveRoot(paths []string, parent *repo.Tree) (*repo.Tree, []*fileJob, error) {
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
			return nil, nil, err
		}
		if !fi.IsDir() {
			return nil, nil, errors.New("source: / is not a directory")
		}
		t, files, err := a.saveDirTree("/", parent)
		if err == nil && t == nil {
			err = errors.New("source: / cannot be listed")
		}
		return t, files, err
	}
	return a.saveVirtual("/", root, parent)
}

func (a *archiver) saveVirtual(dir string, v *vdir, parent *repo.Tree) (*repo.Tree, []*fileJob, error) {
	t := &repo.Tree{Nodes: []*repo.Node{}}
	var files []*fileJob
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
			return nil, nil, fmt.Errorf("source: %w", err)
		}
		pn := parent.Find(name)
		if c.leaf {
			n, job, err := a.saveNode(p, fi, pn)
			if err != nil {
				return nil, nil, err
			}
			if n != nil {
				t.Nodes = append(t.Nodes, n)
			}
			if job != nil {
				files = append(files, job)
			}
			continue
		}
		if !fi.IsDir() {
			return nil, nil, fmt.Errorf("source: %s is not a directory", p)
		}
		var sub *repo.Tree
		if pn != nil && pn.Subtree != nil {
			if sub, err = a.r.LoadTree(a.ctx, *pn.Subtree); err != nil {
				return nil, nil, err
			}
		}
		st, stFiles, err := a.saveVirtual(p, c, sub)
		if err != nil {
			return nil, nil, err
		}
		n := nodeOf(name, fi)
		if err := a.queueTree(st, stFiles, n); err != nil {
			return nil, nil, err
		}
		t.Nodes = append(t.Nodes, n)
	}
	return t, files, nil
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
	a.mu.Lock()
	a.failed = append(a.failed, fmt.Sprintf("%s: %v", path, err))
	a.mu.Unlock()
	a.log.Warn("skipped", "path", path, "err", err)
}

func (a *archiver) count(f func(st *repo.Stats)) {
	a.mu.Lock()
	f(&a.stats)
	a.mu.Unlock()
}

func (a *archiver) excluded(path string) bool { return excludedBy(a.o.Excludes, path) }

// excludedBy reports whether path matches one of the exclude globs, by
// its base name or whole.
func excludedBy(excludes []string, path string) bool {
	base := filepath.Base(path)
	for _, p := range excludes {
		if ok, _ := filepath.Match(p, base); ok {
			return true
		}
		if ok, _ := filepath.Match(p, path); ok {
			return true
		}
	}
	return false
}

// saveNode lists the file, directory or symlink at path and returns its
// node, and the job reading it for a file whose content is to be read;
// a nil node (and a recorded failure) for what cannot be read or backed
// up.
func (a *archiver) saveNode(path string, fi fs.FileInfo, parent *repo.Node) (*repo.Node, *fileJob, error) {
	if err := a.ctx.Err(); err != nil {
		return nil, nil, context.Cause(a.ctx)
	}
	name := filepath.Base(path)
	switch {
	case fi.IsDir():
		n, err := a.saveDirNode(path, fi, parent)
		return n, nil, err
	case fi.Mode()&fs.ModeSymlink != 0:
		n := nodeOf(name, fi)
		target, err := os.Readlink(path)
		if err != nil {
			a.fail(path, err)
			return nil, nil, nil
		}
		n.LinkTarget = target
		return n, nil, nil
	case fi.Mode().IsRegular():
		return a.saveFile(path, fi, parent)
	}
	a.log.Info("skipped special file", "path", path, "mode", fi.Mode().String())
	return nil, nil, nil
}

// saveDirNode lists directory path, comparing with parent's subtree, and
// queues its tree.
func (a *archiver) saveDirNode(path string, fi fs.FileInfo, parent *repo.Node) (*repo.Node, error) {
	n := nodeOf(filepath.Base(path), fi)
	var parentTree *repo.Tree
	if parent != nil && parent.Type == repo.NodeDir && parent.Subtree != nil {
		var err error
		if parentTree, err = a.r.LoadTree(a.ctx, *parent.Subtree); err != nil {
			return nil, err
		}
	}
	t, files, err := a.saveDirTree(path, parentTree)
	if err != nil || t == nil {
		return nil, err
	}
	if err := a.queueTree(t, files, n); err != nil {
		return nil, err
	}
	return n, nil
}

// saveDirTree lists the entries of directory path and returns its tree,
// unsaved, and the jobs of its files; nil (and a recorded failure) when
// it cannot be listed.
func (a *archiver) saveDirTree(path string, parentTree *repo.Tree) (*repo.Tree, []*fileJob, error) {
	ents, err := os.ReadDir(path)
	if err != nil {
		a.fail(path, err)
		return nil, nil, nil
	}
	a.count(func(st *repo.Stats) { st.Dirs++ })
	t := &repo.Tree{Nodes: []*repo.Node{}}
	var files []*fileJob
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
		cn, job, err := a.saveNode(p, cfi, parentTree.Find(e.Name()))
		if err != nil {
			return nil, nil, err
		}
		if cn != nil {
			t.Nodes = append(t.Nodes, cn)
		}
		if job != nil {
			files = append(files, job)
		}
	}
	return t, files, nil
}

// queueTree hands tree t, whose files are being read, to the finisher;
// node (nil for the root) gets its id once saved.
func (a *archiver) queueTree(t *repo.Tree, files []*fileJob, node *repo.Node) error {
	select {
	case a.trees <- &treeJob{tree: t, files: files, node: node}:
		return nil
	case <-a.ctx.Done():
		return context.Cause(a.ctx)
	}
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

// saveFile returns the node of a regular file and, unless it is
// unchanged since the parent snapshot, the job that reads it.
func (a *archiver) saveFile(path string, fi fs.FileInfo, parent *repo.Node) (*repo.Node, *fileJob, error) {
	n := nodeOf(filepath.Base(path), fi)
	if a.unchanged(n, parent) {
		n.Content = parent.Content
		a.count(func(st *repo.Stats) {
			st.Files++
			st.BytesTotal += n.Size
			st.FilesUnchanged++
		})
		a.progress.Files.Add(1)
		a.progress.Bytes.Add(n.Size)
		return n, nil, nil
	}
	job := &fileJob{path: path, node: n, parent: parent}
	job.wg.Add(1) // the reading
	select {
	case a.files <- job:
		return n, job, nil
	case <-a.ctx.Done():
		return nil, nil, context.Cause(a.ctx)
	}
}

// reader reads the queued files, one at a time.
func (a *archiver) reader() {
	defer a.readersDone.Done()
	ch := a.newChunker()
	for job := range a.files {
		a.readFile(job, ch)
	}
}

func (a *archiver) readFile(job *fileJob, ch *chunker.Chunker) {
	defer job.wg.Done()
	if a.ctx.Err() != nil {
		job.err = context.Cause(a.ctx)
		return
	}
	f, err := os.Open(job.path)
	if err != nil {
		job.err = err
		return
	}
	defer f.Close()
	// What is read is what is stored, even if the file grew meanwhile.
	job.size, job.err = a.chunkStream(ch, f, job)
	a.progress.Files.Add(1)
	a.progress.Bytes.Add(job.size)
}

// chunkStream cuts r into chunks and queues them for the savers as
// chunks of job, returning the bytes read. The chunks are saved once
// job.wg is done.
func (a *archiver) chunkStream(ch *chunker.Chunker, r io.Reader, job *fileJob) (int64, error) {
	ch.Reset(r)
	var size int64
	for {
		var buf []byte
		select {
		case buf = <-a.bufs:
		case <-a.ctx.Done():
			return size, context.Cause(a.ctx)
		}
		if buf == nil {
			buf = make([]byte, 0, a.chunkMax)
		}
		data, err := ch.Next(buf)
		if err != nil {
			a.bufs <- buf
			if errors.Is(err, io.EOF) {
				return size, nil
			}
			return size, err
		}
		size += int64(len(data))
		a.count(func(st *repo.Stats) { st.BytesRead += int64(len(data)) })
		c := &chunkJob{data: data, wg: &job.wg}
		job.chunks = append(job.chunks, c)
		job.wg.Add(1)
		select {
		case a.chunks <- c:
		case <-a.ctx.Done():
			a.bufs <- data[:0]
			c.err = context.Cause(a.ctx)
			job.wg.Done()
			return size, c.err
		}
	}
}

// saver saves the queued chunks. It takes every chunk until the queue
// closes, so that every job ends.
func (a *archiver) saver() {
	defer a.saversDone.Done()
	for c := range a.chunks {
		if a.ctx.Err() != nil {
			c.err = context.Cause(a.ctx)
		} else {
			id, isNew, err := a.r.SaveBlob(a.ctx, repo.DataBlob, c.data)
			if err != nil {
				c.err = repoError{err}
				a.abort(c.err)
			} else {
				c.id = id
				if isNew {
					a.progress.BytesNew.Add(int64(len(c.data)))
				}
			}
		}
		a.bufs <- c.data[:0]
		c.data = nil
		c.wg.Done()
	}
}

// finisher completes the queued trees in order: children before their
// parent.
func (a *archiver) finisher() {
	defer close(a.finished)
	for tj := range a.trees {
		if a.ctx.Err() != nil {
			continue // drain
		}
		if err := a.finishTree(tj); err != nil {
			a.abort(err)
		}
	}
}

// finishTree waits for the files of tj, fills in their content (leaving
// out those that could not be read) and saves the tree unless it is the
// root.
func (a *archiver) finishTree(tj *treeJob) error {
	var drop map[*repo.Node]bool
	for _, j := range tj.files {
		j.wg.Wait()
		if err := a.err(); err != nil {
			return err
		}
		for _, c := range j.chunks {
			if c.err != nil {
				return c.err
			}
		}
		if j.err != nil {
			a.fail(j.path, j.err)
			if drop == nil {
				drop = map[*repo.Node]bool{}
			}
			drop[j.node] = true
			continue
		}
		content := make([]repo.ID, len(j.chunks))
		for i, c := range j.chunks {
			content[i] = c.id
		}
		j.node.Size, j.node.Content = j.size, content
		a.count(func(st *repo.Stats) {
			st.Files++
			st.BytesTotal += j.size
			if j.parent == nil {
				st.FilesNew++
			} else {
				st.FilesChanged++
			}
		})
	}
	if drop != nil {
		tj.tree.Nodes = slices.DeleteFunc(tj.tree.Nodes, func(n *repo.Node) bool { return drop[n] })
	}
	if tj.node == nil {
		return nil
	}
	id, err := a.r.SaveTree(a.ctx, tj.tree)
	if err != nil {
		return repoError{err}
	}
	tj.node.Subtree = &id
	return nil
}

// repoError marks errors of the repository (as opposed to the source).
type repoError struct{ error }

func (e repoError) Unwrap() error { return e.error }

// saveStdin stores the output of the command (or Stdin) as a file node.
func (a *archiver) saveStdin() (*repo.Node, error) {
	now := a.o.Clock.Now().UTC()
	n := &repo.Node{Name: a.o.StdinName, Type: repo.NodeFile, Mode: 0o600, ModTime: now,
		UID: uint32(os.Getuid()), GID: uint32(os.Getgid())}
	var (
		src io.Reader
		cmd *exec.Cmd
	)
	if a.o.StdinCommand != "" {
		cmd = exec.CommandContext(a.ctx, "sh", "-c", a.o.StdinCommand)
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
	job := &fileJob{path: a.o.StdinName, node: n}
	job.wg.Add(1)
	size, err := a.chunkStream(a.newChunker(), src, job)
	job.wg.Done()
	job.wg.Wait()
	if err == nil {
		err = a.err()
	}
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
	n.Size, n.Content = size, make([]repo.ID, len(job.chunks))
	for i, c := range job.chunks {
		n.Content[i] = c.id
	}
	a.count(func(st *repo.Stats) {
		st.Files++
		st.FilesNew++
		st.BytesTotal += size
	})
	a.progress.Files.Add(1)
	a.progress.Bytes.Add(size)
	return n, nil
}

// ScanTotals counts the regular files under paths, and their bytes, as
// a run with excludes would go through them, into p's totals: the
// estimate a progress display needs. It runs beside the backup (restic
// does the same); unreadable entries are skipped.
func ScanTotals(ctx context.Context, paths, excludes []string, p *Progress) {
	var files, size int64
	for _, root := range paths {
		abs, err := filepath.Abs(root)
		if err != nil {
			continue
		}
		filepath.WalkDir(abs, func(path string, d fs.DirEntry, err error) error {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if err != nil {
				return nil
			}
			if path != abs && excludedBy(excludes, path) {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if d.Type().IsRegular() {
				if fi, err := d.Info(); err == nil {
					files++
					size += fi.Size()
				}
			}
			return nil
		})
	}
	p.TotalFiles.Store(files)
	p.TotalBytes.Store(size)
	p.Scanned.Store(true)
}
