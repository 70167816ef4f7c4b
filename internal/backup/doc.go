// Package backup is firn's backup client: it backs up directory trees and
// the output of commands into a repository (package repo) on any S3
// endpoint, restores them, including from archive storage classes,
// verifies repositories and applies retention.
//
// Run reads the sources, cuts files into content-defined chunks, stores
// the chunks that the repository lacks and records a snapshot. An
// incremental run takes files whose size, mtime, inode and device match
// the parent snapshot from it without reading them. Restore plans which
// packs a restore needs, asks the endpoint to restore the archived ones
// when told to, waits, then downloads each pack once and writes the
// files with their metadata. Verify checks the repository's structure and
// reads a share of its data packs. Forget removes snapshots that a
// retention policy does not keep; Prune deletes the packs that no
// snapshot uses any more, never rewriting one.
//
// Caveats: there are no repository locks yet, so Prune must not run
// while a backup writes to the same repository; hard links are restored
// as separate files; sparse files are restored dense.
package backup
