package client_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/leadr-oss/identity/client"
	"github.com/leadr-oss/identity/test/harness"
)

// wantBody decodes the body of the *Error in err, which must have status.
func wantBody(t *testing.T, err error, status int, into any) {
	t.Helper()
	var e *client.Error
	if !errors.As(err, &e) || e.Status != status {
		t.Fatalf("want a %d, got %v", status, err)
	}
	if err := json.Unmarshal(e.Body, into); err != nil {
		t.Fatalf("the %d's body %s: %v", status, e.Body, err)
	}
}

func identityIDsOf(p client.PlayerResponse) []string {
	var ids []string
	for _, i := range p.Identities {
		ids = append(ids, i.ID)
	}
	return ids
}

// The admin calls of players against the real service, each answer
// checked against the OpenAPI document by the harness.
func TestPlayersAgainstTheService(t *testing.T) {
	svc := service(t)
	tenant := harness.NewTenant(t, svc)
	ctx := t.Context()
	c := tenant.Client
	device := func() client.Identity {
		return harness.NewIdentity(t, c, client.CreateIdentityRequest{GameID: tenant.Game.ID, Kind: client.KindDevice, ExternalKey: "device-" + harness.Unique()})
	}
	a, b := device(), device()

	p, err := c.GetPlayer(ctx, a.PlayerID)
	if err != nil || p.ID != a.PlayerID || !slices.Equal(identityIDsOf(p), []string{a.ID}) || p.Ban != nil || p.DeletedAt != nil {
		t.Fatalf("get: %+v %v", p, err)
	}

	_, err = c.LinkIdentity(ctx, a.PlayerID, client.LinkIdentityRequest{IdentityID: b.ID})
	var other client.IdentityOfOtherPlayer
	if wantBody(t, err, http.StatusConflict, &other); other.PlayerID != b.PlayerID {
		t.Fatalf("409 names %+v, want %s", other, b.PlayerID)
	}
	merged, err := c.LinkIdentity(ctx, a.PlayerID, client.LinkIdentityRequest{IdentityID: b.ID, Merge: true})
	if err != nil || !slices.Equal(identityIDsOf(merged), []string{a.ID, b.ID}) {
		t.Fatalf("merge: %+v %v", merged, err)
	}
	var found []string
	for p, err := range c.Players(ctx, client.ListPlayersParams{Kind: client.KindDevice, ExternalKey: b.ExternalKey, Limit: 1}) {
		if err != nil {
			t.Fatal(err)
		}
		found = append(found, p.ID)
	}
	if !slices.Equal(found, []string{a.PlayerID}) {
		t.Fatalf("the player of b's key: %v", found)
	}

	t.Run("bans", func(t *testing.T) {
		ban, err := c.BanPlayer(ctx, a.PlayerID, client.CreateBanRequest{Reason: "cheating"})
		if err != nil || ban.PlayerID != a.PlayerID || ban.ExpiresAt != nil || ban.Actor.Type != "api_key" {
			t.Fatalf("ban: %+v %v", ban, err)
		}
		_, err = svc.Anonymous().SignIn(ctx, client.SignInRequest{GameID: tenant.Game.ID, Kind: client.KindDevice, ExternalKey: a.ExternalKey})
		banned := client.PlayerBanned{ExpiresAt: &time.Time{}}
		if wantBody(t, err, http.StatusForbidden, &banned); banned.Detail != "Player is banned" || banned.ExpiresAt != nil {
			t.Fatalf("sign-in of a banned player: %+v", banned)
		}
		until := time.Now().Add(time.Hour).Truncate(time.Microsecond)
		changed, err := c.UpdateBan(ctx, a.PlayerID, ban.ID, client.UpdateBanRequest{ExpiresAt: &until})
		if err != nil || changed.ExpiresAt == nil || !changed.ExpiresAt.Equal(until) {
			t.Fatalf("new expiry: %+v %v", changed, err)
		}
		if changed, err = c.UpdateBan(ctx, a.PlayerID, ban.ID, client.UpdateBanRequest{NoExpiry: true}); err != nil || changed.ExpiresAt != nil {
			t.Fatalf("no expiry: %+v %v", changed, err)
		}
		lifted, err := c.LiftBan(ctx, a.PlayerID, ban.ID)
		if err != nil || lifted.LiftedAt == nil {
			t.Fatalf("lift: %+v %v", lifted, err)
		}
		bans, err := c.ListBans(ctx, a.PlayerID)
		if err != nil || len(bans) != 1 || bans[0].ID != ban.ID {
			t.Fatalf("history: %+v %v", bans, err)
		}
		page, err := c.ListPlayers(ctx, client.ListPlayersParams{Banned: new(bool)})
		if err != nil || page.Pagination.Count != 1 {
			t.Fatalf("players without a ban: %+v %v", page, err)
		}
	})

	t.Run("unlink and export", func(t *testing.T) {
		alone, err := c.UnlinkIdentity(ctx, a.PlayerID, b.ID)
		if err != nil || alone.ID != b.ID || alone.PlayerID == a.PlayerID || alone.ETag == "" {
			t.Fatalf("unlink: %+v %v", alone, err)
		}
		x, err := c.ExportPlayer(ctx, a.PlayerID)
		if err != nil || x.Player.ID != a.PlayerID || len(x.Identities) != 1 || len(x.Bans) != 1 || len(x.Events) == 0 {
			t.Fatalf("export: %+v %v", x, err)
		}
	})

	t.Run("delete, restore, erase", func(t *testing.T) {
		deleted, err := c.DeletePlayer(ctx, a.PlayerID)
		if err != nil || deleted.DeletedAt == nil || deleted.PurgeAfter == nil || !deleted.PurgeAfter.After(*deleted.DeletedAt) {
			t.Fatalf("delete: %+v %v", deleted, err)
		}
		restored, err := c.RestorePlayer(ctx, a.PlayerID)
		if err != nil || restored.DeletedAt != nil {
			t.Fatalf("restore: %+v %v", restored, err)
		}
		tomb, err := c.ErasePlayer(ctx, a.PlayerID)
		if err != nil || tomb.ID != a.PlayerID || tomb.GameID != tenant.Game.ID || tomb.PurgedAt.IsZero() {
			t.Fatalf("erase: %+v %v", tomb, err)
		}
		_, err = c.GetPlayer(ctx, a.PlayerID)
		var purged *client.PurgedError
		if !errors.As(err, &purged) || purged.Tombstone != tomb {
			t.Fatalf("get of a purged player: %v", err)
		}
	})

	t.Run("restore an identity", func(t *testing.T) {
		x := device()
		if _, err := c.DeleteIdentity(ctx, x.ID); err != nil {
			t.Fatal(err)
		}
		restored, err := c.RestoreIdentity(ctx, x.ID)
		if err != nil || restored.ID != x.ID || restored.ETag == "" {
			t.Fatalf("restore: %+v %v", restored, err)
		}
		if _, err := c.RestoreIdentity(ctx, x.ID); client.StatusOf(err) != http.StatusNotFound {
			t.Fatalf("restore of a live identity: %v", err)
		}
	})
}

// A game client links a second device, unlinks it, and deletes its account.
func TestPlayerLinksAndDeletesItsAccount(t *testing.T) {
	svc := service(t)
	tenant := harness.NewTenant(t, svc)
	ctx := t.Context()
	p, err := svc.Anonymous().SignIn(ctx, client.SignInRequest{GameID: tenant.Game.ID, Kind: client.KindDevice, ExternalKey: "device-" + harness.Unique()})
	if err != nil {
		t.Fatal(err)
	}
	own := p.Identity()
	second := client.ClientLinkRequest{Kind: client.KindDevice, ExternalKey: "device-" + harness.Unique()}
	linked, created, err := p.Link(ctx, second)
	if err != nil || !created || linked.PlayerID != own.PlayerID || linked.ETag == "" {
		t.Fatalf("link: %+v %v %v", linked, created, err)
	}
	if again, created, err := p.Link(ctx, second); err != nil || created || again.ID != linked.ID {
		t.Fatalf("link again: %+v %v %v", again, created, err)
	}
	alone, err := p.Unlink(ctx, linked.ID)
	if err != nil || alone.ID != linked.ID || alone.PlayerID == own.PlayerID {
		t.Fatalf("unlink: %+v %v", alone, err)
	}
	if _, err := p.Unlink(ctx, own.ID); client.StatusOf(err) != http.StatusConflict {
		t.Fatalf("unlink of the session's own identity: %v", err)
	}

	deleted, err := p.DeleteAccount(ctx)
	if err != nil || deleted.ID != own.PlayerID || deleted.DeletedAt == nil {
		t.Fatalf("delete: %+v %v", deleted, err)
	}
	if _, err := p.Me(ctx); !errors.Is(err, client.ErrAccountDeleted) {
		t.Fatalf("after the deletion: %v", err)
	}
	if got, err := tenant.Client.GetPlayer(ctx, own.PlayerID); err != nil || got.DeletedAt == nil {
		t.Fatalf("the deleted player: %+v %v", got, err)
	}
}
