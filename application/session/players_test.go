package session_test

import (
	"context"
	"errors"
	"testing"
	"time"

	appplayer "github.com/leadr-oss/identity/application/player"
	appsession "github.com/leadr-oss/identity/application/session"
	"github.com/leadr-oss/identity/domain"
	"github.com/leadr-oss/identity/domain/event"
	"github.com/leadr-oss/identity/domain/player"
	"github.com/leadr-oss/identity/domain/session"
	"github.com/leadr-oss/identity/ports"
)

// withPlayers joins the player slice to the env as the service does: its
// use cases behind the client's calls, its reactions and the sessions'
// on the outbox.
func withPlayers(t *testing.T, e *env, players ports.PlayerRepository) *appplayer.Service {
	t.Helper()
	svc := appplayer.NewService(appplayer.Deps{Players: players, Identities: e.idRepo, Cursors: e.deps.Cursors, Now: e.clock.Now, Grace: time.Hour})
	for _, s := range append(appplayer.Reactions(players, e.clock.Now), appsession.Reactions(e.sessions)...) {
		t.Cleanup(e.outbox.Subscribe(s))
	}
	e.deps.Players, e.deps.PlayerRepository = svc, players
	e.svc = appsession.NewService(e.deps)
	return svc
}

func TestClientLinksUnlinksAndDeletesItsPlayer(t *testing.T) {
	e := newEnv(t)
	players := withPlayers(t, e, playersOf(e))
	me := e.authenticate(e.device("phone-device-1"))
	second := "tablet-device-2"

	// The body is checked before the nonce is spent; the nonce before the
	// credential is looked at.
	_, _, err := e.svc.LinkIdentity(e.ctx, me, "", ports.ClientLink{Kind: "DEVICE", ExternalKey: ptr("short")})
	if domain.CategoryOf(err) != domain.CategoryInvalid {
		t.Fatalf("a bad device ID: %v, want a 422", err)
	}
	if _, _, err := e.svc.LinkIdentity(e.ctx, me, "", ports.ClientLink{Kind: "DEVICE", ExternalKey: &second}); !errors.Is(err, session.ErrNonceRequired) {
		t.Fatalf("no nonce: %v", err)
	}

	linked, created, err := e.svc.LinkIdentity(e.ctx, me, e.nonce(me), ports.ClientLink{Kind: "DEVICE", ExternalKey: &second})
	if err != nil || !created {
		t.Fatalf("link: created %v, %v", created, err)
	}
	mine, err := e.idRepo.Get(e.ctx, me.IdentityID)
	if err != nil {
		t.Fatal(err)
	}
	if linked.PlayerID() != mine.PlayerID() {
		t.Fatalf("the linked identity is in %s, not the caller's player %s", linked.PlayerID(), mine.PlayerID())
	}
	if _, created, err := e.svc.LinkIdentity(e.ctx, me, e.nonce(me), ports.ClientLink{Kind: "DEVICE", ExternalKey: &second}); err != nil || created {
		t.Fatalf("link again: created %v, %v", created, err)
	}

	// Another player's credential: refused, unless merged.
	other := e.authenticate(e.device("laptop-device-3"))
	third := "laptop-device-3"
	_, _, err = e.svc.LinkIdentity(e.ctx, me, e.nonce(me), ports.ClientLink{Kind: "DEVICE", ExternalKey: &third})
	var de *domain.Error
	if !errors.Is(err, player.ErrOtherPlayer) || !errors.As(err, &de) || de.Facts["player_id"] == nil {
		t.Fatalf("link of another player's key: %v", err)
	}
	merged, _, err := e.svc.LinkIdentity(e.ctx, me, e.nonce(me), ports.ClientLink{Kind: "DEVICE", ExternalKey: &third, Merge: true})
	if err != nil || merged.PlayerID() != mine.PlayerID() {
		t.Fatalf("merge: %v", err)
	}
	otherIdentity, _ := e.idRepo.Get(e.ctx, other.IdentityID)
	if otherIdentity.PlayerID() != mine.PlayerID() {
		t.Fatal("the merged player's identity did not move")
	}

	// Unlink: never the session's own identity.
	if _, err := e.svc.UnlinkIdentity(e.ctx, me, e.nonce(me), me.IdentityID); !errors.Is(err, player.ErrOwnIdentity) {
		t.Fatalf("unlink of the session's identity: %v", err)
	}
	alone, err := e.svc.UnlinkIdentity(e.ctx, me, e.nonce(me), linked.ID())
	if err != nil || alone.PlayerID() == mine.PlayerID() {
		t.Fatalf("unlink: %v", err)
	}

	// In-app deletion: the player goes, its sessions with it.
	gone, err := e.svc.DeletePlayer(e.ctx, me, e.nonce(me))
	if err != nil || !gone.IsDeleted() {
		t.Fatalf("delete: %v", err)
	}
	if _, err := e.svc.Authenticate(e.ctx, "x"); err == nil {
		t.Fatal("a bad token authenticated")
	}
	if s := e.stored(me.SessionID); !s.IsRevoked() {
		t.Fatal("the deleted player's session still works")
	}
	if _, err := players.Get(e.ctx, e.super, ports.GetPlayer{ID: gone.ID()}); err != nil {
		t.Fatalf("the deleted player is not there to restore: %v", err)
	}
}

func TestBannedPlayersCannotSignInRefreshOrRename(t *testing.T) {
	e := newEnv(t)
	players := withPlayers(t, e, playersOf(e))
	key := "banned-device-1"
	tok := e.device(key)
	me := e.authenticate(tok)
	mine, _ := e.idRepo.Get(e.ctx, me.IdentityID)
	until := domain.Timestamp(e.clock.Now().Add(time.Hour))
	ctx := event.WithActor(e.ctx, event.Actor{Kind: event.ActorAPIKey, ID: e.regular.KeyID.String()})
	if _, err := players.Ban(ctx, e.regular, ports.CreateBan{PlayerID: mine.PlayerID(), Reason: ptr("aimbot"), ExpiresAt: &until}); err != nil {
		t.Fatal(err)
	}
	if s := e.stored(me.SessionID); !s.IsRevoked() {
		t.Fatal("the ban left the player's session live")
	}
	wantBanned := func(what string, err error) {
		t.Helper()
		var de *domain.Error
		if !errors.Is(err, player.ErrBanned) || !errors.As(err, &de) {
			t.Fatalf("%s: %v, want Player is banned", what, err)
		}
		if at, _ := de.Facts["expires_at"].(time.Time); !at.Equal(until) {
			t.Fatalf("%s: expires_at %v, want %v", what, de.Facts["expires_at"], until)
		}
	}
	_, err := e.svc.Refresh(e.ctx, tok.RefreshToken)
	wantBanned("refresh of the revoked session", err)
	_, err = e.svc.SignIn(e.ctx, ports.SignIn{GameID: e.game, Kind: "DEVICE", ExternalKey: &key})
	wantBanned("sign-in", err)
	_, err = e.svc.SignIn(e.ctx, ports.SignIn{GameID: e.game, Kind: "DEVICE", ExternalKey: &key, DisplayName: ptr("Renamed")})
	wantBanned("sign-in with a new name", err)
	if i, _ := e.idRepo.Get(e.ctx, me.IdentityID); !i.DisplayName().IsZero() {
		t.Fatalf("a refused sign-in renamed the identity to %q", i.DisplayName())
	}
	_, err = e.svc.Create(e.ctx, e.regular, me.IdentityID)
	wantBanned("the studio's sign-in", err)
	if _, err := e.svc.Refresh(e.ctx, "not-a-token"); !errors.Is(err, session.ErrRefreshInvalid) {
		t.Fatalf("an unknown refresh token: %v", err)
	}

	// The ban ends by itself.
	e.clock.Advance(time.Hour)
	again := e.signIn(ports.SignIn{GameID: e.game, Kind: "DEVICE", ExternalKey: &key})
	claims, err := e.tokens.Verify(again.AccessToken, e.clock.Now())
	if err != nil || claims.PlayerID != mine.PlayerID() {
		t.Fatalf("the token says player %s (%v), want %s", claims.PlayerID, err, mine.PlayerID())
	}
}

// playersOf is the fake player repository on the env's memory.
func playersOf(e *env) ports.PlayerRepository { return e.memory.Players() }

// A link that would create an identity asks the sign-up gate, as a sign-in
// does; one of a key that exists does not.
func TestClientLinksCountAsSignUps(t *testing.T) {
	e := newEnv(t)
	withPlayers(t, e, playersOf(e))
	me := e.authenticate(e.device("gate-device-1"))
	refused := errors.New("no more sign-ups from here")
	asked := 0
	gate := func(context.Context) error { asked++; return refused }
	key := "gate-device-2"
	before := e.identityCount()
	if _, _, err := e.svc.LinkIdentity(e.ctx, me, e.nonce(me), ports.ClientLink{Kind: "DEVICE", ExternalKey: &key, SignUp: gate}); !errors.Is(err, refused) {
		t.Fatalf("a link past the gate: %v", err)
	}
	if e.identityCount() != before || asked != 1 {
		t.Fatalf("the refused link wrote %d identities; the gate was asked %d times", e.identityCount()-before, asked)
	}
	own := "gate-device-1"
	if _, created, err := e.svc.LinkIdentity(e.ctx, me, e.nonce(me), ports.ClientLink{Kind: "DEVICE", ExternalKey: &own, SignUp: gate}); err != nil || created || asked != 1 {
		t.Fatalf("a link of an existing key: created %v, %v, gate asked %d times", created, err, asked)
	}
}
