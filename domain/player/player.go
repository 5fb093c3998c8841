// Package player is the Player aggregate: one person in one game, who signs
// in with any of the identities it holds; it can be banned, deleted,
// restored within a grace period, and purged, which leaves a tombstone.
package player

import (
	"time"

	"github.com/leadr-oss/identity/domain"
	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/domain/identity"
)

var (
	ErrNotFound = domain.NotFound("Player not found")
	// ErrForbidden is the access policy's answer for another account's player.
	ErrForbidden = domain.Forbidden("You do not have access to this player's account")
	// ErrBanned refuses what a banned player may not do; Banned tells when
	// the ban ends.
	ErrBanned        = domain.Forbidden("Player is banned")
	ErrAlreadyBanned = domain.Conflict("Player is already banned")
	// ErrOtherPlayer refuses a link to an identity another player holds,
	// unless the caller asks for a merge; OtherPlayer names that player.
	ErrOtherPlayer = domain.Conflict("Identity belongs to another player")
	// ErrLastIdentity: a player always holds at least one identity.
	ErrLastIdentity = domain.Conflict("Cannot unlink the last identity")
	// ErrOwnIdentity: a session cannot unlink the identity it signed in as.
	ErrOwnIdentity = domain.Conflict("Cannot unlink the identity of this session")
	// ErrIdentityNotFound is an identity that is not the player's (or not
	// there at all): linking and unlinking name only the player's.
	ErrIdentityNotFound = identity.ErrNotFound
	// ErrDeleted refuses to change a deleted player other than restoring
	// or purging it.
	ErrDeleted = domain.Conflict("Player is deleted")
	// ErrTooManyIdentities bounds what one player holds, and so what a
	// client's links can write and every read of the player loads.
	ErrTooManyIdentities = domain.Conflict("Player has too many identities")
)

// MaxIdentities is the most identities one player holds: a person's
// devices and accounts, with room to spare.
const MaxIdentities = 100

// Banned is ErrBanned telling when the ban ends (zero: never).
func Banned(expiresAt time.Time) error {
	var until any
	if !expiresAt.IsZero() {
		until = expiresAt
	}
	return ErrBanned.WithFacts(map[string]any{"expires_at": until})
}

// OtherPlayer is ErrOtherPlayer naming the player that holds the identity.
func OtherPlayer(p id.PlayerID) error {
	return ErrOtherPlayer.WithFacts(map[string]any{"player_id": p.String()})
}

// Player is the aggregate root. It holds its identities: the live ones, or,
// once deleted, the ones deleted with it, which a restore brings back. A
// merge closes a player: its identities move to the other, and it is gone.
type Player struct {
	id         id.PlayerID
	accountID  id.AccountID
	gameID     id.GameID
	identities []*identity.Identity
	// ban is the ban in force when the player was read (nil: none), or the
	// one this change made, changed or lifted.
	ban        *Ban
	createdAt  time.Time
	updatedAt  time.Time
	deletedAt  time.Time
	purgeAfter time.Time
	purgedAt   time.Time
	mergedInto id.PlayerID
}

// Of is the player a new identity came with (identity.New names it).
func Of(i *identity.Identity) *Player {
	return &Player{
		id: i.PlayerID(), accountID: i.AccountID(), gameID: i.GameID(),
		identities: []*identity.Identity{i},
		createdAt:  i.CreatedAt(), updatedAt: i.CreatedAt(),
	}
}

// Snapshot is a player's whole state as a store keeps it.
type Snapshot struct {
	ID         id.PlayerID
	AccountID  id.AccountID
	GameID     id.GameID
	Identities []*identity.Identity
	Ban        *BanSnapshot // nil: none in force
	CreatedAt  time.Time
	UpdatedAt  time.Time
	DeletedAt  time.Time // zero while live
	PurgeAfter time.Time
	PurgedAt   time.Time
	MergedInto id.PlayerID
}

// Rehydrate rebuilds a player from a store's snapshot; it is for store
// adapters only.
func Rehydrate(s Snapshot) *Player {
	p := &Player{
		id: s.ID, accountID: s.AccountID, gameID: s.GameID, identities: s.Identities,
		createdAt: s.CreatedAt.UTC(), updatedAt: s.UpdatedAt.UTC(), deletedAt: utc(s.DeletedAt),
		purgeAfter: utc(s.PurgeAfter), purgedAt: utc(s.PurgedAt), mergedInto: s.MergedInto,
	}
	if s.Ban != nil {
		p.ban = RehydrateBan(*s.Ban)
	}
	return p
}

func utc(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC()
}

// Snapshot returns the player's state for a store to write. Its identities
// are the aggregates themselves: the store compares them with what it read.
func (p *Player) Snapshot() Snapshot {
	s := Snapshot{
		ID: p.id, AccountID: p.accountID, GameID: p.gameID, Identities: p.identities,
		CreatedAt: p.createdAt, UpdatedAt: p.updatedAt, DeletedAt: p.deletedAt,
		PurgeAfter: p.purgeAfter, PurgedAt: p.purgedAt, MergedInto: p.mergedInto,
	}
	if p.ban != nil {
		b := p.ban.Snapshot()
		s.Ban = &b
	}
	return s
}

// Clone is a deep copy: what a store keeps as the player before a change.
func (p *Player) Clone() *Player {
	c := *p
	c.identities = make([]*identity.Identity, len(p.identities))
	for i, x := range p.identities {
		c.identities[i] = identity.Rehydrate(x.Snapshot())
	}
	if p.ban != nil {
		b := *p.ban
		c.ban = &b
	}
	return &c
}

func (p *Player) ID() id.PlayerID                  { return p.id }
func (p *Player) AccountID() id.AccountID          { return p.accountID }
func (p *Player) GameID() id.GameID                { return p.gameID }
func (p *Player) CreatedAt() time.Time             { return p.createdAt }
func (p *Player) UpdatedAt() time.Time             { return p.updatedAt }
func (p *Player) DeletedAt() time.Time             { return p.deletedAt }
func (p *Player) PurgeAfter() time.Time            { return p.purgeAfter }
func (p *Player) PurgedAt() time.Time              { return p.purgedAt }
func (p *Player) MergedInto() id.PlayerID          { return p.mergedInto }
func (p *Player) IsDeleted() bool                  { return !p.deletedAt.IsZero() }
func (p *Player) IsPurged() bool                   { return !p.purgedAt.IsZero() }
func (p *Player) IsClosed() bool                   { return !p.mergedInto.IsZero() }
func (p *Player) Identities() []*identity.Identity { return p.identities }

// Ban is the ban in force (nil: none); a ban lifted by this change is not.
func (p *Player) Ban() *Ban {
	if p.ban == nil || !p.ban.liftedAt.IsZero() {
		return nil
	}
	return p.ban
}

// ChangedBan is the ban this change made or changed, lifted ones included,
// for the store to save; nil when none.
func (p *Player) ChangedBan() *Ban { return p.ban }

// Holds reports whether i is one of the player's identities.
func (p *Player) Holds(identityID id.IdentityID) bool { return p.identity(identityID) != nil }

func (p *Player) identity(identityID id.IdentityID) *identity.Identity {
	for _, i := range p.identities {
		if i.ID() == identityID {
			return i
		}
	}
	return nil
}

// live refuses a change of a player that is deleted (or gone).
func (p *Player) live() error {
	switch {
	case p.IsPurged() || p.IsClosed():
		return ErrNotFound
	case p.IsDeleted():
		return ErrDeleted
	}
	return nil
}

// CheckNotBanned is ErrBanned (with when it ends) while a ban is in force
// at now.
func (p *Player) CheckNotBanned(now time.Time) error {
	if b := p.Ban(); b != nil && b.ActiveAt(now) {
		return Banned(b.expiresAt)
	}
	return nil
}

// Link makes i one of the player's identities: a new identity, or one moved
// from another player in a merge. Neither player may be banned.
func (p *Player) Link(i *identity.Identity, now time.Time) error {
	if err := p.live(); err != nil {
		return err
	}
	if err := p.CheckNotBanned(now); err != nil {
		return err
	}
	if i.GameID() != p.gameID || i.AccountID() != p.accountID {
		return ErrIdentityNotFound
	}
	if p.Holds(i.ID()) {
		return nil
	}
	if len(p.identities) >= MaxIdentities {
		return ErrTooManyIdentities
	}
	if _, err := i.MoveTo(p.id, now); err != nil {
		return err
	}
	p.identities = append(p.identities, i)
	p.updatedAt = domain.Timestamp(now)
	return nil
}

// Absorb is the merge: every identity of from moves into p, and from is
// closed. The caller proved a credential of each.
func (p *Player) Absorb(from *Player, now time.Time) error {
	if from.id == p.id {
		return nil
	}
	for _, x := range []*Player{p, from} {
		if err := x.live(); err != nil {
			return err
		}
		if err := x.CheckNotBanned(now); err != nil {
			return err
		}
	}
	if from.gameID != p.gameID || from.accountID != p.accountID {
		return ErrNotFound
	}
	if len(p.identities)+len(from.identities) > MaxIdentities {
		return ErrTooManyIdentities
	}
	for _, i := range from.identities {
		if err := p.Link(i, now); err != nil {
			return err
		}
	}
	from.identities = nil
	from.mergedInto = p.id
	from.updatedAt = domain.Timestamp(now)
	return nil
}

// Unlink takes the identity out of the player into a new player of its own,
// which it returns. The last identity cannot go.
func (p *Player) Unlink(identityID id.IdentityID, now time.Time) (*Player, error) {
	if err := p.live(); err != nil {
		return nil, err
	}
	if err := p.CheckNotBanned(now); err != nil {
		return nil, err
	}
	i := p.identity(identityID)
	if i == nil {
		return nil, ErrIdentityNotFound
	}
	if len(p.identities) == 1 {
		return nil, ErrLastIdentity
	}
	now = domain.Timestamp(now)
	alone := &Player{id: id.New[id.Player](), accountID: p.accountID, gameID: p.gameID, createdAt: now, updatedAt: now}
	if _, err := i.MoveTo(alone.id, now); err != nil {
		return nil, err
	}
	alone.identities = []*identity.Identity{i}
	p.identities = deleteIdentity(p.identities, identityID)
	p.updatedAt = now
	return alone, nil
}

func deleteIdentity(list []*identity.Identity, identityID id.IdentityID) []*identity.Identity {
	out := make([]*identity.Identity, 0, len(list))
	for _, i := range list {
		if i.ID() != identityID {
			out = append(out, i)
		}
	}
	return out
}

// Delete soft-deletes the player and its identities, to be purged after
// grace. Deleting it again changes nothing.
func (p *Player) Delete(grace time.Duration, now time.Time) error {
	switch {
	case p.IsPurged() || p.IsClosed():
		return ErrNotFound
	case p.IsDeleted():
		return nil
	}
	now = domain.Timestamp(now)
	for _, i := range p.identities {
		if err := i.Delete(now); err != nil {
			return err
		}
	}
	p.deletedAt, p.purgeAfter, p.updatedAt = now, now.Add(grace), now
	return nil
}

// Restore undoes Delete before purge_after: the identities deleted with the
// player come back (whether their keys are free is the store's to say).
func (p *Player) Restore(now time.Time) error {
	switch {
	case p.IsPurged() || p.IsClosed():
		return ErrNotFound
	case !p.IsDeleted():
		return nil
	case !now.Before(p.purgeAfter):
		return ErrNotFound
	}
	for _, i := range p.identities {
		if err := i.Restore(p.purgeAfter.Sub(p.deletedAt), now); err != nil {
			return err
		}
	}
	p.deletedAt, p.purgeAfter, p.updatedAt = time.Time{}, time.Time{}, domain.Timestamp(now)
	return nil
}

// Purge erases the player for good: its identities go, and what is left is
// the tombstone.
func (p *Player) Purge(now time.Time) error {
	if p.IsPurged() || p.IsClosed() {
		return ErrNotFound
	}
	now = domain.Timestamp(now)
	p.identities = nil
	p.ban = nil
	if p.deletedAt.IsZero() {
		p.deletedAt = now
	}
	p.purgeAfter, p.purgedAt, p.updatedAt = now, now, now
	return nil
}
