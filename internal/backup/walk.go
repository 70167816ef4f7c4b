package backup

import (
	"context"

	"github.com/firnhq/firn/internal/backup/repo"
)

// walker collects the tree and data blobs that snapshots reach, reading
// each tree once however many snapshots share it.
type walker struct {
	r     *repo.Repository
	trees map[repo.ID]bool
	data  map[repo.ID]bool
}

func newWalker(r *repo.Repository) *walker {
	return &walker{r: r, trees: map[repo.ID]bool{}, data: map[repo.ID]bool{}}
}

func (w *walker) walk(ctx context.Context, id repo.ID) error {
	if w.trees[id] {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	t, err := w.r.LoadTree(ctx, id)
	if err != nil {
		return err
	}
	w.trees[id] = true
	for _, n := range t.Nodes {
		for _, c := range n.Content {
			w.data[c] = true
		}
		if n.Subtree != nil {
			if err := w.walk(ctx, *n.Subtree); err != nil {
				return err
			}
		}
	}
	return nil
}

// usedBlobs returns the tree and data blobs that the snapshots reach.
func usedBlobs(ctx context.Context, r *repo.Repository, sns []*repo.Snapshot) (trees, data map[repo.ID]bool, err error) {
	w := newWalker(r)
	for _, sn := range sns {
		if err := w.walk(ctx, sn.Tree); err != nil {
			return nil, nil, err
		}
	}
	return w.trees, w.data, nil
}
