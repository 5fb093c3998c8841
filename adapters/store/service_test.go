package store_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/leadr-oss/identity/adapters/store"
	"github.com/leadr-oss/identity/application/cursor"
	appidentity "github.com/leadr-oss/identity/application/identity"
	"github.com/leadr-oss/identity/domain/game"
	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/domain/identity"
	"github.com/leadr-oss/identity/domain/tenancy"
	"github.com/leadr-oss/identity/ports"
	"github.com/leadr-oss/identity/ports/paging"
	"github.com/leadr-oss/identity/ports/portstest"
	"github.com/leadr-oss/identity/test/pgtest"
)

// TestCursorsOverPostgres drives the identity use cases over the real store:
// cursors walk the stored rows, and misused cursors are refused.
func TestCursorsOverPostgres(t *testing.T) {
	db := pgtest.Open(t)
	s := store.New(db)
	tenancies, games := tenancyRepo(t, s), gamesRepo(t, s)
	svc := appidentity.NewService(identities(t, s), tenancies, cursor.NewCodec([]byte("a cursor secret of at least 32 bytes")), time.Now)
	a, b := portstest.NewAccount(t, tenancies), portstest.NewAccount(t, tenancies)
	alice := tenancy.Principal{AccountID: a.ID()}
	bob := tenancy.Principal{AccountID: b.ID()}
	alicesGame := portstest.NewGame(t, games, a.ID()).ID()
	bobsGame := portstest.NewGame(t, games, b.ID()).ID()
	// The database is shared with other tests: keys of this test's own let
	// a list across accounts see only its identities.
	keyOf := func(n int) string { return fmt.Sprintf("device-%06d-%s", n, a.ID().UUID().String()[24:]) }
	for n := range 5 {
		for p, g := range map[tenancy.Principal]id.GameID{alice: alicesGame, bob: bobsGame} {
			if _, _, err := svc.GetOrCreate(t.Context(), p, ports.CreateIdentity{GameID: g, Kind: "DEVICE", ExternalKey: keyOf(n)}); err != nil {
				t.Fatal(err)
			}
		}
	}

	list := func(p tenancy.Principal, q ports.ListIdentities) (paging.Page[*identity.Identity], error) {
		return svc.List(t.Context(), p, q)
	}
	first, err := list(alice, ports.ListIdentities{Page: paging.Params{Limit: 2}})
	if err != nil || len(first.Items) != 2 || !first.HasNext || first.HasPrev {
		t.Fatalf("first page: %v %+v", err, first)
	}
	seen := map[id.IdentityID]bool{}
	for page := first; ; {
		for _, i := range page.Items {
			if i.AccountID() != a.ID() || seen[i.ID()] {
				t.Fatalf("page holds %v of %v twice or from another account", i.ID(), i.AccountID())
			}
			seen[i.ID()] = true
		}
		if !page.HasNext {
			break
		}
		if page, err = list(alice, ports.ListIdentities{Page: paging.Params{Limit: 2, Cursor: page.Next}}); err != nil {
			t.Fatal(err)
		}
	}
	if len(seen) != 5 {
		t.Fatalf("the walk saw %d identities, want 5", len(seen))
	}

	kind := "DEVICE"
	sort := "id:asc"
	for name, c := range map[string]struct {
		p    tenancy.Principal
		q    ports.ListIdentities
		want error
	}{
		"tampered":         {alice, ports.ListIdentities{Page: paging.Params{Cursor: tamper(first.Next)}}, cursor.ErrInvalidCursor},
		"another filter":   {alice, ports.ListIdentities{Kind: &kind, Page: paging.Params{Cursor: first.Next}}, cursor.ErrCursorState},
		"another game":     {alice, ports.ListIdentities{GameID: alicesGame, Page: paging.Params{Cursor: first.Next}}, cursor.ErrCursorState},
		"another sort":     {alice, ports.ListIdentities{Page: paging.Params{Sort: &sort, Cursor: first.Next}}, cursor.ErrCursorState},
		"another tenant":   {bob, ports.ListIdentities{Page: paging.Params{Cursor: first.Next}}, cursor.ErrCursorState},
		"superadmin scope": {tenancy.Principal{SuperAdmin: true}, ports.ListIdentities{Page: paging.Params{Cursor: first.Next}}, cursor.ErrCursorState},
	} {
		if _, err := list(c.p, c.q); !errors.Is(err, c.want) {
			t.Errorf("%s: got %v, want %v", name, err, c.want)
		}
	}

	key := keyOf(3)
	all, err := list(tenancy.Principal{SuperAdmin: true}, ports.ListIdentities{ExternalKey: &key, Page: paging.Params{Limit: 100}})
	if err != nil || len(all.Items) != 2 {
		t.Fatalf("a superadmin sees %d identities of the key across accounts, want 2 (%v)", len(all.Items), err)
	}
	_, _, err = svc.GetOrCreate(t.Context(), alice, ports.CreateIdentity{GameID: bobsGame, Kind: "DEVICE", ExternalKey: keyOf(9)})
	if !errors.Is(err, game.ErrNotFound) {
		t.Fatalf("an identity in another account's game: got %v, want %v", err, game.ErrNotFound)
	}
}

// tamper changes a cursor's last character to another one.
func tamper(cursor string) string {
	last := "x"
	if strings.HasSuffix(cursor, last) {
		last = "y"
	}
	return cursor[:len(cursor)-1] + last
}
