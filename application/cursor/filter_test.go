package cursor_test

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/leadr-oss/identity/application/cursor"
	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/domain/identity"
	"github.com/leadr-oss/identity/ports"
)

// filterTypes are the filters of the lists that hand out cursors.
var filterTypes = []any{
	ports.IdentityFilter{}, ports.GameFilter{}, ports.SessionFilter{}, ports.APIKeyFilter{}, ports.UserFilter{},
}

// filterValues are distinct values of each type a filter field has, the
// zero value first.
var filterValues = map[reflect.Type][]any{
	reflect.TypeFor[id.AccountID]():  {id.AccountID{}, id.New[id.Account](), id.New[id.Account]()},
	reflect.TypeFor[id.GameID]():     {id.GameID{}, id.New[id.Game](), id.New[id.Game]()},
	reflect.TypeFor[id.IdentityID](): {id.IdentityID{}, id.New[id.Identity](), id.New[id.Identity]()},
	reflect.TypeFor[id.UserID]():     {id.UserID{}, id.New[id.User](), id.New[id.User]()},
	reflect.TypeFor[identity.Kind](): {identity.Kind{}, identity.KindDevice, identity.KindSteam},
	reflect.TypeFor[string]():        {"", "a", `a";kind=STEAM`, "\"\""},
	reflect.TypeFor[bool]():          {false, true},
}

// TestFingerprintTellsEveryFieldApart changes one field of a filter at a
// time, over every field the filter types have, so that a field added
// later is covered too: a cursor of one filter is refused under another.
func TestFingerprintTellsEveryFieldApart(t *testing.T) {
	t.Parallel()
	for _, f := range filterTypes {
		typ := reflect.TypeOf(f)
		// Every other field zero, and every other field set.
		zero, full := reflect.New(typ).Elem(), reflect.New(typ).Elem()
		for i := range typ.NumField() {
			values := filterValues[typ.Field(i).Type]
			if len(values) < 2 {
				t.Fatalf("%s.%s: no values of %s to test with; add them to filterValues",
					typ, typ.Field(i).Name, typ.Field(i).Type)
			}
			full.Field(i).Set(reflect.ValueOf(values[1]))
		}
		for i := range typ.NumField() {
			values := filterValues[typ.Field(i).Type]
			for _, base := range []reflect.Value{zero, full} {
				seen := map[string]any{}
				for _, v := range values {
					g := reflect.New(typ).Elem()
					g.Set(base)
					g.Field(i).Set(reflect.ValueOf(v))
					fp := cursor.Fingerprint(g.Interface())
					if prev, ok := seen[fp]; ok {
						t.Errorf("%s.%s: %#v and %#v both give %q", typ, typ.Field(i).Name, prev, v, fp)
					}
					seen[fp] = v
				}
			}
		}
	}
}

// TestFingerprintKeepsTheCursorsHandedOut: the fingerprints are the
// strings the services wrote by hand before, so that cursors already handed
// out go on working.
func TestFingerprintKeepsTheCursorsHandedOut(t *testing.T) {
	t.Parallel()
	account, game, ident, user := id.New[id.Account](), id.New[id.Game](), id.New[id.Identity](), id.New[id.User]()
	tests := []struct {
		filter any
		before string
	}{
		{ports.IdentityFilter{}, fmt.Sprintf("account=%s;game=%s;kind=%s", id.AccountID{}, id.GameID{}, identity.Kind{})},
		{
			ports.IdentityFilter{AccountID: account, GameID: game, Kind: identity.KindSteam},
			fmt.Sprintf("account=%s;game=%s;kind=%s", account, game, identity.KindSteam),
		},
		{
			ports.IdentityFilter{AccountID: account, ExternalKey: `k";x`},
			fmt.Sprintf("account=%s;game=%s;kind=%s", account, id.GameID{}, identity.Kind{}) + fmt.Sprintf(";key=%q", `k";x`),
		},
		{ports.GameFilter{}, fmt.Sprintf("account=%s;slug=%q", id.AccountID{}, "")},
		{ports.GameFilter{AccountID: account, Slug: "my-game"}, fmt.Sprintf("account=%s;slug=%q", account, "my-game")},
		{ports.SessionFilter{AccountID: account, IdentityID: ident}, fmt.Sprintf("account=%s;identity=%s", account, ident)},
		{ports.SessionFilter{}, fmt.Sprintf("account=%s;identity=%s", id.AccountID{}, id.IdentityID{})},
		{ports.APIKeyFilter{AccountID: account, UserID: user}, fmt.Sprintf("account=%s;user=%s", account, user)},
		{ports.APIKeyFilter{}, fmt.Sprintf("account=%s;user=%s", id.AccountID{}, id.UserID{})},
		{ports.UserFilter{AccountID: account}, "account=" + account.String()},
		{ports.UserFilter{}, "account="},
	}
	for _, tt := range tests {
		if got := cursor.Fingerprint(tt.filter); got != tt.before {
			t.Errorf("Fingerprint(%#v) = %q, want %q", tt.filter, got, tt.before)
		}
	}
}

func BenchmarkFingerprint(b *testing.B) {
	f := ports.IdentityFilter{AccountID: id.New[id.Account](), GameID: id.New[id.Game](), Kind: identity.KindDevice, ExternalKey: "k"}
	b.Run("reflection", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = cursor.Fingerprint(f)
		}
	})
	// What the identity service wrote by hand before.
	b.Run("sprintf", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			s := fmt.Sprintf("account=%s;game=%s;kind=%s", f.AccountID, f.GameID, f.Kind)
			if f.ExternalKey != "" {
				s += fmt.Sprintf(";key=%q", f.ExternalKey)
			}
			_ = s
		}
	})
}
