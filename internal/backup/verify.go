package backup

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"sort"

	"github.com/firnhq/firn/internal/backup/backend"
	"github.com/firnhq/firn/internal/backup/repo"
)

// VerifyOptions tune Verify.
type VerifyOptions struct {
	// ReadData is the share (0 to 1) of data packs to download and check
	// blob by blob, chosen at random. Archived packs without a restored
	// copy are skipped and reported.
	ReadData float64
	Log      *slog.Logger
	Progress *Progress
	// Seed, when not zero, makes the choice of packs repeatable.
	Seed uint64
}

// VerifyResult says what Verify checked and found.
type VerifyResult struct {
	Snapshots int `json:"snapshots"`
	Trees     int `json:"trees"`
	DataBlobs int `json:"data_blobs"`
	Packs     int `json:"packs"`
	PacksRead int `json:"packs_read"` // tree packs and the data packs read
	// SkippedArchived are data packs chosen for reading but archived.
	SkippedArchived []string `json:"skipped_archived,omitempty"`
	// Unindexed are packs no index lists (a backup in progress or an
	// interrupted one; prune removes old ones). Not an error.
	Unindexed []string `json:"unindexed,omitempty"`
	Errors    []string `json:"errors,omitempty"`
}

// OK reports whether Verify found no error.
func (v *VerifyResult) OK() bool { return len(v.Errors) == 0 }

// Verify checks r: every indexed pack exists with its size, every tree
// pack reads and matches the index, every snapshot's trees load and every
// chunk they name is indexed, and a share of the data packs read back
// intact. It returns an error only when it could not check; what it
// finds wrong is in the result's Errors.
func Verify(ctx context.Context, r *repo.Repository, o VerifyOptions) (*VerifyResult, error) {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Progress == nil {
		o.Progress = &Progress{}
	}
	res := &VerifyResult{}
	errf := func(format string, args ...any) { res.Errors = append(res.Errors, fmt.Sprintf(format, args...)) }
	if err := r.LoadIndex(ctx); err != nil {
		return nil, err
	}
	listed := map[string]backend.FileInfo{}
	for _, dir := range []string{"data/", "tree/"} {
		err := r.Backend().List(ctx, dir, func(fi backend.FileInfo) error {
			listed[fi.Name] = fi
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	packs := r.Index().Packs()
	res.Packs = len(packs)
	indexed := map[string]bool{}
	var dataPacks []*repo.PackInfo
	for _, p := range packs {
		indexed[p.Name()] = true
		fi, ok := listed[p.Name()]
		if !ok {
			errf("pack %s is in the index but missing", p.Name())
			continue
		}
		if fi.Size != p.Size {
			errf("pack %s: %d bytes, the index says %d", p.Name(), fi.Size, p.Size)
			continue
		}
		if p.Type == repo.DataBlob {
			dataPacks = append(dataPacks, p)
			continue
		}
		data, err := r.ReadPack(ctx, p)
		if err == nil {
			err = r.CheckPack(p, data)
		}
		if err != nil {
			errf("%v", err)
			continue
		}
		res.PacksRead++
		o.Progress.Packs.Add(1)
	}
	for n := range listed {
		if !indexed[n] {
			res.Unindexed = append(res.Unindexed, n)
		}
	}
	sort.Strings(res.Unindexed)

	sns, err := r.Snapshots(ctx)
	if err != nil {
		return nil, err
	}
	res.Snapshots = len(sns)
	w := newWalker(r)
	for _, sn := range sns {
		if err := w.walk(ctx, sn.Tree); err != nil {
			errf("snapshot %s: %v", sn.ID.Short(), err)
		}
	}
	res.Trees, res.DataBlobs = len(w.trees), len(w.data)
	for id := range w.data {
		if !r.Index().Has(repo.DataBlob, id) {
			errf("data blob %s, used by a snapshot, is not in the index", id.Short())
		}
	}

	if o.ReadData > 0 && len(dataPacks) > 0 {
		n := int(math.Ceil(o.ReadData * float64(len(dataPacks))))
		n = min(n, len(dataPacks))
		rng := rand.New(rand.NewPCG(o.Seed, o.Seed^0x9e3779b97f4a7c15))
		if o.Seed == 0 {
			rng = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
		}
		rng.Shuffle(len(dataPacks), func(i, j int) { dataPacks[i], dataPacks[j] = dataPacks[j], dataPacks[i] })
		for _, p := range dataPacks[:n] {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			if backend.ArchiveClass(listed[p.Name()].StorageClass) || listed[p.Name()].StorageClass == "INTELLIGENT_TIERING" {
				fi, err := r.Backend().Head(ctx, p.Name())
				if err != nil {
					errf("%v", err)
					continue
				}
				if !fi.Readable() {
					res.SkippedArchived = append(res.SkippedArchived, p.Name())
					continue
				}
			}
			data, err := r.ReadPack(ctx, p)
			if err == nil {
				err = r.CheckPack(p, data)
			}
			if err != nil {
				errf("%v", err)
				continue
			}
			res.PacksRead++
			o.Progress.Packs.Add(1)
			o.Progress.Bytes.Add(p.Size)
		}
	}
	return res, nil
}
