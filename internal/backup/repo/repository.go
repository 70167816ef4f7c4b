package repo

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/firnhq/firn/internal/backup/backend"
	"github.com/firnhq/firn/internal/backup/chunker"
)

// ErrExists is returned by Init when the location already holds a
// repository.
var ErrExists = errors.New("a repository already exists there")

// ErrNoRepository is returned by Open when the location holds none.
var ErrNoRepository = errors.New("no repository there (run firn backup init)")

// InitOptions tune a new repository; zero values take the defaults.
type InitOptions struct {
	PackSize         int64     // default DefaultPackSize
	DataStorageClass string    // default: the endpoint's default class
	KDF              KDFParams // default DefaultKDF
	Host             string    // recorded in the key file
	Now              time.Time // default time.Now()
}

// Init creates a repository in be with a new master key that password
// opens, and returns its config. It fails with ErrExists when be already
// holds a config.
func Init(ctx context.Context, be backend.Backend, password []byte, o InitOptions) (*Config, error) {
	if len(password) == 0 {
		return nil, errors.New("init: empty password")
	}
	if _, err := be.Head(ctx, "config"); err == nil {
		return nil, fmt.Errorf("init %s: %w", be.Location(), ErrExists)
	} else if !errors.Is(err, backend.ErrNotFound) {
		return nil, fmt.Errorf("init %s: %w", be.Location(), err)
	}
	if o.PackSize == 0 {
		o.PackSize = DefaultPackSize
	}
	if o.PackSize < 1<<10 || o.PackSize > 4<<30 {
		return nil, fmt.Errorf("init: pack size %d out of range (1 KiB to 4 GiB)", o.PackSize)
	}
	if o.KDF == (KDFParams{}) {
		o.KDF = DefaultKDF
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	key, err := NewKey()
	if err != nil {
		return nil, err
	}
	pol, err := chunker.RandomPolynomial()
	if err != nil {
		return nil, err
	}
	cfg := &Config{Version: FormatVersion, ChunkerPolynomial: pol, PackSize: o.PackSize,
		DataStorageClass: o.DataStorageClass, Created: o.Now.UTC()}
	if _, err := rand.Read(cfg.ID[:]); err != nil {
		return nil, err
	}
	kf, err := WrapKey(key, password, o.KDF, o.Host, o.Now)
	if err != nil {
		return nil, err
	}
	kb, err := json.Marshal(kf)
	if err != nil {
		return nil, err
	}
	if err := be.Put(ctx, "keys/"+Hash(kb).String(), kb, ""); err != nil {
		return nil, fmt.Errorf("init: %w", err)
	}
	cb, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	// The config goes last: a repository exists once it is there.
	if err := be.Put(ctx, "config", key.encode(nil, cb), ""); err != nil {
		return nil, fmt.Errorf("init: %w", err)
	}
	return cfg, nil
}

// OpenOptions tune Open.
type OpenOptions struct {
	// CacheDir is the base directory of local caches; "" for none.
	CacheDir string
}

// Repository is an open repository. SaveBlob, SaveTree, HasBlob,
// LoadBlob, LoadTree and Stats may be called concurrently (a backup's
// goroutines do); everything else must not run concurrently with any
// method, and the Index must not be read while blobs are being saved.
type Repository struct {
	be    backend.Backend
	key   *Key
	cfg   Config
	cache *Cache
	index *Index // written under mu by uploads

	// DataStorageClass is the class new data packs are written in;
	// initially the config's. Set it before saving blobs.
	DataStorageClass string

	mu        sync.Mutex
	packers   [2]*packer       // the open pack of each type
	pending   map[blobKey]bool // blobs in packers not yet uploaded
	unindexed []*PackInfo      // uploaded packs not yet in an index file
	stats     WriteStats
	uploadErr error // the first failed upload

	// packBufs holds the buffers of the packs of each type: a pack takes
	// one when it opens and gives it back once uploaded, so that at most
	// cap(packBufs[t]) packs of type t are in memory, filling or
	// uploading. A nil buffer is allocated when taken.
	packBufs [2]chan []byte
	uploads  sync.WaitGroup

	treePacks     map[ID][]byte // verified tree packs read in this session
	treePackBytes int
}

// packsInMemory is how many data packs may be in memory at once: one
// filling while the others upload. Two are as fast as three with the
// default size (the upload of one pack takes less than the filling of
// the next); small packs get more, huge ones one (the next pack then
// opens once the previous one is uploaded).
func packsInMemory(packSize int64) int {
	switch {
	case packSize <= 16<<20:
		return 4
	case packSize <= 256<<20:
		return 2
	}
	return 1
}

// WriteStats counts what a Repository wrote.
type WriteStats struct {
	BlobsNew    int64 // blobs added
	BytesNew    int64 // their plaintext bytes
	BytesStored int64 // their sealed bytes
	PacksNew    int64 // packs uploaded
}

// Open opens the repository in be with password.
func Open(ctx context.Context, be backend.Backend, password []byte, o OpenOptions) (*Repository, error) {
	var keys []string
	err := be.List(ctx, "keys/", func(fi backend.FileInfo) error {
		keys = append(keys, fi.Name)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", be.Location(), err)
	}
	sealed, err := be.Get(ctx, "config", 0, -1)
	if errors.Is(err, backend.ErrNotFound) {
		return nil, fmt.Errorf("open %s: %w", be.Location(), ErrNoRepository)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", be.Location(), err)
	}
	sort.Strings(keys)
	var key *Key
	for _, name := range keys {
		kb, err := be.Get(ctx, name, 0, -1)
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", be.Location(), err)
		}
		var kf KeyFile
		if err := json.Unmarshal(kb, &kf); err != nil {
			return nil, fmt.Errorf("open %s: %s: %w", be.Location(), name, err)
		}
		if k, err := kf.Unwrap(password); err == nil {
			key = k
			break
		} else if !errors.Is(err, ErrAuth) {
			return nil, fmt.Errorf("open %s: %s: %w", be.Location(), name, err)
		}
	}
	if key == nil {
		return nil, fmt.Errorf("open %s: %w", be.Location(), ErrWrongPassword)
	}
	cb, err := key.decode(sealed)
	if err != nil {
		return nil, fmt.Errorf("open %s: config: %w", be.Location(), err)
	}
	r := &Repository{be: be, key: key, index: NewIndex(), pending: map[blobKey]bool{}, treePacks: map[ID][]byte{}}
	if err := json.Unmarshal(cb, &r.cfg); err != nil {
		return nil, fmt.Errorf("open %s: config: %w", be.Location(), err)
	}
	r.packBufs[DataBlob] = make(chan []byte, packsInMemory(r.cfg.PackSize))
	r.packBufs[TreeBlob] = make(chan []byte, 2)
	for _, c := range r.packBufs {
		for range cap(c) {
			c <- nil
		}
	}
	if r.cfg.Version != FormatVersion {
		return nil, fmt.Errorf("open %s: format version %d, this firn reads %d", be.Location(), r.cfg.Version, FormatVersion)
	}
	if !chunker.Valid(r.cfg.ChunkerPolynomial) {
		return nil, fmt.Errorf("open %s: config: invalid chunker polynomial", be.Location())
	}
	r.DataStorageClass = r.cfg.DataStorageClass
	if o.CacheDir != "" {
		if r.cache, err = OpenCache(o.CacheDir, r.cfg.ID); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// Config returns the repository's config.
func (r *Repository) Config() Config { return r.cfg }

// Key returns the master key.
func (r *Repository) Key() *Key { return r.key }

// Backend returns the backend.
func (r *Repository) Backend() backend.Backend { return r.be }

// Index returns the index loaded by LoadIndex, with the packs written
// since.
func (r *Repository) Index() *Index { return r.index }

// Cache returns the local cache, nil when there is none.
func (r *Repository) Cache() *Cache { return r.cache }

// Stats returns what this Repository has written so far.
func (r *Repository) Stats() WriteStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stats
}

// saveFile encodes v as JSON, seals it and stores it as dir/<id>, the id
// being the SHA-256 of the stored bytes.
func (r *Repository) saveFile(ctx context.Context, dir string, v any) (ID, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return ID{}, err
	}
	sealed := r.key.encode(nil, b)
	id := Hash(sealed)
	name := dir + "/" + id.String()
	if err := r.be.Put(ctx, name, sealed, ""); err != nil {
		return ID{}, err
	}
	r.cache.Put(name, sealed) // best effort
	return id, nil
}

// getFile returns the stored bytes of name (dir/<id>) from the cache or
// the backend, checked against the id.
func (r *Repository) getFile(ctx context.Context, name string) ([]byte, error) {
	if b, ok := r.cache.Get(name); ok {
		return b, nil
	}
	id, err := ParseID(name[strings.LastIndexByte(name, '/')+1:])
	if err != nil {
		return nil, fmt.Errorf("%s: not a repository file", name)
	}
	b, err := r.be.Get(ctx, name, 0, -1)
	if err != nil {
		return nil, err
	}
	if Hash(b) != id {
		return nil, fmt.Errorf("%s: content does not match its name: the file is corrupt", name)
	}
	r.cache.Put(name, b)
	return b, nil
}

// loadFile reads name and decodes its JSON into v.
func (r *Repository) loadFile(ctx context.Context, name string, v any) error {
	b, err := r.getFile(ctx, name)
	if err != nil {
		return err
	}
	plain, err := r.key.decode(b)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if err := json.Unmarshal(plain, v); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// list returns the names of the files under dir/ that are named by an id.
func (r *Repository) list(ctx context.Context, dir string) ([]string, error) {
	var names []string
	err := r.be.List(ctx, dir+"/", func(fi backend.FileInfo) error {
		if _, err := ParseID(strings.TrimPrefix(fi.Name, dir+"/")); err == nil {
			names = append(names, fi.Name)
		}
		return nil
	})
	sort.Strings(names)
	return names, err
}

// LoadIndex reads every index file (from the cache when it has them).
func (r *Repository) LoadIndex(ctx context.Context) error {
	names, err := r.list(ctx, "index")
	if err != nil {
		return fmt.Errorf("load index: %w", err)
	}
	keep := map[string]bool{}
	for _, name := range names {
		keep[name] = true
		id, _ := ParseID(strings.TrimPrefix(name, "index/"))
		if r.index.files[id] {
			continue
		}
		var f IndexFile
		if err := r.loadFile(ctx, name, &f); err != nil {
			return fmt.Errorf("load index: %w", err)
		}
		for _, p := range f.Packs {
			r.index.AddPack(p)
		}
		r.index.files[id] = true
	}
	r.cache.Retain("index", keep)
	return nil
}

// SaveIndex writes an index file listing packs and returns its id.
func (r *Repository) SaveIndex(ctx context.Context, packs []*PackInfo) (ID, error) {
	id, err := r.saveFile(ctx, "index", &IndexFile{Packs: packs})
	if err != nil {
		return ID{}, fmt.Errorf("save index: %w", err)
	}
	r.index.files[id] = true
	return id, nil
}

// RemoveIndex deletes index file id.
func (r *Repository) RemoveIndex(ctx context.Context, id ID) error {
	return r.be.Delete(ctx, "index/"+id.String())
}

// HasBlob reports whether blob id of type t is stored or pending.
func (r *Repository) HasBlob(t BlobType, id ID) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.hasBlob(t, id)
}

func (r *Repository) hasBlob(t BlobType, id ID) bool {
	return r.index.Has(t, id) || r.pending[blobKey{t, id}]
}

// encodeBufs holds scratch buffers for sealing blobs before they are
// copied into their pack.
var encodeBufs sync.Pool

// SaveBlob stores data as a blob of type t unless one with the same
// content exists, and returns its id and whether it was new. Blobs are
// uploaded in packs once a pack is full or by Flush; uploads run in the
// background, and an upload's failure is returned by a later SaveBlob
// or by Flush; the upload of a pack that a call fills runs with its ctx,
// which must therefore stay valid until Flush. Concurrent calls hash,
// compress and seal in parallel.
func (r *Repository) SaveBlob(ctx context.Context, t BlobType, data []byte) (ID, bool, error) {
	id := r.key.BlobID(data)
	k := blobKey{t, id}
	r.mu.Lock()
	err := r.uploadErr
	known := err == nil && r.hasBlob(t, id)
	if err == nil && !known {
		r.pending[k] = true // claimed: concurrent savers of the same content skip it
	}
	r.mu.Unlock()
	if err != nil {
		return id, false, err
	}
	if known {
		return id, false, nil
	}

	var scratch []byte
	if b, ok := encodeBufs.Get().(*[]byte); ok {
		scratch = *b
	}
	sealed := r.key.encode(scratch[:0], data)

	r.mu.Lock()
	p, err := r.openPacker(ctx, t)
	if err == nil && len(p.buf) > 0 && int64(len(p.buf)+len(sealed)) > r.packTarget(t) {
		// The blob would take the pack past its size: it opens the next
		// one. Packs stay within their size, and a chunk of a file does
		// not share a pack with whatever blobs of other files concurrent
		// savers had put there, which prune could then not delete apart.
		r.packers[t] = nil
		r.mu.Unlock()
		r.startUpload(ctx, p)
		r.mu.Lock()
		p, err = r.openPacker(ctx, t)
	}
	if err != nil {
		delete(r.pending, k)
		r.mu.Unlock()
		return id, false, err
	}
	before := len(p.buf)
	p.buf = append(p.buf, sealed...)
	p.blobs = append(p.blobs, PackedBlob{ID: id, Offset: uint32(before), Length: uint32(len(sealed)), RawLength: uint32(len(data))})
	r.stats.BlobsNew++
	r.stats.BytesNew += int64(len(data))
	r.stats.BytesStored += int64(len(sealed))
	var full *packer
	if int64(len(p.buf)) >= r.packTarget(t) {
		full, r.packers[t] = p, nil
	}
	r.mu.Unlock()
	encodeBufs.Put(&sealed)
	if full != nil {
		r.startUpload(ctx, full)
	}
	return id, true, nil
}

// openPacker returns the open packer of type t, opening one with a
// buffer from packBufs when there is none: it waits (with r.mu released)
// while every buffer is in use. r.mu must be held.
func (r *Repository) openPacker(ctx context.Context, t BlobType) (*packer, error) {
	for r.packers[t] == nil {
		r.mu.Unlock()
		var buf []byte
		select {
		case buf = <-r.packBufs[t]:
		case <-ctx.Done():
			r.mu.Lock()
			return nil, ctx.Err()
		}
		r.mu.Lock()
		if r.packers[t] != nil { // another goroutine opened one meanwhile
			r.packBufs[t] <- buf // does not block: this one came from there
			break
		}
		if buf == nil {
			buf = make([]byte, 0, r.packCap(t))
		}
		class := ""
		if t == DataBlob && r.DataStorageClass != "STANDARD" {
			class = r.DataStorageClass
		}
		r.packers[t] = &packer{typ: t, buf: buf[:0], class: class}
	}
	return r.packers[t], nil
}

func (r *Repository) packTarget(t BlobType) int64 {
	if t == TreeBlob {
		return min(r.cfg.PackSize, maxTreePackSize)
	}
	return r.cfg.PackSize
}

// packCap is the capacity a new pack buffer of type t gets: data packs
// hold their target plus the largest chunk and a header of small blobs,
// so that they do not grow (pages never written take no memory); tree
// packs start smaller and grow when needed.
func (r *Repository) packCap(t BlobType) int {
	target := int(r.packTarget(t))
	if t == TreeBlob {
		return min(target, 1<<20)
	}
	return target + min(target, encodedMax(chunker.MaxSize)) + target/16 + 64<<10
}

// startUpload uploads the pack p in the background. Its buffer goes back
// to packBufs when done; the first failure is kept in uploadErr.
func (r *Repository) startUpload(ctx context.Context, p *packer) {
	r.uploads.Add(1)
	go func() {
		defer r.uploads.Done()
		err := r.uploadPack(ctx, p)
		if err != nil {
			r.mu.Lock()
			if r.uploadErr == nil {
				r.uploadErr = err
			}
			r.mu.Unlock()
		}
		r.packBufs[p.typ] <- p.buf[:0]
	}()
}

// uploadPack finishes and uploads pack p, then indexes its blobs.
func (r *Repository) uploadPack(ctx context.Context, p *packer) error {
	data := p.finish(r.key)
	p.buf = data
	info := &PackInfo{ID: Hash(data), Type: p.typ, Size: int64(len(data)), StorageClass: p.class, Blobs: p.blobs}
	if err := r.be.Put(ctx, info.Name(), data, p.class); err != nil {
		return fmt.Errorf("upload pack: %w", err)
	}
	if p.typ == TreeBlob {
		r.cache.Put(info.Name(), data) // best effort
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stats.PacksNew++
	for _, b := range p.blobs {
		delete(r.pending, blobKey{p.typ, b.ID})
	}
	r.index.AddPack(info)
	r.unindexed = append(r.unindexed, info)
	return nil
}

// Flush uploads the open packs, waits for every upload and writes an
// index file for the packs uploaded since the last Flush. Blobs saved
// before are then durable. It must not run concurrently with SaveBlob.
func (r *Repository) Flush(ctx context.Context) error {
	r.mu.Lock()
	var open []*packer
	for t, p := range r.packers {
		if p != nil && len(p.blobs) > 0 {
			open = append(open, p)
			r.packers[t] = nil
		}
	}
	r.mu.Unlock()
	for _, p := range open {
		r.startUpload(ctx, p)
	}
	r.uploads.Wait()
	r.mu.Lock()
	err, unindexed := r.uploadErr, r.unindexed
	r.mu.Unlock()
	if err != nil {
		return err
	}
	if len(unindexed) == 0 {
		return nil
	}
	if _, err := r.SaveIndex(ctx, unindexed); err != nil {
		return err
	}
	r.mu.Lock()
	r.unindexed = nil
	r.mu.Unlock()
	return nil
}

// LoadBlob returns the plaintext of blob id of type t, checked against
// its id. Tree packs are read whole (and cached); data blobs with a
// ranged read of their pack.
func (r *Repository) LoadBlob(ctx context.Context, t BlobType, id ID) ([]byte, error) {
	r.mu.Lock()
	loc, ok := r.index.Lookup(t, id)
	r.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("%s blob %s: not in the index", t, id.Short())
	}
	var sealed []byte
	if t == TreeBlob {
		pack, err := r.treePack(ctx, loc.Pack)
		if err != nil {
			return nil, err
		}
		end := int64(loc.Offset) + int64(loc.Length)
		if end > int64(len(pack)) {
			return nil, fmt.Errorf("tree blob %s: beyond the end of pack %s", id.Short(), loc.Pack.ID.Short())
		}
		sealed = pack[loc.Offset:end]
	} else {
		b, err := r.be.Get(ctx, loc.Pack.Name(), int64(loc.Offset), int64(loc.Length))
		if err != nil {
			return nil, err
		}
		sealed = b
	}
	return r.DecodeBlob(id, sealed)
}

// DecodeBlob opens the sealed blob and checks that its plaintext has id.
func (r *Repository) DecodeBlob(id ID, sealed []byte) ([]byte, error) {
	plain, err := r.key.decode(sealed)
	if err != nil {
		return nil, fmt.Errorf("blob %s: %w", id.Short(), err)
	}
	if r.key.BlobID(plain) != id {
		return nil, fmt.Errorf("blob %s: content does not match its id", id.Short())
	}
	return plain, nil
}

// DecodeBlobInPlace is DecodeBlob overwriting sealed, which saves an
// allocation and a copy: the plaintext returned may share sealed's
// memory. Concurrent calls on different blobs are safe.
func (r *Repository) DecodeBlobInPlace(id ID, sealed []byte) ([]byte, error) {
	plain, err := r.key.decodeInPlace(sealed)
	if err != nil {
		return nil, fmt.Errorf("blob %s: %w", id.Short(), err)
	}
	if r.key.BlobID(plain) != id {
		return nil, fmt.Errorf("blob %s: content does not match its id", id.Short())
	}
	return plain, nil
}

// treePack returns the whole tree pack p, verified.
func (r *Repository) treePack(ctx context.Context, p *PackInfo) ([]byte, error) {
	r.mu.Lock()
	b, ok := r.treePacks[p.ID]
	r.mu.Unlock()
	if ok {
		return b, nil
	}
	b, err := r.getFile(ctx, p.Name())
	if err != nil {
		return nil, fmt.Errorf("tree pack: %w", err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.treePackBytes > 256<<20 {
		clear(r.treePacks)
		r.treePackBytes = 0
	}
	r.treePacks[p.ID] = b
	r.treePackBytes += len(b)
	return b, nil
}

// SyncTreeCache makes the cache hold exactly the indexed tree packs,
// downloading the missing ones.
func (r *Repository) SyncTreeCache(ctx context.Context) error {
	if r.cache == nil {
		return nil
	}
	keep := map[string]bool{}
	for _, p := range r.index.Packs() {
		if p.Type != TreeBlob {
			continue
		}
		keep[p.Name()] = true
		if _, err := r.getFile(ctx, p.Name()); err != nil {
			return err
		}
	}
	r.cache.Retain("tree", keep)
	return nil
}

// LoadTree reads tree id.
func (r *Repository) LoadTree(ctx context.Context, id ID) (*Tree, error) {
	b, err := r.LoadBlob(ctx, TreeBlob, id)
	if err != nil {
		return nil, err
	}
	var t Tree
	if err := json.Unmarshal(b, &t); err != nil {
		return nil, fmt.Errorf("tree %s: %w", id.Short(), err)
	}
	return &t, nil
}

// SaveTree stores t (its nodes must be sorted by name) and returns its id.
func (r *Repository) SaveTree(ctx context.Context, t *Tree) (ID, error) {
	if t.Nodes == nil {
		t.Nodes = []*Node{}
	}
	b, err := json.Marshal(t)
	if err != nil {
		return ID{}, err
	}
	id, _, err := r.SaveBlob(ctx, TreeBlob, b)
	return id, err
}

// SaveSnapshot stores sn and sets its ID.
func (r *Repository) SaveSnapshot(ctx context.Context, sn *Snapshot) (ID, error) {
	id, err := r.saveFile(ctx, "snapshots", sn)
	if err != nil {
		return ID{}, fmt.Errorf("save snapshot: %w", err)
	}
	sn.ID = id
	return id, nil
}

// Snapshots returns every snapshot, oldest first.
func (r *Repository) Snapshots(ctx context.Context) ([]*Snapshot, error) {
	names, err := r.list(ctx, "snapshots")
	if err != nil {
		return nil, fmt.Errorf("list snapshots: %w", err)
	}
	keep := map[string]bool{}
	var sns []*Snapshot
	for _, name := range names {
		keep[name] = true
		var sn Snapshot
		if err := r.loadFile(ctx, name, &sn); err != nil {
			return nil, fmt.Errorf("load snapshot: %w", err)
		}
		sn.ID, _ = ParseID(strings.TrimPrefix(name, "snapshots/"))
		sns = append(sns, &sn)
	}
	r.cache.Retain("snapshots", keep)
	sort.SliceStable(sns, func(i, j int) bool { return sns[i].Time.Before(sns[j].Time) })
	return sns, nil
}

// RemoveSnapshot deletes snapshot id.
func (r *Repository) RemoveSnapshot(ctx context.Context, id ID) error {
	return r.be.Delete(ctx, "snapshots/"+id.String())
}

// FindSnapshot returns the snapshot whose id starts with prefix (hex),
// or the newest for "latest".
func FindSnapshot(sns []*Snapshot, prefix string) (*Snapshot, error) {
	if prefix == "latest" {
		if len(sns) == 0 {
			return nil, errors.New("no snapshot")
		}
		return sns[len(sns)-1], nil
	}
	var found *Snapshot
	for _, sn := range sns {
		if strings.HasPrefix(sn.ID.String(), strings.ToLower(prefix)) {
			if found != nil {
				return nil, fmt.Errorf("snapshot %q is ambiguous", prefix)
			}
			found = sn
		}
	}
	if found == nil || prefix == "" {
		return nil, fmt.Errorf("snapshot %q not found", prefix)
	}
	return found, nil
}

// ReadPack returns the whole pack p, checked against its id (tree packs
// come from the cache when it has them).
func (r *Repository) ReadPack(ctx context.Context, p *PackInfo) ([]byte, error) {
	if p.Type == TreeBlob {
		return r.getFile(ctx, p.Name())
	}
	b, err := r.be.Get(ctx, p.Name(), 0, -1)
	if err != nil {
		return nil, err
	}
	if Hash(b) != p.ID {
		return nil, fmt.Errorf("%s: content does not match its name: the pack is corrupt", p.Name())
	}
	return b, nil
}

// CheckPack checks that data, the whole pack p, has the header the index
// says and that every blob in it opens and matches its id.
func (r *Repository) CheckPack(p *PackInfo, data []byte) error {
	if int64(len(data)) != p.Size {
		return fmt.Errorf("pack %s: %d bytes, the index says %d", p.ID.Short(), len(data), p.Size)
	}
	t, blobs, err := ReadPackHeader(r.key, data)
	if err != nil {
		return fmt.Errorf("pack %s: %w", p.ID.Short(), err)
	}
	if t != p.Type || len(blobs) != len(p.Blobs) {
		return fmt.Errorf("pack %s: header lists %d %s blobs, the index %d %s blobs", p.ID.Short(), len(blobs), t, len(p.Blobs), p.Type)
	}
	for i, b := range blobs {
		if b != p.Blobs[i] {
			return fmt.Errorf("pack %s: blob %d differs between header and index", p.ID.Short(), i)
		}
		if _, err := r.DecodeBlob(b.ID, data[b.Offset:int64(b.Offset)+int64(b.Length)]); err != nil {
			return fmt.Errorf("pack %s: %w", p.ID.Short(), err)
		}
	}
	return nil
}
