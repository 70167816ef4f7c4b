package repo

import "sort"

// PackInfo is what an index says about one pack.
type PackInfo struct {
	ID   ID       `json:"id"`
	Type BlobType `json:"type"`
	Size int64    `json:"size"`
	// StorageClass is the class the pack was written in ("" for the
	// default). A lifecycle rule may have moved it since: ask the
	// backend (Head) before relying on it.
	StorageClass string       `json:"storage_class,omitempty"`
	Blobs        []PackedBlob `json:"blobs"`
}

// Name is the pack's file name in the repository.
func (p *PackInfo) Name() string { return PackName(p.Type, p.ID) }

// PackName is the file name of pack id of type t: "data/<id>" or
// "tree/<id>".
func PackName(t BlobType, id ID) string { return t.Dir() + "/" + id.String() }

// IndexFile is the JSON of an index/<id> file (sealed).
type IndexFile struct {
	Packs []*PackInfo `json:"packs"`
}

// Location says where a blob is stored.
type Location struct {
	Pack *PackInfo
	PackedBlob
}

type blobKey struct {
	t  BlobType
	id ID
}

// Index maps blobs to the packs that hold them, merged from every index
// file.
type Index struct {
	blobs map[blobKey]Location
	packs map[ID]*PackInfo
	files map[ID]bool // index files merged in
}

// NewIndex returns an empty index.
func NewIndex() *Index {
	return &Index{blobs: map[blobKey]Location{}, packs: map[ID]*PackInfo{}, files: map[ID]bool{}}
}

// AddPack adds p and its blobs. A blob already known keeps its first
// location.
func (x *Index) AddPack(p *PackInfo) {
	if _, ok := x.packs[p.ID]; ok {
		return
	}
	x.packs[p.ID] = p
	for _, b := range p.Blobs {
		k := blobKey{p.Type, b.ID}
		if _, ok := x.blobs[k]; !ok {
			x.blobs[k] = Location{Pack: p, PackedBlob: b}
		}
	}
}

// Lookup returns where blob id of type t is.
func (x *Index) Lookup(t BlobType, id ID) (Location, bool) {
	l, ok := x.blobs[blobKey{t, id}]
	return l, ok
}

// Has reports whether the index knows blob id of type t.
func (x *Index) Has(t BlobType, id ID) bool {
	_, ok := x.blobs[blobKey{t, id}]
	return ok
}

// Pack returns the pack id.
func (x *Index) Pack(id ID) (*PackInfo, bool) {
	p, ok := x.packs[id]
	return p, ok
}

// Packs returns all packs, sorted by type and id.
func (x *Index) Packs() []*PackInfo {
	ps := make([]*PackInfo, 0, len(x.packs))
	for _, p := range x.packs {
		ps = append(ps, p)
	}
	sort.Slice(ps, func(i, j int) bool {
		if ps[i].Type != ps[j].Type {
			return ps[i].Type < ps[j].Type
		}
		return string(ps[i].ID[:]) < string(ps[j].ID[:])
	})
	return ps
}

// Files returns the ids of the index files merged in.
func (x *Index) Files() []ID {
	ids := make([]ID, 0, len(x.files))
	for id := range x.files {
		ids = append(ids, id)
	}
	return ids
}
