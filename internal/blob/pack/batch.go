package pack

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/firnhq/firn/internal/blob"
)

var _ blob.BatchReader = (*Store)(nil)

// ReadBatch implements blob.BatchReader. Objects are read grouped by pack
// and in offset order, through one reader per pack that keeps the last
// verified batch of blocks, so objects that share blocks (small ones)
// read each block once and a pack is read front to back. Each object is
// checked as Open checks a whole read.
func (s *Store) ReadBatch(ctx context.Context, ids []string, fn func(id string, r io.Reader) error) error {
	type item struct {
		id   string
		e    Entry
		pack string
		err  error
	}
	items := make([]item, 0, len(ids))
	for _, id := range ids {
		it := item{id: id}
		if !blob.ValidID(id) {
			it.err = fmt.Errorf("blob %q: %w", id, blob.ErrNotFound)
		} else if e, pack, err := s.idx.lookup(ctx, id); isNoRows(err) {
			it.err = fmt.Errorf("blob %s: %w", id, blob.ErrNotFound)
		} else if err != nil {
			it.err = fmt.Errorf("open blob %s: %w", id, err)
		} else {
			it.e, it.pack = e, pack
		}
		items = append(items, it)
	}
	slices.SortFunc(items, func(a, b item) int {
		return cmp.Or(cmp.Compare(a.pack, b.pack), cmp.Compare(a.e.Offset, b.e.Offset))
	})
	for i := 0; i < len(items); {
		if items[i].err != nil {
			if err := fn(items[i].id, errReader{items[i].err}); err != nil {
				return err
			}
			i++
			continue
		}
		j := i
		for j < len(items) && items[j].err == nil && items[j].pack == items[i].pack {
			j++
		}
		group := items[i:j]
		i = j
		src, err := s.source(ctx, group[0].pack)
		if errors.Is(err, errMoved) {
			// Sealed or compacted since the lookup: read them one by one.
			for _, it := range group {
				if err := s.readOne(ctx, it.id, fn); err != nil {
					return err
				}
			}
			continue
		}
		if err != nil {
			for _, it := range group {
				if err := fn(it.id, errReader{fmt.Errorf("open blob %s: %w", it.id, err)}); err != nil {
					return err
				}
			}
			continue
		}
		shared := &source{journal: src.journal, j: src.j, set: src.set}
		if !src.journal {
			shared.shared = src.set.reader(0, 0)
		}
		for _, it := range group {
			err = func() error {
				r, err := newObjectReader(&it.e, shared, 0, -1)
				if err != nil {
					return fn(it.id, errReader{err})
				}
				defer r.Close()
				return fn(it.id, r)
			}()
			if err != nil {
				break
			}
		}
		src.release()
		if err != nil {
			return err
		}
	}
	return nil
}

// readOne calls fn with a reader from Open.
func (s *Store) readOne(ctx context.Context, id string, fn func(id string, r io.Reader) error) error {
	r, err := s.Open(ctx, id, 0, -1)
	if err != nil {
		return fn(id, errReader{err})
	}
	defer r.Close()
	return fn(id, r)
}

// errReader fails every Read with err.
type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }
