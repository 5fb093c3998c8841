package acceptance

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"net/url"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/leadr-oss/identity/adapters/store"
	"github.com/leadr-oss/identity/client"
	"github.com/leadr-oss/identity/test/harness"
	"github.com/leadr-oss/identity/test/pgtest"
	"github.com/leadr-oss/identity/test/steamfake"
)

// The exact keys of the answers of section 11 of the contract.
var (
	identityKeys  = []string{"id", "account_id", "game_id", "player_id", "kind", "external_key", "display_name", "created_at", "updated_at"}
	playerKeys    = []string{"id", "account_id", "game_id", "identities", "ban", "deleted_at", "purge_after", "created_at", "updated_at"}
	tombstoneKeys = []string{"id", "account_id", "game_id", "purged_at"}
	banKeys       = []string{"id", "player_id", "reason", "expires_at", "lifted_at", "actor", "created_at", "updated_at"}
)

const (
	playerDenied    = "You do not have access to this player's account"
	playerNotFound  = "Player not found"
	playerBanned    = "Player is banned"
	otherPlayer     = "Identity belongs to another player"
	identityMissing = "Identity not found"
	keyInUse        = "Identity key is in use"
	nonceRequired   = "Nonce required"
	// deletionGrace is LEADR_DELETION_GRACE's default.
	deletionGrace = 30 * 24 * time.Hour
	// refusalWait bounds the polls for a revoked session's access token to
	// be refused: the contract says within 1 s; a loaded machine gets more.
	refusalWait = 5 * time.Second
	// noPlayer is a well-formed player ID of no player.
	noPlayer = "ply_0195f2a0-0000-7000-8000-000000000000"
)

// playerIdentity is an IdentityResponse as section 11 extends it.
type playerIdentity struct {
	ID          string    `json:"id"`
	AccountID   string    `json:"account_id"`
	GameID      string    `json:"game_id"`
	PlayerID    string    `json:"player_id"`
	Kind        string    `json:"kind"`
	ExternalKey string    `json:"external_key"`
	DisplayName *string   `json:"display_name"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

type banResponse struct {
	ID        string     `json:"id"`
	PlayerID  string     `json:"player_id"`
	Reason    string     `json:"reason"`
	ExpiresAt *time.Time `json:"expires_at"`
	LiftedAt  *time.Time `json:"lifted_at"`
	Actor     struct {
		Type string  `json:"type"`
		ID   *string `json:"id"`
	} `json:"actor"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

type playerResponse struct {
	ID         string           `json:"id"`
	AccountID  string           `json:"account_id"`
	GameID     string           `json:"game_id"`
	Identities []playerIdentity `json:"identities"`
	Ban        *banResponse     `json:"ban"`
	DeletedAt  *time.Time       `json:"deleted_at"`
	PurgeAfter *time.Time       `json:"purge_after"`
	CreatedAt  time.Time        `json:"created_at"`
	UpdatedAt  time.Time        `json:"updated_at"`
}

// identityIDs are the IDs of the player's identities, sorted.
func (p playerResponse) identityIDs() []string {
	var out []string
	for _, i := range p.Identities {
		out = append(out, i.ID)
	}
	slices.Sort(out)
	return out
}

func sorted(ids ...string) []string { return slices.Sorted(slices.Values(ids)) }

// wantObjectKeys fails t unless the object's keys are exactly keys.
func wantObjectKeys(t *testing.T, what string, v any, keys ...string) {
	t.Helper()
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("%s is not an object: %v", what, v)
	}
	got := slices.Sorted(func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	})
	if want := sorted(keys...); !slices.Equal(got, want) {
		t.Fatalf("%s has keys %v, want %v", what, got, want)
	}
}

// checkIdentity checks an answer holding an IdentityResponse with its
// player, and decodes it.
func checkIdentity(t *testing.T, a harness.Answer, status int) playerIdentity {
	t.Helper()
	a.Want(status)
	wantKeys(t, a, identityKeys...)
	i := decode[playerIdentity](t, a)
	if !strings.HasPrefix(i.ID, "ide_") || !strings.HasPrefix(i.PlayerID, "ply_") {
		t.Fatalf("identity %s", a.Body)
	}
	return i
}

// checkPlayer checks a 200 PlayerResponse, its identities and its ban, and
// decodes it.
func checkPlayer(t *testing.T, a harness.Answer) playerResponse {
	t.Helper()
	a.Want(http.StatusOK)
	wantKeys(t, a, playerKeys...)
	list, ok := a.JSON["identities"].([]any)
	if !ok {
		t.Fatalf("identities is not a list: %s", a.Body)
	}
	for _, i := range list {
		wantObjectKeys(t, "an identity of the player", i, identityKeys...)
	}
	if b := a.JSON["ban"]; b != nil {
		wantObjectKeys(t, "the player's ban", b, banKeys...)
	}
	p := decode[playerResponse](t, a)
	if !strings.HasPrefix(p.ID, "ply_") || p.CreatedAt.IsZero() || p.UpdatedAt.Before(p.CreatedAt) {
		t.Fatalf("player %s", a.Body)
	}
	for _, i := range p.Identities {
		if i.PlayerID != p.ID || i.AccountID != p.AccountID || i.GameID != p.GameID {
			t.Fatalf("player %s holds an identity of another: %s", p.ID, a.Body)
		}
	}
	return p
}

func checkBan(t *testing.T, a harness.Answer, status int) banResponse {
	t.Helper()
	a.Want(status)
	wantKeys(t, a, banKeys...)
	wantObjectKeys(t, "the ban's actor", a.JSON["actor"], "type", "id")
	b := decode[banResponse](t, a)
	if !strings.HasPrefix(b.ID, "ban_") || b.CreatedAt.IsZero() {
		t.Fatalf("ban %s", a.Body)
	}
	return b
}

func playerOf(t *testing.T, w harness.Wire, playerID string) playerResponse {
	t.Helper()
	return checkPlayer(t, w.Do("GET", "/v1/players/"+playerID, nil))
}

// playersListed are the IDs a list of players answers, in its order.
func playersListed(t *testing.T, w harness.Wire, query string) []string {
	t.Helper()
	page := decode[client.Page[playerResponse]](t, w.Do("GET", "/v1/players?limit=100&"+query, nil).Want(http.StatusOK))
	var out []string
	for _, p := range page.Data {
		out = append(out, p.ID)
	}
	if page.Pagination.Count != len(out) || page.Pagination.HasNext {
		t.Fatalf("GET /v1/players?%s: %d players, pagination %+v", query, len(out), page.Pagination)
	}
	return out
}

// newCustom creates a CUSTOM identity (and so its player) through w.
func newCustom(t *testing.T, w harness.Wire, game string, name ...string) playerIdentity {
	t.Helper()
	body := map[string]any{"game_id": game, "kind": "CUSTOM", "external_key": "custom-" + harness.Unique()}
	if len(name) > 0 {
		body["display_name"] = name[0]
	}
	return checkIdentity(t, w.Do("POST", "/v1/identities", body), http.StatusCreated)
}

// deviceSession signs a device in and returns the session and its identity
// as answered, player included.
func deviceSession(t *testing.T, svc *harness.Service, game, device string, name ...string) (client.SignInResponse, playerIdentity) {
	t.Helper()
	body := map[string]any{"game_id": game, "kind": "DEVICE", "external_key": device}
	if len(name) > 0 {
		body["display_name"] = name[0]
	}
	a := bearer(t, svc, "").Do("POST", "/v1/client/sessions", body)
	s := checkSignIn(t, a)
	wantObjectKeys(t, "the signed-in identity", a.JSON["identity"], identityKeys...)
	raw, _ := json.Marshal(a.JSON["identity"])
	var i playerIdentity
	if err := json.Unmarshal(raw, &i); err != nil {
		t.Fatal(err)
	}
	if i.ExternalKey != device || !strings.HasPrefix(i.PlayerID, "ply_") {
		t.Fatalf("signed in as %s", raw)
	}
	return s, i
}

// nonceOf is a fresh nonce of the session of token.
func nonceOf(t *testing.T, svc *harness.Service, token string) string {
	t.Helper()
	n := bearer(t, svc, token).Do("GET", "/v1/client/nonce", nil).Want(http.StatusOK).Str("nonce_value")
	if n == "" {
		t.Fatal("no nonce")
	}
	return n
}

// withNonce sends token and a fresh nonce of its session.
func withNonce(t *testing.T, svc *harness.Service, token string) harness.Wire {
	t.Helper()
	return bearer(t, svc, token, client.NonceHeader, nonceOf(t, svc, token))
}

// tokenPlayer is the ply claim of an access token.
func tokenPlayer(t *testing.T, token string) string {
	t.Helper()
	_, payload, _ := jwtParts(t, token)
	ply, _ := payload["ply"].(string)
	return ply
}

// wantBanned fails t unless a is the ban's 403, telling when the ban ends
// (until nil: never).
func wantBanned(t *testing.T, a harness.Answer, until *time.Time) {
	t.Helper()
	a.Want(http.StatusForbidden, playerBanned)
	wantKeys(t, a, "detail", "expires_at")
	switch got := a.JSON["expires_at"].(type) {
	case nil:
		if until != nil {
			t.Fatalf("expires_at null, want %v", until)
		}
	case string:
		at, err := time.Parse(time.RFC3339Nano, got)
		if err != nil || until == nil || !at.Equal(*until) || !strings.HasSuffix(got, "Z") {
			t.Fatalf("expires_at %q, want %v", got, until)
		}
	default:
		t.Fatalf("expires_at %v", got)
	}
}

// answers sends do until it answers status (and detail, unless empty),
// and fails t if that does not happen within within.
func answers(t *testing.T, within time.Duration, status int, detail string, do func() harness.Answer) harness.Answer {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		a := do()
		if a.Status == status {
			if detail != "" {
				a.Want(status, detail)
			}
			return a
		}
		if time.Now().After(deadline) {
			t.Fatalf("still %d %s after %v, want %d", a.Status, a.Body, within, status)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// refused waits for the access token to be refused.
func refused(t *testing.T, svc *harness.Service, token string) {
	t.Helper()
	a := answers(t, refusalWait, http.StatusUnauthorized, accessRefused, func() harness.Answer {
		return bearer(t, svc, token).Do("GET", "/v1/client/me", nil)
	})
	wantBearerRefused(t, a, accessRefused)
}

// eventsAbout is the audit log of query, newest first.
func eventsAbout(t *testing.T, w harness.Wire, query string) []event {
	t.Helper()
	return decode[client.Page[event]](t, w.Do("GET", "/v1/events?limit=100&"+query, nil).Want(http.StatusOK)).Data
}

// typesOf are the types of the events, oldest first.
func typesOf(events []event) []string {
	var out []string
	for _, e := range slices.Backward(events) {
		out = append(out, e.Type)
	}
	return out
}

// TestPlayerOfEveryIdentityAndToken: every new identity comes with a player
// of its own, which every answer holding the identity names, and so do the
// access tokens of its sessions (ply).
func TestPlayerOfEveryIdentityAndToken(t *testing.T) {
	t.Parallel()
	svc := harness.StartService(t)
	tenant := harness.NewTenant(t, svc)
	w := harness.Over(t, tenant.Client)
	game := tenant.Game.ID

	body := map[string]any{"game_id": game, "kind": "CUSTOM", "external_key": "custom-" + harness.Unique()}
	custom := checkIdentity(t, w.Do("POST", "/v1/identities", body), http.StatusCreated)
	if again := checkIdentity(t, w.Do("POST", "/v1/identities", body), http.StatusOK); again.ID != custom.ID || again.PlayerID != custom.PlayerID {
		t.Fatalf("get-or-create answered %+v, created %+v", again, custom)
	}
	if got := checkIdentity(t, w.Do("GET", "/v1/identities/"+custom.ID, nil), http.StatusOK); got.PlayerID != custom.PlayerID {
		t.Fatalf("GET says player %s, POST said %s", got.PlayerID, custom.PlayerID)
	}

	device := newDevice()
	s, signedIn := deviceSession(t, svc, game, device, "Ada")
	if signedIn.PlayerID == custom.PlayerID {
		t.Fatal("two new identities share a player")
	}
	if got := tokenPlayer(t, s.AccessToken); got != signedIn.PlayerID {
		t.Fatalf("the access token says ply %q, want %s", got, signedIn.PlayerID)
	}
	if me := checkIdentity(t, bearer(t, svc, s.AccessToken).Do("GET", "/v1/client/me", nil), http.StatusOK); me.PlayerID != signedIn.PlayerID {
		t.Fatalf("me says player %s", me.PlayerID)
	}
	r := checkRefresh(t, refreshWith(t, svc, s.RefreshToken), s.SessionID)
	if got := tokenPlayer(t, r.AccessToken); got != signedIn.PlayerID {
		t.Fatalf("the refreshed access token says ply %q, want %s", got, signedIn.PlayerID)
	}
	studio := checkSignIn(t, w.Do("POST", "/v1/identity-sessions", map[string]any{"identity_id": custom.ID}))
	if got := tokenPlayer(t, studio.AccessToken); got != custom.PlayerID {
		t.Fatalf("the studio's session's access token says ply %q, want %s", got, custom.PlayerID)
	}
	list := w.Do("GET", "/v1/identities?game_id="+game, nil).Want(http.StatusOK)
	for _, i := range decode[client.Page[playerIdentity]](t, list).Data {
		if want := map[string]string{custom.ID: custom.PlayerID, signedIn.ID: signedIn.PlayerID}[i.ID]; i.PlayerID != want {
			t.Fatalf("the list says identity %s is of player %q, want %q", i.ID, i.PlayerID, want)
		}
	}

	p := playerOf(t, w, signedIn.PlayerID)
	if p.ID != signedIn.PlayerID || p.AccountID != tenant.Account.ID || p.GameID != game || p.Ban != nil || p.DeletedAt != nil || p.PurgeAfter != nil ||
		len(p.Identities) != 1 {
		t.Fatalf("player %+v", p)
	}
	if i := p.Identities[0]; i.ID != signedIn.ID || i.ExternalKey != device || i.DisplayName == nil || *i.DisplayName != "Ada" ||
		!i.CreatedAt.Equal(signedIn.CreatedAt) {
		t.Fatalf("the player's identity %+v, signed in as %+v", i, signedIn)
	}

	t.Run("listed", func(t *testing.T) {
		w := harness.Over(t, tenant.Client)
		// The newest first: the default order is created_at:desc.
		if got, want := playersListed(t, w, "game_id="+game), []string{signedIn.PlayerID, custom.PlayerID}; !slices.Equal(got, want) {
			t.Fatalf("the game's players %v, want %v", got, want)
		}
		if got := playersListed(t, w, "kind=DEVICE&external_key="+url.QueryEscape(device)); !slices.Equal(got, []string{signedIn.PlayerID}) {
			t.Fatalf("the player of the device: %v", got)
		}
		if got := playersListed(t, w, "kind=CUSTOM&external_key="+url.QueryEscape(device)); len(got) != 0 {
			t.Fatalf("the player of a CUSTOM identity keyed as the device: %v", got)
		}
		if got := playersListed(t, w, "kind=DEVICE&external_key=device-of-nobody"); len(got) != 0 {
			t.Fatalf("the player of an unknown device: %v", got)
		}
	})

	t.Run("events", func(t *testing.T) {
		w := harness.Over(t, tenant.Client)
		for _, i := range []playerIdentity{custom, signedIn} {
			if got := typesOf(eventsAbout(t, w, "subject_id="+i.PlayerID)); !slices.Equal(got, []string{"player.created"}) {
				t.Fatalf("the events of a new player: %v, want player.created", got)
			}
		}
	})
}

// TestPlayerLinksItsCredentials: a signed-in player links another device,
// finds a device of another player refused unless it merges, merges, and
// unlinks.
func TestPlayerLinksItsCredentials(t *testing.T) {
	t.Parallel()
	svc := harness.StartService(t)
	tenant := harness.NewTenant(t, svc)
	w := harness.Over(t, tenant.Client)
	game := tenant.Game.ID
	a, idA := deviceSession(t, svc, game, newDevice())
	P := idA.PlayerID
	link := func(body map[string]any) harness.Answer {
		t.Helper()
		return withNonce(t, svc, a.AccessToken).Do("POST", "/v1/client/me/identities", body)
	}

	deviceB := newDevice()
	bearer(t, svc, a.AccessToken).Do("POST", "/v1/client/me/identities", map[string]any{"kind": "DEVICE", "external_key": deviceB}).
		Want(http.StatusPreconditionFailed, nonceRequired)
	b := checkIdentity(t, link(map[string]any{"kind": "DEVICE", "external_key": deviceB}), http.StatusCreated)
	if b.PlayerID != P || b.ExternalKey != deviceB || b.Kind != "DEVICE" || b.AccountID != tenant.Account.ID || b.GameID != game {
		t.Fatalf("linked %+v into %s", b, P)
	}
	if again := checkIdentity(t, link(map[string]any{"kind": "DEVICE", "external_key": deviceB}), http.StatusOK); again.ID != b.ID || again.PlayerID != P {
		t.Fatalf("linked again: %+v", again)
	}
	if got := playersListed(t, w, "game_id="+game); !slices.Equal(got, []string{P}) {
		t.Fatalf("after a link the game's players are %v, want only %s", got, P)
	}
	// The linked device signs in as the same player.
	sB, asB := deviceSession(t, svc, game, deviceB)
	if asB.ID != b.ID || asB.PlayerID != P || tokenPlayer(t, sB.AccessToken) != P {
		t.Fatalf("device B signs in as %+v", asB)
	}

	c, idC := deviceSession(t, svc, game, newDevice())
	Q := idC.PlayerID
	for _, body := range []map[string]any{
		{"kind": "DEVICE", "external_key": idC.ExternalKey},
		{"kind": "DEVICE", "external_key": idC.ExternalKey, "merge": false},
	} {
		refusal := link(body).Want(http.StatusConflict, otherPlayer)
		wantKeys(t, refusal, "detail", "player_id")
		if refusal.Str("player_id") != Q {
			t.Fatalf("the conflict names %s, want %s", refusal.Str("player_id"), Q)
		}
	}
	if got := playerOf(t, w, Q).identityIDs(); !slices.Equal(got, []string{idC.ID}) {
		t.Fatalf("a refused link moved identities: %s holds %v", Q, got)
	}

	merged := checkIdentity(t, link(map[string]any{"kind": "DEVICE", "external_key": idC.ExternalKey, "merge": true}), http.StatusOK)
	if merged.ID != idC.ID || merged.PlayerID != P {
		t.Fatalf("merged %+v", merged)
	}
	w.Do("GET", "/v1/players/"+Q, nil).Want(http.StatusNotFound, playerNotFound)
	if got, want := playerOf(t, w, P).identityIDs(), sorted(idA.ID, b.ID, idC.ID); !slices.Equal(got, want) {
		t.Fatalf("after the merge %s holds %v, want %v", P, got, want)
	}
	if got := playersListed(t, w, "game_id="+game); !slices.Equal(got, []string{P}) {
		t.Fatalf("after the merge the game's players are %v, want only %s", got, P)
	}
	var mergeEvents []event
	for _, e := range eventsAbout(t, w, "type=player.merged") {
		if e.Data["from"] == Q {
			mergeEvents = append(mergeEvents, e)
		}
	}
	if len(mergeEvents) != 1 || mergeEvents[0].Data["into"] != P {
		t.Fatalf("player.merged events from %s: %+v", Q, mergeEvents)
	}
	// C's session goes on; its token says Q until it is refreshed.
	if me := checkIdentity(t, bearer(t, svc, c.AccessToken).Do("GET", "/v1/client/me", nil), http.StatusOK); me.PlayerID != P {
		t.Fatalf("C's me after the merge: %+v", me)
	}
	if got := tokenPlayer(t, c.AccessToken); got != Q {
		t.Fatalf("C's token says %s", got)
	}
	if r := checkRefresh(t, refreshWith(t, svc, c.RefreshToken), c.SessionID); tokenPlayer(t, r.AccessToken) != P {
		t.Fatalf("C's refreshed token says %s, want %s", tokenPlayer(t, r.AccessToken), P)
	}

	t.Run("unlink", func(t *testing.T) {
		w := harness.Over(t, tenant.Client)
		path := "/v1/client/me/identities/"
		bearer(t, svc, a.AccessToken).Do("DELETE", path+b.ID, nil).Want(http.StatusPreconditionFailed, nonceRequired)
		alone := checkIdentity(t, withNonce(t, svc, a.AccessToken).Do("DELETE", path+b.ID, nil), http.StatusOK)
		if alone.ID != b.ID || alone.PlayerID == P {
			t.Fatalf("unlinked %+v", alone)
		}
		if got := playerOf(t, w, alone.PlayerID); !slices.Equal(got.identityIDs(), []string{b.ID}) {
			t.Fatalf("the new player of the unlinked identity holds %v", got.identityIDs())
		}
		if got, want := playerOf(t, w, P).identityIDs(), sorted(idA.ID, idC.ID); !slices.Equal(got, want) {
			t.Fatalf("after the unlink %s holds %v, want %v", P, got, want)
		}
		withNonce(t, svc, a.AccessToken).Do("DELETE", path+idA.ID, nil).Want(http.StatusConflict, "Cannot unlink the identity of this session")
		withNonce(t, svc, a.AccessToken).Do("DELETE", path+b.ID, nil).Want(http.StatusNotFound, identityMissing)
		withNonce(t, svc, a.AccessToken).Do("DELETE", path+"ide_0195f2a0-0000-7000-8000-000000000000", nil).Want(http.StatusNotFound, identityMissing)
		if got := typesOf(eventsAbout(t, w, "subject_id="+b.ID)); !slices.Contains(got, "identity.unlinked") {
			t.Fatalf("the unlinked identity's events: %v", got)
		}
		if got := typesOf(eventsAbout(t, w, "subject_id="+idC.ID)); !slices.Contains(got, "identity.linked") {
			t.Fatalf("the merged identity's events: %v", got)
		}
	})
}

// TestPlayerLinksASteamAccount: a Steam account is linked with a ticket
// Steam verifies, as at sign-in; the SteamID is Steam's, never the
// client's.
func TestPlayerLinksASteamAccount(t *testing.T) {
	t.Parallel()
	fake := steamfake.New(t)
	svc := harness.StartService(t, harness.WithEnv("LEADR_STEAM_API_URL", fake.URL()))
	tenant := harness.NewTenant(t, svc)
	key := steamKey()
	g := harness.NewGame(t, tenant.Client, client.CreateGameRequest{SteamAppID: ptr("480"), SteamWebAPIKey: ptr(key)})
	fake.ExpectKey("480", key)
	steamID := steamfake.SteamID64(31337)
	fake.Ticket("c0ffee01", steamfake.Player{SteamID: steamID})
	fake.Refuse("dead01", 101)
	s, idA := deviceSession(t, svc, g.ID, newDevice())
	link := func(body map[string]any) harness.Answer {
		t.Helper()
		return withNonce(t, svc, s.AccessToken).Do("POST", "/v1/client/me/identities", body)
	}

	link(map[string]any{"kind": "STEAM", "steam_ticket": "dead01"}).Want(http.StatusUnauthorized, "Invalid Steam ticket")
	link(map[string]any{"kind": "CUSTOM", "external_key": "custom-" + harness.Unique()}).Want(http.StatusUnprocessableEntity)
	linked := checkIdentity(t, link(map[string]any{"kind": "STEAM", "steam_ticket": "c0ffee01", "external_key": steamfake.SteamID64(1)}), http.StatusCreated)
	if linked.Kind != "STEAM" || linked.ExternalKey != steamID || linked.PlayerID != idA.PlayerID {
		t.Fatalf("linked %+v, want Steam's %s in %s", linked, steamID, idA.PlayerID)
	}
	steam := checkSignIn(t, bearer(t, svc, "").Do("POST", "/v1/client/sessions", map[string]any{"game_id": g.ID, "kind": "STEAM", "steam_ticket": "c0ffee01"}))
	if steam.Identity.ID != linked.ID || tokenPlayer(t, steam.AccessToken) != idA.PlayerID {
		t.Fatalf("the Steam account signs in as %s of %s", steam.Identity.ID, tokenPlayer(t, steam.AccessToken))
	}
	if got, want := playerOf(t, harness.Over(t, tenant.Client), idA.PlayerID).identityIDs(), sorted(idA.ID, linked.ID); !slices.Equal(got, want) {
		t.Fatalf("the player holds %v, want %v", got, want)
	}
}

// TestPlayerLinksByTheStudio: the admin side of linking and unlinking.
func TestPlayerLinksByTheStudio(t *testing.T) {
	t.Parallel()
	svc := harness.StartService(t)
	tenant := harness.NewTenant(t, svc)
	w := harness.Over(t, tenant.Client)
	game := tenant.Game.ID
	x, y := newCustom(t, w, game), newCustom(t, w, game)
	X, Y := x.PlayerID, y.PlayerID
	link := func(playerID string, body map[string]any) harness.Answer {
		t.Helper()
		return w.Do("POST", "/v1/players/"+playerID+"/identities", body)
	}

	refusal := link(X, map[string]any{"identity_id": y.ID}).Want(http.StatusConflict, otherPlayer)
	wantKeys(t, refusal, "detail", "player_id")
	if refusal.Str("player_id") != Y {
		t.Fatalf("the conflict names %s, want %s", refusal.Str("player_id"), Y)
	}
	if p := checkPlayer(t, link(X, map[string]any{"identity_id": y.ID, "merge": true})); !slices.Equal(p.identityIDs(), sorted(x.ID, y.ID)) {
		t.Fatalf("merged: %+v", p)
	}
	w.Do("GET", "/v1/players/"+Y, nil).Want(http.StatusNotFound, playerNotFound)
	if p := checkPlayer(t, link(X, map[string]any{"identity_id": y.ID})); !slices.Equal(p.identityIDs(), sorted(x.ID, y.ID)) {
		t.Fatalf("linked again: %+v", p)
	}
	link(X, map[string]any{}).Problem("missing", "body", "identity_id")
	link(X, map[string]any{"identity_id": "ide_0195f2a0-0000-7000-8000-000000000000"}).Want(http.StatusNotFound, identityMissing)
	link(noPlayer, map[string]any{"identity_id": x.ID}).Want(http.StatusNotFound, playerNotFound)
	// A player is one person in one game.
	elsewhere := newCustom(t, w, harness.NewGame(t, tenant.Client, client.CreateGameRequest{}).ID)
	link(X, map[string]any{"identity_id": elsewhere.ID, "merge": true}).Want(http.StatusNotFound, identityMissing)

	alone := checkIdentity(t, w.Do("DELETE", "/v1/players/"+X+"/identities/"+y.ID, nil), http.StatusOK)
	if alone.ID != y.ID || alone.PlayerID == X || alone.PlayerID == Y {
		t.Fatalf("unlinked %+v", alone)
	}
	if got := playerOf(t, w, alone.PlayerID).identityIDs(); !slices.Equal(got, []string{y.ID}) {
		t.Fatalf("the unlinked identity's player holds %v", got)
	}
	w.Do("DELETE", "/v1/players/"+X+"/identities/"+x.ID, nil).Want(http.StatusConflict, "Cannot unlink the last identity")
	w.Do("DELETE", "/v1/players/"+X+"/identities/"+y.ID, nil).Want(http.StatusNotFound, identityMissing)
	if got := playerOf(t, w, X).identityIDs(); !slices.Equal(got, []string{x.ID}) {
		t.Fatalf("%s holds %v", X, got)
	}
}

// TestPlayerBans: a ban ends the player's sessions and refuses every way
// back in until it is lifted or expires.
func TestPlayerBans(t *testing.T) {
	t.Parallel()
	svc := harness.StartService(t)
	tenant := harness.NewTenant(t, svc)
	w := harness.Over(t, tenant.Client)
	game := tenant.Game.ID
	device := newDevice()
	s1, idA := deviceSession(t, svc, game, device)
	P := idA.PlayerID
	k := newCustom(t, w, game)
	checkPlayer(t, w.Do("POST", "/v1/players/"+P+"/identities", map[string]any{"identity_id": k.ID, "merge": true}))
	s2 := checkSignIn(t, w.Do("POST", "/v1/identity-sessions", map[string]any{"identity_id": k.ID}))
	_, bystander := deviceSession(t, svc, game, newDevice())
	bans := "/v1/players/" + P + "/bans"

	t.Run("refused", func(t *testing.T) {
		w := harness.Over(t, tenant.Client)
		w.Do("POST", bans, map[string]any{}).Problem("missing", "body", "reason")
		for name, body := range map[string]map[string]any{
			"empty":    {"reason": " "},
			"too long": {"reason": strings.Repeat("r", 501)},
			// A NUL is in no valid string (see TestMalformedRequests), and
			// neither backend can store it.
			"NUL":         {"reason": "Nul\u0000byte"},
			"in the past": {"reason": "In the past", "expires_at": time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)},
		} {
			t.Run(name, func(t *testing.T) {
				harness.Over(t, tenant.Client).Do("POST", bans, body).Want(http.StatusUnprocessableEntity)
			})
		}
		if p := playerOf(t, w, P); p.Ban != nil {
			t.Fatalf("refused bans banned: %+v", p.Ban)
		}
	})

	first := checkBan(t, w.Do("POST", bans, map[string]any{"reason": "Cheating in ranked"}), http.StatusCreated)
	if first.PlayerID != P || first.Reason != "Cheating in ranked" || first.ExpiresAt != nil || first.LiftedAt != nil ||
		first.Actor.Type != "api_key" || first.Actor.ID == nil || *first.Actor.ID != tenant.Key.ID {
		t.Fatalf("ban %+v", first)
	}
	w.Do("POST", bans, map[string]any{"reason": "Again"}).Want(http.StatusConflict, "Player is already banned")
	if p := playerOf(t, w, P); p.Ban == nil || p.Ban.ID != first.ID {
		t.Fatalf("the banned player shows ban %+v", p.Ban)
	}

	t.Run("sessions end", func(t *testing.T) {
		refused(t, svc, s1.AccessToken)
		refused(t, svc, s2.AccessToken)
		for _, ses := range []string{s1.SessionID, s2.SessionID} {
			if got, _ := sessionOf(t, tenant.Client, ses); got.RevokedAt == nil {
				t.Fatalf("session %s of the banned player is not revoked", ses)
			}
		}
	})

	t.Run("no way back in", func(t *testing.T) {
		w := harness.Over(t, tenant.Client)
		wantBanned(t, bearer(t, svc, "").Do("POST", "/v1/client/sessions", map[string]any{"game_id": game, "kind": "DEVICE", "external_key": device}), nil)
		for _, i := range []string{idA.ID, k.ID} {
			wantBanned(t, w.Do("POST", "/v1/identity-sessions", map[string]any{"identity_id": i}), nil)
		}
		// The refresh tokens of the sessions the ban revoked say why.
		wantBanned(t, refreshWith(t, svc, s1.RefreshToken), nil)
		wantBanned(t, refreshWith(t, svc, s2.RefreshToken), nil)
		// Neither into the player nor out of it.
		j := newCustom(t, w, game)
		wantBanned(t, w.Do("POST", "/v1/players/"+P+"/identities", map[string]any{"identity_id": j.ID, "merge": true}), nil)
		wantBanned(t, w.Do("DELETE", "/v1/players/"+P+"/identities/"+k.ID, nil), nil)
		wantBanned(t, w.Do("POST", "/v1/players/"+j.PlayerID+"/identities", map[string]any{"identity_id": k.ID, "merge": true}), nil)
		if got, want := playerOf(t, w, P).identityIDs(), sorted(idA.ID, k.ID); !slices.Equal(got, want) {
			t.Fatalf("the banned player holds %v, want %v", got, want)
		}
	})

	t.Run("listed as banned", func(t *testing.T) {
		w := harness.Over(t, tenant.Client)
		if got := playersListed(t, w, "banned=true"); !slices.Equal(got, []string{P}) {
			t.Fatalf("banned players %v, want %s", got, P)
		}
		if got := playersListed(t, w, "banned=false&game_id="+game); slices.Contains(got, P) || !slices.Contains(got, bystander.PlayerID) {
			t.Fatalf("players not banned %v", got)
		}
	})

	lifted := checkBan(t, w.Do("PATCH", bans+"/"+first.ID, map[string]any{"lifted": true}), http.StatusOK)
	if lifted.ID != first.ID || lifted.LiftedAt == nil || lifted.Reason != first.Reason {
		t.Fatalf("lifted %+v", lifted)
	}
	if p := playerOf(t, w, P); p.Ban != nil {
		t.Fatalf("a lifted ban is in force: %+v", p.Ban)
	}
	s3, _ := deviceSession(t, svc, game, device)
	// The sessions the ban ended stay ended.
	refreshWith(t, svc, s1.RefreshToken).Want(http.StatusUnauthorized, refreshRefused)
	w.Do("PATCH", bans+"/ban_0195f2a0-0000-7000-8000-000000000000", map[string]any{"lifted": true}).Want(http.StatusNotFound)

	// A ban made with an end, moved, then lifted.
	second := checkBan(t, w.Do("POST", bans, map[string]any{"reason": "Toxic chat"}), http.StatusCreated)
	later := time.Now().Add(time.Hour).UTC().Truncate(time.Microsecond)
	moved := checkBan(t, w.Do("PATCH", bans+"/"+second.ID, map[string]any{"expires_at": later.Format(time.RFC3339Nano)}), http.StatusOK)
	if moved.ExpiresAt == nil || !moved.ExpiresAt.Equal(later) || moved.LiftedAt != nil {
		t.Fatalf("moved %+v, want expires_at %v", moved, later)
	}
	wantBanned(t, bearer(t, svc, "").Do("POST", "/v1/client/sessions", map[string]any{"game_id": game, "kind": "DEVICE", "external_key": device}), &later)
	refused(t, svc, s3.AccessToken)
	checkBan(t, w.Do("PATCH", bans+"/"+second.ID, map[string]any{"lifted": true}), http.StatusOK)

	// A ban that ends by itself.
	until := time.Now().Add(3 * time.Second).UTC().Truncate(time.Microsecond)
	third := checkBan(t, w.Do("POST", bans, map[string]any{"reason": "Cooling off", "expires_at": until.Format(time.RFC3339Nano)}), http.StatusCreated)
	if third.ExpiresAt == nil || !third.ExpiresAt.Equal(until) {
		t.Fatalf("ban %+v, want expires_at %v", third, until)
	}
	signIn := func() harness.Answer {
		return bearer(t, svc, "").Do("POST", "/v1/client/sessions", map[string]any{"game_id": game, "kind": "DEVICE", "external_key": device})
	}
	// Answered before until, a sign-in is refused; a machine slow enough
	// to answer after it may find the ban ended on the way.
	if a := signIn(); a.Status == http.StatusForbidden || time.Now().Before(until) {
		wantBanned(t, a, &until)
	}
	checkSignIn(t, answers(t, time.Until(until)+10*time.Second, http.StatusCreated, "", signIn))
	if p := playerOf(t, w, P); p.Ban != nil {
		t.Fatalf("an expired ban is in force: %+v", p.Ban)
	}

	t.Run("history", func(t *testing.T) {
		w := harness.Over(t, tenant.Client)
		a := w.Do("GET", bans, nil).Want(http.StatusOK)
		wantKeys(t, a, "data")
		history := decode[struct{ Data []banResponse }](t, a).Data
		var got []string
		for _, b := range history {
			got = append(got, b.ID)
		}
		if want := []string{third.ID, second.ID, first.ID}; !slices.Equal(got, want) {
			t.Fatalf("history %v, want newest first %v", got, want)
		}
		if history[2].LiftedAt == nil || history[1].LiftedAt == nil || history[0].LiftedAt != nil || !history[0].ExpiresAt.Equal(until) {
			t.Fatalf("history %s", a.Body)
		}
	})

	t.Run("events", func(t *testing.T) {
		w := harness.Over(t, tenant.Client)
		// Made, lifted, made, moved (an event of its own kind), lifted,
		// made; the expiry is no change.
		got := typesOf(eventsAbout(t, w, "subject_id="+P+"&type=player.*"))
		if len(got) != 7 || !slices.Equal(got[:4], []string{"player.created", "player.banned", "player.unbanned", "player.banned"}) ||
			!slices.Equal(got[5:], []string{"player.unbanned", "player.banned"}) {
			t.Fatalf("the player's events %v", got)
		}
	})
}

// TestPlayerDeletion: the studio and the player itself delete; a deleted
// player comes back unless its keys were taken; a soft-deleted identity
// comes back the same way.
func TestPlayerDeletion(t *testing.T) {
	t.Parallel()
	svc := harness.StartService(t)
	tenant := harness.NewTenant(t, svc)
	w := harness.Over(t, tenant.Client)
	game := tenant.Game.ID
	device := newDevice()
	s, idA := deviceSession(t, svc, game, device, "Ada")
	P := idA.PlayerID

	deleted := checkPlayer(t, w.Do("DELETE", "/v1/players/"+P, nil))
	if deleted.ID != P || deleted.DeletedAt == nil || deleted.PurgeAfter == nil || deleted.PurgeAfter.Sub(*deleted.DeletedAt) != deletionGrace {
		t.Fatalf("deleted %+v, want purge_after %v after deleted_at", deleted, deletionGrace)
	}
	if got := playerOf(t, w, P); got.DeletedAt == nil || !got.DeletedAt.Equal(*deleted.DeletedAt) {
		t.Fatalf("the deleted player reads %+v", got)
	}
	w.Do("GET", "/v1/identities/"+idA.ID, nil).Want(http.StatusNotFound, identityMissing)
	refused(t, svc, s.AccessToken)
	refreshWith(t, svc, s.RefreshToken).Want(http.StatusUnauthorized, refreshRefused)
	if got := playersListed(t, w, "game_id="+game); slices.Contains(got, P) {
		t.Fatalf("a deleted player is listed: %v", got)
	}
	if got := playersListed(t, w, "deleted=true"); !slices.Equal(got, []string{P}) {
		t.Fatalf("deleted players %v, want %s", got, P)
	}

	// Signing in with its device makes another player.
	_, again := deviceSession(t, svc, game, device)
	if again.ID == idA.ID || again.PlayerID == P {
		t.Fatalf("signing in after the deletion gave %+v", again)
	}
	w.Do("POST", "/v1/players/"+P+"/restore", nil).Want(http.StatusConflict, keyInUse)
	if got := playerOf(t, w, P); got.DeletedAt == nil {
		t.Fatal("a refused restore restored")
	}

	t.Run("restore", func(t *testing.T) {
		w := harness.Over(t, tenant.Client)
		r, idR := deviceSession(t, svc, game, newDevice())
		R := idR.PlayerID
		checkPlayer(t, w.Do("DELETE", "/v1/players/"+R, nil))
		back := checkPlayer(t, w.Do("POST", "/v1/players/"+R+"/restore", nil))
		if back.ID != R || back.DeletedAt != nil || back.PurgeAfter != nil || !slices.Equal(back.identityIDs(), []string{idR.ID}) {
			t.Fatalf("restored %+v", back)
		}
		if got := checkIdentity(t, w.Do("GET", "/v1/identities/"+idR.ID, nil), http.StatusOK); got.PlayerID != R {
			t.Fatalf("the restored identity is of %s", got.PlayerID)
		}
		// Sessions are not restored.
		refused(t, svc, r.AccessToken)
		refreshWith(t, svc, r.RefreshToken).Want(http.StatusUnauthorized, refreshRefused)
		if _, same := deviceSession(t, svc, game, idR.ExternalKey); same.ID != idR.ID || same.PlayerID != R {
			t.Fatalf("the restored device signs in as %+v", same)
		}
		if got := typesOf(eventsAbout(t, w, "subject_id="+R+"&type=player.*")); !slices.Equal(got, []string{"player.created", "player.deleted", "player.restored"}) {
			t.Fatalf("the restored player's events %v", got)
		}
	})

	t.Run("in-app", func(t *testing.T) {
		w := harness.Over(t, tenant.Client)
		c, idC := deviceSession(t, svc, game, newDevice())
		bearer(t, svc, c.AccessToken).Do("DELETE", "/v1/client/me/player", nil).Want(http.StatusPreconditionFailed, nonceRequired)
		own := checkPlayer(t, withNonce(t, svc, c.AccessToken).Do("DELETE", "/v1/client/me/player", nil))
		if own.ID != idC.PlayerID || own.DeletedAt == nil || own.PurgeAfter == nil || own.PurgeAfter.Sub(*own.DeletedAt) != deletionGrace {
			t.Fatalf("deleted in-app %+v", own)
		}
		w.Do("GET", "/v1/identities/"+idC.ID, nil).Want(http.StatusNotFound, identityMissing)
		refused(t, svc, c.AccessToken)
		if got := typesOf(eventsAbout(t, w, "subject_id="+own.ID+"&type=player.*")); !slices.Equal(got, []string{"player.created", "player.deleted"}) {
			t.Fatalf("the player's events %v", got)
		}
	})

	t.Run("identity", func(t *testing.T) {
		w := harness.Over(t, tenant.Client)
		x := newCustom(t, w, game, "Xena")
		w.Do("PATCH", "/v1/identities/"+x.ID, map[string]any{"deleted": true}).Want(http.StatusOK)
		w.Do("GET", "/v1/identities/"+x.ID, nil).Want(http.StatusNotFound, identityMissing)
		back := checkIdentity(t, w.Do("POST", "/v1/identities/"+x.ID+"/restore", nil), http.StatusOK)
		if back.ID != x.ID || back.PlayerID != x.PlayerID || back.ExternalKey != x.ExternalKey || back.DisplayName == nil || *back.DisplayName != "Xena" {
			t.Fatalf("restored %+v, was %+v", back, x)
		}
		checkIdentity(t, w.Do("GET", "/v1/identities/"+x.ID, nil), http.StatusOK)
		if got := typesOf(eventsAbout(t, w, "subject_id="+x.ID)); !slices.Equal(got, []string{"identity.created", "identity.deleted", "identity.restored"}) {
			t.Fatalf("the restored identity's events %v", got)
		}

		w.Do("PATCH", "/v1/identities/"+x.ID, map[string]any{"deleted": true}).Want(http.StatusOK)
		taken := checkIdentity(t, w.Do("POST", "/v1/identities", map[string]any{"game_id": game, "kind": "CUSTOM", "external_key": x.ExternalKey}), http.StatusCreated)
		w.Do("POST", "/v1/identities/"+x.ID+"/restore", nil).Want(http.StatusConflict, keyInUse)
		w.Do("GET", "/v1/identities/"+x.ID, nil).Want(http.StatusNotFound, identityMissing)
		checkIdentity(t, w.Do("GET", "/v1/identities/"+taken.ID, nil), http.StatusOK)
	})
}

// TestPlayerRestoreEndsWithTheGrace: past purge_after, purged yet or not,
// nothing comes back.
func TestPlayerRestoreEndsWithTheGrace(t *testing.T) {
	t.Parallel()
	clock := &shiftedClock{}
	svc := harness.StartService(t, harness.WithClock(clock.Now))
	tenant := harness.NewTenant(t, svc)
	w := harness.Over(t, tenant.Client)
	_, i := deviceSession(t, svc, tenant.Game.ID, newDevice())
	x := newCustom(t, w, tenant.Game.ID)
	checkPlayer(t, w.Do("DELETE", "/v1/players/"+i.PlayerID, nil))
	w.Do("PATCH", "/v1/identities/"+x.ID, map[string]any{"deleted": true}).Want(http.StatusOK)

	clock.Skip(deletionGrace + time.Minute)
	w.Do("POST", "/v1/players/"+i.PlayerID+"/restore", nil).Want(http.StatusNotFound, playerNotFound)
	w.Do("POST", "/v1/identities/"+x.ID+"/restore", nil).Want(http.StatusNotFound, identityMissing)
}

// TestPlayerErasure: erased at once, a player is a tombstone; its
// identities, sessions and personal data are gone; its events keep their
// IDs and types.
func TestPlayerErasure(t *testing.T) {
	t.Parallel()
	svc := harness.StartService(t)
	tenant := harness.NewTenant(t, svc)
	w := harness.Over(t, tenant.Client)
	game := tenant.Game.ID
	device, name := "Erasable-"+harness.Unique(), "Erin "+harness.Unique()
	s, idA := deviceSession(t, svc, game, device, name)
	P := idA.PlayerID
	k := newCustom(t, w, game, name)
	checkPlayer(t, w.Do("POST", "/v1/players/"+P+"/identities", map[string]any{"identity_id": k.ID, "merge": true}))
	ban := checkBan(t, w.Do("POST", "/v1/players/"+P+"/bans", map[string]any{"reason": "Spam"}), http.StatusCreated)
	checkBan(t, w.Do("PATCH", "/v1/players/"+P+"/bans/"+ban.ID, map[string]any{"lifted": true}), http.StatusOK)
	s2 := checkSignIn(t, w.Do("POST", "/v1/identity-sessions", map[string]any{"identity_id": idA.ID}))

	tombstone := func(a harness.Answer) {
		t.Helper()
		a.Want(http.StatusOK)
		wantKeys(t, a, tombstoneKeys...)
		purgedAt, err := time.Parse(time.RFC3339Nano, a.Str("purged_at"))
		if a.Str("id") != P || a.Str("account_id") != tenant.Account.ID || a.Str("game_id") != game || err != nil || purgedAt.IsZero() {
			t.Fatalf("tombstone %s", a.Body)
		}
	}
	tombstone(w.Do("DELETE", "/v1/players/"+P+"?erase=true", nil))
	tombstone(w.Do("GET", "/v1/players/"+P, nil))
	// Erasing again answers the tombstone.
	tombstone(w.Do("DELETE", "/v1/players/"+P+"?erase=true", nil))
	for _, i := range []string{idA.ID, k.ID} {
		w.Do("GET", "/v1/identities/"+i, nil).Want(http.StatusNotFound, identityMissing)
	}
	w.Do("POST", "/v1/players/"+P+"/restore", nil).Want(http.StatusNotFound, playerNotFound)
	refused(t, svc, s.AccessToken)
	refused(t, svc, s2.AccessToken)
	refreshWith(t, svc, s.RefreshToken).Want(http.StatusUnauthorized, refreshRefused)
	for _, q := range []string{"game_id=" + game, "deleted=true"} {
		if got := playersListed(t, w, q); slices.Contains(got, P) {
			t.Fatalf("a tombstone is listed by %s: %v", q, got)
		}
	}

	// The events keep their IDs and types, not the personal fields.
	for _, subject := range []string{P, idA.ID, k.ID, s.SessionID} {
		a := w.Do("GET", "/v1/events?limit=100&subject_id="+subject, nil).Want(http.StatusOK)
		if events := decode[client.Page[event]](t, a).Data; len(events) == 0 {
			t.Fatalf("the erasure removed the events of %s", subject)
		}
		for _, personal := range []string{device, strings.ToLower(device), name, k.ExternalKey} {
			if bytes.Contains(a.Body, []byte(personal)) {
				t.Fatalf("the events of %s still hold %q: %s", subject, personal, a.Body)
			}
		}
	}
	if got := typesOf(eventsAbout(t, w, "subject_id="+P)); !slices.Contains(got, "player.purged") {
		t.Fatalf("the erased player's events %v", got)
	}

	// The device is free again: a new player.
	if _, again := deviceSession(t, svc, game, device); again.ID == idA.ID || again.PlayerID == P {
		t.Fatalf("signing in after the erasure gave %+v", again)
	}
}

// TestPlayerExport: everything held about a player, and no secret.
func TestPlayerExport(t *testing.T) {
	t.Parallel()
	svc := harness.StartService(t)
	tenant := harness.NewTenant(t, svc)
	w := harness.Over(t, tenant.Client)
	game := tenant.Game.ID
	s, idA := deviceSession(t, svc, game, newDevice(), "Ada")
	P := idA.PlayerID
	unused := nonceOf(t, svc, s.AccessToken)
	linkNonce := nonceOf(t, svc, s.AccessToken)
	b := checkIdentity(t, bearer(t, svc, s.AccessToken, client.NonceHeader, linkNonce).
		Do("POST", "/v1/client/me/identities", map[string]any{"kind": "DEVICE", "external_key": newDevice()}), http.StatusCreated)
	k := newCustom(t, w, game)
	checkPlayer(t, w.Do("POST", "/v1/players/"+P+"/identities", map[string]any{"identity_id": k.ID, "merge": true}))
	// Soft-deleted, not purged: still held, so exported.
	w.Do("PATCH", "/v1/identities/"+k.ID, map[string]any{"deleted": true}).Want(http.StatusOK)
	studio := checkSignIn(t, w.Do("POST", "/v1/identity-sessions", map[string]any{"identity_id": idA.ID}))
	r := checkRefresh(t, refreshWith(t, svc, s.RefreshToken), s.SessionID)
	ban := checkBan(t, w.Do("POST", "/v1/players/"+P+"/bans", map[string]any{"reason": "Griefing"}), http.StatusCreated)
	checkBan(t, w.Do("PATCH", "/v1/players/"+P+"/bans/"+ban.ID, map[string]any{"lifted": true}), http.StatusOK)
	_, other := deviceSession(t, svc, game, newDevice())

	a := w.Do("GET", "/v1/players/"+P+"/export", nil).Want(http.StatusOK)
	body := string(a.Body)
	type withID struct {
		ID string `json:"id"`
	}
	exported := decode[struct {
		Player     playerResponse `json:"player"`
		Identities []withID       `json:"identities"`
		Bans       []withID       `json:"bans"`
		Sessions   []withID       `json:"sessions"`
		Events     []withID       `json:"events"`
	}](t, a)
	idsOf := func(list []withID) []string {
		var out []string
		for _, x := range list {
			out = append(out, x.ID)
		}
		slices.Sort(out)
		return out
	}
	var events []string
	for _, subject := range []string{P, idA.ID, b.ID, k.ID} {
		for _, e := range eventsAbout(t, w, "subject_id="+subject) {
			events = append(events, e.ID)
		}
	}
	for what, c := range map[string]struct{ got, want []string }{
		"player":     {[]string{exported.Player.ID}, []string{P}},
		"identities": {idsOf(exported.Identities), sorted(idA.ID, b.ID, k.ID)},
		"bans":       {idsOf(exported.Bans), []string{ban.ID}},
		"sessions":   {idsOf(exported.Sessions), sorted(s.SessionID, studio.SessionID)},
		"events":     {idsOf(exported.Events), sorted(events...)},
	} {
		if !slices.Equal(c.got, c.want) {
			t.Errorf("the export's %s: %v, want %v", what, c.got, c.want)
		}
	}
	held := map[string]string{"the player": P, "its identity": idA.ID, "its linked identity": b.ID, "its deleted identity": k.ID,
		"its deleted identity's key": k.ExternalKey, "its ban": ban.ID, "its session": s.SessionID, "its studio session": studio.SessionID}
	for _, subject := range []string{P, idA.ID, b.ID, k.ID} {
		for _, e := range eventsAbout(t, w, "subject_id="+subject) {
			held["event "+e.Type+" of "+subject] = e.ID
		}
	}
	for what, v := range held {
		if !strings.Contains(body, v) {
			t.Errorf("the export lacks %s (%s)", what, v)
		}
	}
	for what, secret := range map[string]string{"access token": s.AccessToken, "refresh token": s.RefreshToken,
		"refreshed access token": r.AccessToken, "refreshed refresh token": r.RefreshToken, "studio's access token": studio.AccessToken,
		"studio's refresh token": studio.RefreshToken, "unused nonce": unused, "used nonce": linkNonce, "API key": tenant.Key.Key,
		"superadmin key": svc.SuperadminKey} {
		if strings.Contains(body, secret) {
			t.Errorf("the export holds the %s", what)
		}
	}
	if strings.Contains(body, other.ID) || strings.Contains(body, other.PlayerID) {
		t.Error("the export holds another player")
	}
	if t.Failed() {
		t.Logf("the export: %s", body)
	}
}

// TestPlayerTenancy calls every player endpoint about tenant A's player as
// each kind of caller: no key, A's key, another tenant's key, a
// superadmin's key. Refusals change nothing.
func TestPlayerTenancy(t *testing.T) {
	t.Parallel()
	svc := harness.StartService(t)
	a, b := harness.NewTenant(t, svc), harness.NewTenant(t, svc)
	admin := svc.Admin()
	game := a.Game.ID
	const (
		denied      = "Access denied to the specified account"
		identDenied = "You do not have access to this identity's account"
	)
	// setup makes what one call acts on, in A, and returns its method, path
	// and body.
	type call struct {
		method, path string
		body         any
	}
	endpoints := []struct {
		name  string
		setup func(t *testing.T, aw harness.Wire) call
		other string // the 403 detail for another tenant
	}{
		{"list of A", func(*testing.T, harness.Wire) call { return call{"GET", "/v1/players?account_id=" + a.Account.ID, nil} }, denied},
		{"get", func(t *testing.T, aw harness.Wire) call {
			return call{"GET", "/v1/players/" + newCustom(t, aw, game).PlayerID, nil}
		}, playerDenied},
		{"get naming A", func(t *testing.T, aw harness.Wire) call {
			return call{"GET", "/v1/players/" + newCustom(t, aw, game).PlayerID + "?account_id=" + a.Account.ID, nil}
		}, denied},
		{"bans", func(t *testing.T, aw harness.Wire) call {
			return call{"GET", "/v1/players/" + newCustom(t, aw, game).PlayerID + "/bans", nil}
		}, playerDenied},
		{"ban", func(t *testing.T, aw harness.Wire) call {
			return call{"POST", "/v1/players/" + newCustom(t, aw, game).PlayerID + "/bans", map[string]any{"reason": "Cheating"}}
		}, playerDenied},
		{"lift", func(t *testing.T, aw harness.Wire) call {
			p := newCustom(t, aw, game).PlayerID
			ban := checkBan(t, aw.Do("POST", "/v1/players/"+p+"/bans", map[string]any{"reason": "Cheating"}), http.StatusCreated)
			return call{"PATCH", "/v1/players/" + p + "/bans/" + ban.ID, map[string]any{"lifted": true}}
		}, playerDenied},
		{"link", func(t *testing.T, aw harness.Wire) call {
			return call{"POST", "/v1/players/" + newCustom(t, aw, game).PlayerID + "/identities",
				map[string]any{"identity_id": newCustom(t, aw, game).ID, "merge": true}}
		}, playerDenied},
		{"unlink", func(t *testing.T, aw harness.Wire) call {
			x, y := newCustom(t, aw, game), newCustom(t, aw, game)
			checkPlayer(t, aw.Do("POST", "/v1/players/"+x.PlayerID+"/identities", map[string]any{"identity_id": y.ID, "merge": true}))
			return call{"DELETE", "/v1/players/" + x.PlayerID + "/identities/" + y.ID, nil}
		}, playerDenied},
		{"delete", func(t *testing.T, aw harness.Wire) call {
			return call{"DELETE", "/v1/players/" + newCustom(t, aw, game).PlayerID, nil}
		}, playerDenied},
		{"erase", func(t *testing.T, aw harness.Wire) call {
			return call{"DELETE", "/v1/players/" + newCustom(t, aw, game).PlayerID + "?erase=true", nil}
		}, playerDenied},
		{"restore", func(t *testing.T, aw harness.Wire) call {
			p := newCustom(t, aw, game).PlayerID
			checkPlayer(t, aw.Do("DELETE", "/v1/players/"+p, nil))
			return call{"POST", "/v1/players/" + p + "/restore", nil}
		}, playerDenied},
		{"export", func(t *testing.T, aw harness.Wire) call {
			return call{"GET", "/v1/players/" + newCustom(t, aw, game).PlayerID + "/export", nil}
		}, playerDenied},
		{"restore an identity", func(t *testing.T, aw harness.Wire) call {
			x := newCustom(t, aw, game)
			aw.Do("PATCH", "/v1/identities/"+x.ID, map[string]any{"deleted": true}).Want(http.StatusOK)
			return call{"POST", "/v1/identities/" + x.ID + "/restore", nil}
		}, identDenied},
	}
	callers := []struct {
		name   string
		client *client.Client
	}{
		{"no key", svc.Anonymous()},
		{"other tenant", b.Client},
		{"own key", a.Client},
		{"superadmin", admin},
	}
	for _, ep := range endpoints {
		for _, caller := range callers {
			t.Run(ep.name+"/"+caller.name, func(t *testing.T) {
				aw := harness.Over(t, a.Client)
				c := ep.setup(t, aw)
				// What A reads of the players it touches, before and after.
				state := func() string {
					t.Helper()
					var out []string
					for _, page := range []string{"", "&deleted=true"} {
						out = append(out, string(aw.Do("GET", "/v1/players?limit=100"+page, nil).Want(http.StatusOK).Body))
					}
					out = append(out, string(aw.Do("GET", "/v1/identities?limit=100", nil).Want(http.StatusOK).Body))
					return strings.Join(out, "\n")
				}
				before := state()
				ans := harness.Over(t, caller.client).Do(c.method, c.path, c.body)
				switch caller.name {
				case "no key":
					ans.Want(http.StatusUnauthorized, "API key required")
				case "other tenant":
					ans.Want(http.StatusForbidden, ep.other)
				default:
					if ans.Status < 200 || ans.Status > 299 {
						t.Fatalf("%s %s: status %d, want 2xx: %s", c.method, c.path, ans.Status, ans.Body)
					}
					return
				}
				if after := state(); after != before {
					t.Fatalf("a refused %s %s changed A's players or identities:\n%s\nwas\n%s", c.method, c.path, after, before)
				}
			})
		}
	}

	t.Run("unknown player", func(t *testing.T) {
		for _, c := range []*client.Client{a.Client, b.Client, admin} {
			w := harness.Over(t, c)
			w.Do("GET", "/v1/players/"+noPlayer, nil).Want(http.StatusNotFound, playerNotFound)
			w.Do("DELETE", "/v1/players/"+noPlayer, nil).Want(http.StatusNotFound, playerNotFound)
			w.Do("POST", "/v1/players/"+noPlayer+"/bans", map[string]any{"reason": "x"}).Want(http.StatusNotFound, playerNotFound)
		}
	})

	t.Run("identities stay in their tenant", func(t *testing.T) {
		aw := harness.Over(t, a.Client)
		// A cannot link B's identity: no such identity, as far as A knows.
		ofB := newCustom(t, harness.Over(t, b.Client), b.Game.ID)
		mine := newCustom(t, aw, game)
		aw.Do("POST", "/v1/players/"+mine.PlayerID+"/identities", map[string]any{"identity_id": ofB.ID, "merge": true}).
			Want(http.StatusNotFound, identityMissing)
		harness.Over(t, b.Client).Do("POST", "/v1/players/"+mine.PlayerID+"/identities", map[string]any{"identity_id": ofB.ID, "merge": true}).
			Want(http.StatusForbidden, playerDenied)
		if got := playerOf(t, harness.Over(t, b.Client), ofB.PlayerID).identityIDs(); !slices.Equal(got, []string{ofB.ID}) {
			t.Fatalf("B's player holds %v", got)
		}
	})

	t.Run("lists stay in their tenant", func(t *testing.T) {
		ofB := newCustom(t, harness.Over(t, b.Client), b.Game.ID)
		accountsOf := func(c *client.Client, query string) map[string]bool {
			t.Helper()
			page := decode[client.Page[playerResponse]](t, harness.Over(t, c).Do("GET", "/v1/players?limit=100&"+query, nil).Want(http.StatusOK))
			seen := map[string]bool{}
			for _, p := range page.Data {
				seen[p.AccountID] = true
			}
			return seen
		}
		if got := accountsOf(b.Client, ""); len(got) != 1 || !got[b.Account.ID] {
			t.Fatalf("B lists players of accounts %v", got)
		}
		if got := playersListed(t, harness.Over(t, b.Client), "kind=CUSTOM&external_key="+ofB.ExternalKey); !slices.Equal(got, []string{ofB.PlayerID}) {
			t.Fatalf("B finds %v by its identity's key, want %s", got, ofB.PlayerID)
		}
		if got := accountsOf(admin, ""); !got[a.Account.ID] || !got[b.Account.ID] {
			t.Fatalf("the superadmin's players are of %v", got)
		}
		if got := accountsOf(admin, "account_id="+b.Account.ID); len(got) != 1 || !got[b.Account.ID] {
			t.Fatalf("the superadmin's players of B are of %v", got)
		}
	})

	t.Run("tokens and keys are not interchangeable", func(t *testing.T) {
		aw := harness.Over(t, a.Client)
		s, i := deviceSession(t, svc, game, newDevice())
		harness.Over(t, svc.Bearer(s.AccessToken)).Do("GET", "/v1/players/"+i.PlayerID, nil).Want(http.StatusUnauthorized, "API key required")
		for _, ep := range []struct {
			method, path string
			body         any
		}{
			{"POST", "/v1/client/me/identities", map[string]any{"kind": "DEVICE", "external_key": newDevice()}},
			{"DELETE", "/v1/client/me/identities/" + i.ID, nil},
			{"DELETE", "/v1/client/me/player", nil},
		} {
			for _, key := range []string{a.Key.Key, svc.SuperadminKey} {
				wantBearerRefused(t, harness.Over(t, svc.Client(key)).Do(ep.method, ep.path, ep.body), accessRequired)
			}
			wantBearerRefused(t, harness.Over(t, svc.Anonymous()).Do(ep.method, ep.path, ep.body), accessRequired)
		}
		checkPlayer(t, aw.Do("GET", "/v1/players/"+i.PlayerID, nil))
	})
}

// TestPlayerErasureLeavesNothingInTheDatabase is the proof of an erasure:
// after a player with several credentials, names, sessions, nonces and a
// ban is erased, a dump of the whole database (pg_dump --data-only on
// PostgreSQL; every row of every table on SQLite) holds none of its
// external keys or display names, in any case, nor its identities or
// sessions; it holds the tombstone, and another player's data as it was.
func TestPlayerErasureLeavesNothingInTheDatabase(t *testing.T) {
	t.Parallel()
	svc := harness.StartService(t)
	tenant := harness.NewTenant(t, svc)
	w := harness.Over(t, tenant.Client)
	game := tenant.Game.ID
	u := harness.Unique()
	digits, err := rand.Int(rand.Reader, big.NewInt(1e10))
	if err != nil {
		t.Fatal(err)
	}
	var (
		deviceKey               = "Erasure-Device-" + u
		linkedKey               = "Erasure-Linked-" + u
		customKey               = "Erasure-Custom-" + u
		steamKey                = fmt.Sprintf("7656119%010d", digits)
		names                   = []string{"Zelda Erasure " + u, "Zelda Renamed " + u, "Zoë Erasure ✓ " + u, "Zelda Custom " + u, "Zelda Steam " + u}
		controlKey, controlName = "Control-Device-" + u, "Control Name " + u
	)

	s, idA := deviceSession(t, svc, game, deviceKey, names[0])
	P := idA.PlayerID
	checkIdentity(t, withNonce(t, svc, s.AccessToken).Do("PATCH", "/v1/client/me", map[string]any{"display_name": names[1]}), http.StatusOK)
	checkIdentity(t, w.Do("PATCH", "/v1/identities/"+idA.ID, map[string]any{"display_name": names[2]}), http.StatusOK)
	linked := checkIdentity(t, withNonce(t, svc, s.AccessToken).Do("POST", "/v1/client/me/identities",
		map[string]any{"kind": "DEVICE", "external_key": linkedKey}), http.StatusCreated)
	custom := checkIdentity(t, w.Do("POST", "/v1/identities",
		map[string]any{"game_id": game, "kind": "CUSTOM", "external_key": customKey, "display_name": names[3]}), http.StatusCreated)
	steam := checkIdentity(t, w.Do("POST", "/v1/identities",
		map[string]any{"game_id": game, "kind": "STEAM", "external_key": steamKey, "display_name": names[4]}), http.StatusCreated)
	for _, i := range []playerIdentity{custom, steam} {
		checkPlayer(t, w.Do("POST", "/v1/players/"+P+"/identities", map[string]any{"identity_id": i.ID, "merge": true}))
	}
	studio := checkSignIn(t, w.Do("POST", "/v1/identity-sessions", map[string]any{"identity_id": custom.ID}))
	checkRefresh(t, refreshWith(t, svc, s.RefreshToken), s.SessionID)
	nonceOf(t, svc, s.AccessToken) // one left unused
	ban := checkBan(t, w.Do("POST", "/v1/players/"+P+"/bans", map[string]any{"reason": "Erasure test"}), http.StatusCreated)
	checkBan(t, w.Do("PATCH", "/v1/players/"+P+"/bans/"+ban.ID, map[string]any{"lifted": true}), http.StatusOK)
	after, _ := deviceSession(t, svc, game, deviceKey) // a session after the ban, with its own tokens
	deviceSession(t, svc, game, controlKey, controlName)

	w.Do("DELETE", "/v1/players/"+P+"?erase=true", nil).Want(http.StatusOK)
	rows := databaseRows(t, svc.DatabaseURL)

	var all strings.Builder
	for table, rs := range rows {
		all.WriteString(table + "\n" + strings.Join(rs, "\n") + "\n")
	}
	dump := all.String()
	for _, personal := range append([]string{deviceKey, linkedKey, customKey, steamKey}, names...) {
		for _, form := range []string{personal, strings.ToLower(personal)} {
			if strings.Contains(dump, form) {
				t.Errorf("the database still holds %q, in %v", form, tablesHolding(rows, form))
			}
		}
	}
	for _, gone := range []struct{ table, id string }{
		{"identities", idA.ID}, {"identities", linked.ID}, {"identities", custom.ID}, {"identities", steam.ID},
		{"sessions", s.SessionID}, {"sessions", studio.SessionID}, {"sessions", after.SessionID},
		{"session_refresh_tokens", s.SessionID}, {"session_refresh_tokens", studio.SessionID}, {"session_refresh_tokens", after.SessionID},
		{"session_nonces", s.SessionID}, {"bans", P}, {"bans", ban.ID},
	} {
		for _, r := range rows[gone.table] {
			if strings.Contains(r, uuidOf(gone.id)) {
				t.Errorf("%s still holds a row of %s: %s", gone.table, gone.id, r)
			}
		}
	}
	if !slices.ContainsFunc(rows["players"], func(r string) bool { return strings.Contains(r, uuidOf(P)) }) {
		t.Errorf("the players table holds no tombstone of %s", P)
	}
	for _, kept := range []string{controlKey, controlName} {
		if !strings.Contains(dump, kept) {
			t.Errorf("the dump lacks another player's %q: it does not show the database", kept)
		}
	}
}

// tablesHolding are the tables with a row holding s.
func tablesHolding(rows map[string][]string, s string) []string {
	var out []string
	for table, rs := range rows {
		if slices.ContainsFunc(rs, func(r string) bool { return strings.Contains(r, s) }) {
			out = append(out, table)
		}
	}
	slices.Sort(out)
	return out
}

// databaseRows is every row of every table of the service's database, as
// text, by table: on PostgreSQL, as pg_dump --data-only writes them (what a
// backup holds); on SQLite, read through SQL.
func databaseRows(t *testing.T, dbURL string) map[string][]string {
	t.Helper()
	if _, ok := store.SQLiteFile(dbURL); ok {
		return sqliteRows(t, dbURL)
	}
	return copyRows(t, pgDump(t, dbURL))
}

// pgDump is `pg_dump --data-only` of the database at dbURL (a service's
// LEADR_DATABASE_URL; behind PgBouncer, PostgreSQL itself at its direct
// address, without the service's own parameters).
func pgDump(t *testing.T, dbURL string) string {
	t.Helper()
	bin, err := exec.LookPath("pg_dump")
	if err != nil {
		pgtest.Missing(t, "pg_dump is not installed (Debian: apt-get install postgresql-client-15): the proof of an erasure cannot dump the database")
	}
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if direct := q.Get("direct"); direct != "" {
		u.Host, _, _ = strings.Cut(direct, ",")
	}
	q.Del("pooler")
	q.Del("direct")
	u.RawQuery = q.Encode()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, "--data-only", "--no-owner", "--no-privileges", "--dbname="+u.String())
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if strings.Contains(stderr.String(), "server version mismatch") {
			pgtest.Missing(t, "pg_dump is older than the tests' PostgreSQL: "+strings.TrimSpace(stderr.String()))
		}
		t.Fatalf("pg_dump: %v: %s", err, stderr.String())
	}
	if stdout.Len() == 0 {
		t.Fatal("pg_dump wrote nothing")
	}
	return stdout.String()
}

// copyRows splits a plain pg_dump into the rows of each table: the lines
// between "COPY public.<table> (…) FROM stdin;" and "\.".
func copyRows(t *testing.T, dump string) map[string][]string {
	t.Helper()
	rows := map[string][]string{}
	table := ""
	for line := range strings.Lines(dump) {
		line = strings.TrimSuffix(line, "\n")
		switch {
		case table == "" && strings.HasPrefix(line, "COPY "):
			name, _, _ := strings.Cut(strings.TrimPrefix(line, "COPY "), " ")
			table = strings.Trim(strings.TrimPrefix(name, "public."), `"`)
			rows[table] = rows[table][:0:0]
		case table != "" && line == `\.`:
			table = ""
		case table != "":
			rows[table] = append(rows[table], line)
		}
	}
	if len(rows["players"]) == 0 || len(rows["identities"]) == 0 {
		t.Fatalf("the dump holds no players or no identities: %.2000s", dump)
	}
	// What lies outside the tables' data (sequences' values, comments)
	// holds no row, but is searched too.
	rows[""] = []string{dump}
	return rows
}

// sqliteRows reads every row of every table of an SQLite database.
func sqliteRows(t *testing.T, dbURL string) map[string][]string {
	t.Helper()
	db, err := store.Open(dbURL, store.PoolOptions{MaxOpenConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var tables []string
	if err := db.Bun().NewRaw("SELECT name FROM sqlite_master WHERE type = 'table'").Scan(t.Context(), &tables); err != nil {
		t.Fatal(err)
	}
	rows := map[string][]string{}
	for _, table := range tables {
		rs, err := db.Bun().QueryContext(t.Context(), `SELECT * FROM "`+strings.ReplaceAll(table, `"`, `""`)+`"`)
		if err != nil {
			t.Fatalf("%s: %v", table, err)
		}
		cols, err := rs.Columns()
		if err != nil {
			t.Fatal(err)
		}
		for rs.Next() {
			vals := make([]sql.NullString, len(cols))
			dest := make([]any, len(cols))
			for i := range vals {
				dest[i] = &vals[i]
			}
			if err := rs.Scan(dest...); err != nil {
				t.Fatalf("%s: %v", table, err)
			}
			var fields []string
			for _, v := range vals {
				fields = append(fields, v.String)
			}
			rows[table] = append(rows[table], strings.Join(fields, "\t"))
		}
		if err := rs.Err(); err != nil {
			t.Fatal(err)
		}
		rs.Close()
	}
	if len(rows["players"]) == 0 || len(rows["identities"]) == 0 {
		t.Fatalf("the database holds no players or no identities: tables %v", tables)
	}
	return rows
}
