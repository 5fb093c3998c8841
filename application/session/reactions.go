package session

import (
	"context"
	"fmt"

	"github.com/leadr-oss/identity/domain/event"
	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/ports"
)

// Reactions are what the session slice does when other slices change:
// sessions end with their identity and with their game, in the
// transaction of the deletion, so that no session outlives either.
func Reactions(repo ports.SessionRepository) []ports.Subscriber {
	return []ports.Subscriber{
		{
			Name:  "sessions end with their identity",
			Types: []string{"identity.deleted"},
			Handle: func(ctx context.Context, e event.Event) error {
				identityID, err := id.Parse[id.Identity](e.Subject.ID)
				if err != nil {
					return fmt.Errorf("identity.deleted of %q: %w", e.Subject.ID, err)
				}
				return repo.RevokeIdentity(ctx, identityID, e.OccurredAt)
			},
		},
		{
			Name:  "sessions end with their game",
			Types: []string{"game.deleted"},
			Handle: func(ctx context.Context, e event.Event) error {
				gameID, err := id.Parse[id.Game](e.Subject.ID)
				if err != nil {
					return fmt.Errorf("game.deleted of %q: %w", e.Subject.ID, err)
				}
				return repo.RevokeGame(ctx, gameID, e.OccurredAt)
			},
		},
	}
}
