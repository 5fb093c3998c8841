package store_test

import (
	"strings"
	"testing"
	"time"

	"github.com/leadr-oss/identity/adapters/store"
	"github.com/leadr-oss/identity/domain/identity"
	"github.com/leadr-oss/identity/ports"
	"github.com/leadr-oss/identity/ports/paging"
	"github.com/leadr-oss/identity/test/pgtest"
)

// TestPlayerListsAreServedByIndexes is TestListQueriesAreServedByIndexes
// for players, on seedForPlans' identities each with its player (as the
// upgrade gives them), 2% of the players deleted and a few banned: every
// default and filtered list reads about one page, and a lookup by a
// credential finds its player through the identity's key.
func TestPlayerListsAreServedByIndexes(t *testing.T) {
	db := pgtest.Fresh(t)
	account, game, _ := seedForPlans(t, db)
	now := time.Now()
	for _, q := range []string{
		`INSERT INTO players (id, account_id, game_id, created_at, updated_at, deleted_at, purge_after)
		 SELECT id, account_id, game_id, created_at, created_at,
		        CASE WHEN substr(id::text, 36, 1) IN ('3') AND substr(id::text, 35, 1) IN ('1', '5') THEN now() END,
		        CASE WHEN substr(id::text, 36, 1) IN ('3') AND substr(id::text, 35, 1) IN ('1', '5') THEN now() + interval '30 days' END
		 FROM identities`,
		`INSERT INTO bans (id, player_id, reason, actor_type, created_at, updated_at)
		 SELECT gen_random_uuid(), id, 'cheating', 'system', now(), now() FROM players WHERE substr(id::text, 34, 3) = '777'`,
		`ANALYZE`,
	} {
		if _, err := db.Bun().ExecContext(t.Context(), q); err != nil {
			t.Fatal(err)
		}
	}
	filters := map[string]ports.PlayerFilter{
		"account":            {AccountID: account},
		"account and game":   {AccountID: account, GameID: game},
		"everything":         {},
		"account, deleted":   {AccountID: account, Deleted: true},
		"account, banned":    {AccountID: account, Banned: "true"},
		"account, no ban":    {AccountID: account, Banned: "false"},
		"game, banned":       {GameID: game, Banned: "true"},
		"account and a key":  {AccountID: account, Kind: identity.KindCustom, ExternalKey: "key-50006"},
		"a key, any account": {Kind: identity.KindCustom, ExternalKey: "key-50006"},
	}
	const limit = 20
	for name, f := range filters {
		t.Run(name, func(t *testing.T) {
			query, args := store.PlayerListQuery(f, paging.Request{Sort: ports.PlayerSchema.DefaultSort(), Limit: limit}, now)
			plan := explainAnalyze(t, db, query, args)
			var check func(n planNode, parent string)
			check = func(n planNode, parent string) {
				touched := (n.ActualRows + n.RemovedByFilter) * max(n.Loops, 1)
				switch {
				case n.Type == "Seq Scan" && n.Relation != "bans":
					t.Errorf("the plan reads %s sequentially", n.Relation)
				case (n.Type == "Sort" || n.Type == "Incremental Sort") && n.ActualRows > limit+1:
					t.Errorf("the plan sorts %d rows (a %s under %s)", n.ActualRows, n.Type, parent)
				case strings.Contains(n.Type, "Scan") && n.Relation != "bans" && touched > 4*(limit+1):
					t.Errorf("%s on %s %s touches %d rows for a page of %d", n.Type, n.Relation, n.Index, touched, limit)
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
