package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/leadr-oss/identity/adapters/store"
	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/domain/identity"
	"github.com/leadr-oss/identity/test/pgtest"
)

// TestPointReadsUseTheirUniqueIndexWhateverTheStatistics: the store prepares
// its reads by a unique key (an identity by ID; the get-or-create lookup by
// natural key, which most sign-ins are), so one plan serves every argument,
// including a generic plan that knows none; and the plan must be the unique
// index before ANALYZE has run too (a fresh table, a restored backup), where
// the planner once filtered a whole account through identities_account_kind_idx.
func TestPointReadsUseTheirUniqueIndexWhateverTheStatistics(t *testing.T) {
	for _, analyzed := range []bool{false, true} {
		db := pgtest.Fresh(t)
		for _, q := range []string{
			"ALTER TABLE identities SET (autovacuum_enabled = off)",
			"ALTER TABLE games SET (autovacuum_enabled = off)",
		} {
			if _, err := db.Bun().ExecContext(t.Context(), q); err != nil {
				t.Fatal(err)
			}
		}
		seedRowsForPlans(t, db)
		if analyzed {
			if _, err := db.Bun().ExecContext(t.Context(), "ANALYZE"); err != nil {
				t.Fatal(err)
			}
		}
		log := &statements{}
		db.AddQueryHook(log)
		repo := identities(t, store.New(db))

		// Row 50006: account 7, game 6, CUSTOM, key-50006, live.
		account, _ := id.Parse[id.Account]("acc_00000000-0000-7000-8000-000000000007")
		game, _ := id.Parse[id.Game]("gam_00000002-0000-7000-8000-000000000006")
		key, err := identity.NewExternalKey(identity.KindCustom, "key-50006")
		if err != nil {
			t.Fatal(err)
		}
		fresh, err := identity.New(account, game, key, identity.DisplayName{}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		existingID, _ := id.Parse[id.Identity]("ide_00000001-0000-7000-8000-00000000c356")
		for name, read := range map[string]func() error{
			"get-or-create of an existing identity": func() error {
				got, created, err := repo.GetOrCreate(t.Context(), fresh, func(*identity.Identity) error { return nil })
				if err == nil && (created || got.ID() != existingID) {
					t.Errorf("got %v (created %v), want the existing identity", got.ID(), created)
				}
				return err
			},
			"get by ID": func() error { _, err := repo.Get(t.Context(), existingID); return err },
		} {
			t.Run(name+map[bool]string{false: " before ANALYZE", true: " after ANALYZE"}[analyzed], func(t *testing.T) {
				log.take()
				if err := read(); err != nil {
					t.Fatal(err)
				}
				sent := log.take()
				if len(sent) != 1 {
					t.Fatalf("%d statements, want 1: %q", len(sent), sent)
				}
				want := map[string]string{"get by ID": "identities_pkey"}[name]
				if want == "" {
					want = "identities_live_key"
				}
				template, args := log.last()
				for mode, plan := range map[string]planNode{
					"custom":  explainAnalyze(t, db, sent[0], nil),
					"generic": explainGeneric(t, db, template, args),
				} {
					if idx := indexOf(plan, "identities"); idx != want {
						t.Errorf("%s plan reads identities through %q, want %s: %s", mode, idx, want, template)
					}
				}
			})
		}
	}
}

// indexOf is the index a plan reads table through ("" when it reads none).
func indexOf(n planNode, table string) string {
	if n.Relation == table && strings.Contains(n.Type, "Index") {
		return n.Index
	}
	for _, c := range n.Plans {
		if idx := indexOf(c, table); idx != "" {
			return idx
		}
	}
	return ""
}

// explainGeneric runs a read as a prepared statement's generic plan, which
// PostgreSQL may switch to after five runs.
func explainGeneric(t *testing.T, db *store.DB, query string, args []any) planNode {
	t.Helper()
	ctx := t.Context()
	conn, err := db.Bun().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	defer conn.ExecContext(context.Background(), "DEALLOCATE ALL; RESET plan_cache_mode") //nolint:errcheck // the connection goes back clean, or is closed
	if _, err := conn.ExecContext(ctx, "SET plan_cache_mode = force_generic_plan"); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, "PREPARE planned AS "+store.NumberPlaceholders(query)); err != nil {
		t.Fatal(err)
	}
	var raw string
	execute := "EXECUTE planned(" + strings.TrimSuffix(strings.Repeat("?, ", len(args)), ", ") + ")"
	if err := conn.NewRaw("EXPLAIN (ANALYZE, FORMAT JSON) "+execute, args...).Scan(ctx, &raw); err != nil {
		t.Fatal(err)
	}
	return decodePlan(t, raw)
}
