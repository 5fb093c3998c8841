package store_test

import (
	"database/sql"
	"errors"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/leadr-oss/identity/adapters/store"
	"github.com/leadr-oss/identity/domain/game"
	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/domain/identity"
	"github.com/leadr-oss/identity/ports"
	"github.com/leadr-oss/identity/ports/paging"
	"github.com/leadr-oss/identity/test/pgtest"
)

// The schema every deployment had before games: identities with game IDs
// that named nothing.
const (
	initVersion  = "20261127000001"
	gamesVersion = "20261201000001_games"
)

// upgradeBackends open an empty database on each backend.
var upgradeBackends = []struct {
	name   string
	sqlite bool
	open   func(t *testing.T) *store.DB
}{
	{"postgres", false, func(t *testing.T) *store.DB { return openURL(t, pgtest.Empty(t)) }},
	{"sqlite", true, func(t *testing.T) *store.DB {
		return openURL(t, "sqlite:"+filepath.Join(t.TempDir(), "leadr.db"))
	}},
}

func openURL(t *testing.T, url string) *store.DB {
	t.Helper()
	db, err := store.Open(url, store.PoolOptions{MaxOpenConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

var upgradeT0 = time.Date(2025, 11, 3, 4, 5, 6, 123456000, time.UTC)

// oldIdentity is an identities row as the old schema held it.
type oldIdentity struct {
	id               string
	account, game    string
	kind, key        string
	name             *string // nil: NULL
	created, updated time.Time
	deleted          *time.Time
}

func ptr[T any](v T) *T { return &v }

// fillOld makes a database of the old schema holding accounts and
// identities, written with the old schema's own SQL.
func fillOld(t *testing.T, db *store.DB, accounts []string, rows []oldIdentity) {
	t.Helper()
	if err := store.MigrateThrough(t.Context(), db, initVersion); err != nil {
		t.Fatal(err)
	}
	for n, a := range accounts {
		if _, err := db.Bun().ExecContext(t.Context(),
			"INSERT INTO accounts (id, name, slug, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
			a, "Account "+a, "acc-"+a[len(a)-12:], upgradeT0, upgradeT0); err != nil {
			t.Fatalf("account %d: %v", n, err)
		}
	}
	for _, r := range rows {
		var name sql.NullString
		if r.name != nil {
			name = sql.NullString{String: *r.name, Valid: true}
		}
		var deleted sql.NullTime
		if r.deleted != nil {
			deleted = sql.NullTime{Time: *r.deleted, Valid: true}
		}
		if _, err := db.Bun().ExecContext(t.Context(),
			`INSERT INTO identities (id, account_id, game_id, kind, external_key, display_name, created_at, updated_at, deleted_at)
			 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			r.id, r.account, r.game, r.kind, r.key, name, r.created, r.updated, deleted); err != nil {
			t.Fatalf("identity %s: %v", r.id, err)
		}
	}
}

// dumpIdentities is every identities row as text, deleted ones included:
// what "unchanged" means, byte for byte.
func dumpIdentities(t *testing.T, db *store.DB) []string {
	t.Helper()
	return dumpRows(t, db, `SELECT CAST(id AS TEXT), CAST(account_id AS TEXT), CAST(game_id AS TEXT),
		kind, external_key, display_name, CAST(created_at AS TEXT), CAST(updated_at AS TEXT), CAST(deleted_at AS TEXT)
		FROM identities ORDER BY id`)
}

func tableExists(t *testing.T, db *store.DB, sqlite bool, table string) bool {
	t.Helper()
	q := "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename = ?"
	if sqlite {
		q = "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?"
	}
	var n int
	if err := db.Bun().NewRaw(q, table).Scan(t.Context(), &n); err != nil {
		t.Fatal(err)
	}
	return n > 0
}

func upgrade(t *testing.T, db *store.DB) ([]string, error) {
	t.Helper()
	m, err := store.NewMigrator(db)
	if err != nil {
		t.Fatal(err)
	}
	return m.Up(t.Context())
}

func TestUpgradeImportsTheGamesIdentitiesUse(t *testing.T) {
	const (
		accA = "0195f000-0000-7000-8000-00000000000a"
		accB = "0195f000-0000-7000-8000-00000000000b"
		// Three game IDs made in the same minute share their first 8 hex
		// digits, across accounts: their slugs are numbered in ID order.
		gameA1 = "0195f2a0-0000-7000-8000-000000000001"
		gameB2 = "0195f2a0-0000-7000-8000-000000000002"
		gameA3 = "0195f2a0-ffff-7000-8000-000000000003"
		// Used by a deleted identity only, which still needs its game.
		gameA4 = "01960000-0000-7000-8000-000000000004"
		gameB5 = "01961111-0000-7000-8000-000000000005"
	)
	at := func(d time.Duration) time.Time { return upgradeT0.Add(d) }
	newID := func() string { return id.New[id.Identity]().UUID().String() }
	rows := []oldIdentity{
		{newID(), accA, gameA1, "DEVICE", "device-0000000001", ptr("Ada"), at(3 * time.Second), at(5 * time.Second), nil},
		{newID(), accA, gameA1, "STEAM", "76561197960287930", nil, at(time.Second), at(time.Second), nil},
		// The same natural key as the live one above, deleted, and the
		// earliest row of its game.
		{newID(), accA, gameA1, "DEVICE", "device-0000000001", ptr("Old Ada"), at(0), at(2 * time.Second), ptr(at(2 * time.Second))},
		{newID(), accB, gameB2, "CUSTOM", "player-42", ptr("Grace"), at(10 * time.Second), at(11 * time.Second), nil},
		{newID(), accA, gameA3, "CUSTOM", "player-42", ptr("Zoë ✓"), at(20 * time.Second), at(20 * time.Second), nil},
		{newID(), accA, gameA4, "DEVICE", "device-0000000004", nil, at(30 * time.Second), at(31 * time.Second), ptr(at(31 * time.Second))},
		{newID(), accB, gameB5, "STEAM", "76561197960287930", ptr("Bob"), at(40*time.Second + 654321*time.Microsecond), at(41 * time.Second), nil},
	}
	wantGames := []struct {
		id, account, slug string
		created           time.Time
	}{
		{gameA1, accA, "imported-0195f2a0", at(0)},
		{gameB2, accB, "imported-0195f2a0-2", at(10 * time.Second)},
		{gameA3, accA, "imported-0195f2a0-3", at(20 * time.Second)},
		{gameA4, accA, "imported-01960000", at(30 * time.Second)},
		{gameB5, accB, "imported-01961111", at(40*time.Second + 654321*time.Microsecond)},
	}

	for _, b := range upgradeBackends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			db := b.open(t)
			fillOld(t, db, []string{accA, accB}, rows)
			before := dumpIdentities(t, db)

			applied, err := upgrade(t, db)
			if err != nil {
				t.Fatal(err)
			}
			if len(applied) == 0 || applied[0] != gamesVersion {
				t.Fatalf("applied %v, want only %s", applied, gamesVersion)
			}
			if after := dumpIdentities(t, db); !slices.Equal(after, before) {
				t.Fatalf("identities changed:\n before %q\n after  %q", before, after)
			}

			s := store.New(db)
			games, ids := gamesRepo(t, s), identities(t, s)
			listed, err := games.List(t.Context(), ports.GameFilter{}, paging.Request{Sort: ports.GameSchema.DefaultSort(), Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			if len(listed.Items) != len(wantGames) {
				t.Fatalf("%d games after the upgrade, want %d", len(listed.Items), len(wantGames))
			}
			for _, w := range wantGames {
				gameID := mustParse[id.Game](t, w.id)
				got, err := games.Get(t.Context(), gameID)
				if err != nil {
					t.Fatalf("game %s: %v", w.id, err)
				}
				want := game.Snapshot{
					ID: gameID, AccountID: mustParse[id.Account](t, w.account), Name: "Imported game", Slug: w.slug,
					DeviceSignIn: true, CreatedAt: w.created, UpdatedAt: w.created,
				}
				if !reflect.DeepEqual(got.Snapshot(), want) {
					t.Errorf("imported game:\n got  %+v\n want %+v", got.Snapshot(), want)
				}
			}

			// The store reads every upgraded identity as it was written.
			for _, r := range rows {
				got, err := ids.Get(t.Context(), mustParse[id.Identity](t, r.id))
				if r.deleted != nil {
					if !errors.Is(err, identity.ErrNotFound) {
						t.Errorf("deleted identity %s: got %v, want not found", r.id, err)
					}
					continue
				}
				if err != nil {
					t.Fatalf("identity %s: %v", r.id, err)
				}
				s := got.Snapshot()
				if s.AccountID.UUID().String() != r.account || s.GameID.UUID().String() != r.game || s.Kind.String() != r.kind ||
					s.ExternalKey != r.key || (r.name == nil) != (s.DisplayName == "") || r.name != nil && *r.name != s.DisplayName ||
					!s.CreatedAt.Equal(r.created) || !s.UpdatedAt.Equal(r.updated) {
					t.Errorf("identity %s reads back as %+v", r.id, s)
				}
			}

			// And the foreign key holds from now on.
			for _, c := range []struct {
				name    string
				account string
				game    string
				want    error
			}{
				{"another account's game", accA, gameB2, game.ErrNotFound},
				{"an unknown game", accA, id.New[id.Game]().UUID().String(), game.ErrNotFound},
				{"an imported game", accA, gameA4, nil},
			} {
				key, _ := identity.NewExternalKey(identity.KindDevice, "device-after-upgrade")
				fresh, err := identity.New(mustParse[id.Account](t, c.account), mustParse[id.Game](t, c.game), key, identity.DisplayName{}, time.Now())
				if err != nil {
					t.Fatal(err)
				}
				_, _, err = ids.GetOrCreate(t.Context(), fresh, func(*identity.Identity) error { return nil })
				if !errors.Is(err, c.want) {
					t.Errorf("an identity in %s: got %v, want %v", c.name, err, c.want)
				}
			}
			if !b.sqlite {
				var valid bool
				if err := db.Bun().NewRaw("SELECT convalidated FROM pg_constraint WHERE conname = 'identities_game_fkey'").Scan(t.Context(), &valid); err != nil || !valid {
					t.Errorf("identities_game_fkey is not a validated constraint (%v)", err)
				}
			} else {
				var broken []string
				if err := db.Bun().NewRaw("SELECT \"table\" FROM pragma_foreign_key_check").Scan(t.Context(), &broken); err != nil || len(broken) > 0 {
					t.Errorf("rows break foreign keys in %v (%v)", broken, err)
				}
			}
		})
	}
}

func TestUpgradeRefusesAGameIDOfTwoAccounts(t *testing.T) {
	const (
		accA   = "0195f000-0000-7000-8000-00000000000a"
		accB   = "0195f000-0000-7000-8000-00000000000b"
		shared = "0195f2a0-0000-7000-8000-0000000000aa"
		own    = "0195f2a0-0000-7000-8000-0000000000bb"
	)
	rows := []oldIdentity{
		{id.New[id.Identity]().UUID().String(), accA, own, "DEVICE", "device-0000000001", ptr("Ada"), upgradeT0, upgradeT0, nil},
		{id.New[id.Identity]().UUID().String(), accA, shared, "CUSTOM", "player-42", nil, upgradeT0, upgradeT0, nil},
		{id.New[id.Identity]().UUID().String(), accB, shared, "CUSTOM", "player-42", ptr("Grace"), upgradeT0, upgradeT0, ptr(upgradeT0)},
	}
	for _, b := range upgradeBackends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			db := b.open(t)
			fillOld(t, db, []string{accA, accB}, rows)
			before := dumpIdentities(t, db)

			_, err := upgrade(t, db)
			if err == nil {
				t.Fatal("the upgrade went through with a game ID in two accounts")
			}
			if !strings.Contains(err.Error(), "gam_"+shared) {
				t.Fatalf("the error does not name the game ID gam_%s: %v", shared, err)
			}

			if tableExists(t, db, b.sqlite, "games") {
				t.Error("the failed upgrade left a games table")
			}
			if after := dumpIdentities(t, db); !slices.Equal(after, before) {
				t.Errorf("identities changed:\n before %q\n after  %q", before, after)
			}
			m, err := store.NewMigrator(db)
			if err != nil {
				t.Fatal(err)
			}
			status, err := m.Status(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range status {
				if applied := !s.AppliedAt.IsZero(); applied != (s.Name < gamesVersion) {
					t.Errorf("migration %s applied=%v", s.Name, applied)
				}
			}

			// Nothing of the failed attempt is in the way once the data is
			// fixed as the message says.
			if _, err := db.Bun().ExecContext(t.Context(), "UPDATE identities SET game_id = ? WHERE account_id = ?",
				id.New[id.Game]().UUID().String(), accB); err != nil {
				t.Fatal(err)
			}
			applied, err := upgrade(t, db)
			if err != nil || len(applied) == 0 || applied[0] != gamesVersion {
				t.Fatalf("the upgrade after the fix applied %v: %v", applied, err)
			}
		})
	}
}

func mustParse[E id.Entity](t *testing.T, u string) id.ID[E] {
	t.Helper()
	var e E
	parsed, err := id.Parse[E](e.Prefix() + "_" + u)
	if err != nil {
		t.Fatal(err)
	}
	return parsed
}
