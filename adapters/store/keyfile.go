package store

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// SQLiteFile is the file an SQLite database URL names; false for any other
// database.
func SQLiteFile(databaseURL string) (string, bool) {
	scheme, rest, _ := strings.Cut(databaseURL, ":")
	switch strings.ToLower(scheme) {
	case "sqlite", "file":
		return strings.TrimPrefix(rest, "//"), true
	}
	return "", false
}

// keyFileBytes is how many random bytes a key file holds, base64-encoded
// on one line: the same text LEADR_ENCRYPTION_KEY may be given.
const keyFileBytes = 32

// keyFileSize is the size of a key file: the key in padded base64 (4
// characters for every 3 bytes begun) and the line's end.
const keyFileSize = (keyFileBytes+2)/3*4 + 1

// ReadKeyFile reads the root key kept in path. The file must be the file
// itself, not a symbolic link, readable and writable by its owner only, and
// hold what CreateKeyFile writes; the key is its text, without the line's
// end. A missing file is fs.ErrNotExist. What is checked is what is read:
// the file is opened once, refusing a link, and checked on the open
// descriptor, so that no one swaps another file in between.
func ReadKeyFile(path string) ([]byte, error) {
	f, err := openKeyFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if err != nil {
		// Each system names a refused link its own way (ELOOP, EMLINK,
		// EFTYPE): Lstat only words the refusal.
		if info, lerr := os.Lstat(path); lerr == nil && info.Mode()&fs.ModeSymlink != 0 {
			return nil, fmt.Errorf("key file %s: a symbolic link; the key file must be the file itself", path)
		}
		return nil, fmt.Errorf("key file %s: %w", path, err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("key file %s: %w", path, err)
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("key file %s: not a regular file", path)
	}
	if perm := info.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("key file %s: mode %04o lets others than its owner read or change it; chmod 600 %s", path, perm, path)
	}
	notKey := fmt.Errorf("key file %s: does not hold a key (%d random bytes in base64 on one line, as the service writes it)", path, keyFileBytes)
	if info.Size() > keyFileSize {
		return nil, notKey
	}
	content, err := io.ReadAll(io.LimitReader(f, keyFileSize))
	if err != nil {
		return nil, fmt.Errorf("key file %s: %w", path, err)
	}
	key := bytes.TrimSuffix(content, []byte("\n"))
	if raw, err := base64.StdEncoding.DecodeString(string(key)); err != nil || len(raw) != keyFileBytes {
		return nil, notKey
	}
	return key, nil
}

// CreateKeyFile writes a new random key to path, readable by its owner
// only, and returns it. The file appears whole or not at all; when another
// process made it first, its key is returned.
func CreateKeyFile(path string) ([]byte, error) {
	raw := make([]byte, keyFileBytes)
	_, _ = rand.Read(raw)
	key := []byte(base64.StdEncoding.EncodeToString(raw))
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+"-*") // mode 0600
	if err != nil {
		return nil, fmt.Errorf("key file %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(append(key, '\n'))
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("key file %s: %w", path, err)
	}
	// A link never replaces a file: of two processes, one makes it.
	switch err := os.Link(tmp.Name(), path); {
	case errors.Is(err, fs.ErrExist):
		return ReadKeyFile(path)
	case errors.Is(err, errors.ErrUnsupported) || errors.Is(err, fs.ErrPermission):
		// The folder could take the temporary file: its filesystem makes
		// no hard links (vfat, some network shares).
		return nil, fmt.Errorf("key file %s: the filesystem makes no hard links, which the key file is made with so that "+
			"it appears whole (%w): write it yourself (head -c %d /dev/urandom | base64 > %s; chmod 600 %s) or give a key "+
			"as LEADR_ENCRYPTION_KEY", path, err, keyFileBytes, path, path)
	case err != nil:
		return nil, fmt.Errorf("key file %s: %w", path, err)
	}
	if dir, err := os.Open(filepath.Dir(path)); err == nil {
		_ = dir.Sync() // the link survives a crash
		dir.Close()
	}
	return key, nil
}
