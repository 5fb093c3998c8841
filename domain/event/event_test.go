package event_test

import (
	"context"
	"testing"

	"github.com/leadr-oss/identity/domain/event"
)

func TestTypeMatches(t *testing.T) {
	for _, c := range []struct {
		typ, pattern string
		want         bool
	}{
		{"identity.created", "identity.created", true},
		{"identity.created", "identity.*", true},
		{"identity.created", "identity.deleted", false},
		{"identities.imported", "identity.*", false}, // a prefix is a whole resource
		{"identity.created", "identity*", false},
		{"identity.created", "*", false},
		{"api_key.revoked", "api_key.*", true},
		{"identity.created", "", false},
	} {
		if got := event.Type(c.typ).Matches(c.pattern); got != c.want {
			t.Errorf("%s matches %q: %v, want %v", c.typ, c.pattern, got, c.want)
		}
	}
}

func TestActorTravelsInTheContext(t *testing.T) {
	if got := event.ActorOf(context.Background()); got != event.System {
		t.Fatalf("nobody put there: %+v, want the system", got)
	}
	key := event.Actor{Kind: event.ActorAPIKey, ID: "key_1"}
	if got := event.ActorOf(event.WithActor(context.Background(), key)); got != key {
		t.Fatalf("got %+v, want %+v", got, key)
	}
}
