package store_test

import (
	"math"
	"testing"
	"time"

	"github.com/leadr-oss/identity/adapters/store"
	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/test/pgtest"
)

// BenchmarkRevokeWithDeletion measures what a deletion's revocations are
// bounded by (application/session.RevokeWithDeletion): revoking a thousand
// live sessions of a game with an event each, as the deletion does in its
// transaction; and what the purge's sweep costs every minute when no
// deletion left any, on seedForPlans' 100,000 identities (2,000 deleted)
// and seedSessions' 100,000 sessions.
func BenchmarkRevokeWithDeletion(b *testing.B) {
	db := pgtest.Fresh(b)
	seedForPlans(b, db)
	seedSessions(b, db)
	repo, err := store.NewSessions(store.New(db))
	if err != nil {
		b.Fatal(err)
	}
	ctx, now := b.Context(), time.Now()
	// The seed's orphans are revoked: what the sweep finds between
	// deletions is nothing.
	if _, err := repo.RevokeOrphaned(ctx, now, math.MaxInt); err != nil {
		b.Fatal(err)
	}
	const popular = "00000002-0000-7000-8000-0000ffffffff"
	exec := func(q string) {
		b.Helper()
		if _, err := db.Bun().ExecContext(ctx, q); err != nil {
			b.Fatal(err)
		}
	}
	exec(`INSERT INTO games (id, account_id, name, slug, created_at, updated_at)
		VALUES ('` + popular + `', '00000000-0000-7000-8000-000000000001', 'Popular', 'popular', now(), now())`)
	exec(`INSERT INTO identities (id, player_id, account_id, game_id, kind, external_key, created_at, updated_at)
		VALUES ('00000001-0000-7000-8000-0000ffffffff', '00000001-0000-7000-8000-0000ffffffff', '00000000-0000-7000-8000-000000000001', '` + popular + `', 'DEVICE', 'popular', now(), now())`)
	exec(`INSERT INTO sessions (id, identity_id, account_id, game_id, expires_at, refresh_expires_at, created_at, updated_at)
		SELECT gen_random_uuid(), '00000001-0000-7000-8000-0000ffffffff', '00000000-0000-7000-8000-000000000001', '` + popular + `',
		       now() + interval '15 minutes', now() + interval '30 days', now(), now()
		FROM generate_series(1, 1000)`)
	exec(`ANALYZE`)
	game, _ := id.Parse[id.Game]("gam_" + popular)

	b.Run("a_thousand_of_a_game", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			exec(`UPDATE sessions SET revoked_at = NULL WHERE game_id = '` + popular + `'`)
			b.StartTimer()
			if err := repo.RevokeGame(ctx, game, now, 1000); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("sweep_with_none_left", func(b *testing.B) {
		for b.Loop() {
			if n, err := repo.RevokeOrphaned(ctx, now, math.MaxInt); err != nil || n != 0 {
				b.Fatal(n, err)
			}
		}
	})
}
