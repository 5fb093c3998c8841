package bootstrap_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"go.uber.org/fx"

	"github.com/leadr-oss/identity/bootstrap"
	"github.com/leadr-oss/identity/test/pgtest"
)

// testEncryptionKey is the root key of the services these tests start.
const testEncryptionKey = "bootstrap-tests-encryption-key-000000000"

// startError starts the service as leadr serve does and returns why it
// would not start, or nil (and stops it).
func startError(t *testing.T, vars map[string]string) error {
	t.Helper()
	all := map[string]string{"LEADR_HTTP_ADDR": "127.0.0.1:0", "LEADR_LOG_LEVEL": "error"}
	for k, v := range vars {
		all[k] = v
	}
	cfg, err := bootstrap.ParseConfig(env(all))
	if err != nil {
		t.Fatal(err)
	}
	app := fx.New(bootstrap.Service(cfg, io.Discard), fx.NopLogger)
	if err := app.Start(t.Context()); err != nil {
		return err
	}
	return app.Stop(context.Background())
}

// wantRefused checks that err says why, and gives no secret away.
func wantRefused(t *testing.T, err error, why string, secrets ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("the service started; want it refused: %s", why)
	}
	if !strings.Contains(err.Error(), why) {
		t.Fatalf("the refusal does not say %q:\n%v", why, err)
	}
	for _, s := range secrets {
		if strings.Contains(err.Error(), s) {
			t.Fatalf("the refusal holds a secret:\n%v", err)
		}
	}
}

func TestPostgresNeedsTheEncryptionKey(t *testing.T) {
	err := startError(t, map[string]string{"LEADR_DATABASE_URL": pgtest.Empty(t)})
	wantRefused(t, err, "LEADR_ENCRYPTION_KEY is required with PostgreSQL")
	wantRefused(t, err, "head -c 32 /dev/urandom | base64")
}

// A root key that is not the one the stored secrets were sealed under stops
// the start with a clear message, and the right one still starts it.
func TestAnotherEncryptionKeyRefusesToStart(t *testing.T) {
	const other = "another-encryption-key-of-the-tests-1111"
	for name, dbURL := range map[string]string{"postgres": pgtest.Empty(t), "sqlite": sqliteURL(t)} {
		t.Run(name, func(t *testing.T) {
			first := start(t, dbURL, nil)
			if err := first.app.Stop(t.Context()); err != nil {
				t.Fatal(err)
			}
			err := startError(t, map[string]string{"LEADR_DATABASE_URL": dbURL, "LEADR_ENCRYPTION_KEY": other})
			wantRefused(t, err, "LEADR_ENCRYPTION_KEY does not open the secrets stored in this database", other, testEncryptionKey)
			if err := startError(t, map[string]string{"LEADR_DATABASE_URL": dbURL, "LEADR_ENCRYPTION_KEY": testEncryptionKey}); err != nil {
				t.Fatalf("with the right key: %v", err)
			}
		})
	}
}

// On SQLite with no key configured, the first start makes the key file
// beside the database, readable by its owner only, and later starts use it;
// a key file others may read, one that holds no key, another key, or none
// at all for a database that holds sealed secrets, stop the start.
func TestSQLiteKeyFileBesideTheDatabase(t *testing.T) {
	dbURL := sqliteURL(t)
	path := strings.TrimPrefix(dbURL, "sqlite:") + ".key"
	noKey := map[string]string{"LEADR_ENCRYPTION_KEY": ""}
	first := start(t, dbURL, noKey)
	super := keyPattern.FindString(first.stderr.String())
	if err := first.app.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatalf("no key file beside the database: %v", err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Fatalf("the key file's mode is %04o, want 0600", info.Mode().Perm())
	}
	key, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}

	second := start(t, dbURL, noKey)
	if status, _ := second.call(t, "GET", "/v1/accounts", super, nil); status != http.StatusOK {
		t.Fatalf("the first start's key after a restart: %d", status)
	}
	if err := second.app.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	if again, _ := os.ReadFile(path); !bytes.Equal(again, key) {
		t.Fatal("the key file was made anew")
	}

	vars := map[string]string{"LEADR_DATABASE_URL": dbURL, "LEADR_ENCRYPTION_KEY": ""}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	wantRefused(t, startError(t, vars), "chmod 600 "+path, string(key))
	if err := os.WriteFile(path, []byte("too short\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	wantRefused(t, startError(t, vars), "does not hold a key")
	other := "c2VhbGVkIHVuZGVyIGFub3RoZXIga2V5LCAwMDAwMDA="
	if err := os.WriteFile(path, []byte(other+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	wantRefused(t, startError(t, vars), "the key file "+path+" does not open the secrets stored in this database", other, string(key))
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	wantRefused(t, startError(t, vars), "the key file "+path+" is missing")
	if _, err := os.Stat(path); err == nil {
		t.Fatal("a refused start made a key file")
	}
	// The key file given as LEADR_ENCRYPTION_KEY opens the database too.
	if err := startError(t, map[string]string{"LEADR_DATABASE_URL": dbURL, "LEADR_ENCRYPTION_KEY": strings.TrimSpace(string(key))}); err != nil {
		t.Fatalf("the key file's key as LEADR_ENCRYPTION_KEY: %v", err)
	}
}
