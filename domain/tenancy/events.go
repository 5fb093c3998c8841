package tenancy

import "github.com/leadr-oss/identity/domain/event"

func AccountCreated(a *Account) event.Event {
	return event.Of("created", a.id, event.Subject{Resource: "account", ID: a.id.String()}, a.createdAt, nil, a)
}

func UserCreated(u *User) event.Event {
	return event.Of("created", u.accountID, event.Subject{Resource: "user", ID: u.id.String()}, u.createdAt, nil, u)
}

func APIKeyCreated(k *APIKey) event.Event {
	return event.Of("created", k.accountID, keySubject(k), k.createdAt, nil, k)
}

// APIKeyChanged is the event of a key going from before to after: revoked,
// or else updated.
func APIKeyChanged(before, after *APIKey) event.Event {
	verb := "updated"
	if after.status == KeyRevoked && before.status != KeyRevoked {
		verb = "revoked"
	}
	e := event.Of(verb, after.accountID, keySubject(after), after.updatedAt, before, after)
	e.ChangesAccess = true // a cached key carries its status and its limit
	return e
}

func keySubject(k *APIKey) event.Subject {
	return event.Subject{Resource: "api_key", ID: k.id.String()}
}
