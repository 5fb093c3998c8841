package session

import "github.com/leadr-oss/identity/domain/event"

// Created is the event of a sign-in: s begins.
func Created(s *Session) event.Event {
	return event.Of("created", s.accountID, subject(s), s.createdAt, nil, s)
}

// Changed is the event of a session going from before to after: revoked,
// or else updated. (Refreshes record none: they are not changes anyone
// outside the session needs to hear of.)
func Changed(before, after *Session) event.Event {
	verb := "updated"
	if after.IsRevoked() && !before.IsRevoked() {
		verb = "revoked"
	}
	e := event.Of(verb, after.accountID, subject(after), after.updatedAt, before, after)
	e.ChangesAccess = after.IsRevoked()
	return e
}

// ReuseDetected is the event of a rotated refresh token presented again,
// which revoked the session.
func ReuseDetected(before, after *Session) event.Event {
	e := event.Of("reuse_detected", after.accountID, subject(after), after.updatedAt, before, after)
	e.ChangesAccess = true
	return e
}

func subject(s *Session) event.Subject { return event.Subject{Resource: "session", ID: s.id.String()} }
