package steam_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/leadr-oss/identity/adapters/steam"
	"github.com/leadr-oss/identity/domain"
	"github.com/leadr-oss/identity/domain/session"
	"github.com/leadr-oss/identity/ports"
	"github.com/leadr-oss/identity/test/steamfake"
)

const (
	appID = "480"
	// Distinctive enough that finding it in an error text is no accident.
	key    = "0A1B2C3D4E5F60718293A4B5C6D7E8F9"
	ticket = "14000000deadbeefcafef00d0123456789abcdef"
)

// short keeps the slow cases fast; production uses DefaultTimeout.
const short = 100 * time.Millisecond

func setup(t *testing.T) (*steamfake.Server, *steam.Client) {
	t.Helper()
	fake := steamfake.New(t)
	fake.ExpectKey(appID, key)
	c := steam.New(fake.URL(), steamfake.DefaultIdentity, short, nil)
	return fake, c
}

func TestAuthenticateSuccess(t *testing.T) {
	t.Parallel()
	fake, c := setup(t)
	player, owner := steamfake.SteamID64(1001), steamfake.SteamID64(2002)
	fake.Ticket(ticket, steamfake.Player{SteamID: player, OwnerSteamID: owner, VACBanned: true, PublisherBanned: true})

	got, err := c.Authenticate(t.Context(), appID, key, ticket)
	if err != nil {
		t.Fatalf("Authenticate: %v", err)
	}
	want := ports.SteamPlayer{SteamID: player, OwnerSteamID: owner, VACBanned: true, PublisherBanned: true}
	if got != want {
		t.Errorf("Authenticate = %+v, want %+v", got, want)
	}

	reqs := fake.Requests()
	if len(reqs) != 1 || reqs[0] != (steamfake.Request{AppID: appID, Key: key, Ticket: ticket, Identity: steamfake.DefaultIdentity}) {
		t.Errorf("Steam received %+v, want one request for app %s with the key, ticket and identity", reqs, appID)
	}
}

// TestTicketsAreBoundToTheIdentity: a ticket the game made for another
// party (a session ticket for a game server or a peer, or a Web API ticket
// for another backend of a game with the same app ID), which that party
// could replay here, is refused as an invalid ticket; only one made for
// the client's identity is vouched for.
func TestTicketsAreBoundToTheIdentity(t *testing.T) {
	t.Parallel()
	fake, c := setup(t)
	mine, peers, backends := "aaaa", "bbbb", "cccc"
	fake.Ticket(mine, steamfake.Player{SteamID: steamfake.SteamID64(1)})
	fake.TicketFor("", peers, steamfake.Player{SteamID: steamfake.SteamID64(2)})
	fake.TicketFor("another-backend", backends, steamfake.Player{SteamID: steamfake.SteamID64(3)})

	if got, err := c.Authenticate(t.Context(), appID, key, mine); err != nil || got.SteamID != steamfake.SteamID64(1) {
		t.Errorf("a ticket made for %q: %+v, %v; want its player", steamfake.DefaultIdentity, got, err)
	}
	for what, tk := range map[string]string{"a session ticket": peers, "another identity's ticket": backends} {
		_, err := c.Authenticate(t.Context(), appID, key, tk)
		if !errors.Is(err, session.ErrSteamTicketInvalid) || domain.CategoryOf(err) != domain.CategoryUnauthenticated {
			t.Errorf("%s: err = %v, want ErrSteamTicketInvalid (401)", what, err)
		}
	}
	for _, r := range fake.Requests() {
		if r.Identity != steamfake.DefaultIdentity {
			t.Errorf("a request named identity %q, want %q", r.Identity, steamfake.DefaultIdentity)
		}
	}
}

func TestAuthenticateNotBorrowed(t *testing.T) {
	t.Parallel()
	fake, c := setup(t)
	player := steamfake.SteamID64(7)
	fake.Ticket(ticket, steamfake.Player{SteamID: player})

	got, err := c.Authenticate(t.Context(), appID, key, ticket)
	if err != nil {
		t.Fatalf("Authenticate: %v", err)
	}
	// Steam names the player as the owner of a game that is not borrowed.
	if want := (ports.SteamPlayer{SteamID: player, OwnerSteamID: player}); got != want {
		t.Errorf("Authenticate = %+v, want %+v", got, want)
	}
}

func TestAuthenticateRefusedTicket(t *testing.T) {
	t.Parallel()
	fake, c := setup(t)
	fake.Refuse("aaaa", 101)
	fake.Refuse("bbbb", 3)
	fake.Ticket("cccc", steamfake.Player{SteamID: steamfake.SteamID64(1), Result: "Invalid"})

	for _, tk := range []string{"aaaa", "bbbb", "cccc", "dddd" /* never registered */} {
		_, err := c.Authenticate(t.Context(), appID, key, tk)
		if !errors.Is(err, session.ErrSteamTicketInvalid) || errors.Is(err, session.ErrSteamUnavailable) {
			t.Errorf("ticket %s: err = %v, want ErrSteamTicketInvalid", tk, err)
		}
		if domain.CategoryOf(err) != domain.CategoryUnauthenticated {
			t.Errorf("ticket %s: category %v, want unauthenticated (401)", tk, domain.CategoryOf(err))
		}
	}
}

func TestAuthenticateUnavailable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		setup func(*steamfake.Server)
		key   string
	}{
		// A key Steam refuses is the studio's configuration, not the
		// player's ticket: see the adapter.
		{"wrong key", func(*steamfake.Server) {}, "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"},
		{"no key", func(*steamfake.Server) {}, ""},
		{"500", func(f *steamfake.Server) { f.Fail(http.StatusInternalServerError) }, key},
		{"503", func(f *steamfake.Server) { f.Fail(http.StatusServiceUnavailable) }, key},
		{"429", func(f *steamfake.Server) { f.Fail(http.StatusTooManyRequests) }, key},
		{"malformed JSON", func(f *steamfake.Server) { f.Raw(ticket, `{"response":{"params":`) }, key},
		{"HTML", func(f *steamfake.Server) { f.Raw(ticket, `<html>maintenance</html>`) }, key},
		{"empty body", func(f *steamfake.Server) { f.Raw(ticket, ``) }, key},
		{"empty response", func(f *steamfake.Server) { f.Raw(ticket, `{"response":{}}`) }, key},
		{"wrong types", func(f *steamfake.Server) {
			f.Raw(ticket, `{"response":{"params":{"result":"OK","steamid":76561197960266729}}}`)
		}, key},
		{"OK without steamid", func(f *steamfake.Server) { f.Raw(ticket, `{"response":{"params":{"result":"OK"}}}`) }, key},
		{"OK with a steamid that is not one", func(f *steamfake.Server) {
			f.Ticket(ticket, steamfake.Player{SteamID: "12345"})
		}, key},
		{"OK with a non-canonical steamid", func(f *steamfake.Server) {
			f.Ticket(ticket, steamfake.Player{SteamID: "0" + steamfake.SteamID64(5)})
		}, key},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake, c := setup(t)
			tt.setup(fake)
			_, err := c.Authenticate(t.Context(), appID, tt.key, ticket)
			assertUnavailable(t, err)
		})
	}
}

func TestAuthenticateSlowerThanTimeout(t *testing.T) {
	t.Parallel()
	fake, c := setup(t)
	fake.Ticket(ticket, steamfake.Player{SteamID: steamfake.SteamID64(1)})
	fake.Slow(10 * short)

	start := time.Now()
	_, err := c.Authenticate(t.Context(), appID, key, ticket)
	elapsed := time.Since(start)
	assertUnavailable(t, err)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want it to say the deadline passed", err)
	}
	if elapsed > 5*short {
		t.Errorf("Authenticate took %v with a timeout of %v", elapsed, short)
	}

	// Slow but within the timeout is fine.
	fake.Slow(short / 4)
	if _, err := c.Authenticate(t.Context(), appID, key, ticket); err != nil {
		t.Errorf("answer within the timeout: %v", err)
	}
}

func TestAuthenticateDefaultTimeout(t *testing.T) {
	t.Parallel()
	fake := steamfake.New(t)
	fake.Ticket(ticket, steamfake.Player{SteamID: steamfake.SteamID64(1)})
	fake.Slow(time.Hour)
	c := steam.New(fake.URL(), steamfake.DefaultIdentity, 0, nil)
	// A caller's shorter deadline still wins over the default 5 s.
	ctx, cancel := context.WithTimeout(t.Context(), short)
	defer cancel()
	_, err := c.Authenticate(ctx, appID, key, ticket)
	assertUnavailable(t, err)
}

func TestAuthenticateContextCancelled(t *testing.T) {
	t.Parallel()
	fake, c := setup(t)
	fake.Ticket(ticket, steamfake.Player{SteamID: steamfake.SteamID64(1)})

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := c.Authenticate(ctx, appID, key, ticket)
	assertUnavailable(t, err)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want it to say the caller cancelled", err)
	}

	// Cancelled while Steam is thinking.
	fake.Slow(time.Hour)
	ctx, cancel = context.WithCancel(t.Context())
	time.AfterFunc(short/2, cancel)
	start := time.Now()
	_, err = c.Authenticate(ctx, appID, key, ticket)
	assertUnavailable(t, err)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want it to say the caller cancelled", err)
	}
	if time.Since(start) > 5*short {
		t.Errorf("cancellation took %v", time.Since(start))
	}
}

func TestAuthenticateUnreachable(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	base := srv.URL
	srv.Close() // nothing listens there any more
	c := steam.New(base, steamfake.DefaultIdentity, short, nil)
	_, err := c.Authenticate(t.Context(), appID, key, ticket)
	assertUnavailable(t, err)
}

func TestAuthenticateRedirectNotFollowed(t *testing.T) {
	t.Parallel()
	fake, _ := setup(t)
	fake.Ticket(ticket, steamfake.Player{SteamID: steamfake.SteamID64(1)})
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, fake.URL()+r.URL.RequestURI(), http.StatusFound)
	}))
	t.Cleanup(redirector.Close)
	c := steam.New(redirector.URL, steamfake.DefaultIdentity, short, nil)
	_, err := c.Authenticate(t.Context(), appID, key, ticket)
	assertUnavailable(t, err)
	if n := len(fake.Requests()); n != 0 {
		t.Errorf("the redirect was followed: %d requests reached its target", n)
	}
}

func TestBaseURLWithPath(t *testing.T) {
	t.Parallel()
	fake := steamfake.New(t)
	fake.Ticket(ticket, steamfake.Player{SteamID: steamfake.SteamID64(9)})
	// A proxy that serves Steam under a prefix, given with a trailing slash.
	target, err := url.Parse(fake.URL())
	if err != nil {
		t.Fatal(err)
	}
	proxy := httptest.NewServer(http.StripPrefix("/steam", httputil.NewSingleHostReverseProxy(target)))
	t.Cleanup(proxy.Close)
	c := steam.New(proxy.URL+"/steam/", steamfake.DefaultIdentity, short, nil)
	if _, err := c.Authenticate(t.Context(), appID, key, ticket); err != nil {
		t.Errorf("Authenticate through a prefixed base URL: %v", err)
	}
}

func TestNewRefusesBadBaseURL(t *testing.T) {
	t.Parallel()
	for _, u := range []string{"", "partner.steam-api.com", "ftp://partner.steam-api.com", "https://", "https://h/?key=x", "https://h/#f", "://x", "https://user:s3cr3t@%zz"} {
		func() {
			defer func() {
				msg, _ := recover().(string)
				if msg == "" {
					t.Errorf("New(%q) did not panic", u)
				}
				if strings.Contains(msg, "s3cr3t") {
					t.Errorf("New's panic repeats the URL: %q", msg)
				}
			}()
			steam.New(u, steamfake.DefaultIdentity, 0, nil)
		}()
	}
	defer func() {
		if recover() == nil {
			t.Error("New with no identity, which would accept tickets made for anyone, did not panic")
		}
	}()
	steam.New("https://partner.steam-api.com", "", 0, nil)
}

// No failure may carry the publisher key or the ticket in its text: errors
// end up in logs, and net/http's errors hold the whole URL.
func TestErrorsNeverHoldKeyOrTicket(t *testing.T) {
	t.Parallel()
	cases := map[string]func(*steamfake.Server) (base string){
		"refused":   func(f *steamfake.Server) string { f.Refuse(ticket, 101); return f.URL() },
		"wrong key": func(f *steamfake.Server) string { f.ExpectKey(appID, "another"); return f.URL() },
		"500":       func(f *steamfake.Server) string { f.Fail(500); return f.URL() },
		"malformed": func(f *steamfake.Server) string { f.Raw(ticket, "{"); return f.URL() },
		"result": func(f *steamfake.Server) string {
			f.Raw(ticket, `{"response":{"params":{"result":"`+key+ticket+`"}}}`)
			return f.URL()
		},
		"errordesc echoes": func(f *steamfake.Server) string {
			f.Raw(ticket, `{"response":{"error":{"errorcode":101,"errordesc":"bad `+key+` `+ticket+`"}}}`)
			return f.URL()
		},
		"slow": func(f *steamfake.Server) string { f.Slow(time.Hour); return f.URL() },
		"unreachable": func(*steamfake.Server) string {
			srv := httptest.NewServer(http.NotFoundHandler())
			srv.Close()
			return srv.URL
		},
		"connection reset": func(*steamfake.Server) string {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				conn, _, _ := w.(http.Hijacker).Hijack()
				_ = conn.Close()
			}))
			t.Cleanup(srv.Close)
			return srv.URL
		},
	}
	for name, arrange := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fake := steamfake.New(t)
			fake.ExpectKey(appID, key)
			c := steam.New(arrange(fake), steamfake.DefaultIdentity, short, nil)
			_, err := c.Authenticate(t.Context(), appID, key, ticket)
			if err == nil {
				t.Fatal("Authenticate succeeded")
			}
			walk(err, func(e error) {
				for _, secret := range []string{key, ticket, "key=", "ticket="} {
					if strings.Contains(e.Error(), secret) {
						t.Errorf("error %q (%T, in the tree of %q) holds %q", e.Error(), e, err, secret)
					}
				}
			})
			if msg := err.Error(); strings.Contains(strings.ToLower(msg), strings.ToLower(key)) {
				t.Errorf("error holds the key in another case: %q", msg)
			}
			t.Logf("%s: %v", name, err)
		})
	}
}

// walk visits every error in err's tree, multi-wrapped ones included.
func walk(err error, visit func(error)) {
	if err == nil {
		return
	}
	visit(err)
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		walk(u.Unwrap(), visit)
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			walk(e, visit)
		}
	}
}

func assertUnavailable(t *testing.T, err error) {
	t.Helper()
	if !errors.Is(err, session.ErrSteamUnavailable) || errors.Is(err, session.ErrSteamTicketInvalid) {
		t.Fatalf("err = %v, want ErrSteamUnavailable", err)
	}
	if domain.CategoryOf(err) != domain.CategoryUnavailable {
		t.Errorf("category %v, want unavailable (503)", domain.CategoryOf(err))
	}
}

// A client of the caller's with its own timeout fails with net/http's
// *url.Error, URL and all; what comes out must still be clean.
func TestCallersClientTimeout(t *testing.T) {
	t.Parallel()
	fake, _ := setup(t)
	fake.Ticket(ticket, steamfake.Player{SteamID: steamfake.SteamID64(1)})
	fake.Slow(time.Hour)
	c := steam.New(fake.URL(), steamfake.DefaultIdentity, time.Minute, &http.Client{Timeout: short})
	_, err := c.Authenticate(t.Context(), appID, key, ticket)
	assertUnavailable(t, err)
	walk(err, func(e error) {
		if strings.Contains(e.Error(), key) || strings.Contains(e.Error(), "http://") {
			t.Errorf("error %q holds the URL", e.Error())
		}
	})
	if !strings.Contains(err.Error(), "no answer in time") {
		t.Errorf("err = %v, want it to say Steam did not answer in time", err)
	}
}
