package ports

import (
	"context"

	"github.com/leadr-oss/identity/domain/game"
	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/domain/tenancy"
	"github.com/leadr-oss/identity/ports/paging"
)

// GameSchema is what game lists sort by.
var GameSchema = paging.NewSchema("games", "created_at:desc,id:asc",
	paging.Field[*game.Game]{Name: "id", Type: paging.UUID, Value: func(g *game.Game) any { return g.ID().UUID() }},
	paging.Field[*game.Game]{Name: "name", Type: paging.String, Value: func(g *game.Game) any { return g.Name().String() }},
	paging.Field[*game.Game]{Name: "slug", Type: paging.String, Value: func(g *game.Game) any { return g.Slug().String() }},
	paging.Field[*game.Game]{Name: "created_at", Type: paging.Time, Value: func(g *game.Game) any { return g.CreatedAt() }},
	paging.Field[*game.Game]{Name: "updated_at", Type: paging.Time, Value: func(g *game.Game) any { return g.UpdatedAt() }},
)

// GameFilter narrows a list of live games; zero fields do not filter.
type GameFilter struct {
	AccountID id.AccountID
	Slug      string
}

// GameRepository stores Game aggregates. Soft-deleted games are invisible to
// every method: Get and Update answer game.ErrNotFound.
type GameRepository interface {
	// Create stores a new game: game.ErrSlugTaken when its slug is in use
	// in its account (by any of its games, deleted ones included; other
	// accounts' games never stand in the way), tenancy.ErrAccountNotFound
	// when its account does not exist.
	Create(ctx context.Context, g *game.Game) error
	Get(ctx context.Context, id id.GameID) (*game.Game, error)
	// Update has the contract of IdentityRepository.Update.
	Update(ctx context.Context, id id.GameID, fn func(*game.Game) error) (*game.Game, error)
	List(ctx context.Context, f GameFilter, req paging.Request) (paging.Result[*game.Game], error)
}

// Cipher seals secrets that are stored (a game's Steam Web API key) with a
// key every replica shares. The context binds a sealed value to where it
// belongs: opening it under another context fails.
type Cipher interface {
	Seal(plaintext, context []byte) []byte
	Open(sealed, context []byte) ([]byte, error)
}

type CreateGame struct {
	AccountID      id.AccountID
	Name           string
	Slug           *string
	SteamAppID     *string
	SteamWebAPIKey *string
	// DeviceSignIn nil is the default, true.
	DeviceSignIn *bool
}

type GetGame struct {
	ID        id.GameID
	AccountID id.AccountID
}

type ListGames struct {
	AccountID id.AccountID
	Slug      *string
	Page      paging.Params
}

// Setting is a field of an update that may be left alone, set, or cleared
// (JSON null).
type Setting struct {
	Given bool
	Value *string // nil: clear
}

type UpdateGame struct {
	ID             id.GameID
	AccountID      id.AccountID
	Name           *string
	SteamAppID     Setting
	SteamWebAPIKey Setting
	DeviceSignIn   *bool
	Delete         bool
}

// Games is the game API.
type Games interface {
	Create(ctx context.Context, p tenancy.Principal, c CreateGame) (*game.Game, error)
	Get(ctx context.Context, p tenancy.Principal, q GetGame) (*game.Game, error)
	List(ctx context.Context, p tenancy.Principal, q ListGames) (paging.Page[*game.Game], error)
	Update(ctx context.Context, p tenancy.Principal, c UpdateGame) (*game.Game, error)
}
