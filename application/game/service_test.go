package game_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/leadr-oss/identity/application/apptest"
	"github.com/leadr-oss/identity/application/auth"
	"github.com/leadr-oss/identity/application/cursor"
	appgame "github.com/leadr-oss/identity/application/game"
	"github.com/leadr-oss/identity/application/sealing"
	"github.com/leadr-oss/identity/domain"
	"github.com/leadr-oss/identity/domain/event"
	"github.com/leadr-oss/identity/domain/game"
	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/domain/tenancy"
	"github.com/leadr-oss/identity/ports"
	"github.com/leadr-oss/identity/ports/paging"
)

const steamKey = "0123456789abcdef0123456789ABCDEF"

// clock is a fake ports.Clock the test moves by hand.
type clock struct{ now time.Time }

func (c *clock) Now() time.Time          { return c.now }
func (c *clock) Advance(d time.Duration) { c.now = c.now.Add(d) }

// countingRepo counts the writes that reach the repository.
type countingRepo struct {
	ports.GameRepository
	updates atomic.Int32
}

func (r *countingRepo) Update(ctx context.Context, gameID id.GameID, fn func(*game.Game) error) (*game.Game, error) {
	r.updates.Add(1)
	return r.GameRepository.Update(ctx, gameID, fn)
}

type env struct {
	t       *testing.T
	ctx     context.Context
	svc     *appgame.Service
	repo    *countingRepo
	cipher  *sealing.Cipher
	clock   *clock
	acme    id.AccountID // the regular user's account
	other   id.AccountID // another tenant
	regular tenancy.Principal
	super   tenancy.Principal
	// events is the outbox the repository records each change in.
	events ports.EventRepository
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	mem := apptest.NewMemory()
	clk := &clock{now: time.Date(2025, 6, 1, 10, 0, 0, 123456789, time.UTC)}
	acme, other, system := mem.NewAccount(t, "acme", clk.Now()), mem.NewAccount(t, "other", clk.Now()), mem.NewAccount(t, "system", clk.Now())
	repo := &countingRepo{GameRepository: mem.Games()}
	cipher := sealing.NewCipher([]byte("a sealing secret of enough length"))
	return &env{
		t: t, ctx: ctx, repo: repo, cipher: cipher, clock: clk, events: mem.Events(),
		svc:     appgame.NewService(repo, cipher, cursor.NewCodec([]byte("cursor secret")), clk.Now),
		acme:    acme,
		other:   other,
		regular: tenancy.Principal{KeyID: id.New[id.APIKey](), UserID: id.New[id.User](), AccountID: acme},
		super:   tenancy.Principal{KeyID: id.New[id.APIKey](), UserID: id.New[id.User](), AccountID: system, SuperAdmin: true},
	}
}

func ptr(s string) *string { return &s }

func set(s string) ports.Setting { return ports.Setting{Given: true, Value: &s} }

// cleared is a setting given as JSON null.
var cleared = ports.Setting{Given: true}

func (e *env) create(p tenancy.Principal, c ports.CreateGame) *game.Game {
	e.t.Helper()
	if c.Name == "" {
		c.Name = "Space Invaders"
	}
	g, err := e.svc.Create(e.ctx, p, c)
	if err != nil {
		e.t.Fatalf("Create(%+v): %v", c, err)
	}
	return g
}

// stored reads a game as the repository holds it, past the use cases.
func (e *env) stored(gameID id.GameID) game.Snapshot {
	e.t.Helper()
	g, err := e.repo.Get(e.ctx, gameID)
	if err != nil {
		e.t.Fatalf("repository Get(%s): %v", gameID, err)
	}
	return g.Snapshot()
}

// count is how many live games the repository holds.
func (e *env) count() int {
	e.t.Helper()
	res, err := e.repo.List(e.ctx, ports.GameFilter{}, paging.Request{Sort: ports.GameSchema.DefaultSort(), Limit: 1000})
	if err != nil {
		e.t.Fatal(err)
	}
	return len(res.Items)
}

type problem struct {
	field string
	rule  domain.Rule
}

// problems walks err through every errors.Join branch and returns the Invalid
// errors it holds; it fails the test on an error of another category.
func problems(t *testing.T, err error) []problem {
	t.Helper()
	var out []problem
	for _, de := range apptest.InvalidErrors(t, err) {
		out = append(out, problem{de.Field, de.Rule})
	}
	return out
}

func TestCreate(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	g, err := e.svc.Create(e.ctx, e.regular, ports.CreateGame{Name: "  Space Invaders\u3000"})
	if err != nil {
		t.Fatal(err)
	}
	now := domain.Timestamp(e.clock.Now())
	if g.AccountID() != e.acme || g.Name().String() != "Space Invaders" || g.Slug().String() != "space-invaders" ||
		!g.SteamAppID().IsZero() || g.SealedSteamKey() != nil || g.SteamConfigured() || !g.DeviceSignIn() ||
		g.CreatedAt() != now || g.UpdatedAt() != now || g.IsDeleted() {
		t.Errorf("created game = %+v", g.Snapshot())
	}
	if got := e.stored(g.ID()); !reflect.DeepEqual(got, g.Snapshot()) {
		t.Errorf("stored %+v, returned %+v", got, g.Snapshot())
	}
}

func TestCreateExplicitSlug(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	g := e.create(e.regular, ports.CreateGame{Name: "Space Invaders", Slug: ptr("invaders")})
	if g.Slug().String() != "invaders" {
		t.Errorf("slug = %q, want the one given", g.Slug())
	}
}

func TestCreateDerivedSlugCountsUp(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// Slugs are per account: another account's counts up on its own, as if
	// this one's did not exist.
	steps := []struct {
		p    tenancy.Principal
		c    ports.CreateGame
		want string
	}{
		{e.regular, ports.CreateGame{Name: "Space Invaders"}, "space-invaders"},
		{e.regular, ports.CreateGame{Name: "Space Invaders"}, "space-invaders-2"},
		{e.regular, ports.CreateGame{Name: "space  invaders!"}, "space-invaders-3"},
		{e.super, ports.CreateGame{AccountID: e.other, Name: "Space Invaders"}, "space-invaders"},
		{e.super, ports.CreateGame{AccountID: e.other, Name: "Space Invaders"}, "space-invaders-2"},
		{e.regular, ports.CreateGame{Name: "Space Invaders"}, "space-invaders-4"},
		{e.regular, ports.CreateGame{Name: "Pong", Slug: ptr("pong")}, "pong"},
		{e.regular, ports.CreateGame{Name: "Pong"}, "pong-2"},
		// A name whose derived slug is someone's numbered one counts up from it.
		{e.regular, ports.CreateGame{Name: "Pong 2"}, "pong-2-2"},
	}
	for _, s := range steps {
		if g := e.create(s.p, s.c); g.Slug().String() != s.want {
			t.Errorf("Create(%+v): slug %q, want %q", s.c, g.Slug(), s.want)
		}
	}
}

func TestCreateDerivedSlugOfADeletedGameIsTaken(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	first := e.create(e.regular, ports.CreateGame{Name: "Pong"})
	if _, err := e.svc.Update(e.ctx, e.regular, ports.UpdateGame{ID: first.ID(), Delete: true}); err != nil {
		t.Fatal(err)
	}
	if g := e.create(e.regular, ports.CreateGame{Name: "Pong"}); g.Slug().String() != "pong-2" {
		t.Errorf("slug = %q: a deleted game's slug was reused", g.Slug())
	}
	_, err := e.svc.Create(e.ctx, e.regular, ports.CreateGame{Name: "Pong", Slug: ptr("pong")})
	if !errors.Is(err, game.ErrSlugTaken) {
		t.Errorf("explicit slug of a deleted game: %v, want ErrSlugTaken", err)
	}
}

func TestCreateDerivedSlugGivesUp(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// Counting up is bounded, so that a crowded name ends in a 409 rather
	// than in an endless loop of inserts.
	seen := map[string]bool{}
	for range 100 {
		seen[e.create(e.regular, ports.CreateGame{Name: "Pong"}).Slug().String()] = true
	}
	if !seen["pong"] || !seen["pong-2"] || !seen["pong-100"] || len(seen) != 100 {
		t.Fatalf("slugs of 100 games called Pong: %d distinct, pong-100 %v", len(seen), seen["pong-100"])
	}
	_, err := e.svc.Create(e.ctx, e.regular, ports.CreateGame{Name: "Pong"})
	if !errors.Is(err, game.ErrSlugTaken) {
		t.Errorf("the 101st Pong: %v, want ErrSlugTaken", err)
	}
	if n := e.count(); n != 100 {
		t.Errorf("%d games stored, want 100", n)
	}
}

func TestCreateExplicitSlugTaken(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		p    func(*env) tenancy.Principal
	}{
		{"by a regular key", func(e *env) tenancy.Principal { return e.regular }},
		{"by a superadmin", func(e *env) tenancy.Principal { return e.super }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			e.create(e.regular, ports.CreateGame{Name: "Pong", Slug: ptr("pong")})
			g, err := e.svc.Create(e.ctx, tt.p(e), ports.CreateGame{AccountID: e.acme, Name: "Another Pong", Slug: ptr("pong")})
			if !errors.Is(err, game.ErrSlugTaken) || g != nil {
				t.Fatalf("Create = %v, %v; want ErrSlugTaken", g, err)
			}
			if domain.CategoryOf(err) != domain.CategoryConflict {
				t.Errorf("category = %v, want conflict", domain.CategoryOf(err))
			}
			if n := e.count(); n != 1 {
				t.Errorf("%d games stored, want 1", n)
			}
		})
	}
}

// TestCreateTakesAnotherTenantsSlug: a slug taken in another account is
// free in this one, so that creating a game tells a tenant nothing of
// another's games and lets no one squat on a slug for another.
func TestCreateTakesAnotherTenantsSlug(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	theirs := e.create(e.super, ports.CreateGame{AccountID: e.other, Name: "Pong", Slug: ptr("pong")})
	mine, err := e.svc.Create(e.ctx, e.regular, ports.CreateGame{Name: "My Pong", Slug: ptr("pong")})
	if err != nil {
		t.Fatalf("a slug of another account: %v, want a new game", err)
	}
	if mine.Slug().String() != "pong" || mine.AccountID() != e.acme || mine.ID() == theirs.ID() {
		t.Errorf("created %+v", mine.Snapshot())
	}
	if s := e.stored(theirs.ID()); !reflect.DeepEqual(s, theirs.Snapshot()) {
		t.Errorf("the other account's game changed: %+v", s)
	}
	// Each account's list by slug holds its own game only.
	for p, want := range map[tenancy.Principal]id.GameID{e.regular: mine.ID(), e.super: theirs.ID()} {
		q := ports.ListGames{Slug: ptr("pong")}
		if p.SuperAdmin {
			q.AccountID = e.other
		}
		page, err := e.svc.List(e.ctx, p, q)
		if err != nil || len(page.Items) != 1 || page.Items[0].ID() != want {
			t.Errorf("list by slug as %v: %d games (%v), want %s", p.AccountID, len(page.Items), err, want)
		}
	}
}

func TestDeviceSignInSetting(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	off, on := false, true
	g := e.create(e.regular, ports.CreateGame{Name: "Steam only", DeviceSignIn: &off})
	if g.DeviceSignIn() || e.stored(g.ID()).DeviceSignIn || g.UpdatedAt() != g.CreatedAt() {
		t.Fatalf("created with device sign-in off: %+v", g.Snapshot())
	}
	steps := []struct {
		name        string
		c           ports.UpdateGame
		want        bool
		wantUpdated bool
	}{
		{"turned on", ports.UpdateGame{DeviceSignIn: &on}, true, true},
		{"on again", ports.UpdateGame{DeviceSignIn: &on}, true, false},
		{"left alone by a rename", ports.UpdateGame{Name: ptr("Pong")}, true, true},
		{"turned off", ports.UpdateGame{DeviceSignIn: &off}, false, true},
	}
	for _, s := range steps {
		e.clock.Advance(time.Minute)
		before := e.stored(g.ID()).UpdatedAt
		c := s.c
		c.ID = g.ID()
		got, err := e.svc.Update(e.ctx, e.regular, c)
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		stored := e.stored(g.ID())
		if got.DeviceSignIn() != s.want || stored.DeviceSignIn != s.want {
			t.Errorf("%s: device sign-in %v, stored %v; want %v", s.name, got.DeviceSignIn(), stored.DeviceSignIn, s.want)
		}
		if moved := stored.UpdatedAt != before; moved != s.wantUpdated {
			t.Errorf("%s: updated_at moved %v, want %v", s.name, moved, s.wantUpdated)
		}
	}
}

func TestCreateAccountChoice(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		super       bool
		named       func(*env) id.AccountID
		wantAccount func(*env) id.AccountID
		wantErr     error
	}{
		{"regular user defaults to own account", false, nil, func(e *env) id.AccountID { return e.acme }, nil},
		{"regular user names own account", false, func(e *env) id.AccountID { return e.acme }, func(e *env) id.AccountID { return e.acme }, nil},
		{"regular user names another account", false, func(e *env) id.AccountID { return e.other }, nil, auth.ErrAccountDenied},
		{"superadmin names an account", true, func(e *env) id.AccountID { return e.other }, func(e *env) id.AccountID { return e.other }, nil},
		{"superadmin names an unknown account", true, func(*env) id.AccountID { return id.New[id.Account]() }, nil, tenancy.ErrAccountNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			p := e.regular
			if tt.super {
				p = e.super
			}
			c := ports.CreateGame{Name: "Pong", SteamAppID: ptr("480"), SteamWebAPIKey: ptr(steamKey)}
			if tt.named != nil {
				c.AccountID = tt.named(e)
			}
			g, err := e.svc.Create(e.ctx, p, c)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || g != nil {
					t.Fatalf("Create = %v, %v; want %v", g, err, tt.wantErr)
				}
				if n := e.count(); n != 0 {
					t.Errorf("a refused create stored %d games", n)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if g.AccountID() != tt.wantAccount(e) {
				t.Errorf("account = %s, want %s", g.AccountID(), tt.wantAccount(e))
			}
		})
	}
}

func TestCreateValidation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		super bool
		// other: name the other tenant's account (a regular user may not).
		other bool
		c     ports.CreateGame
		want  []problem
	}{
		{name: "empty name", c: ports.CreateGame{Name: ""}, want: []problem{{"name", domain.MinLength}}},
		{name: "blank name", c: ports.CreateGame{Name: " \u3000 "}, want: []problem{{"name", domain.MinLength}}},
		{name: "long name", c: ports.CreateGame{Name: strings.Repeat("x", 101)}, want: []problem{{"name", domain.MaxLength}}},
		{name: "control in name", c: ports.CreateGame{Name: "Po\u0000ng"}, want: []problem{{"name", domain.Custom}}},
		{name: "bad slug", c: ports.CreateGame{Name: "Pong", Slug: ptr("Pong")}, want: []problem{{"slug", domain.Custom}}},
		{name: "empty slug is not no slug", c: ports.CreateGame{Name: "Pong", Slug: ptr("")}, want: []problem{{"slug", domain.Custom}}},
		{name: "bad app ID", c: ports.CreateGame{Name: "Pong", SteamAppID: ptr("app")}, want: []problem{{"steam_app_id", domain.Custom}}},
		{name: "bad key", c: ports.CreateGame{Name: "Pong", SteamWebAPIKey: ptr("short")}, want: []problem{{"steam_web_api_key", domain.Custom}}},
		{
			name: "superadmin without account", super: true, c: ports.CreateGame{Name: "Pong"},
			want: []problem{{"account_id", domain.Required}},
		},
		{
			name: "everything wrong at once", super: true,
			c: ports.CreateGame{Name: "", Slug: ptr("-x-"), SteamAppID: ptr(""), SteamWebAPIKey: ptr("")},
			want: []problem{
				{"name", domain.MinLength}, {"slug", domain.Custom}, {"steam_app_id", domain.Custom},
				{"steam_web_api_key", domain.Custom}, {"account_id", domain.Required},
			},
		},
		{
			name: "invalid input beats access: another account and a bad name", other: true,
			c:    ports.CreateGame{Name: strings.Repeat("x", 101)},
			want: []problem{{"name", domain.MaxLength}},
		},
		{
			name: "invalid input beats access: another account and a bad key", other: true,
			c:    ports.CreateGame{Name: "Pong", SteamWebAPIKey: ptr("nope")},
			want: []problem{{"steam_web_api_key", domain.Custom}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			p := e.regular
			if tt.super {
				p = e.super
			}
			c := tt.c
			if tt.other {
				c.AccountID = e.other
			}
			g, err := e.svc.Create(e.ctx, p, c)
			if g != nil {
				t.Errorf("got game %+v with an error", g.Snapshot())
			}
			if errors.Is(err, auth.ErrAccountDenied) {
				t.Fatalf("err = %v: the access error came before the validation error", err)
			}
			got := problems(t, err)
			byField := func(a, b problem) int { return strings.Compare(a.field, b.field) }
			slices.SortFunc(got, byField)
			want := slices.Clone(tt.want)
			slices.SortFunc(want, byField)
			if !slices.Equal(got, want) {
				t.Errorf("problems = %v, want %v (%v)", got, want, err)
			}
			if n := e.count(); n != 0 {
				t.Errorf("an invalid create stored %d games", n)
			}
		})
	}
}

func TestCreateSealsTheSteamKey(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	g := e.create(e.regular, ports.CreateGame{Name: "Pong", SteamAppID: ptr("480"), SteamWebAPIKey: ptr(steamKey)})
	if g.SteamAppID().String() != "480" || !g.SteamConfigured() {
		t.Errorf("app ID %q, configured %v; want 480 and configured", g.SteamAppID(), g.SteamConfigured())
	}
	e.checkSealed(t, g.ID(), steamKey)
}

// checkSealed asserts that the stored key of gameID is plain sealed, bound
// to that game.
func (e *env) checkSealed(t *testing.T, gameID id.GameID, plain string) {
	t.Helper()
	sealed := e.stored(gameID).SteamKey
	if len(sealed) == 0 {
		t.Fatal("no key stored")
	}
	if bytes.Contains(bytes.ToLower(sealed), bytes.ToLower([]byte(plain))) {
		t.Fatal("the stored key holds the plaintext")
	}
	opened, err := e.cipher.Open(sealed, []byte(gameID.String()))
	if err != nil || string(opened) != plain {
		t.Fatalf("Open under the game's ID = %q, %v; want the plaintext", opened, err)
	}
	// Bound to its game: a copy moved to another game's row does not open.
	if _, err := e.cipher.Open(sealed, []byte(id.New[id.Game]().String())); err == nil {
		t.Error("the key opens under another game's ID")
	}
}

func TestGet(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	mine := e.create(e.regular, ports.CreateGame{Name: "Mine"})
	theirs := e.create(e.super, ports.CreateGame{AccountID: e.other, Name: "Theirs"})
	deleted := e.create(e.regular, ports.CreateGame{Name: "Deleted"})
	if _, err := e.svc.Update(e.ctx, e.regular, ports.UpdateGame{ID: deleted.ID(), Delete: true}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		p       tenancy.Principal
		q       ports.GetGame
		want    id.GameID
		wantErr error
	}{
		{"own game", e.regular, ports.GetGame{ID: mine.ID()}, mine.ID(), nil},
		{"own game, own account named", e.regular, ports.GetGame{ID: mine.ID(), AccountID: e.acme}, mine.ID(), nil},
		{"another tenant's game", e.regular, ports.GetGame{ID: theirs.ID()}, id.GameID{}, game.ErrForbidden},
		{"another tenant's game, own account named", e.regular, ports.GetGame{ID: theirs.ID(), AccountID: e.acme}, id.GameID{}, game.ErrForbidden},
		{"another account named", e.regular, ports.GetGame{ID: mine.ID(), AccountID: e.other}, id.GameID{}, auth.ErrAccountDenied},
		{"another account named, unknown id", e.regular, ports.GetGame{ID: id.New[id.Game](), AccountID: e.other}, id.GameID{}, auth.ErrAccountDenied},
		{"unknown id", e.regular, ports.GetGame{ID: id.New[id.Game]()}, id.GameID{}, game.ErrNotFound},
		{"deleted", e.regular, ports.GetGame{ID: deleted.ID()}, id.GameID{}, game.ErrNotFound},
		{"deleted, superadmin", e.super, ports.GetGame{ID: deleted.ID()}, id.GameID{}, game.ErrNotFound},
		{"superadmin, no account", e.super, ports.GetGame{ID: theirs.ID()}, theirs.ID(), nil},
		{"superadmin, the game's account", e.super, ports.GetGame{ID: theirs.ID(), AccountID: e.other}, theirs.ID(), nil},
		{"superadmin, another account", e.super, ports.GetGame{ID: theirs.ID(), AccountID: e.acme}, id.GameID{}, game.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := e.svc.Get(e.ctx, tt.p, tt.q)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || g != nil {
					t.Fatalf("Get = %v, %v; want %v", g, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if g.ID() != tt.want {
				t.Errorf("got %s, want %s", g.ID(), tt.want)
			}
		})
	}
}

// list follows next cursors to the end and returns every item in order.
func (e *env) list(t *testing.T, p tenancy.Principal, q ports.ListGames) []*game.Game {
	t.Helper()
	return apptest.WalkPages(t, func(cursor string) (paging.Page[*game.Game], error) {
		q.Page.Cursor = cursor
		return e.svc.List(e.ctx, p, q)
	})
}

func slugs(items []*game.Game) []string {
	out := make([]string, len(items))
	for i, g := range items {
		out[i] = g.Slug().String()
	}
	return out
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

func TestListScope(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, name := range []string{"Alpha", "Beta", "Gamma", "Gone"} {
		e.create(e.regular, ports.CreateGame{Name: name})
	}
	for _, name := range []string{"Delta", "Epsilon"} {
		e.create(e.super, ports.CreateGame{AccountID: e.other, Name: name})
	}
	gone, err := e.svc.List(e.ctx, e.regular, ports.ListGames{Slug: ptr("gone")})
	if err != nil || len(gone.Items) != 1 {
		t.Fatalf("List by slug gone: %+v, %v", gone, err)
	}
	if _, err := e.svc.Update(e.ctx, e.regular, ports.UpdateGame{ID: gone.Items[0].ID(), Delete: true}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		p    tenancy.Principal
		q    ports.ListGames
		want []string
	}{
		{"regular sees own account", e.regular, ports.ListGames{}, []string{"alpha", "beta", "gamma"}},
		{"regular names own account", e.regular, ports.ListGames{AccountID: e.acme}, []string{"alpha", "beta", "gamma"}},
		{"regular, by slug", e.regular, ports.ListGames{Slug: ptr("beta")}, []string{"beta"}},
		{"regular, another account's slug", e.regular, ports.ListGames{Slug: ptr("delta")}, nil},
		{"regular, a deleted game's slug", e.regular, ports.ListGames{Slug: ptr("gone")}, nil},
		{"regular, slug is exact", e.regular, ports.ListGames{Slug: ptr("alph")}, nil},
		{"an empty slug matches nothing", e.super, ports.ListGames{Slug: ptr("")}, nil},
		{"superadmin sees all", e.super, ports.ListGames{}, []string{"alpha", "beta", "delta", "epsilon", "gamma"}},
		{"superadmin names an account", e.super, ports.ListGames{AccountID: e.other}, []string{"delta", "epsilon"}},
		{"superadmin, by slug across accounts", e.super, ports.ListGames{Slug: ptr("delta")}, []string{"delta"}},
		{"superadmin, slug of another account than named", e.super, ports.ListGames{AccountID: e.acme, Slug: ptr("delta")}, nil},
		{"small pages", e.super, ports.ListGames{Page: paging.Params{Limit: 1}}, []string{"alpha", "beta", "delta", "epsilon", "gamma"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := sorted(slugs(e.list(t, tt.p, tt.q)))
			if !slices.Equal(got, sorted(tt.want)) {
				t.Errorf("listed %v, want %v", got, tt.want)
			}
		})
	}
	if _, err := e.svc.List(e.ctx, e.regular, ports.ListGames{AccountID: e.other}); !errors.Is(err, auth.ErrAccountDenied) {
		t.Errorf("regular user listing another account: %v, want ErrAccountDenied", err)
	}
}

func TestListSorts(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// Created in this order, one second apart; names and slugs sort otherwise.
	for _, c := range []ports.CreateGame{
		{Name: "beta", Slug: ptr("zzz")},
		{Name: "Alpha", Slug: ptr("mmm")},
		{Name: "alpha", Slug: ptr("aaa")},
	} {
		e.create(e.regular, c)
		e.clock.Advance(time.Second)
	}
	tests := []struct {
		sort *string
		want []string // slugs
	}{
		{nil, []string{"aaa", "mmm", "zzz"}}, // newest first
		{ptr("created_at:asc"), []string{"zzz", "mmm", "aaa"}},
		{ptr("name:asc"), []string{"mmm", "aaa", "zzz"}}, // byte-wise: upper case first
		{ptr("name:desc"), []string{"zzz", "aaa", "mmm"}},
		{ptr("slug:asc"), []string{"aaa", "mmm", "zzz"}},
		{ptr("slug:desc"), []string{"zzz", "mmm", "aaa"}},
		{ptr("updated_at:asc"), []string{"zzz", "mmm", "aaa"}},
	}
	for _, tt := range tests {
		name := "default"
		if tt.sort != nil {
			name = *tt.sort
		}
		t.Run(name, func(t *testing.T) {
			// Pages of one, so that the cursors carry the order too.
			got := slugs(e.list(t, e.regular, ports.ListGames{Page: paging.Params{Sort: tt.sort, Limit: 1}}))
			if !slices.Equal(got, tt.want) {
				t.Errorf("order = %v, want %v", got, tt.want)
			}
		})
	}
	for _, bad := range []string{"display_name:asc", "name", "name:up", "slug:asc,slug:desc", ""} {
		_, err := e.svc.List(e.ctx, e.regular, ports.ListGames{Page: paging.Params{Sort: ptr(bad)}})
		if domain.CategoryOf(err) != domain.CategoryBadRequest {
			t.Errorf("sort %q: %v, want a bad request", bad, err)
		}
	}
}

func TestListCursorKeepsItsFilters(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, name := range []string{"Alpha", "Beta", "Gamma"} {
		e.create(e.regular, ports.CreateGame{Name: name})
	}
	first, err := e.svc.List(e.ctx, e.super, ports.ListGames{Page: paging.Params{Limit: 1}})
	if err != nil || first.Next == "" {
		t.Fatalf("first page: %+v, %v", first, err)
	}
	tests := []struct {
		name string
		p    tenancy.Principal
		q    ports.ListGames
	}{
		{"slug added", e.super, ports.ListGames{Slug: ptr("beta")}},
		{"account scope added", e.super, ports.ListGames{AccountID: e.acme}},
		{"regular user's scope", e.regular, ports.ListGames{}},
		{"other sort", e.super, ports.ListGames{Page: paging.Params{Sort: ptr("name:asc")}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := tt.q
			q.Page.Cursor = first.Next
			if _, err := e.svc.List(e.ctx, tt.p, q); !errors.Is(err, cursor.ErrCursorState) {
				t.Errorf("err = %v, want ErrCursorState", err)
			}
		})
	}
	// Same filters, another limit: fine.
	if _, err := e.svc.List(e.ctx, e.super, ports.ListGames{Page: paging.Params{Cursor: first.Next, Limit: 50}}); err != nil {
		t.Errorf("same query, other limit: %v", err)
	}
}

func TestUpdateRenames(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	orig := e.create(e.regular, ports.CreateGame{Name: "Space Invaders"})
	e.clock.Advance(time.Hour)
	got, err := e.svc.Update(e.ctx, e.regular, ports.UpdateGame{ID: orig.ID(), Name: ptr(" Galaga ")})
	if err != nil {
		t.Fatal(err)
	}
	for what, s := range map[string]game.Snapshot{"returned": got.Snapshot(), "stored": e.stored(orig.ID())} {
		if s.Name != "Galaga" || s.Slug != "space-invaders" {
			t.Errorf("%s name, slug = %q, %q; want Galaga under the same slug", what, s.Name, s.Slug)
		}
		if s.UpdatedAt != domain.Timestamp(e.clock.Now()) || s.CreatedAt != orig.CreatedAt() {
			t.Errorf("%s updated_at, created_at = %v, %v", what, s.UpdatedAt, s.CreatedAt)
		}
	}

	// The same name again is no change.
	e.clock.Advance(time.Hour)
	again, err := e.svc.Update(e.ctx, e.regular, ports.UpdateGame{ID: orig.ID(), Name: ptr("Galaga")})
	if err != nil {
		t.Fatal(err)
	}
	if again.UpdatedAt() != got.UpdatedAt() || e.stored(orig.ID()).UpdatedAt != got.UpdatedAt() {
		t.Errorf("renaming to the same name moved updated_at to %v", again.UpdatedAt())
	}
}

func TestUpdateSteamSettings(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	g := e.create(e.regular, ports.CreateGame{Name: "Pong"})
	steps := []struct {
		name       string
		c          ports.UpdateGame
		wantAppID  string
		wantKey    string // the plaintext the stored key opens to; "" for none
		configured bool
	}{
		{"set app ID", ports.UpdateGame{SteamAppID: set("480")}, "480", "", false},
		{"set key", ports.UpdateGame{SteamWebAPIKey: set(steamKey)}, "480", steamKey, true},
		{"leave both alone", ports.UpdateGame{Name: ptr("Pong II")}, "480", steamKey, true},
		{"replace both", ports.UpdateGame{SteamAppID: set("570"), SteamWebAPIKey: set(strings.Repeat("f", 32))}, "570", strings.Repeat("f", 32), true},
		{"clear app ID", ports.UpdateGame{SteamAppID: cleared}, "", strings.Repeat("f", 32), false},
		{"clear key", ports.UpdateGame{SteamWebAPIKey: cleared}, "", "", false},
		{"set both", ports.UpdateGame{SteamAppID: set("480"), SteamWebAPIKey: set(steamKey)}, "480", steamKey, true},
		{"clear both", ports.UpdateGame{SteamAppID: cleared, SteamWebAPIKey: cleared}, "", "", false},
	}
	for _, s := range steps {
		e.clock.Advance(time.Minute)
		c := s.c
		c.ID = g.ID()
		got, err := e.svc.Update(e.ctx, e.regular, c)
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if got.SteamAppID().String() != s.wantAppID || got.SteamConfigured() != s.configured {
			t.Errorf("%s: app ID %q, configured %v; want %q, %v", s.name, got.SteamAppID(), got.SteamConfigured(), s.wantAppID, s.configured)
		}
		if got.UpdatedAt() != domain.Timestamp(e.clock.Now()) {
			t.Errorf("%s: updated_at = %v, want now", s.name, got.UpdatedAt())
		}
		stored := e.stored(g.ID())
		if stored.SteamAppID != s.wantAppID {
			t.Errorf("%s: stored app ID %q, want %q", s.name, stored.SteamAppID, s.wantAppID)
		}
		if s.wantKey == "" {
			if stored.SteamKey != nil {
				t.Errorf("%s: a key is stored", s.name)
			}
			continue
		}
		e.checkSealed(t, g.ID(), s.wantKey)
	}
}

func TestUpdateDeleteWins(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	orig := e.create(e.regular, ports.CreateGame{Name: "Pong", SteamAppID: ptr("480"), SteamWebAPIKey: ptr(steamKey)})
	e.clock.Advance(time.Hour)
	got, err := e.svc.Update(e.ctx, e.regular, ports.UpdateGame{
		ID: orig.ID(), Name: ptr("Galaga"), SteamAppID: cleared, SteamWebAPIKey: cleared, Delete: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	now := domain.Timestamp(e.clock.Now())
	if !got.IsDeleted() || got.DeletedAt() != now || got.UpdatedAt() != now {
		t.Errorf("deleted = %v, deleted_at = %v, updated_at = %v; want deleted at %v", got.IsDeleted(), got.DeletedAt(), got.UpdatedAt(), now)
	}
	if got.Name().String() != "Pong" || got.SteamAppID().String() != "480" || !got.SteamConfigured() {
		t.Errorf("the other changes were applied alongside the delete: %+v", got.Snapshot())
	}
	if _, err := e.svc.Get(e.ctx, e.regular, ports.GetGame{ID: orig.ID()}); !errors.Is(err, game.ErrNotFound) {
		t.Errorf("Get after delete: %v, want ErrNotFound", err)
	}
	for _, c := range []ports.UpdateGame{
		{ID: orig.ID(), Delete: true},
		{ID: orig.ID(), Name: ptr("Carol")},
		{ID: orig.ID(), SteamAppID: cleared},
		{ID: orig.ID()},
	} {
		if _, err := e.svc.Update(e.ctx, e.regular, c); !errors.Is(err, game.ErrNotFound) {
			t.Errorf("Update %+v of a deleted game: %v, want ErrNotFound", c, err)
		}
		if _, err := e.svc.Update(e.ctx, e.super, c); !errors.Is(err, game.ErrNotFound) {
			t.Errorf("superadmin's Update %+v of a deleted game: %v, want ErrNotFound", c, err)
		}
	}
}

func TestUpdateWithNothingWritesNothing(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		target  func(mine, theirs *game.Game) id.GameID
		wantErr error
	}{
		{"own game", func(m, _ *game.Game) id.GameID { return m.ID() }, nil},
		{"another tenant's", func(_, o *game.Game) id.GameID { return o.ID() }, game.ErrForbidden},
		{"unknown", func(*game.Game, *game.Game) id.GameID { return id.New[id.Game]() }, game.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			mine := e.create(e.regular, ports.CreateGame{Name: "Mine", SteamAppID: ptr("480")})
			theirs := e.create(e.super, ports.CreateGame{AccountID: e.other, Name: "Theirs"})
			e.clock.Advance(time.Hour)
			writes := e.repo.updates.Load()

			// Setting{} is "not given", whatever its Value says.
			got, err := e.svc.Update(e.ctx, e.regular, ports.UpdateGame{
				ID: tt.target(mine, theirs), SteamAppID: ports.Setting{Value: ptr("570")},
			})
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if n := e.repo.updates.Load() - writes; n != 0 {
				t.Errorf("an empty update reached the repository's Update %d times", n)
			}
			if tt.wantErr == nil && !reflect.DeepEqual(got.Snapshot(), mine.Snapshot()) {
				t.Errorf("empty update returned %+v, want %+v", got.Snapshot(), mine.Snapshot())
			}
			if s := e.stored(mine.ID()); !reflect.DeepEqual(s, mine.Snapshot()) {
				t.Errorf("empty update changed the stored game: %+v", s)
			}
		})
	}
}

func TestUpdateRefused(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		super   bool
		target  string // "theirs", "mine", "deleted" (one of acme's) or "unknown"
		named   string // "", "acme" or "other"
		c       ports.UpdateGame
		wantErr error
		invalid []string // the fields of the expected Invalid errors, instead of wantErr
	}{
		{name: "rename another tenant's", target: "theirs", c: ports.UpdateGame{Name: ptr("Mallory")}, wantErr: game.ErrForbidden},
		{name: "set another tenant's key", target: "theirs", c: ports.UpdateGame{SteamWebAPIKey: set(steamKey)}, wantErr: game.ErrForbidden},
		{name: "clear another tenant's app ID", target: "theirs", c: ports.UpdateGame{SteamAppID: cleared}, wantErr: game.ErrForbidden},
		{name: "delete another tenant's", target: "theirs", c: ports.UpdateGame{Delete: true}, wantErr: game.ErrForbidden},
		{name: "another tenant's, own account named", target: "theirs", named: "acme", c: ports.UpdateGame{Name: ptr("Mallory")}, wantErr: game.ErrForbidden},
		{name: "regular names another account", target: "mine", named: "other", c: ports.UpdateGame{Name: ptr("Bob")}, wantErr: auth.ErrAccountDenied},
		{name: "superadmin names the wrong account", super: true, target: "theirs", named: "acme", c: ports.UpdateGame{Delete: true}, wantErr: game.ErrNotFound},
		{name: "unknown game", target: "unknown", c: ports.UpdateGame{Name: ptr("Bob")}, wantErr: game.ErrNotFound},
		{name: "delete an unknown game", target: "unknown", c: ports.UpdateGame{Delete: true}, wantErr: game.ErrNotFound},
		{name: "delete a deleted game", target: "deleted", c: ports.UpdateGame{Delete: true}, wantErr: game.ErrNotFound},
		{name: "superadmin deletes a deleted game", super: true, target: "deleted", c: ports.UpdateGame{Delete: true}, wantErr: game.ErrNotFound},
		{name: "invalid name beats access", target: "theirs", named: "other", c: ports.UpdateGame{Name: ptr(strings.Repeat("x", 101))}, invalid: []string{"name"}},
		{name: "invalid name beats existence", target: "unknown", c: ports.UpdateGame{Name: ptr("")}, invalid: []string{"name"}},
		{name: "invalid name with delete", target: "mine", c: ports.UpdateGame{Name: ptr("a\u0000"), Delete: true}, invalid: []string{"name"}},
		{
			name: "every field invalid", target: "theirs",
			c:       ports.UpdateGame{Name: ptr(""), SteamAppID: set("x"), SteamWebAPIKey: set("y")},
			invalid: []string{"name", "steam_app_id", "steam_web_api_key"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			mine := e.create(e.regular, ports.CreateGame{Name: "Mine", SteamAppID: ptr("480"), SteamWebAPIKey: ptr(steamKey)})
			theirs := e.create(e.super, ports.CreateGame{AccountID: e.other, Name: "Theirs", SteamAppID: ptr("570"), SteamWebAPIKey: ptr(steamKey)})
			e.clock.Advance(time.Hour)
			c := tt.c
			switch tt.target {
			case "mine":
				c.ID = mine.ID()
			case "theirs":
				c.ID = theirs.ID()
			case "deleted":
				deleted := e.create(e.regular, ports.CreateGame{Name: "Deleted"})
				if _, err := e.svc.Update(e.ctx, e.regular, ports.UpdateGame{ID: deleted.ID(), Delete: true}); err != nil {
					t.Fatal(err)
				}
				c.ID = deleted.ID()
			default:
				c.ID = id.New[id.Game]()
			}
			switch tt.named {
			case "acme":
				c.AccountID = e.acme
			case "other":
				c.AccountID = e.other
			}
			p := e.regular
			if tt.super {
				p = e.super
			}

			var got *game.Game
			var err error
			// Nor recorded: a refused deletion must end no session.
			if events := apptest.RecordedDuring(t, e.events, func() { got, err = e.svc.Update(e.ctx, p, c) }); len(events) != 0 {
				t.Errorf("refused update recorded %v", apptest.EventTypes(events))
			}
			if got != nil {
				t.Errorf("got game %+v with an error", got.Snapshot())
			}
			if tt.invalid != nil {
				var fields []string
				for _, pr := range problems(t, err) {
					fields = append(fields, pr.field)
				}
				if !slices.Equal(sorted(fields), tt.invalid) {
					t.Fatalf("invalid fields = %v, want %v (%v)", fields, tt.invalid, err)
				}
			} else if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			// Nothing changed.
			for _, before := range []*game.Game{mine, theirs} {
				if after := e.stored(before.ID()); !reflect.DeepEqual(after, before.Snapshot()) {
					t.Errorf("refused update changed %s:\n got %+v\nwant %+v", before.ID(), after, before.Snapshot())
				}
			}
		})
	}
}

func TestSuperadminUpdatesAnyGame(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	theirs := e.create(e.super, ports.CreateGame{AccountID: e.other, Name: "Theirs"})
	for _, named := range []id.AccountID{{}, e.other} {
		e.clock.Advance(time.Minute)
		name := fmt.Sprintf("Renamed %d", e.clock.Now().Minute())
		got, err := e.svc.Update(e.ctx, e.super, ports.UpdateGame{ID: theirs.ID(), AccountID: named, Name: ptr(name)})
		if err != nil {
			t.Fatalf("named %q: %v", named, err)
		}
		if got.Name().String() != name || e.stored(theirs.ID()).Name != name {
			t.Errorf("named %q: name = %q, want %q", named, got.Name(), name)
		}
	}
}

// The session slice ends a game's sessions on its game.deleted, so a
// deletion must record exactly one, of the right game, account and actor.
func TestDeleteRecordsOneEvent(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		super  bool
		named  bool // the account is named
		rename bool // a rename comes with the deletion, which wins
		system bool // no actor in the context: the service itself acts
	}{
		{name: "by a regular key"},
		{name: "by a regular key naming its account", named: true},
		{name: "by a superadmin", super: true},
		{name: "by a superadmin naming the account", super: true, named: true},
		{name: "with a rename", rename: true},
		{name: "by the system", super: true, system: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			doomed := e.create(e.regular, ports.CreateGame{Name: "Doomed"})
			e.create(e.regular, ports.CreateGame{Name: "Kept"})
			e.clock.Advance(time.Minute)
			p := e.regular
			if tt.super {
				p = e.super
			}
			c := ports.UpdateGame{ID: doomed.ID(), Delete: true}
			if tt.named {
				c.AccountID = e.acme
			}
			if tt.rename {
				c.Name = ptr("Galaga")
			}
			ctx, actor := e.ctx, event.System
			if !tt.system {
				actor = event.Actor{Kind: event.ActorAPIKey, ID: p.KeyID.String()}
				ctx = event.WithActor(ctx, actor)
			}

			got := apptest.RecordedDuring(t, e.events, func() {
				if _, err := e.svc.Update(ctx, p, c); err != nil {
					t.Fatal(err)
				}
			})
			if len(got) != 1 {
				t.Fatalf("the deletion recorded %v, want one game.deleted", apptest.EventTypes(got))
			}
			want := ports.Recorded{
				ID: got[0].ID, Type: "game.deleted", AccountID: e.acme, OccurredAt: domain.Timestamp(e.clock.Now()),
				Actor: actor, Subject: event.Subject{Resource: "game", ID: doomed.ID().String()}, Data: got[0].Data,
			}
			if !reflect.DeepEqual(*got[0], want) {
				t.Errorf("recorded\n %+v\nwant\n %+v", *got[0], want)
			}
		})
	}
}

// Only a deletion records game.deleted: the other updates of a game, which
// end none of its sessions, record game.updated, and no change records
// nothing.
func TestUpdateRecordsItsEvent(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	mine := e.create(e.regular, ports.CreateGame{Name: "Mine", SteamAppID: ptr("480"), SteamWebAPIKey: ptr(steamKey)})
	theirs := e.create(e.super, ports.CreateGame{AccountID: e.other, Name: "Theirs"})
	steps := []struct {
		name string
		p    tenancy.Principal
		c    ports.UpdateGame
		want []event.Type
	}{
		{name: "rename", p: e.regular, c: ports.UpdateGame{ID: mine.ID(), Name: ptr("Galaga")}, want: []event.Type{"game.updated"}},
		{name: "new Steam settings", p: e.regular, c: ports.UpdateGame{ID: mine.ID(), SteamAppID: set("570"), SteamWebAPIKey: set(strings.Repeat("f", 32))}, want: []event.Type{"game.updated"}},
		{name: "Steam settings cleared", p: e.regular, c: ports.UpdateGame{ID: mine.ID(), SteamAppID: cleared, SteamWebAPIKey: cleared}, want: []event.Type{"game.updated"}},
		{name: "nothing", p: e.regular, c: ports.UpdateGame{ID: mine.ID()}},
		{name: "rename by a superadmin", p: e.super, c: ports.UpdateGame{ID: theirs.ID(), Name: ptr("Renamed")}, want: []event.Type{"game.updated"}},
		{name: "delete", p: e.regular, c: ports.UpdateGame{ID: mine.ID(), Delete: true}, want: []event.Type{"game.deleted"}},
	}
	for _, s := range steps {
		e.clock.Advance(time.Minute)
		events := apptest.RecordedDuring(t, e.events, func() {
			if _, err := e.svc.Update(e.ctx, s.p, s.c); err != nil {
				t.Fatalf("%s: %v", s.name, err)
			}
		})
		if got := apptest.EventTypes(events); !slices.Equal(got, s.want) {
			t.Errorf("%s recorded %v, want %v", s.name, got, s.want)
		}
	}
}
