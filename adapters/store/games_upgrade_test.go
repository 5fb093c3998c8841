package store_test

import (
	"database/sql"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/leadr-oss/identity/adapters/store"
	"github.com/leadr-oss/identity/domain/game"
	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/domain/identity"
)

// slugsVersion makes game slugs unique per account and adds device_sign_in.
const slugsVersion = "20261207000005"

// migrationBefore is the version applied last before version.
// upgradeFrom opens an empty database of backend b (an element of
// upgradeBackends) migrated up to the migration before version, with exec
// running a statement on it and must failing the test on an error.
func upgradeFrom(t *testing.T, sqlite bool, open func(*testing.T) *store.DB, version string) (db *store.DB, exec func(q string, args ...any) error, must func(error)) {
	t.Helper()
	db = open(t)
	if err := store.MigrateThrough(t.Context(), db, migrationBefore(t, sqlite, version)); err != nil {
		t.Fatal(err)
	}
	exec = func(q string, args ...any) error {
		_, err := db.Bun().ExecContext(t.Context(), q, args...)
		return err
	}
	must = func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	return db, exec, must
}

func migrationBefore(t *testing.T, sqlite bool, version string) string {
	t.Helper()
	ms, err := store.Migrations(sqlite)
	if err != nil {
		t.Fatal(err)
	}
	prev := ""
	for _, m := range ms.Sorted() {
		if m.Name < version {
			prev = m.Name
		}
	}
	if prev == "" {
		t.Fatalf("no migration before %s", version)
	}
	return prev
}

// dumpRows is every row query gives, as text: what "unchanged" means.
func dumpRows(t *testing.T, db *store.DB, query string) []string {
	t.Helper()
	rows, err := db.Bun().QueryContext(t.Context(), query)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		dest := make([]any, len(cols))
		for i := range vals {
			dest[i] = &vals[i]
		}
		if err := rows.Scan(dest...); err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for _, v := range vals {
			if v.Valid {
				b.WriteString(v.String)
			} else {
				b.WriteString("NULL")
			}
			b.WriteString("|")
		}
		out = append(out, b.String())
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestUpgradeMakesGameSlugsPerAccount upgrades a database that holds games,
// their identities and sessions: nothing is lost or changed, every game
// allows device sign-in, a slug is then free in other accounts and still
// taken in its own (a deleted game's too), and the references from
// identities and sessions still hold. SQLite rebuilds the games table for
// this, under the rows that reference it. Rolling back is refused while two
// accounts share a slug, and restores the old rule once they no longer do.
func TestUpgradeMakesGameSlugsPerAccount(t *testing.T) {
	const (
		accA   = "0195f000-0000-7000-8000-00000000000a"
		accB   = "0195f000-0000-7000-8000-00000000000b"
		pongA  = "0195f2a0-0000-7000-8000-000000000001"
		goneA  = "0195f2a0-0000-7000-8000-000000000002"
		snakeB = "0195f2a0-0000-7000-8000-000000000003"
	)
	sealed := []byte{0, 1, 0xfe, 0xff, 's'}
	at := upgradeT0
	games := []struct {
		id, account, slug string
		deleted           bool
	}{
		{pongA, accA, "pong", false},
		{goneA, accA, "tetris", true},
		{snakeB, accB, "snake", false},
	}
	const (
		gamesQuery = `SELECT CAST(id AS TEXT), CAST(account_id AS TEXT), name, slug, steam_app_id,
			CAST(created_at AS TEXT), CAST(updated_at AS TEXT), CAST(deleted_at AS TEXT) FROM games ORDER BY id`
		sessionsQuery = `SELECT CAST(id AS TEXT), CAST(identity_id AS TEXT), CAST(account_id AS TEXT), CAST(game_id AS TEXT),
			CAST(expires_at AS TEXT), CAST(refresh_expires_at AS TEXT), CAST(revoked_at AS TEXT) FROM sessions ORDER BY id`
	)

	for _, b := range upgradeBackends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			db, exec, must := upgradeFrom(t, b.sqlite, b.open, slugsVersion)
			for _, a := range []string{accA, accB} {
				must(exec("INSERT INTO accounts (id, name, slug, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
					a, "Account "+a, "acc-"+a[len(a)-12:], at, at))
			}
			for n, g := range games {
				var deleted sql.NullTime
				if g.deleted {
					deleted = sql.NullTime{Time: at.Add(time.Hour), Valid: true}
				}
				must(exec(`INSERT INTO games (id, account_id, name, slug, steam_app_id, steam_web_api_key, created_at, updated_at, deleted_at)
					VALUES (?, ?, ?, ?, '480', ?, ?, ?, ?)`, g.id, g.account, "Game "+g.slug, g.slug, sealed,
					at.Add(time.Duration(n)*time.Second), at.Add(time.Minute), deleted))
				// Each game has an identity, and the identity a session
				// with a refresh token: rows that reference games and hang
				// off those that do.
				identityID, sessionID := id.New[id.Identity]().UUID().String(), id.New[id.Session]().UUID().String()
				must(exec(`INSERT INTO identities (id, account_id, game_id, kind, external_key, display_name, created_at, updated_at)
					VALUES (?, ?, ?, 'DEVICE', ?, NULL, ?, ?)`, identityID, g.account, g.id, "device-"+g.slug, at, at))
				must(exec(`INSERT INTO sessions (id, identity_id, account_id, game_id, expires_at, refresh_expires_at, created_at, updated_at)
					VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, sessionID, identityID, g.account, g.id, at.Add(time.Hour), at.Add(time.Hour), at, at))
				must(exec(`INSERT INTO session_refresh_tokens (hash, session_id, created_at) VALUES (?, ?, ?)`,
					[]byte("hash of "+g.slug), sessionID, at))
			}
			before := [][]string{dumpRows(t, db, gamesQuery), dumpIdentities(t, db), dumpRows(t, db, sessionsQuery),
				dumpRows(t, db, "SELECT CAST(session_id AS TEXT) FROM session_refresh_tokens ORDER BY session_id")}
			unchanged := func(when string) {
				t.Helper()
				after := [][]string{dumpRows(t, db, gamesQuery), dumpIdentities(t, db), dumpRows(t, db, sessionsQuery),
					dumpRows(t, db, "SELECT CAST(session_id AS TEXT) FROM session_refresh_tokens ORDER BY session_id")}
				for i, what := range []string{"games", "identities", "sessions", "refresh tokens"} {
					if !slices.Equal(after[i], before[i]) {
						t.Errorf("%s: %s changed:\n before %q\n after  %q", when, what, before[i], after[i])
					}
				}
				if b.sqlite {
					var broken []string
					if err := db.Bun().NewRaw(`SELECT "table" FROM pragma_foreign_key_check`).Scan(t.Context(), &broken); err != nil || len(broken) > 0 {
						t.Errorf("%s: rows break foreign keys in %v (%v)", when, broken, err)
					}
				}
			}

			applied, err := upgrade(t, db)
			if err != nil {
				t.Fatal(err)
			}
			if len(applied) == 0 || !strings.HasPrefix(applied[0], slugsVersion+"_") {
				t.Fatalf("applied %v, want %s first", applied, slugsVersion)
			}
			unchanged("after the upgrade")

			s := store.New(db)
			repo, ids := gamesRepo(t, s), identities(t, s)
			for _, g := range games {
				if g.deleted {
					continue
				}
				got, err := repo.Get(t.Context(), mustParse[id.Game](t, g.id))
				if err != nil {
					t.Fatal(err)
				}
				if !got.DeviceSignIn() || string(got.SealedSteamKey()) != string(sealed) || got.Slug().String() != g.slug {
					t.Errorf("game %s after the upgrade: %+v", g.slug, got.Snapshot())
				}
			}
			var off int
			must(db.Bun().NewRaw("SELECT count(*) FROM games WHERE NOT device_sign_in").Scan(t.Context(), &off))
			if off != 0 {
				t.Errorf("%d games lost device sign-in in the upgrade", off)
			}

			create := func(account, slug string) error {
				t.Helper()
				n, _ := game.ParseName("New " + slug)
				sl, _ := game.ParseSlug(slug)
				g, err := game.New(mustParse[id.Account](t, account), n, sl, time.Now())
				if err != nil {
					t.Fatal(err)
				}
				return repo.Create(t.Context(), g)
			}
			if err := create(accB, "pong"); err != nil {
				t.Errorf("account B taking account A's slug: %v, want it created", err)
			}
			for _, slug := range []string{"pong", "tetris"} {
				if err := create(accA, slug); !errors.Is(err, game.ErrSlugTaken) {
					t.Errorf("account A taking its own slug %s again: %v, want ErrSlugTaken", slug, err)
				}
			}
			// Identities still need a live game of their account.
			key, _ := identity.NewExternalKey(identity.KindDevice, "device-after-upgrade")
			for _, gameID := range []string{snakeB, id.New[id.Game]().UUID().String()} {
				fresh, err := identity.New(mustParse[id.Account](t, accA), mustParse[id.Game](t, gameID), key, identity.DisplayName{}, time.Now())
				if err != nil {
					t.Fatal(err)
				}
				if _, _, err := ids.GetOrCreate(t.Context(), fresh, func(*identity.Identity) error { return nil }); !errors.Is(err, game.ErrNotFound) {
					t.Errorf("an identity of account A in game %s: %v, want ErrNotFound", gameID, err)
				}
			}

			m, err := store.NewMigrator(db)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := m.Down(t.Context()); err == nil || !strings.Contains(err.Error(), "game slug pong is used in more than one account") {
				t.Fatalf("rolling back while two accounts share a slug: %v, want it refused naming the slug", err)
			}
			must(exec("DELETE FROM games WHERE account_id = ? AND slug = 'pong'", accB))
			unchanged("after a refused rollback")
			if _, err := m.Down(t.Context()); err != nil {
				t.Fatalf("rolling back: %v", err)
			}
			unchanged("after the rollback")
			if err := exec(`INSERT INTO games (id, account_id, name, slug, created_at, updated_at) VALUES (?, ?, 'X', 'snake', ?, ?)`,
				id.New[id.Game]().UUID().String(), accA, at, at); err == nil {
				t.Error("after the rollback, account A took account B's slug")
			}
		})
	}
}
