package main

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/leadr-oss/identity/test/harness"
)

// keys runs leadr keys on a service's database, with the configuration the
// service has.
func keys(t *testing.T, databaseURL string, args ...string) (int, string, string) {
	t.Helper()
	env := map[string]string{"LEADR_DATABASE_URL": databaseURL, "LEADR_LOG_LEVEL": "error"}
	if strings.HasPrefix(databaseURL, "postgres") {
		env["LEADR_ENCRYPTION_KEY"] = harness.EncryptionKey
	}
	return runWith(t, env, append([]string{"keys"}, args...)...)
}

// keyStates reads `leadr keys list`: the state of every kid.
func keyStates(t *testing.T, out string) map[string]string {
	t.Helper()
	states := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n")[1:] {
		f := strings.Fields(line)
		states[f[0]] = f[1]
	}
	return states
}

// published polls the service's JWKS until want says yes (the service hears
// of `leadr keys` at once on PostgreSQL, within seconds on SQLite).
func published(t *testing.T, svc *harness.Service, want func(kids []string) bool) []string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(svc.URL + "/.well-known/jwks.json")
		if err != nil {
			t.Fatal(err)
		}
		var set struct {
			Keys []struct{ Kid string } `json:"keys"`
		}
		err = json.NewDecoder(resp.Body).Decode(&set)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		var kids []string
		for _, k := range set.Keys {
			kids = append(kids, k.Kid)
		}
		if want(kids) {
			return kids
		}
		if time.Now().After(deadline) {
			t.Fatalf("the service publishes %v", kids)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestKeys: the operator rotates and revokes the running service's
// signing keys from the host.
func TestKeys(t *testing.T) {
	svc := harness.StartService(t)
	code, out, errOut := keys(t, svc.DatabaseURL, "list")
	states := keyStates(t, out)
	if code != 0 || len(states) != 1 {
		t.Fatalf("keys list: %d %q %q", code, out, errOut)
	}
	var first string
	for kid, state := range states {
		first = kid
		if state != "signing" {
			t.Fatalf("the only key is %s", state)
		}
	}
	published(t, svc, func(kids []string) bool { return slices.Equal(kids, []string{first}) })

	code, out, errOut = keys(t, svc.DatabaseURL, "rotate")
	states = keyStates(t, out)
	if code != 0 || len(states) != 2 || states[first] != "signing" || !strings.Contains(errOut, "signs from") {
		t.Fatalf("keys rotate: %d %q %q", code, out, errOut)
	}
	var next string
	for kid, state := range states {
		if kid != first {
			next = kid
			if state != "pending" {
				t.Fatalf("the rotated key is %s, want pending", state)
			}
		}
	}
	published(t, svc, func(kids []string) bool { return len(kids) == 2 && slices.Contains(kids, next) })
	if code, _, errOut := keys(t, svc.DatabaseURL, "rotate"); code != 0 || !strings.Contains(errOut, "nothing to do") {
		t.Fatalf("a second rotate: %d %q", code, errOut)
	}

	code, out, errOut = keys(t, svc.DatabaseURL, "revoke", first)
	states = keyStates(t, out)
	if code != 0 || states[first] != "revoked" || states[next] != "signing" {
		t.Fatalf("keys revoke: %d %q %q", code, out, errOut)
	}
	published(t, svc, func(kids []string) bool { return slices.Equal(kids, []string{next}) })

	for _, args := range [][]string{nil, {"turn"}, {"revoke"}, {"revoke", "key_0192f7e4-8a52-7c3b-9d2a-6f1e0b9c4d25"}, {"list", "all"}} {
		if code, _, errOut := keys(t, svc.DatabaseURL, args...); code != 2 || !strings.Contains(errOut, "usage: leadr keys") {
			t.Errorf("keys %v: %d %q", args, code, errOut)
		}
	}
	if code, _, errOut := keys(t, svc.DatabaseURL, "revoke", "sgk_0192f7e4-8a52-7c3b-9d2a-6f1e0b9c4d25"); code != 1 || !strings.Contains(errOut, "no such signing key") {
		t.Errorf("revoking an unknown key: %d %q", code, errOut)
	}
}
