package identity

import (
	"time"

	"github.com/leadr-oss/identity/domain"
	"github.com/leadr-oss/identity/domain/event"
	"github.com/leadr-oss/identity/domain/id"
)

// Created is the event of i coming to exist.
func Created(i *Identity) event.Event {
	return event.Of("created", i.accountID, subject(i), i.createdAt, nil, i)
}

// Changed is the event of an identity going from before to after: deleted,
// restored, or else updated.
func Changed(before, after *Identity) event.Event {
	switch {
	case after.IsDeleted() && !before.IsDeleted():
		e := event.Of("deleted", after.accountID, subject(after), after.updatedAt, before, after)
		e.ChangesAccess = true // its sessions are refused
		return e
	case before.IsDeleted() && !after.IsDeleted():
		return event.Of("restored", after.accountID, subject(after), after.updatedAt, before, after)
	}
	return event.Of("updated", after.accountID, subject(after), after.updatedAt, before, after)
}

// Linked is the event of an identity joining another player: linked to it,
// or moved with the rest of its player in a merge.
func Linked(before, after *Identity) event.Event {
	return event.Of("linked", after.accountID, subject(after), after.updatedAt, before, after)
}

// Unlinked is the event of an identity leaving its player for a new one of
// its own.
func Unlinked(before, after *Identity) event.Event {
	return event.Of("unlinked", after.accountID, subject(after), after.updatedAt, before, after)
}

// Tombstone is what is left of a purged identity: nothing personal.
type Tombstone struct {
	ID        id.IdentityID
	AccountID id.AccountID
	GameID    id.GameID
	PlayerID  id.PlayerID
	PurgedAt  time.Time
}

// Purged is the event of i erased for good at now: its data is t, which
// holds nothing personal.
func Purged(i *Identity, now time.Time) event.Event {
	t := Tombstone{ID: i.id, AccountID: i.accountID, GameID: i.gameID, PlayerID: i.playerID, PurgedAt: domain.Timestamp(now)}
	e := event.Of("purged", i.accountID, subject(i), t.PurgedAt, nil, t)
	e.ChangesAccess = true
	return e
}

func subject(i *Identity) event.Subject {
	return event.Subject{Resource: "identity", ID: i.id.String()}
}
