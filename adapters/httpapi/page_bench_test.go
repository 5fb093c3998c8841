package httpapi

// An internal test: writePage and toIdentity, what the list handler answers
// with, are unexported.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/leadr-oss/identity/application/cursor"
	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/domain/identity"
	"github.com/leadr-oss/identity/ports"
	"github.com/leadr-oss/identity/ports/paging"
	"github.com/leadr-oss/identity/wire"
)

// benchIdentityPage is a full page from the middle of an account's list, so
// that both cursors are in the body, signed as the service signs them.
func benchIdentityPage(b *testing.B) paging.Page[*identity.Identity] {
	b.Helper()
	account, game := id.New[id.Account](), id.New[id.Game]()
	start := time.Date(2025, 6, 1, 10, 0, 0, 123456000, time.UTC)
	items := make([]*identity.Identity, paging.DefaultLimit)
	for i := range items {
		key, err := identity.NewExternalKey(identity.KindDevice, fmt.Sprintf("device-%08d-5f0c", i))
		if err != nil {
			b.Fatal(err)
		}
		name, err := identity.ParseDisplayName(fmt.Sprintf("Player %d of Élan Vital", i))
		if err != nil {
			b.Fatal(err)
		}
		if items[i], err = identity.New(account, game, key, name, start.Add(-time.Duration(i)*time.Minute)); err != nil {
			b.Fatal(err)
		}
	}
	codec := cursor.NewCodec([]byte("a cursor secret of thirty-two b."))
	sort := ports.IdentitySchema.DefaultSort()
	filter := fmt.Sprintf("account=%s;game=%s;kind=%s", account, game, identity.KindDevice)
	at := func(item *identity.Identity, backward bool) string {
		req := paging.Request{Sort: sort, After: ports.IdentitySchema.Position(item, sort), Backward: backward}
		return codec.Cursor(ports.IdentitySchema.Spec, req, filter)
	}
	return paging.Page[*identity.Identity]{
		Items:   items,
		HasNext: true, Next: at(items[len(items)-1], false),
		HasPrev: true, Prev: at(items[0], true),
	}
}

// BenchmarkWritePage answers a list of identities as GET /v1/identities does:
// mapping to the wire type, encoding and writing through gin. The context is
// reused as gin's pool reuses it.
func BenchmarkWritePage(b *testing.B) {
	page := benchIdentityPage(b)
	rec := httptest.NewRecorder()
	c, _ := gin.CreateTestContext(rec)

	writePage(c, page, nil, toIdentity)
	var got wire.Page[wire.Identity]
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || rec.Code != http.StatusOK {
		b.Fatalf("%d %s: %v", rec.Code, rec.Body, err)
	}
	if len(got.Data) != len(page.Items) || got.Pagination.NextCursor == nil || got.Pagination.PrevCursor == nil {
		b.Fatalf("the body is not the page: %s", rec.Body)
	}
	b.SetBytes(int64(rec.Body.Len()))

	b.ReportAllocs()
	for b.Loop() {
		rec.Body.Reset()
		writePage(c, page, nil, toIdentity)
		if len(c.Errors) > 0 {
			b.Fatal(c.Errors.Last())
		}
	}
}
