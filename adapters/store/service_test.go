package store_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/leadr-oss/identity/adapters/store"
	appidentity "github.com/leadr-oss/identity/application/identity"
	"github.com/leadr-oss/identity/application/paging"
	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/domain/identity"
	"github.com/leadr-oss/identity/domain/tenancy"
	"github.com/leadr-oss/identity/ports"
	"github.com/leadr-oss/identity/ports/portstest"
	"github.com/leadr-oss/identity/test/pgtest"
)

// TestCursorsOverPostgres drives the identity use cases over the real store:
// cursors walk the stored rows, and misused cursors are refused.
func TestCursorsOverPostgres(t *testing.T) {
	db := pgtest.Open(t)
	s := store.New(db)
	tenancyRepo := store.NewTenancy(s)
	svc := appidentity.NewService(store.NewIdentities(s), paging.NewCodec([]byte("a cursor secret of at least 32 bytes")), time.Now)
	a, b := portstest.NewAccount(t, tenancyRepo), portstest.NewAccount(t, tenancyRepo)
	alice := tenancy.Principal{AccountID: a.ID()}
	bob := tenancy.Principal{AccountID: b.ID()}
	game := id.New[id.Game]()
	for n := range 5 {
		for _, p := range []tenancy.Principal{alice, bob} {
			if _, _, err := svc.GetOrCreate(t.Context(), p, ports.CreateIdentity{GameID: game, Kind: "DEVICE", ExternalKey: fmt.Sprintf("device-%06d", n)}); err != nil {
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
		"tampered":         {alice, ports.ListIdentities{Page: paging.Params{Cursor: tamper(first.Next)}}, paging.ErrInvalidCursor},
		"another filter":   {alice, ports.ListIdentities{Kind: &kind, Page: paging.Params{Cursor: first.Next}}, paging.ErrCursorState},
		"another game":     {alice, ports.ListIdentities{GameID: game, Page: paging.Params{Cursor: first.Next}}, paging.ErrCursorState},
		"another sort":     {alice, ports.ListIdentities{Page: paging.Params{Sort: &sort, Cursor: first.Next}}, paging.ErrCursorState},
		"another tenant":   {bob, ports.ListIdentities{Page: paging.Params{Cursor: first.Next}}, paging.ErrCursorState},
		"superadmin scope": {tenancy.Principal{SuperAdmin: true}, ports.ListIdentities{Page: paging.Params{Cursor: first.Next}}, paging.ErrCursorState},
	} {
		if _, err := list(c.p, c.q); !errors.Is(err, c.want) {
			t.Errorf("%s: got %v, want %v", name, err, c.want)
		}
	}

	all, err := list(tenancy.Principal{SuperAdmin: true}, ports.ListIdentities{GameID: game, Page: paging.Params{Limit: 100}})
	if err != nil || len(all.Items) != 10 {
		t.Fatalf("a superadmin sees %d identities of the game across accounts, want 10 (%v)", len(all.Items), err)
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
