package game

import "github.com/leadr-oss/identity/domain/event"

// Created is the event of g coming to exist.
func Created(g *Game) event.Event {
	return event.Of("created", g.accountID, subject(g), g.createdAt, nil, g)
}

// Changed is the event of a game going from before to after: deleted, or
// else updated.
func Changed(before, after *Game) event.Event {
	if after.IsDeleted() && !before.IsDeleted() {
		e := event.Of("deleted", after.accountID, subject(after), after.updatedAt, before, after)
		e.ChangesAccess = true // its identities' sessions are refused
		return e
	}
	return event.Of("updated", after.accountID, subject(after), after.updatedAt, before, after)
}

func subject(g *Game) event.Subject { return event.Subject{Resource: "game", ID: g.id.String()} }
