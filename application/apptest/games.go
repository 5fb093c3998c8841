package apptest

import (
	"context"
	"slices"

	"github.com/leadr-oss/identity/domain/game"
	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/domain/tenancy"
	"github.com/leadr-oss/identity/ports"
	"github.com/leadr-oss/identity/ports/paging"
)

func init() { fakes = append(fakes, func(m *Memory) any { return m.Games() }) }

func (m *Memory) Games() ports.GameRepository { return (*memGames)(m) }

type gameTable struct{ rows []game.Snapshot }

// games is the game table; the caller holds the lock.
func (m *Memory) games() *gameTable { return table[gameTable](m, "games") }

// liveGameIn reports whether a live game of the account has this ID, as the
// store checks before it writes an identity.
func (m *Memory) liveGameIn(account id.AccountID, gameID id.GameID) bool {
	return slices.ContainsFunc(m.games().rows, func(g game.Snapshot) bool {
		return g.ID == gameID && g.AccountID == account && g.DeletedAt.IsZero()
	})
}

type memGames Memory

func liveGame(gameID id.GameID) func(game.Snapshot) bool {
	return func(g game.Snapshot) bool { return g.ID == gameID && g.DeletedAt.IsZero() }
}

func (r *memGames) Create(ctx context.Context, g *game.Game) error {
	m := (*Memory)(r)
	return m.write(ctx, func(ctx context.Context, tx *memTx) error {
		s := g.Snapshot()
		switch {
		case !m.accountExists(s.AccountID):
			return tenancy.ErrAccountNotFound
		case slices.ContainsFunc(m.games().rows, func(x game.Snapshot) bool { return x.AccountID == s.AccountID && x.Slug == s.Slug }):
			return game.ErrSlugTaken
		}
		add(tx, &m.games().rows, s)
		return tx.record(ctx, game.Created(g))
	})
}

func (r *memGames) Get(ctx context.Context, gameID id.GameID) (*game.Game, error) {
	defer (*Memory)(r).lock(ctx)()
	rows := (*Memory)(r).games().rows
	i := slices.IndexFunc(rows, liveGame(gameID))
	if i < 0 {
		return nil, game.ErrNotFound
	}
	return game.Rehydrate(rows[i]), nil
}

func (r *memGames) Update(ctx context.Context, gameID id.GameID, fn func(*game.Game) error) (*game.Game, error) {
	m := (*Memory)(r)
	return update(ctx, m, func() *[]game.Snapshot { return &m.games().rows }, liveGame(gameID), game.ErrNotFound,
		game.Rehydrate, game.Changed, fn)
}

func (r *memGames) List(ctx context.Context, f ports.GameFilter, req paging.Request) (paging.Result[*game.Game], error) {
	defer (*Memory)(r).lock(ctx)()
	var items []*game.Game
	for _, s := range (*Memory)(r).games().rows {
		if s.DeletedAt.IsZero() && (f.AccountID.IsZero() || s.AccountID == f.AccountID) && (f.Slug == "" || s.Slug == f.Slug) {
			items = append(items, game.Rehydrate(s))
		}
	}
	return Page(items, req, ports.GameSchema), nil
}
