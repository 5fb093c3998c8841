package client_test

import (
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/leadr-oss/identity/client"
	"github.com/leadr-oss/identity/test/harness"
)

func service(t *testing.T) *harness.Service {
	return harness.StartService(t, harness.WithDatabaseURL("sqlite:"+filepath.Join(t.TempDir(), "leadr.db")))
}

func TestErrorsCarryStatusAndDetail(t *testing.T) {
	svc := service(t)
	_, err := svc.Anonymous().ListIdentities(t.Context(), client.ListIdentitiesParams{})
	var e *client.Error
	if !errors.As(err, &e) || e.Status != http.StatusUnauthorized || e.Detail != "API key required" || len(e.Problems) != 0 {
		t.Fatalf("401: %#v", err)
	}
	empty := ""
	_, _, err = svc.Admin().CreateIdentity(t.Context(), client.CreateIdentityRequest{
		AccountID: "acc_0195f2a0-0000-7000-8000-000000000000", GameID: harness.NewGameID(), Kind: "PHONE", DisplayName: &empty})
	if !errors.As(err, &e) || e.Status != http.StatusUnprocessableEntity || len(e.Problems) < 2 || e.Detail != "" {
		t.Fatalf("422: %#v", err)
	}
	if p := e.Problems[0]; p.Type == "" || len(p.Loc) != 2 || p.Msg == "" {
		t.Fatalf("problem: %+v", p)
	}
	if client.StatusOf(err) != 422 || client.StatusOf(errors.New("x")) != 0 {
		t.Fatal("StatusOf")
	}
	if _, err := svc.Admin().GetIdentity(t.Context(), "ide_0195f2a0-0000-7000-8000-000000000000"); client.StatusOf(err) != http.StatusNotFound {
		t.Fatalf("404: %v", err)
	}
	if _, err := client.New("http://127.0.0.1:1").Health(t.Context()); err == nil || client.StatusOf(err) != 0 {
		t.Fatalf("an unreachable service: %v", err)
	}
}

func TestIterators(t *testing.T) {
	svc := service(t)
	tenant := harness.NewTenant(t, svc)
	game := tenant.Game.ID
	want := map[string]bool{}
	for n := range 7 {
		i := harness.NewIdentity(t, tenant.Client, client.CreateIdentityRequest{GameID: game, Kind: client.KindCustom, ExternalKey: fmt.Sprintf("custom-%d", n)})
		want[i.ID] = true
	}
	seen := map[string]bool{}
	for i, err := range tenant.Client.Identities(t.Context(), client.ListIdentitiesParams{Limit: 2, Sort: "external_key:asc"}) {
		if err == nil || client.StatusOf(err) != http.StatusBadRequest {
			t.Fatalf("a bad sort: %v %v", i, err)
		}
		break
	}
	for i, err := range tenant.Client.Identities(t.Context(), client.ListIdentitiesParams{Limit: 2}) {
		if err != nil {
			t.Fatal(err)
		}
		if seen[i.ID] {
			t.Fatalf("%s twice", i.ID)
		}
		seen[i.ID] = true
	}
	if len(seen) != len(want) {
		t.Fatalf("the iterator saw %d of %d identities", len(seen), len(want))
	}
	n := 0
	for range tenant.Client.Identities(t.Context(), client.ListIdentitiesParams{Limit: 2}) {
		if n++; n == 3 {
			break // stopping early must not panic or leak
		}
	}
	accounts := 0
	for _, err := range svc.Admin().Accounts(t.Context(), client.ListParams{Limit: 1}) {
		if err != nil {
			t.Fatal(err)
		}
		accounts++
	}
	if accounts != 2 { // the system account and the tenant's
		t.Fatalf("%d accounts", accounts)
	}
	keys := 0
	for k, err := range svc.Admin().APIKeys(t.Context(), client.ListParams{UserID: tenant.User.ID}) {
		if err != nil || k.UserID != tenant.User.ID {
			t.Fatal(k, err)
		}
		keys++
	}
	users := 0
	for _, err := range tenant.Client.Users(t.Context(), client.ListParams{}) {
		if err != nil {
			t.Fatal(err)
		}
		users++
	}
	if keys != 1 || users != 1 {
		t.Fatalf("%d keys, %d users", keys, users)
	}
}

func TestHeadersAndKeys(t *testing.T) {
	svc := service(t)
	c := client.New(svc.URL, client.WithAPIKey(svc.SuperadminKey), client.WithHeader("X-Request-ID", "from-client"))
	resp, err := c.Do(t.Context(), "GET", "/v1/accounts", nil)
	if err != nil || resp.Status != 200 || resp.Header.Get("X-Request-ID") != "from-client" {
		t.Fatalf("%v %+v", err, resp)
	}
	anon := c.WithAPIKey("")
	if _, err := anon.ListAccounts(t.Context(), client.ListParams{}); client.StatusOf(err) != http.StatusUnauthorized {
		t.Fatalf("a copy without a key: %v", err)
	}
	if _, err := c.ListAccounts(t.Context(), client.ListParams{}); err != nil {
		t.Fatalf("the original lost its key: %v", err)
	}
	h, err := c.Health(t.Context())
	if err != nil || h.Status != "healthy" {
		t.Fatalf("health: %+v %v", h, err)
	}
}
