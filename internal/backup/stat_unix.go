//go:build unix

package backup

import (
	"io/fs"
	"syscall"
)

// statIDs returns the owner, inode and device of fi.
func statIDs(fi fs.FileInfo) (uid, gid uint32, ino, dev uint64) {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return st.Uid, st.Gid, uint64(st.Ino), uint64(st.Dev)
	}
	return 0, 0, 0, 0
}
