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
	"sort"
	"strings"
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
	// Directories, files (sized), symlinks.
	type packWork struct {
		pack  *repo.PackInfo
		blobs map[repo.ID][]dest
	}
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
			f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
			if err != nil {
				return err
			}
			err = f.Truncate(e.node.Size)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
			var off int64
			for _, id := range e.node.Content {
				loc, _ := r.Index().Lookup(repo.DataBlob, id)
				w := work[loc.Pack.ID]
				if w == nil {
					w = &packWork{pack: loc.Pack, blobs: map[repo.ID][]dest{}}
					work[loc.Pack.ID] = w
				}
				w.blobs[id] = append(w.blobs[id], dest{i, off})
				off += int64(loc.RawLength)
			}
			if off != e.node.Size {
				return fmt.Errorf("%s: chunks hold %d bytes, the file %d", e.path, off, e.node.Size)
			}
		}
	}
	ids := make([]repo.ID, 0, len(work))
	for id := range work {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return string(ids[i][:]) < string(ids[j][:]) })
	for _, pid := range ids {
		w := work[pid]
		if err := restorePack(ctx, r, w.pack, w.blobs, func(i int) string { return local(ents[i].path) }, o.Progress); err != nil {
			return err
		}
	}
	// Metadata: files and symlinks first, then directories deepest first.
	for _, e := range ents {
		if e.node.Type != repo.NodeDir {
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

// restorePack downloads the part of pack p that holds blobs, checks
// every blob and writes it where it goes.
func restorePack(ctx context.Context, r *repo.Repository, p *repo.PackInfo, blobs map[repo.ID][]dest, path func(int) string, pr *Progress) error {
	var lo, hi int64 = -1, 0
	var locs []repo.PackedBlob
	for _, b := range p.Blobs {
		if _, ok := blobs[b.ID]; !ok {
			continue
		}
		if lo < 0 || int64(b.Offset) < lo {
			lo = int64(b.Offset)
		}
		hi = max(hi, int64(b.Offset)+int64(b.Length))
		locs = append(locs, b)
	}
	data, err := r.Backend().Get(ctx, p.Name(), lo, hi-lo)
	if err != nil {
		return fmt.Errorf("read pack: %w", err)
	}
	files := map[int]*os.File{}
	defer func() {
		for _, f := range files {
			f.Close()
		}
	}()
	for _, b := range locs {
		if _, ok := blobs[b.ID]; !ok {
			continue // a blob listed twice in the pack
		}
		plain, err := r.DecodeBlob(b.ID, data[int64(b.Offset)-lo:int64(b.Offset)-lo+int64(b.Length)])
		if err != nil {
			return fmt.Errorf("pack %s: %w", p.ID.Short(), err)
		}
		for _, d := range blobs[b.ID] {
			f := files[d.file]
			if f == nil {
				if f, err = os.OpenFile(path(d.file), os.O_WRONLY, 0); err != nil {
					return err
				}
				files[d.file] = f
			}
			if _, err := f.WriteAt(plain, d.off); err != nil {
				return err
			}
			pr.Bytes.Add(int64(len(plain)))
		}
		delete(blobs, b.ID)
	}
	for _, f := range files {
		if err := f.Close(); err != nil {
			return err
		}
	}
	clear(files)
	pr.Packs.Add(1)
	return nil
}
