package identity_test

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/leadr-oss/identity/application/apptest"
	"github.com/leadr-oss/identity/application/auth"
	"github.com/leadr-oss/identity/application/cursor"
	appidentity "github.com/leadr-oss/identity/application/identity"
	"github.com/leadr-oss/identity/domain"
	"github.com/leadr-oss/identity/domain/event"
	"github.com/leadr-oss/identity/domain/game"
	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/domain/identity"
	"github.com/leadr-oss/identity/domain/tenancy"
	"github.com/leadr-oss/identity/ports"
	"github.com/leadr-oss/identity/ports/paging"
)

// clock is a fake ports.Clock the test moves by hand.
type clock struct{ now time.Time }

func (c *clock) Now() time.Time          { return c.now }
func (c *clock) Advance(d time.Duration) { c.now = c.now.Add(d) }

// countingRepo counts the writes that reach the repository, and knows when
// an update's fn runs: while the store would hold the row's lock.
type countingRepo struct {
	ports.IdentityRepository
	updates atomic.Int32
	locked  atomic.Bool
}

func (r *countingRepo) Update(ctx context.Context, identityID id.IdentityID, fn func(*identity.Identity) error) (*identity.Identity, error) {
	r.updates.Add(1)
	return r.IdentityRepository.Update(ctx, identityID, func(i *identity.Identity) error {
		r.locked.Store(true)
		defer r.locked.Store(false)
		return fn(i)
	})
}

type env struct {
	t       *testing.T
	ctx     context.Context
	svc     *appidentity.Service
	repo    *countingRepo
	games   ports.GameRepository
	clock   *clock
	acme    id.AccountID // the regular user's account
	other   id.AccountID // another tenant
	regular tenancy.Principal
	super   tenancy.Principal
	game    id.GameID // acme's
	game2   id.GameID // acme's too
	theirs  id.GameID // the other tenant's
	// gameCount numbers the games' slugs, which must be unique.
	gameCount atomic.Int32
	// events is the outbox the repositories record each change in.
	events ports.EventRepository
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	mem := apptest.NewMemory()
	clk := &clock{now: time.Date(2025, 6, 1, 10, 0, 0, 123456789, time.UTC)}
	acme, other, system := mem.NewAccount(t, "acme", clk.Now()), mem.NewAccount(t, "other", clk.Now()), mem.NewAccount(t, "system", clk.Now())
	repo := &countingRepo{IdentityRepository: mem.Identities()}
	e := &env{
		t: t, ctx: ctx, repo: repo, games: mem.Games(), events: mem.Events(), clock: clk,
		svc:     appidentity.NewService(repo, mem.Tenancy(), cursor.NewCodec([]byte("cursor secret")), clk.Now),
		acme:    acme,
		other:   other,
		regular: tenancy.Principal{KeyID: id.New[id.APIKey](), UserID: id.New[id.User](), AccountID: acme},
		super:   tenancy.Principal{KeyID: id.New[id.APIKey](), UserID: id.New[id.User](), AccountID: system, SuperAdmin: true},
	}
	e.game, e.game2, e.theirs = e.newGame(acme), e.newGame(acme), e.newGame(other)
	return e
}

// newGame stores a live game in the account, straight in the repository:
// identities only need one to exist.
func (e *env) newGame(account id.AccountID) id.GameID {
	e.t.Helper()
	name, err := game.ParseName("Game")
	if err != nil {
		e.t.Fatal(err)
	}
	g, err := game.New(account, name, game.DeriveSlug(name).Numbered(int(e.gameCount.Add(1))+1), e.clock.Now())
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.games.Create(e.ctx, g); err != nil {
		e.t.Fatal(err)
	}
	return g.ID()
}

func (e *env) deleteGame(gameID id.GameID) {
	e.t.Helper()
	if _, err := e.games.Update(e.ctx, gameID, func(g *game.Game) error { return g.Delete(e.clock.Now()) }); err != nil {
		e.t.Fatal(err)
	}
}

func ptr(s string) *string { return &s }

func (e *env) create(p tenancy.Principal, c ports.CreateIdentity) *identity.Identity {
	e.t.Helper()
	if c.GameID.IsZero() {
		c.GameID = e.game
		if c.AccountID == e.other {
			c.GameID = e.theirs
		}
	}
	if c.Kind == "" {
		c.Kind = "DEVICE"
	}
	i, created, err := e.svc.GetOrCreate(e.ctx, p, c)
	if err != nil {
		e.t.Fatalf("GetOrCreate(%+v): %v", c, err)
	}
	if !created {
		e.t.Fatalf("GetOrCreate(%+v) found an existing identity", c)
	}
	return i
}

// stored reads an identity as it is stored, past the access policy.
func (e *env) stored(identityID id.IdentityID) *identity.Identity {
	e.t.Helper()
	i, err := e.svc.Get(e.ctx, e.super, ports.GetIdentity{ID: identityID})
	if err != nil {
		e.t.Fatalf("Get(%s) as superadmin: %v", identityID, err)
	}
	return i
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

func TestGetOrCreateCreates(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	i, created, err := e.svc.GetOrCreate(e.ctx, e.regular, ports.CreateIdentity{
		GameID: e.game, Kind: "STEAM", ExternalKey: "76561197960287930", DisplayName: ptr("  Alice\u3000"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if !created {
		t.Error("created = false for a new identity")
	}
	now := domain.Timestamp(e.clock.Now())
	if i.AccountID() != e.acme || i.GameID() != e.game || i.Kind() != identity.KindSteam ||
		i.ExternalKey().String() != "76561197960287930" || i.DisplayName().String() != "Alice" ||
		i.CreatedAt() != now || i.UpdatedAt() != now || i.IsDeleted() {
		t.Errorf("created identity = %+v", i.Snapshot())
	}
	if got := e.stored(i.ID()); got.Snapshot() != i.Snapshot() {
		t.Errorf("stored %+v, returned %+v", got.Snapshot(), i.Snapshot())
	}
}

func TestGetOrCreateAccountChoice(t *testing.T) {
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
		// No game is in an unknown account, so the game is what is not found.
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
			c := ports.CreateIdentity{GameID: e.game, Kind: "CUSTOM", ExternalKey: "player-42"}
			if tt.named != nil {
				c.AccountID = tt.named(e)
			}
			if c.AccountID == e.other {
				c.GameID = e.theirs
			}
			i, _, err := e.svc.GetOrCreate(e.ctx, p, c)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				if all := e.list(t, e.super, ports.ListIdentities{}); len(all) != 0 {
					t.Errorf("a refused create stored %d identities", len(all))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if i.AccountID() != tt.wantAccount(e) {
				t.Errorf("account = %s, want %s", i.AccountID(), tt.wantAccount(e))
			}
		})
	}
}

func TestGetOrCreateValidation(t *testing.T) {
	t.Parallel()
	tooLong := strings.Repeat("x", 65)
	tests := []struct {
		name  string
		super bool
		// other: name the other tenant's account (a regular user may not).
		other bool
		c     ports.CreateIdentity
		want  []problem
	}{
		{
			name: "bad kind", c: ports.CreateIdentity{Kind: "device", ExternalKey: "device-0001"},
			want: []problem{{"kind", domain.OneOf}},
		},
		{
			name: "bad external key", c: ports.CreateIdentity{Kind: "STEAM", ExternalKey: "123"},
			want: []problem{{"external_key", domain.Custom}},
		},
		{
			name: "bad display name", c: ports.CreateIdentity{Kind: "DEVICE", ExternalKey: "device-0001", DisplayName: ptr("  ")},
			want: []problem{{"display_name", domain.MinLength}},
		},
		{
			name: "invalid input beats access: another account and a bad name", other: true,
			c:    ports.CreateIdentity{Kind: "DEVICE", ExternalKey: "device-0001", DisplayName: ptr(tooLong)},
			want: []problem{{"display_name", domain.MaxLength}},
		},
		{
			name: "several problems together",
			c:    ports.CreateIdentity{Kind: "CUSTOM", ExternalKey: "abc", DisplayName: ptr("a\u0007")},
			want: []problem{{"external_key", domain.Custom}, {"display_name", domain.Custom}},
		},
		{
			name: "bad kind, bad name, no game",
			c:    ports.CreateIdentity{Kind: "EMAIL", ExternalKey: "x", DisplayName: ptr(""), GameID: id.GameID{}},
			want: []problem{{"kind", domain.OneOf}, {"display_name", domain.MinLength}, {"game_id", domain.Required}},
		},
		{
			name: "superadmin without account", super: true,
			c:    ports.CreateIdentity{Kind: "DEVICE", ExternalKey: "device-0001"},
			want: []problem{{"account_id", domain.Required}},
		},
		{
			name: "superadmin without account and a bad key", super: true,
			c:    ports.CreateIdentity{Kind: "DEVICE", ExternalKey: "short"},
			want: []problem{{"external_key", domain.Custom}, {"account_id", domain.Required}},
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
			if c.GameID.IsZero() && !slices.Contains(tt.want, problem{"game_id", domain.Required}) {
				c.GameID = e.game
			}
			if tt.other {
				c.AccountID = e.other
			}
			i, created, err := e.svc.GetOrCreate(e.ctx, p, c)
			if i != nil || created {
				t.Errorf("got identity %v, created %v with an error", i, created)
			}
			if errors.Is(err, auth.ErrAccountDenied) {
				t.Fatalf("err = %v: the access error came before the validation error", err)
			}
			got := problems(t, err)
			slices.SortFunc(got, func(a, b problem) int { return strings.Compare(a.field, b.field) })
			want := slices.Clone(tt.want)
			slices.SortFunc(want, func(a, b problem) int { return strings.Compare(a.field, b.field) })
			if !slices.Equal(got, want) {
				t.Errorf("problems = %v, want %v (%v)", got, want, err)
			}
			if all := e.list(t, e.super, ports.ListIdentities{}); len(all) != 0 {
				t.Errorf("an invalid create stored %d identities", len(all))
			}
		})
	}
}

func TestGetOrCreateNeedsALiveGameOfItsAccount(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		super bool
		named func(*env) id.AccountID
		game  func(*env) id.GameID
	}{
		{name: "unknown game", game: func(*env) id.GameID { return id.New[id.Game]() }},
		{name: "deleted game", game: func(e *env) id.GameID { e.deleteGame(e.game2); return e.game2 }},
		{name: "another account's game", game: func(e *env) id.GameID { return e.theirs }},
		{
			name:  "another account's game, own account named",
			named: func(e *env) id.AccountID { return e.acme }, game: func(e *env) id.GameID { return e.theirs },
		},
		{
			name: "superadmin, game of another account than named", super: true,
			named: func(e *env) id.AccountID { return e.acme }, game: func(e *env) id.GameID { return e.theirs },
		},
		{
			name: "superadmin, unknown game", super: true,
			named: func(e *env) id.AccountID { return e.other }, game: func(*env) id.GameID { return id.New[id.Game]() },
		},
		{
			name: "superadmin, deleted game", super: true,
			named: func(e *env) id.AccountID { return e.other },
			game:  func(e *env) id.GameID { e.deleteGame(e.theirs); return e.theirs },
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
			c := ports.CreateIdentity{GameID: tt.game(e), Kind: "DEVICE", ExternalKey: "device-0001", DisplayName: ptr("Ada")}
			if tt.named != nil {
				c.AccountID = tt.named(e)
			}
			i, created, err := e.svc.GetOrCreate(e.ctx, p, c)
			if !errors.Is(err, game.ErrNotFound) || i != nil || created {
				t.Fatalf("GetOrCreate = %v, %v, %v; want game.ErrNotFound", i, created, err)
			}
			// Another tenant's game is as unknown as a missing one: a 403
			// would tell the caller that it exists.
			if domain.CategoryOf(err) != domain.CategoryNotFound {
				t.Errorf("category = %v, want not found", domain.CategoryOf(err))
			}
			if all := e.list(t, e.super, ports.ListIdentities{}); len(all) != 0 {
				t.Errorf("a refused create stored %d identities", len(all))
			}
		})
	}
}

func TestGetOrCreateChecksTheGameLast(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		super   bool
		other   bool // name the other tenant's account
		game    func(*env) id.GameID
		c       ports.CreateIdentity
		wantErr error    // or
		invalid []string // the fields of the expected Invalid errors
	}{
		{
			name: "bad key and unknown game", game: func(*env) id.GameID { return id.New[id.Game]() },
			c: ports.CreateIdentity{Kind: "STEAM", ExternalKey: "123"}, invalid: []string{"external_key"},
		},
		{
			name: "bad name and deleted game", game: func(e *env) id.GameID { e.deleteGame(e.game2); return e.game2 },
			c: ports.CreateIdentity{Kind: "DEVICE", ExternalKey: "device-0001", DisplayName: ptr("")}, invalid: []string{"display_name"},
		},
		{
			name: "bad kind and another account's game", game: func(e *env) id.GameID { return e.theirs },
			c: ports.CreateIdentity{Kind: "EMAIL", ExternalKey: "device-0001"}, invalid: []string{"kind"},
		},
		{
			name: "superadmin without account and unknown game", super: true, game: func(*env) id.GameID { return id.New[id.Game]() },
			c: ports.CreateIdentity{Kind: "DEVICE", ExternalKey: "device-0001"}, invalid: []string{"account_id"},
		},
		{
			name: "another account named and unknown game", other: true, game: func(*env) id.GameID { return id.New[id.Game]() },
			c: ports.CreateIdentity{Kind: "DEVICE", ExternalKey: "device-0001"}, wantErr: auth.ErrAccountDenied,
		},
		{
			name: "another account named and its game", other: true, game: func(e *env) id.GameID { return e.theirs },
			c: ports.CreateIdentity{Kind: "DEVICE", ExternalKey: "device-0001"}, wantErr: auth.ErrAccountDenied,
		},
		{
			name: "another account named and a deleted game", other: true, game: func(e *env) id.GameID { e.deleteGame(e.theirs); return e.theirs },
			c: ports.CreateIdentity{Kind: "DEVICE", ExternalKey: "device-0001"}, wantErr: auth.ErrAccountDenied,
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
			c.GameID = tt.game(e)
			if tt.other {
				c.AccountID = e.other
			}
			_, _, err := e.svc.GetOrCreate(e.ctx, p, c)
			if errors.Is(err, game.ErrNotFound) {
				t.Fatalf("err = %v: the game was checked before the input or the access", err)
			}
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			var fields []string
			for _, pr := range problems(t, err) {
				fields = append(fields, pr.field)
			}
			if !slices.Equal(fields, tt.invalid) {
				t.Errorf("invalid fields = %v, want %v (%v)", fields, tt.invalid, err)
			}
		})
	}
}

func TestDeletedGameKeepsItsIdentities(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	i := e.create(e.regular, ports.CreateIdentity{GameID: e.game2, ExternalKey: "device-0001", DisplayName: ptr("Ada")})
	e.deleteGame(e.game2)
	e.clock.Advance(time.Hour)

	got, err := e.svc.Get(e.ctx, e.regular, ports.GetIdentity{ID: i.ID()})
	if err != nil || got.Snapshot() != i.Snapshot() {
		t.Fatalf("Get of an identity of a deleted game = %v, %v; want it unchanged", got, err)
	}
	if listed := e.list(t, e.regular, ports.ListIdentities{GameID: e.game2}); !slices.Equal(ids(listed), ids([]*identity.Identity{i})) {
		t.Errorf("listed %v, want the identity of the deleted game", ids(listed))
	}
	// Not even an existing identity is found through get-or-create: that
	// is how a client would keep playing a deleted game.
	_, _, err = e.svc.GetOrCreate(e.ctx, e.regular, ports.CreateIdentity{
		GameID: e.game2, Kind: "DEVICE", ExternalKey: "device-0001", DisplayName: ptr("Grace"),
	})
	if !errors.Is(err, game.ErrNotFound) {
		t.Errorf("GetOrCreate in a deleted game: %v, want game.ErrNotFound", err)
	}
	if after := e.stored(i.ID()); after.Snapshot() != i.Snapshot() {
		t.Errorf("GetOrCreate in a deleted game changed the identity: %+v", after.Snapshot())
	}
}

func TestGetOrCreateExisting(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		initial     *string
		again       *string
		wantName    string
		wantUpdated bool
	}{
		{"different name renames", ptr("Alice"), ptr("Bob"), "Bob", true},
		{"first name given later", nil, ptr("Bob"), "Bob", true},
		{"same name keeps updated_at", ptr("Alice"), ptr("Alice"), "Alice", false},
		{"same name after trimming keeps updated_at", ptr("Alice"), ptr(" Alice "), "Alice", false},
		{"no name keeps the name and updated_at", ptr("Alice"), nil, "Alice", false},
		{"no name either time", nil, nil, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			first := e.create(e.regular, ports.CreateIdentity{ExternalKey: "device-0001", DisplayName: tt.initial})
			e.clock.Advance(time.Minute)

			got, created, err := e.svc.GetOrCreate(e.ctx, e.regular, ports.CreateIdentity{
				GameID: e.game, Kind: "DEVICE", ExternalKey: "device-0001", DisplayName: tt.again,
			})
			if err != nil {
				t.Fatal(err)
			}
			if created {
				t.Error("created = true for an existing identity")
			}
			if got.ID() != first.ID() {
				t.Fatalf("got identity %s, want the existing %s", got.ID(), first.ID())
			}
			wantUpdated := first.UpdatedAt()
			if tt.wantUpdated {
				wantUpdated = domain.Timestamp(e.clock.Now())
			}
			for what, i := range map[string]*identity.Identity{"returned": got, "stored": e.stored(first.ID())} {
				if i.DisplayName().String() != tt.wantName {
					t.Errorf("%s display name = %q, want %q", what, i.DisplayName(), tt.wantName)
				}
				if i.UpdatedAt() != wantUpdated {
					t.Errorf("%s updated_at = %v, want %v", what, i.UpdatedAt(), wantUpdated)
				}
				if i.CreatedAt() != first.CreatedAt() {
					t.Errorf("%s created_at moved", what)
				}
			}
		})
	}
}

func TestGetOrCreateIdentityKey(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	base := e.create(e.regular, ports.CreateIdentity{Kind: "CUSTOM", ExternalKey: "player-0001"})
	// Any part of (account, game, kind, external key) that differs makes a new identity.
	others := []ports.CreateIdentity{
		{AccountID: e.other, GameID: e.theirs, Kind: "CUSTOM", ExternalKey: "player-0001"},
		{AccountID: e.acme, GameID: e.game2, Kind: "CUSTOM", ExternalKey: "player-0001"},
		{AccountID: e.acme, GameID: e.game, Kind: "DEVICE", ExternalKey: "player-0001"},
		{AccountID: e.acme, GameID: e.game, Kind: "CUSTOM", ExternalKey: "player-0002"},
		{AccountID: e.acme, GameID: e.game, Kind: "CUSTOM", ExternalKey: "Player-0001"},
	}
	seen := map[id.IdentityID]bool{base.ID(): true}
	for _, c := range others {
		i := e.create(e.super, c)
		if seen[i.ID()] {
			t.Errorf("%+v reused identity %s", c, i.ID())
		}
		seen[i.ID()] = true
	}
	// The original key again finds the original identity.
	again, created, err := e.svc.GetOrCreate(e.ctx, e.regular, ports.CreateIdentity{GameID: e.game, Kind: "CUSTOM", ExternalKey: "player-0001"})
	if err != nil || created || again.ID() != base.ID() {
		t.Errorf("same key again: created = %v, err = %v; want the original identity", created, err)
	}
}

func TestGetOrCreateAfterDeleteCreatesAnew(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	first := e.create(e.regular, ports.CreateIdentity{ExternalKey: "device-0001"})
	if _, err := e.svc.Update(e.ctx, e.regular, ports.UpdateIdentity{ID: first.ID(), Delete: true}); err != nil {
		t.Fatal(err)
	}
	second := e.create(e.regular, ports.CreateIdentity{ExternalKey: "device-0001"})
	if second.ID() == first.ID() {
		t.Error("a soft-deleted identity was returned by get-or-create")
	}
}

func TestGet(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	mine := e.create(e.regular, ports.CreateIdentity{ExternalKey: "device-mine"})
	theirs := e.create(e.super, ports.CreateIdentity{AccountID: e.other, ExternalKey: "device-theirs"})
	deleted := e.create(e.regular, ports.CreateIdentity{ExternalKey: "device-deleted"})
	if _, err := e.svc.Update(e.ctx, e.regular, ports.UpdateIdentity{ID: deleted.ID(), Delete: true}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		p       tenancy.Principal
		q       ports.GetIdentity
		want    id.IdentityID
		wantErr error
	}{
		{"own identity", e.regular, ports.GetIdentity{ID: mine.ID()}, mine.ID(), nil},
		{"own identity, own account named", e.regular, ports.GetIdentity{ID: mine.ID(), AccountID: e.acme}, mine.ID(), nil},
		{"another tenant's identity", e.regular, ports.GetIdentity{ID: theirs.ID()}, id.IdentityID{}, identity.ErrForbidden},
		{"another tenant's identity, own account named", e.regular, ports.GetIdentity{ID: theirs.ID(), AccountID: e.acme}, id.IdentityID{}, identity.ErrForbidden},
		{"another account named", e.regular, ports.GetIdentity{ID: mine.ID(), AccountID: e.other}, id.IdentityID{}, auth.ErrAccountDenied},
		{"another account named, unknown id", e.regular, ports.GetIdentity{ID: id.New[id.Identity](), AccountID: e.other}, id.IdentityID{}, auth.ErrAccountDenied},
		{"unknown id", e.regular, ports.GetIdentity{ID: id.New[id.Identity]()}, id.IdentityID{}, identity.ErrNotFound},
		{"deleted", e.regular, ports.GetIdentity{ID: deleted.ID()}, id.IdentityID{}, identity.ErrNotFound},
		{"deleted, superadmin", e.super, ports.GetIdentity{ID: deleted.ID()}, id.IdentityID{}, identity.ErrNotFound},
		{"superadmin, no account", e.super, ports.GetIdentity{ID: theirs.ID()}, theirs.ID(), nil},
		{"superadmin, the identity's account", e.super, ports.GetIdentity{ID: theirs.ID(), AccountID: e.other}, theirs.ID(), nil},
		{"superadmin, another account", e.super, ports.GetIdentity{ID: theirs.ID(), AccountID: e.acme}, id.IdentityID{}, identity.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			i, err := e.svc.Get(e.ctx, tt.p, tt.q)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || i != nil {
					t.Fatalf("Get = %v, %v; want %v", i, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if i.ID() != tt.want {
				t.Errorf("got %s, want %s", i.ID(), tt.want)
			}
		})
	}
}

func TestUpdateRenames(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	orig := e.create(e.regular, ports.CreateIdentity{ExternalKey: "device-0001", DisplayName: ptr("Alice")})
	e.clock.Advance(time.Hour)
	got, err := e.svc.Update(e.ctx, e.regular, ports.UpdateIdentity{ID: orig.ID(), DisplayName: ptr(" Bob ")})
	if err != nil {
		t.Fatal(err)
	}
	for what, i := range map[string]*identity.Identity{"returned": got, "stored": e.stored(orig.ID())} {
		if i.DisplayName().String() != "Bob" {
			t.Errorf("%s name = %q, want Bob", what, i.DisplayName())
		}
		if i.UpdatedAt() != domain.Timestamp(e.clock.Now()) {
			t.Errorf("%s updated_at = %v, want %v", what, i.UpdatedAt(), domain.Timestamp(e.clock.Now()))
		}
		if i.CreatedAt() != orig.CreatedAt() {
			t.Errorf("%s created_at = %v, want %v", what, i.CreatedAt(), orig.CreatedAt())
		}
	}

	// The same name again is no change.
	e.clock.Advance(time.Hour)
	again, err := e.svc.Update(e.ctx, e.regular, ports.UpdateIdentity{ID: orig.ID(), DisplayName: ptr("Bob")})
	if err != nil {
		t.Fatal(err)
	}
	if again.UpdatedAt() != got.UpdatedAt() || e.stored(orig.ID()).UpdatedAt() != got.UpdatedAt() {
		t.Errorf("renaming to the same name moved updated_at to %v", again.UpdatedAt())
	}
}

func TestUpdateWithNothingWritesNothing(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		p       func(*env) tenancy.Principal
		target  func(e *env, mine, theirs *identity.Identity) id.IdentityID
		wantErr error
	}{
		{"own identity", func(e *env) tenancy.Principal { return e.regular }, func(_ *env, m, _ *identity.Identity) id.IdentityID { return m.ID() }, nil},
		{"another tenant's", func(e *env) tenancy.Principal { return e.regular }, func(_ *env, _, o *identity.Identity) id.IdentityID { return o.ID() }, identity.ErrForbidden},
		{"unknown", func(e *env) tenancy.Principal { return e.regular }, func(*env, *identity.Identity, *identity.Identity) id.IdentityID { return id.New[id.Identity]() }, identity.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			mine := e.create(e.regular, ports.CreateIdentity{ExternalKey: "device-0001", DisplayName: ptr("Alice")})
			theirs := e.create(e.super, ports.CreateIdentity{AccountID: e.other, ExternalKey: "device-0002"})
			e.clock.Advance(time.Hour)
			target := tt.target(e, mine, theirs)
			writes := e.repo.updates.Load()

			got, err := e.svc.Update(e.ctx, tt.p(e), ports.UpdateIdentity{ID: target})
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if n := e.repo.updates.Load() - writes; n != 0 {
				t.Errorf("an empty update reached the repository's Update %d times", n)
			}
			if tt.wantErr == nil {
				if got.ID() != mine.ID() || got.UpdatedAt() != mine.UpdatedAt() || got.DisplayName() != mine.DisplayName() {
					t.Errorf("empty update returned %+v, want %+v", got.Snapshot(), mine.Snapshot())
				}
			}
		})
	}
}

func TestUpdateDeleteWinsOverRename(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	orig := e.create(e.regular, ports.CreateIdentity{ExternalKey: "device-0001", DisplayName: ptr("Alice")})
	e.clock.Advance(time.Hour)
	got, err := e.svc.Update(e.ctx, e.regular, ports.UpdateIdentity{ID: orig.ID(), DisplayName: ptr("Bob"), Delete: true})
	if err != nil {
		t.Fatal(err)
	}
	now := domain.Timestamp(e.clock.Now())
	if !got.IsDeleted() || got.DeletedAt() != now || got.UpdatedAt() != now {
		t.Errorf("deleted = %v, deleted_at = %v, updated_at = %v; want deleted at %v", got.IsDeleted(), got.DeletedAt(), got.UpdatedAt(), now)
	}
	if got.DisplayName().String() != "Alice" {
		t.Errorf("display name = %q: the rename was applied alongside the delete", got.DisplayName())
	}
	if _, err := e.svc.Get(e.ctx, e.regular, ports.GetIdentity{ID: orig.ID()}); !errors.Is(err, identity.ErrNotFound) {
		t.Errorf("Get after delete: %v, want ErrNotFound", err)
	}
	for _, c := range []ports.UpdateIdentity{
		{ID: orig.ID(), Delete: true},
		{ID: orig.ID(), DisplayName: ptr("Carol")},
		{ID: orig.ID()},
	} {
		if _, err := e.svc.Update(e.ctx, e.regular, c); !errors.Is(err, identity.ErrNotFound) {
			t.Errorf("Update %+v of a deleted identity: %v, want ErrNotFound", c, err)
		}
	}
}

func TestUpdateRefused(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		super   bool
		target  string // "theirs", "mine", "deleted" (one of acme's) or "unknown"
		named   string // "", "acme" or "other"
		c       ports.UpdateIdentity
		wantErr error
		invalid string // the field of the expected Invalid error, instead of wantErr
	}{
		{name: "rename another tenant's", target: "theirs", c: ports.UpdateIdentity{DisplayName: ptr("Mallory")}, wantErr: identity.ErrForbidden},
		{name: "delete another tenant's", target: "theirs", c: ports.UpdateIdentity{Delete: true}, wantErr: identity.ErrForbidden},
		{name: "rename another tenant's naming own account", target: "theirs", named: "acme", c: ports.UpdateIdentity{DisplayName: ptr("Mallory")}, wantErr: identity.ErrForbidden},
		{name: "regular names another account", target: "mine", named: "other", c: ports.UpdateIdentity{DisplayName: ptr("Bob")}, wantErr: auth.ErrAccountDenied},
		{name: "superadmin names the wrong account", super: true, target: "theirs", named: "acme", c: ports.UpdateIdentity{Delete: true}, wantErr: identity.ErrNotFound},
		{name: "unknown identity", target: "unknown", c: ports.UpdateIdentity{DisplayName: ptr("Bob")}, wantErr: identity.ErrNotFound},
		{name: "delete an unknown identity", target: "unknown", c: ports.UpdateIdentity{Delete: true}, wantErr: identity.ErrNotFound},
		{name: "delete a deleted identity", target: "deleted", c: ports.UpdateIdentity{Delete: true}, wantErr: identity.ErrNotFound},
		{name: "invalid name beats access", target: "theirs", named: "other", c: ports.UpdateIdentity{DisplayName: ptr(strings.Repeat("x", 65))}, invalid: "display_name"},
		{name: "invalid name beats existence", target: "unknown", c: ports.UpdateIdentity{DisplayName: ptr("")}, invalid: "display_name"},
		{name: "invalid name with delete", target: "mine", c: ports.UpdateIdentity{DisplayName: ptr("a\u0000"), Delete: true}, invalid: "display_name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			mine := e.create(e.regular, ports.CreateIdentity{ExternalKey: "device-0001", DisplayName: ptr("Alice")})
			theirs := e.create(e.super, ports.CreateIdentity{AccountID: e.other, ExternalKey: "device-0002", DisplayName: ptr("Trent")})
			e.clock.Advance(time.Hour)
			c := tt.c
			switch tt.target {
			case "mine":
				c.ID = mine.ID()
			case "theirs":
				c.ID = theirs.ID()
			case "deleted":
				deleted := e.create(e.regular, ports.CreateIdentity{ExternalKey: "device-0003"})
				if _, err := e.svc.Update(e.ctx, e.regular, ports.UpdateIdentity{ID: deleted.ID(), Delete: true}); err != nil {
					t.Fatal(err)
				}
				c.ID = deleted.ID()
			default:
				c.ID = id.New[id.Identity]()
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

			var got *identity.Identity
			var err error
			// Nor recorded: a refused deletion must end no session.
			if events := apptest.RecordedDuring(t, e.events, func() { got, err = e.svc.Update(e.ctx, p, c) }); len(events) != 0 {
				t.Errorf("refused update recorded %v", apptest.EventTypes(events))
			}
			if got != nil {
				t.Errorf("got identity %+v with an error", got.Snapshot())
			}
			if tt.invalid != "" {
				var de *domain.Error
				if !errors.As(err, &de) || de.Category != domain.CategoryInvalid || de.Field != tt.invalid {
					t.Fatalf("err = %v, want an Invalid error on %s", err, tt.invalid)
				}
			} else if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			// Nothing changed.
			for _, before := range []*identity.Identity{mine, theirs} {
				if after := e.stored(before.ID()); after.Snapshot() != before.Snapshot() {
					t.Errorf("refused update changed %s:\n got %+v\nwant %+v", before.ID(), after.Snapshot(), before.Snapshot())
				}
			}
		})
	}
}

// list follows next cursors to the end and returns every item.
func (e *env) list(t *testing.T, p tenancy.Principal, q ports.ListIdentities) []*identity.Identity {
	t.Helper()
	return apptest.WalkPages(t, func(cursor string) (paging.Page[*identity.Identity], error) {
		q.Page.Cursor = cursor
		return e.svc.List(e.ctx, p, q)
	})
}

func ids(items []*identity.Identity) []id.IdentityID {
	out := make([]id.IdentityID, len(items))
	for i, it := range items {
		out[i] = it.ID()
	}
	slices.SortFunc(out, func(a, b id.IdentityID) int { return strings.Compare(a.String(), b.String()) })
	return out
}

func TestListScope(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	otherGame := e.game2
	a1 := e.create(e.regular, ports.CreateIdentity{ExternalKey: "device-aaa1"})
	a2 := e.create(e.regular, ports.CreateIdentity{Kind: "STEAM", ExternalKey: "76561197960287930"})
	a3 := e.create(e.regular, ports.CreateIdentity{GameID: otherGame, ExternalKey: "device-aaa3"})
	gone := e.create(e.regular, ports.CreateIdentity{ExternalKey: "device-gone"})
	o1 := e.create(e.super, ports.CreateIdentity{AccountID: e.other, ExternalKey: "device-ooo1"})
	o2 := e.create(e.super, ports.CreateIdentity{AccountID: e.other, Kind: "STEAM", ExternalKey: "76561197960287931"})
	if _, err := e.svc.Update(e.ctx, e.regular, ports.UpdateIdentity{ID: gone.ID(), Delete: true}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		p    tenancy.Principal
		q    ports.ListIdentities
		want []*identity.Identity
	}{
		{"regular sees own account", e.regular, ports.ListIdentities{}, []*identity.Identity{a1, a2, a3}},
		{"regular names own account", e.regular, ports.ListIdentities{AccountID: e.acme}, []*identity.Identity{a1, a2, a3}},
		{"regular, by game", e.regular, ports.ListIdentities{GameID: otherGame}, []*identity.Identity{a3}},
		{"regular, by kind", e.regular, ports.ListIdentities{Kind: ptr("STEAM")}, []*identity.Identity{a2}},
		{"regular, by game and kind", e.regular, ports.ListIdentities{GameID: e.game, Kind: ptr("DEVICE")}, []*identity.Identity{a1}},
		{"superadmin sees all", e.super, ports.ListIdentities{}, []*identity.Identity{a1, a2, a3, o1, o2}},
		{"superadmin names an account", e.super, ports.ListIdentities{AccountID: e.other}, []*identity.Identity{o1, o2}},
		{"superadmin, all accounts by kind", e.super, ports.ListIdentities{Kind: ptr("STEAM")}, []*identity.Identity{a2, o2}},
		{"small pages", e.super, ports.ListIdentities{Page: paging.Params{Limit: 1}}, []*identity.Identity{a1, a2, a3, o1, o2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := e.list(t, tt.p, tt.q)
			if !slices.Equal(ids(got), ids(tt.want)) {
				t.Errorf("listed %v, want %v", ids(got), ids(tt.want))
			}
		})
	}

	if _, err := e.svc.List(e.ctx, e.regular, ports.ListIdentities{AccountID: e.other}); !errors.Is(err, auth.ErrAccountDenied) {
		t.Errorf("regular user listing another account: %v, want ErrAccountDenied", err)
	}
}

func TestListDefaultOrderIsNewestFirst(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var want []id.IdentityID
	for _, key := range []string{"device-0001", "device-0002", "device-0003"} {
		want = append([]id.IdentityID{e.create(e.regular, ports.CreateIdentity{ExternalKey: key}).ID()}, want...)
		e.clock.Advance(time.Second)
	}
	pg, err := e.svc.List(e.ctx, e.regular, ports.ListIdentities{})
	if err != nil {
		t.Fatal(err)
	}
	got := make([]id.IdentityID, len(pg.Items))
	for i, it := range pg.Items {
		got[i] = it.ID()
	}
	if !slices.Equal(got, want) {
		t.Errorf("order = %v, want %v", got, want)
	}
	if pg.HasNext || pg.HasPrev || pg.Next != "" || pg.Prev != "" {
		t.Errorf("single page: %+v", pg)
	}
}

func TestListInvalidKind(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, kind := range []string{"device", "EMAIL", "", "Steam"} {
		_, err := e.svc.List(e.ctx, e.super, ports.ListIdentities{Kind: ptr(kind)})
		var de *domain.Error
		if !errors.As(err, &de) || de.Category != domain.CategoryBadRequest {
			t.Fatalf("kind %q: err = %v, want a bad request", kind, err)
		}
		if want := "Invalid kind: " + kind + ". Must be one of: DEVICE, STEAM, CUSTOM"; de.Message != want {
			t.Errorf("kind %q: message = %q, want %q", kind, de.Message, want)
		}
	}
}

func TestListCursorKeepsItsFilters(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, key := range []string{"device-0001", "device-0002", "device-0003"} {
		e.create(e.regular, ports.CreateIdentity{ExternalKey: key})
	}
	first, err := e.svc.List(e.ctx, e.super, ports.ListIdentities{Page: paging.Params{Limit: 1}})
	if err != nil || first.Next == "" {
		t.Fatalf("first page: %+v, %v", first, err)
	}
	tests := []struct {
		name string
		p    tenancy.Principal
		q    ports.ListIdentities
	}{
		{"other kind", e.super, ports.ListIdentities{Kind: ptr("DEVICE")}},
		{"other account scope", e.super, ports.ListIdentities{AccountID: e.acme}},
		{"regular user's scope", e.regular, ports.ListIdentities{}},
		{"other game", e.super, ports.ListIdentities{GameID: e.game}},
		{"external key added", e.super, ports.ListIdentities{ExternalKey: ptr("device-0002")}},
		{"other sort", e.super, ports.ListIdentities{Page: paging.Params{Sort: ptr("id:asc")}}},
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
	if _, err := e.svc.List(e.ctx, e.super, ports.ListIdentities{Page: paging.Params{Cursor: first.Next, Limit: 50}}); err != nil {
		t.Errorf("same query, other limit: %v", err)
	}
}

func TestListByExternalKey(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	gone := e.create(e.regular, ports.CreateIdentity{ExternalKey: "device-0001"})
	if _, err := e.svc.Update(e.ctx, e.regular, ports.UpdateIdentity{ID: gone.ID(), Delete: true}); err != nil {
		t.Fatal(err)
	}
	a1 := e.create(e.regular, ports.CreateIdentity{ExternalKey: "device-0001"})
	a2 := e.create(e.regular, ports.CreateIdentity{Kind: "CUSTOM", ExternalKey: "device-0001"})
	a3 := e.create(e.regular, ports.CreateIdentity{GameID: e.game2, ExternalKey: "device-0001"})
	a4 := e.create(e.regular, ports.CreateIdentity{ExternalKey: "device-0002"})
	o1 := e.create(e.super, ports.CreateIdentity{AccountID: e.other, ExternalKey: "device-0001"})
	tests := []struct {
		name string
		p    tenancy.Principal
		q    ports.ListIdentities
		want []*identity.Identity
	}{
		{"by key", e.regular, ports.ListIdentities{ExternalKey: ptr("device-0001")}, []*identity.Identity{a1, a2, a3}},
		{"by key and kind", e.regular, ports.ListIdentities{ExternalKey: ptr("device-0001"), Kind: ptr("DEVICE")}, []*identity.Identity{a1, a3}},
		{"by key, kind and game", e.regular, ports.ListIdentities{ExternalKey: ptr("device-0001"), Kind: ptr("DEVICE"), GameID: e.game}, []*identity.Identity{a1}},
		{"another key", e.regular, ports.ListIdentities{ExternalKey: ptr("device-0002")}, []*identity.Identity{a4}},
		{"no key", e.regular, ports.ListIdentities{}, []*identity.Identity{a1, a2, a3, a4}},
		{"unknown key", e.regular, ports.ListIdentities{ExternalKey: ptr("device-9999")}, nil},
		{"exact: case matters", e.regular, ports.ListIdentities{ExternalKey: ptr("DEVICE-0001")}, nil},
		{"exact: no prefix match", e.regular, ports.ListIdentities{ExternalKey: ptr("device-000")}, nil},
		{"exact: an empty key matches nothing", e.super, ports.ListIdentities{ExternalKey: ptr("")}, nil},
		{"another account's key stays there", e.regular, ports.ListIdentities{ExternalKey: ptr("device-0001"), GameID: e.theirs}, nil},
		{"superadmin, across accounts", e.super, ports.ListIdentities{ExternalKey: ptr("device-0001")}, []*identity.Identity{a1, a2, a3, o1}},
		{"superadmin, one account", e.super, ports.ListIdentities{AccountID: e.other, ExternalKey: ptr("device-0001")}, []*identity.Identity{o1}},
		{"small pages", e.super, ports.ListIdentities{ExternalKey: ptr("device-0001"), Page: paging.Params{Limit: 1}}, []*identity.Identity{a1, a2, a3, o1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := e.list(t, tt.p, tt.q)
			if !slices.Equal(ids(got), ids(tt.want)) {
				t.Errorf("listed %v, want %v", ids(got), ids(tt.want))
			}
		})
	}
}

func TestListCursorKeepsItsExternalKey(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, g := range []id.GameID{e.game, e.game2} {
		e.create(e.regular, ports.CreateIdentity{GameID: g, ExternalKey: "device-0001"})
		e.create(e.regular, ports.CreateIdentity{GameID: g, ExternalKey: "device-0002"})
	}
	page := func(q ports.ListIdentities) paging.Page[*identity.Identity] {
		t.Helper()
		q.Page.Limit = 1
		pg, err := e.svc.List(e.ctx, e.regular, q)
		if err != nil || pg.Next == "" {
			t.Fatalf("first page of %+v: %+v, %v", q, pg, err)
		}
		return pg
	}
	without := page(ports.ListIdentities{})
	with := page(ports.ListIdentities{ExternalKey: ptr("device-0001")})
	tests := []struct {
		name   string
		cursor string
		q      ports.ListIdentities
		ok     bool
	}{
		{"made without the key, used with it", without.Next, ports.ListIdentities{ExternalKey: ptr("device-0001")}, false},
		{"made with the key, used without it", with.Next, ports.ListIdentities{}, false},
		{"made with the key, used with another", with.Next, ports.ListIdentities{ExternalKey: ptr("device-0002")}, false},
		{"made with the key, used with it", with.Next, ports.ListIdentities{ExternalKey: ptr("device-0001")}, true},
		{"made without the key, used without it", without.Next, ports.ListIdentities{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := tt.q
			q.Page.Cursor = tt.cursor
			pg, err := e.svc.List(e.ctx, e.regular, q)
			if !tt.ok {
				if !errors.Is(err, cursor.ErrCursorState) {
					t.Errorf("err = %v, want ErrCursorState", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, i := range pg.Items {
				if q.ExternalKey != nil && i.ExternalKey().String() != *q.ExternalKey {
					t.Errorf("the second page holds %q, which the filter excludes", i.ExternalKey())
				}
			}
		})
	}
}

// The session slice ends an identity's sessions on its identity.deleted,
// so a deletion must record exactly one, of the right identity, account
// and actor.
func TestDeleteRecordsOneEvent(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		super  bool
		named  bool // the account is named
		rename bool // a rename comes with the deletion, which wins
		guard  bool // a precondition that holds
		system bool // no actor in the context: the service itself acts
	}{
		{name: "by a regular key"},
		{name: "by a regular key naming its account", named: true},
		{name: "by a superadmin", super: true},
		{name: "by a superadmin naming the account", super: true, named: true},
		{name: "with a rename", rename: true},
		{name: "under a precondition that holds", guard: true},
		{name: "by the system", super: true, system: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			doomed := e.create(e.regular, ports.CreateIdentity{ExternalKey: "device-doomed"})
			e.create(e.regular, ports.CreateIdentity{ExternalKey: "device-kept"})
			e.clock.Advance(time.Minute)
			p := e.regular
			if tt.super {
				p = e.super
			}
			c := ports.UpdateIdentity{ID: doomed.ID(), Delete: true}
			if tt.named {
				c.AccountID = e.acme
			}
			if tt.rename {
				c.DisplayName = ptr("Bob")
			}
			if tt.guard {
				c.Precondition = func(i *identity.Identity) bool { return i.UpdatedAt() == doomed.UpdatedAt() }
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
				t.Fatalf("the deletion recorded %v, want one identity.deleted", apptest.EventTypes(got))
			}
			want := ports.Recorded{
				ID: got[0].ID, Type: "identity.deleted", AccountID: e.acme, OccurredAt: domain.Timestamp(e.clock.Now()),
				Actor: actor, Subject: event.Subject{Resource: "identity", ID: doomed.ID().String()}, Data: got[0].Data,
			}
			if !reflect.DeepEqual(*got[0], want) {
				t.Errorf("recorded\n %+v\nwant\n %+v", *got[0], want)
			}
		})
	}
}

// Only a deletion records identity.deleted: a rename, which ends none of
// its sessions, records identity.updated, and no change records nothing.
func TestUpdateRecordsItsEvent(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	mine := e.create(e.regular, ports.CreateIdentity{ExternalKey: "device-0001", DisplayName: ptr("Alice")})
	theirs := e.create(e.super, ports.CreateIdentity{AccountID: e.other, ExternalKey: "device-0002"})
	steps := []struct {
		name string
		p    tenancy.Principal
		c    ports.UpdateIdentity
		want []event.Type
	}{
		{name: "rename", p: e.regular, c: ports.UpdateIdentity{ID: mine.ID(), DisplayName: ptr("Bob")}, want: []event.Type{"identity.updated"}},
		{name: "rename to the same name", p: e.regular, c: ports.UpdateIdentity{ID: mine.ID(), DisplayName: ptr("Bob")}},
		{name: "nothing", p: e.regular, c: ports.UpdateIdentity{ID: mine.ID()}},
		{name: "rename by a superadmin", p: e.super, c: ports.UpdateIdentity{ID: theirs.ID(), DisplayName: ptr("Carol")}, want: []event.Type{"identity.updated"}},
		{name: "delete", p: e.regular, c: ports.UpdateIdentity{ID: mine.ID(), Delete: true}, want: []event.Type{"identity.deleted"}},
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
