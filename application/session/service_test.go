package session_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/leadr-oss/identity/adapters/tokens"
	"github.com/leadr-oss/identity/application/apptest"
	"github.com/leadr-oss/identity/application/auth"
	"github.com/leadr-oss/identity/application/cursor"
	appidentity "github.com/leadr-oss/identity/application/identity"
	"github.com/leadr-oss/identity/application/sealing"
	appsession "github.com/leadr-oss/identity/application/session"
	"github.com/leadr-oss/identity/domain"
	"github.com/leadr-oss/identity/domain/game"
	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/domain/identity"
	"github.com/leadr-oss/identity/domain/session"
	"github.com/leadr-oss/identity/domain/tenancy"
	"github.com/leadr-oss/identity/ports"
	"github.com/leadr-oss/identity/ports/paging"
)

var lifetimes = session.Lifetimes{Access: 15 * time.Minute, Refresh: 720 * time.Hour}

const (
	deviceKey = "3f2a9c1e-device"
	steamID   = "76561197960287930"
	ticket    = "14000000a1b2c3d4e5f6"
)

// clock is a fake ports.Clock the test moves by hand. It is locked because
// the use cases read it from inside the fakes' transactions.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

type steamAnswer struct {
	player ports.SteamPlayer
	err    error
}

// steamFake is Steam's Web API: it knows each game's app ID and publisher
// key, and refuses a call with any other pair, which is how a use case
// that sent the sealed key, or another game's settings, is caught.
type steamFake struct {
	t       *testing.T
	mu      sync.Mutex
	keys    map[string]string // app ID → publisher Web API key
	tickets map[string]steamAnswer
	calls   int
}

func (f *steamFake) Authenticate(_ context.Context, appID, webAPIKey, ticket string) (ports.SteamPlayer, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if want, ok := f.keys[appID]; !ok || webAPIKey != want {
		f.t.Errorf("Steam called with app ID %q and key %q, want a game's app ID and its decrypted key", appID, webAPIKey)
		return ports.SteamPlayer{}, session.ErrSteamTicketInvalid
	}
	a, ok := f.tickets[ticket]
	if !ok {
		return ports.SteamPlayer{}, session.ErrSteamTicketInvalid
	}
	return a.player, a.err
}

func (f *steamFake) answer(ticket string, a steamAnswer) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tickets[ticket] = a
}

func (f *steamFake) callCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

type env struct {
	t          *testing.T
	ctx        context.Context
	svc        *appsession.Service
	deps       appsession.Deps // svc's
	identities *appidentity.Service
	games      ports.GameRepository
	idRepo     ports.IdentityRepository
	sessions   ports.SessionRepository
	// outbox and events are where the repositories' changes are recorded
	// and heard; nothing listens unless a test subscribes.
	outbox  ports.Outbox
	events  ports.EventRepository
	cipher  *sealing.Cipher
	tokens  ports.AccessTokens
	steam   *steamFake
	clock   *clock
	acme    id.AccountID
	other   id.AccountID
	regular tenancy.Principal // of acme
	super   tenancy.Principal
	game    id.GameID // acme's, Steam configured (app 480)
	plain   id.GameID // acme's, no Steam settings
	theirs  id.GameID // other's, Steam configured (app 570)
	slugs   int
	memory  *apptest.Memory
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	mem := apptest.NewMemory()
	clk := &clock{now: time.Date(2025, 6, 1, 10, 0, 0, 123456789, time.UTC)}
	acme, other, system := mem.NewAccount(t, "acme", clk.Now()), mem.NewAccount(t, "other", clk.Now()), mem.NewAccount(t, "system", clk.Now())
	codec := cursor.NewCodec([]byte("cursor secret"))
	// The tokens' iat comes from the test's clock, as the service's own
	// clock would give it, so issued tokens are not "from the future".
	toks := tokens.New(apptest.NewSigningKey(), tokens.DefaultIssuer, tokens.WithClock(clk.Now))
	identities := appidentity.NewService(mem.Identities(), mem.Tenancy(), codec, clk.Now)
	e := &env{
		t: t, ctx: ctx, identities: identities, games: mem.Games(), idRepo: mem.Identities(), sessions: mem.Sessions(),
		outbox: mem.Outbox(), events: mem.Events(),
		cipher: sealing.NewCipher([]byte("a sealing secret of enough length")), tokens: toks, clock: clk,
		steam: &steamFake{t: t, keys: map[string]string{}, tickets: map[string]steamAnswer{
			ticket: {player: ports.SteamPlayer{SteamID: steamID}},
		}},
		acme: acme, other: other, memory: mem,
		regular: tenancy.Principal{KeyID: id.New[id.APIKey](), UserID: id.New[id.User](), AccountID: acme},
		super:   tenancy.Principal{KeyID: id.New[id.APIKey](), UserID: id.New[id.User](), AccountID: system, SuperAdmin: true},
	}
	e.deps = appsession.Deps{
		Sessions: e.sessions, Identities: e.idRepo, GetOrCreate: identities, Games: e.games, Cipher: e.cipher,
		Steam: e.steam, Tokens: toks, Hasher: auth.NewHasher([]byte("a pepper")), Cursors: codec, Now: clk.Now,
		Lifetimes: lifetimes,
	}
	e.svc = appsession.NewService(e.deps)
	e.game = e.newGame(acme, "480", "0123456789abcdef0123456789abcdef")
	e.plain = e.newGame(acme, "", "")
	e.theirs = e.newGame(other, "570", "fedcba9876543210fedcba9876543210")
	return e
}

// newGame stores a live game straight in the repository, with the Steam
// settings given ("" for none), its key sealed the way the game use case
// seals it.
func (e *env) newGame(account id.AccountID, appID, key string) id.GameID {
	e.t.Helper()
	name, err := game.ParseName("Game")
	if err != nil {
		e.t.Fatal(err)
	}
	e.slugs++
	g, err := game.New(account, name, game.DeriveSlug(name).Numbered(e.slugs+1), e.clock.Now())
	if err != nil {
		e.t.Fatal(err)
	}
	var c game.Change
	if appID != "" {
		a, err := game.ParseSteamAppID(appID)
		if err != nil {
			e.t.Fatal(err)
		}
		c.SteamAppID = &a
	}
	if key != "" {
		c.SteamKey = e.cipher.Seal([]byte(key), []byte(g.ID().String()))
		e.steam.keys[appID] = key
	}
	if _, err := g.Apply(c, e.clock.Now()); err != nil {
		e.t.Fatal(err)
	}
	if err := e.games.Create(e.ctx, g); err != nil {
		e.t.Fatal(err)
	}
	return g.ID()
}

// deleteGame soft-deletes a game in the repository only, with no reaction
// subscribed to revoke its sessions: what access must refuse even if they
// outlived it.
func (e *env) deleteGame(gameID id.GameID) {
	e.t.Helper()
	if _, err := e.games.Update(e.ctx, gameID, func(g *game.Game) error { return g.Delete(e.clock.Now()) }); err != nil {
		e.t.Fatal(err)
	}
}

// deleteIdentity does the same for an identity.
func (e *env) deleteIdentity(identityID id.IdentityID) {
	e.t.Helper()
	if _, err := e.idRepo.Update(e.ctx, identityID, func(i *identity.Identity) error { return i.Delete(e.clock.Now()) }); err != nil {
		e.t.Fatal(err)
	}
}

func ptr(s string) *string { return &s }

func (e *env) signIn(c ports.SignIn) ports.Tokens {
	e.t.Helper()
	tok, err := e.svc.SignIn(e.ctx, c)
	if err != nil {
		e.t.Fatalf("SignIn(%+v): %v", c, err)
	}
	return tok
}

// device signs in with a device ID in acme's game.
func (e *env) device(key string) ports.Tokens {
	e.t.Helper()
	return e.signIn(ports.SignIn{GameID: e.game, Kind: "DEVICE", ExternalKey: &key})
}

func (e *env) authenticate(tok ports.Tokens) ports.ClientPrincipal {
	e.t.Helper()
	p, err := e.svc.Authenticate(e.ctx, tok.AccessToken)
	if err != nil {
		e.t.Fatalf("Authenticate: %v", err)
	}
	return p
}

// stored reads a session as the repository holds it, past the policy.
func (e *env) stored(sessionID id.SessionID) *session.Session {
	e.t.Helper()
	s, err := e.sessions.Get(e.ctx, sessionID)
	if err != nil {
		e.t.Fatalf("Get(%s): %v", sessionID, err)
	}
	return s
}

// identityCount is how many live identities acme and other hold.
func (e *env) identityCount() int {
	e.t.Helper()
	res, err := e.idRepo.List(e.ctx, ports.IdentityFilter{}, paging.Request{Sort: ports.IdentitySchema.DefaultSort(), Limit: 1000})
	if err != nil {
		e.t.Fatal(err)
	}
	return len(res.Items)
}

// sessionCount is how many sessions the repository holds, revoked or not.
func (e *env) sessionCount() int {
	e.t.Helper()
	all, err := e.sessions.List(e.ctx, ports.SessionFilter{}, paging.Request{Sort: ports.SessionSchema.DefaultSort(), Limit: 1000})
	if err != nil {
		e.t.Fatal(err)
	}
	return len(all.Items)
}

// now is the test clock's time as the aggregates record it.
func (e *env) now() time.Time { return domain.Timestamp(e.clock.Now()) }

type problem struct {
	field string
	rule  domain.Rule
	input any
}

// problems walks err through every errors.Join branch and returns the
// Invalid errors it holds; it fails the test on an error of another
// category, which is how a lookup that ran before validation shows.
func problems(t *testing.T, err error) []problem {
	t.Helper()
	var out []problem
	for _, de := range apptest.InvalidErrors(t, err) {
		out = append(out, problem{de.Field, de.Rule, de.Input})
	}
	return out
}

func isInvalid(err error, field string) bool {
	var de *domain.Error
	return errors.As(err, &de) && de.Category == domain.CategoryInvalid && de.Field == field
}

// checkTokens checks what every sign-in and refresh hands out.
func (e *env) checkTokens(t *testing.T, tok ports.Tokens) {
	t.Helper()
	if tok.Session == nil || tok.AccessToken == "" || tok.AccessTTL != lifetimes.Access || tok.RefreshTTL != lifetimes.Refresh {
		t.Fatalf("tokens = %+v", tok)
	}
	// 32 random bytes, url-safe base64 without padding.
	if len(tok.RefreshToken) != 43 || strings.Trim(tok.RefreshToken,
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
		t.Errorf("refresh token %q is not 32 url-safe random bytes", tok.RefreshToken)
	}
	n := e.now()
	if s := tok.Session; !s.UpdatedAt().Equal(n) || !s.ExpiresAt().Equal(n.Add(lifetimes.Access)) ||
		!s.RefreshExpiresAt().Equal(n.Add(lifetimes.Refresh)) || s.IsRevoked() {
		t.Errorf("session %+v, want tokens issued at %v", s.Snapshot(), n)
	}
	claims, err := e.tokens.Verify(tok.AccessToken, e.clock.Now())
	if err != nil {
		t.Fatalf("the access token does not verify: %v", err)
	}
	s := tok.Session
	if claims.SessionID != s.ID() || claims.IdentityID != s.IdentityID() || claims.AccountID != s.AccountID() ||
		claims.GameID != s.GameID() || claims.ExpiresAt.After(s.ExpiresAt()) {
		t.Errorf("claims %+v do not name session %+v", claims, s.Snapshot())
	}
}

func TestSignInDevice(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	first := e.signIn(ports.SignIn{GameID: e.game, Kind: "DEVICE", ExternalKey: ptr(deviceKey), DisplayName: ptr("  Ada\u3000")})
	e.checkTokens(t, first)
	i := first.Identity
	if i == nil || i.Kind() != identity.KindDevice || i.ExternalKey().String() != deviceKey || i.DisplayName().String() != "Ada" ||
		i.AccountID() != e.acme || i.GameID() != e.game {
		t.Fatalf("identity = %+v", i)
	}
	s := first.Session
	if s.IdentityID() != i.ID() || s.AccountID() != e.acme || s.GameID() != e.game || !s.CreatedAt().Equal(e.now()) {
		t.Errorf("session %+v is not the identity's", s.Snapshot())
	}
	if got := e.stored(s.ID()); got.IdentityID() != i.ID() || got.IsRevoked() {
		t.Errorf("stored session %+v", got.Snapshot())
	}
	if p := e.authenticate(first); p.SessionID != s.ID() || p.IdentityID != i.ID() || p.AccountID != e.acme || p.GameID != e.game {
		t.Errorf("principal %+v", p)
	}

	// The same device again is the same player: one identity, one more
	// session, and the earlier session stays signed in.
	e.clock.Advance(time.Minute)
	second := e.device(deviceKey)
	e.checkTokens(t, second)
	if second.Identity.ID() != i.ID() || second.Identity.DisplayName().String() != "Ada" {
		t.Errorf("second sign-in: identity %s %q, want %s kept as \"Ada\"", second.Identity.ID(), second.Identity.DisplayName(), i.ID())
	}
	if second.Session.ID() == s.ID() || second.RefreshToken == first.RefreshToken || second.AccessToken == first.AccessToken {
		t.Error("the second sign-in reused the first session's credentials")
	}
	if e.identityCount() != 1 {
		t.Errorf("%d identities, want 1", e.identityCount())
	}
	e.authenticate(first)
	e.authenticate(second)

	// A display name given at sign-in renames an existing identity, as
	// POST /v1/identities does.
	third := e.signIn(ports.SignIn{GameID: e.game, Kind: "DEVICE", ExternalKey: ptr(deviceKey), DisplayName: ptr("Grace")})
	if third.Identity.ID() != i.ID() || third.Identity.DisplayName().String() != "Grace" {
		t.Errorf("third sign-in: identity %s %q, want %s renamed", third.Identity.ID(), third.Identity.DisplayName(), i.ID())
	}
}

func TestSignInAnyAccountsGame(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// A sign-in has no API key: the game decides the account.
	tok := e.signIn(ports.SignIn{GameID: e.theirs, Kind: "DEVICE", ExternalKey: ptr(deviceKey)})
	if tok.Identity.AccountID() != e.other || tok.Session.AccountID() != e.other {
		t.Errorf("account = %s / %s, want the game's %s", tok.Identity.AccountID(), tok.Session.AccountID(), e.other)
	}
	// The same device in acme's game is another player.
	if mine := e.device(deviceKey); mine.Identity.ID() == tok.Identity.ID() {
		t.Error("one identity across two games")
	}
}

func TestSignInValidation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// Every case names a game that does not exist: an answer other than
	// Invalid would mean the game was looked up before validation ended.
	unknown := id.New[id.Game]()
	const nonHex = "0123456789abcdefXYZ"
	tests := []struct {
		name     string
		c        ports.SignIn
		noGameID bool      // leave game_id out instead of naming the unknown game
		want     []problem // inputs are not compared
	}{
		{"kind in lower case", ports.SignIn{Kind: "device", ExternalKey: ptr(deviceKey)}, false, []problem{{field: "kind", rule: domain.OneOf}}},
		{"no kind", ports.SignIn{ExternalKey: ptr(deviceKey)}, false, []problem{{field: "kind", rule: domain.OneOf}}},
		{"unknown kind", ports.SignIn{Kind: "EMAIL", ExternalKey: ptr(deviceKey)}, false, []problem{{field: "kind", rule: domain.OneOf}}},
		{"CUSTOM signs in through the studio", ports.SignIn{Kind: "CUSTOM", ExternalKey: ptr("player-42")}, false, []problem{{field: "kind", rule: domain.Custom}}},
		{"device key too short", ports.SignIn{Kind: "DEVICE", ExternalKey: ptr("123456789")}, false, []problem{{field: "external_key", rule: domain.Custom}}},
		{"device key with a space", ports.SignIn{Kind: "DEVICE", ExternalKey: ptr("device key 1")}, false, []problem{{field: "external_key", rule: domain.Custom}}},
		{"device key too long", ports.SignIn{Kind: "DEVICE", ExternalKey: ptr(strings.Repeat("k", 129))}, false, []problem{{field: "external_key", rule: domain.Custom}}},
		{"no external_key", ports.SignIn{Kind: "DEVICE"}, false, []problem{{field: "external_key", rule: domain.Required}}},
		{"STEAM without ticket", ports.SignIn{Kind: "STEAM"}, false, []problem{{field: "steam_ticket", rule: domain.Required}}},
		{"STEAM with a key but no ticket", ports.SignIn{Kind: "STEAM", ExternalKey: ptr(steamID)}, false, []problem{{field: "steam_ticket", rule: domain.Required}}},
		{"non-hex ticket", ports.SignIn{Kind: "STEAM", SteamTicket: ptr(nonHex)}, false, []problem{{field: "steam_ticket", rule: domain.Custom}}},
		{"empty ticket", ports.SignIn{Kind: "STEAM", SteamTicket: ptr("")}, false, []problem{{field: "steam_ticket", rule: domain.Custom}}},
		{"one-character ticket", ports.SignIn{Kind: "STEAM", SteamTicket: ptr("a")}, false, []problem{{field: "steam_ticket", rule: domain.Custom}}},
		{"ticket too long", ports.SignIn{Kind: "STEAM", SteamTicket: ptr(strings.Repeat("ab", 2048) + "c")}, false, []problem{{field: "steam_ticket", rule: domain.Custom}}},
		{"bad display name", ports.SignIn{Kind: "DEVICE", ExternalKey: ptr(deviceKey), DisplayName: ptr("  ")}, false, []problem{{field: "display_name", rule: domain.MinLength}}},
		{"display name with a control", ports.SignIn{Kind: "STEAM", SteamTicket: ptr(ticket), DisplayName: ptr("a\x00b")}, false, []problem{{field: "display_name", rule: domain.Custom}}},
		{"everything at once", ports.SignIn{Kind: "DEVICE", DisplayName: ptr("")}, true, []problem{
			{field: "game_id", rule: domain.Required}, {field: "display_name", rule: domain.MinLength}, {field: "external_key", rule: domain.Required},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.c
			if !tt.noGameID {
				c.GameID = unknown
			}
			_, err := e.svc.SignIn(e.ctx, c)
			got := problems(t, err)
			key := func(p problem) string { return fmt.Sprintf("%s/%d", p.field, p.rule) }
			var gotKeys, wantKeys []string
			for _, p := range got {
				gotKeys = append(gotKeys, key(p))
			}
			for _, p := range tt.want {
				wantKeys = append(wantKeys, key(p))
			}
			slices.Sort(gotKeys)
			slices.Sort(wantKeys)
			if !slices.Equal(gotKeys, wantKeys) {
				t.Errorf("problems %v, want %v", gotKeys, wantKeys)
			}
		})
	}
	if e.steam.callCount() != 0 {
		t.Errorf("Steam was called %d times for invalid sign-ins", e.steam.callCount())
	}
	if e.identityCount() != 0 {
		t.Errorf("invalid sign-ins created %d identities", e.identityCount())
	}
}

func TestSignInCredentialsAreNotEchoed(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// A ticket and a device ID are credentials: a 422 body, which shows the
	// input, must not carry one, nor may the error's text reach a log with
	// it.
	for _, c := range []struct {
		field string
		in    ports.SignIn
	}{
		{"steam_ticket", ports.SignIn{Kind: "STEAM", SteamTicket: ptr("deadbeefcafe0042-secret")}},
		{"external_key", ports.SignIn{Kind: "DEVICE", ExternalKey: ptr("secret 42 with spaces")}},
		{"external_key", ports.SignIn{Kind: "DEVICE", ExternalKey: ptr("secret42")}},
		{"external_key", ports.SignIn{Kind: "DEVICE", ExternalKey: ptr(strings.Repeat("secret", 30))}},
	} {
		c.in.GameID = e.game
		_, err := e.svc.SignIn(e.ctx, c.in)
		got := problems(t, err)
		if len(got) != 1 || got[0].field != c.field {
			t.Fatalf("problems %+v, want one of %s", got, c.field)
		}
		if in := fmt.Sprint(got[0].input); strings.Contains(in, "secret") {
			t.Errorf("the problem's input %q echoes the %s", in, c.field)
		}
		if strings.Contains(err.Error(), "secret") {
			t.Errorf("the error %q echoes the %s", err, c.field)
		}
	}
}

func TestSignInTicketLengths(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// The bounds are valid: such tickets reach Steam, which refuses these.
	for _, tk := range []string{"ab", strings.Repeat("AB", 2048)} {
		if _, err := e.svc.SignIn(e.ctx, ports.SignIn{GameID: e.game, Kind: "STEAM", SteamTicket: ptr(tk)}); !errors.Is(err, session.ErrSteamTicketInvalid) {
			t.Errorf("a %d-character ticket: %v, want Steam's ErrSteamTicketInvalid", len(tk), err)
		}
	}
	if e.steam.callCount() != 2 {
		t.Errorf("Steam called %d times, want 2", e.steam.callCount())
	}
}

func TestSignInUnknownOrDeletedGame(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	deleted := e.newGame(e.acme, "730", "00000000000000000000000000000730")
	e.deleteGame(deleted)
	for name, gameID := range map[string]id.GameID{"unknown": id.New[id.Game](), "deleted": deleted} {
		for _, c := range []ports.SignIn{
			{GameID: gameID, Kind: "DEVICE", ExternalKey: ptr(deviceKey)},
			{GameID: gameID, Kind: "STEAM", SteamTicket: ptr(ticket)},
		} {
			if _, err := e.svc.SignIn(e.ctx, c); !errors.Is(err, game.ErrNotFound) {
				t.Errorf("%s game, %s: %v, want game.ErrNotFound", name, c.Kind, err)
			}
		}
	}
	if e.steam.callCount() != 0 {
		t.Errorf("Steam was called %d times for a game that is not there", e.steam.callCount())
	}
	if e.identityCount() != 0 {
		t.Errorf("%d identities created", e.identityCount())
	}
}

func TestSignInSteam(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// The client's external_key is a claim anybody can make: the SteamID is
	// what Steam says the ticket is.
	tok := e.signIn(ports.SignIn{GameID: e.game, Kind: "STEAM", SteamTicket: ptr(ticket), ExternalKey: ptr("76561197960287999"), DisplayName: ptr("Gabe")})
	e.checkTokens(t, tok)
	i := tok.Identity
	if i.Kind() != identity.KindSteam || i.ExternalKey().String() != steamID || i.GameID() != e.game || i.DisplayName().String() != "Gabe" {
		t.Fatalf("identity %+v, want STEAM %s", i.Snapshot(), steamID)
	}
	if e.identityCount() != 1 {
		t.Errorf("%d identities, want 1", e.identityCount())
	}
}

func TestSignInSteamSamePlayer(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	first := e.signIn(ports.SignIn{GameID: e.game, Kind: "STEAM", SteamTicket: ptr(ticket)})
	e.steam.answer("abcdef0123", steamAnswer{player: ports.SteamPlayer{SteamID: steamID}})
	second := e.signIn(ports.SignIn{GameID: e.game, Kind: "STEAM", SteamTicket: ptr("abcdef0123")})
	if second.Identity.ID() != first.Identity.ID() || second.Session.ID() == first.Session.ID() {
		t.Errorf("second ticket of one player: identity %s session %s, want identity %s and a new session",
			second.Identity.ID(), second.Session.ID(), first.Identity.ID())
	}
	// The other account's game verifies with its own app ID and key (the
	// fake checks them) and is another identity.
	theirs := e.signIn(ports.SignIn{GameID: e.theirs, Kind: "STEAM", SteamTicket: ptr(ticket)})
	if theirs.Identity.ID() == first.Identity.ID() || theirs.Identity.AccountID() != e.other {
		t.Errorf("other game's identity %+v", theirs.Identity.Snapshot())
	}
}

func TestSignInSteamPlayerIsNotTheOwner(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// Family Sharing: the player borrows the owner's game. The player signs
	// in, not the owner, and a VAC ban alone does not stop sign-in (only a
	// publisher ban does, per the contract).
	e.steam.answer("beef", steamAnswer{player: ports.SteamPlayer{SteamID: "76561197960287931", OwnerSteamID: steamID, VACBanned: true}})
	tok := e.signIn(ports.SignIn{GameID: e.game, Kind: "STEAM", SteamTicket: ptr("beef")})
	if got := tok.Identity.ExternalKey().String(); got != "76561197960287931" {
		t.Errorf("external key %s, want the player's SteamID", got)
	}
}

func TestSignInSteamFailures(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	appOnly := e.newGame(e.acme, "440", "")
	// A key sealed under another LEADR_ENCRYPTION_KEY does not open.
	resealed := e.newGame(e.acme, "620", "")
	if _, err := e.games.Update(e.ctx, resealed, func(g *game.Game) error {
		_, err := g.Apply(game.Change{SteamKey: sealing.NewCipher([]byte("another secret")).Seal([]byte("k"), []byte(g.ID().String()))}, e.clock.Now())
		return err
	}); err != nil {
		t.Fatal(err)
	}
	e.steam.answer("ba", steamAnswer{player: ports.SteamPlayer{SteamID: steamID, PublisherBanned: true}})
	e.steam.answer("0a", steamAnswer{err: session.ErrSteamUnavailable})
	e.steam.answer("0b", steamAnswer{player: ports.SteamPlayer{SteamID: "12345"}})
	e.steam.answer("0c", steamAnswer{err: session.ErrSteamTicketInvalid})
	tests := []struct {
		name   string
		gameID id.GameID
		ticket string
		want   error
		calls  int
	}{
		{"game without Steam settings", e.plain, ticket, session.ErrSteamNotConfigured, 0},
		{"game with an app ID only", appOnly, ticket, session.ErrSteamNotConfigured, 0},
		{"key sealed under another key", resealed, ticket, session.ErrSteamNotConfigured, 0},
		{"ticket Steam does not know", e.game, "00", session.ErrSteamTicketInvalid, 1},
		{"ticket Steam refuses", e.game, "0c", session.ErrSteamTicketInvalid, 1},
		{"publisher-banned", e.game, "ba", session.ErrSteamBanned, 1},
		{"Steam unavailable", e.game, "0a", session.ErrSteamUnavailable, 1},
		{"Steam answers no SteamID64", e.game, "0b", session.ErrSteamTicketInvalid, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := e.steam.callCount()
			_, err := e.svc.SignIn(e.ctx, ports.SignIn{GameID: tt.gameID, Kind: "STEAM", SteamTicket: ptr(tt.ticket)})
			if !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
			if calls := e.steam.callCount() - before; calls != tt.calls {
				t.Errorf("Steam called %d times, want %d", calls, tt.calls)
			}
		})
	}
	if e.identityCount() != 0 {
		t.Errorf("failed Steam sign-ins created %d identities", e.identityCount())
	}
}

func TestRefreshRotates(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	first := e.device(deviceKey)
	e.clock.Advance(5 * time.Minute)
	second, err := e.svc.Refresh(e.ctx, first.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	e.checkTokens(t, second)
	if second.Identity != nil {
		t.Error("a refresh hands out the identity; only sign-in does")
	}
	if second.Session.ID() != first.Session.ID() || !second.Session.CreatedAt().Equal(first.Session.CreatedAt()) {
		t.Errorf("refresh made session %+v, want %s", second.Session.Snapshot(), first.Session.ID())
	}
	if second.RefreshToken == first.RefreshToken || second.AccessToken == first.AccessToken {
		t.Error("refresh handed out the same tokens")
	}
	if got := e.stored(first.Session.ID()); !got.ExpiresAt().Equal(second.Session.ExpiresAt()) || !got.UpdatedAt().Equal(e.now()) {
		t.Errorf("stored session %+v, want the refresh saved", got.Snapshot())
	}
	e.authenticate(second)

	// The new refresh token goes on working.
	e.clock.Advance(time.Minute)
	third, err := e.svc.Refresh(e.ctx, second.RefreshToken)
	if err != nil {
		t.Fatalf("refresh with the rotated token: %v", err)
	}
	e.authenticate(third)

	// The first token was rotated away: presenting it again is refused,
	// and it means the token leaked, so the whole session ends.
	if _, err := e.svc.Refresh(e.ctx, first.RefreshToken); !errors.Is(err, session.ErrRefreshInvalid) {
		t.Fatalf("reused refresh token: %v, want ErrRefreshInvalid", err)
	}
	if _, err := e.svc.Authenticate(e.ctx, third.AccessToken); !errors.Is(err, session.ErrAccessInvalid) {
		t.Errorf("access token of a session ended by reuse: %v, want ErrAccessInvalid", err)
	}
	if _, err := e.svc.Refresh(e.ctx, third.RefreshToken); !errors.Is(err, session.ErrRefreshInvalid) {
		t.Errorf("newest refresh token of a session ended by reuse: %v, want ErrRefreshInvalid", err)
	}
	if got := e.stored(first.Session.ID()); !got.IsRevoked() {
		t.Errorf("session after reuse: %+v, want revoked", got.Snapshot())
	}
}

func TestRefreshReuseEndsOnlyItsSession(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	leaked, other := e.device(deviceKey), e.device(deviceKey)
	if _, err := e.svc.Refresh(e.ctx, leaked.RefreshToken); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Refresh(e.ctx, leaked.RefreshToken); !errors.Is(err, session.ErrRefreshInvalid) {
		t.Fatalf("reuse: %v", err)
	}
	e.authenticate(other)
	if _, err := e.svc.Refresh(e.ctx, other.RefreshToken); err != nil {
		t.Errorf("the player's other session: %v", err)
	}
}

func TestRefreshRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, tk := range []string{"", "garbage", strings.Repeat("A", 43)} {
		if _, err := e.svc.Refresh(e.ctx, tk); !errors.Is(err, session.ErrRefreshInvalid) {
			t.Errorf("Refresh(%q) = %v, want ErrRefreshInvalid", tk, err)
		}
	}
	// An access token is not a refresh token.
	tok := e.device(deviceKey)
	if _, err := e.svc.Refresh(e.ctx, tok.AccessToken); !errors.Is(err, session.ErrRefreshInvalid) {
		t.Errorf("Refresh(access token) = %v, want ErrRefreshInvalid", err)
	}

	signedOut := e.device(deviceKey)
	if err := e.svc.SignOut(e.ctx, e.authenticate(signedOut)); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Refresh(e.ctx, signedOut.RefreshToken); !errors.Is(err, session.ErrRefreshInvalid) {
		t.Errorf("refresh after sign-out: %v, want ErrRefreshInvalid", err)
	}

	// Just before its expiry the refresh token works; at it, it does not.
	early, late := e.device(deviceKey), e.device(deviceKey)
	e.clock.Advance(lifetimes.Refresh - time.Second)
	if _, err := e.svc.Refresh(e.ctx, early.RefreshToken); err != nil {
		t.Errorf("refresh a second before expiry: %v", err)
	}
	e.clock.Advance(time.Second)
	if _, err := e.svc.Refresh(e.ctx, late.RefreshToken); !errors.Is(err, session.ErrRefreshInvalid) {
		t.Errorf("refresh at expiry: %v, want ErrRefreshInvalid", err)
	}
}

func TestAuthenticate(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if _, err := e.svc.Authenticate(e.ctx, ""); !errors.Is(err, session.ErrAccessRequired) {
		t.Errorf("no token: %v, want ErrAccessRequired", err)
	}
	tok := e.device(deviceKey)
	foreign := tokens.New(apptest.NewSigningKey(), tokens.DefaultIssuer, tokens.WithClock(e.clock.Now))
	claims, err := e.tokens.Verify(tok.AccessToken, e.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	forge := func(tk ports.AccessTokens, c ports.AccessClaims) string {
		s, err := tk.Issue(c)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	otherIdentity := claims
	otherIdentity.IdentityID = id.New[id.Identity]()
	otherGame := claims
	otherGame.GameID = e.theirs
	otherAccount := claims
	otherAccount.AccountID = e.other
	unknownSession := claims
	unknownSession.SessionID = id.New[id.Session]()
	// What a stolen signing secret (a database backup) would mint: a token
	// of a real session that outlives it.
	longLived := claims
	longLived.ExpiresAt = time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)
	pastNewest := claims
	pastNewest.ExpiresAt = tok.Session.ExpiresAt().Add(time.Second)
	for name, tk := range map[string]string{
		"garbage":                             "garbage",
		"a refresh token":                     tok.RefreshToken,
		"truncated":                           tok.AccessToken[:len(tok.AccessToken)-2],
		"signed with another key":             forge(foreign, claims),
		"of a session that does not exist":    forge(e.tokens, unknownSession),
		"naming another identity":             forge(e.tokens, otherIdentity),
		"naming another game":                 forge(e.tokens, otherGame),
		"naming another account":              forge(e.tokens, otherAccount),
		"expiring in 2100":                    forge(e.tokens, longLived),
		"expiring after the session's newest": forge(e.tokens, pastNewest),
		"with the Bearer prefix left on it":   "Bearer " + tok.AccessToken,
	} {
		if _, err := e.svc.Authenticate(e.ctx, tk); !errors.Is(err, session.ErrAccessInvalid) {
			t.Errorf("%s: %v, want ErrAccessInvalid", name, err)
		}
	}
	e.authenticate(tok)
}

func TestAuthenticateExpiredToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tok := e.device(deviceKey)
	// JWT expiries are whole seconds, truncated: a token lives at most its TTL.
	e.clock.Advance(lifetimes.Access - 2*time.Second)
	e.authenticate(tok)
	e.clock.Advance(2 * time.Second)
	if _, err := e.svc.Authenticate(e.ctx, tok.AccessToken); !errors.Is(err, session.ErrAccessInvalid) {
		t.Errorf("expired access token: %v, want ErrAccessInvalid", err)
	}
	// The session lives on: a refresh gives a fresh access token.
	fresh, err := e.svc.Refresh(e.ctx, tok.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	e.authenticate(fresh)
}

func TestAuthenticateRefusesDeadSessions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		kill func(e *env, tok ports.Tokens)
	}{
		{"revoked by an admin", func(e *env, tok ports.Tokens) {
			if _, err := e.svc.Revoke(e.ctx, e.regular, ports.GetSession{ID: tok.Session.ID()}); err != nil {
				e.t.Fatal(err)
			}
		}},
		{"identity deleted", func(e *env, tok ports.Tokens) {
			if _, err := e.identities.Update(e.ctx, e.regular, ports.UpdateIdentity{ID: tok.Identity.ID(), Delete: true}); err != nil {
				e.t.Fatal(err)
			}
		}},
		// Without the use cases' revocation: access itself checks that the
		// identity and the game are live, should revoking ever fail.
		{"identity deleted, sessions not revoked", func(e *env, tok ports.Tokens) { e.deleteIdentity(tok.Identity.ID()) }},
		{"game deleted, sessions not revoked", func(e *env, tok ports.Tokens) { e.deleteGame(tok.Session.GameID()) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			tok := e.device(deviceKey)
			e.authenticate(tok)
			tt.kill(e, tok)
			if _, err := e.svc.Authenticate(e.ctx, tok.AccessToken); !errors.Is(err, session.ErrAccessInvalid) {
				t.Errorf("Authenticate: %v, want ErrAccessInvalid", err)
			}
		})
	}
}

func TestMe(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tok := e.signIn(ports.SignIn{GameID: e.game, Kind: "DEVICE", ExternalKey: ptr(deviceKey), DisplayName: ptr("Ada")})
	i, err := e.svc.Me(e.ctx, e.authenticate(tok))
	if err != nil {
		t.Fatal(err)
	}
	if i.ID() != tok.Identity.ID() || i.DisplayName().String() != "Ada" || i.ExternalKey().String() != deviceKey {
		t.Errorf("Me = %+v, want %+v", i.Snapshot(), tok.Identity.Snapshot())
	}
}

// nonce issues a nonce for p and checks its expiry.
func (e *env) nonce(p ports.ClientPrincipal) string {
	e.t.Helper()
	n, expires, err := e.svc.Nonce(e.ctx, p)
	if err != nil {
		e.t.Fatalf("Nonce: %v", err)
	}
	if want := e.now().Add(appsession.NonceTTL); !expires.Equal(want) || expires.Location() != time.UTC {
		e.t.Errorf("nonce expires at %v, want %v", expires, want)
	}
	if len(n) < 43 {
		e.t.Errorf("nonce %q is shorter than 32 random bytes", n)
	}
	return n
}

func TestNonceIsFreshEachTime(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p := e.authenticate(e.device(deviceKey))
	if appsession.NonceTTL != 60*time.Second {
		t.Errorf("NonceTTL = %v, the contract says 60 s", appsession.NonceTTL)
	}
	if a, b := e.nonce(p), e.nonce(p); a == b {
		t.Error("two nonces are equal")
	}
}

func TestRename(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tok := e.signIn(ports.SignIn{GameID: e.game, Kind: "DEVICE", ExternalKey: ptr(deviceKey), DisplayName: ptr("Ada")})
	p := e.authenticate(tok)
	e.clock.Advance(time.Minute)
	i, err := e.svc.Rename(e.ctx, p, e.nonce(p), ptr("  Grace\u00a0"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if i.ID() != tok.Identity.ID() || i.DisplayName().String() != "Grace" || !i.UpdatedAt().Equal(e.now()) ||
		!i.CreatedAt().Equal(tok.Identity.CreatedAt()) {
		t.Errorf("renamed identity %+v", i.Snapshot())
	}
	if me, err := e.svc.Me(e.ctx, p); err != nil || me.DisplayName().String() != "Grace" {
		t.Errorf("Me after rename: %v, %v", me, err)
	}
}

func TestRenameRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tok := e.device(deviceKey)
	p := e.authenticate(tok)
	other := e.authenticate(e.device("another-device"))
	rename := func(nonce string, name *string) error {
		_, err := e.svc.Rename(e.ctx, p, nonce, name, nil)
		return err
	}

	t.Run("validation comes before the nonce", func(t *testing.T) {
		if err := rename("", nil); !isInvalid(err, "display_name") {
			t.Errorf("no display_name, no nonce: %v, want Invalid display_name", err)
		}
		if got := problems(t, rename("", nil)); len(got) != 1 || got[0].rule != domain.Required {
			t.Errorf("no display_name: %+v, want Required", got)
		}
		for _, bad := range []string{"", "   ", strings.Repeat("x", identity.MaxDisplayNameLen+1), "a\nb"} {
			if err := rename("", ptr(bad)); !isInvalid(err, "display_name") {
				t.Errorf("name %q, no nonce: %v, want Invalid display_name", bad, err)
			}
		}
		// A refused name does not spend the nonce.
		n := e.nonce(p)
		if err := rename(n, ptr("")); !isInvalid(err, "display_name") {
			t.Errorf("bad name with a nonce: %v", err)
		}
		if err := rename(n, ptr("Ada")); err != nil {
			t.Errorf("the nonce after a refused name: %v, want it unused", err)
		}
	})
	t.Run("no nonce", func(t *testing.T) {
		if err := rename("", ptr("Ada")); !errors.Is(err, session.ErrNonceRequired) {
			t.Errorf("%v, want ErrNonceRequired", err)
		}
	})
	t.Run("unknown nonce", func(t *testing.T) {
		if err := rename("never-issued", ptr("Ada")); !errors.Is(err, session.ErrNonceInvalid) {
			t.Errorf("%v, want ErrNonceInvalid", err)
		}
	})
	t.Run("another session's nonce", func(t *testing.T) {
		theirs := e.nonce(other)
		if err := rename(theirs, ptr("Ada")); !errors.Is(err, session.ErrNonceInvalid) {
			t.Errorf("%v, want ErrNonceInvalid", err)
		}
		// Trying someone else's nonce must not spend it for them.
		if _, err := e.svc.Rename(e.ctx, other, theirs, ptr("Bob"), nil); err != nil {
			t.Errorf("the owner's nonce after another session tried it: %v", err)
		}
	})
	t.Run("reused nonce", func(t *testing.T) {
		n := e.nonce(p)
		if err := rename(n, ptr("Ada")); err != nil {
			t.Fatal(err)
		}
		if err := rename(n, ptr("Eve")); !errors.Is(err, session.ErrNonceUsed) {
			t.Errorf("%v, want ErrNonceUsed", err)
		}
		if me, _ := e.svc.Me(e.ctx, p); me.DisplayName().String() != "Ada" {
			t.Errorf("name %q after a refused rename, want Ada", me.DisplayName())
		}
	})
	t.Run("expired nonce", func(t *testing.T) {
		young, old := e.nonce(p), e.nonce(p)
		e.clock.Advance(appsession.NonceTTL - time.Second)
		if err := rename(young, ptr("Ada")); err != nil {
			t.Errorf("a nonce a second before expiry: %v", err)
		}
		e.clock.Advance(2 * time.Second)
		if err := rename(old, ptr("Eve")); !errors.Is(err, session.ErrNonceExpired) {
			t.Errorf("%v, want ErrNonceExpired", err)
		}
	})
	t.Run("identity gone", func(t *testing.T) {
		// The check order ends with existence: a live nonce, then 404.
		n := e.nonce(p)
		e.deleteIdentity(tok.Identity.ID())
		if err := rename(n, ptr("Ada")); !errors.Is(err, identity.ErrNotFound) {
			t.Errorf("%v, want identity.ErrNotFound", err)
		}
	})
}

func TestSignOut(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tok, kept := e.device(deviceKey), e.device(deviceKey)
	p := e.authenticate(tok)
	e.clock.Advance(time.Minute)
	if err := e.svc.SignOut(e.ctx, p); err != nil {
		t.Fatal(err)
	}
	if got := e.stored(tok.Session.ID()); !got.RevokedAt().Equal(e.now()) {
		t.Errorf("revoked_at = %v, want %v", got.RevokedAt(), e.now())
	}
	if _, err := e.svc.Authenticate(e.ctx, tok.AccessToken); !errors.Is(err, session.ErrAccessInvalid) {
		t.Errorf("access after sign-out: %v, want ErrAccessInvalid", err)
	}
	// Signing out is of this device's session, not of the player.
	e.authenticate(kept)
}

// sessionIDs sorts by ID so that lists compare as sets.
func sessionIDs(items []*session.Session) []id.SessionID {
	out := make([]id.SessionID, len(items))
	for i, it := range items {
		out[i] = it.ID()
	}
	slices.SortFunc(out, func(a, b id.SessionID) int { return strings.Compare(a.String(), b.String()) })
	return out
}

func TestCreate(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	custom, _, err := e.identities.GetOrCreate(e.ctx, e.regular, ports.CreateIdentity{GameID: e.game, Kind: "CUSTOM", ExternalKey: "player-42"})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := e.svc.Create(e.ctx, e.regular, custom.ID())
	if err != nil {
		t.Fatal(err)
	}
	e.checkTokens(t, tok)
	if tok.Identity == nil || tok.Identity.ID() != custom.ID() || tok.Session.IdentityID() != custom.ID() ||
		tok.Session.AccountID() != e.acme || tok.Session.GameID() != e.game {
		t.Fatalf("tokens %+v", tok)
	}
	p := e.authenticate(tok)
	if me, err := e.svc.Me(e.ctx, p); err != nil || me.ID() != custom.ID() {
		t.Errorf("Me = %v, %v", me, err)
	}
	if _, err := e.svc.Refresh(e.ctx, tok.RefreshToken); err != nil {
		t.Errorf("refresh of an admin-made session: %v", err)
	}

	theirs, _, err := e.identities.GetOrCreate(e.ctx, e.super, ports.CreateIdentity{AccountID: e.other, GameID: e.theirs, Kind: "CUSTOM", ExternalKey: "player-43"})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := e.svc.Create(e.ctx, e.super, theirs.ID()); err != nil || got.Session.AccountID() != e.other {
		t.Errorf("superadmin for another account: %v", err)
	}
}

func TestCreateRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	mk := func(p tenancy.Principal, c ports.CreateIdentity) *identity.Identity {
		i, _, err := e.identities.GetOrCreate(e.ctx, p, c)
		if err != nil {
			t.Fatal(err)
		}
		return i
	}
	theirs := mk(e.super, ports.CreateIdentity{AccountID: e.other, GameID: e.theirs, Kind: "CUSTOM", ExternalKey: "player-43"})
	deleted := mk(e.regular, ports.CreateIdentity{GameID: e.game, Kind: "CUSTOM", ExternalKey: "player-44"})
	if _, err := e.identities.Update(e.ctx, e.regular, ports.UpdateIdentity{ID: deleted.ID(), Delete: true}); err != nil {
		t.Fatal(err)
	}
	doomed := e.newGame(e.acme, "", "")
	inDeletedGame := mk(e.regular, ports.CreateIdentity{GameID: doomed, Kind: "CUSTOM", ExternalKey: "player-45"})
	theirDoomed := e.newGame(e.other, "", "")
	theirsInDeletedGame := mk(e.super, ports.CreateIdentity{AccountID: e.other, GameID: theirDoomed, Kind: "CUSTOM", ExternalKey: "player-46"})
	e.deleteGame(doomed)
	e.deleteGame(theirDoomed)

	tests := []struct {
		name string
		p    tenancy.Principal
		id   id.IdentityID
		want error
	}{
		{"another account's identity", e.regular, theirs.ID(), identity.ErrForbidden},
		// Access comes before existence: another tenant learns nothing of its game.
		{"another account's identity in a deleted game", e.regular, theirsInDeletedGame.ID(), identity.ErrForbidden},
		{"unknown identity", e.regular, id.New[id.Identity](), identity.ErrNotFound},
		{"deleted identity", e.regular, deleted.ID(), identity.ErrNotFound},
		{"deleted game", e.regular, inDeletedGame.ID(), game.ErrNotFound},
		{"deleted game, superadmin", e.super, inDeletedGame.ID(), game.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := e.svc.Create(e.ctx, tt.p, tt.id); !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
	if forbidden := identity.ErrForbidden; domain.CategoryOf(forbidden) != domain.CategoryForbidden {
		t.Errorf("identity.ErrForbidden is not a 403")
	}
	if n := e.sessionCount(); n != 0 {
		t.Errorf("refused creations stored %d sessions", n)
	}
}

func TestGet(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	mine := e.device(deviceKey)
	theirs := e.signIn(ports.SignIn{GameID: e.theirs, Kind: "DEVICE", ExternalKey: ptr(deviceKey)})
	got, err := e.svc.Get(e.ctx, e.regular, ports.GetSession{ID: mine.Session.ID()})
	if err != nil {
		t.Fatal(err)
	}
	if got.ID() != mine.Session.ID() || got.IdentityID() != mine.Identity.ID() || !got.ExpiresAt().Equal(mine.Session.ExpiresAt()) {
		t.Errorf("Get = %+v, want %+v", got.Snapshot(), mine.Session.Snapshot())
	}
	if _, err := e.svc.Get(e.ctx, e.regular, ports.GetSession{ID: theirs.Session.ID()}); !errors.Is(err, session.ErrForbidden) {
		t.Errorf("another account's session: %v, want session.ErrForbidden", err)
	}
	if _, err := e.svc.Get(e.ctx, e.super, ports.GetSession{ID: theirs.Session.ID()}); err != nil {
		t.Errorf("superadmin: %v", err)
	}
	if _, err := e.svc.Get(e.ctx, e.regular, ports.GetSession{ID: id.New[id.Session]()}); !errors.Is(err, session.ErrNotFound) {
		t.Errorf("unknown session: %v, want session.ErrNotFound", err)
	}
	// A named account is checked as for identities: a regular key names only
	// its own (403), a superadmin naming another account finds nothing.
	if _, err := e.svc.Get(e.ctx, e.regular, ports.GetSession{ID: mine.Session.ID(), AccountID: e.acme}); err != nil {
		t.Errorf("own account named: %v", err)
	}
	if _, err := e.svc.Get(e.ctx, e.regular, ports.GetSession{ID: mine.Session.ID(), AccountID: e.other}); !errors.Is(err, auth.ErrAccountDenied) {
		t.Errorf("another account named: %v, want auth.ErrAccountDenied", err)
	}
	if _, err := e.svc.Get(e.ctx, e.super, ports.GetSession{ID: theirs.Session.ID(), AccountID: e.acme}); !errors.Is(err, session.ErrNotFound) {
		t.Errorf("superadmin naming the wrong account: %v, want session.ErrNotFound", err)
	}
	if _, err := e.svc.Revoke(e.ctx, e.super, ports.GetSession{ID: theirs.Session.ID(), AccountID: e.acme}); !errors.Is(err, session.ErrNotFound) {
		t.Errorf("superadmin revoking in the wrong account: %v, want session.ErrNotFound", err)
	}
	if got, err := e.svc.Get(e.ctx, e.super, ports.GetSession{ID: theirs.Session.ID()}); err != nil || got.IsRevoked() {
		t.Errorf("a refused revocation wrote: %v, %v", got, err)
	}
	// Revoked sessions stay readable: that is how an admin sees they ended.
	if err := e.svc.SignOut(e.ctx, e.authenticate(mine)); err != nil {
		t.Fatal(err)
	}
	if got, err := e.svc.Get(e.ctx, e.regular, ports.GetSession{ID: mine.Session.ID()}); err != nil || !got.IsRevoked() {
		t.Errorf("revoked session: %v, %v", got, err)
	}
}

func (e *env) list(t *testing.T, p tenancy.Principal, q ports.ListSessions) []*session.Session {
	t.Helper()
	return apptest.WalkPages(t, func(cursor string) (paging.Page[*session.Session], error) {
		q.Page.Cursor = cursor
		return e.svc.List(e.ctx, p, q)
	})
}

func TestListScope(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a1 := e.device(deviceKey)
	a2 := e.device(deviceKey)
	b1 := e.device("another-device")
	o1 := e.signIn(ports.SignIn{GameID: e.theirs, Kind: "DEVICE", ExternalKey: ptr(deviceKey)})
	if _, err := e.svc.Revoke(e.ctx, e.regular, ports.GetSession{ID: a2.Session.ID()}); err != nil {
		t.Fatal(err)
	}
	A, B, O := a1.Identity.ID(), b1.Identity.ID(), o1.Identity.ID()
	tests := []struct {
		name string
		p    tenancy.Principal
		q    ports.ListSessions
		want []ports.Tokens
	}{
		{"regular sees own account, revoked included", e.regular, ports.ListSessions{}, []ports.Tokens{a1, a2, b1}},
		{"regular names own account", e.regular, ports.ListSessions{AccountID: e.acme}, []ports.Tokens{a1, a2, b1}},
		{"regular, by identity", e.regular, ports.ListSessions{IdentityID: A}, []ports.Tokens{a1, a2}},
		{"regular, by another identity", e.regular, ports.ListSessions{IdentityID: B}, []ports.Tokens{b1}},
		{"regular, by another account's identity", e.regular, ports.ListSessions{IdentityID: O}, nil},
		{"superadmin sees all", e.super, ports.ListSessions{}, []ports.Tokens{a1, a2, b1, o1}},
		{"superadmin names an account", e.super, ports.ListSessions{AccountID: e.other}, []ports.Tokens{o1}},
		{"superadmin, by identity", e.super, ports.ListSessions{IdentityID: O}, []ports.Tokens{o1}},
		{"superadmin, account and identity disagree", e.super, ports.ListSessions{AccountID: e.acme, IdentityID: O}, nil},
		{"small pages", e.super, ports.ListSessions{Page: paging.Params{Limit: 1}}, []ports.Tokens{a1, a2, b1, o1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var want []*session.Session
			for _, tok := range tt.want {
				want = append(want, tok.Session)
			}
			if got := e.list(t, tt.p, tt.q); !slices.Equal(sessionIDs(got), sessionIDs(want)) {
				t.Errorf("listed %v, want %v", sessionIDs(got), sessionIDs(want))
			}
		})
	}
	if _, err := e.svc.List(e.ctx, e.regular, ports.ListSessions{AccountID: e.other}); !errors.Is(err, auth.ErrAccountDenied) {
		t.Errorf("regular user naming another account: %v, want auth.ErrAccountDenied", err)
	}
}

func TestListSorts(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var made []ports.Tokens // oldest first
	for i := range 4 {
		made = append(made, e.device(fmt.Sprintf("device-%06d", i)))
		e.clock.Advance(time.Second)
	}
	// The oldest session refreshes last: updated_at orders otherwise than
	// created_at.
	if _, err := e.svc.Refresh(e.ctx, made[0].RefreshToken); err != nil {
		t.Fatal(err)
	}
	s := func(idx ...int) []id.SessionID {
		var out []id.SessionID
		for _, i := range idx {
			out = append(out, made[i].Session.ID())
		}
		return out
	}
	byID := s(0, 1, 2, 3)
	slices.SortFunc(byID, func(a, b id.SessionID) int { return strings.Compare(a.String(), b.String()) })
	byIDDesc := slices.Clone(byID)
	slices.Reverse(byIDDesc)
	tests := []struct {
		sort *string
		want []id.SessionID
	}{
		{nil, s(3, 2, 1, 0)}, // created_at:desc, the default
		{ptr("created_at:asc"), s(0, 1, 2, 3)},
		{ptr("updated_at:desc"), s(0, 3, 2, 1)},
		{ptr("updated_at:asc,created_at:desc"), s(1, 2, 3, 0)},
		{ptr("id:asc"), byID},
		{ptr("id:desc"), byIDDesc},
	}
	for _, tt := range tests {
		name := "default"
		if tt.sort != nil {
			name = *tt.sort
		}
		t.Run(name, func(t *testing.T) {
			for _, limit := range []int{1, 3, 100} {
				var got []id.SessionID
				for _, it := range e.list(t, e.regular, ports.ListSessions{Page: paging.Params{Sort: tt.sort, Limit: limit}}) {
					got = append(got, it.ID())
				}
				if !slices.Equal(got, tt.want) {
					t.Errorf("limit %d: order %v, want %v", limit, got, tt.want)
				}
			}
		})
	}
	for _, bad := range []string{"expires_at:asc", "created_at", "id:up", "id:asc,id:desc"} {
		if _, err := e.svc.List(e.ctx, e.regular, ports.ListSessions{Page: paging.Params{Sort: ptr(bad)}}); domain.CategoryOf(err) != domain.CategoryBadRequest {
			t.Errorf("sort %q: %v, want a bad request", bad, err)
		}
	}
}

func TestListCursorsWalkBothWays(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for i := range 5 {
		e.device(fmt.Sprintf("device-%06d", i))
		e.clock.Advance(time.Second)
	}
	var pages [][]id.SessionID
	q := ports.ListSessions{Page: paging.Params{Limit: 2}}
	var last paging.Page[*session.Session]
	for {
		pg, err := e.svc.List(e.ctx, e.regular, q)
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, sessionIDsInOrder(pg.Items))
		last = pg
		if !pg.HasNext {
			break
		}
		q.Page.Cursor = pg.Next
	}
	if len(pages) != 3 || len(pages[2]) != 1 {
		t.Fatalf("pages %v, want 2+2+1", pages)
	}
	// Back from the last page: the same pages, each in the same order.
	for i := len(pages) - 2; i >= 0; i-- {
		if !last.HasPrev {
			t.Fatalf("page %d has no way back", i+1)
		}
		pg, err := e.svc.List(e.ctx, e.regular, ports.ListSessions{Page: paging.Params{Limit: 2, Cursor: last.Prev}})
		if err != nil {
			t.Fatal(err)
		}
		if got := sessionIDsInOrder(pg.Items); !slices.Equal(got, pages[i]) {
			t.Errorf("back to page %d: %v, want %v", i, got, pages[i])
		}
		last = pg
	}
	if last.HasPrev {
		t.Error("the first page, reached backwards, says it has a previous page")
	}
}

func sessionIDsInOrder(items []*session.Session) []id.SessionID {
	out := make([]id.SessionID, len(items))
	for i, it := range items {
		out[i] = it.ID()
	}
	return out
}

func TestListCursorKeepsItsFilters(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.device(deviceKey)
	e.device(deviceKey)
	e.device("another-device")
	first, err := e.svc.List(e.ctx, e.super, ports.ListSessions{Page: paging.Params{Limit: 1}})
	if err != nil || first.Next == "" {
		t.Fatalf("first page: %+v, %v", first, err)
	}
	tests := []struct {
		name string
		p    tenancy.Principal
		q    ports.ListSessions
	}{
		{"identity added", e.super, ports.ListSessions{IdentityID: a.Identity.ID()}},
		{"account scope added", e.super, ports.ListSessions{AccountID: e.acme}},
		{"regular user's scope", e.regular, ports.ListSessions{}},
		{"other sort", e.super, ports.ListSessions{Page: paging.Params{Sort: ptr("id:asc")}}},
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
	// Signed by the same codec, an identities cursor is still not one of
	// this list's.
	identities, err := e.identities.List(e.ctx, e.super, ports.ListIdentities{Page: paging.Params{Limit: 1}})
	if err != nil || identities.Next == "" {
		t.Fatalf("identities page: %+v, %v", identities, err)
	}
	for name, c := range map[string]string{"garbage": "garbage", "an identities cursor": identities.Next} {
		if _, err := e.svc.List(e.ctx, e.super, ports.ListSessions{Page: paging.Params{Cursor: c}}); !errors.Is(err, cursor.ErrInvalidCursor) {
			t.Errorf("%s: %v, want ErrInvalidCursor", name, err)
		}
	}
	if _, err := e.svc.List(e.ctx, e.super, ports.ListSessions{Page: paging.Params{Cursor: first.Next, Limit: 50}}); err != nil {
		t.Errorf("same query, other limit: %v", err)
	}
}

func TestRevoke(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tok := e.device(deviceKey)
	e.clock.Advance(time.Minute)
	revokedAt := e.now()
	got, err := e.svc.Revoke(e.ctx, e.regular, ports.GetSession{ID: tok.Session.ID()})
	if err != nil {
		t.Fatal(err)
	}
	if !got.RevokedAt().Equal(revokedAt) || !got.UpdatedAt().Equal(revokedAt) || got.ID() != tok.Session.ID() {
		t.Errorf("revoked %+v, want revoked_at %v", got.Snapshot(), revokedAt)
	}
	if _, err := e.svc.Authenticate(e.ctx, tok.AccessToken); !errors.Is(err, session.ErrAccessInvalid) {
		t.Errorf("access after revocation: %v, want ErrAccessInvalid", err)
	}
	if _, err := e.svc.Refresh(e.ctx, tok.RefreshToken); !errors.Is(err, session.ErrRefreshInvalid) {
		t.Errorf("refresh after revocation: %v, want ErrRefreshInvalid", err)
	}

	// Again: 200 with the session as it was revoked.
	e.clock.Advance(time.Hour)
	again, err := e.svc.Revoke(e.ctx, e.regular, ports.GetSession{ID: tok.Session.ID()})
	if err != nil {
		t.Fatal(err)
	}
	if !again.RevokedAt().Equal(revokedAt) || !again.UpdatedAt().Equal(revokedAt) {
		t.Errorf("second revocation: revoked_at %v updated_at %v, want both %v", again.RevokedAt(), again.UpdatedAt(), revokedAt)
	}
	if s := e.stored(tok.Session.ID()); !s.RevokedAt().Equal(revokedAt) {
		t.Errorf("stored revoked_at %v, want %v", s.RevokedAt(), revokedAt)
	}

	// The player signs in again: a new session, unaffected.
	e.authenticate(e.device(deviceKey))
}

func TestRevokeTenancy(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	theirs := e.signIn(ports.SignIn{GameID: e.theirs, Kind: "DEVICE", ExternalKey: ptr(deviceKey)})
	if _, err := e.svc.Revoke(e.ctx, e.regular, ports.GetSession{ID: theirs.Session.ID()}); !errors.Is(err, session.ErrForbidden) {
		t.Errorf("another account's session: %v, want session.ErrForbidden", err)
	}
	if s := e.stored(theirs.Session.ID()); s.IsRevoked() {
		t.Error("a refused revocation revoked the session")
	}
	e.authenticate(theirs)
	if _, err := e.svc.Revoke(e.ctx, e.regular, ports.GetSession{ID: id.New[id.Session]()}); !errors.Is(err, session.ErrNotFound) {
		t.Errorf("unknown session: %v, want session.ErrNotFound", err)
	}
	got, err := e.svc.Revoke(e.ctx, e.super, ports.GetSession{ID: theirs.Session.ID()})
	if err != nil || !got.IsRevoked() {
		t.Errorf("superadmin: %v, %v", got, err)
	}
}

// concurrently runs fn n times at once and returns the errors.
func concurrently(n int, fn func() error) []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = fn()
		})
	}
	close(start)
	wg.Wait()
	return errs
}

func TestSignInConcurrently(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var mu sync.Mutex
	sessions := map[id.SessionID]bool{}
	identities := map[id.IdentityID]bool{}
	for _, err := range concurrently(8, func() error {
		tok, err := e.svc.SignIn(e.ctx, ports.SignIn{GameID: e.game, Kind: "DEVICE", ExternalKey: ptr(deviceKey)})
		if err == nil {
			mu.Lock()
			sessions[tok.Session.ID()], identities[tok.Identity.ID()] = true, true
			mu.Unlock()
		}
		return err
	}) {
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(identities) != 1 || len(sessions) != 8 || e.identityCount() != 1 {
		t.Errorf("%d identities, %d sessions; want one player with 8 sessions", len(identities), len(sessions))
	}
}

func TestRefreshConcurrently(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tok := e.device(deviceKey)
	won := 0
	for _, err := range concurrently(8, func() error {
		_, err := e.svc.Refresh(e.ctx, tok.RefreshToken)
		return err
	}) {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, session.ErrRefreshInvalid):
			t.Errorf("a losing refresh: %v, want ErrRefreshInvalid", err)
		}
	}
	if won != 1 {
		t.Errorf("%d refreshes with one token succeeded, want exactly 1", won)
	}
}

func TestRenameConcurrently(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p := e.authenticate(e.device(deviceKey))
	n := e.nonce(p)
	won := 0
	for _, err := range concurrently(8, func() error {
		_, err := e.svc.Rename(e.ctx, p, n, ptr("Ada"), nil)
		return err
	}) {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, session.ErrNonceUsed):
			t.Errorf("a losing rename: %v, want ErrNonceUsed", err)
		}
	}
	if won != 1 {
		t.Errorf("%d renames with one nonce succeeded, want exactly 1", won)
	}
}

// TestRenamePrecondition: a precondition that fails under the row lock
// renames nothing; one that holds renames.
func TestRenamePrecondition(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tok := e.signIn(ports.SignIn{GameID: e.game, Kind: "DEVICE", ExternalKey: ptr(deviceKey), DisplayName: ptr("Ada")})
	p := e.authenticate(tok)
	never := func(*identity.Identity) bool { return false }
	if _, err := e.svc.Rename(e.ctx, p, e.nonce(p), ptr("Grace"), never); !errors.Is(err, identity.ErrPreconditionFailed) {
		t.Fatalf("failed precondition: %v, want ErrPreconditionFailed", err)
	}
	if me, _ := e.svc.Me(e.ctx, p); me.DisplayName().String() != "Ada" {
		t.Fatalf("renamed to %q despite the precondition", me.DisplayName().String())
	}
	named := func(i *identity.Identity) bool { return i.DisplayName().String() == "Ada" }
	if i, err := e.svc.Rename(e.ctx, p, e.nonce(p), ptr("Grace"), named); err != nil || i.DisplayName().String() != "Grace" {
		t.Fatalf("holding precondition: %v, %v", i, err)
	}
}

// gate is a sign-up gate that counts what it is asked and refuses once
// refusing is set.
type gate struct {
	mu       sync.Mutex
	asked    int
	refusing error
}

func (g *gate) ask(context.Context) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.asked++
	return g.refusing
}

func (g *gate) count() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.asked
}

// TestSignUpGate: the sign-up gate is asked before a sign-in creates an
// identity and only then; its refusal is the sign-in's answer, and nothing
// is written.
func TestSignUpGate(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	g := &gate{}
	device := func(key string) (ports.Tokens, error) {
		return e.svc.SignIn(e.ctx, ports.SignIn{GameID: e.game, Kind: "DEVICE", ExternalKey: &key, SignUp: g.ask})
	}
	if _, err := device(deviceKey); err != nil || g.count() != 1 {
		t.Fatalf("a new device: %v, gate asked %d times, want once", err, g.count())
	}
	// Refusing from now on: signing in again as that device asks nothing,
	// with a new name too; a new device is refused with the gate's error.
	limited := errors.New("too many")
	g.refusing = limited
	for _, name := range []*string{nil, ptr("Ada")} {
		if _, err := e.svc.SignIn(e.ctx, ports.SignIn{GameID: e.game, Kind: "DEVICE", ExternalKey: ptr(deviceKey), DisplayName: name, SignUp: g.ask}); err != nil {
			t.Fatalf("an existing device while the gate refuses: %v", err)
		}
	}
	if g.count() != 1 {
		t.Fatalf("signing in as an existing identity asked the gate (%d times in all)", g.count())
	}
	identities, sessions := e.identityCount(), e.sessionCount()
	if _, err := device("another-device-0001"); !errors.Is(err, limited) {
		t.Fatalf("a new device past the gate: %v, want the gate's error", err)
	}
	// The same device in another game is another identity: asked too.
	if _, err := e.svc.SignIn(e.ctx, ports.SignIn{GameID: e.plain, Kind: "DEVICE", ExternalKey: ptr(deviceKey), SignUp: g.ask}); !errors.Is(err, limited) {
		t.Fatalf("a known device in another game: %v, want the gate's error", err)
	}
	if e.identityCount() != identities || e.sessionCount() != sessions {
		t.Fatalf("refused sign-ins wrote: %d identities, %d sessions, want %d and %d", e.identityCount(), e.sessionCount(), identities, sessions)
	}

	// A Steam player is known by the SteamID64 Steam answers: the gate is
	// asked after Steam, for a new player only.
	g.refusing = nil
	steam := func() error {
		_, err := e.svc.SignIn(e.ctx, ports.SignIn{GameID: e.game, Kind: "STEAM", SteamTicket: ptr(ticket), SignUp: g.ask})
		return err
	}
	asked := g.count()
	if err := steam(); err != nil || g.count() != asked+1 {
		t.Fatalf("a new Steam player: %v, gate asked %d times, want once", err, g.count()-asked)
	}
	g.refusing = limited
	if err := steam(); err != nil || g.count() != asked+1 {
		t.Fatalf("a known Steam player: %v, gate asked %d more times, want none", err, g.count()-asked-1)
	}

	// What fails before the identity is looked up asks nothing.
	asked = g.count()
	for name, c := range map[string]ports.SignIn{
		"invalid":      {GameID: e.game, Kind: "DEVICE", ExternalKey: ptr("short"), SignUp: g.ask},
		"unknown game": {GameID: id.New[id.Game](), Kind: "DEVICE", ExternalKey: ptr("a-new-device-0002"), SignUp: g.ask},
		"bad ticket":   {GameID: e.game, Kind: "STEAM", SteamTicket: ptr("abcdef"), SignUp: g.ask},
	} {
		if _, err := e.svc.SignIn(e.ctx, c); err == nil || errors.Is(err, limited) {
			t.Errorf("%s: %v, want its own refusal", name, err)
		}
	}
	if g.count() != asked {
		t.Errorf("failed sign-ins asked the gate %d times", g.count()-asked)
	}
}

// TestSessionMaxAge: however often it is refreshed, a session ends at its
// maximum age, and nothing handed out outlives it.
func TestSessionMaxAge(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.deps.Lifetimes = session.Lifetimes{Access: 15 * time.Minute, Refresh: 24 * time.Hour, MaxAge: 50 * time.Hour}
	e.svc = appsession.NewService(e.deps)
	tok := e.device(deviceKey)
	end := tok.Session.CreatedAt().Add(50 * time.Hour)
	if tok.AccessTTL != 15*time.Minute || tok.RefreshTTL != 24*time.Hour {
		t.Fatalf("first tokens live %v and %v", tok.AccessTTL, tok.RefreshTTL)
	}
	var err error
	for _, step := range []time.Duration{20 * time.Hour, 20 * time.Hour, 9*time.Hour + 50*time.Minute} {
		e.clock.Advance(step)
		if tok, err = e.svc.Refresh(e.ctx, tok.RefreshToken); err != nil {
			t.Fatalf("refresh %v before the end: %v", end.Sub(e.now()), err)
		}
		left := end.Sub(e.now())
		if tok.RefreshTTL != min(24*time.Hour, left) || tok.AccessTTL != min(15*time.Minute, left) {
			t.Fatalf("%v before the end, tokens live %v and %v", left, tok.AccessTTL, tok.RefreshTTL)
		}
		claims, err := e.tokens.Verify(tok.AccessToken, e.clock.Now())
		if err != nil || claims.ExpiresAt.After(end) || claims.ExpiresAt.After(tok.Session.RefreshExpiresAt()) {
			t.Fatalf("access token expiring %v (%v), the session ends %v", claims.ExpiresAt, err, end)
		}
		e.authenticate(tok)
	}
	e.clock.Advance(10 * time.Minute)
	if _, err := e.svc.Refresh(e.ctx, tok.RefreshToken); !errors.Is(err, session.ErrRefreshInvalid) {
		t.Fatalf("refresh at the maximum age: %v, want ErrRefreshInvalid", err)
	}
	if _, err := e.svc.Authenticate(e.ctx, tok.AccessToken); !errors.Is(err, session.ErrAccessInvalid) {
		t.Fatalf("access at the maximum age: %v, want ErrAccessInvalid", err)
	}
}
