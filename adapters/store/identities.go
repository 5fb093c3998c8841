package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/leadr-oss/identity/application/paging"
	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/domain/identity"
	"github.com/leadr-oss/identity/domain/tenancy"
	"github.com/leadr-oss/identity/ports"
)

// Identities implements ports.IdentityRepository.
type Identities struct {
	db *DB
}

var _ ports.IdentityRepository = (*Identities)(nil)

func NewIdentities(s *Store) *Identities { return &Identities{db: s.db} }

var identityConstraints = map[string]error{
	"identities_account_fkey": tenancy.ErrAccountNotFound,
	"identities.foreign_key":  tenancy.ErrAccountNotFound, // its only foreign key
}

func (r *Identities) GetOrCreate(ctx context.Context, fresh *identity.Identity, onExisting func(*identity.Identity) error) (*identity.Identity, bool, error) {
	// Most calls (a game client signing in again) find a live identity that
	// needs no change: one indexed read answers them, with no transaction
	// and no lock. Anything else takes the locked path below.
	key := sameKey(fresh)
	row := new(identityRow)
	err := r.db.read.NewSelect().Model(row).Where(key.sql, key.args...).Scan(ctx)
	switch {
	case err == nil:
		existing, err := identityFromRow(row)
		if err != nil {
			return nil, false, err
		}
		before := existing.Snapshot()
		if err := onExisting(existing); err != nil {
			return nil, false, err
		}
		if existing.Snapshot() == before {
			return existing, false, nil
		}
	case !errors.Is(err, sql.ErrNoRows):
		return nil, false, fmt.Errorf("find identity: %w", err)
	}
	return r.getOrCreate(ctx, fresh, onExisting)
}

// getOrCreate is one upsert on the partial unique index of live natural
// keys. Its DO UPDATE changes nothing but takes the row lock of the live
// identity that blocks the insert, and RETURNING gives that row, or the new
// one: the database resolves every race with concurrent inserts and
// deletes of the same key itself, so exactly one of N racing calls creates
// and none has to retry. Whether the row is the new one is told by its ID.
func (r *Identities) getOrCreate(ctx context.Context, fresh *identity.Identity, onExisting func(*identity.Identity) error) (*identity.Identity, bool, error) {
	var out *identity.Identity
	var created bool
	err := r.db.write.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		row := identityToRow(fresh)
		_, err := tx.NewInsert().Model(row).
			On("CONFLICT (account_id, game_id, kind, external_key) WHERE deleted_at IS NULL DO UPDATE").
			Set("updated_at = ?TableAlias.updated_at").
			Returning("*").
			Exec(ctx)
		if err != nil {
			return fmt.Errorf("get or create identity: %w", translate(err, "identities", identityConstraints))
		}
		if row.ID == toUUID(fresh.ID()) {
			out, created = fresh, true
			return nil
		}
		existing, err := identityFromRow(row)
		if err != nil {
			return err
		}
		before := identityToRow(existing)
		if err := onExisting(existing); err != nil {
			return err
		}
		if err := saveIfChanged(ctx, tx, before, identityToRow(existing), identityMutable); err != nil {
			return fmt.Errorf("save identity: %w", err)
		}
		out = existing
		return nil
	})
	return out, created, err
}

// sameKey selects the live identity with the natural key of i.
func sameKey(i *identity.Identity) condition {
	s := i.Snapshot()
	return cond("account_id = ? AND game_id = ? AND kind = ? AND external_key = ? AND deleted_at IS NULL",
		toUUID(s.AccountID), toUUID(s.GameID), s.Kind.String(), s.ExternalKey)
}

var identityMutable = []string{"display_name", "updated_at", "deleted_at"}

func (r *Identities) Get(ctx context.Context, identityID id.IdentityID) (*identity.Identity, error) {
	return getOne(ctx, r.db.read, liveIdentity(identityID), identity.ErrNotFound, identityFromRow)
}

func liveIdentity(identityID id.IdentityID) condition {
	return cond("id = ? AND deleted_at IS NULL", toUUID(identityID))
}

func (r *Identities) Update(ctx context.Context, identityID id.IdentityID, fn func(*identity.Identity) error) (*identity.Identity, error) {
	return updateLocked(ctx, r.db, "identity", liveIdentity(identityID), identity.ErrNotFound,
		identityFromRow, identityToRow, fn, identityMutable...)
}

var identitySortColumns = map[string]column{
	"id":           {name: "id"},
	"display_name": {name: "display_name", nullable: true},
	"kind":         {name: "kind"},
	"created_at":   {name: "created_at"},
	"updated_at":   {name: "updated_at"},
}

func (r *Identities) List(ctx context.Context, f ports.IdentityFilter, req paging.Request) (paging.Result[*identity.Identity], error) {
	return list(ctx, r.db.read, identityListing(f), req, identityFromRow)
}

func identityListing(f ports.IdentityFilter) listing {
	l := listing{
		table:   "identities",
		columns: identityColumns,
		sortBy:  identitySortColumns,
		where:   []condition{cond("deleted_at IS NULL")},
	}
	if !f.AccountID.IsZero() {
		l.where = append(l.where, cond("account_id = ?", toUUID(f.AccountID)))
	}
	if !f.GameID.IsZero() {
		l.where = append(l.where, cond("game_id = ?", toUUID(f.GameID)))
	}
	if !f.Kind.IsZero() {
		l.where = append(l.where, cond("kind = ?", f.Kind.String()))
	}
	return l
}
