package cursor_test

import (
	"crypto/rand"
	"fmt"
	"testing"
	"time"

	"github.com/leadr-oss/identity/application/cursor"
	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/domain/identity"
	"github.com/leadr-oss/identity/ports"
	"github.com/leadr-oss/identity/ports/paging"
)

type benchCursor struct {
	sort   string // as the client spells it
	req    paging.Request
	filter string
	token  string
}

// benchCursors are the cursors of an identity list that a client is likeliest
// to follow: the default sort (a time and the id) and by display name (a
// string and the id). Each carries the position of a real identity, under the
// filter string the identity use case signs, so that the payload has the
// production size.
func benchCursors(b *testing.B, codec *cursor.Codec) []benchCursor {
	b.Helper()
	account, game := id.New[id.Account](), id.New[id.Game]()
	key, err := identity.NewExternalKey(identity.KindDevice, "device-3f2a9c41-6b7e")
	if err != nil {
		b.Fatal(err)
	}
	name, err := identity.ParseDisplayName("Ada Lovelace")
	if err != nil {
		b.Fatal(err)
	}
	item, err := identity.New(account, game, key, name, time.Date(2025, 6, 1, 10, 0, 0, 123456000, time.UTC))
	if err != nil {
		b.Fatal(err)
	}
	filter := fmt.Sprintf("account=%s;game=%s;kind=%s", account, game, identity.KindDevice)

	var out []benchCursor
	for _, spec := range []string{"created_at:desc", "display_name:asc"} {
		sort, err := ports.IdentitySchema.ParseSort(spec)
		if err != nil {
			b.Fatal(err)
		}
		req := paging.Request{Sort: sort, After: ports.IdentitySchema.Position(item, sort)}
		out = append(out, benchCursor{spec, req, filter, codec.Cursor(ports.IdentitySchema.Spec, req, filter)})
	}
	return out
}

// benchCodec has a secret of the length the service generates for itself.
func benchCodec() *cursor.Codec {
	secret := make([]byte, 32)
	_, _ = rand.Read(secret) // never fails (Go ≥ 1.24)
	return cursor.NewCodec(secret)
}

// BenchmarkCursor signs a list page's next cursor; a page with neighbours on
// both sides pays this twice.
func BenchmarkCursor(b *testing.B) {
	codec := benchCodec()
	for _, c := range benchCursors(b, codec) {
		b.Run(c.sort, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if codec.Cursor(ports.IdentitySchema.Spec, c.req, c.filter) == "" {
					b.Fatal("empty cursor")
				}
			}
		})
	}
}

// BenchmarkPlan turns a presented cursor into a repository request, as every
// list request after the first does: parse the sort, check the signature,
// decode the position and compare the state.
func BenchmarkPlan(b *testing.B) {
	codec := benchCodec()
	for _, c := range benchCursors(b, codec) {
		b.Run(c.sort, func(b *testing.B) {
			params := paging.Params{Cursor: c.token, Sort: &c.sort}
			b.ReportAllocs()
			for b.Loop() {
				req, err := codec.Plan(ports.IdentitySchema.Spec, params, c.filter)
				if err != nil {
					b.Fatal(err)
				}
				if len(req.After) != len(c.req.After) {
					b.Fatalf("position of %d values, want %d", len(req.After), len(c.req.After))
				}
			}
		})
	}
}
