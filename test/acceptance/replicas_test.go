package acceptance

import (
	"io"
	"net/http"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/leadr-oss/identity/client"
	"github.com/leadr-oss/identity/test/harness"
	"github.com/leadr-oss/identity/test/pgtest"
)

// revocationLimit is how soon every replica must refuse a revoked key or
// session: replicas cache verified credentials, and hear of another's
// revocation through PostgreSQL's notifications.
const revocationLimit = time.Second

// refusedWithin sends do until it answers 401 with detail, and fails t if
// that takes longer than revocationLimit. It returns how long it took. (Until
// then a session of a deleted identity may find its identity gone: 404.)
func refusedWithin(t *testing.T, do func() harness.Answer, detail string) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		a := do()
		if a.Status == http.StatusUnauthorized {
			a.Want(http.StatusUnauthorized, detail)
			return time.Since(start)
		}
		if time.Since(start) > revocationLimit {
			t.Fatalf("still served %v after the revocation", time.Since(start).Round(time.Millisecond))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// cacheHits reads from a replica's /metrics how many lookups its cache of
// credentials served.
func cacheHits(t *testing.T, svc *harness.Service, cache string) int {
	t.Helper()
	resp, err := http.Get(svc.MetricsURL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	m := regexp.MustCompile(`(?m)^leadr_credential_cache_lookups_total\{cache="` + cache + `",result="hit"\} (\d+)$`).FindSubmatch(body)
	if m == nil {
		t.Fatalf("no hits of %s in /metrics", cache)
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}

// servedFromCache sends do until svc's cache of credentials serves it, so
// that a test knows the credential it revokes next was cached there. (A
// loaded machine may delay the change feed's heartbeat, and a replica
// whose feed is not live serves nothing from its cache.)
func servedFromCache(t *testing.T, svc *harness.Service, cache string, do func() harness.Answer) {
	t.Helper()
	for range 100 {
		before := cacheHits(t, svc, cache)
		do().Want(http.StatusOK)
		if cacheHits(t, svc, cache) > before {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s never served the credential from its cache", cache)
}

// twoReplicas starts two services on one PostgreSQL database: replicas
// share one, and an SQLite file serves one process, so the suite's SQLite
// pass runs these on PostgreSQL too.
func twoReplicas(t *testing.T) (one, two *harness.Service) {
	t.Helper()
	one = harness.StartService(t, harness.WithDatabaseURL(pgtest.Empty(t)))
	return one, harness.StartService(t, harness.WithDatabaseURL(one.DatabaseURL))
}

func TestRevocationReachesEveryReplicaWithinASecond(t *testing.T) {
	t.Parallel()
	one, two := twoReplicas(t)
	tenant := harness.NewTenant(t, one)
	replicas := map[string]*harness.Service{"the revoking replica": one, "the other replica": two}

	t.Run("API key", func(t *testing.T) {
		u := harness.NewUser(t, tenant.Client, tenant.Account.ID)
		key := harness.NewAPIKey(t, tenant.Client, tenant.Account.ID, u.ID)
		use := func(svc *harness.Service) func() harness.Answer {
			return func() harness.Answer { return harness.Over(t, svc.Client(key.Key)).Do("GET", "/v1/games", nil) }
		}
		for _, svc := range replicas { // both have verified, and cached, the key
			servedFromCache(t, svc, "api_keys", use(svc))
		}
		if _, err := one.Client(tenant.Key.Key).RevokeAPIKey(t.Context(), key.ID); err != nil {
			t.Fatal(err)
		}
		// The replica that revoked refuses at once: "its next use".
		use(one)().Want(http.StatusUnauthorized, "Invalid or expired API key")
		t.Logf("the other replica refused the key after %v", refusedWithin(t, use(two), "Invalid or expired API key"))
	})

	t.Run("session", func(t *testing.T) {
		for _, how := range []string{"signed out", "revoked by an admin", "identity deleted", "game deleted", "player banned", "player deleted"} {
			t.Run(how, func(t *testing.T) {
				g := tenant.Game
				if how == "game deleted" {
					g = harness.NewGame(t, tenant.Client, client.CreateGameRequest{})
				}
				s := deviceSignIn(t, two, g.ID, newDevice())
				me := func(svc *harness.Service) func() harness.Answer {
					return func() harness.Answer { return bearer(t, svc, s.AccessToken).Do("GET", "/v1/client/me", nil) }
				}
				for _, svc := range replicas {
					servedFromCache(t, svc, "access_tokens", me(svc))
				}
				var err error
				switch how {
				case "signed out":
					if a := bearer(t, one, s.AccessToken).Do("DELETE", "/v1/client/sessions/current", nil); a.Status != http.StatusNoContent {
						t.Fatalf("sign out: %d %s", a.Status, a.Body)
					}
				case "revoked by an admin":
					_, err = one.Client(tenant.Key.Key).RevokeIdentitySession(t.Context(), s.SessionID)
				case "identity deleted":
					_, err = one.Client(tenant.Key.Key).DeleteIdentity(t.Context(), s.Identity.ID)
				case "game deleted":
					_, err = one.Client(tenant.Key.Key).DeleteGame(t.Context(), g.ID)
				case "player banned":
					_, err = one.Client(tenant.Key.Key).BanPlayer(t.Context(), s.Identity.PlayerID, client.CreateBanRequest{Reason: "wallhack"})
				case "player deleted":
					_, err = one.Client(tenant.Key.Key).DeletePlayer(t.Context(), s.Identity.PlayerID)
				}
				if err != nil {
					t.Fatal(err)
				}
				wantBearerRefused(t, me(one)(), accessRefused)
				t.Logf("the other replica refused the session after %v", refusedWithin(t, me(two), accessRefused))
			})
		}
	})
}
