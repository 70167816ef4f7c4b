//go:build !linux

package pack

import "os"

// willNeed is a no-op where fadvise is not available.
func willNeed(*os.File, int64, int64) {}
