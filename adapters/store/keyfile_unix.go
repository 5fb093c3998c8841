//go:build unix

package store

import (
	"os"
	"syscall"
)

// openKeyFile opens path for reading, refusing a symbolic link in the open
// itself (O_NOFOLLOW). O_NONBLOCK: a FIFO put there does not hold the start
// waiting for a writer; it is then refused as no regular file.
func openKeyFile(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
}
