// Package pack is firn's archive blob store: objects appended into large
// pack files, compressed where it pays, checksummed, and spread with
// Reed–Solomon parity over several archive directories (ideally several
// disks), so that a lost or damaged disk costs nothing as long as no more
// than the parity is lost.
//
// # What a pack is
//
// A pack is a sequence of bytes, its content: a 32-byte header naming the
// pack, one frame per object, and at the end an index of the frames and a
// trailer that locates the index. A frame is a header (the blob id, an
// optional Label naming the S3 bucket, key and version, the sizes, the
// SHA-256 of the object, the CRC-32C of the stored bytes and how they are
// compressed) followed by the stored bytes: one zstd frame when that
// saves at least a tenth, else the object as is. A sealed pack is cut
// into DataShards equal data shards, each a contiguous stretch of the
// content; ParityShards parity shards are computed over them, block row
// by block row; each shard is a file in a different archive directory,
// with a header of its own and a CRC-32C after every block. Everything
// needed to read a pack is in its shard files: docs/pack-format.md
// describes the bytes, and Archive reads them without the server.
//
// # Writing
//
// A Writer keeps an object of up to 1 MiB in memory; a larger one goes
// to a temporary file in the state directory as it arrives, compressed if
// its first MiB compressed well. Commit appends the object's frame to the
// journal (the open pack, a file in the state directory whose bytes are
// the prefix of the future pack content), fsyncs it (commits that wait
// together share one fsync) and only then indexes the object. An object
// of at least PackSize/4 skips the journal: its temporary file is laid
// out as a pack of its own and Commit seals it at once, so the archive
// disks see its bytes once, not twice. When the journal reaches PackSize, or on Flush, it
// is sealed in the background: the index and trailer are appended, the
// shards are written to temporary files, fsynced and renamed into the
// archive directories, the pack is marked sealed in the index database
// and the journal is removed. A crash at any point leaves every committed
// object readable, from the journal or from the shards; Open recovers.
//
// The index database (SQLite, in the state directory) maps every id to
// its pack and offset, which sealing does not change and compaction
// rewrites; ids are stable forever. Create, Walk, Stat and Delete use
// only the index: nothing but reads of object bytes and Scrub touches the
// archive directories, so cold disks can sleep, and a read opens only the
// shard file that holds the object.
//
// # Reading and repair
//
// Every block read from a shard is checked against its CRC. A bad block,
// or a missing shard file, is rebuilt from the other shards of its row
// and the rebuilt block is written back in place; a missing file is
// rebuilt whole by Scrub. Every read that covers an object to its end
// also checks the object's SHA-256. When a row has fewer than DataShards
// good blocks, or a checksum fails, the read returns an error wrapping
// ErrCorrupt: damage beyond the parity is reported, never served as
// bytes. Scrub checks every block and every object and reports what it
// repaired and what it could not.
//
// Delete only marks an object dead in the index. Compact rewrites packs
// whose live share has fallen below a ratio, once all their objects are
// older than a minimum age (the minimum storage duration), copying the
// live objects as stored into the open pack.
//
// # Caveats
//
//   - Bytes already handed out by a Read are not taken back when a later
//     check fails: a reader that ends with an error other than io.EOF
//     must be treated as having read nothing. Blocks of sealed packs are
//     checked before they are handed out, so only the object-wide SHA-256
//     and the journal (whose blocks have no CRC) can fail late.
//   - A range read of a compressed object decompresses it from its
//     start; a range read of an object still in the journal reads on to
//     its end, to check it.
//   - The journal and the index live in the state directory, which has no
//     parity of its own: put it on reliable storage.
//   - With fewer archive directories than shards a directory holds
//     several shards of a pack; losing it may exceed the parity.
//   - The index of a sealed pack lists the objects live when it was
//     sealed; objects deleted since are still listed by an Archive until
//     compaction rewrites the pack.
package pack

import (
	"fmt"

	"github.com/firnhq/firn/internal/blob"
)

// ErrCorrupt is returned (wrapped) by reads of an object damaged beyond
// what parity can repair, or whose checksum does not match.
var ErrCorrupt = fmt.Errorf("pack: %w", blob.ErrCorrupt)
