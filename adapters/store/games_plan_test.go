package store_test

import (
	"testing"

	"github.com/leadr-oss/identity/adapters/store"
	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/ports"
	"github.com/leadr-oss/identity/ports/paging"
	"github.com/leadr-oss/identity/test/pgtest"
)

// TestGameSlugListsUseTheUniqueIndex: a list by slug, within an account
// (what every regular key asks) or across accounts (a superadmin), is found
// through games_slug_account_key, which leads with the slug, whatever the
// sort, and reads only the games with that slug. Slugs repeat across
// accounts here, as they may now.
func TestGameSlugListsUseTheUniqueIndex(t *testing.T) {
	db := pgtest.Fresh(t)
	for _, q := range []string{
		`INSERT INTO accounts (id, name, slug, created_at, updated_at)
		 SELECT ('00000000-0000-7000-8000-' || lpad(to_hex(a), 12, '0'))::uuid, 'a' || a, 'a' || a, now(), now()
		 FROM generate_series(1, 200) AS a`,
		// Game g is in account 1 + g % 200 with slug game-(g / 4): each
		// slug in four accounts.
		`INSERT INTO games (id, account_id, name, slug, created_at, updated_at, deleted_at)
		 SELECT ('00000002-0000-7000-8000-' || lpad(to_hex(g), 12, '0'))::uuid,
		        ('00000000-0000-7000-8000-' || lpad(to_hex(1 + g % 200), 12, '0'))::uuid,
		        'Game ' || g, 'game-' || (g / 4), now() - g * interval '1 second', now(),
		        CASE WHEN g % 100 = 99 THEN now() END
		 FROM generate_series(0, 7999) AS g`,
		"ANALYZE",
	} {
		if _, err := db.Bun().ExecContext(t.Context(), q); err != nil {
			t.Fatal(err)
		}
	}
	account, _ := id.Parse[id.Account]("acc_00000000-0000-7000-8000-000000000007") // game 6's
	nameSort, err := ports.GameSchema.ParseSort("name:asc")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		f    ports.GameFilter
		rows int
	}{
		{"account and slug", ports.GameFilter{AccountID: account, Slug: "game-1"}, 1},
		{"account and another account's slug", ports.GameFilter{AccountID: account, Slug: "game-2"}, 0},
		{"slug", ports.GameFilter{Slug: "game-1"}, 4},
	} {
		for _, sort := range []paging.Sort{ports.GameSchema.DefaultSort(), nameSort} {
			t.Run(c.name+"/"+sort.String(), func(t *testing.T) {
				query, args := store.GameListQuery(c.f, paging.Request{Sort: sort, Limit: 20})
				wantLookup(t, db, query, args, "games_slug_account_key", c.rows)
			})
		}
	}
}
