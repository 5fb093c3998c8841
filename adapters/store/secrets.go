package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/ports"
)

// Secrets implements ports.SecretStore: it keeps the bytes it is given, and
// is given them sealed (application/sealing's Vault wraps it).
type Secrets struct {
	db *DB
}

var _ ports.SecretStore = (*Secrets)(nil)

func NewSecrets(s *Store) *Secrets { return &Secrets{db: s.db} }

// Secret inserts a generated value unless one is stored, then reads the
// stored one: replicas that race all read the winner's value.
func (s *Secrets) Secret(ctx context.Context, name string, generate func() []byte) ([]byte, error) {
	row := &secretRow{Name: name, Value: generate(), CreatedAt: time.Now().UTC()}
	if _, err := s.db.write.NewInsert().Model(row).On("CONFLICT (name) DO NOTHING").Exec(ctx); err != nil {
		return nil, fmt.Errorf("store secret %s: %w", name, err)
	}
	stored := new(secretRow)
	if err := s.db.write.NewSelect().Model(stored).Where("name = ?", name).Scan(ctx); err != nil {
		return nil, fmt.Errorf("read secret %s: %w", name, err)
	}
	return stored.Value, nil
}

// Has reports whether a secret is stored under name, without storing one.
func (s *Secrets) Has(ctx context.Context, name string) (bool, error) {
	n, err := s.db.write.NewSelect().Model((*secretRow)(nil)).Where("name = ?", name).Count(ctx)
	if err != nil {
		return false, fmt.Errorf("read secret %s: %w", name, err)
	}
	return n > 0, nil
}

// Any reports whether a secret is stored: then they were sealed under a
// root key already.
func (s *Secrets) Any(ctx context.Context) (bool, error) {
	n, err := s.db.write.NewSelect().Model((*secretRow)(nil)).Limit(1).Count(ctx)
	if err != nil {
		return false, fmt.Errorf("read secrets: %w", err)
	}
	return n > 0, nil
}

type secretRow struct {
	bun.BaseModel `bun:"table:sealed_secrets"`

	Name      string    `bun:"name,pk"`
	Value     []byte    `bun:"value"`
	CreatedAt time.Time `bun:"created_at"`
}

// Conversion is what sealing the secrets of an earlier version writes.
type Conversion interface {
	// Sealed are the secrets to store, by name.
	Sealed() map[string][]byte
	// Reseal turns a sealed credential into its new form; false leaves it.
	Reseal(sealed, context []byte) ([]byte, bool)
}

// sealLock serialises the conversion across replicas (PostgreSQL; on
// SQLite the transaction holds the write lock).
const sealLock = 0x1eadd1c

// SealLegacy converts, once, a database whose secrets an earlier version
// kept in plaintext (legacy_secrets, left by the migration
// 20261207000003_sealed_secrets): convert receives them and says what to
// store instead; every game's stored Steam Web API key is resealed; and
// legacy_secrets is dropped, all in one transaction. Replicas starting
// together take turns, and the later ones find nothing to do. It reports
// whether it converted anything.
func (s *Secrets) SealLegacy(ctx context.Context, convert func(plaintext map[string][]byte) Conversion) (bool, error) {
	converted := false
	err := s.db.write.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		exists := "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'legacy_secrets'"
		if !s.db.sqlite {
			// No request's bounds: a replica may wait for another's conversion.
			if _, err := tx.ExecContext(ctx, "SET LOCAL statement_timeout = 0; SET LOCAL lock_timeout = 0"); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(?)", sealLock); err != nil {
				return err
			}
			exists = "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename = 'legacy_secrets'"
		}
		var n int
		if err := tx.NewRaw(exists).Scan(ctx, &n); err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
		var legacy []secretRow
		if err := tx.NewRaw("SELECT name, value, created_at FROM legacy_secrets").Scan(ctx, &legacy); err != nil {
			return err
		}
		plaintext := make(map[string][]byte, len(legacy))
		for _, r := range legacy {
			plaintext[r.Name] = r.Value
		}
		c := convert(plaintext)
		now := time.Now().UTC()
		for name, value := range c.Sealed() {
			if _, err := tx.NewInsert().Model(&secretRow{Name: name, Value: value, CreatedAt: now}).Exec(ctx); err != nil {
				return err
			}
		}
		if err := resealSteamKeys(ctx, tx, c); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "DROP TABLE legacy_secrets"); err != nil {
			return err
		}
		converted = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("seal the secrets stored in plaintext: %w", err)
	}
	if converted && s.db.sqlite {
		if err := s.truncateLog(ctx); err != nil {
			return false, err
		}
	}
	return converted, nil
}

// truncateLog empties SQLite's write-ahead log into the database file. The
// conversion's writes zeroed what they freed (secure_delete), but until a
// checkpoint the file still holds the plaintext pages, and the log older
// frames of them; TRUNCATE copies every frame back and leaves the log
// empty. On PostgreSQL there is nothing to do: DROP TABLE unlinks the
// table's files, and a dump reads live rows only.
func (s *Secrets) truncateLog(ctx context.Context) error {
	var busy, logged, copied int
	if err := s.db.write.QueryRowContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &logged, &copied); err != nil {
		return fmt.Errorf("sealed the secrets stored in plaintext, but the write-ahead log still holds them: %w", err)
	}
	if busy != 0 {
		return errors.New("sealed the secrets stored in plaintext, but another connection to the database kept its " +
			"write-ahead log (-wal), which still holds them until the last process using the database file closes it: stop every other one, then start again")
	}
	return nil
}

// steamKeyRow is a game's sealed Steam Web API key, deleted games' too:
// they may be restored.
type steamKeyRow struct {
	bun.BaseModel `bun:"table:games"`

	ID             uuid.UUID `bun:"id,pk,type:uuid"`
	SteamWebAPIKey []byte    `bun:"steam_web_api_key"`
}

// resealSteamKeys seals every game's Steam key as c says; its context is
// the game's ID, as application/game seals it.
func resealSteamKeys(ctx context.Context, tx bun.Tx, c Conversion) error {
	var rows []steamKeyRow
	if err := tx.NewSelect().Model(&rows).Where("steam_web_api_key IS NOT NULL").Scan(ctx); err != nil {
		return err
	}
	for _, r := range rows {
		resealed, ok := c.Reseal(r.SteamWebAPIKey, []byte(fromUUID[id.Game](r.ID).String()))
		if !ok {
			continue
		}
		r.SteamWebAPIKey = resealed
		if _, err := tx.NewUpdate().Model(&r).Column("steam_web_api_key").WherePK().Exec(ctx); err != nil {
			return err
		}
	}
	return nil
}
