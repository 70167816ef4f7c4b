//go:build unix

package backup

import (
	"os"

	"golang.org/x/sys/unix"

	"github.com/firnhq/firn/internal/backup/repo"
)

// setMeta gives the restored entry at p the node's owner (when running
// as root), mode and mtime; a symlink's own mtime is set, not its
// target's.
func setMeta(p string, n *repo.Node) error {
	if os.Geteuid() == 0 {
		if err := os.Lchown(p, int(n.UID), int(n.GID)); err != nil {
			return err
		}
	}
	if n.Type != repo.NodeSymlink {
		if err := os.Chmod(p, n.Mode); err != nil {
			return err
		}
	}
	ts := []unix.Timespec{unix.NsecToTimespec(n.ModTime.UnixNano()), unix.NsecToTimespec(n.ModTime.UnixNano())}
	return unix.UtimesNanoAt(unix.AT_FDCWD, p, ts, unix.AT_SYMLINK_NOFOLLOW)
}
