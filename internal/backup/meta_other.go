//go:build !unix

package backup

import (
	"os"

	"github.com/firnhq/firn/internal/backup/repo"
)

func setMeta(p string, n *repo.Node) error {
	if n.Type == repo.NodeSymlink {
		return nil
	}
	if err := os.Chmod(p, n.Mode); err != nil {
		return err
	}
	return os.Chtimes(p, n.ModTime, n.ModTime)
}
