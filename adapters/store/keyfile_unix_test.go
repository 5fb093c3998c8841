//go:build unix

package store_test

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/leadr-oss/identity/adapters/store"
)

// TestKeyFileFIFORefused: a FIFO at the key file's place is refused as no
// regular file, rather than holding the start until someone writes to it.
func TestKeyFileFIFORefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "leadr.db.key")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
	read := make(chan error, 1)
	go func() {
		_, err := store.ReadKeyFile(path)
		read <- err
	}()
	select {
	case err := <-read:
		if err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Fatalf("a FIFO: %v", err)
		}
	case <-time.After(10 * time.Second): // no writer ever comes: a blocked open never returns
		t.Fatal("reading a FIFO waits for a writer")
	}
}
