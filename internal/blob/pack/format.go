package pack

import (
	"github.com/firnhq/firn/internal/blob"

	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"time"
)

// The byte format, described for other readers in docs/pack-format.md.
// Every integer is little-endian; every CRC is CRC-32C (Castagnoli).
const (
	shardMagic = "FIRNSHRD"
	packMagic  = "FIRNPACK"
	frameMagic = "FOBJ"
	indexMagic = "FIDX"
	tailMagic  = "FIRNTAIL"

	formatVersion = 1

	shardHeaderSize = 64
	packHeaderSize  = 32
	trailerSize     = 32
	// frameOverhead is a frame's bytes besides its entry body and
	// payload: magic, body length and header CRC.
	frameOverhead = 12
	// entryFixedSize is the size of an entry body with empty labels.
	entryFixedSize = 84
	maxLabelField  = 1<<16 - 1
	maxEntryBody   = entryFixedSize + 4*maxLabelField + 4
	// indexEntryOverhead is an index entry's bytes besides its body:
	// frame offset and body length.
	indexEntryOverhead = 12
	blockCRCSize       = 4

	maxShards    = 255
	maxBlockSize = 64 << 20
	maxBlocks    = 1 << 31
)

// Frame flags.
const (
	// flagMoved marks a frame that compaction copied from another pack.
	// Recovery never indexes such a frame from the journal: its index
	// row is written by the compaction that copied it, or it is garbage.
	flagMoved = 1 << 0
	// flagPart marks an entry whose label names a part of a multipart
	// upload: the entry body ends with the part number and upload id.
	flagPart = 1 << 1
)

// maxPartNumber bounds a label's part number (S3 allows 10,000).
const maxPartNumber = 1<<31 - 1

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func crc32c(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }

// Compression says how an object's payload is stored.
type Compression uint8

// Compressions.
const (
	None Compression = 0 // the payload is the object's bytes
	Zstd Compression = 1 // the payload is one zstd frame (RFC 8878)
)

func (c Compression) String() string {
	switch c {
	case None:
		return "none"
	case Zstd:
		return "zstd"
	}
	return fmt.Sprintf("compression(%d)", uint8(c))
}

// Label names an object in the terms of the S3 layer above, so that an
// archive can be read without firn's metadata. It is optional.
type Label = blob.Label

// Entry describes one object in a pack: the header of its frame, and its
// row in a pack's trailing index.
type Entry struct {
	ID          string // 32 lower-case hex digits
	Label       Label
	Compression Compression
	Flags       uint8
	Size        int64     // bytes of the object
	StoredSize  int64     // bytes of the payload
	Committed   time.Time // when the object was committed
	SHA256      [32]byte  // of the object's bytes
	StoredCRC   uint32    // CRC-32C of the payload
	// Offset is where the entry's frame starts in the pack content.
	Offset int64
}

// bodyLen is the length of e's encoded entry body.
func (e *Entry) bodyLen() int {
	n := entryFixedSize + len(e.Label.Bucket) + len(e.Label.Key) + len(e.Label.VersionID)
	if e.Label.PartNumber > 0 {
		n += 6 + len(e.Label.UploadID)
	}
	return n
}

// headerLen is the length of e's frame header.
func (e *Entry) headerLen() int64 { return int64(frameOverhead + e.bodyLen()) }

// DataOffset is where e's payload starts in the pack content.
func (e *Entry) DataOffset() int64 { return e.Offset + e.headerLen() }

// frameLen is the length of e's whole frame.
func (e *Entry) frameLen() int64 { return e.headerLen() + e.StoredSize }

func validLabel(l Label) error {
	for _, f := range []string{l.Bucket, l.Key, l.VersionID, l.UploadID} {
		if len(f) > maxLabelField {
			return fmt.Errorf("label field of %d bytes: the limit is %d", len(f), maxLabelField)
		}
	}
	if l.PartNumber < 0 || l.PartNumber > maxPartNumber || l.PartNumber == 0 && l.UploadID != "" {
		return fmt.Errorf("label part number %d (upload %q): want 1 to %d with an upload", l.PartNumber, l.UploadID, maxPartNumber)
	}
	return nil
}

var errFormat = errors.New("bad format")

func formatErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errFormat, fmt.Sprintf(format, args...))
}

func appendEntryBody(b []byte, e *Entry) []byte {
	id, err := hex.DecodeString(e.ID)
	if err != nil || len(id) != 16 {
		panic("pack: entry with a bad id " + e.ID)
	}
	b = append(b, id...)
	flags := e.Flags &^ flagPart
	if e.Label.PartNumber > 0 {
		flags |= flagPart
	}
	b = append(b, byte(e.Compression), flags)
	b = binary.LittleEndian.AppendUint64(b, uint64(e.Size))
	b = binary.LittleEndian.AppendUint64(b, uint64(e.StoredSize))
	b = binary.LittleEndian.AppendUint64(b, uint64(e.Committed.UnixNano()))
	b = append(b, e.SHA256[:]...)
	b = binary.LittleEndian.AppendUint32(b, e.StoredCRC)
	for _, f := range []string{e.Label.Bucket, e.Label.Key, e.Label.VersionID} {
		b = binary.LittleEndian.AppendUint16(b, uint16(len(f)))
		b = append(b, f...)
	}
	if e.Label.PartNumber > 0 {
		b = binary.LittleEndian.AppendUint32(b, uint32(e.Label.PartNumber))
		b = binary.LittleEndian.AppendUint16(b, uint16(len(e.Label.UploadID)))
		b = append(b, e.Label.UploadID...)
	}
	return b
}

// parseEntryBody parses an entry body that must fill b exactly.
func parseEntryBody(b []byte) (Entry, error) {
	var e Entry
	if len(b) < entryFixedSize {
		return e, formatErr("entry of %d bytes, want at least %d", len(b), entryFixedSize)
	}
	e.ID = hex.EncodeToString(b[:16])
	e.Compression = Compression(b[16])
	if e.Compression != None && e.Compression != Zstd {
		return e, formatErr("entry %s: unknown compression %d", e.ID, b[16])
	}
	e.Flags = b[17]
	size := binary.LittleEndian.Uint64(b[18:])
	stored := binary.LittleEndian.Uint64(b[26:])
	if size > 1<<62 || stored > 1<<62 {
		return e, formatErr("entry %s: size out of range", e.ID)
	}
	e.Size, e.StoredSize = int64(size), int64(stored)
	if e.Compression == None && e.Size != e.StoredSize {
		return e, formatErr("entry %s: uncompressed with size %d but %d stored bytes", e.ID, e.Size, e.StoredSize)
	}
	e.Committed = time.Unix(0, int64(binary.LittleEndian.Uint64(b[34:])))
	copy(e.SHA256[:], b[42:74])
	e.StoredCRC = binary.LittleEndian.Uint32(b[74:])
	rest := b[78:]
	var fields [3]string
	for i := range fields {
		if len(rest) < 2 {
			return e, formatErr("entry %s: truncated label", e.ID)
		}
		n := int(binary.LittleEndian.Uint16(rest))
		rest = rest[2:]
		if len(rest) < n {
			return e, formatErr("entry %s: truncated label", e.ID)
		}
		fields[i] = string(rest[:n])
		rest = rest[n:]
	}
	e.Label = Label{Bucket: fields[0], Key: fields[1], VersionID: fields[2]}
	if e.Flags&flagPart != 0 {
		if len(rest) < 6 {
			return e, formatErr("entry %s: truncated part label", e.ID)
		}
		part := binary.LittleEndian.Uint32(rest)
		n := int(binary.LittleEndian.Uint16(rest[4:]))
		rest = rest[6:]
		if part == 0 || part > maxPartNumber || len(rest) < n {
			return e, formatErr("entry %s: bad part label", e.ID)
		}
		e.Label.PartNumber, e.Label.UploadID = int(part), string(rest[:n])
		rest = rest[n:]
	}
	if len(rest) != 0 {
		return e, formatErr("entry %s: %d bytes after the label", e.ID, len(rest))
	}
	return e, nil
}

// appendFrameHeader appends the header of e's frame.
func appendFrameHeader(b []byte, e *Entry) []byte {
	start := len(b)
	b = append(b, frameMagic...)
	b = binary.LittleEndian.AppendUint32(b, uint32(e.bodyLen()))
	b = appendEntryBody(b, e)
	return binary.LittleEndian.AppendUint32(b, crc32c(b[start:]))
}

// frameBodyLen reads the body length from the first 8 bytes of a frame
// header.
func frameBodyLen(b []byte) (int, error) {
	if len(b) < 8 || string(b[:4]) != frameMagic {
		return 0, formatErr("no frame magic")
	}
	n := binary.LittleEndian.Uint32(b[4:])
	if n < entryFixedSize || n > maxEntryBody {
		return 0, formatErr("frame body of %d bytes", n)
	}
	return int(n), nil
}

// parseFrameHeader parses a whole frame header (as long as frameBodyLen
// says) found at offset off.
func parseFrameHeader(b []byte, off int64) (Entry, error) {
	n, err := frameBodyLen(b)
	if err != nil {
		return Entry{}, err
	}
	if len(b) != frameOverhead+n {
		return Entry{}, formatErr("frame header of %d bytes, want %d", len(b), frameOverhead+n)
	}
	if got, want := binary.LittleEndian.Uint32(b[8+n:]), crc32c(b[:8+n]); got != want {
		return Entry{}, formatErr("frame header CRC %08x, want %08x", got, want)
	}
	e, err := parseEntryBody(b[8 : 8+n])
	e.Offset = off
	return e, err
}

// packHeader is the first 32 bytes of a pack's content (and of its
// journal).
func packHeader(id [16]byte) []byte {
	b := make([]byte, 0, packHeaderSize)
	b = append(b, packMagic...)
	b = binary.LittleEndian.AppendUint16(b, formatVersion)
	b = append(b, make([]byte, 6)...)
	b = append(b, id[:]...)
	return b
}

func parsePackHeader(b []byte) ([16]byte, error) {
	var id [16]byte
	if len(b) < packHeaderSize || string(b[:8]) != packMagic {
		return id, formatErr("no pack magic")
	}
	if v := binary.LittleEndian.Uint16(b[8:]); v != formatVersion {
		return id, formatErr("pack format version %d", v)
	}
	copy(id[:], b[16:32])
	return id, nil
}

// appendIndex appends a pack's trailing index and trailer; indexOff is
// where the index starts in the content.
func appendIndex(b []byte, entries []Entry, indexOff int64) []byte {
	start := len(b)
	b = append(b, indexMagic...)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(entries)))
	for i := range entries {
		e := &entries[i]
		b = binary.LittleEndian.AppendUint64(b, uint64(e.Offset))
		b = binary.LittleEndian.AppendUint32(b, uint32(e.bodyLen()))
		b = appendEntryBody(b, e)
	}
	index := b[start:]
	t := len(b)
	b = append(b, tailMagic...)
	b = binary.LittleEndian.AppendUint64(b, uint64(indexOff))
	b = binary.LittleEndian.AppendUint64(b, uint64(len(index)))
	b = binary.LittleEndian.AppendUint32(b, crc32c(index))
	return binary.LittleEndian.AppendUint32(b, crc32c(b[t:]))
}

// trailer locates a pack's index.
type trailer struct {
	indexOff, indexLen int64
	indexCRC           uint32
}

// parseTrailer parses the last 32 bytes of a pack's content, which is
// contentLen long.
func parseTrailer(b []byte, contentLen int64) (trailer, error) {
	var t trailer
	if len(b) != trailerSize || string(b[:8]) != tailMagic {
		return t, formatErr("no trailer magic")
	}
	if got, want := binary.LittleEndian.Uint32(b[28:]), crc32c(b[:28]); got != want {
		return t, formatErr("trailer CRC %08x, want %08x", got, want)
	}
	off := binary.LittleEndian.Uint64(b[8:])
	n := binary.LittleEndian.Uint64(b[16:])
	if off < packHeaderSize || n < 8 || off > uint64(contentLen) || n > uint64(contentLen) ||
		off+n != uint64(contentLen-trailerSize) {
		return t, formatErr("trailer: index at %d+%d in %d bytes", off, n, contentLen)
	}
	t.indexOff, t.indexLen = int64(off), int64(n)
	t.indexCRC = binary.LittleEndian.Uint32(b[24:])
	return t, nil
}

// parseIndex parses a pack's index (without the trailer) of a pack whose
// frames end at indexOff.
func parseIndex(b []byte, crc uint32, indexOff int64) ([]Entry, error) {
	if got := crc32c(b); got != crc {
		return nil, formatErr("index CRC %08x, want %08x", got, crc)
	}
	if len(b) < 8 || string(b[:4]) != indexMagic {
		return nil, formatErr("no index magic")
	}
	count := binary.LittleEndian.Uint32(b[4:])
	rest := b[8:]
	if uint64(count) > uint64(len(rest))/(indexEntryOverhead+entryFixedSize) {
		return nil, formatErr("index of %d entries in %d bytes", count, len(rest))
	}
	entries := make([]Entry, 0, count)
	for range count {
		if len(rest) < indexEntryOverhead {
			return nil, formatErr("truncated index")
		}
		off := binary.LittleEndian.Uint64(rest)
		n := binary.LittleEndian.Uint32(rest[8:])
		rest = rest[indexEntryOverhead:]
		if uint64(n) > uint64(len(rest)) {
			return nil, formatErr("truncated index entry")
		}
		e, err := parseEntryBody(rest[:n])
		if err != nil {
			return nil, err
		}
		rest = rest[n:]
		e.Offset = int64(off)
		if off < packHeaderSize || off > uint64(indexOff) || e.StoredSize > indexOff ||
			e.DataOffset()+e.StoredSize > indexOff {
			return nil, formatErr("entry %s: frame at %d+%d beyond the frames' end %d", e.ID, off, e.frameLen(), indexOff)
		}
		entries = append(entries, e)
	}
	if len(rest) != 0 {
		return nil, formatErr("%d bytes after the index", len(rest))
	}
	return entries, nil
}

// shardHeader is the first 64 bytes of a shard file.
type shardHeader struct {
	PackID    [16]byte
	K, M      int // data and parity shards of the pack
	Index     int // this shard's index: data shards first
	Length    int64
	BlockSize int
	Blocks    int // blocks in each shard
	Sealed    time.Time
}

func (h *shardHeader) marshal() []byte {
	b := make([]byte, 0, shardHeaderSize)
	b = append(b, shardMagic...)
	b = binary.LittleEndian.AppendUint16(b, formatVersion)
	b = append(b, byte(h.K), byte(h.M), byte(h.Index), 0, 0, 0)
	b = append(b, h.PackID[:]...)
	b = binary.LittleEndian.AppendUint64(b, uint64(h.Length))
	b = binary.LittleEndian.AppendUint32(b, uint32(h.BlockSize))
	b = binary.LittleEndian.AppendUint32(b, uint32(h.Blocks))
	b = binary.LittleEndian.AppendUint64(b, uint64(h.Sealed.UnixNano()))
	b = append(b, 0, 0, 0, 0)
	return binary.LittleEndian.AppendUint32(b, crc32c(b))
}

func parseShardHeader(b []byte) (shardHeader, error) {
	var h shardHeader
	if len(b) < shardHeaderSize || string(b[:8]) != shardMagic {
		return h, formatErr("no shard magic")
	}
	b = b[:shardHeaderSize]
	if got, want := binary.LittleEndian.Uint32(b[60:]), crc32c(b[:60]); got != want {
		return h, formatErr("shard header CRC %08x, want %08x", got, want)
	}
	if v := binary.LittleEndian.Uint16(b[8:]); v != formatVersion {
		return h, formatErr("shard format version %d", v)
	}
	h.K, h.M, h.Index = int(b[10]), int(b[11]), int(b[12])
	copy(h.PackID[:], b[16:32])
	length := binary.LittleEndian.Uint64(b[32:])
	h.BlockSize = int(binary.LittleEndian.Uint32(b[40:]))
	h.Blocks = int(binary.LittleEndian.Uint32(b[44:]))
	h.Sealed = time.Unix(0, int64(binary.LittleEndian.Uint64(b[48:])))
	switch {
	case h.K < 1 || h.K+h.M > maxShards:
		return h, formatErr("shard header: %d+%d shards", h.K, h.M)
	case h.Index >= h.K+h.M:
		return h, formatErr("shard header: shard %d of %d", h.Index, h.K+h.M)
	case h.BlockSize < 1 || h.BlockSize > maxBlockSize || h.Blocks < 1 || h.Blocks > maxBlocks:
		return h, formatErr("shard header: %d blocks of %d bytes", h.Blocks, h.BlockSize)
	case length < packHeaderSize+trailerSize || length > uint64(h.K)*uint64(h.Blocks)*uint64(h.BlockSize):
		return h, formatErr("shard header: %d bytes of content in %d×%d blocks of %d bytes", length, h.K, h.Blocks, h.BlockSize)
	}
	h.Length = int64(length)
	return h, nil
}

// sameLayout reports whether two shards' headers describe the same pack.
func (h *shardHeader) sameLayout(o *shardHeader) bool {
	return h.PackID == o.PackID && h.K == o.K && h.M == o.M && h.Length == o.Length &&
		h.BlockSize == o.BlockSize && h.Blocks == o.Blocks
}

// layout chooses a pack's block size and blocks per shard for content of
// length n split into k data shards with blocks of at most blockSize.
func layout(n int64, k, blockSize int) (bs, blocks int) {
	per := (n + int64(k) - 1) / int64(k)
	if per <= int64(blockSize) {
		bs := int((per + 63) &^ 63)
		return max(bs, 64), 1
	}
	return blockSize, int((per + int64(blockSize) - 1) / int64(blockSize))
}
