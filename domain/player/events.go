package player

import (
	"time"

	"github.com/leadr-oss/identity/domain/event"
	"github.com/leadr-oss/identity/domain/id"
)

// Created is the event of p coming to exist: with a new identity, or by
// an unlink.
func Created(p *Player) event.Event {
	return event.Of("created", p.accountID, subject(p.id), p.createdAt, nil, p)
}

// Changed is the event of a player going from before to after: banned,
// unbanned, deleted, restored, or else nothing anyone outside needs (a link
// records its identities' events). Bans and deletions change access: the
// player's sessions are refused.
func Changed(before, after *Player) event.Event {
	var verb string
	switch bb, ab := before.Ban(), after.ChangedBan(); {
	case after.IsDeleted() && !before.IsDeleted():
		verb = "deleted"
	case before.IsDeleted() && !after.IsDeleted():
		verb = "restored"
	case ab != nil && ab.IsLifted() && bb != nil:
		verb = "unbanned"
	case ab != nil && (bb == nil || ab.Snapshot() != bb.Snapshot()):
		verb = "banned"
	default:
		return event.Event{}
	}
	e := event.Of(verb, after.accountID, subject(after.id), after.updatedAt, before, after)
	e.ChangesAccess = verb == "banned" || verb == "deleted"
	return e
}

// Merged is the event of from closed by a merge into into: data
// {"from","into"}, subject the closed player.
func Merged(from, into *Player) event.Event {
	return event.Of("merged", from.accountID, subject(from.id), from.updatedAt, nil, Merge{From: from.id, Into: into.id})
}

// Merge is what player.merged says.
type Merge struct {
	From, Into id.PlayerID
}

// Tombstone is what is left of a purged player.
type Tombstone struct {
	ID        id.PlayerID
	AccountID id.AccountID
	GameID    id.GameID
	PurgedAt  time.Time
}

// Tombstone is the purged player as it is shown.
func (p *Player) Tombstone() Tombstone {
	return Tombstone{ID: p.id, AccountID: p.accountID, GameID: p.gameID, PurgedAt: p.purgedAt}
}

// Purged is the event of p erased for good: its data is the tombstone.
func Purged(p *Player) event.Event {
	e := event.Of("purged", p.accountID, subject(p.id), p.purgedAt, nil, p.Tombstone())
	e.ChangesAccess = true
	return e
}

func subject(p id.PlayerID) event.Subject { return event.Subject{Resource: "player", ID: p.String()} }
