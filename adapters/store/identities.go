package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/leadr-oss/identity/domain/event"
	"github.com/leadr-oss/identity/domain/game"
	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/domain/identity"
	"github.com/leadr-oss/identity/ports"
	"github.com/leadr-oss/identity/ports/paging"
)

// Identities implements ports.IdentityRepository.
type Identities struct {
	db *DB
}

var _ ports.IdentityRepository = (*Identities)(nil)

func init() {
	repositories = append(repositories, func(s *Store) (any, error) { return NewIdentities(s) })
}

func NewIdentities(s *Store) (*Identities, error) {
	if err := checkRowModel[identityRow](s.db.read, identityColumns, ports.IdentitySchema.Spec); err != nil {
		return nil, err
	}
	return &Identities{db: s.db}, nil
}

// identityConstraints: the use case checks the game before it creates an
// identity, so a broken foreign key means the game (and with it its
// account) is gone; SQLite does not say which key broke. An unknown account
// breaks both keys, and PostgreSQL reports the account's (its trigger is
// older): it is a missing game too, as on SQLite, since a game of an
// unknown account cannot exist.
var identityConstraints = map[string]error{
	"identities_account_fkey": game.ErrNotFound,
	"identities_game_fkey":    game.ErrNotFound,
	"identities.foreign_key":  game.ErrNotFound,
}

func (r *Identities) GetOrCreate(ctx context.Context, fresh *identity.Identity, onExisting func(*identity.Identity) error) (*identity.Identity, bool, error) {
	// Most calls (a game client signing in again) find a live identity, in
	// a live game, that needs no change: one indexed read answers them, with
	// no transaction and no lock. Anything else takes the locked path below,
	// which also refuses a game that is gone.
	key := sameKey(fresh)
	rows, err := selectRows[identityRow](ctx, r.db, pointRead, "SELECT "+identityColumns+" FROM identities WHERE "+key.sql+
		" AND EXISTS (SELECT 1 FROM games AS g WHERE g.id = identities.game_id AND g.deleted_at IS NULL)", key.args)
	if err == nil && len(rows) == 0 {
		err = sql.ErrNoRows
	}
	switch {
	case err == nil:
		existing, err := identityFromRow(&rows[0])
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
	err := r.db.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := r.lockLiveGame(ctx, tx, fresh); err != nil {
			return err
		}
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
			return r.db.record(ctx, identity.Created(fresh))
		}
		existing, err := identityFromRow(row)
		if err != nil {
			return err
		}
		if err := onExisting(existing); err != nil {
			return err
		}
		out = existing
		previous, _ := identityFromRow(row)
		return r.db.saveIfChanged(ctx, "identity", identityToRow(previous), identityToRow(existing), identityMutable,
			func() event.Event { return identity.Changed(previous, existing) })
	})
	return out, created, err
}

// lockLiveGame checks, in the transaction that writes the identity, that
// its game is live, and holds a shared lock on the game's row until the
// transaction ends. A soft delete locks the row for update, so the two are
// ordered: no identity is written in a game whose deletion committed first.
// (The foreign key alone only asks that the row exist. SQLite's write
// transactions are serial and need no lock.)
func (r *Identities) lockLiveGame(ctx context.Context, tx bun.Tx, i *identity.Identity) error {
	s := i.Snapshot()
	q := tx.NewSelect().Table("games").ColumnExpr("1").
		Where("id = ? AND account_id = ? AND deleted_at IS NULL", toUUID(s.GameID), toUUID(s.AccountID))
	if !r.db.sqlite {
		q = q.For("SHARE")
	}
	var live int
	err := q.Scan(ctx, &live)
	if errors.Is(err, sql.ErrNoRows) {
		return game.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("find the identity's game: %w", err)
	}
	return nil
}

// sameKey selects the live identity with the natural key of i.
func sameKey(i *identity.Identity) condition {
	s := i.Snapshot()
	return cond("account_id = ? AND game_id = ? AND kind = ? AND external_key = ? AND deleted_at IS NULL",
		toUUID(s.AccountID), toUUID(s.GameID), s.Kind.String(), s.ExternalKey)
}

var identityMutable = []string{"player_id", "display_name", "updated_at", "deleted_at"}

// identityRestoreConstraints: a restored identity whose key a live one
// took meanwhile breaks the unique index of live keys.
var identityRestoreConstraints = map[string]error{
	"identities_live_key": identity.ErrKeyInUse,
	"identities.account_id, identities.game_id, identities.kind, identities.external_key": identity.ErrKeyInUse,
}

// Restore finds the soft-deleted identity only while its player is live: an
// identity deleted with its player comes back with the player.
func (r *Identities) Restore(ctx context.Context, identityID id.IdentityID, fn func(*identity.Identity) error) (*identity.Identity, error) {
	deleted := cond("id = ? AND deleted_at IS NOT NULL AND EXISTS (SELECT 1 FROM players AS p WHERE p.id = ?TableAlias.player_id AND p.deleted_at IS NULL AND p.purged_at IS NULL AND p.merged_into IS NULL)", toUUID(identityID))
	out, err := updateLocked(ctx, r.db, "identity", deleted, identity.ErrNotFound,
		identityFromRow, identityToRow, identity.Changed, fn, identityMutable...)
	if err != nil {
		return nil, translate(err, "identities", identityRestoreConstraints)
	}
	return out, nil
}

func (r *Identities) Get(ctx context.Context, identityID id.IdentityID) (*identity.Identity, error) {
	return getOne(ctx, r.db, "identities", identityColumns, liveIdentity(identityID), identity.ErrNotFound, identityFromRow)
}

func liveIdentity(identityID id.IdentityID) condition {
	return cond("id = ? AND deleted_at IS NULL", toUUID(identityID))
}

func (r *Identities) Update(ctx context.Context, identityID id.IdentityID, fn func(*identity.Identity) error) (*identity.Identity, error) {
	return updateLocked(ctx, r.db, "identity", liveIdentity(identityID), identity.ErrNotFound,
		identityFromRow, identityToRow, identity.Changed, fn, identityMutable...)
}

func (r *Identities) List(ctx context.Context, f ports.IdentityFilter, req paging.Request) (paging.Result[*identity.Identity], error) {
	return list(ctx, r.db, identityListing(f), req, identityFromRow)
}

func identityListing(f ports.IdentityFilter) listing {
	l := listing{
		table:   "identities",
		columns: identityColumns,
		sortBy:  ports.IdentitySchema.Spec,
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
	if f.ExternalKey != "" {
		l.where = append(l.where, cond("external_key = ?", f.ExternalKey))
	}
	return l
}

type identityRow struct {
	bun.BaseModel `bun:"table:identities"`

	ID          uuid.UUID      `bun:"id,pk,type:uuid"`
	AccountID   uuid.UUID      `bun:"account_id,type:uuid"`
	GameID      uuid.UUID      `bun:"game_id,type:uuid"`
	PlayerID    uuid.UUID      `bun:"player_id,type:uuid"`
	Kind        string         `bun:"kind"`
	ExternalKey string         `bun:"external_key"`
	DisplayName sql.NullString `bun:"display_name"`
	CreatedAt   time.Time      `bun:"created_at"`
	UpdatedAt   time.Time      `bun:"updated_at"`
	DeletedAt   sql.NullTime   `bun:"deleted_at"`
}

const identityColumns = "id, account_id, game_id, player_id, kind, external_key, display_name, created_at, updated_at, deleted_at"

func (r *identityRow) fields() []any {
	return []any{uuidField(&r.ID), uuidField(&r.AccountID), uuidField(&r.GameID), uuidField(&r.PlayerID), &r.Kind, &r.ExternalKey, &r.DisplayName, &r.CreatedAt, &r.UpdatedAt, &r.DeletedAt}
}

func identityToRow(i *identity.Identity) *identityRow {
	s := i.Snapshot()
	return &identityRow{
		ID:          toUUID(s.ID),
		AccountID:   toUUID(s.AccountID),
		GameID:      toUUID(s.GameID),
		PlayerID:    toUUID(s.PlayerID),
		Kind:        s.Kind.String(),
		ExternalKey: s.ExternalKey,
		DisplayName: sql.NullString{String: s.DisplayName, Valid: s.DisplayName != ""},
		CreatedAt:   s.CreatedAt,
		UpdatedAt:   s.UpdatedAt,
		DeletedAt:   sql.NullTime{Time: s.DeletedAt, Valid: !s.DeletedAt.IsZero()},
	}
}

func identityFromRow(r *identityRow) (*identity.Identity, error) {
	kind, err := identity.ParseKind(r.Kind)
	if err != nil {
		return nil, fmt.Errorf("identity %s: stored kind %q: %w", r.ID, r.Kind, err)
	}
	return identity.Rehydrate(identity.Snapshot{
		ID:          fromUUID[id.Identity](r.ID),
		AccountID:   fromUUID[id.Account](r.AccountID),
		GameID:      fromUUID[id.Game](r.GameID),
		PlayerID:    fromUUID[id.Player](r.PlayerID),
		Kind:        kind,
		ExternalKey: r.ExternalKey,
		DisplayName: r.DisplayName.String,
		CreatedAt:   r.CreatedAt,
		UpdatedAt:   r.UpdatedAt,
		DeletedAt:   r.DeletedAt.Time,
	}), nil
}
