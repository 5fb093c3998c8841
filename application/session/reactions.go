package session

import (
	"context"
	"fmt"

	"github.com/leadr-oss/identity/domain/event"
	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/ports"
)

// RevokeWithDeletion is the most sessions a deletion revokes in its own
// transaction. A popular game has millions, which no request's deadline
// fits; a thousand, each with its event, take about 80 ms on PostgreSQL
// (BenchmarkRevokeWithDeletion in adapters/store), far inside the deadline,
// and are all the sessions of nearly any identity. The purge revokes the
// rest in the minutes after (ports.SessionRepository.RevokeOrphaned);
// meanwhile they grant nothing, since Access and Rotate refuse the sessions
// of a deleted identity or game.
const RevokeWithDeletion = 1000

// Reactions are what the session slice does when other slices change:
// sessions end with their identity and with their game, the first
// RevokeWithDeletion of them in the transaction of the deletion.
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
				return repo.RevokeIdentity(ctx, identityID, e.OccurredAt, RevokeWithDeletion)
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
				return repo.RevokeGame(ctx, gameID, e.OccurredAt, RevokeWithDeletion)
			},
		},
	}
}
