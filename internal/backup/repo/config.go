package repo

import (
	"time"

	"github.com/firnhq/firn/internal/backup/chunker"
)

// FormatVersion is the version of the repository format this package
// writes and reads.
const FormatVersion = 1

// DefaultPackSize is the default target size of a data pack: large, so
// that an archive class holds few objects (each costs a request and
// per-object overhead), small enough to restore and rewrite piecemeal.
const DefaultPackSize = 64 << 20

// maxTreePackSize caps tree packs, which are mirrored in the cache.
const maxTreePackSize = 16 << 20

// Config is the JSON of the repository's "config" file (sealed).
type Config struct {
	Version int `json:"version"`
	// ID names the repository (and its cache directory).
	ID ID `json:"id"`
	// ChunkerPolynomial selects the chunker's fingerprint function.
	ChunkerPolynomial chunker.Pol `json:"chunker_polynomial"`
	// PackSize is the target size of data packs in bytes.
	PackSize int64 `json:"pack_size"`
	// DataStorageClass is the storage class data packs are written in
	// ("" or STANDARD: the endpoint's default, e.g. to leave tiering to a
	// lifecycle rule on data/).
	DataStorageClass string    `json:"data_storage_class,omitempty"`
	Created          time.Time `json:"created"`
}
