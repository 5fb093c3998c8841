package session_test

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"testing"
	"time"

	"github.com/leadr-oss/identity/adapters/tokens"
	"github.com/leadr-oss/identity/application/apptest"
	"github.com/leadr-oss/identity/application/credcache"
	appsession "github.com/leadr-oss/identity/application/session"
	"github.com/leadr-oss/identity/domain"
	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/domain/identity"
	"github.com/leadr-oss/identity/domain/session"
	"github.com/leadr-oss/identity/domain/signingkey"
	"github.com/leadr-oss/identity/ports"
)

// countingSessions counts the session reads of client requests.
type countingSessions struct {
	ports.SessionRepository
	reads int
}

func (c *countingSessions) Access(ctx context.Context, sessionID id.SessionID, now time.Time) (*session.Session, error) {
	c.reads++
	return c.SessionRepository.Access(ctx, sessionID, now)
}

// TestCachedAccessTokens: a verified token is served from the cache until
// it expires or a change to its session, identity or game arrives.
func TestCachedAccessTokens(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	repo := &countingSessions{SessionRepository: e.sessions}
	changes := new(apptest.Changes)
	d := e.deps
	d.Sessions = repo
	d.Cache = credcache.Options{Changes: changes, TTL: time.Hour, Max: 100}
	svc := appsession.NewService(d)
	authenticate := func(tok ports.Tokens, wantReads int, wantErr error) {
		t.Helper()
		_, err := svc.Authenticate(e.ctx, tok.AccessToken)
		if !errors.Is(err, wantErr) || repo.reads != wantReads {
			t.Fatalf("err %v after %d reads; want %v after %d", err, repo.reads, wantErr, wantReads)
		}
	}

	tok := e.device("device-0001")
	authenticate(tok, 1, nil)
	authenticate(tok, 1, nil)
	for _, ch := range []ports.Change{
		{ID: tok.Session.ID().String()},
		{ID: tok.Session.IdentityID().String()},
		{ID: e.game.String()},
	} {
		changes.Send(ch)
		authenticate(tok, repo.reads+1, nil)
		authenticate(tok, repo.reads, nil)
	}
	changes.Send(ports.Change{ID: id.New[id.Session]().String()})
	authenticate(tok, repo.reads, nil) // another session's change

	// A token is cached no longer than it is valid.
	e.clock.now = e.clock.now.Add(lifetimes.Access)
	authenticate(tok, repo.reads, session.ErrAccessInvalid)
}

// revocableKey is a signing key that can be unpublished.
type revocableKey struct {
	*apptest.SigningKey
	revoked bool
}

func (k *revocableKey) Verifier(kid id.SigningKeyID, now time.Time) *ecdsa.PublicKey {
	if k.revoked {
		return nil
	}
	return k.SigningKey.Verifier(kid, now)
}

// A cached token whose signing key was revoked is refused at its next
// use, though nothing about its session changed.
func TestCachedTokensOfARevokedKey(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	key := &revocableKey{SigningKey: apptest.NewSigningKey()}
	d := e.deps
	d.Tokens = tokens.New(key, tokens.DefaultIssuer, tokens.WithClock(e.clock.Now))
	d.Cache = credcache.Options{Changes: new(apptest.Changes), TTL: time.Hour, Max: 100}
	svc := appsession.NewService(d)
	device := "device-0001"
	tok, err := svc.SignIn(e.ctx, ports.SignIn{GameID: e.game, Kind: "DEVICE", ExternalKey: &device})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Authenticate(e.ctx, tok.AccessToken); err != nil {
		t.Fatal(err)
	}
	key.revoked = true
	if _, err := svc.Authenticate(e.ctx, tok.AccessToken); !errors.Is(err, session.ErrAccessInvalid) {
		t.Fatalf("a cached token of a revoked key: %v", err)
	}
}

// noSigner is a key store in which no key can sign (clocks far apart, for
// a minute at most).
type noSigner struct{ *apptest.SigningKey }

func (noSigner) Signer(time.Time) (id.SigningKeyID, *ecdsa.PrivateKey, error) {
	return id.SigningKeyID{}, nil, signingkey.ErrNoSigner
}

// A sign-in while no key can sign is told to come back (503), not a 500.
func TestSignInWithoutASigner(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.deps
	d.Tokens = tokens.New(noSigner{apptest.NewSigningKey()}, tokens.DefaultIssuer, tokens.WithClock(e.clock.Now))
	device := "device-0002"
	_, err := appsession.NewService(d).SignIn(e.ctx, ports.SignIn{GameID: e.game, Kind: "DEVICE", ExternalKey: &device})
	var de *domain.Error
	if !errors.As(err, &de) || de.Category != domain.CategoryUnavailable {
		t.Fatalf("sign-in with no signer: %v", err)
	}
}

// goneIdentities is an identity store in which every identity was deleted
// a moment ago.
type goneIdentities struct{ ports.IdentityRepository }

func (goneIdentities) Get(context.Context, id.IdentityID) (*identity.Identity, error) {
	return nil, identity.ErrNotFound
}

// An identity deleted between a refresh's rotation and its answer ends the
// session's refresh (401), not a 404 the client cannot act on.
func TestRefreshOfAnIdentityDeletedMeanwhile(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tok := e.device("device-0003")
	d := e.deps
	d.Identities = goneIdentities{d.Identities}
	if _, err := appsession.NewService(d).Refresh(e.ctx, tok.RefreshToken); !errors.Is(err, session.ErrRefreshInvalid) {
		t.Fatalf("refresh: %v", err)
	}
}
