package session

import (
	"context"
	"fmt"
	"math"

	"github.com/leadr-oss/identity/domain/event"
	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/domain/player"
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
// sessions end with their identity, with their game and when their player
// is banned, the first RevokeWithDeletion of each identity's or game's in
// the transaction of the change.
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
			Name:  "sessions end when their player is banned",
			Types: []string{"player.banned"},
			Handle: func(ctx context.Context, e event.Event) error {
				p, ok := e.After.(*player.Player)
				if !ok {
					return fmt.Errorf("player.banned of %T", e.After)
				}
				// All of them, not the first RevokeWithDeletion: no purge
				// revokes the rest later, and Access does not read bans.
				// A player's sessions are its few devices' sign-ins.
				for _, i := range p.Identities() {
					if err := repo.RevokeIdentity(ctx, i.ID(), e.OccurredAt, math.MaxInt32); err != nil {
						return err
					}
				}
				return nil
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
