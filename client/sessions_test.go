package client_test

import (
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/leadr-oss/identity/client"
	"github.com/leadr-oss/identity/test/harness"
)

// countingTransport counts the bearer check's refusals a client receives.
type countingTransport struct{ refused atomic.Int32 }

func (c *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err == nil && resp.StatusCode == http.StatusUnauthorized && resp.Header.Get("WWW-Authenticate") != "" {
		c.refused.Add(1)
	}
	return resp, err
}

// A game client against the real service: sign in, read and rename itself,
// keep going past its access token's expiry, sign out; and a studio's
// backend that signs a CUSTOM identity in and revokes its session.
func TestPlayerAgainstTheService(t *testing.T) {
	svc := harness.StartService(t, harness.WithDatabaseURL("sqlite:"+filepath.Join(t.TempDir(), "leadr.db")),
		harness.WithEnv("LEADR_ACCESS_TOKEN_TTL", "4s"))
	tenant := harness.NewTenant(t, svc)
	ctx := t.Context()
	counter := &countingTransport{}

	p, err := client.SignIn(ctx, svc.URL, client.SignInRequest{GameID: tenant.Game.ID, Kind: client.KindDevice, ExternalKey: "device-" + harness.Unique()},
		client.WithHTTPClient(&http.Client{Transport: counter, Timeout: 30 * time.Second}))
	if err != nil {
		t.Fatal(err)
	}
	if p.Identity().GameID != tenant.Game.ID || p.Identity().Kind != client.KindDevice {
		t.Fatalf("identity %+v", p.Identity())
	}
	renamed, err := p.Rename(ctx, "  Ada  ")
	if err != nil || renamed.DisplayName == nil || *renamed.DisplayName != "Ada" {
		t.Fatalf("rename: %+v %v", renamed, err)
	}
	first, err := tenant.Client.GetIdentitySession(ctx, p.SessionID())
	if err != nil || first.RevokedAt != nil || first.IdentityID != renamed.ID {
		t.Fatalf("the session: %+v %v", first, err)
	}

	// Past the half of its access token's life, the Player refreshes before
	// using it: the service never refuses it.
	time.Sleep(2100 * time.Millisecond)
	me, err := p.Me(ctx)
	if err != nil || me.ID != renamed.ID {
		t.Fatalf("me after the refresh: %+v %v", me, err)
	}
	later, err := tenant.Client.GetIdentitySession(ctx, p.SessionID())
	if err != nil || !later.ExpiresAt.After(first.ExpiresAt) {
		t.Fatalf("the session was not refreshed: %v then %v (%v)", first.ExpiresAt, later.ExpiresAt, err)
	}
	if n := counter.refused.Load(); n != 0 {
		t.Fatalf("%d access tokens refused", n)
	}
	if _, err := p.Rename(ctx, "Ada Lovelace"); err != nil {
		t.Fatal(err)
	}

	if err := p.SignOut(ctx); err != nil {
		t.Fatal(err)
	}
	ended, err := tenant.Client.GetIdentitySession(ctx, p.SessionID())
	if err != nil || ended.RevokedAt == nil {
		t.Fatalf("after sign-out: %+v %v", ended, err)
	}

	t.Run("a studio's backend signs a CUSTOM identity in", func(t *testing.T) {
		custom := harness.NewIdentity(t, tenant.Client, client.CreateIdentityRequest{GameID: tenant.Game.ID, Kind: client.KindCustom, ExternalKey: "player-" + harness.Unique()})
		s, err := tenant.Client.CreateIdentitySession(ctx, client.CreateIdentitySessionRequest{IdentityID: custom.ID})
		if err != nil || s.Identity.ID != custom.ID || s.TokenType != "Bearer" || s.ExpiresIn != 4 {
			t.Fatalf("%v %v", s, err)
		}
		player := svc.Anonymous().Player(s)
		if me, err := player.Me(ctx); err != nil || me.ID != custom.ID {
			t.Fatalf("me: %+v %v", me, err)
		}
		var listed []string
		for s, err := range tenant.Client.IdentitySessions(ctx, client.ListIdentitySessionsParams{IdentityID: custom.ID, Limit: 1}) {
			if err != nil {
				t.Fatal(err)
			}
			listed = append(listed, s.ID)
		}
		if len(listed) != 1 || listed[0] != s.SessionID {
			t.Fatalf("listed %v", listed)
		}
		page, err := tenant.Client.ListIdentitySessions(ctx, client.ListIdentitySessionsParams{AccountID: tenant.Account.ID})
		if err != nil || page.Pagination.Count != 2 {
			t.Fatalf("the account's sessions: %+v %v", page, err)
		}
		revoked, err := tenant.Client.RevokeIdentitySession(ctx, s.SessionID)
		if err != nil || revoked.RevokedAt == nil {
			t.Fatalf("revoke: %+v %v", revoked, err)
		}
		// The Player tries a refresh, which the revoked session refuses.
		if _, err := player.Me(ctx); client.StatusOf(err) != http.StatusUnauthorized {
			t.Fatalf("a revoked session's player: %v", err)
		}
		if _, err := tenant.Client.GetIdentitySession(ctx, "ses_0195f2a0-0000-7000-8000-000000000009"); client.StatusOf(err) != http.StatusNotFound {
			t.Fatalf("an unknown session: %v", err)
		}
	})

	t.Run("every answer as documented", func(t *testing.T) {
		// Through the harness's client, which checks each answer against
		// the OpenAPI document: the 201, the 200s, the 204.
		p, err := svc.Anonymous().SignIn(ctx, client.SignInRequest{GameID: tenant.Game.ID, Kind: client.KindDevice, ExternalKey: "device-" + harness.Unique()})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.Rename(ctx, "Grace"); err != nil {
			t.Fatal(err)
		}
		if resp, err := p.Do(ctx, "PATCH", "/v1/client/me", map[string]string{"display_name": "Grace"}); err != nil || resp.Status != http.StatusPreconditionFailed {
			t.Fatalf("without a nonce: %v %v", resp, err)
		}
		if err := p.SignOut(ctx); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("sign-in refusals are *Error", func(t *testing.T) {
		_, err := svc.Anonymous().SignIn(ctx, client.SignInRequest{GameID: tenant.Game.ID, Kind: client.KindCustom, ExternalKey: "player-42"})
		var e *client.Error
		if client.StatusOf(err) != http.StatusUnprocessableEntity {
			t.Fatalf("CUSTOM: %v", err)
		}
		_, err = svc.Anonymous().SignIn(ctx, client.SignInRequest{GameID: harness.NewGameID(), Kind: client.KindDevice, ExternalKey: "device-0123456"})
		if !errors.As(err, &e) || e.Status != http.StatusNotFound || e.Detail != "Game not found" {
			t.Fatalf("unknown game: %v", err)
		}
	})
}

func TestNoncesDoNotPrintThemselves(t *testing.T) {
	n := client.Nonce{NonceValue: "nonce-secret-value", ExpiresAt: time.Unix(0, 0).UTC()}
	if out := fmt.Sprintf("%v %+v %#v %s", n, n, n, n); strings.Contains(out, "nonce-secret-value") {
		t.Fatalf("a nonce printed itself: %s", out)
	}
}
