package backup

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/firnhq/firn/internal/backup/backend"
	"github.com/firnhq/firn/internal/backup/repo"
)

// Pack states in a restore plan.
const (
	PackReadable  = "readable"  // not archived: can be read now
	PackArchived  = "archived"  // in an archive class, no restore requested
	PackRestoring = "restoring" // restore requested, not done
	PackRestored  = "restored"  // a restored copy can be read
)

// PackPlan is one pack a restore needs.
type PackPlan struct {
	Name         string `json:"name"`
	Size         int64  `json:"size"`
	StorageClass string `json:"storage_class"` // as the endpoint reports it now
	State        string `json:"state"`
}

// Plan says what a restore needs.
type Plan struct {
	Snapshot repo.ID    `json:"snapshot"`
	Files    int64      `json:"files"`
	Bytes    int64      `json:"bytes"` // of the files
	Packs    []PackPlan `json:"packs"`
	// BytesByClass sums the packs' sizes per storage class.
	BytesByClass map[string]int64 `json:"bytes_by_class"`
}

// NeedRestore returns the packs that must be restored before they can be
// read (archived or restoring).
func (p *Plan) NeedRestore() []PackPlan {
	var out []PackPlan
	for _, pp := range p.Packs {
		if pp.State == PackArchived || pp.State == PackRestoring {
			out = append(out, pp)
		}
	}
	return out
}

// NeedsRestoreError is returned by Restore when packs are archived and no
// restore tier was given: the plan says which.
type NeedsRestoreError struct {
	Plan *Plan
}

func (e *NeedsRestoreError) Error() string {
	need := e.Plan.NeedRestore()
	var bytes int64
	for _, p := range need {
		bytes += p.Size
	}
	return fmt.Sprintf("%d of %d packs (%d bytes) are in an archive class and must be restored first (give a restore tier)",
		len(need), len(e.Plan.Packs), bytes)
}

// RestoreOptions say what to restore where.
type RestoreOptions struct {
	// Target is the directory the snapshot's tree is written under.
	Target string
	// Includes are glob patterns (path.Match) on the slash-separated path
	// inside the snapshot ("/home/u/notes.txt"); an entry is restored when
	// a pattern matches it or a directory above it. Empty: everything.
	Includes []string
	// Tier, when set (Expedited, Standard, Bulk), restores archived packs
	// for Days days and waits for them, polling every Poll.
	Tier string
	Days int
	Poll time.Duration
	// DryRun stops after planning.
	DryRun bool
	// OnPlan is called with the plan before anything is requested or
	// written.
	OnPlan   func(*Plan)
	Log      *slog.Logger
	Progress *Progress
}

type entry struct {
	path string // slash path inside the snapshot, "/a/b"
	node *repo.Node
}

// Restore restores snapshot sn into o.Target and returns the plan it
// followed. The index must be loaded.
func Restore(ctx context.Context, r *repo.Repository, sn *repo.Snapshot, o RestoreOptions) (*Plan, error) {
	for _, p := range o.Includes {
		if _, err := path.Match(p, ""); err != nil {
			return nil, fmt.Errorf("include %q: %w", p, err)
		}
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Progress == nil {
		o.Progress = &Progress{}
	}
	if o.Days <= 0 {
		o.Days = 1
	}
	if o.Poll <= 0 {
		o.Poll = 30 * time.Second
	}
	var ents []entry
	if err := collect(ctx, r, sn.Tree, "", o.Includes, false, &ents); err != nil {
		return nil, err
	}
	plan, err := makePlan(ctx, r, sn, ents)
	if err != nil {
		return nil, err
	}
	if o.OnPlan != nil {
		o.OnPlan(plan)
	}
	if o.DryRun {
		return plan, nil
	}
	if need := plan.NeedRestore(); len(need) > 0 {
		if o.Tier == "" {
			return plan, &NeedsRestoreError{Plan: plan}
		}
		if err := restoreArchived(ctx, r.Backend(), plan, o); err != nil {
			return plan, err
		}
	}
	if o.Target == "" {
		return plan, errors.New("no target directory")
	}
	return plan, writeEntries(ctx, r, ents, o)
}

// included reports whether p (or a directory above it) matches includes.
func included(p string, includes []string) bool {
	if len(includes) == 0 {
		return true
	}
	for q := p; q != "/" && q != "."; q = path.Dir(q) {
		for _, pat := range includes {
			if ok, _ := path.Match(pat, q); ok {
				return true
			}
			if ok, _ := path.Match(pat, path.Base(q)); ok && !strings.Contains(pat, "/") {
				return true
			}
		}
	}
	return false
}

// collect lists the entries of tree id under dir that are included (a
// directory is listed when anything in it is).
func collect(ctx context.Context, r *repo.Repository, id repo.ID, dir string, includes []string, in bool, out *[]entry) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	t, err := r.LoadTree(ctx, id)
	if err != nil {
		return err
	}
	for _, n := range t.Nodes {
		if n.Name == "" || n.Name == "." || n.Name == ".." || strings.ContainsAny(n.Name, "/\x00") {
			return fmt.Errorf("tree %s: bad name %q", id.Short(), n.Name)
		}
		p := dir + "/" + n.Name
		inc := in || included(p, includes)
		if n.Type == repo.NodeDir && n.Subtree != nil {
			before := len(*out)
			*out = append(*out, entry{p, n})
			if err := collect(ctx, r, *n.Subtree, p, includes, inc, out); err != nil {
				return err
			}
			if !inc && len(*out) == before+1 { // nothing inside was included
				*out = (*out)[:before]
			}
			continue
		}
		if inc {
			*out = append(*out, entry{p, n})
		}
	}
	return nil
}

// makePlan finds the packs the entries need and asks the backend for the
// state of each.
func makePlan(ctx context.Context, r *repo.Repository, sn *repo.Snapshot, ents []entry) (*Plan, error) {
	plan := &Plan{Snapshot: sn.ID, BytesByClass: map[string]int64{}, Packs: []PackPlan{}}
	packs := map[repo.ID]*repo.PackInfo{}
	for _, e := range ents {
		if e.node.Type != repo.NodeFile {
			continue
		}
		plan.Files++
		plan.Bytes += e.node.Size
		for _, id := range e.node.Content {
			loc, ok := r.Index().Lookup(repo.DataBlob, id)
			if !ok {
				return nil, fmt.Errorf("%s: data blob %s is not in the index", e.path, id.Short())
			}
			packs[loc.Pack.ID] = loc.Pack
		}
	}
	for _, p := range packs {
		fi, err := r.Backend().Head(ctx, p.Name())
		if err != nil {
			return nil, fmt.Errorf("plan: %w", err)
		}
		pp := PackPlan{Name: p.Name(), Size: fi.Size, StorageClass: fi.StorageClass, State: PackReadable}
		if pp.StorageClass == "" {
			pp.StorageClass = "STANDARD"
		}
		if fi.ArchiveStatus != "" {
			pp.StorageClass += " (" + fi.ArchiveStatus + ")"
		}
		switch {
		case !fi.Archived():
		case fi.RestoreOngoing:
			pp.State = PackRestoring
		case !fi.RestoredUntil.IsZero():
			pp.State = PackRestored
		default:
			pp.State = PackArchived
		}
		plan.Packs = append(plan.Packs, pp)
		plan.BytesByClass[pp.StorageClass] += pp.Size
	}
	sort.Slice(plan.Packs, func(i, j int) bool { return plan.Packs[i].Name < plan.Packs[j].Name })
	return plan, nil
}

// restoreArchived requests restores of the plan's archived packs and
// waits until every one can be read. Run again after an interruption, it
// requests nothing twice: the endpoint remembers the restores.
func restoreArchived(ctx context.Context, be backend.Backend, plan *Plan, o RestoreOptions) error {
	waiting := map[string]bool{}
	for i := range plan.Packs {
		p := &plan.Packs[i]
		switch p.State {
		case PackArchived:
			if err := be.Restore(ctx, p.Name, o.Days, o.Tier); err != nil {
				return err
			}
			o.Log.Info("restore requested", "pack", p.Name, "class", p.StorageClass, "tier", o.Tier, "days", o.Days)
			p.State = PackRestoring
			waiting[p.Name] = true
		case PackRestoring:
			waiting[p.Name] = true
		}
	}
	for len(waiting) > 0 {
		for name := range waiting {
			fi, err := be.Head(ctx, name)
			if err != nil {
				return err
			}
			if fi.Readable() {
				delete(waiting, name)
				o.Log.Info("restore done", "pack", name, "until", fi.RestoredUntil)
			}
		}
		if len(waiting) == 0 {
			break
		}
		o.Log.Info("waiting for restores", "packs", len(waiting), "poll", o.Poll)
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %d restores (run again to go on waiting): %w", len(waiting), ctx.Err())
		case <-time.After(o.Poll):
		}
	}
	for i := range plan.Packs {
		if plan.Packs[i].State == PackRestoring {
			plan.Packs[i].State = PackRestored
		}
	}
	return nil
}

// dest is where a blob goes: a file and an offset in it.
type dest struct {
	file int // index into the entries
	off  int64
}

// Restore's concurrency: packs are downloaded a few at a time while a
// pool of workers (one per CPU) opens, checks and writes their blobs.
const (
	restoreDownloads     = 2 // packs downloaded at once
	restorePacksInMemory = 2 // packs downloaded and not yet written
	restoreCreators      = 2 // goroutines creating files ahead of their content
)

// restoreFile is a file with content being restored. It is created
// ahead of its content, in entry order, by one of restoreCreators
// goroutines (each taking whole directories: creating in one directory
// concurrently would contend for it), or by the first write of its
// content if that comes first. Creating files can cost much more than
// writing them (ext4 scans for recently deleted inodes), so that it pays
// to do it on every CPU while the packs download. Writes share a handle,
// opened by the first and closed by the last, which then gives the file
// its metadata.
type restoreFile struct {
	path    string
	node    *repo.Node
	creator int
	created sync.Once
	err     error // of the creation

	mu   sync.Mutex
	f    *os.File // open while writes remain
	left int      // writes to go
}

// create creates the file, empty, once.
func (rf *restoreFile) create() error {
	rf.created.Do(func() {
		f, err := os.OpenFile(rf.path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
		if err == nil {
			err = f.Close()
		}
		rf.err = err
	})
	return rf.err
}

// open returns the handle writes share.
func (rf *restoreFile) open() (*os.File, error) {
	if err := rf.create(); err != nil {
		return nil, err
	}
	rf.mu.Lock()
	defer rf.mu.Unlock()
	if rf.f == nil {
		f, err := os.OpenFile(rf.path, os.O_WRONLY, 0)
		if err != nil {
			return nil, err
		}
		rf.f = f
	}
	return rf.f, nil
}

// wrote records a write done; after the last one the file is closed and
// gets its metadata.
func (rf *restoreFile) wrote() error {
	rf.mu.Lock()
	rf.left--
	if rf.left > 0 {
		rf.mu.Unlock()
		return nil
	}
	f := rf.f
	rf.f = nil
	rf.mu.Unlock()
	err := f.Close()
	if err == nil {
		err = setMeta(rf.path, rf.node)
	}
	return err
}

// packWork is a pack to read and where its blobs go.
type packWork struct {
	pack  *repo.PackInfo
	blobs map[repo.ID][]dest
	first int // the first entry that needs it
}

// writeEntries creates the entries under o.Target, downloading each
// needed pack once.
func writeEntries(ctx context.Context, r *repo.Repository, ents []entry, o RestoreOptions) error {
	target, err := filepath.Abs(o.Target)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(target, 0o700); err != nil {
		return err
	}
	local := func(p string) string { return filepath.Join(target, filepath.FromSlash(p)) }
	// Directories, symlinks and empty files now; the files with content
	// are created by the first write of it.
	files := make([]*restoreFile, len(ents))
	creatorOf := map[string]int{} // directory -> creator
	work := map[repo.ID]*packWork{}
	for i, e := range ents {
		p := local(e.path)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			return err
		}
		switch e.node.Type {
		case repo.NodeDir:
			if err := os.Mkdir(p, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
				return err
			}
		case repo.NodeSymlink:
			os.Remove(p)
			if err := os.Symlink(e.node.LinkTarget, p); err != nil {
				return err
			}
		case repo.NodeFile:
			var off int64
			for _, id := range e.node.Content {
				loc, _ := r.Index().Lookup(repo.DataBlob, id)
				w := work[loc.Pack.ID]
				if w == nil {
					w = &packWork{pack: loc.Pack, blobs: map[repo.ID][]dest{}, first: i}
					work[loc.Pack.ID] = w
				}
				w.blobs[id] = append(w.blobs[id], dest{i, off})
				off += int64(loc.RawLength)
			}
			if off != e.node.Size {
				return fmt.Errorf("%s: chunks hold %d bytes, the file %d", e.path, off, e.node.Size)
			}
			if len(e.node.Content) == 0 {
				f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
				if err != nil {
					return err
				}
				if err := f.Close(); err != nil {
					return err
				}
				continue
			}
			dir := filepath.Dir(p)
			c, ok := creatorOf[dir]
			if !ok {
				c = len(creatorOf) % restoreCreators
				creatorOf[dir] = c
			}
			files[i] = &restoreFile{path: p, node: e.node, left: len(e.node.Content), creator: c}
		}
	}
	// Packs in the order the entries need them, as the files are
	// created.
	packs := make([]*packWork, 0, len(work))
	for _, w := range work {
		packs = append(packs, w)
	}
	sort.Slice(packs, func(i, j int) bool {
		if packs[i].first != packs[j].first {
			return packs[i].first < packs[j].first
		}
		return string(packs[i].pack.ID[:]) < string(packs[j].pack.ID[:])
	})
	cctx, stopCreating := context.WithCancel(ctx)
	var creators sync.WaitGroup
	for c := range restoreCreators {
		creators.Add(1)
		go func() {
			defer creators.Done()
			for _, rf := range files {
				if cctx.Err() != nil {
					return
				}
				if rf != nil && rf.creator == c {
					rf.create() // an error is the writes' to report
				}
			}
		}()
	}
	err = restorePacks(ctx, r, packs, files, o.Progress)
	stopCreating()
	creators.Wait()
	for _, rf := range files {
		if rf != nil && rf.f != nil { // left open by a failure
			rf.f.Close()
		}
	}
	if err != nil {
		return err
	}
	// Metadata of the rest: symlinks and empty files, then directories
	// deepest first.
	for i, e := range ents {
		if e.node.Type != repo.NodeDir && files[i] == nil {
			if err := setMeta(local(e.path), e.node); err != nil {
				return err
			}
		}
	}
	for i := len(ents) - 1; i >= 0; i-- {
		if ents[i].node.Type == repo.NodeDir {
			if err := setMeta(local(ents[i].path), ents[i].node); err != nil {
				return err
			}
		}
	}
	return nil
}

// blobTask is a blob of a downloaded pack to write.
type blobTask struct {
	pack   *repo.PackInfo
	id     repo.ID
	sealed []byte // in the pack's buffer
	dests  []dest
	done   func()
}

// packGetter is implemented by backends that can read into a buffer
// (the s3 backend), which restore reuses from pack to pack.
type packGetter interface {
	GetInto(ctx context.Context, name string, off, length int64, buf []byte) ([]byte, error)
}

// restorePacks downloads the packs, a few at a time, and writes their
// blobs with a pool of workers.
func restorePacks(ctx context.Context, r *repo.Repository, packs []*packWork, files []*restoreFile, pr *Progress) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	n := max(2, runtime.GOMAXPROCS(0))
	tasks := make(chan blobTask, 2*n)
	var workers sync.WaitGroup
	for range n {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for t := range tasks { // to the end, so that every pack's buffer comes back
				if ctx.Err() == nil {
					if err := writeBlob(r, t, files, pr); err != nil {
						cancel(err)
					}
				}
				t.done()
			}
		}()
	}
	// The download buffers, allocated when first used, at the size of the
	// largest pack so that none is ever reallocated.
	var bufSize int64
	for _, w := range packs {
		bufSize = max(bufSize, w.pack.Size)
	}
	bufs := make(chan []byte, restorePacksInMemory)
	for range cap(bufs) {
		bufs <- nil
	}
	slots := make(chan struct{}, restoreDownloads)
	var downloads sync.WaitGroup
	for _, w := range packs {
		var buf []byte
		select {
		case buf = <-bufs:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		if buf == nil {
			if _, ok := r.Backend().(packGetter); ok {
				buf = make([]byte, 0, bufSize)
			}
		}
		slots <- struct{}{}
		downloads.Add(1)
		go func() {
			defer downloads.Done()
			data, lo, locs, err := downloadPack(ctx, r, w, buf)
			<-slots
			if err != nil {
				cancel(err)
				bufs <- buf
				return
			}
			var left atomic.Int64
			left.Store(int64(len(locs)))
			done := func() {
				if left.Add(-1) == 0 {
					pr.Packs.Add(1)
					bufs <- data[:0]
				}
			}
			for _, b := range locs {
				start := int64(b.Offset) - lo
				t := blobTask{pack: w.pack, id: b.ID, sealed: data[start : start+int64(b.Length)], dests: w.blobs[b.ID], done: done}
				select {
				case tasks <- t:
				case <-ctx.Done():
					done()
				}
			}
		}()
	}
	downloads.Wait()
	close(tasks)
	workers.Wait()
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	return nil
}

// downloadPack reads the part of pack w that holds its blobs (into buf
// when the backend can) and returns it, its offset in the pack and the
// blobs to write, each once.
func downloadPack(ctx context.Context, r *repo.Repository, w *packWork, buf []byte) ([]byte, int64, []repo.PackedBlob, error) {
	var lo, hi int64 = -1, 0
	var locs []repo.PackedBlob
	seen := make(map[repo.ID]bool, len(w.blobs))
	for _, b := range w.pack.Blobs {
		if _, ok := w.blobs[b.ID]; !ok || seen[b.ID] { // not needed, or listed twice in the pack
			continue
		}
		seen[b.ID] = true
		if lo < 0 || int64(b.Offset) < lo {
			lo = int64(b.Offset)
		}
		hi = max(hi, int64(b.Offset)+int64(b.Length))
		locs = append(locs, b)
	}
	if len(locs) == 0 {
		return nil, 0, nil, fmt.Errorf("pack %s: holds none of the blobs the index places there", w.pack.ID.Short())
	}
	var data []byte
	var err error
	if g, ok := r.Backend().(packGetter); ok {
		data, err = g.GetInto(ctx, w.pack.Name(), lo, hi-lo, buf)
	} else {
		data, err = r.Backend().Get(ctx, w.pack.Name(), lo, hi-lo)
	}
	if err != nil {
		return nil, 0, nil, fmt.Errorf("read pack: %w", err)
	}
	if int64(len(data)) != hi-lo {
		return nil, 0, nil, fmt.Errorf("read pack %s: got %d bytes, want %d", w.pack.ID.Short(), len(data), hi-lo)
	}
	return data, lo, locs, nil
}

// writeBlob opens the blob of t, checks it against its id and writes it
// where it goes.
func writeBlob(r *repo.Repository, t blobTask, files []*restoreFile, pr *Progress) error {
	plain, err := r.DecodeBlobInPlace(t.id, t.sealed)
	if err != nil {
		return fmt.Errorf("pack %s: %w", t.pack.ID.Short(), err)
	}
	for _, d := range t.dests {
		rf := files[d.file]
		f, err := rf.open()
		if err != nil {
			return err
		}
		if _, err := f.WriteAt(plain, d.off); err != nil {
			return err
		}
		pr.Bytes.Add(int64(len(plain)))
		if err := rf.wrote(); err != nil {
			return err
		}
	}
	return nil
}
