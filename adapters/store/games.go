package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/leadr-oss/identity/domain/game"
	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/domain/tenancy"
	"github.com/leadr-oss/identity/ports"
	"github.com/leadr-oss/identity/ports/paging"
)

// Games implements ports.GameRepository.
type Games struct {
	db *DB
}

var _ ports.GameRepository = (*Games)(nil)

func init() {
	repositories = append(repositories, func(s *Store) (any, error) { return NewGames(s) })
}

func NewGames(s *Store) (*Games, error) {
	if err := checkRowModel[gameRow](s.db.read, gameColumns, ports.GameSchema.Spec); err != nil {
		return nil, err
	}
	return &Games{db: s.db}, nil
}

// gameConstraints names the domain error of each constraint, by its
// PostgreSQL name and by what SQLite reports (see violationKey).
var gameConstraints = map[string]error{
	"games_slug_account_key":       game.ErrSlugTaken,
	"games.slug, games.account_id": game.ErrSlugTaken,
	"games_account_fkey":           tenancy.ErrAccountNotFound,
	"games.foreign_key":            tenancy.ErrAccountNotFound, // its only foreign key
}

func (r *Games) Create(ctx context.Context, g *game.Game) error {
	if err := r.db.create(ctx, gameToRow(g), game.Created(g), gameConstraints); err != nil {
		return fmt.Errorf("create game: %w", err)
	}
	return nil
}

func liveGame(gameID id.GameID) condition {
	return cond("id = ? AND deleted_at IS NULL", toUUID(gameID))
}

func (r *Games) Get(ctx context.Context, gameID id.GameID) (*game.Game, error) {
	return getOne(ctx, r.db, "games", gameColumns, liveGame(gameID), game.ErrNotFound, gameFromRow)
}

func (r *Games) Update(ctx context.Context, gameID id.GameID, fn func(*game.Game) error) (*game.Game, error) {
	return updateLocked(ctx, r.db, "game", liveGame(gameID), game.ErrNotFound, gameFromRow, gameToRow, game.Changed, fn,
		"name", "steam_app_id", "steam_web_api_key", "device_sign_in", "updated_at", "deleted_at")
}

func (r *Games) List(ctx context.Context, f ports.GameFilter, req paging.Request) (paging.Result[*game.Game], error) {
	return list(ctx, r.db, gameListing(f), req, gameFromRow)
}

// gameListing is the live games f selects. A slug, with or without the
// account, is found through games_slug_account_key, which leads with it.
func gameListing(f ports.GameFilter) listing {
	l := listing{table: "games", columns: gameColumns, sortBy: ports.GameSchema.Spec, where: []condition{cond("deleted_at IS NULL")}}
	if f.Slug != "" {
		l.where = append(l.where, cond("slug = ?", f.Slug))
	}
	if !f.AccountID.IsZero() {
		l.where = append(l.where, cond("account_id = ?", toUUID(f.AccountID)))
	}
	return l
}

type gameRow struct {
	bun.BaseModel `bun:"table:games"`

	ID             uuid.UUID      `bun:"id,pk,type:uuid"`
	AccountID      uuid.UUID      `bun:"account_id,type:uuid"`
	Name           string         `bun:"name"`
	Slug           string         `bun:"slug"`
	SteamAppID     sql.NullString `bun:"steam_app_id"`
	SteamWebAPIKey []byte         `bun:"steam_web_api_key"`
	DeviceSignIn   bool           `bun:"device_sign_in"`
	CreatedAt      time.Time      `bun:"created_at"`
	UpdatedAt      time.Time      `bun:"updated_at"`
	DeletedAt      sql.NullTime   `bun:"deleted_at"`
}

const gameColumns = "id, account_id, name, slug, steam_app_id, steam_web_api_key, device_sign_in, created_at, updated_at, deleted_at"

func (r *gameRow) fields() []any {
	return []any{uuidField(&r.ID), uuidField(&r.AccountID), &r.Name, &r.Slug, &r.SteamAppID, &r.SteamWebAPIKey, &r.DeviceSignIn, &r.CreatedAt, &r.UpdatedAt, &r.DeletedAt}
}

func gameToRow(g *game.Game) *gameRow {
	s := g.Snapshot()
	return &gameRow{
		ID: toUUID(s.ID), AccountID: toUUID(s.AccountID), Name: s.Name, Slug: s.Slug,
		SteamAppID:     sql.NullString{String: s.SteamAppID, Valid: s.SteamAppID != ""},
		SteamWebAPIKey: s.SteamKey, DeviceSignIn: s.DeviceSignIn,
		CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt,
		DeletedAt: sql.NullTime{Time: s.DeletedAt, Valid: !s.DeletedAt.IsZero()},
	}
}

func gameFromRow(r *gameRow) (*game.Game, error) {
	return game.Rehydrate(game.Snapshot{
		ID: fromUUID[id.Game](r.ID), AccountID: fromUUID[id.Account](r.AccountID), Name: r.Name, Slug: r.Slug,
		SteamAppID: r.SteamAppID.String, SteamKey: r.SteamWebAPIKey, DeviceSignIn: r.DeviceSignIn,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, DeletedAt: r.DeletedAt.Time,
	}), nil
}
