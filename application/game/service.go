// Package game holds the game use cases: create, get, list, update (rename,
// Steam settings, device sign-in) and soft delete.
package game

import (
	"context"
	"errors"
	"fmt"

	"github.com/leadr-oss/identity/application/auth"
	"github.com/leadr-oss/identity/application/cursor"
	"github.com/leadr-oss/identity/domain"
	"github.com/leadr-oss/identity/domain/game"
	"github.com/leadr-oss/identity/domain/tenancy"
	"github.com/leadr-oss/identity/ports"
	"github.com/leadr-oss/identity/ports/paging"
)

// maxSlugTries bounds how far a derived slug counts up ("-2", "-3", …)
// before the taken slug is reported.
const maxSlugTries = 100

// Service implements ports.Games.
type Service struct {
	repo   ports.GameRepository
	cipher ports.Cipher
	cursor paging.Cursors
	now    ports.Clock
}

var _ ports.Games = (*Service)(nil)

func NewService(repo ports.GameRepository, cipher ports.Cipher, cursor paging.Cursors, now ports.Clock) *Service {
	return &Service{repo: repo, cipher: cipher, cursor: cursor, now: now}
}

// steamSettings are the validated Steam fields of a request.
type steamSettings struct {
	appID    *game.SteamAppID
	clearApp bool
	key      *game.SteamWebAPIKey
	clearKey bool
}

func parseSteam(appID, key ports.Setting) (steamSettings, error) {
	var s steamSettings
	var problems []error
	if appID.Given {
		if appID.Value == nil {
			s.clearApp = true
		} else if v, err := game.ParseSteamAppID(*appID.Value); err != nil {
			problems = append(problems, err)
		} else {
			s.appID = &v
		}
	}
	if key.Given {
		if key.Value == nil {
			s.clearKey = true
		} else if v, err := game.ParseSteamWebAPIKey(*key.Value); err != nil {
			problems = append(problems, err)
		} else {
			s.key = &v
		}
	}
	return s, errors.Join(problems...)
}

// change is the domain change of settings for game g; the key is sealed
// bound to g's ID.
func (s *Service) change(g *game.Game, name *game.Name, st steamSettings, deviceSignIn *bool) game.Change {
	c := game.Change{
		Name: name, SteamAppID: st.appID, ClearSteamAppID: st.clearApp, ClearSteamKey: st.clearKey,
		DeviceSignIn: deviceSignIn,
	}
	if st.key != nil {
		c.SteamKey = s.cipher.Seal([]byte(st.key.Reveal()), []byte(g.ID().String()))
	}
	return c
}

func given(v *string) ports.Setting { return ports.Setting{Given: v != nil, Value: v} }

// Create validates every field first (422), then asks the policy (403),
// then stores the game; a slug derived from the name counts up until one
// is free in its account.
func (s *Service) Create(ctx context.Context, p tenancy.Principal, c ports.CreateGame) (*game.Game, error) {
	var problems []error
	name, err := game.ParseName(c.Name)
	problems = append(problems, err)
	var slug game.Slug
	if c.Slug != nil {
		slug, err = game.ParseSlug(*c.Slug)
		problems = append(problems, err)
	}
	steam, err := parseSteam(given(c.SteamAppID), given(c.SteamWebAPIKey))
	problems = append(problems, err)
	account, accessErr := auth.TargetAccount(p, c.AccountID)
	if domain.CategoryOf(accessErr) == domain.CategoryInvalid {
		problems, accessErr = append(problems, accessErr), nil
	}
	if err := errors.Join(problems...); err != nil {
		return nil, err
	}
	if accessErr != nil {
		return nil, accessErr
	}

	derived := c.Slug == nil
	if derived {
		slug = game.DeriveSlug(name)
	}
	now := s.now()
	g, err := game.New(account, name, slug, now)
	if err != nil {
		return nil, err
	}
	if _, err := g.Apply(s.change(g, nil, steam, c.DeviceSignIn), now); err != nil {
		return nil, err
	}
	for n := 2; ; n++ {
		err = s.repo.Create(ctx, g)
		if !derived || !errors.Is(err, game.ErrSlugTaken) || n > maxSlugTries {
			break
		}
		g = g.WithSlug(slug.Numbered(n))
	}
	if err != nil {
		return nil, fmt.Errorf("create game: %w", err)
	}
	return g, nil
}

func (s *Service) Get(ctx context.Context, p tenancy.Principal, q ports.GetGame) (*game.Game, error) {
	if err := auth.CheckNamed(p, q.AccountID); err != nil {
		return nil, err
	}
	g, err := s.repo.Get(ctx, q.ID)
	if err != nil {
		return nil, err
	}
	if err := auth.CheckAccess(p, q.AccountID, g.AccountID(), game.ErrForbidden, game.ErrNotFound); err != nil {
		return nil, err
	}
	return g, nil
}

func (s *Service) List(ctx context.Context, p tenancy.Principal, q ports.ListGames) (paging.Page[*game.Game], error) {
	scope, err := auth.ListScope(p, q.AccountID)
	if err != nil {
		return paging.Page[*game.Game]{}, err
	}
	f := ports.GameFilter{AccountID: scope}
	if q.Slug != nil {
		f.Slug = *q.Slug
	}
	fetch := func(r paging.Request) (paging.Result[*game.Game], error) { return s.repo.List(ctx, f, r) }
	if q.Slug != nil && *q.Slug == "" {
		// An exact filter on "": no game has an empty slug (the stores read
		// "" as no filter at all).
		fetch = func(paging.Request) (paging.Result[*game.Game], error) { return paging.Result[*game.Game]{}, nil }
	}
	return cursor.List(s.cursor, ports.GameSchema, q.Page, cursor.Fingerprint(f), fetch)
}

// Update validates (422), checks the named account (403), then changes the
// game under a row lock; the owner check (403) runs inside the lock, so a
// refused update writes nothing. Deletion wins over every other change.
func (s *Service) Update(ctx context.Context, p tenancy.Principal, c ports.UpdateGame) (*game.Game, error) {
	var problems []error
	var name *game.Name
	if c.Name != nil {
		n, err := game.ParseName(*c.Name)
		problems = append(problems, err)
		name = &n
	}
	steam, err := parseSteam(c.SteamAppID, c.SteamWebAPIKey)
	problems = append(problems, err)
	if err := errors.Join(problems...); err != nil {
		return nil, err
	}
	if err := auth.CheckNamed(p, c.AccountID); err != nil {
		return nil, err
	}
	if !c.Delete && name == nil && !c.SteamAppID.Given && !c.SteamWebAPIKey.Given && c.DeviceSignIn == nil {
		return s.Get(ctx, p, ports.GetGame{ID: c.ID, AccountID: c.AccountID})
	}
	g, err := s.repo.Update(ctx, c.ID, func(g *game.Game) error {
		if err := auth.CheckAccess(p, c.AccountID, g.AccountID(), game.ErrForbidden, game.ErrNotFound); err != nil {
			return err
		}
		if c.Delete {
			return g.Delete(s.now())
		}
		_, err := g.Apply(s.change(g, name, steam, c.DeviceSignIn), s.now())
		return err
	})
	// A deletion's game.deleted event ends the sessions of the game's
	// identities, in this transaction (the session slice subscribes to it).
	return g, err
}
