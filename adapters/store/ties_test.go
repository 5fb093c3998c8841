package store_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/leadr-oss/identity/adapters/store"
	"github.com/leadr-oss/identity/application/cursor"
	appidentity "github.com/leadr-oss/identity/application/identity"
	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/domain/identity"
	"github.com/leadr-oss/identity/domain/tenancy"
	"github.com/leadr-oss/identity/ports"
	"github.com/leadr-oss/identity/ports/paging"
	"github.com/leadr-oss/identity/ports/portstest"
	"github.com/leadr-oss/identity/test/pgtest"
)

// TestWalksOverTies: a next cursor tells the next page whether its rows can
// tie the last one (paging.Request.Within), which spares the query its
// ranges of ties. Walks by display name, where many names are shared and a
// third are NULL, forward and back, at every page size, must still return
// every row once, in order.
func TestWalksOverTies(t *testing.T) {
	db := pgtest.Open(t)
	s := store.New(db)
	tenancies, games := tenancyRepo(t, s), gamesRepo(t, s)
	svc := appidentity.NewService(identities(t, s), tenancies, cursor.NewCodec([]byte("a cursor secret of at least 32 bytes")), time.Now)
	a := portstest.NewAccount(t, tenancies)
	p := tenancy.Principal{AccountID: a.ID()}
	g := portstest.NewGame(t, games, a.ID()).ID()
	names := []string{"Ada", "Ada", "Ada", "Bob", "", "", "Cy", "Cy", "", "Ada", "Dee", "", "Bob"}
	for n, name := range names {
		c := ports.CreateIdentity{GameID: g, Kind: "DEVICE", ExternalKey: fmt.Sprintf("device-%06d", n)}
		if name != "" {
			c.DisplayName = &name
		}
		if _, _, err := svc.GetOrCreate(t.Context(), p, c); err != nil {
			t.Fatal(err)
		}
	}
	for _, sort := range []string{"display_name:asc", "display_name:desc", "created_at:desc"} {
		all, err := svc.List(t.Context(), p, ports.ListIdentities{Page: paging.Params{Limit: 100, Sort: &sort}})
		if err != nil || len(all.Items) != len(names) {
			t.Fatalf("%s: %d identities (%v)", sort, len(all.Items), err)
		}
		want := ids(all.Items)
		for limit := 1; limit <= 4; limit++ {
			var got []id.IdentityID
			var pages []paging.Page[*identity.Identity]
			page := paging.Page[*identity.Identity]{HasNext: true}
			for cur := ""; page.HasNext; cur = page.Next {
				if page, err = svc.List(t.Context(), p, ports.ListIdentities{Page: paging.Params{Limit: limit, Sort: &sort, Cursor: cur}}); err != nil {
					t.Fatal(err)
				}
				got = append(got, ids(page.Items)...)
				pages = append(pages, page)
			}
			if !slices.Equal(got, want) {
				t.Errorf("%s, pages of %d forward: %v, want %v", sort, limit, got, want)
			}
			// And back from the last page, by the previous cursors.
			got = ids(pages[len(pages)-1].Items)
			for page := pages[len(pages)-1]; page.HasPrev; {
				if page, err = svc.List(t.Context(), p, ports.ListIdentities{Page: paging.Params{Limit: limit, Sort: &sort, Cursor: page.Prev}}); err != nil {
					t.Fatal(err)
				}
				got = append(ids(page.Items), got...)
			}
			if !slices.Equal(got, want) {
				t.Errorf("%s, pages of %d backward: %v, want %v", sort, limit, got, want)
			}
		}
	}
}

func ids(items []*identity.Identity) []id.IdentityID {
	out := make([]id.IdentityID, len(items))
	for i, x := range items {
		out[i] = x.ID()
	}
	return out
}

// TestAPageWithoutTiesIsOneRange: a deep page whose rows cannot tie the
// cursor's row on its leading key is one index range, planned as cheaply as
// a first page, instead of a union of one range per sort key.
func TestAPageWithoutTiesIsOneRange(t *testing.T) {
	f := ports.IdentityFilter{AccountID: id.New[id.Account]()}
	pos := paging.Position{time.Now(), id.New[id.Identity]().UUID()}
	for within, unions := range map[int]int{0: 1, 1: 0, 2: 1} {
		q, _ := store.IdentityListQuery(f, paging.Request{Sort: ports.IdentitySchema.DefaultSort(), Limit: 20, After: pos, Within: within})
		if n := strings.Count(q, "UNION ALL"); n != unions {
			t.Errorf("within %d: %d unions, want %d: %s", within, n, unions, q)
		}
	}
}
