package store_test

import (
	"testing"
	"time"

	"github.com/leadr-oss/identity/adapters/store"
	"github.com/leadr-oss/identity/domain/id"
)

// TestPurgePassesOverAFailingErasure: a player whose erasure fails (here an
// event whose data SQLite holds as text that is no JSON, which the scrub
// cannot read) is reported and passed over; the players due after it are
// purged in the same run.
func TestPurgePassesOverAFailingErasure(t *testing.T) {
	db := sqliteDB(t)
	ctx := t.Context()
	players, err := store.NewPlayers(store.New(db))
	if err != nil {
		t.Fatal(err)
	}
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.Bun().ExecContext(ctx, q, args...); err != nil {
			t.Fatal(err)
		}
	}
	const account, game = "00000000-0000-7000-8000-000000000001", "00000002-0000-7000-8000-000000000001"
	exec(`INSERT INTO accounts (id, name, slug, created_at, updated_at) VALUES (?, 'a', 'a', ?, ?)`, account, time.Now(), time.Now())
	exec(`INSERT INTO games (id, account_id, name, slug, created_at, updated_at) VALUES (?, ?, 'g', 'g', ?, ?)`, game, account, time.Now(), time.Now())
	deleted := time.Now().Add(-48 * time.Hour)
	keys := []string{"00000003-0000-7000-8000-000000000001", "00000003-0000-7000-8000-000000000002"}
	for n, k := range keys {
		// The broken one is due first.
		due := deleted.Add(time.Duration(n) * time.Minute)
		exec(`INSERT INTO players (id, account_id, game_id, created_at, updated_at, deleted_at, purge_after) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			k, account, game, deleted, deleted, deleted, due)
		exec(`INSERT INTO identities (id, player_id, account_id, game_id, kind, external_key, created_at, updated_at, deleted_at)
			VALUES (?, ?, ?, ?, 'DEVICE', ?, ?, ?, ?)`, k, k, account, game, "device-key-"+k[len(k)-1:], deleted, deleted, deleted)
	}
	exec(`INSERT INTO events (id, type, account_id, occurred_at, actor_type, subject_type, subject_id, data)
		VALUES ('00000004-0000-7000-8000-000000000001', 'identity.deleted', ?, ?, 'system', 'identity', ?, 'not json')`,
		account, deleted, "ide_"+keys[0])

	n, err := players.Purge(ctx, time.Now(), time.Hour, 10)
	if err == nil {
		t.Fatal("the failing erasure was not reported")
	}
	if n != 1 {
		t.Fatalf("purged %d, want the one after the failing erasure", n)
	}
	second, _ := id.Parse[id.Player]("ply_" + keys[1])
	p, err := players.Get(ctx, second, time.Now())
	if err != nil || !p.IsPurged() {
		t.Fatalf("the player after the failing one: %v, purged %v", err, err == nil && p.IsPurged())
	}
	first, _ := id.Parse[id.Player]("ply_" + keys[0])
	if p, err := players.Get(ctx, first, time.Now()); err != nil || p.IsPurged() {
		t.Fatalf("the failing player: %v", err)
	}
}
