package store

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
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

// ReadKeyFile reads the root key kept in path. The file must be readable
// and writable by its owner only, and hold what CreateKeyFile writes; the
// key is its text, without the line's end. A missing file is
// fs.ErrNotExist.
func ReadKeyFile(path string) ([]byte, error) {
	info, err := os.Lstat(path)
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("key file %s: not a regular file", path)
	}
	if perm := info.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("key file %s: mode %04o lets others than its owner read or change it; chmod 600 %s", path, perm, path)
	}
	content, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("key file %s: %w", path, err)
	}
	key := bytes.TrimSuffix(content, []byte("\n"))
	if raw, err := base64.StdEncoding.DecodeString(string(key)); err != nil || len(raw) != keyFileBytes {
		return nil, fmt.Errorf("key file %s: does not hold a key (%d random bytes in base64 on one line, as the service writes it)", path, keyFileBytes)
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
	if err := os.Link(tmp.Name(), path); errors.Is(err, fs.ErrExist) {
		return ReadKeyFile(path)
	} else if err != nil {
		return nil, fmt.Errorf("key file %s: %w", path, err)
	}
	if dir, err := os.Open(filepath.Dir(path)); err == nil {
		_ = dir.Sync() // the link survives a crash
		dir.Close()
	}
	return key, nil
}
