package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/leadr-oss/identity/adapters/store"
	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/domain/identity"
	"github.com/leadr-oss/identity/domain/tenancy"
	"github.com/leadr-oss/identity/ports"
	"github.com/leadr-oss/identity/ports/paging"
	"github.com/leadr-oss/identity/ports/portstest"
	"github.com/leadr-oss/identity/test/pgtest"
)

// BenchmarkList reads one page of 20 at the start of an account's list and
// at two depths inside it. Keyset pages cost the same at any depth: compare
// the two deep ones (a deep page merges two index ranges, the first page
// reads one).
func BenchmarkList(b *testing.B) {
	db := pgtest.Fresh(b)
	account, _, _ := seedForPlans(b, db)
	repo := identities(b, store.New(db))
	sort := ports.IdentitySchema.DefaultSort()
	f := ports.IdentityFilter{AccountID: account}

	// Positions 100 and 450 rows deep into the account's 490 identities.
	at := func(depth int) paging.Position {
		res, err := repo.List(b.Context(), f, paging.Request{Sort: sort, Limit: depth})
		if err != nil || len(res.Items) != depth {
			b.Fatalf("%d rows to depth %d: %v", len(res.Items), depth, err)
		}
		return ports.IdentitySchema.Position(res.Items[depth-1], sort)
	}
	deep, deeper := at(100), at(450)
	nameSort, _ := ports.IdentitySchema.ParseSort("display_name:asc")

	for _, c := range []struct {
		name string
		req  paging.Request
	}{
		{"first_page", paging.Request{Sort: sort, Limit: 20}},
		{"page_100_deep", paging.Request{Sort: sort, Limit: 20, After: deep}},
		{"page_450_deep", paging.Request{Sort: sort, Limit: 20, After: deeper}},
		{"page_450_deep_backward", paging.Request{Sort: sort, Limit: 20, After: deeper, Backward: true}},
		{"by_name_first_page", paging.Request{Sort: nameSort, Limit: 20}},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := repo.List(b.Context(), f, c.req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkGetOrCreate creates new identities, and finds existing ones.
func BenchmarkGetOrCreate(b *testing.B) {
	db := pgtest.Fresh(b)
	s := store.New(db)
	tenancies, repo := tenancyRepo(b, s), identities(b, s)
	account := newBenchAccount(b, tenancies)
	game := portstest.NewGame(b, gamesRepo(b, s), account).ID()
	fresh := func(n int) *identity.Identity {
		key, _ := identity.NewExternalKey(identity.KindDevice, fmt.Sprintf("bench-device-%010d", n))
		i, _ := identity.New(account, game, key, identity.DisplayName{}, time.Now())
		return i
	}
	noop := func(*identity.Identity) error { return nil }
	// Outside the sub-benchmark, so that every -count creates rather than
	// finds the keys the first made.
	n := 0
	b.Run("create", func(b *testing.B) {
		for b.Loop() {
			n++
			if _, _, err := repo.GetOrCreate(b.Context(), fresh(n), noop); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("existing", func(b *testing.B) {
		for b.Loop() {
			if _, created, err := repo.GetOrCreate(b.Context(), fresh(1), noop); err != nil || created {
				b.Fatal(err, created)
			}
		}
	})
}

func newBenchAccount(b *testing.B, repo ports.TenancyRepository) id.AccountID {
	b.Helper()
	a, err := tenancy.NewAccount("Bench", "bench", time.Now())
	if err != nil {
		b.Fatal(err)
	}
	if err := repo.CreateAccount(context.Background(), a); err != nil {
		b.Fatal(err)
	}
	return a.ID()
}
