package store_test

import (
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"github.com/leadr-oss/identity/adapters/store"
	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/domain/identity"
	"github.com/leadr-oss/identity/ports"
	"github.com/leadr-oss/identity/ports/paging"
)

type keysetCase struct {
	name string
	f    ports.IdentityFilter
	req  paging.Request
}

// keysetCases are the identity list pages the service renders most: the
// first page of an account, a page deeper in (one range per sort key), the
// way back, and a filtered page by display name, whose nullable key adds a
// range for the NULLs.
func keysetCases(b *testing.B) []keysetCase {
	b.Helper()
	byDate := ports.IdentitySchema.DefaultSort()
	byName, err := ports.IdentitySchema.ParseSort("display_name:asc")
	if err != nil {
		b.Fatal(err)
	}
	account := ports.IdentityFilter{AccountID: id.New[id.Account]()}
	filtered := ports.IdentityFilter{AccountID: account.AccountID, GameID: id.New[id.Game](), Kind: identity.KindDevice}
	at := paging.Position{time.Date(2025, 6, 1, 10, 0, 0, 123456000, time.UTC), id.New[id.Identity]().UUID()}
	named := paging.Position{"Ada Lovelace", id.New[id.Identity]().UUID()}
	return []keysetCase{
		{"first_page", account, paging.Request{Sort: byDate, Limit: 20}},
		{"after", account, paging.Request{Sort: byDate, Limit: 20, After: at}},
		{"before", account, paging.Request{Sort: byDate, Limit: 20, After: at, Backward: true}},
		{"by_name_filtered_after", filtered, paging.Request{Sort: byName, Limit: 20, After: named}},
	}
}

// BenchmarkKeysetQuery builds the SQL and arguments of one identity list page.
func BenchmarkKeysetQuery(b *testing.B) {
	for _, c := range keysetCases(b) {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if query, _ := store.IdentityListQuery(c.f, c.req); query == "" {
					b.Fatal("no query")
				}
			}
		})
	}
}

// BenchmarkKeysetSQL adds what bun does to the query before it reaches the
// wire: queries go as text, so bun formats every argument into the statement.
// The bun.DB is PostgreSQL's dialect over a pool that never connects.
func BenchmarkKeysetSQL(b *testing.B) {
	cfg, err := pgx.ParseConfig("postgres://localhost/never")
	if err != nil {
		b.Fatal(err)
	}
	sqldb := stdlib.OpenDB(*cfg)
	b.Cleanup(func() { _ = sqldb.Close() })
	db := bun.NewDB(sqldb, pgdialect.New())
	for _, c := range keysetCases(b) {
		b.Run(c.name, func(b *testing.B) {
			// A placeholder left over would mean the conditions and the
			// arguments no longer line up: the benchmark would measure a
			// statement PostgreSQL rejects.
			query, args := store.IdentityListQuery(c.f, c.req)
			if stmt := db.QueryGen().FormatQuery(query, args...); strings.Contains(stmt, "?") {
				b.Fatalf("unbound placeholder in %s", stmt)
			}
			b.ReportAllocs()
			for b.Loop() {
				query, args := store.IdentityListQuery(c.f, c.req)
				if db.QueryGen().FormatQuery(query, args...) == "" {
					b.Fatal("no statement")
				}
			}
		})
	}
}
