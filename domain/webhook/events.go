package webhook

import (
	"bytes"

	"github.com/leadr-oss/identity/domain/event"
)

// Created is the event of w coming to exist.
func Created(w *Webhook) event.Event {
	return event.Of("created", w.accountID, subject(w), w.createdAt, nil, w)
}

// Changed is the event of a webhook going from before to after: deleted,
// disabled, its secret rotated, or else updated; none when only the
// bookkeeping of its deliveries changed.
func Changed(before, after *Webhook) event.Event {
	verb := "updated"
	switch {
	case after.IsDeleted() && !before.IsDeleted():
		verb = "deleted"
	case after.status == Disabled && before.status == Enabled:
		verb = "disabled"
	case !bytes.Equal(before.secret, after.secret):
		verb = "secret_rotated"
	case before.updatedAt.Equal(after.updatedAt):
		return event.Event{}
	}
	return event.Of(verb, after.accountID, subject(after), after.updatedAt, before, after)
}

func subject(w *Webhook) event.Subject { return event.Subject{Resource: "webhook", ID: w.id.String()} }
