package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/ports"
)

// SigningKeys implements ports.SigningKeyRepository.
type SigningKeys struct {
	db *DB
}

var _ ports.SigningKeyRepository = (*SigningKeys)(nil)

func init() {
	repositories = append(repositories, func(s *Store) (any, error) { return NewSigningKeys(s), nil })
}

func NewSigningKeys(s *Store) *SigningKeys { return &SigningKeys{db: s.db} }

// signingKeysLock serialises changes of the signing keys across replicas
// (PostgreSQL; on SQLite the transaction holds the write lock), so that two
// replicas seeing a rotation due at once make one key between them.
const signingKeysLock = 0x1eadd1d

type signingKeyRow struct {
	bun.BaseModel `bun:"table:signing_keys"`

	ID         uuid.UUID    `bun:"id,pk"`
	PublicKey  []byte       `bun:"public_key"`
	PrivateKey []byte       `bun:"private_key"`
	CreatedAt  time.Time    `bun:"created_at"`
	SignsFrom  time.Time    `bun:"signs_from"`
	RevokedAt  sql.NullTime `bun:"revoked_at"`
}

func (r *SigningKeys) All(ctx context.Context) ([]ports.StoredSigningKey, error) {
	return r.all(ctx, r.db.read)
}

func (r *SigningKeys) all(ctx context.Context, db bun.IDB) ([]ports.StoredSigningKey, error) {
	var rows []signingKeyRow
	if err := db.NewSelect().Model(&rows).Order("signs_from", "created_at").Scan(ctx); err != nil {
		return nil, fmt.Errorf("read signing keys: %w", err)
	}
	keys := make([]ports.StoredSigningKey, len(rows))
	for i, row := range rows {
		keys[i] = ports.StoredSigningKey{
			ID: fromUUID[id.SigningKey](row.ID), Public: row.PublicKey, Sealed: row.PrivateKey,
			CreatedAt: row.CreatedAt.UTC(), SignsFrom: row.SignsFrom.UTC(), RevokedAt: row.RevokedAt.Time.UTC(),
		}
		if !row.RevokedAt.Valid {
			keys[i].RevokedAt = time.Time{}
		}
	}
	return keys, nil
}

func (r *SigningKeys) Update(ctx context.Context, fn func([]ports.StoredSigningKey) ([]ports.StoredSigningKey, []id.SigningKeyID, error)) error {
	return r.db.write.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if !r.db.sqlite {
			if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(?)", signingKeysLock); err != nil {
				return fmt.Errorf("lock signing keys: %w", err)
			}
		}
		keys, err := r.all(ctx, tx)
		if err != nil {
			return err
		}
		save, drop, err := fn(keys)
		if err != nil {
			return err
		}
		for _, k := range save {
			row := &signingKeyRow{ID: toUUID(k.ID), PublicKey: k.Public, PrivateKey: k.Sealed,
				CreatedAt: k.CreatedAt, SignsFrom: k.SignsFrom, RevokedAt: nullTime(k.RevokedAt)}
			if _, err := tx.NewInsert().Model(row).
				On("CONFLICT (id) DO UPDATE").
				Set("private_key = EXCLUDED.private_key, signs_from = EXCLUDED.signs_from, revoked_at = EXCLUDED.revoked_at").
				Exec(ctx); err != nil {
				return fmt.Errorf("save signing key: %w", err)
			}
		}
		if len(drop) > 0 {
			ids := make([]uuid.UUID, len(drop))
			for i, kid := range drop {
				ids[i] = toUUID(kid)
			}
			if _, err := tx.NewDelete().Model((*signingKeyRow)(nil)).Where("id IN (?)", bun.List(ids)).Exec(ctx); err != nil {
				return fmt.Errorf("drop signing keys: %w", err)
			}
		}
		return r.notify(ctx, tx, save, drop)
	})
}

// notify tells the other replicas' listeners (PostgreSQL sends it when the
// transaction commits) which keys changed, so that they load them again.
func (r *SigningKeys) notify(ctx context.Context, tx bun.Tx, save []ports.StoredSigningKey, drop []id.SigningKeyID) error {
	if r.db.sqlite {
		return nil
	}
	kids := make([]string, 0, len(save)+len(drop))
	for _, k := range save {
		kids = append(kids, k.ID.String())
	}
	for _, kid := range drop {
		kids = append(kids, kid.String())
	}
	for _, kid := range kids {
		if _, err := tx.ExecContext(ctx, "SELECT pg_notify(?, ?)", changesChannel, kid); err != nil {
			return fmt.Errorf("notify signing key change: %w", err)
		}
	}
	return nil
}
