package repo

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// BlobType says what a blob holds; each pack holds blobs of one type.
type BlobType uint8

// Blob types.
const (
	DataBlob BlobType = 0 // a chunk of file content
	TreeBlob BlobType = 1 // the JSON of a Tree
)

// Dir is the directory of the packs of type t: "data" or "tree".
func (t BlobType) Dir() string {
	if t == TreeBlob {
		return "tree"
	}
	return "data"
}

func (t BlobType) String() string { return t.Dir() }

// MarshalText implements encoding.TextMarshaler.
func (t BlobType) MarshalText() ([]byte, error) { return []byte(t.Dir()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (t *BlobType) UnmarshalText(b []byte) error {
	switch string(b) {
	case "data":
		*t = DataBlob
	case "tree":
		*t = TreeBlob
	default:
		return fmt.Errorf("unknown blob type %q", b)
	}
	return nil
}

// PackedBlob is where a blob sits in its pack.
type PackedBlob struct {
	ID        ID     `json:"id"`
	Offset    uint32 `json:"offset"`     // of the sealed blob in the pack
	Length    uint32 `json:"length"`     // of the sealed blob
	RawLength uint32 `json:"raw_length"` // of the plaintext
}

// headerEntrySize is the size of one entry of a pack header: type (1),
// sealed length (4), plaintext length (4), id (32).
const headerEntrySize = 1 + 4 + 4 + 32

// packer accumulates the sealed blobs of one pack in memory.
type packer struct {
	typ   BlobType
	class string // storage class to upload in
	buf   []byte
	blobs []PackedBlob
}

// finish appends the sealed header and its length and returns the pack.
func (p *packer) finish(k *Key) []byte {
	hdr := make([]byte, 0, len(p.blobs)*headerEntrySize)
	for _, b := range p.blobs {
		hdr = append(hdr, byte(p.typ))
		hdr = binary.LittleEndian.AppendUint32(hdr, b.Length)
		hdr = binary.LittleEndian.AppendUint32(hdr, b.RawLength)
		hdr = append(hdr, b.ID[:]...)
	}
	out := k.Seal(p.buf, hdr)
	return binary.LittleEndian.AppendUint32(out, uint32(len(out)-len(p.buf)))
}

// ReadPackHeader returns the blobs listed in the header of pack (all of
// it), authenticated with k, and their type.
func ReadPackHeader(k *Key, pack []byte) (BlobType, []PackedBlob, error) {
	if len(pack) < 4 {
		return 0, nil, errors.New("pack header: pack too short")
	}
	hl := int64(binary.LittleEndian.Uint32(pack[len(pack)-4:]))
	if hl > int64(len(pack)-4) || hl < Overhead {
		return 0, nil, fmt.Errorf("pack header: length %d out of range", hl)
	}
	start := int64(len(pack)-4) - hl
	hdr, err := k.Open(pack[start : len(pack)-4])
	if err != nil {
		return 0, nil, fmt.Errorf("pack header: %w", err)
	}
	if len(hdr)%headerEntrySize != 0 {
		return 0, nil, fmt.Errorf("pack header: %d bytes, not a multiple of %d", len(hdr), headerEntrySize)
	}
	var (
		blobs []PackedBlob
		typ   BlobType
		off   int64
	)
	for i := 0; i < len(hdr); i += headerEntrySize {
		e := hdr[i : i+headerEntrySize]
		t := BlobType(e[0])
		if t != DataBlob && t != TreeBlob || (i > 0 && t != typ) {
			return 0, nil, fmt.Errorf("pack header: bad blob type %d", e[0])
		}
		typ = t
		b := PackedBlob{Offset: uint32(off), Length: binary.LittleEndian.Uint32(e[1:]), RawLength: binary.LittleEndian.Uint32(e[5:])}
		copy(b.ID[:], e[9:])
		off += int64(b.Length)
		if off > start {
			return 0, nil, errors.New("pack header: blobs run past the header")
		}
		blobs = append(blobs, b)
	}
	return typ, blobs, nil
}
