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

func (r *memGames) live(gameID id.GameID) int {
	return slices.IndexFunc((*Memory)(r).games().rows, func(g game.Snapshot) bool { return g.ID == gameID && g.DeletedAt.IsZero() })
}

func (r *memGames) Create(_ context.Context, g *game.Game) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := (*Memory)(r)
	s := g.Snapshot()
	switch {
	case !m.accountExists(s.AccountID):
		return tenancy.ErrAccountNotFound
	case slices.ContainsFunc(m.games().rows, func(x game.Snapshot) bool { return x.AccountID == s.AccountID && x.Slug == s.Slug }):
		return game.ErrSlugTaken
	}
	m.games().rows = append(m.games().rows, s)
	return nil
}

func (r *memGames) Get(_ context.Context, gameID id.GameID) (*game.Game, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	i := r.live(gameID)
	if i < 0 {
		return nil, game.ErrNotFound
	}
	return game.Rehydrate((*Memory)(r).games().rows[i]), nil
}

func (r *memGames) Update(_ context.Context, gameID id.GameID, fn func(*game.Game) error) (*game.Game, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	i := r.live(gameID)
	if i < 0 {
		return nil, game.ErrNotFound
	}
	rows := (*Memory)(r).games().rows
	g := game.Rehydrate(rows[i])
	if err := fn(g); err != nil {
		return nil, err
	}
	rows[i] = g.Snapshot()
	return g, nil
}

func (r *memGames) List(_ context.Context, f ports.GameFilter, req paging.Request) (paging.Result[*game.Game], error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var items []*game.Game
	for _, s := range (*Memory)(r).games().rows {
		if s.DeletedAt.IsZero() && (f.AccountID.IsZero() || s.AccountID == f.AccountID) && (f.Slug == "" || s.Slug == f.Slug) {
			items = append(items, game.Rehydrate(s))
		}
	}
	return Page(items, req, ports.GameSchema), nil
}
