// Package player holds the player use cases: the studio's (list, read,
// link and unlink identities, ban, delete, restore, erase, export) and what
// a game client's own calls need once the session slice has checked its
// token, nonce and credential.
package player

import (
	"context"
	"errors"
	"time"

	"github.com/leadr-oss/identity/application/auth"
	"github.com/leadr-oss/identity/application/cursor"
	"github.com/leadr-oss/identity/domain"
	"github.com/leadr-oss/identity/domain/event"
	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/domain/identity"
	"github.com/leadr-oss/identity/domain/player"
	"github.com/leadr-oss/identity/domain/tenancy"
	"github.com/leadr-oss/identity/ports"
	"github.com/leadr-oss/identity/ports/paging"
)

// Deps are what the use cases drive.
type Deps struct {
	Players    ports.PlayerRepository
	Identities ports.IdentityRepository
	Cursors    paging.Cursors
	Now        ports.Clock
	// Grace is how long a deleted player can be restored before the purge.
	Grace time.Duration
}

// Service implements ports.Players.
type Service struct{ d Deps }

var _ ports.Players = (*Service)(nil)

func NewService(d Deps) *Service { return &Service{d: d} }

// errMoved: the identity left the player it was read in before that
// player's lock was taken. The link reads it again.
var errMoved = errors.New("the identity moved to another player")

// linkAttempts bounds the re-reads of a link whose identity keeps moving
// (merged away each time by concurrent merges): after that, the answer is
// a conflict the caller may retry.
const linkAttempts = 5

var errBusy = domain.Conflict("The identity is being linked elsewhere; try again")

func (s *Service) Get(ctx context.Context, p tenancy.Principal, q ports.GetPlayer) (*player.Player, error) {
	if err := auth.CheckNamed(p, q.AccountID); err != nil {
		return nil, err
	}
	pl, err := s.d.Players.Get(ctx, q.ID, s.d.Now())
	if err != nil {
		return nil, err
	}
	if err := auth.CheckAccess(p, q.AccountID, pl.AccountID(), player.ErrForbidden, player.ErrNotFound); err != nil {
		return nil, err
	}
	return pl, nil
}

func (s *Service) List(ctx context.Context, p tenancy.Principal, q ports.ListPlayers) (paging.Page[*player.Player], error) {
	f := ports.PlayerFilter{GameID: q.GameID}
	var problems []error
	if q.Kind != nil {
		kind, err := identity.ParseKindFilter(*q.Kind)
		if err != nil {
			return paging.Page[*player.Player]{}, err
		}
		f.Kind = kind
	}
	if q.ExternalKey != nil {
		f.ExternalKey = *q.ExternalKey
		if f.ExternalKey == "" || q.Kind == nil {
			problems = append(problems, domain.BadRequest("external_key filters together with kind"))
		}
	}
	if err := errors.Join(problems...); err != nil {
		return paging.Page[*player.Player]{}, err
	}
	if q.Banned != nil {
		f.Banned = "false"
		if *q.Banned {
			f.Banned = "true"
		}
	}
	f.Deleted = q.Deleted != nil && *q.Deleted
	scope, err := auth.ListScope(p, q.AccountID)
	if err != nil {
		return paging.Page[*player.Player]{}, err
	}
	f.AccountID = scope
	now := s.d.Now()
	return cursor.List(s.d.Cursors, ports.PlayerSchema, q.Page, cursor.Fingerprint(f),
		func(r paging.Request) (paging.Result[*player.Player], error) { return s.d.Players.List(ctx, f, r, now) })
}

// update changes one player of an account the caller may act on; the
// owner check runs under the row lock, so a refused change writes nothing.
func (s *Service) update(ctx context.Context, p tenancy.Principal, named id.AccountID, playerID id.PlayerID, fn func(ctx context.Context, pl *player.Player) error) (*player.Player, error) {
	if err := auth.CheckNamed(p, named); err != nil {
		return nil, err
	}
	ps, err := s.d.Players.Update(ctx, []id.PlayerID{playerID}, s.d.Now(), func(ctx context.Context, ps []*player.Player) error {
		if err := auth.CheckAccess(p, named, ps[0].AccountID(), player.ErrForbidden, player.ErrNotFound); err != nil {
			return err
		}
		return fn(ctx, ps[0])
	})
	if err != nil {
		return nil, err
	}
	return ps[0], nil
}

// Link brings an existing identity into the player: if another player holds
// it, only with Merge, which moves every identity of that player.
func (s *Service) Link(ctx context.Context, p tenancy.Principal, c ports.LinkIdentity) (*player.Player, bool, error) {
	if c.IdentityID.IsZero() {
		return nil, false, domain.Missing("identity_id")
	}
	if err := auth.CheckNamed(p, c.AccountID); err != nil {
		return nil, false, err
	}
	check := func(pl *player.Player) error {
		return auth.CheckAccess(p, c.AccountID, pl.AccountID(), player.ErrForbidden, player.ErrNotFound)
	}
	// The player is checked first: a stranger learns nothing of the
	// identity.
	into, err := s.d.Players.Get(ctx, c.PlayerID, s.d.Now())
	if err != nil {
		return nil, false, err
	}
	if err := check(into); err != nil {
		return nil, false, err
	}
	if into.IsPurged() {
		return nil, false, player.ErrNotFound // a tombstone holds nothing
	}
	return s.link(ctx, c.PlayerID, c.IdentityID, c.Merge, check)
}

// link moves identityID's player into intoID when merge allows: the
// identity is read, then both players are locked (in the order of their
// IDs) and the identity is found in the one it was read in, or read again.
func (s *Service) link(ctx context.Context, intoID id.PlayerID, identityID id.IdentityID, merge bool, check func(*player.Player) error) (*player.Player, bool, error) {
	for range linkAttempts {
		i, err := s.d.Identities.Get(ctx, identityID)
		if err != nil {
			return nil, false, err
		}
		fromID := i.PlayerID()
		if fromID == intoID {
			into, err := s.d.Players.Get(ctx, intoID, s.d.Now())
			if err != nil {
				return nil, false, err
			}
			return into, false, check(into)
		}
		now := s.d.Now()
		ps, err := s.d.Players.Update(ctx, []id.PlayerID{intoID, fromID}, now, func(ctx context.Context, ps []*player.Player) error {
			into, from := ps[0], ps[1]
			if err := check(into); err != nil {
				return err
			}
			if !from.Holds(identityID) {
				return errMoved
			}
			if from.AccountID() != into.AccountID() || from.GameID() != into.GameID() {
				return identity.ErrNotFound
			}
			// A ban keeps links into and out of the player alike, merge or
			// not; so does a deletion.
			for _, x := range []*player.Player{into, from} {
				if err := x.CheckNotBanned(now); err != nil {
					return err
				}
			}
			if into.IsDeleted() {
				return player.ErrDeleted
			}
			if !merge {
				return player.OtherPlayer(from.ID())
			}
			return into.Absorb(from, now)
		})
		if errors.Is(err, player.ErrNotFound) {
			// Either player may be gone: the caller's is an answer, the
			// identity's was closed by a merge that committed in between.
			if _, gerr := s.d.Players.Get(ctx, intoID, now); gerr != nil {
				return nil, false, gerr
			}
			continue
		}
		if errors.Is(err, errMoved) {
			continue
		}
		if err != nil {
			return nil, false, err
		}
		return ps[0], true, nil
	}
	return nil, false, errBusy
}

func (s *Service) Unlink(ctx context.Context, p tenancy.Principal, c ports.UnlinkIdentity) (*identity.Identity, error) {
	if c.IdentityID.IsZero() {
		return nil, domain.Missing("identity_id")
	}
	var out *identity.Identity
	_, err := s.update(ctx, p, c.AccountID, c.PlayerID, func(ctx context.Context, pl *player.Player) error {
		var err error
		out, err = s.unlink(ctx, pl, c.IdentityID)
		return err
	})
	return out, err
}

func (s *Service) unlink(ctx context.Context, pl *player.Player, identityID id.IdentityID) (*identity.Identity, error) {
	alone, err := pl.Unlink(identityID, s.d.Now())
	if err != nil {
		return nil, err
	}
	if err := s.d.Players.Create(ctx, alone); err != nil {
		return nil, err
	}
	return alone.Identities()[0], nil
}

func (s *Service) Ban(ctx context.Context, p tenancy.Principal, c ports.CreateBan) (*player.Ban, error) {
	if c.Reason == nil {
		return nil, domain.Missing("reason")
	}
	reason, err := player.ParseReason(*c.Reason)
	if err != nil {
		return nil, err
	}
	var expires time.Time
	if c.ExpiresAt != nil {
		expires = *c.ExpiresAt
		if err := player.CheckExpiry(expires, s.d.Now()); err != nil {
			return nil, err
		}
	}
	var out *player.Ban
	_, err = s.update(ctx, p, c.AccountID, c.PlayerID, func(ctx context.Context, pl *player.Player) error {
		// The player's sessions end with the ban: the session slice hears
		// of player.banned in this transaction.
		out, err = pl.BanFor(reason, expires, event.ActorOf(ctx), s.d.Now())
		return err
	})
	return out, err
}

func (s *Service) UpdateBan(ctx context.Context, p tenancy.Principal, c ports.UpdateBan) (*player.Ban, error) {
	var expires *time.Time
	if c.ExpiresAtSet {
		var e time.Time
		if c.ExpiresAt != nil {
			e = *c.ExpiresAt
			if err := player.CheckExpiry(e, s.d.Now()); err != nil {
				return nil, err
			}
		}
		expires = &e
	}
	var out *player.Ban
	_, err := s.update(ctx, p, c.AccountID, c.PlayerID, func(ctx context.Context, pl *player.Player) error {
		if b := pl.Ban(); b != nil && b.ID() == c.BanID {
			if err := pl.ChangeBan(c.BanID, expires, c.Lift, s.d.Now()); err != nil {
				return err
			}
			out = pl.ChangedBan()
			return nil
		}
		// Not the ban in force: one of the history, or none.
		bans, err := s.d.Players.Bans(ctx, pl.ID())
		if err != nil {
			return err
		}
		for _, b := range bans {
			if b.ID() == c.BanID {
				if expires != nil {
					return player.ErrBanNotActive
				}
				out = b
				return nil
			}
		}
		return player.ErrBanNotFound
	})
	return out, err
}

func (s *Service) Bans(ctx context.Context, p tenancy.Principal, q ports.GetPlayer) ([]*player.Ban, error) {
	if _, err := s.Get(ctx, p, q); err != nil {
		return nil, err
	}
	return s.d.Players.Bans(ctx, q.ID)
}

// Delete soft-deletes (its identities with it, whose deletion ends their
// sessions), or with Erase purges at once.
func (s *Service) Delete(ctx context.Context, p tenancy.Principal, c ports.DeletePlayer) (*player.Player, error) {
	if !c.Erase {
		return s.update(ctx, p, c.AccountID, c.ID, func(_ context.Context, pl *player.Player) error {
			return pl.Delete(s.d.Grace, s.d.Now())
		})
	}
	pl, err := s.Get(ctx, p, ports.GetPlayer{ID: c.ID, AccountID: c.AccountID})
	if err != nil {
		return nil, err
	}
	if pl.IsPurged() {
		return pl, nil
	}
	return s.d.Players.Erase(ctx, c.ID, s.d.Now())
}

func (s *Service) Restore(ctx context.Context, p tenancy.Principal, q ports.GetPlayer) (*player.Player, error) {
	return s.update(ctx, p, q.AccountID, q.ID, func(_ context.Context, pl *player.Player) error {
		return pl.Restore(s.d.Now())
	})
}

func (s *Service) Export(ctx context.Context, p tenancy.Principal, q ports.GetPlayer) (ports.PlayerExport, error) {
	if _, err := s.Get(ctx, p, q); err != nil {
		return ports.PlayerExport{}, err
	}
	return s.d.Players.Export(ctx, q.ID, s.d.Now())
}

// LinkCredential: a key no identity of the game has becomes a new identity
// of the caller's player; one the player holds is answered as it is; one
// of another player needs Merge.
func (s *Service) LinkCredential(ctx context.Context, c ports.LinkCredential) (*identity.Identity, bool, error) {
	key, err := identity.NewExternalKey(c.Kind, c.Key)
	if err != nil {
		return nil, false, err
	}
	var out, existing *identity.Identity
	var created bool
	var intoID id.PlayerID
	err = s.own(ctx, c.PlayerOf, func(ctx context.Context, into *player.Player) error {
		out, existing, created, intoID = nil, nil, false, into.ID()
		if err := into.CheckNotBanned(s.d.Now()); err != nil {
			return err
		}
		if into.IsDeleted() {
			return player.ErrDeleted
		}
		if len(into.Identities()) >= player.MaxIdentities {
			return player.ErrTooManyIdentities
		}
		fresh, err := identity.New(into.AccountID(), into.GameID(), key, identity.DisplayName{}, s.d.Now())
		if err != nil {
			return err
		}
		if _, err := fresh.MoveTo(into.ID(), s.d.Now()); err != nil {
			return err
		}
		i, made, err := s.d.Identities.GetOrCreate(ctx, fresh, func(*identity.Identity) error { return nil })
		if err != nil {
			return err
		}
		out, created = i, made
		if !made && i.PlayerID() != into.ID() {
			existing = i
		}
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	if existing == nil {
		return out, created, nil
	}
	if _, _, err := s.link(ctx, intoID, existing.ID(), c.Merge, func(*player.Player) error { return nil }); err != nil {
		return nil, false, err
	}
	i, err := s.d.Identities.Get(ctx, existing.ID())
	return i, false, err
}

func (s *Service) UnlinkOwn(ctx context.Context, sessionIdentity, identityID id.IdentityID) (*identity.Identity, error) {
	if identityID == sessionIdentity {
		return nil, player.ErrOwnIdentity
	}
	var out *identity.Identity
	err := s.own(ctx, sessionIdentity, func(ctx context.Context, p *player.Player) error {
		var err error
		out, err = s.unlink(ctx, p, identityID)
		return err
	})
	return out, err
}

func (s *Service) DeleteOwn(ctx context.Context, sessionIdentity id.IdentityID) (*player.Player, error) {
	var out *player.Player
	err := s.own(ctx, sessionIdentity, func(_ context.Context, p *player.Player) error {
		out = p
		return p.Delete(s.d.Grace, s.d.Now())
	})
	return out, err
}

// own changes the player of the session's identity: read, then locked and
// asked again whether it still holds the identity, which a merge or an
// unlink may have moved in between (then it is read again).
func (s *Service) own(ctx context.Context, sessionIdentity id.IdentityID, fn func(ctx context.Context, p *player.Player) error) error {
	for range linkAttempts {
		i, err := s.d.Identities.Get(ctx, sessionIdentity)
		if err != nil {
			return err
		}
		_, err = s.d.Players.Update(ctx, []id.PlayerID{i.PlayerID()}, s.d.Now(), func(ctx context.Context, ps []*player.Player) error {
			if !ps[0].Holds(sessionIdentity) {
				return errMoved
			}
			return fn(ctx, ps[0])
		})
		if errors.Is(err, errMoved) || errors.Is(err, player.ErrNotFound) {
			continue
		}
		return err
	}
	return errBusy
}
