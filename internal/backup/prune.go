package backup

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/firnhq/firn/internal/backup/backend"
	"github.com/firnhq/firn/internal/backup/repo"
	"github.com/firnhq/firn/internal/clock"
)

// MinStorageDays is the minimum storage duration AWS bills for each
// storage class: deleting an object earlier is billed as if it had been
// kept that long.
var MinStorageDays = map[string]int{
	"STANDARD_IA": 30, "ONEZONE_IA": 30, "GLACIER_IR": 90, "GLACIER": 90, "DEEP_ARCHIVE": 180,
}

// PruneOptions tune Prune.
type PruneOptions struct {
	DryRun bool
	Clock  clock.Clock // default the system clock
	// UnindexedGrace is how old a pack that no index lists must be before
	// it is deleted: younger ones may belong to a backup in progress,
	// which writes its index last. Default 24h.
	UnindexedGrace time.Duration
}

// PrunedPack is a pack Prune deletes.
type PrunedPack struct {
	Name         string        `json:"name"`
	Size         int64         `json:"size"`
	StorageClass string        `json:"storage_class"`
	Age          time.Duration `json:"age_ns"`
	Unindexed    bool          `json:"unindexed,omitempty"`
	// EarlyDays is how many days short of its class's minimum storage
	// duration the pack is deleted: they are billed all the same.
	EarlyDays float64 `json:"early_days,omitempty"`
}

// PruneResult says what Prune did (or would do).
type PruneResult struct {
	Deleted    []PrunedPack `json:"deleted"`
	BytesFreed int64        `json:"bytes_freed"`
	PacksKept  int          `json:"packs_kept"`
	BytesKept  int64        `json:"bytes_kept"`
	// BytesUnused is what unused blobs take up inside kept packs; packs
	// are never rewritten, so it stays until each is wholly unused.
	BytesUnused int64 `json:"bytes_unused"`
	// Young lists unindexed packs kept because they may be in use.
	Young []string `json:"young,omitempty"`
	// EarlyByteDays sums size × EarlyDays over the deleted packs: the
	// storage billed for nothing, in byte-days.
	EarlyByteDays float64 `json:"early_byte_days,omitempty"`
}

// Prune deletes the packs that no snapshot uses. It never rewrites a
// pack: a pack with any used blob stays whole. The index is rewritten
// first (listing the kept packs), then the old index files and the packs
// are deleted, so an interrupted prune leaves a usable repository.
func Prune(ctx context.Context, r *repo.Repository, o PruneOptions) (*PruneResult, error) {
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	if o.UnindexedGrace == 0 {
		o.UnindexedGrace = 24 * time.Hour
	}
	now := o.Clock.Now()
	if err := r.LoadIndex(ctx); err != nil {
		return nil, err
	}
	sns, err := r.Snapshots(ctx)
	if err != nil {
		return nil, err
	}
	usedTrees, usedData, err := usedBlobs(ctx, r, sns)
	if err != nil {
		return nil, fmt.Errorf("prune: %w", err)
	}
	listed := map[string]backend.FileInfo{}
	for _, dir := range []string{"data/", "tree/"} {
		err := r.Backend().List(ctx, dir, func(fi backend.FileInfo) error {
			listed[fi.Name] = fi
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("prune: %w", err)
		}
	}
	res := &PruneResult{Deleted: []PrunedPack{}}
	deleted := func(fi backend.FileInfo, unindexed bool) {
		pp := PrunedPack{Name: fi.Name, Size: fi.Size, StorageClass: fi.StorageClass, Age: now.Sub(fi.LastModified), Unindexed: unindexed}
		if pp.StorageClass == "" {
			pp.StorageClass = "STANDARD"
		}
		if min := MinStorageDays[pp.StorageClass]; min > 0 {
			if days := pp.Age.Hours() / 24; days < float64(min) {
				pp.EarlyDays = float64(min) - days
				res.EarlyByteDays += pp.EarlyDays * float64(pp.Size)
			}
		}
		res.Deleted = append(res.Deleted, pp)
		res.BytesFreed += fi.Size
	}
	var kept []*repo.PackInfo
	indexed := map[string]bool{}
	for _, p := range r.Index().Packs() {
		indexed[p.Name()] = true
		used := usedData
		if p.Type == repo.TreeBlob {
			used = usedTrees
		}
		var live, dead int64
		for _, b := range p.Blobs {
			if used[b.ID] {
				live++
			} else {
				dead += int64(b.Length)
			}
		}
		fi, exists := listed[p.Name()]
		if live == 0 {
			if exists {
				deleted(fi, false)
			}
			continue
		}
		kept = append(kept, p)
		res.PacksKept++
		res.BytesKept += p.Size
		res.BytesUnused += dead
	}
	names := make([]string, 0, len(listed))
	for n := range listed {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fi := listed[n]
		if indexed[n] {
			continue
		}
		if _, err := repo.ParseID(n[strings.IndexByte(n, '/')+1:]); err != nil {
			continue // not a pack
		}
		if now.Sub(fi.LastModified) < o.UnindexedGrace {
			res.Young = append(res.Young, n)
			continue
		}
		deleted(fi, true)
	}
	indexFiles := r.Index().Files()
	if o.DryRun || (len(res.Deleted) == 0 && len(indexFiles) <= 1) {
		return res, nil
	}
	var newIndex repo.ID
	rewrite := len(kept) != len(r.Index().Packs()) || len(indexFiles) > 1
	if rewrite && len(kept) > 0 {
		if newIndex, err = r.SaveIndex(ctx, kept); err != nil {
			return res, err
		}
	}
	if rewrite {
		for _, id := range indexFiles {
			if id == newIndex {
				continue
			}
			if err := r.RemoveIndex(ctx, id); err != nil {
				return res, err
			}
		}
	}
	for _, d := range res.Deleted {
		if err := r.Backend().Delete(ctx, d.Name); err != nil {
			return res, err
		}
	}
	return res, nil
}
