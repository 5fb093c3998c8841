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
	return event.Of(verb, after.accountID, subject(after), after.updatedAt, before, after)
}

// ReuseDetected is the event of a rotated refresh token presented again,
// which revoked the session.
func ReuseDetected(before, after *Session) event.Event {
	return event.Of("reuse_detected", after.accountID, subject(after), after.updatedAt, before, after)
}

func subject(s *Session) event.Subject { return event.Subject{Resource: "session", ID: s.id.String()} }
