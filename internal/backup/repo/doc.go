// Package repo is the on-storage format of a firn backup repository and
// the code that reads and writes it: the master key and the key files
// that wrap it, the encrypted config, packs of compressed and encrypted
// blobs, the indexes that say which pack holds which blob, trees and
// snapshots. docs/backup-repository.md describes the format precisely
// enough to reimplement it; this package is its reference.
//
// A Repository is opened with a backend (any S3 prefix) and a password.
// Blobs are saved with SaveBlob, which deduplicates them against the index
// and groups them into packs, uploaded in the background as they fill
// (a few at a time, bounding memory); Flush uploads the open packs, waits
// for the uploads and writes an index file for them. Several goroutines
// may save blobs at once: they hash, compress and seal in parallel. Data packs go under data/ in the repository's data
// storage class (which may be an archive class); everything needed to
// list, plan and back up incrementally (config, keys, index, snapshots,
// tree packs) stays in the default class and is mirrored in a local
// Cache, so those operations need only listings once the cache is warm.
//
// Caveats: of a Repository's methods only those saving and loading blobs
// and trees may run concurrently (see Repository), and there are no
// repository locks yet: do not run prune while a backup runs.
package repo
