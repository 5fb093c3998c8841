package store_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/leadr-oss/identity/adapters/store"
	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/domain/identity"
	"github.com/leadr-oss/identity/ports"
	"github.com/leadr-oss/identity/ports/paging"
	"github.com/leadr-oss/identity/test/pgtest"
)

// TestListQueriesAreServedByIndexes runs every default and filtered identity
// list, first page and deep pages, on a database that looks like production
// and reads how the planner served it: no sequential scan, no sort of more
// than one page, and no scan that touches more than a few pages' worth of
// rows. A list the indexes do not serve reads rows up to its depth.
func TestListQueriesAreServedByIndexes(t *testing.T) {
	db := pgtest.Fresh(t)
	account, game, after := seedForPlans(t, db)
	filters := map[string]ports.IdentityFilter{
		"account":                {AccountID: account},
		"account and game":       {AccountID: account, GameID: game},
		"account and kind":       {AccountID: account, Kind: identity.KindSteam},
		"account, game and kind": {AccountID: account, GameID: game, Kind: identity.KindDevice},
		"game":                   {GameID: game},
		"kind":                   {Kind: identity.KindCustom},
		"everything":             {},
	}
	const limit = 20
	for name, f := range filters {
		for _, page := range []struct {
			name string
			req  paging.Request
		}{
			{"first page", paging.Request{Sort: ports.IdentitySchema.DefaultSort(), Limit: limit}},
			{"next page", paging.Request{Sort: ports.IdentitySchema.DefaultSort(), Limit: limit, After: after}},
			{"previous page", paging.Request{Sort: ports.IdentitySchema.DefaultSort(), Limit: limit, After: after, Backward: true}},
		} {
			t.Run(name+"/"+page.name, func(t *testing.T) {
				query, args := store.IdentityListQuery(f, page.req)
				plan := explainAnalyze(t, db, query, args)
				var check func(n planNode, parent string)
				check = func(n planNode, parent string) {
					touched := (n.ActualRows + n.RemovedByFilter) * max(n.Loops, 1)
					switch {
					case n.Type == "Seq Scan":
						t.Errorf("the plan reads %s sequentially", n.Relation)
					case (n.Type == "Sort" || n.Type == "Incremental Sort") && (page.req.After == nil || len(n.Plans) != 1 || n.Plans[0].Type != "Limit"):
						t.Errorf("the plan sorts more than one page (a %s under %s)", n.Type, parent)
					case strings.Contains(n.Type, "Scan") && touched > 4*(limit+1):
						t.Errorf("%s on %s touches %d rows for a page of %d", n.Type, n.Index, touched, limit)
					}
					for _, c := range n.Plans {
						check(c, n.Type)
					}
				}
				check(plan, "")
				if t.Failed() {
					t.Logf("%s", query)
				}
			})
		}
	}
}

// seedForPlans fills the database the way a busy deployment looks (many
// accounts, games and identities; some deleted) so that the planner's
// statistics resemble production. It returns one account, one game, and the
// position in the default sort of a row deep in both. Row i is in game
// i % 2000 of account 1 + i % 200: each game is in one account, as the
// identities' foreign key wants.
func seedForPlans(t testing.TB, db *store.DB) (id.AccountID, id.GameID, paging.Position) {
	t.Helper()
	seedRowsForPlans(t, db)
	if _, err := db.Bun().ExecContext(t.Context(), "ANALYZE"); err != nil {
		t.Fatal(err)
	}
	account, _ := id.Parse[id.Account]("acc_00000000-0000-7000-8000-000000000007")
	game, _ := id.Parse[id.Game]("gam_00000002-0000-7000-8000-000000000006")
	var row struct {
		ID        uuid.UUID `bun:"id"`
		CreatedAt time.Time `bun:"created_at"`
	}
	// Row 50006 is in account 7 and game 6, half-way down both.
	if err := db.Bun().NewRaw("SELECT id, created_at FROM identities WHERE id = '00000001-0000-7000-8000-00000000c356'").Scan(t.Context(), &row); err != nil {
		t.Fatal(err)
	}
	return account, game, paging.Position{row.CreatedAt, id.UUID(row.ID)}
}

// seedRowsForPlans writes seedForPlans's rows, without the statistics.
func seedRowsForPlans(t testing.TB, db *store.DB) {
	t.Helper()
	for _, q := range []string{
		`INSERT INTO accounts (id, name, slug, created_at, updated_at)
		 SELECT ('00000000-0000-7000-8000-' || lpad(to_hex(a), 12, '0'))::uuid, 'a' || a, 'a' || a, now(), now()
		 FROM generate_series(1, 200) AS a`,
		`INSERT INTO games (id, account_id, name, slug, created_at, updated_at, deleted_at)
		 SELECT ('00000002-0000-7000-8000-' || lpad(to_hex(g), 12, '0'))::uuid,
		        ('00000000-0000-7000-8000-' || lpad(to_hex(1 + g % 200), 12, '0'))::uuid,
		        'Game ' || g, 'game-' || g, now(), now(),
		        CASE WHEN g % 100 = 99 THEN now() END
		 FROM generate_series(0, 1999) AS g`,
		`INSERT INTO identities (id, player_id, account_id, game_id, kind, external_key, display_name, created_at, updated_at, deleted_at)
		 SELECT ('00000001-0000-7000-8000-' || lpad(to_hex(i), 12, '0'))::uuid,
		        ('00000001-0000-7000-8000-' || lpad(to_hex(i), 12, '0'))::uuid,
		        ('00000000-0000-7000-8000-' || lpad(to_hex(1 + i % 200), 12, '0'))::uuid,
		        ('00000002-0000-7000-8000-' || lpad(to_hex(i % 2000), 12, '0'))::uuid,
		        (ARRAY['DEVICE', 'STEAM', 'CUSTOM'])[1 + i % 3], 'key-' || i,
		        CASE WHEN i % 5 = 0 THEN NULL ELSE 'player ' || (i % 977) END,
		        now() - i * interval '1 second', now() - i * interval '1 second',
		        CASE WHEN i % 50 = 0 THEN now() END
		 FROM generate_series(1, 100000) AS i`,
	} {
		if _, err := db.Bun().ExecContext(t.Context(), q); err != nil {
			t.Fatal(err)
		}
	}
}

// TestExternalKeyListsUseTheirIndex: support staff look a player up by
// device or Steam ID, with or without a kind or an account. Only an index
// led by the external key (identities_live_key) serves that without reading
// the whole scope, and it serves it whatever the sort, so a page sorting the
// one or few rows found is fine.
func TestExternalKeyListsUseTheirIndex(t *testing.T) {
	db := pgtest.Fresh(t)
	account, _, _ := seedForPlans(t, db)
	const key = "key-50006" // row 50006: account 7, kind CUSTOM (1 + i % 3), live
	nameSort, err := ports.IdentitySchema.ParseSort("display_name:asc")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		f    ports.IdentityFilter
		rows int
	}{
		{"key", ports.IdentityFilter{ExternalKey: key}, 1},
		{"key and kind", ports.IdentityFilter{ExternalKey: key, Kind: identity.KindCustom}, 1},
		{"key and another kind", ports.IdentityFilter{ExternalKey: key, Kind: identity.KindSteam}, 0},
		{"account and key", ports.IdentityFilter{AccountID: account, ExternalKey: key}, 1},
		{"account, kind and key", ports.IdentityFilter{AccountID: account, Kind: identity.KindCustom, ExternalKey: key}, 1},
		{"a deleted row's key", ports.IdentityFilter{ExternalKey: "key-50000"}, 0},
	} {
		for _, sort := range []paging.Sort{ports.IdentitySchema.DefaultSort(), nameSort} {
			t.Run(c.name+"/"+sort.String(), func(t *testing.T) {
				query, args := store.IdentityListQuery(c.f, paging.Request{Sort: sort, Limit: 20})
				wantLookup(t, db, query, args, "identities_live_key", c.rows)
			})
		}
	}
}

// wantLookup fails t unless the query's plan finds its rows through index,
// reads nothing sequentially, touches at most 4 rows in any scan, and
// answers rows rows: a point lookup, whatever the sort.
func wantLookup(t *testing.T, db *store.DB, query string, args []any, index string, rows int) {
	t.Helper()
	plan := explainAnalyze(t, db, query, args)
	used := false
	var check func(n planNode)
	check = func(n planNode) {
		touched := (n.ActualRows + n.RemovedByFilter) * max(n.Loops, 1)
		switch {
		case n.Type == "Seq Scan":
			t.Errorf("the plan reads %s sequentially", n.Relation)
		case strings.Contains(n.Type, "Scan") && touched > 4:
			t.Errorf("%s on %s%s touches %d rows to find %d", n.Type, n.Relation, n.Index, touched, rows)
		}
		used = used || n.Index == index
		for _, child := range n.Plans {
			check(child)
		}
	}
	check(plan)
	if !used {
		t.Errorf("the plan does not use %s", index)
	}
	if plan.ActualRows != rows {
		t.Errorf("the page has %d rows, want %d", plan.ActualRows, rows)
	}
	if t.Failed() {
		t.Logf("%s", query)
	}
}

type planNode struct {
	Type            string     `json:"Node Type"`
	Relation        string     `json:"Relation Name"`
	Index           string     `json:"Index Name"`
	ActualRows      int        `json:"Actual Rows"`
	Loops           int        `json:"Actual Loops"`
	RemovedByFilter int        `json:"Rows Removed by Filter"`
	Plans           []planNode `json:"Plans"`
}

func explainAnalyze(t testing.TB, db *store.DB, query string, args []any) planNode {
	t.Helper()
	var raw string
	if err := db.Bun().NewRaw("EXPLAIN (ANALYZE, FORMAT JSON) "+query, args...).Scan(t.Context(), &raw); err != nil {
		t.Fatal(err)
	}
	return decodePlan(t, raw)
}

func decodePlan(t testing.TB, raw string) planNode {
	t.Helper()
	var plans []struct {
		Plan planNode `json:"Plan"`
	}
	if err := json.Unmarshal([]byte(raw), &plans); err != nil {
		t.Fatal(err)
	}
	return plans[0].Plan
}
