package identity

import "github.com/leadr-oss/identity/domain/event"

// Created is the event of i coming to exist.
func Created(i *Identity) event.Event {
	return event.Of("created", i.accountID, subject(i), i.createdAt, nil, i)
}

// Changed is the event of an identity going from before to after: deleted,
// or else updated.
func Changed(before, after *Identity) event.Event {
	if after.IsDeleted() && !before.IsDeleted() {
		e := event.Of("deleted", after.accountID, subject(after), after.updatedAt, before, after)
		e.ChangesAccess = true // its sessions are refused
		return e
	}
	return event.Of("updated", after.accountID, subject(after), after.updatedAt, before, after)
}

func subject(i *Identity) event.Subject {
	return event.Subject{Resource: "identity", ID: i.id.String()}
}
