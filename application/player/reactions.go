package player

import (
	"context"
	"fmt"

	"github.com/leadr-oss/identity/domain/event"
	"github.com/leadr-oss/identity/domain/identity"
	"github.com/leadr-oss/identity/domain/player"
	"github.com/leadr-oss/identity/domain/session"
	"github.com/leadr-oss/identity/ports"
)

// Reactions are what the player slice does when other slices change, in
// the transaction of the change: a new identity comes with its player, and
// no session starts for a banned player.
func Reactions(repo ports.PlayerRepository, now ports.Clock) []ports.Subscriber {
	return []ports.Subscriber{
		{
			Name:  "a new identity comes with its player",
			Types: []string{"identity.created"},
			Handle: func(ctx context.Context, e event.Event) error {
				i, ok := e.After.(*identity.Identity)
				if !ok {
					return fmt.Errorf("identity.created of %T", e.After)
				}
				// An identity created into an existing player (a link)
				// names that player instead of its own new one.
				if i.PlayerID().UUID() != i.ID().UUID() {
					return nil
				}
				return repo.Create(ctx, player.Of(i))
			},
		},
		{
			Name:  "no session starts for a banned player",
			Types: []string{"session.created"},
			Handle: func(ctx context.Context, e event.Event) error {
				s, ok := e.After.(*session.Session)
				if !ok {
					return fmt.Errorf("session.created of %T", e.After)
				}
				return repo.CheckSessionStart(ctx, s.IdentityID(), now())
			},
		},
	}
}
