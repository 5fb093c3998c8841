// Package game is the Game aggregate: a game of one account, which its
// players' identities belong to, with the Steam settings its sign-in uses.
package game

import (
	"bytes"
	"time"

	"github.com/leadr-oss/identity/domain"
	"github.com/leadr-oss/identity/domain/id"
)

var (
	ErrNotFound = domain.NotFound("Game not found")
	// ErrSlugTaken is a slug taken in the same account: another account's
	// slugs are no concern of a tenant's, neither seen nor in the way.
	ErrSlugTaken = domain.Conflict("Game slug already exists")
	// ErrForbidden is the access policy's answer for another account's game.
	ErrForbidden = domain.Forbidden("You do not have access to this game's account")
	// ErrDeleted is returned when a deleted game is asked to change.
	ErrDeleted = domain.Conflict("Game is deleted")
	// ErrDeviceSignInDisabled refuses a device sign-in to a game that turned
	// it off: its players sign in only with credentials that prove more.
	ErrDeviceSignInDisabled = domain.BadRequest("Device sign-in is disabled for this game")
)

// Game is the aggregate root. Its account and slug never change; its name,
// Steam settings and sign-in options can, until it is soft-deleted, which is
// final.
type Game struct {
	id         id.GameID
	accountID  id.AccountID
	name       Name
	slug       Slug
	steamAppID SteamAppID
	// steamKey is the Steam Web API key as the application sealed it: the
	// domain never holds the plaintext, only whether there is one.
	steamKey []byte
	// deviceSignIn lets clients sign in with a device ID alone.
	deviceSignIn bool
	createdAt    time.Time
	updatedAt    time.Time
	deletedAt    time.Time
}

// New creates a live game without Steam settings, open to device sign-in.
func New(accountID id.AccountID, name Name, slug Slug, now time.Time) (*Game, error) {
	switch {
	case accountID.IsZero():
		return nil, domain.Missing("account_id")
	case name.IsZero():
		return nil, domain.Missing("name")
	case slug.IsZero():
		return nil, domain.Missing("slug")
	}
	now = domain.Timestamp(now)
	return &Game{
		id: id.New[id.Game](), accountID: accountID, name: name, slug: slug, deviceSignIn: true,
		createdAt: now, updatedAt: now,
	}, nil
}

// WithSlug is the same new game under another slug: how a derived slug that
// is taken gets its "-2", "-3", ….
func (g *Game) WithSlug(slug Slug) *Game {
	cp := *g
	cp.slug = slug
	return &cp
}

// Snapshot is a game's whole state as a store keeps it.
type Snapshot struct {
	ID         id.GameID
	AccountID  id.AccountID
	Name       string
	Slug       string
	SteamAppID string // "" for none
	SteamKey   []byte // sealed; nil for none
	// DeviceSignIn: clients may sign in with a device ID alone.
	DeviceSignIn bool
	CreatedAt    time.Time
	UpdatedAt    time.Time
	DeletedAt    time.Time // zero while live
}

// Rehydrate rebuilds a game from a store's snapshot. It is for store
// adapters only: it trusts the snapshot, which was valid when written.
func Rehydrate(s Snapshot) *Game {
	g := &Game{
		id: s.ID, accountID: s.AccountID, name: Name{value: s.Name}, slug: Slug{value: s.Slug},
		steamAppID: SteamAppID{value: s.SteamAppID}, steamKey: bytes.Clone(s.SteamKey), deviceSignIn: s.DeviceSignIn,
		createdAt: s.CreatedAt.UTC(), updatedAt: s.UpdatedAt.UTC(),
	}
	if !s.DeletedAt.IsZero() {
		g.deletedAt = s.DeletedAt.UTC()
	}
	return g
}

// Snapshot returns the game's state for a store to write.
func (g *Game) Snapshot() Snapshot {
	return Snapshot{
		ID: g.id, AccountID: g.accountID, Name: g.name.value, Slug: g.slug.value,
		SteamAppID: g.steamAppID.value, SteamKey: bytes.Clone(g.steamKey), DeviceSignIn: g.deviceSignIn,
		CreatedAt: g.createdAt, UpdatedAt: g.updatedAt, DeletedAt: g.deletedAt,
	}
}

// Change is what an update asks of a game; nil fields stay as they are.
// ClearSteamAppID and ClearSteamKey remove a setting.
type Change struct {
	Name            *Name
	SteamAppID      *SteamAppID
	ClearSteamAppID bool
	// SteamKey is the new key, already sealed.
	SteamKey      []byte
	ClearSteamKey bool
	DeviceSignIn  *bool
}

// Apply makes the changes and reports whether anything changed; only a
// change advances updated_at.
func (g *Game) Apply(c Change, now time.Time) (bool, error) {
	if g.IsDeleted() {
		return false, ErrDeleted
	}
	before := g.Snapshot()
	if c.Name != nil {
		g.name = *c.Name
	}
	switch {
	case c.ClearSteamAppID:
		g.steamAppID = SteamAppID{}
	case c.SteamAppID != nil:
		g.steamAppID = *c.SteamAppID
	}
	switch {
	case c.ClearSteamKey:
		g.steamKey = nil
	case c.SteamKey != nil:
		g.steamKey = bytes.Clone(c.SteamKey)
	}
	if c.DeviceSignIn != nil {
		g.deviceSignIn = *c.DeviceSignIn
	}
	after := g.Snapshot()
	changed := before.Name != after.Name || before.SteamAppID != after.SteamAppID ||
		!bytes.Equal(before.SteamKey, after.SteamKey) || before.DeviceSignIn != after.DeviceSignIn
	if changed {
		g.updatedAt = domain.Timestamp(now)
	}
	return changed, nil
}

// Delete soft-deletes the game. It cannot be undone.
func (g *Game) Delete(now time.Time) error {
	if g.IsDeleted() {
		return ErrDeleted
	}
	now = domain.Timestamp(now)
	g.deletedAt, g.updatedAt = now, now
	return nil
}

func (g *Game) ID() id.GameID           { return g.id }
func (g *Game) AccountID() id.AccountID { return g.accountID }
func (g *Game) Name() Name              { return g.name }
func (g *Game) Slug() Slug              { return g.slug }
func (g *Game) SteamAppID() SteamAppID  { return g.steamAppID }
func (g *Game) CreatedAt() time.Time    { return g.createdAt }
func (g *Game) UpdatedAt() time.Time    { return g.updatedAt }
func (g *Game) IsDeleted() bool         { return !g.deletedAt.IsZero() }

// DeviceSignIn reports whether clients may sign in with a device ID alone.
func (g *Game) DeviceSignIn() bool { return g.deviceSignIn }

// DeletedAt is zero while the game is live.
func (g *Game) DeletedAt() time.Time { return g.deletedAt }

// SealedSteamKey is the sealed Steam Web API key, nil when there is none.
func (g *Game) SealedSteamKey() []byte { return bytes.Clone(g.steamKey) }

// SteamConfigured reports whether the game has both Steam settings, which
// Steam sign-in needs.
func (g *Game) SteamConfigured() bool { return !g.steamAppID.IsZero() && len(g.steamKey) > 0 }
