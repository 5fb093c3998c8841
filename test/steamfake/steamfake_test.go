package steamfake_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/leadr-oss/identity/test/steamfake"
)

const endpoint = "/ISteamUserAuth/AuthenticateUserTicket/v1/"

func get(t *testing.T, ctx context.Context, base string, q url.Values) (int, string, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+endpoint+"?"+q.Encode(), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type"), string(body)
}

// query asks as the service does, with the identity tickets are made for.
func query(appID, key, ticket string) url.Values {
	return url.Values{"appid": {appID}, "key": {key}, "ticket": {ticket}, "identity": {steamfake.DefaultIdentity}}
}

func withIdentity(q url.Values, identity string) url.Values {
	q.Set("identity", identity)
	return q
}

func withoutIdentity(q url.Values) url.Values {
	q.Del("identity")
	return q
}

func TestAnswersLikeSteam(t *testing.T) {
	t.Parallel()
	f := steamfake.New(t)
	f.ExpectKey("480", "K")
	f.Ticket("ABCD", steamfake.Player{SteamID: steamfake.SteamID64(1), OwnerSteamID: steamfake.SteamID64(2), VACBanned: true})
	f.Ticket("beef", steamfake.Player{SteamID: steamfake.SteamID64(3), Result: "Invalid"})
	f.Refuse("dead", 3)
	f.Raw("f00d", `{"response":`)
	f.TicketFor("other-backend", "cafe", steamfake.Player{SteamID: steamfake.SteamID64(4)})
	f.TicketFor("", "b0b0", steamfake.Player{SteamID: steamfake.SteamID64(5)}) // a session ticket

	tests := []struct {
		name   string
		q      url.Values
		status int
		body   string // JSON compared semantically, or a substring of HTML
	}{
		{"vouched, ticket case ignored", query("480", "K", "abcd"), 200,
			`{"response":{"params":{"result":"OK","steamid":"76561197960265729","ownersteamid":"76561197960265730","vacbanned":true,"publisherbanned":false}}}`},
		{"result other than OK", query("480", "K", "beef"), 200,
			`{"response":{"params":{"result":"Invalid","steamid":"76561197960265731","ownersteamid":"76561197960265731","vacbanned":false,"publisherbanned":false}}}`},
		{"refused", query("480", "K", "dead"), 200, `{"response":{"error":{"errorcode":3,"errordesc":"Invalid parameter"}}}`},
		{"unknown ticket", query("480", "K", "0000"), 200, invalidTicket},
		{"raw", query("480", "K", "f00d"), 200, `{"response":`},
		{"without the identity it was made for", withoutIdentity(query("480", "K", "abcd")), 200, invalidTicket},
		{"with another identity", withIdentity(query("480", "K", "abcd"), "other-backend"), 200, invalidTicket},
		{"made for another identity", query("480", "K", "cafe"), 200, invalidTicket},
		{"with the identity it was made for", withIdentity(query("480", "K", "cafe"), "other-backend"), 200,
			`{"response":{"params":{"result":"OK","steamid":"76561197960265732","ownersteamid":"76561197960265732","vacbanned":false,"publisherbanned":false}}}`},
		{"session ticket with an identity", query("480", "K", "b0b0"), 200, invalidTicket},
		{"session ticket without one", withoutIdentity(query("480", "K", "b0b0")), 200,
			`{"response":{"params":{"result":"OK","steamid":"76561197960265733","ownersteamid":"76561197960265733","vacbanned":false,"publisherbanned":false}}}`},
		{"wrong key", query("480", "X", "abcd"), 403, "Forbidden"},
		{"no key", url.Values{"appid": {"480"}, "ticket": {"abcd"}}, 403, "Forbidden"},
		{"key of another app", query("570", "K", "abcd"), 403, "Forbidden"},
		{"no ticket", url.Values{"appid": {"480"}, "key": {"K"}}, 400, "ticket"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, ctype, body := get(t, t.Context(), f.URL(), tt.q)
			if status != tt.status {
				t.Fatalf("status %d, want %d (%s)", status, tt.status, body)
			}
			if status != 200 || tt.name == "raw" {
				if !strings.Contains(body, tt.body) {
					t.Errorf("body %q, want it to hold %q", body, tt.body)
				}
				return
			}
			if !strings.HasPrefix(ctype, "application/json") {
				t.Errorf("Content-Type %q", ctype)
			}
			var got, want any
			if err := json.Unmarshal([]byte(body), &got); err != nil {
				t.Fatalf("body %q: %v", body, err)
			}
			_ = json.Unmarshal([]byte(tt.body), &want)
			if g, w := mustJSON(got), mustJSON(want); g != w {
				t.Errorf("body %s, want %s", g, w)
			}
		})
	}

	if got := f.Requests(); len(got) != len(tests) || got[0] != (steamfake.Request{AppID: "480", Key: "K", Ticket: "abcd", Identity: "leadr"}) {
		t.Errorf("Requests() = %+v", got)
	}
}

// invalidTicket is Steam's answer to a ticket it does not vouch for.
const invalidTicket = `{"response":{"error":{"errorcode":101,"errordesc":"Invalid ticket"}}}`

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestAnyKeyUntilExpectKey(t *testing.T) {
	t.Parallel()
	f := steamfake.New(t)
	f.Ticket("abcd", steamfake.Player{SteamID: steamfake.SteamID64(1)})
	if status, _, body := get(t, t.Context(), f.URL(), query("1", "whatever", "abcd")); status != 200 {
		t.Errorf("status %d (%s), want 200 for any key", status, body)
	}
	if status, _, _ := get(t, t.Context(), f.URL(), query("1", "", "abcd")); status != 403 {
		t.Errorf("status %d, want 403 without a key", status)
	}
	// The key may also come in Steam's x-webapi-key header.
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, f.URL()+endpoint+"?appid=1&ticket=abcd", nil)
	req.Header.Set("x-webapi-key", "whatever")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("status %d with the key in x-webapi-key", resp.StatusCode)
	}
}

func TestFailAndSlow(t *testing.T) {
	t.Parallel()
	f := steamfake.New(t)
	f.Ticket("abcd", steamfake.Player{SteamID: steamfake.SteamID64(1)})

	f.Fail(http.StatusBadGateway)
	if status, _, _ := get(t, t.Context(), f.URL(), query("1", "k", "abcd")); status != http.StatusBadGateway {
		t.Errorf("status %d, want 502", status)
	}
	f.Fail(0)

	f.Slow(150 * time.Millisecond)
	start := time.Now()
	if status, _, _ := get(t, t.Context(), f.URL(), query("1", "k", "abcd")); status != 200 {
		t.Errorf("status %d, want 200", status)
	}
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Errorf("answered after %v, want at least 150ms", d)
	}

	// A client that gives up is not held.
	f.Slow(time.Hour)
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, f.URL()+endpoint+"?"+query("1", "k", "abcd").Encode(), nil)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Error("a slow answer arrived before the client's deadline")
	}
	// Cleanup must not wait an hour for that handler: the test's own
	// duration shows it.
}

func TestRoutes(t *testing.T) {
	t.Parallel()
	f := steamfake.New(t)
	for path, want := range map[string]int{
		"/ISteamUserAuth/AuthenticateUserTicket/v0001/": 200, // ticket unknown: still a 200 with an error
		"/ISteamUserAuth/AuthenticateUserTicket/v1":     200,
		"/ISteamUser/GetPlayerSummaries/v2/":            404,
	} {
		resp, err := http.Get(f.URL() + path + "?" + query("1", "k", "abcd").Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("%s: status %d, want %d", path, resp.StatusCode, want)
		}
	}
	resp, err := http.Post(f.URL()+endpoint, "application/x-www-form-urlencoded", strings.NewReader(query("1", "k", "abcd").Encode()))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: status %d, want 405", resp.StatusCode)
	}
}

func TestSteamID64(t *testing.T) {
	t.Parallel()
	if got := steamfake.SteamID64(22202); got != "76561197960287930" {
		t.Errorf("SteamID64(22202) = %s", got)
	}
}
