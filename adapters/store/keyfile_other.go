//go:build !unix

package store

import (
	"errors"
	"os"
)

// openKeyFile opens path for reading, refusing a symbolic link. With no
// O_NOFOLLOW, the file opened must be the one path names itself, not
// through a link, once it is open: a link swapped in either before or
// after the open fails the comparison.
func openKeyFile(path string) (*os.File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	opened, err := f.Stat()
	if err == nil {
		var named os.FileInfo
		if named, err = os.Lstat(path); err == nil && !os.SameFile(named, opened) {
			err = errors.New("not the file the path names: a symbolic link, or replaced")
		}
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}
