package acceptance

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/leadr-oss/identity/client"
	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/test/harness"
)

// event is an EventResponse as received.
type event struct {
	ID         string `json:"id"`
	Type       string `json:"type"`
	AccountID  string `json:"account_id"`
	OccurredAt string `json:"occurred_at"`
	Actor      struct {
		Type string  `json:"type"`
		ID   *string `json:"id"`
	} `json:"actor"`
	Subject struct {
		Type string `json:"type"`
		ID   string `json:"id"`
	} `json:"subject"`
	Data map[string]any `json:"data"`
}

type feedPage struct {
	Data      []event `json:"data"`
	NextAfter *string `json:"next_after"`
}

// followFeed reads the feed as a client does, from the start, with query
// (such as "account_id=…"), until it has read the newest event the audit
// log shows (the feed serves an event once every transaction that began
// before it ended, and other tests' are running): it returns what it read
// and the raw pages.
func followFeed(t *testing.T, c *client.Client, query string) ([]event, string) {
	t.Helper()
	newest := decode[client.Page[event]](t, harness.Over(t, c).Do("GET", "/v1/events?limit=1&sort=occurred_at:desc,id:desc&"+query, nil).Want(http.StatusOK))
	if len(newest.Data) == 0 {
		t.Fatal("no event to follow the feed to")
	}
	var all []event
	var raw strings.Builder
	after := ""
	deadline := time.Now().Add(10 * time.Second)
	for reached := false; ; {
		if time.Now().After(deadline) {
			t.Fatalf("the feed did not reach the newest event %s within 10 s", newest.Data[0].ID)
		}
		q := query + "&limit=3"
		if after != "" {
			q += "&after=" + after
		}
		a := harness.Over(t, c).Do("GET", "/v1/events/feed?"+q, nil).Want(http.StatusOK)
		raw.Write(a.Body)
		page := decode[feedPage](t, a)
		if len(page.Data) == 0 {
			if after != "" && (page.NextAfter == nil || *page.NextAfter != after) {
				t.Fatalf("an empty page's next_after is %v, want the after sent, %s", page.NextAfter, after)
			}
			if reached {
				return all, raw.String()
			}
			time.Sleep(10 * time.Millisecond)
			continue
		}
		reached = reached || slices.ContainsFunc(page.Data, func(e event) bool { return e.ID == newest.Data[0].ID })
		if page.NextAfter == nil || *page.NextAfter != page.Data[len(page.Data)-1].ID {
			t.Fatalf("next_after %v is not the page's last event", page.NextAfter)
		}
		all = append(all, page.Data...)
		after = *page.NextAfter
	}
}

func ofSubject(events []event, subject string) []string {
	var types []string
	for _, e := range events {
		if e.Subject.ID == subject {
			types = append(types, e.Type)
		}
	}
	return types
}

// TestEventsSayWhoChangedWhat: every change records its event, with who
// made it and what changed; each tenant reads its own.
func TestEventsSayWhoChangedWhat(t *testing.T) {
	t.Parallel()
	svc := harness.StartService(t)
	tenant := harness.NewTenant(t, svc)
	other := harness.NewTenant(t, svc)
	w := harness.Over(t, tenant.Client)

	i := harness.NewIdentity(t, tenant.Client, client.CreateIdentityRequest{GameID: tenant.Game.ID, Kind: client.KindCustom, ExternalKey: "c-" + harness.Unique(), DisplayName: ptr("Ada")})
	w.Do("PATCH", "/v1/identities/"+i.ID, map[string]any{"display_name": "Ada L."}).Want(http.StatusOK)
	studio := checkSignIn(t, w.Do("POST", "/v1/identity-sessions", map[string]any{"identity_id": i.ID}))
	w.Do("PATCH", "/v1/identities/"+i.ID, map[string]any{"deleted": true}).Want(http.StatusOK)
	player := deviceSignIn(t, svc, tenant.Game.ID, newDevice())

	events, raw := followFeed(t, tenant.Client, "")
	if got, want := ofSubject(events, i.ID), []string{"identity.created", "identity.updated", "identity.deleted"}; !slices.Equal(got, want) {
		t.Fatalf("the identity's events: %v, want %v", got, want)
	}
	if got, want := ofSubject(events, studio.SessionID), []string{"session.created", "session.revoked"}; !slices.Equal(got, want) {
		t.Fatalf("the studio session's events: %v, want %v (revoked with its identity)", got, want)
	}
	if got, want := ofSubject(events, player.SessionID), []string{"session.created"}; !slices.Equal(got, want) {
		t.Fatalf("the player's session's events: %v, want %v", got, want)
	}
	for _, e := range events {
		if e.AccountID != tenant.Account.ID || !strings.HasPrefix(e.ID, "evt_") || e.OccurredAt == "" || e.Data == nil {
			t.Fatalf("event %+v", e)
		}
		switch {
		case e.Subject.ID == i.ID || e.Subject.ID == studio.SessionID:
			if e.Actor.Type != "api_key" || e.Actor.ID == nil || *e.Actor.ID != tenant.Key.ID {
				t.Errorf("%s of %s made by %s %v, want the tenant's key", e.Type, e.Subject.ID, e.Actor.Type, e.Actor.ID)
			}
		case e.Subject.ID == player.SessionID || e.Subject.ID == player.Identity.ID:
			// A sign-in acts as the session it starts.
			if e.Actor.Type != "session" || e.Actor.ID == nil || *e.Actor.ID != player.SessionID {
				t.Errorf("%s of %s made by %s %v, want the sign-in's session", e.Type, e.Subject.ID, e.Actor.Type, e.Actor.ID)
			}
		}
		if e.Type == "identity.updated" {
			changes, _ := json.Marshal(e.Data["changes"])
			if string(changes) != `{"display_name":["Ada","Ada L."]}` || e.Data["display_name"] != "Ada L." || e.Data["id"] != i.ID {
				t.Errorf("identity.updated data %v", e.Data)
			}
		}
	}
	for what, secret := range map[string]string{"API key": tenant.Key.Key, "access token": studio.AccessToken,
		"refresh token": studio.RefreshToken, "player's refresh token": player.RefreshToken} {
		if strings.Contains(raw, secret) {
			t.Errorf("the feed holds the %s", what)
		}
	}

	// The audit log: filtered, newest first; another tenant sees none of it.
	log := decode[client.Page[event]](t, w.Do("GET", "/v1/events?subject_id="+i.ID+"&type=identity.*", nil).Want(http.StatusOK))
	if len(log.Data) != 3 || log.Data[0].Type != "identity.deleted" || log.Data[2].Type != "identity.created" {
		t.Fatalf("the identity's audit log: %+v", log.Data)
	}
	byKey := decode[client.Page[event]](t, w.Do("GET", "/v1/events?actor_id="+tenant.Key.ID+"&limit=100", nil).Want(http.StatusOK))
	if len(byKey.Data) < 5 || slices.ContainsFunc(byKey.Data, func(e event) bool { return *e.Actor.ID != tenant.Key.ID }) {
		t.Fatalf("the key's own events: %d", len(byKey.Data))
	}
	theirs, _ := followFeed(t, other.Client, "")
	if slices.ContainsFunc(theirs, func(e event) bool { return e.AccountID != other.Account.ID }) {
		t.Fatal("another tenant's feed holds this one's events")
	}
	harness.Over(t, other.Client).Do("GET", "/v1/events?account_id="+tenant.Account.ID, nil).Want(http.StatusForbidden)
	harness.Over(t, other.Client).Do("GET", "/v1/events/feed?after="+events[0].ID, nil).Want(http.StatusNotFound, "Event not found")
	if all, _ := followFeed(t, svc.Admin(), "account_id="+tenant.Account.ID); len(all) != len(events) {
		t.Fatalf("a superadmin reads %d of the account's events, its own key %d", len(all), len(events))
	}
}

// TestEventFeedAnswers: the feed's bounds and positions.
func TestEventFeedAnswers(t *testing.T) {
	t.Parallel()
	svc := harness.StartService(t)
	tenant := harness.NewTenant(t, svc)
	w := harness.Over(t, tenant.Client)

	none := decode[feedPage](t, w.Do("GET", "/v1/events/feed?type=unheard_of.*", nil).Want(http.StatusOK))
	if len(none.Data) != 0 || none.NextAfter != nil {
		t.Fatalf("a feed that never saw an event: %+v, want no next_after", none)
	}
	w.Do("GET", "/v1/events/feed?limit=0", nil).Problem("greater_than_equal", "query", "limit")
	w.Do("GET", "/v1/events/feed?limit=1001", nil).Problem("less_than_equal", "query", "limit")
	w.Do("GET", "/v1/events/feed?after=ide_"+strings.Repeat("0", 8)+"-0000-7000-8000-000000000001", nil).Want(http.StatusUnprocessableEntity)
	w.Do("GET", "/v1/events/feed?type="+url.QueryEscape("Identity Created"), nil).Want(http.StatusUnprocessableEntity)
	// A position of 2020 is older than any kept.
	w.Do("GET", "/v1/events/feed?after=evt_016f5e66-e800-7000-8000-000000000000", nil).Want(http.StatusGone, "Event feed position expired")
	// An event ID of now that names no event (a random one is of a random
	// time: one in a few hundred is older than the retention, and 410).
	w.Do("GET", "/v1/events/feed?after="+id.New[id.Event]().String(), nil).Want(http.StatusNotFound, "Event not found")
	// The feed serves an event once every transaction of the server that
	// began before it has ended (other tests' and their dispatchers'
	// included): poll for the first.
	var full feedPage
	for deadline := time.Now().Add(10 * time.Second); len(full.Data) == 0 && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		full = decode[feedPage](t, w.Do("GET", "/v1/events/feed?limit=1000", nil).Want(http.StatusOK))
	}
	if len(full.Data) == 0 || full.Data[0].Type != "account.created" {
		t.Fatalf("the tenant's feed begins with %+v", full.Data)
	}
}
