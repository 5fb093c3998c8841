package player_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/leadr-oss/identity/application/apptest"
	"github.com/leadr-oss/identity/application/auth"
	"github.com/leadr-oss/identity/application/cursor"
	appidentity "github.com/leadr-oss/identity/application/identity"
	appplayer "github.com/leadr-oss/identity/application/player"
	appsession "github.com/leadr-oss/identity/application/session"
	"github.com/leadr-oss/identity/domain"
	"github.com/leadr-oss/identity/domain/event"
	"github.com/leadr-oss/identity/domain/game"
	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/domain/identity"
	"github.com/leadr-oss/identity/domain/player"
	"github.com/leadr-oss/identity/domain/session"
	"github.com/leadr-oss/identity/domain/tenancy"
	"github.com/leadr-oss/identity/ports"
	"github.com/leadr-oss/identity/ports/paging"
)

const grace = 30 * 24 * time.Hour

var lifetimes = session.Lifetimes{Access: 15 * time.Minute, Refresh: 720 * time.Hour}

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

type env struct {
	t          *testing.T
	ctx        context.Context
	svc        *appplayer.Service
	identities *appidentity.Service
	players    ports.PlayerRepository
	idRepo     ports.IdentityRepository
	sessions   ports.SessionRepository
	outbox     ports.Outbox
	events     ports.EventRepository
	clock      *clock
	acme       id.AccountID
	other      id.AccountID
	regular    tenancy.Principal // of acme
	theirUser  tenancy.Principal // of other
	super      tenancy.Principal
	game       id.GameID // acme's
	theirs     id.GameID // other's
	actor      event.Actor
	gameRepo   ports.GameRepository
	games      atomic.Int32
	keys       atomic.Int32
	hashes     atomic.Int32
}

// newEnv wires the player use cases over one in-memory database, with the
// player slice's reactions subscribed as the service wires them: without
// them, a new identity would have no player. The session slice's are
// subscribed too, so that deletions and bans end sessions.
func newEnv(t *testing.T) *env {
	t.Helper()
	mem := apptest.NewMemory()
	clk := &clock{now: time.Date(2026, 6, 1, 10, 0, 0, 123456789, time.UTC)}
	acme, other, system := mem.NewAccount(t, "acme", clk.Now()), mem.NewAccount(t, "other", clk.Now()), mem.NewAccount(t, "system", clk.Now())
	codec := cursor.NewCodec([]byte("cursor secret"))
	e := &env{
		t: t, gameRepo: mem.Games(), players: mem.Players(), idRepo: mem.Identities(), sessions: mem.Sessions(),
		outbox: mem.Outbox(), events: mem.Events(), clock: clk, acme: acme, other: other,
		identities: appidentity.NewService(mem.Identities(), mem.Tenancy(), codec, clk.Now),
		regular:    tenancy.Principal{KeyID: id.New[id.APIKey](), UserID: id.New[id.User](), AccountID: acme},
		theirUser:  tenancy.Principal{KeyID: id.New[id.APIKey](), UserID: id.New[id.User](), AccountID: other},
		super:      tenancy.Principal{KeyID: id.New[id.APIKey](), UserID: id.New[id.User](), AccountID: system, SuperAdmin: true},
	}
	e.actor = event.Actor{Kind: event.ActorAPIKey, ID: e.regular.KeyID.String()}
	e.ctx = event.WithActor(context.Background(), e.actor)
	e.svc = appplayer.NewService(appplayer.Deps{
		Players: mem.Players(), Identities: mem.Identities(), Cursors: codec, Now: clk.Now, Grace: grace,
	})
	for _, s := range appplayer.Reactions(mem.Players(), clk.Now) {
		t.Cleanup(e.outbox.Subscribe(s))
	}
	for _, s := range appsession.Reactions(mem.Sessions()) {
		t.Cleanup(e.outbox.Subscribe(s))
	}
	e.game, e.theirs = e.newGame(acme), e.newGame(other)
	return e
}

// newGame stores a live game in the account, straight in the repository.
func (e *env) newGame(account id.AccountID) id.GameID {
	e.t.Helper()
	name, err := game.ParseName("Game")
	if err != nil {
		e.t.Fatal(err)
	}
	g, err := game.New(account, name, game.DeriveSlug(name).Numbered(int(e.games.Add(1))+1), e.clock.Now())
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.gameRepo.Create(e.ctx, g); err != nil {
		e.t.Fatal(err)
	}
	return g.ID()
}

// key is a device key no identity has yet.
func (e *env) key() string { return fmt.Sprintf("device-%04d", e.keys.Add(1)) }

// identity creates an identity with key in the account's game, as a
// studio's backend does, and with it its player.
func (e *env) identity(account id.AccountID, key string) *identity.Identity {
	e.t.Helper()
	g := e.game
	if account == e.other {
		g = e.theirs
	}
	i, created, err := e.identities.GetOrCreate(e.ctx, e.super, ports.CreateIdentity{AccountID: account, GameID: g, Kind: "DEVICE", ExternalKey: key})
	if err != nil || !created {
		e.t.Fatalf("GetOrCreate %s: created %v, %v", key, created, err)
	}
	return i
}

// player makes a player of the account holding n identities: the first
// one's, with the others merged in.
func (e *env) player(account id.AccountID, n int) *player.Player {
	e.t.Helper()
	first := e.identity(account, e.key())
	for range n - 1 {
		i := e.identity(account, e.key())
		if _, _, err := e.svc.Link(e.ctx, e.super, ports.LinkIdentity{PlayerID: first.PlayerID(), IdentityID: i.ID(), Merge: true}); err != nil {
			e.t.Fatal(err)
		}
	}
	return e.stored(first.PlayerID())
}

// stored reads a player as the repository holds it, past the use cases.
func (e *env) stored(playerID id.PlayerID) *player.Player {
	e.t.Helper()
	p, err := e.players.Get(e.ctx, playerID, e.clock.Now())
	if err != nil {
		e.t.Fatalf("repository Get(%s): %v", playerID, err)
	}
	return p
}

// signIn starts a session of the identity, straight in the repository.
func (e *env) signIn(i *identity.Identity) (*session.Session, error) {
	s := session.New(i.ID(), i.AccountID(), i.GameID(), e.clock.Now(), lifetimes)
	return s, e.sessions.Create(e.ctx, s, fmt.Appendf(nil, "refresh hash %d", e.hashes.Add(1)))
}

func (e *env) session(i *identity.Identity) *session.Session {
	e.t.Helper()
	s, err := e.signIn(i)
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

func (e *env) revoked(s *session.Session) bool {
	e.t.Helper()
	got, err := e.sessions.Get(e.ctx, s.ID())
	if err != nil {
		e.t.Fatal(err)
	}
	return got.IsRevoked()
}

func (e *env) ban(p *player.Player, expiresAt *time.Time) *player.Ban {
	e.t.Helper()
	b, err := e.svc.Ban(e.ctx, e.regular, ports.CreateBan{PlayerID: p.ID(), Reason: ptr("Cheating"), ExpiresAt: expiresAt})
	if err != nil {
		e.t.Fatalf("Ban: %v", err)
	}
	return b
}

// during is what change records: "type subject" each, sorted, since the
// order within a transaction is not the contract's.
func (e *env) during(change func()) []string {
	e.t.Helper()
	var out []string
	for _, r := range apptest.RecordedDuring(e.t, e.events, change) {
		out = append(out, string(r.Type)+" "+r.Subject.ID)
		if r.Actor != e.actor {
			e.t.Errorf("%s of %s recorded as the doing of %+v, want %+v", r.Type, r.Subject.ID, r.Actor, e.actor)
		}
	}
	slices.Sort(out)
	return out
}

func records(entries ...string) []string {
	slices.Sort(entries)
	return entries
}

func rec(typ string, subject fmt.Stringer) string { return typ + " " + subject.String() }

func sameEvents(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s recorded\n  %s\nwant\n  %s", what, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

func ptr[T any](v T) *T { return &v }

func ids(p *player.Player) []id.IdentityID {
	var out []id.IdentityID
	for _, i := range p.Identities() {
		out = append(out, i.ID())
	}
	slices.SortFunc(out, func(a, b id.IdentityID) int { return strings.Compare(a.String(), b.String()) })
	return out
}

// facts are the Facts of err, a *domain.Error.
func facts(t *testing.T, err error) map[string]any {
	t.Helper()
	var de *domain.Error
	if !errors.As(err, &de) {
		t.Fatalf("%v (%T) is not a *domain.Error", err, err)
	}
	return de.Facts
}

func TestGet(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	mine, theirs := e.player(e.acme, 2), e.player(e.other, 1)
	tests := []struct {
		name  string
		p     tenancy.Principal
		q     ports.GetPlayer
		err   error
		found *player.Player
	}{
		{"own", e.regular, ports.GetPlayer{ID: mine.ID()}, nil, mine},
		{"own, naming the account", e.regular, ports.GetPlayer{ID: mine.ID(), AccountID: e.acme}, nil, mine},
		{"another account's", e.regular, ports.GetPlayer{ID: theirs.ID()}, player.ErrForbidden, nil},
		{"naming another account", e.regular, ports.GetPlayer{ID: mine.ID(), AccountID: e.other}, auth.ErrAccountDenied, nil},
		{"unknown", e.regular, ports.GetPlayer{ID: id.New[id.Player]()}, player.ErrNotFound, nil},
		{"superadmin", e.super, ports.GetPlayer{ID: theirs.ID()}, nil, theirs},
		{"superadmin naming its account", e.super, ports.GetPlayer{ID: theirs.ID(), AccountID: e.other}, nil, theirs},
		{"superadmin naming another account", e.super, ports.GetPlayer{ID: theirs.ID(), AccountID: e.acme}, player.ErrNotFound, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := e.svc.Get(e.ctx, tt.p, tt.q)
			if !errors.Is(err, tt.err) {
				t.Fatalf("Get: %v, want %v", err, tt.err)
			}
			if tt.found == nil {
				if p != nil {
					t.Errorf("refused Get answered player %s", p.ID())
				}
				return
			}
			if p.ID() != tt.found.ID() || !slices.Equal(ids(p), ids(tt.found)) || p.AccountID() != tt.found.AccountID() {
				t.Errorf("player %s holding %v, want %s holding %v", p.ID(), ids(p), tt.found.ID(), ids(tt.found))
			}
		})
	}
}

func TestList(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	live, twice := e.player(e.acme, 1), e.player(e.acme, 2)
	banned := e.player(e.acme, 1)
	e.ban(banned, nil)
	deleted := e.player(e.acme, 1)
	if _, err := e.svc.Delete(e.ctx, e.regular, ports.DeletePlayer{ID: deleted.ID()}); err != nil {
		t.Fatal(err)
	}
	erased := e.player(e.acme, 1)
	if _, err := e.svc.Delete(e.ctx, e.regular, ports.DeletePlayer{ID: erased.ID(), Erase: true}); err != nil {
		t.Fatal(err)
	}
	// A player closed by a merge is never listed.
	closed := e.player(e.acme, 1)
	if _, _, err := e.svc.Link(e.ctx, e.regular, ports.LinkIdentity{PlayerID: live.ID(), IdentityID: closed.Identities()[0].ID(), Merge: true}); err != nil {
		t.Fatal(err)
	}
	expired := e.player(e.acme, 1)
	e.ban(expired, ptr(e.clock.Now().Add(time.Hour)))
	theirs := e.player(e.other, 1)
	e.clock.Advance(2 * time.Hour)
	key := twice.Identities()[1].ExternalKey().String()

	tests := []struct {
		name string
		p    tenancy.Principal
		q    ports.ListPlayers
		want []*player.Player
		err  error
		cat  domain.Category // of err, when err is nil
	}{
		{name: "live", p: e.regular, want: []*player.Player{live, twice, banned, expired}},
		{name: "banned", p: e.regular, q: ports.ListPlayers{Banned: ptr(true)}, want: []*player.Player{banned}},
		{name: "not banned", p: e.regular, q: ports.ListPlayers{Banned: ptr(false)}, want: []*player.Player{live, twice, expired}},
		{name: "deleted", p: e.regular, q: ports.ListPlayers{Deleted: ptr(true)}, want: []*player.Player{deleted}},
		{name: "not deleted", p: e.regular, q: ports.ListPlayers{Deleted: ptr(false)}, want: []*player.Player{live, twice, banned, expired}},
		{name: "by identity", p: e.regular, q: ports.ListPlayers{Kind: ptr("DEVICE"), ExternalKey: &key}, want: []*player.Player{twice}},
		{name: "by a merged identity", p: e.regular, q: ports.ListPlayers{Kind: ptr("DEVICE"), ExternalKey: ptr(closed.Identities()[0].ExternalKey().String())}, want: []*player.Player{live}},
		{name: "by a deleted player's identity", p: e.regular, q: ports.ListPlayers{Kind: ptr("DEVICE"), ExternalKey: ptr(deleted.Identities()[0].ExternalKey().String())}},
		{name: "by kind", p: e.regular, q: ports.ListPlayers{Kind: ptr("STEAM")}},
		{name: "by game", p: e.regular, q: ports.ListPlayers{GameID: e.theirs}},
		{name: "external_key without kind", p: e.regular, q: ports.ListPlayers{ExternalKey: &key}, cat: domain.CategoryBadRequest},
		{name: "empty external_key", p: e.regular, q: ports.ListPlayers{Kind: ptr("DEVICE"), ExternalKey: ptr("")}, cat: domain.CategoryBadRequest},
		{name: "unknown kind", p: e.regular, q: ports.ListPlayers{Kind: ptr("EMAIL")}, cat: domain.CategoryBadRequest},
		{name: "another account", p: e.regular, q: ports.ListPlayers{AccountID: e.other}, err: auth.ErrAccountDenied},
		{name: "superadmin", p: e.super, want: []*player.Player{live, twice, banned, expired, theirs}},
		{name: "superadmin naming an account", p: e.super, q: ports.ListPlayers{AccountID: e.other}, want: []*player.Player{theirs}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.err != nil || tt.cat != domain.CategoryInternal {
				_, err := e.svc.List(e.ctx, tt.p, tt.q)
				if tt.err != nil && !errors.Is(err, tt.err) || tt.cat != domain.CategoryInternal && domain.CategoryOf(err) != tt.cat {
					t.Fatalf("List: %v, want %v (category %v)", err, tt.err, tt.cat)
				}
				return
			}
			got := apptest.WalkPages(t, func(c string) (paging.Page[*player.Player], error) {
				q := tt.q
				q.Page = paging.Params{Cursor: c, Limit: 2}
				return e.svc.List(e.ctx, tt.p, q)
			})
			var gotIDs, wantIDs []string
			for _, p := range got {
				gotIDs = append(gotIDs, p.ID().String())
			}
			for _, p := range tt.want {
				wantIDs = append(wantIDs, p.ID().String())
			}
			slices.Sort(gotIDs)
			slices.Sort(wantIDs)
			if !slices.Equal(gotIDs, wantIDs) {
				t.Errorf("listed %v, want %v", gotIDs, wantIDs)
			}
		})
	}
}

func TestLink(t *testing.T) {
	t.Parallel()
	t.Run("already the player's", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		p := e.player(e.acme, 2)
		var linked bool
		got := e.during(func() {
			var err error
			if _, linked, err = e.svc.Link(e.ctx, e.regular, ports.LinkIdentity{PlayerID: p.ID(), IdentityID: p.Identities()[1].ID()}); err != nil {
				t.Fatal(err)
			}
		})
		if linked || len(got) != 0 {
			t.Errorf("linked %v, recorded %v; want false, nothing", linked, got)
		}
	})
	t.Run("another player's without merge", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		p, other := e.player(e.acme, 1), e.player(e.acme, 2)
		var err error
		got := e.during(func() {
			_, _, err = e.svc.Link(e.ctx, e.regular, ports.LinkIdentity{PlayerID: p.ID(), IdentityID: other.Identities()[1].ID()})
		})
		if !errors.Is(err, player.ErrOtherPlayer) {
			t.Fatalf("Link: %v, want %v", err, player.ErrOtherPlayer)
		}
		if f := facts(t, err); f["player_id"] != other.ID().String() {
			t.Errorf("facts %v, want player_id %s", f, other.ID())
		}
		if len(got) != 0 {
			t.Errorf("a refused link recorded %v", got)
		}
		if s := e.stored(other.ID()); !slices.Equal(ids(s), ids(other)) {
			t.Errorf("the other player holds %v, want %v still", ids(s), ids(other))
		}
	})
	t.Run("merge", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		p, other := e.player(e.acme, 1), e.player(e.acme, 3)
		e.clock.Advance(time.Minute)
		var merged *player.Player
		var linked bool
		got := e.during(func() {
			var err error
			merged, linked, err = e.svc.Link(e.ctx, e.regular, ports.LinkIdentity{PlayerID: p.ID(), IdentityID: other.Identities()[2].ID(), Merge: true})
			if err != nil {
				t.Fatal(err)
			}
		})
		want := records(rec("player.merged", other.ID()))
		for _, i := range other.Identities() {
			want = append(want, rec("identity.linked", i.ID()))
		}
		sameEvents(t, "the merge", got, records(want...))
		all := append(ids(p), ids(other)...)
		slices.SortFunc(all, func(a, b id.IdentityID) int { return strings.Compare(a.String(), b.String()) })
		if !linked || merged.ID() != p.ID() || !slices.Equal(ids(merged), all) {
			t.Errorf("linked %v into %s holding %v; want true, %s holding %v", linked, merged.ID(), ids(merged), p.ID(), all)
		}
		if s := e.stored(p.ID()); !slices.Equal(ids(s), all) || !s.UpdatedAt().Equal(domain.Timestamp(e.clock.Now())) {
			t.Errorf("stored: %v updated %v", ids(s), s.UpdatedAt())
		}
		for _, i := range all {
			if got, err := e.idRepo.Get(e.ctx, i); err != nil || got.PlayerID() != p.ID() {
				t.Errorf("identity %s: %v, player %v; want %s", i, err, got, p.ID())
			}
		}
		// The other player is closed: gone, everywhere.
		if _, err := e.svc.Get(e.ctx, e.regular, ports.GetPlayer{ID: other.ID()}); !errors.Is(err, player.ErrNotFound) {
			t.Errorf("Get of the closed player: %v, want %v", err, player.ErrNotFound)
		}
		if _, err := e.svc.Bans(e.ctx, e.regular, ports.GetPlayer{ID: other.ID()}); !errors.Is(err, player.ErrNotFound) {
			t.Errorf("Bans of the closed player: %v, want %v", err, player.ErrNotFound)
		}
		if _, err := e.svc.Ban(e.ctx, e.regular, ports.CreateBan{PlayerID: other.ID(), Reason: ptr("x")}); !errors.Is(err, player.ErrNotFound) {
			t.Errorf("Ban of the closed player: %v, want %v", err, player.ErrNotFound)
		}
	})
	refusals := []struct {
		name    string
		prepare func(e *env) (tenancy.Principal, ports.LinkIdentity)
		err     error
	}{
		{"no identity", func(e *env) (tenancy.Principal, ports.LinkIdentity) {
			return e.regular, ports.LinkIdentity{PlayerID: e.player(e.acme, 1).ID()}
		}, nil},
		{"into another account's player", func(e *env) (tenancy.Principal, ports.LinkIdentity) {
			return e.regular, ports.LinkIdentity{PlayerID: e.player(e.other, 1).ID(), IdentityID: e.identity(e.acme, e.key()).ID(), Merge: true}
		}, player.ErrForbidden},
		{"another account's identity", func(e *env) (tenancy.Principal, ports.LinkIdentity) {
			return e.regular, ports.LinkIdentity{PlayerID: e.player(e.acme, 1).ID(), IdentityID: e.identity(e.other, e.key()).ID(), Merge: true}
		}, identity.ErrNotFound},
		{"another game's identity", func(e *env) (tenancy.Principal, ports.LinkIdentity) {
			p := e.player(e.acme, 1)
			g := e.newGame(e.acme)
			i, _, err := e.identities.GetOrCreate(e.ctx, e.regular, ports.CreateIdentity{GameID: g, Kind: "DEVICE", ExternalKey: e.key()})
			if err != nil {
				e.t.Fatal(err)
			}
			return e.regular, ports.LinkIdentity{PlayerID: p.ID(), IdentityID: i.ID(), Merge: true}
		}, identity.ErrNotFound},
		{"unknown identity", func(e *env) (tenancy.Principal, ports.LinkIdentity) {
			return e.regular, ports.LinkIdentity{PlayerID: e.player(e.acme, 1).ID(), IdentityID: id.New[id.Identity]()}
		}, identity.ErrNotFound},
		{"unknown player", func(e *env) (tenancy.Principal, ports.LinkIdentity) {
			return e.regular, ports.LinkIdentity{PlayerID: id.New[id.Player](), IdentityID: e.identity(e.acme, e.key()).ID()}
		}, player.ErrNotFound},
		{"into a banned player", func(e *env) (tenancy.Principal, ports.LinkIdentity) {
			p := e.player(e.acme, 1)
			e.ban(p, nil)
			return e.regular, ports.LinkIdentity{PlayerID: p.ID(), IdentityID: e.identity(e.acme, e.key()).ID(), Merge: true}
		}, player.ErrBanned},
		{"out of a banned player", func(e *env) (tenancy.Principal, ports.LinkIdentity) {
			other := e.player(e.acme, 2)
			e.ban(other, nil)
			return e.regular, ports.LinkIdentity{PlayerID: e.player(e.acme, 1).ID(), IdentityID: other.Identities()[0].ID(), Merge: true}
		}, player.ErrBanned},
		{"into a deleted player", func(e *env) (tenancy.Principal, ports.LinkIdentity) {
			p := e.player(e.acme, 1)
			if _, err := e.svc.Delete(e.ctx, e.regular, ports.DeletePlayer{ID: p.ID()}); err != nil {
				e.t.Fatal(err)
			}
			return e.regular, ports.LinkIdentity{PlayerID: p.ID(), IdentityID: e.identity(e.acme, e.key()).ID(), Merge: true}
		}, player.ErrDeleted},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			p, c := tt.prepare(e)
			var err error
			got := e.during(func() { _, _, err = e.svc.Link(e.ctx, p, c) })
			if tt.err == nil {
				var de *domain.Error
				if !errors.As(err, &de) || de.Field != "identity_id" || de.Rule != domain.Required {
					t.Fatalf("Link: %v, want identity_id required", err)
				}
			} else if !errors.Is(err, tt.err) {
				t.Fatalf("Link: %v, want %v", err, tt.err)
			}
			if len(got) != 0 {
				t.Errorf("a refused link recorded %v", got)
			}
		})
	}
}

func TestUnlink(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p := e.player(e.acme, 2)
	gone := p.Identities()[1]
	e.clock.Advance(time.Minute)
	var out *identity.Identity
	got := e.during(func() {
		var err error
		if out, err = e.svc.Unlink(e.ctx, e.regular, ports.UnlinkIdentity{PlayerID: p.ID(), IdentityID: gone.ID()}); err != nil {
			t.Fatal(err)
		}
	})
	if out.ID() != gone.ID() || out.PlayerID() == p.ID() || out.PlayerID().IsZero() {
		t.Fatalf("unlinked identity %s of player %s, want %s of a new player", out.ID(), out.PlayerID(), gone.ID())
	}
	sameEvents(t, "the unlink", got, records(rec("player.created", out.PlayerID()), rec("identity.unlinked", gone.ID())))
	alone := e.stored(out.PlayerID())
	if !slices.Equal(ids(alone), []id.IdentityID{gone.ID()}) || alone.AccountID() != e.acme || alone.GameID() != e.game {
		t.Errorf("the new player holds %v in %s/%s", ids(alone), alone.AccountID(), alone.GameID())
	}
	if s := e.stored(p.ID()); s.Holds(gone.ID()) || len(s.Identities()) != 1 {
		t.Errorf("the player still holds %v", ids(s))
	}

	tests := []struct {
		name string
		p    tenancy.Principal
		c    ports.UnlinkIdentity
		err  error
	}{
		{"the last identity", e.regular, ports.UnlinkIdentity{PlayerID: alone.ID(), IdentityID: gone.ID()}, player.ErrLastIdentity},
		{"not the player's", e.regular, ports.UnlinkIdentity{PlayerID: p.ID(), IdentityID: gone.ID()}, identity.ErrNotFound},
		{"unknown", e.regular, ports.UnlinkIdentity{PlayerID: p.ID(), IdentityID: id.New[id.Identity]()}, identity.ErrNotFound},
		{"another account's player", e.theirUser, ports.UnlinkIdentity{PlayerID: p.ID(), IdentityID: p.Identities()[0].ID()}, player.ErrForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			got := e.during(func() { _, err = e.svc.Unlink(e.ctx, tt.p, tt.c) })
			if !errors.Is(err, tt.err) {
				t.Fatalf("Unlink: %v, want %v", err, tt.err)
			}
			if len(got) != 0 {
				t.Errorf("a refused unlink recorded %v", got)
			}
		})
	}
}

func TestBan(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p := e.player(e.acme, 2)
	s1, s2 := e.session(p.Identities()[0]), e.session(p.Identities()[1])
	e.clock.Advance(time.Minute)
	expiry := e.clock.Now().Add(24 * time.Hour)
	var b *player.Ban
	got := e.during(func() { b = e.ban(p, &expiry) })
	sameEvents(t, "the ban", got, records(rec("player.banned", p.ID()), rec("session.revoked", s1.ID()), rec("session.revoked", s2.ID())))
	if b.PlayerID() != p.ID() || b.Reason().String() != "Cheating" || b.ExpiresAt() != domain.Timestamp(expiry) || b.Actor() != e.actor {
		t.Errorf("ban of %s for %q until %v by %+v", b.PlayerID(), b.Reason(), b.ExpiresAt(), b.Actor())
	}
	if !e.revoked(s1) || !e.revoked(s2) {
		t.Error("the banned player's sessions are not revoked")
	}
	if s := e.stored(p.ID()); s.Ban() == nil || s.Ban().ID() != b.ID() {
		t.Errorf("the player's ban %v, want %s", s.Ban(), b.ID())
	}

	refusals := []struct {
		name  string
		c     ports.CreateBan
		err   error
		field string
	}{
		{"already banned", ports.CreateBan{PlayerID: p.ID(), Reason: ptr("Again")}, player.ErrAlreadyBanned, ""},
		{"no reason", ports.CreateBan{PlayerID: e.player(e.acme, 1).ID()}, nil, "reason"},
		{"a blank reason", ports.CreateBan{PlayerID: e.player(e.acme, 1).ID(), Reason: ptr("  ")}, nil, "reason"},
		{"a reason too long", ports.CreateBan{PlayerID: e.player(e.acme, 1).ID(), Reason: ptr(strings.Repeat("x", 501))}, nil, "reason"},
		{"an expiry past", ports.CreateBan{PlayerID: e.player(e.acme, 1).ID(), Reason: ptr("x"), ExpiresAt: ptr(e.clock.Now().Add(-time.Second))}, nil, "expires_at"},
		{"another account's player", ports.CreateBan{PlayerID: e.player(e.other, 1).ID(), Reason: ptr("x")}, player.ErrForbidden, ""},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			got := e.during(func() { _, err = e.svc.Ban(e.ctx, e.regular, tt.c) })
			if tt.field != "" {
				var de *domain.Error
				if !errors.As(err, &de) || de.Category != domain.CategoryInvalid || de.Field != tt.field {
					t.Fatalf("Ban: %v, want an invalid %s", err, tt.field)
				}
			} else if !errors.Is(err, tt.err) {
				t.Fatalf("Ban: %v, want %v", err, tt.err)
			}
			if len(got) != 0 {
				t.Errorf("a refused ban recorded %v", got)
			}
		})
	}
}

// A ban ends by itself at its expiry: nothing runs, nothing is recorded,
// and the player may be banned anew.
func TestBanExpires(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p := e.player(e.acme, 1)
	first := e.ban(p, ptr(e.clock.Now().Add(time.Hour)))
	if _, err := e.signIn(p.Identities()[0]); !errors.Is(err, player.ErrBanned) {
		t.Fatalf("sign-in while banned: %v, want %v", err, player.ErrBanned)
	}
	e.clock.Advance(time.Hour)
	if s := e.stored(p.ID()); s.Ban() != nil {
		t.Errorf("ban in force %s at its expiry", s.Ban().ID())
	}
	e.session(p.Identities()[0])
	second := e.ban(p, nil)
	bans, err := e.svc.Bans(e.ctx, e.regular, ports.GetPlayer{ID: p.ID()})
	if err != nil {
		t.Fatal(err)
	}
	if len(bans) != 2 || bans[0].ID() != second.ID() || bans[1].ID() != first.ID() {
		t.Errorf("history %v, want [%s %s], newest first", bans, second.ID(), first.ID())
	}
}

func TestUpdateBan(t *testing.T) {
	t.Parallel()
	later := func(e *env) *time.Time { return ptr(e.clock.Now().Add(48 * time.Hour)) }
	tests := []struct {
		name    string
		prior   func(e *env, p *player.Player, b *player.Ban) // after the ban
		c       func(e *env, p *player.Player, b *player.Ban) ports.UpdateBan
		err     error
		records []string // the types recorded
		expires func(b *player.Ban) time.Time
		lifted  bool
	}{
		{
			name: "new expiry",
			c: func(e *env, p *player.Player, b *player.Ban) ports.UpdateBan {
				return ports.UpdateBan{PlayerID: p.ID(), BanID: b.ID(), ExpiresAtSet: true, ExpiresAt: later(e)}
			},
			records: []string{"player.banned"},
		},
		{
			name: "no expiry",
			c: func(_ *env, p *player.Player, b *player.Ban) ports.UpdateBan {
				return ports.UpdateBan{PlayerID: p.ID(), BanID: b.ID(), ExpiresAtSet: true}
			},
			records: []string{"player.banned"},
		},
		{
			name: "lift",
			c: func(_ *env, p *player.Player, b *player.Ban) ports.UpdateBan {
				return ports.UpdateBan{PlayerID: p.ID(), BanID: b.ID(), Lift: true}
			},
			records: []string{"player.unbanned"}, lifted: true,
		},
		{
			name:  "lift a lifted ban",
			prior: liftBan,
			c: func(_ *env, p *player.Player, b *player.Ban) ports.UpdateBan {
				return ports.UpdateBan{PlayerID: p.ID(), BanID: b.ID(), Lift: true}
			},
			lifted: true,
		},
		{
			name:  "lift an expired ban",
			prior: func(e *env, _ *player.Player, _ *player.Ban) { e.clock.Advance(25 * time.Hour) },
			c: func(_ *env, p *player.Player, b *player.Ban) ports.UpdateBan {
				return ports.UpdateBan{PlayerID: p.ID(), BanID: b.ID(), Lift: true}
			},
		},
		{
			name:  "new expiry of a lifted ban",
			prior: liftBan,
			c: func(e *env, p *player.Player, b *player.Ban) ports.UpdateBan {
				return ports.UpdateBan{PlayerID: p.ID(), BanID: b.ID(), ExpiresAtSet: true, ExpiresAt: later(e)}
			},
			err: player.ErrBanNotActive,
		},
		{
			name:  "new expiry of an expired ban",
			prior: func(e *env, _ *player.Player, _ *player.Ban) { e.clock.Advance(25 * time.Hour) },
			c: func(e *env, p *player.Player, b *player.Ban) ports.UpdateBan {
				return ports.UpdateBan{PlayerID: p.ID(), BanID: b.ID(), ExpiresAtSet: true, ExpiresAt: later(e)}
			},
			err: player.ErrBanNotActive,
		},
		{
			name: "an unknown ban",
			c: func(_ *env, p *player.Player, _ *player.Ban) ports.UpdateBan {
				return ports.UpdateBan{PlayerID: p.ID(), BanID: id.New[id.Ban](), Lift: true}
			},
			err: player.ErrBanNotFound,
		},
		{
			name: "another player's ban",
			c: func(e *env, _ *player.Player, b *player.Ban) ports.UpdateBan {
				return ports.UpdateBan{PlayerID: e.player(e.acme, 1).ID(), BanID: b.ID(), Lift: true}
			},
			err: player.ErrBanNotFound,
		},
		{
			name: "another account's player",
			c: func(e *env, _ *player.Player, _ *player.Ban) ports.UpdateBan {
				other := e.player(e.other, 1)
				b, err := e.svc.Ban(e.ctx, e.super, ports.CreateBan{PlayerID: other.ID(), Reason: ptr("x")})
				if err != nil {
					e.t.Fatal(err)
				}
				return ports.UpdateBan{PlayerID: other.ID(), BanID: b.ID(), Lift: true}
			},
			err: player.ErrForbidden,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			p := e.player(e.acme, 1)
			b := e.ban(p, ptr(e.clock.Now().Add(24*time.Hour)))
			if tt.prior != nil {
				tt.prior(e, p, b)
			}
			e.clock.Advance(time.Minute)
			c := tt.c(e, p, b)
			before, err := e.players.Bans(e.ctx, p.ID())
			if err != nil {
				t.Fatal(err)
			}
			var out *player.Ban
			got := apptest.EventTypes(apptest.RecordedDuring(t, e.events, func() { out, err = e.svc.UpdateBan(e.ctx, e.regular, c) }))
			if !errors.Is(err, tt.err) {
				t.Fatalf("UpdateBan: %v, want %v", err, tt.err)
			}
			var want []event.Type
			for _, r := range tt.records {
				want = append(want, event.Type(r))
			}
			if !slices.Equal(got, want) {
				t.Errorf("recorded %v, want %v", got, want)
			}
			after, err := e.players.Bans(e.ctx, p.ID())
			if err != nil {
				t.Fatal(err)
			}
			if tt.err != nil || len(tt.records) == 0 {
				if len(after) != 1 || after[0].Snapshot() != before[0].Snapshot() {
					t.Errorf("the history changed:\n got %+v\nwant %+v", after[0].Snapshot(), before[0].Snapshot())
				}
				if tt.err == nil && (out == nil || out.Snapshot() != before[0].Snapshot()) {
					t.Errorf("answered %v, want the ban unchanged", out)
				}
				return
			}
			if out.ID() != b.ID() || out.Snapshot() != after[0].Snapshot() {
				t.Errorf("answered %+v, stored %+v", out.Snapshot(), after[0].Snapshot())
			}
			if c.ExpiresAtSet {
				want := time.Time{}
				if c.ExpiresAt != nil {
					want = domain.Timestamp(*c.ExpiresAt)
				}
				if out.ExpiresAt() != want {
					t.Errorf("expires_at %v, want %v", out.ExpiresAt(), want)
				}
			}
			if out.IsLifted() != tt.lifted || out.UpdatedAt() != domain.Timestamp(e.clock.Now()) {
				t.Errorf("lifted %v at %v, updated_at %v", out.IsLifted(), out.LiftedAt(), out.UpdatedAt())
			}
			if s := e.stored(p.ID()); (s.Ban() == nil) != tt.lifted {
				t.Errorf("ban in force %v after the change, lifted %v", s.Ban(), tt.lifted)
			}
		})
	}
}

func liftBan(e *env, p *player.Player, b *player.Ban) {
	e.t.Helper()
	if _, err := e.svc.UpdateBan(e.ctx, e.regular, ports.UpdateBan{PlayerID: p.ID(), BanID: b.ID(), Lift: true}); err != nil {
		e.t.Fatal(err)
	}
}

func TestBans(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p := e.player(e.acme, 1)
	var want []id.BanID
	for range 3 {
		b := e.ban(p, nil)
		liftBan(e, p, b)
		want = append([]id.BanID{b.ID()}, want...)
		e.clock.Advance(time.Second)
	}
	bans, err := e.svc.Bans(e.ctx, e.regular, ports.GetPlayer{ID: p.ID()})
	if err != nil {
		t.Fatal(err)
	}
	var got []id.BanID
	for _, b := range bans {
		got = append(got, b.ID())
	}
	if !slices.Equal(got, want) {
		t.Errorf("history %v, want %v, newest first", got, want)
	}
	if _, err := e.svc.Bans(e.ctx, e.theirUser, ports.GetPlayer{ID: p.ID()}); !errors.Is(err, player.ErrForbidden) {
		t.Errorf("another account's Bans: %v, want %v", err, player.ErrForbidden)
	}
	if bans, err := e.svc.Bans(e.ctx, e.regular, ports.GetPlayer{ID: e.player(e.acme, 1).ID()}); err != nil || len(bans) != 0 {
		t.Errorf("a player never banned: %v, %v; want none", bans, err)
	}
}

func TestDelete(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p := e.player(e.acme, 2)
	s1, s2 := e.session(p.Identities()[0]), e.session(p.Identities()[1])
	e.clock.Advance(time.Minute)
	var d *player.Player
	got := e.during(func() {
		var err error
		if d, err = e.svc.Delete(e.ctx, e.regular, ports.DeletePlayer{ID: p.ID()}); err != nil {
			t.Fatal(err)
		}
	})
	want := []string{rec("player.deleted", p.ID()), rec("session.revoked", s1.ID()), rec("session.revoked", s2.ID())}
	for _, i := range p.Identities() {
		want = append(want, rec("identity.deleted", i.ID()))
	}
	sameEvents(t, "the deletion", got, records(want...))
	now := domain.Timestamp(e.clock.Now())
	if d.DeletedAt() != now || d.PurgeAfter() != now.Add(grace) || !slices.Equal(ids(d), ids(p)) {
		t.Errorf("deleted_at %v, purge_after %v, identities %v; want %v, %v, %v", d.DeletedAt(), d.PurgeAfter(), ids(d), now, now.Add(grace), ids(p))
	}
	for _, i := range p.Identities() {
		if _, err := e.idRepo.Get(e.ctx, i.ID()); !errors.Is(err, identity.ErrNotFound) {
			t.Errorf("identity %s of the deleted player: %v, want %v", i.ID(), err, identity.ErrNotFound)
		}
	}
	if !e.revoked(s1) || !e.revoked(s2) {
		t.Error("the deleted player's sessions are not revoked")
	}
	// It is still there, with the identities deleted with it, which come
	// back only with it.
	read, err := e.svc.Get(e.ctx, e.regular, ports.GetPlayer{ID: p.ID()})
	if err != nil || read.DeletedAt() != now || !slices.Equal(ids(read), ids(p)) {
		t.Errorf("Get of the deleted player: %v, %v", read, err)
	}
	for _, i := range p.Identities() {
		if _, err := e.identities.Restore(e.ctx, e.regular, ports.GetIdentity{ID: i.ID()}); !errors.Is(err, identity.ErrNotFound) {
			t.Errorf("the identity's own restore: %v, want %v", err, identity.ErrNotFound)
		}
	}
	// Signing in with its credential makes a new player.
	fresh := e.identity(e.acme, p.Identities()[0].ExternalKey().String())
	if fresh.PlayerID() == p.ID() {
		t.Errorf("a sign-up with a deleted player's key joined it")
	}
	// Deleting it again changes nothing.
	e.clock.Advance(time.Minute)
	got = e.during(func() {
		again, err := e.svc.Delete(e.ctx, e.regular, ports.DeletePlayer{ID: p.ID()})
		if err != nil {
			t.Fatal(err)
		}
		if again.DeletedAt() != now || again.PurgeAfter() != now.Add(grace) {
			t.Errorf("deleted again: deleted_at %v, purge_after %v", again.DeletedAt(), again.PurgeAfter())
		}
	})
	if len(got) != 0 {
		t.Errorf("a second deletion recorded %v", got)
	}
	if _, err := e.svc.Delete(e.ctx, e.theirUser, ports.DeletePlayer{ID: fresh.PlayerID()}); !errors.Is(err, player.ErrForbidden) {
		t.Errorf("another account's Delete: %v, want %v", err, player.ErrForbidden)
	}
}

func TestErase(t *testing.T) {
	t.Parallel()
	for _, deleted := range []bool{false, true} {
		t.Run(fmt.Sprintf("deleted %v", deleted), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			p := e.player(e.acme, 2)
			own := e.session(p.Identities()[0])
			e.ban(p, nil)
			s := e.session(e.identity(e.acme, e.key())) // another player's, which stays
			if deleted {
				if _, err := e.svc.Delete(e.ctx, e.regular, ports.DeletePlayer{ID: p.ID()}); err != nil {
					t.Fatal(err)
				}
			}
			e.clock.Advance(time.Minute)
			var tomb *player.Player
			got := e.during(func() {
				var err error
				if tomb, err = e.svc.Delete(e.ctx, e.regular, ports.DeletePlayer{ID: p.ID(), Erase: true}); err != nil {
					t.Fatal(err)
				}
			})
			want := []string{rec("player.purged", p.ID())}
			for _, i := range p.Identities() {
				want = append(want, rec("identity.purged", i.ID()))
			}
			sameEvents(t, "the erasure", got, records(want...))
			wantTomb := player.Tombstone{ID: p.ID(), AccountID: e.acme, GameID: e.game, PurgedAt: domain.Timestamp(e.clock.Now())}
			if !tomb.IsPurged() || tomb.Tombstone() != wantTomb || len(tomb.Identities()) != 0 || tomb.Ban() != nil {
				t.Errorf("answered %+v with %d identities, ban %v; want the tombstone %+v", tomb.Tombstone(), len(tomb.Identities()), tomb.Ban(), wantTomb)
			}
			// The tombstone stays, for other services to show.
			read, err := e.svc.Get(e.ctx, e.regular, ports.GetPlayer{ID: p.ID()})
			if err != nil || read.Tombstone() != wantTomb || len(read.Identities()) != 0 {
				t.Errorf("Get after erasure: %v, %v", read, err)
			}
			if bans, err := e.svc.Bans(e.ctx, e.regular, ports.GetPlayer{ID: p.ID()}); err != nil || len(bans) != 0 {
				t.Errorf("bans of the tombstone: %v, %v; want none", bans, err)
			}
			if e.revoked(s) {
				t.Error("erasure revoked another player's session")
			}
			if _, err := e.sessions.Get(e.ctx, own.ID()); !errors.Is(err, session.ErrNotFound) {
				t.Errorf("the erased player's session: %v, want it gone (%v)", err, session.ErrNotFound)
			}
			for _, i := range p.Identities() {
				if _, err := e.idRepo.Get(e.ctx, i.ID()); !errors.Is(err, identity.ErrNotFound) {
					t.Errorf("identity %s of the erased player: %v", i.ID(), err)
				}
			}
			// Again: the tombstone, unchanged.
			e.clock.Advance(time.Minute)
			got = e.during(func() {
				again, err := e.svc.Delete(e.ctx, e.regular, ports.DeletePlayer{ID: p.ID(), Erase: true})
				if err != nil || again.Tombstone() != wantTomb {
					t.Errorf("erased again: %v, %v", again, err)
				}
			})
			if len(got) != 0 {
				t.Errorf("a second erasure recorded %v", got)
			}
			for _, c := range []struct {
				name string
				err  error
			}{
				{"restore", func() error { _, err := e.svc.Restore(e.ctx, e.regular, ports.GetPlayer{ID: p.ID()}); return err }()},
				{"ban", func() error {
					_, err := e.svc.Ban(e.ctx, e.regular, ports.CreateBan{PlayerID: p.ID(), Reason: ptr("x")})
					return err
				}()},
				{"soft delete", func() error { _, err := e.svc.Delete(e.ctx, e.regular, ports.DeletePlayer{ID: p.ID()}); return err }()},
			} {
				if !errors.Is(c.err, player.ErrNotFound) {
					t.Errorf("%s of the tombstone: %v, want %v", c.name, c.err, player.ErrNotFound)
				}
			}
		})
	}
}

func TestRestore(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		prepare func(e *env, p *player.Player)
		err     error
	}{
		{"right away", func(*env, *player.Player) {}, nil},
		{"just before purge_after", func(e *env, _ *player.Player) { e.clock.Advance(grace - time.Millisecond) }, nil},
		{"at purge_after", func(e *env, _ *player.Player) { e.clock.Advance(grace) }, player.ErrNotFound},
		{"after purge_after", func(e *env, _ *player.Player) { e.clock.Advance(grace + time.Hour) }, player.ErrNotFound},
		{"a key taken meanwhile", func(e *env, p *player.Player) {
			e.identity(e.acme, p.Identities()[1].ExternalKey().String())
		}, identity.ErrKeyInUse},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			p := e.player(e.acme, 2)
			s := e.session(p.Identities()[0])
			if _, err := e.svc.Delete(e.ctx, e.regular, ports.DeletePlayer{ID: p.ID()}); err != nil {
				t.Fatal(err)
			}
			tt.prepare(e, p)
			var r *player.Player
			var err error
			got := e.during(func() { r, err = e.svc.Restore(e.ctx, e.regular, ports.GetPlayer{ID: p.ID()}) })
			if !errors.Is(err, tt.err) {
				t.Fatalf("Restore: %v, want %v", err, tt.err)
			}
			if tt.err != nil {
				if len(got) != 0 {
					t.Errorf("a refused restore recorded %v", got)
				}
				if s := e.stored(p.ID()); !s.IsDeleted() || !slices.Equal(ids(s), ids(p)) {
					t.Errorf("after a refused restore: deleted %v, identities %v", s.IsDeleted(), ids(s))
				}
				for _, i := range p.Identities() {
					if _, err := e.idRepo.Get(e.ctx, i.ID()); !errors.Is(err, identity.ErrNotFound) {
						t.Errorf("identity %s after a refused restore: %v, want it still deleted", i.ID(), err)
					}
				}
				return
			}
			want := []string{rec("player.restored", p.ID())}
			for _, i := range p.Identities() {
				want = append(want, rec("identity.restored", i.ID()))
			}
			sameEvents(t, "the restore", got, records(want...))
			if r.IsDeleted() || !r.PurgeAfter().IsZero() || !slices.Equal(ids(r), ids(p)) {
				t.Errorf("restored: deleted_at %v, purge_after %v, identities %v", r.DeletedAt(), r.PurgeAfter(), ids(r))
			}
			for _, i := range p.Identities() {
				if got, err := e.idRepo.Get(e.ctx, i.ID()); err != nil || got.PlayerID() != p.ID() {
					t.Errorf("identity %s after the restore: %v", i.ID(), err)
				}
			}
			// Sessions are not restored.
			if !e.revoked(s) {
				t.Error("a session came back with the player")
			}
		})
	}
}

func TestRestoreLiveChangesNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p := e.player(e.acme, 1)
	e.clock.Advance(time.Minute)
	got := e.during(func() {
		r, err := e.svc.Restore(e.ctx, e.regular, ports.GetPlayer{ID: p.ID()})
		if err != nil || r.UpdatedAt() != p.UpdatedAt() || r.IsDeleted() {
			t.Errorf("Restore of a live player: %v, updated_at %v, want %v", err, r.UpdatedAt(), p.UpdatedAt())
		}
	})
	if len(got) != 0 {
		t.Errorf("restoring a live player recorded %v", got)
	}
}

func TestLinkCredential(t *testing.T) {
	t.Parallel()
	t.Run("a new key", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		p := e.player(e.acme, 1)
		own := p.Identities()[0]
		key := e.key()
		var i *identity.Identity
		var created bool
		got := e.during(func() {
			var err error
			i, created, err = e.svc.LinkCredential(e.ctx, ports.LinkCredential{PlayerOf: own.ID(), Kind: identity.KindDevice, Key: key})
			if err != nil {
				t.Fatal(err)
			}
		})
		if !created || i.PlayerID() != p.ID() || i.ExternalKey().String() != key {
			t.Errorf("created %v, identity %s of %s; want a new %s of %s", created, i.ExternalKey(), i.PlayerID(), key, p.ID())
		}
		// Created in the caller's player: no player comes with it.
		sameEvents(t, "the link", got, records(rec("identity.created", i.ID())))
		if s := e.stored(p.ID()); !s.Holds(i.ID()) || len(s.Identities()) != 2 {
			t.Errorf("the player holds %v", ids(s))
		}
	})
	t.Run("the player's own", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		p := e.player(e.acme, 2)
		held := p.Identities()[1]
		var i *identity.Identity
		var created bool
		got := e.during(func() {
			var err error
			i, created, err = e.svc.LinkCredential(e.ctx, ports.LinkCredential{PlayerOf: p.Identities()[0].ID(), Kind: identity.KindDevice, Key: held.ExternalKey().String()})
			if err != nil {
				t.Fatal(err)
			}
		})
		if created || i.ID() != held.ID() || i.PlayerID() != p.ID() || len(got) != 0 {
			t.Errorf("created %v, identity %s of %s, recorded %v; want %s as it is", created, i.ID(), i.PlayerID(), got, held.ID())
		}
	})
	t.Run("another player's", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		p, other := e.player(e.acme, 1), e.player(e.acme, 2)
		c := ports.LinkCredential{PlayerOf: p.Identities()[0].ID(), Kind: identity.KindDevice, Key: other.Identities()[1].ExternalKey().String()}
		var err error
		got := e.during(func() { _, _, err = e.svc.LinkCredential(e.ctx, c) })
		if !errors.Is(err, player.ErrOtherPlayer) {
			t.Fatalf("LinkCredential: %v, want %v", err, player.ErrOtherPlayer)
		}
		if f := facts(t, err); f["player_id"] != other.ID().String() {
			t.Errorf("facts %v, want player_id %s", f, other.ID())
		}
		if len(got) != 0 {
			t.Errorf("a refused link recorded %v", got)
		}

		c.Merge = true
		var i *identity.Identity
		var created bool
		got = e.during(func() {
			if i, created, err = e.svc.LinkCredential(e.ctx, c); err != nil {
				t.Fatal(err)
			}
		})
		if created || i.ID() != other.Identities()[1].ID() || i.PlayerID() != p.ID() {
			t.Errorf("created %v, identity %s of %s; want %s of %s", created, i.ID(), i.PlayerID(), other.Identities()[1].ID(), p.ID())
		}
		want := []string{rec("player.merged", other.ID())}
		for _, i := range other.Identities() {
			want = append(want, rec("identity.linked", i.ID()))
		}
		sameEvents(t, "the merge", got, records(want...))
		if _, err := e.players.Get(e.ctx, other.ID(), e.clock.Now()); !errors.Is(err, player.ErrNotFound) {
			t.Errorf("the merged player: %v, want %v", err, player.ErrNotFound)
		}
		if s := e.stored(p.ID()); len(s.Identities()) != 3 {
			t.Errorf("the player holds %v, want its own and the other's two", ids(s))
		}
	})
	refusals := []struct {
		name    string
		prepare func(e *env) ports.LinkCredential
		err     error
	}{
		{"a banned caller", func(e *env) ports.LinkCredential {
			p := e.player(e.acme, 1)
			e.ban(p, nil)
			return ports.LinkCredential{PlayerOf: p.Identities()[0].ID(), Kind: identity.KindDevice, Key: e.key()}
		}, player.ErrBanned},
		{"a merge out of a banned player", func(e *env) ports.LinkCredential {
			other := e.player(e.acme, 1)
			e.ban(other, nil)
			return ports.LinkCredential{PlayerOf: e.player(e.acme, 1).Identities()[0].ID(), Kind: identity.KindDevice, Key: other.Identities()[0].ExternalKey().String(), Merge: true}
		}, player.ErrBanned},
		{"a deleted caller", func(e *env) ports.LinkCredential {
			p := e.player(e.acme, 1)
			if _, err := e.svc.Delete(e.ctx, e.regular, ports.DeletePlayer{ID: p.ID()}); err != nil {
				e.t.Fatal(err)
			}
			return ports.LinkCredential{PlayerOf: p.Identities()[0].ID(), Kind: identity.KindDevice, Key: e.key()}
		}, identity.ErrNotFound},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			c := tt.prepare(e)
			var err error
			got := e.during(func() { _, _, err = e.svc.LinkCredential(e.ctx, c) })
			if !errors.Is(err, tt.err) {
				t.Fatalf("LinkCredential: %v, want %v", err, tt.err)
			}
			if len(got) != 0 {
				t.Errorf("a refused link recorded %v", got)
			}
		})
	}
}

func TestUnlinkOwn(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p := e.player(e.acme, 3)
	own, gone := p.Identities()[0], p.Identities()[1]
	stranger := e.identity(e.acme, e.key())
	for _, c := range []struct {
		name string
		id   id.IdentityID
		err  error
	}{
		{"the session's own", own.ID(), player.ErrOwnIdentity},
		{"another player's", stranger.ID(), identity.ErrNotFound},
		{"unknown", id.New[id.Identity](), identity.ErrNotFound},
	} {
		if _, err := e.svc.UnlinkOwn(e.ctx, own.ID(), c.id); !errors.Is(err, c.err) {
			t.Errorf("UnlinkOwn of %s: %v, want %v", c.name, err, c.err)
		}
	}
	var out *identity.Identity
	got := e.during(func() {
		var err error
		if out, err = e.svc.UnlinkOwn(e.ctx, own.ID(), gone.ID()); err != nil {
			t.Fatal(err)
		}
	})
	if out.ID() != gone.ID() || out.PlayerID() == p.ID() {
		t.Fatalf("unlinked %s into %s", out.ID(), out.PlayerID())
	}
	sameEvents(t, "the unlink", got, records(rec("player.created", out.PlayerID()), rec("identity.unlinked", gone.ID())))
	if s := e.stored(p.ID()); s.Holds(gone.ID()) || len(s.Identities()) != 2 {
		t.Errorf("the player holds %v", ids(s))
	}
}

func TestDeleteOwn(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p := e.player(e.acme, 2)
	s := e.session(p.Identities()[1])
	e.clock.Advance(time.Minute)
	d, err := e.svc.DeleteOwn(e.ctx, p.Identities()[1].ID())
	if err != nil {
		t.Fatal(err)
	}
	now := domain.Timestamp(e.clock.Now())
	if d.ID() != p.ID() || d.DeletedAt() != now || d.PurgeAfter() != now.Add(grace) {
		t.Errorf("deleted %s at %v, purge after %v", d.ID(), d.DeletedAt(), d.PurgeAfter())
	}
	if !e.revoked(s) {
		t.Error("the session that deleted its player is not revoked")
	}
	if _, err := e.svc.DeleteOwn(e.ctx, p.Identities()[1].ID()); !errors.Is(err, identity.ErrNotFound) {
		t.Errorf("DeleteOwn by a deleted identity: %v, want %v", err, identity.ErrNotFound)
	}
}

// Found in review: a link into a tombstone is a 404 (it retried as if the
// identity moved), and a ban's expiry in the past is a 422 before the
// player is looked up.
func TestRefusalsOfTombstonesAndPastExpiries(t *testing.T) {
	e := newEnv(t)
	p, other := e.player(e.acme, 1), e.player(e.acme, 1)
	if _, err := e.svc.Delete(e.ctx, e.regular, ports.DeletePlayer{ID: p.ID(), Erase: true}); err != nil {
		t.Fatal(err)
	}
	_, _, err := e.svc.Link(e.ctx, e.regular, ports.LinkIdentity{PlayerID: p.ID(), IdentityID: other.Identities()[0].ID(), Merge: true})
	if !errors.Is(err, player.ErrNotFound) {
		t.Fatalf("link into a tombstone: %v", err)
	}
	past := e.clock.Now().Add(-time.Minute)
	_, err = e.svc.Ban(e.ctx, e.regular, ports.CreateBan{PlayerID: id.New[id.Player](), Reason: ptr("x"), ExpiresAt: &past})
	if domain.CategoryOf(err) != domain.CategoryInvalid {
		t.Fatalf("a past expiry for an unknown player: %v, want a 422", err)
	}
}
