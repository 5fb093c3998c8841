package store_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/leadr-oss/identity/adapters/store"
	"github.com/leadr-oss/identity/domain/id"
)

// playersVersion gives every identity a player of its own.
const playersVersion = "20261207000008"

// TestUpgradeGivesEveryIdentityAPlayer upgrades a database of the schema
// before players, holding live and soft-deleted identities (two of them
// sharing a key, one in a deleted game) and a session with its refresh token
// and nonce: every identity, deleted ones included, then names a player
// whose ID is its own UUID, of its account and game, created when it was;
// nothing else of the identities or sessions changes (updated_at least of
// all: the upgrade is no change of theirs). A new identity without a player
// is refused from then on. Rolling back gives the old schema back, rows
// untouched, and upgrading again gives the same players.
func TestUpgradeGivesEveryIdentityAPlayer(t *testing.T) {
	const (
		accA  = "0195f000-0000-7000-8000-00000000000a"
		accB  = "0195f000-0000-7000-8000-00000000000b"
		gameA = "0195f2a0-0000-7000-8000-000000000001"
		goneA = "0195f2a0-0000-7000-8000-000000000002"
		gameB = "0195f2a0-0000-7000-8000-000000000003"
	)
	at := func(d time.Duration) time.Time { return upgradeT0.Add(d) }
	newID := func() string { return id.New[id.Identity]().UUID().String() }
	rows := []oldIdentity{
		// updated_at after created_at everywhere it can be, so that a
		// player stamped with the wrong one shows.
		{newID(), accA, gameA, "DEVICE", "device-0000000001", ptr("Ada"), at(3 * time.Second), at(5*time.Second + 250*time.Microsecond), nil},
		{newID(), accA, gameA, "STEAM", "76561197960287930", nil, at(time.Second + 123*time.Microsecond), at(time.Hour), nil},
		// The same key as the first, deleted: it gets a player of its own.
		{newID(), accA, gameA, "DEVICE", "device-0000000001", ptr("Old Ada"), at(0), at(2 * time.Second), ptr(at(2 * time.Second))},
		{newID(), accA, goneA, "CUSTOM", "player-42", ptr("Zoë ✓"), at(20 * time.Second), at(21 * time.Second), nil},
		{newID(), accB, gameB, "CUSTOM", "player-42", ptr("Grace"), at(10*time.Second + 654321*time.Microsecond), at(11 * time.Second), nil},
		{newID(), accB, gameB, "DEVICE", "device-0000000004", nil, at(30 * time.Second), at(31 * time.Second), ptr(at(31 * time.Second))},
	}
	const (
		identitiesQuery = `SELECT CAST(id AS TEXT), CAST(account_id AS TEXT), CAST(game_id AS TEXT),
			kind, external_key, display_name, CAST(created_at AS TEXT), CAST(updated_at AS TEXT), CAST(deleted_at AS TEXT)
			FROM identities ORDER BY id`
		sessionsQuery = `SELECT CAST(id AS TEXT), CAST(identity_id AS TEXT), CAST(account_id AS TEXT), CAST(game_id AS TEXT),
			CAST(expires_at AS TEXT), CAST(refresh_expires_at AS TEXT), CAST(revoked_at AS TEXT),
			CAST(created_at AS TEXT), CAST(updated_at AS TEXT) FROM sessions ORDER BY id`
		tokensQuery = `SELECT CAST(session_id AS TEXT), CAST(created_at AS TEXT), CAST(rotated_at AS TEXT)
			FROM session_refresh_tokens ORDER BY session_id, created_at`
		noncesQuery = `SELECT CAST(session_id AS TEXT), CAST(expires_at AS TEXT), CAST(used_at AS TEXT)
			FROM session_nonces ORDER BY session_id, expires_at`
		// What each identity's player must be: its own UUID, account, game
		// and creation, live.
		wantPlayersQuery = `SELECT CAST(id AS TEXT), CAST(id AS TEXT), CAST(account_id AS TEXT), CAST(game_id AS TEXT),
			CAST(created_at AS TEXT), CAST(created_at AS TEXT), NULL, NULL, NULL, NULL FROM identities ORDER BY id`
		playersQuery = `SELECT CAST(i.id AS TEXT), CAST(p.id AS TEXT), CAST(p.account_id AS TEXT), CAST(p.game_id AS TEXT),
			CAST(p.created_at AS TEXT), CAST(p.updated_at AS TEXT), CAST(p.deleted_at AS TEXT), CAST(p.purge_after AS TEXT),
			CAST(p.purged_at AS TEXT), CAST(p.merged_into AS TEXT)
			FROM identities AS i LEFT JOIN players AS p ON p.id = i.player_id ORDER BY i.id`
		allPlayersQuery = `SELECT CAST(id AS TEXT), CAST(account_id AS TEXT), CAST(game_id AS TEXT), CAST(created_at AS TEXT),
			CAST(updated_at AS TEXT) FROM players ORDER BY id`
	)

	for _, b := range upgradeBackends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			db, exec, must := upgradeFrom(t, b.sqlite, b.open, playersVersion)
			for _, a := range []string{accA, accB} {
				must(exec("INSERT INTO accounts (id, name, slug, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
					a, "Account "+a, "acc-"+a[len(a)-12:], upgradeT0, upgradeT0))
			}
			for _, g := range []struct {
				id, account, slug string
				deleted           bool
			}{{gameA, accA, "pong", false}, {goneA, accA, "tetris", true}, {gameB, accB, "snake", false}} {
				var deleted any
				if g.deleted {
					deleted = at(time.Hour)
				}
				must(exec(`INSERT INTO games (id, account_id, name, slug, created_at, updated_at, deleted_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
					g.id, g.account, "Game "+g.slug, g.slug, upgradeT0, upgradeT0, deleted))
			}
			for _, r := range rows {
				var name, deleted any
				if r.name != nil {
					name = *r.name
				}
				if r.deleted != nil {
					deleted = *r.deleted
				}
				must(exec(`INSERT INTO identities (id, account_id, game_id, kind, external_key, display_name, created_at, updated_at, deleted_at)
					VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, r.id, r.account, r.game, r.kind, r.key, name, r.created, r.updated, deleted))
			}
			// A live session of the first identity, once refreshed, with a
			// nonce; a revoked one of the deleted identity.
			live, revoked := id.New[id.Session]().UUID().String(), id.New[id.Session]().UUID().String()
			must(exec(`INSERT INTO sessions (id, identity_id, account_id, game_id, expires_at, refresh_expires_at, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, live, rows[0].id, accA, gameA, at(time.Hour), at(720*time.Hour), at(time.Minute), at(2*time.Minute)))
			must(exec(`INSERT INTO sessions (id, identity_id, account_id, game_id, expires_at, refresh_expires_at, revoked_at, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, revoked, rows[2].id, accA, gameA, at(time.Hour), at(720*time.Hour), at(2*time.Second), at(time.Second), at(2*time.Second)))
			must(exec(`INSERT INTO session_refresh_tokens (hash, session_id, created_at, rotated_at) VALUES (?, ?, ?, ?)`,
				[]byte("hash of the first refresh token"), live, at(time.Minute), at(2*time.Minute)))
			must(exec(`INSERT INTO session_refresh_tokens (hash, session_id, created_at) VALUES (?, ?, ?)`,
				[]byte("hash of the second refresh token"), live, at(2*time.Minute)))
			must(exec(`INSERT INTO session_nonces (hash, session_id, expires_at) VALUES (?, ?, ?)`,
				[]byte("hash of a nonce"), live, at(3*time.Minute)))

			unchanged := snapshotRows(t, db, b.sqlite, map[string]string{
				"identities": identitiesQuery, "sessions": sessionsQuery, "refresh tokens": tokensQuery, "nonces": noncesQuery,
			})
			wantPlayers := dumpRows(t, db, wantPlayersQuery)
			if len(wantPlayers) != len(rows) {
				t.Fatalf("%d identities written, want %d", len(wantPlayers), len(rows))
			}

			applied, err := upgrade(t, db)
			if err != nil {
				t.Fatal(err)
			}
			if len(applied) == 0 || !strings.HasPrefix(applied[0], playersVersion+"_") {
				t.Fatalf("applied %v, want %s first", applied, playersVersion)
			}
			unchanged("after the upgrade")

			// Every identity names a player that exists, is its own, and
			// is as the identity was made; no other player exists.
			if got := dumpRows(t, db, playersQuery); !slices.Equal(got, wantPlayers) {
				t.Errorf("the identities' players (identity|player|account|game|created|updated|deleted|purge_after|purged|merged):\n got  %q\n want %q",
					got, wantPlayers)
			}
			if got := dumpRows(t, db, allPlayersQuery); len(got) != len(rows) {
				t.Errorf("%d players after the upgrade, want one for each of the %d identities: %q", len(got), len(rows), got)
			}
			if got := dumpRows(t, db, "SELECT CAST(id AS TEXT) FROM bans"); len(got) != 0 {
				t.Errorf("the upgrade made bans: %q", got)
			}

			// The store reads each live identity with its player.
			ids := identities(t, store.New(db))
			for _, r := range rows {
				if r.deleted != nil {
					continue
				}
				got, err := ids.Get(t.Context(), mustParse[id.Identity](t, r.id))
				if err != nil {
					t.Fatalf("identity %s: %v", r.id, err)
				}
				if got.PlayerID().UUID().String() != r.id || !got.UpdatedAt().Equal(r.updated) {
					t.Errorf("identity %s reads back with player %s, updated_at %v", r.id, got.PlayerID(), got.UpdatedAt())
				}
			}

			// From now on an identity cannot be without a player.
			err = exec(`INSERT INTO identities (id, account_id, game_id, kind, external_key, created_at, updated_at)
				VALUES (?, ?, ?, 'DEVICE', 'device-no-player', ?, ?)`, newID(), accA, gameA, upgradeT0, upgradeT0)
			if err == nil || !strings.Contains(err.Error(), "player_id") {
				t.Errorf("an identity without a player after the upgrade: %v, want it refused naming player_id", err)
			}

			m, err := store.NewMigrator(db)
			if err != nil {
				t.Fatal(err)
			}
			rolledBack, err := m.Down(t.Context())
			if err != nil {
				t.Fatalf("rolling back: %v", err)
			}
			// Later migrations go back with it: they were applied in its group.
			if !slices.ContainsFunc(rolledBack, func(name string) bool { return strings.HasPrefix(name, playersVersion+"_") }) {
				t.Fatalf("rolled back %v, want %s", rolledBack, playersVersion)
			}
			unchanged("after the rollback")
			for _, table := range []string{"players", "bans"} {
				if tableExists(t, db, b.sqlite, table) {
					t.Errorf("the rollback left the table %s", table)
				}
			}
			if _, err := upgrade(t, db); err != nil {
				t.Fatalf("upgrading again: %v", err)
			}
			unchanged("after upgrading again")
			if got := dumpRows(t, db, playersQuery); !slices.Equal(got, wantPlayers) {
				t.Errorf("the identities' players after upgrading again:\n got  %q\n want %q", got, wantPlayers)
			}
		})
	}
}
