package bootstrap

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"

	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/leadr-oss/identity/adapters/store"
	"github.com/leadr-oss/identity/application/sealing"
	"github.com/leadr-oss/identity/ports"
)

// errKeyRequired is why PostgreSQL needs LEADR_ENCRYPTION_KEY, and how to
// make one.
var errKeyRequired = errors.New("LEADR_ENCRYPTION_KEY is required with PostgreSQL: the secrets the service " +
	"generates (the API-key pepper, the cursor and access-token secrets, the key of games' Steam Web API keys) " +
	"are stored encrypted under it, so that a copy of the database alone opens nothing and mints nothing. " +
	"Make one with: head -c 32 /dev/urandom | base64; give every replica the same, and keep it apart from " +
	"the database and its backups")

// SecretsModule checks the root key before anything else starts, so that
// a start it stops says why in a few words: PostgreSQL without
// LEADR_ENCRYPTION_KEY, or a key that does not open the stored secrets.
var SecretsModule = fx.Module("secrets",
	fx.Invoke(requireRootKey),
	fx.Invoke(func(v openedVault) error { return v.err }),
)

// requireRootKey stops the start at once, saying why, when PostgreSQL is
// given no LEADR_ENCRYPTION_KEY.
func requireRootKey(cfg Config) error {
	if _, sqlite := store.SQLiteFile(cfg.DatabaseURL.Reveal()); sqlite || cfg.EncryptionKey != "" {
		return nil
	}
	return errKeyRequired
}

// openedVault is the vault, or why it does not open: SecretsModule returns
// the reason as is, where fx would wrap it in the way it got there.
type openedVault struct {
	vault *sealing.Vault
	err   error
}

func (v openedVault) open() (*sealing.Vault, error) { return v.vault, v.err }

// openVault opens the generated secrets, sealed under the root key. A
// database whose secrets an earlier version stored in plaintext is
// converted first; a root key that does not open the stored secrets stops
// the start.
func openVault(_ schemaReady, cfg Config, s *store.Store, log *zap.Logger) openedVault {
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	stored := store.NewSecrets(s)
	key, source, err := rootKey(ctx, cfg, stored, log)
	if err != nil {
		return openedVault{err: err}
	}
	vault := sealing.NewVault(stored, key)
	var configured []byte // the key earlier versions sealed Steam keys with, when set
	if cfg.EncryptionKey != "" {
		configured = key
	}
	converted, err := stored.SealLegacy(ctx, func(plaintext map[string][]byte) store.Conversion {
		return vault.Upgrade(plaintext, configured)
	})
	if err != nil {
		return openedVault{err: err}
	}
	if converted {
		log.Info("sealed under " + source + " the secrets an earlier version stored in plaintext; " +
			"backups taken before still hold them in plaintext")
	}
	// Every start opens a stored secret: a wrong key stops it here.
	if _, err := vault.Credentials(ctx); errors.Is(err, sealing.ErrWrongKey) {
		return openedVault{err: fmt.Errorf("%s does not open the secrets stored in this database: they were sealed under "+
			"another key. Start with the key they were sealed under (every replica needs the same)", source)}
	} else if err != nil {
		return openedVault{err: err}
	}
	return openedVault{vault: vault}
}

// rootKey is LEADR_ENCRYPTION_KEY or, on SQLite without it, the key file
// beside the database, made at the first start. source names it for the
// operator.
func rootKey(ctx context.Context, cfg Config, stored *store.Secrets, log *zap.Logger) (key []byte, source string, err error) {
	if cfg.EncryptionKey != "" {
		return []byte(cfg.EncryptionKey.Reveal()), "LEADR_ENCRYPTION_KEY", nil
	}
	db, ok := store.SQLiteFile(cfg.DatabaseURL.Reveal())
	if !ok {
		return nil, "", errKeyRequired
	}
	path := db + ".key"
	source = "the key file " + path
	key, err = store.ReadKeyFile(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return key, source, err
	}
	sealed, err := stored.Any(ctx)
	if err != nil {
		return nil, "", err
	}
	if sealed {
		return nil, "", fmt.Errorf("the key file %s is missing, and the database holds secrets sealed under the key it held: "+
			"put it back beside the database, or give that key as LEADR_ENCRYPTION_KEY", path)
	}
	if key, err = store.CreateKeyFile(path); err != nil {
		return nil, "", err
	}
	log.Info("generated the key the service's secrets are sealed under, in "+path+
		"; keep a copy apart from the database's backups: without it the database opens nothing",
		zap.String("key_file", path))
	return key, source, nil
}

// sharedSecret returns the configured secret or, when there is none, the one
// generated once and stored in the database, sealed, for every replica.
func sharedSecret(secrets ports.SecretStore, log *zap.Logger, configured Secret, name, envVar string) ([]byte, error) {
	if configured != "" {
		return []byte(configured.Reveal()), nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	v, err := secrets.Secret(ctx, name, func() []byte {
		b := make([]byte, 32)
		_, _ = rand.Read(b)
		return b
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	log.Debug(envVar+" is not set; using the generated secret, stored sealed in the database", zap.String("secret", name))
	return v, nil
}
