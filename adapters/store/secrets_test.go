package store_test

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/leadr-oss/identity/adapters/store"
	"github.com/leadr-oss/identity/application/sealing"
	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/migrations"
	"github.com/leadr-oss/identity/test/pgtest"
)

// The last schema whose secrets were stored in plaintext.
const plaintextSecretsVersion = "20261202000002"

var upgradeRoot = []byte("the-root-key-of-the-upgrade-tests-000000")

// TestSealLegacyConvertsOncePerDatabase: a database whose secrets are in
// plaintext, upgraded by replicas starting at once, has them sealed exactly
// once, values kept; every game's Steam key moves under the new credentials
// key; nothing of the plaintext remains, and the schema cannot be rolled
// back past it.
func TestSealLegacyConvertsOncePerDatabase(t *testing.T) {
	const (
		account  = "0195f000-0000-7000-8000-00000000000a"
		live     = "0195f2a0-0000-7000-8000-000000000001"
		deleted  = "0195f2a0-0000-7000-8000-000000000002"
		unsealed = "0195f2a0-0000-7000-8000-000000000003"
		noKey    = "0195f2a0-0000-7000-8000-000000000004"
	)
	pepper, cursor, oldKey := sealing.RandomKey(), sealing.RandomKey(), sealing.RandomKey()
	steamKey := []byte("0123456789ABCDEF0123456789ABCDEF")
	context := func(game string) []byte { return []byte(mustParse[id.Game](t, game).String()) }
	alien := sealing.NewCipher([]byte("a key changed long ago, 000000000000")).Seal(steamKey, context(unsealed))

	for _, b := range []struct {
		name   string
		sqlite bool
		url    func(t *testing.T) string
	}{
		{"postgres", false, func(t *testing.T) string { return pgtest.Empty(t) }},
		{"sqlite", true, func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "leadr.db") }},
	} {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			url := b.url(t)
			db := openURL(t, url)
			if err := store.MigrateThrough(t.Context(), db, plaintextSecretsVersion); err != nil {
				t.Fatal(err)
			}
			exec := func(q string, args ...any) {
				t.Helper()
				if _, err := db.Bun().ExecContext(t.Context(), q, args...); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			for name, v := range map[string][]byte{"api_key_pepper": pepper, "cursor_secret": cursor, "encryption_key": oldKey} {
				exec("INSERT INTO service_secrets (name, value, created_at) VALUES (?, ?, ?)", name, v, upgradeT0)
			}
			exec("INSERT INTO accounts (id, name, slug, created_at, updated_at) VALUES (?, 'A', 'a', ?, ?)", account, upgradeT0, upgradeT0)
			old := sealing.NewCipher(oldKey)
			oldSealed := [][]byte{old.Seal(steamKey, context(live)), old.Seal(steamKey, context(deleted))}
			for _, g := range []struct {
				id      string
				key     []byte
				deleted any
			}{
				{live, oldSealed[0], nil},
				{deleted, oldSealed[1], upgradeT0},
				{unsealed, alien, nil},
				{noKey, nil, nil},
			} {
				exec(`INSERT INTO games (id, account_id, name, slug, steam_app_id, steam_web_api_key, created_at, updated_at, deleted_at)
					VALUES (?, ?, 'G', ?, '480', ?, ?, ?, ?)`, g.id, account, "g-"+g.id[len(g.id)-4:], g.key, upgradeT0, upgradeT0, g.deleted)
			}
			if _, err := upgrade(t, db); err != nil {
				t.Fatal(err)
			}

			// Replicas start together, each with its own pool.
			const replicas = 4
			var wg sync.WaitGroup
			converted := make([]bool, replicas)
			errs := make([]error, replicas)
			for i := range replicas {
				wg.Go(func() {
					own := openURL(t, url)
					vault := sealing.NewVault(store.NewSecrets(store.New(own)), upgradeRoot)
					converted[i], errs[i] = store.NewSecrets(store.New(own)).SealLegacy(t.Context(),
						func(plaintext map[string][]byte) store.Conversion { return vault.Upgrade(plaintext, nil) })
				})
			}
			wg.Wait()
			n := 0
			for i := range replicas {
				if errs[i] != nil {
					t.Fatalf("replica %d: %v", i, errs[i])
				}
				if converted[i] {
					n++
				}
			}
			if n != 1 {
				t.Fatalf("%d replicas converted the secrets, want 1", n)
			}
			if tableExists(t, db, b.sqlite, "legacy_secrets") || tableExists(t, db, b.sqlite, "service_secrets") {
				t.Fatal("the plaintext secrets' table remains")
			}

			// The stored rows hold nothing in plaintext, and open as before.
			var rows []struct {
				Name  string
				Value []byte
			}
			if err := db.Bun().NewRaw("SELECT name, value FROM sealed_secrets").Scan(t.Context(), &rows); err != nil {
				t.Fatal(err)
			}
			for _, r := range rows {
				for _, secret := range [][]byte{pepper, cursor, oldKey} {
					if bytes.Contains(r.Value, secret) {
						t.Fatalf("%s holds a secret in plaintext", r.Name)
					}
				}
			}
			vault := sealing.NewVault(store.NewSecrets(store.New(db)), upgradeRoot)
			for name, want := range map[string][]byte{"api_key_pepper": pepper, "cursor_secret": cursor} {
				if got, err := vault.Secret(t.Context(), name, sealing.RandomKey); err != nil || !bytes.Equal(got, want) {
					t.Fatalf("%s after the upgrade: %v", name, err)
				}
			}
			credentials, err := vault.Credentials(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			steamKeys := map[string][]byte{}
			var games []struct {
				ID             string
				SteamWebAPIKey []byte
			}
			if err := db.Bun().NewRaw("SELECT CAST(id AS TEXT) AS id, steam_web_api_key FROM games").Scan(t.Context(), &games); err != nil {
				t.Fatal(err)
			}
			for _, g := range games {
				steamKeys[g.ID] = g.SteamWebAPIKey
			}
			for _, g := range []string{live, deleted} {
				if got, err := credentials.Open(steamKeys[g], context(g)); err != nil || !bytes.Equal(got, steamKey) {
					t.Errorf("game %s: its Steam key opens as %q, %v", g, got, err)
				}
				if _, err := old.Open(steamKeys[g], context(g)); err == nil {
					t.Errorf("game %s: the old plaintext key still opens its Steam key", g)
				}
			}
			if !bytes.Equal(steamKeys[unsealed], alien) || steamKeys[noKey] != nil {
				t.Error("a Steam key that opened under no known key, or none, was changed")
			}
			if b.sqlite {
				// A copy of the files, taken while the service runs, holds
				// neither the plaintext nor the old sealed Steam keys: not in
				// the pages the conversion and the migrations freed, nor in
				// the write-ahead log.
				path, _ := store.SQLiteFile(url)
				for _, left := range leftInFiles(t, path, append([][]byte{pepper, cursor, oldKey}, oldSealed...)...) {
					t.Errorf("%s still holds secret %d of the earlier version", left.file, left.secret)
				}
			}

			// No way back for the previous version: it would read sealed
			// values as plaintext. The down migration refuses, changing nothing.
			down, err := fs.ReadFile(migrations.For(b.sqlite), "20261207000003_sealed_secrets.tx.down.sql")
			if err != nil {
				t.Fatal(err)
			}
			tx, err := db.Bun().BeginTx(t.Context(), nil)
			if err != nil {
				t.Fatal(err)
			}
			_, err = tx.ExecContext(t.Context(), string(down))
			_ = tx.Rollback()
			if err == nil || !strings.Contains(err.Error(), "earlier versions cannot read") {
				t.Fatalf("rolling back: %v", err)
			}
			if !tableExists(t, db, b.sqlite, "sealed_secrets") {
				t.Fatal("the refused rollback changed the schema")
			}
		})
	}
}

// leftIn is where a secret was found: a file, and the secret's index.
type leftIn struct {
	file   string
	secret int
}

// leftInFiles finds the secrets in the raw bytes of an SQLite database
// and its write-ahead log, as a copy of them would hold them.
func leftInFiles(t *testing.T, path string, secrets ...[]byte) []leftIn {
	t.Helper()
	var found []leftIn
	for _, file := range []string{path, path + "-wal"} {
		raw, err := os.ReadFile(file)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			t.Fatal(err)
		}
		for i, secret := range secrets {
			if bytes.Contains(raw, secret) {
				found = append(found, leftIn{filepath.Base(file), i})
			}
		}
	}
	return found
}

func TestKeyFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "leadr.db.key")
	if _, err := store.ReadKeyFile(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("no file: %v", err)
	}
	key, err := store.CreateKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(path)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("the key file: %v %v", info.Mode(), err)
	}
	if again, err := store.ReadKeyFile(path); err != nil || !bytes.Equal(again, key) {
		t.Fatalf("read back: %v", err)
	}
	// A second process finds it made: it gets the same key.
	if other, err := store.CreateKeyFile(path); err != nil || !bytes.Equal(other, key) {
		t.Fatalf("made twice: %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("left behind: %v", entries)
	}

	// A link, to a key file of the right mode, is refused: the key file
	// is the file itself. Made at the key file's place, it is kept.
	elsewhere := filepath.Join(t.TempDir(), "elsewhere.key")
	if _, err := store.CreateKeyFile(elsewhere); err != nil {
		t.Fatal(err)
	}
	linked := filepath.Join(dir, "linked.key")
	if err := os.Symlink(elsewhere, linked); err != nil {
		t.Fatal(err)
	}
	for name, read := range map[string]func(string) ([]byte, error){"read": store.ReadKeyFile, "made": store.CreateKeyFile} {
		if _, err := read(linked); err == nil || !strings.Contains(err.Error(), "a symbolic link") {
			t.Errorf("%s through a link: %v", name, err)
		}
	}
	if err := os.Remove(linked); err != nil {
		t.Fatal(err)
	}

	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	if _, err := store.ReadKeyFile(path); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("a key file others may read: %v", err)
	}
	for name, content := range map[string]string{
		"short":      "c2hvcnQ=\n",
		"not base64": strings.Repeat("*", 44) + "\n",
		"empty":      "",
	} {
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := store.ReadKeyFile(path); err == nil || !strings.Contains(err.Error(), "does not hold a key") {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestKeyFileReadIsTheFileChecked: whoever may write in the database's
// folder swaps the key file, over and over, for a link to a key file that
// others may read; the service reads either the key file it checked or
// nothing, never the other file's key.
func TestKeyFileReadIsTheFileChecked(t *testing.T) {
	dir := t.TempDir()
	path, own, exposed := filepath.Join(dir, "leadr.db.key"), filepath.Join(dir, "own"), filepath.Join(dir, "exposed")
	if _, err := store.CreateKeyFile(own); err != nil {
		t.Fatal(err)
	}
	theirs, err := store.CreateKeyFile(exposed)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(exposed, 0o644); err != nil {
		t.Fatal(err)
	}
	swap := func(make func(string) error) {
		tmp := filepath.Join(dir, "swap")
		if err := make(tmp); err != nil {
			t.Error(err)
		} else if err := os.Rename(tmp, path); err != nil {
			t.Error(err)
		}
	}
	swap(func(tmp string) error { return os.Link(own, tmp) })
	done := make(chan struct{})
	var swapper sync.WaitGroup
	swapper.Go(func() {
		for {
			select {
			case <-done:
				return
			default:
			}
			swap(func(tmp string) error { return os.Symlink(exposed, tmp) })
			swap(func(tmp string) error { return os.Link(own, tmp) })
		}
	})
	defer swapper.Wait()
	defer close(done)
	for range 5000 {
		if key, err := store.ReadKeyFile(path); err == nil && bytes.Equal(key, theirs) {
			t.Fatal("read the key of a file that others may read, through a link")
		}
	}
}
