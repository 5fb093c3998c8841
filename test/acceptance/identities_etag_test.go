package acceptance

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"sync"
	"testing"

	"github.com/leadr-oss/identity/client"
	"github.com/leadr-oss/identity/test/harness"
)

// strongETag is an entity tag that is quoted and not weak (RFC 9110).
var strongETag = regexp.MustCompile(`^"[!#-~]+"$`)

// Section 9: an ETag on every identity answer, 304 to a GET that holds
// it, 412 to a PATCH meant for a version that is gone.
func TestIdentityETags(t *testing.T) {
	t.Parallel()
	svc := harness.StartService(t)
	tenant := harness.NewTenant(t, svc)
	c := tenant.Client
	// conditional sends the tenant's key and one more header.
	conditional := func(name, value string) harness.Wire {
		return harness.Over(t, svc.Bearer("", client.WithAPIKey(tenant.Key.Key), client.WithHeader(name, value)))
	}
	created, _, err := c.CreateIdentity(t.Context(), client.CreateIdentityRequest{
		GameID: tenant.Game.ID, Kind: client.KindDevice, ExternalKey: "device-etag-0001", DisplayName: ptr("Alice")})
	if err != nil {
		t.Fatal(err)
	}
	path := "/v1/identities/" + created.ID
	if !strongETag.MatchString(created.ETag) {
		t.Fatalf("201 ETag %q", created.ETag)
	}

	t.Run("stable across reads", func(t *testing.T) {
		for range 2 {
			if got, err := c.GetIdentity(t.Context(), created.ID); err != nil || got.ETag != created.ETag {
				t.Fatalf("GET: ETag %q (%v), want %q", got.ETag, err, created.ETag)
			}
		}
		again, isNew, err := c.CreateIdentity(t.Context(), client.CreateIdentityRequest{
			GameID: tenant.Game.ID, Kind: client.KindDevice, ExternalKey: "device-etag-0001"})
		if err != nil || isNew || again.ETag != created.ETag {
			t.Fatalf("get-or-create of the same key: ETag %q (%v), want %q", again.ETag, err, created.ETag)
		}
		if list := harness.Over(t, c).Do("GET", "/v1/identities", nil).Want(http.StatusOK); list.Header.Get("ETag") != "" {
			t.Fatalf("a list page has ETag %q", list.Header.Get("ETag"))
		}
	})

	renamed, err := c.UpdateIdentity(t.Context(), created.ID, client.UpdateIdentityRequest{DisplayName: ptr("Bob"), IfMatch: created.ETag})
	if err != nil {
		t.Fatalf("PATCH with the current tag: %v", err)
	}
	if !strongETag.MatchString(renamed.ETag) || renamed.ETag == created.ETag {
		t.Fatalf("after a rename: ETag %q, before %q", renamed.ETag, created.ETag)
	}
	if got, err := c.GetIdentity(t.Context(), created.ID); err != nil || got.ETag != renamed.ETag {
		t.Fatalf("GET after the rename: ETag %q (%v), want %q", got.ETag, err, renamed.ETag)
	}

	t.Run("If-None-Match", func(t *testing.T) {
		for _, tag := range []string{renamed.ETag, "W/" + renamed.ETag, `"other", ` + renamed.ETag, "*"} {
			a := conditional("If-None-Match", tag).Do("GET", path, nil)
			if a.Status != http.StatusNotModified || len(a.Body) != 0 || a.Header.Get("ETag") != renamed.ETag {
				t.Errorf("If-None-Match %s: %d %q, ETag %q; want 304, no body, ETag %q", tag, a.Status, a.Body, a.Header.Get("ETag"), renamed.ETag)
			}
		}
		if a := conditional("If-None-Match", created.ETag).Do("GET", path, nil).Want(http.StatusOK); a.Str("display_name") != "Bob" {
			t.Errorf("If-None-Match with a stale tag: %s", a.Body)
		}
	})

	t.Run("a stale If-Match writes nothing", func(t *testing.T) {
		for _, req := range []client.UpdateIdentityRequest{
			{DisplayName: ptr("Mallory"), IfMatch: created.ETag},
			{Deleted: ptr(true), IfMatch: created.ETag},
			{DisplayName: ptr("Mallory"), IfMatch: "W/" + renamed.ETag}, // If-Match compares strongly
		} {
			_, err := c.UpdateIdentity(t.Context(), created.ID, req)
			var e *client.Error
			if !errors.As(err, &e) || e.Status != http.StatusPreconditionFailed || e.Detail != "Precondition failed" {
				t.Fatalf("PATCH %+v: %v, want 412 Precondition failed", req, err)
			}
			got, err := c.GetIdentity(t.Context(), created.ID)
			if err != nil || got.ETag != renamed.ETag || got.DisplayName == nil || *got.DisplayName != "Bob" || !got.UpdatedAt.Equal(renamed.UpdatedAt) {
				t.Fatalf("after a refused PATCH: %+v (%v), want it as renamed", got, err)
			}
		}
		unknown := "ide_0195f2a0-0000-7000-8000-000000000000"
		if _, err := c.UpdateIdentity(t.Context(), unknown, client.UpdateIdentityRequest{DisplayName: ptr("Bob"), IfMatch: "*"}); client.StatusOf(err) != http.StatusNotFound {
			t.Fatalf("If-Match * on an unknown identity: %v, want 404", err)
		}
	})

	t.Run("the client's own identity", func(t *testing.T) {
		p, err := svc.Anonymous().SignIn(t.Context(), client.SignInRequest{GameID: tenant.Game.ID, Kind: client.KindDevice, ExternalKey: "device-etag-0001"})
		if err != nil {
			t.Fatal(err)
		}
		me, err := p.Do(t.Context(), "GET", "/v1/client/me", nil)
		if err != nil || me.Status != http.StatusOK || me.Header.Get("ETag") != renamed.ETag {
			t.Fatalf("GET /v1/client/me: %v %+v, want ETag %q", err, me, renamed.ETag)
		}
		again, err := p.Do(t.Context(), "GET", "/v1/client/me", nil, "If-None-Match", renamed.ETag)
		if err != nil || again.Status != http.StatusNotModified || len(again.Body) != 0 {
			t.Fatalf("GET /v1/client/me with its tag: %v %+v, want 304", err, again)
		}
	})
}

// Of concurrent PATCHes made under one If-Match, exactly one writes: the
// tag is checked under the row's lock, in the write's transaction.
func TestConcurrentPatchesUnderOneETag(t *testing.T) {
	t.Parallel()
	svc := harness.StartService(t)
	tenant := harness.NewTenant(t, svc)
	i := harness.NewIdentity(t, tenant.Client, client.CreateIdentityRequest{GameID: tenant.Game.ID, Kind: client.KindDevice, ExternalKey: "device-etag-race"})
	const n = 8
	answers := make([]client.Identity, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for g := range n {
		wg.Go(func() {
			answers[g], errs[g] = tenant.Client.UpdateIdentity(t.Context(), i.ID, client.UpdateIdentityRequest{
				DisplayName: ptr(fmt.Sprintf("racer %d", g)), IfMatch: i.ETag})
		})
	}
	wg.Wait()
	var won []client.Identity
	for g, err := range errs {
		switch {
		case err == nil:
			won = append(won, answers[g])
		case client.StatusOf(err) != http.StatusPreconditionFailed:
			t.Fatalf("PATCH %d: %v, want 200 or 412", g, err)
		}
	}
	if len(won) != 1 {
		t.Fatalf("%d of %d PATCHes under one tag succeeded, want exactly 1", len(won), n)
	}
	got, err := tenant.Client.GetIdentity(t.Context(), i.ID)
	if err != nil || got.DisplayName == nil || *got.DisplayName != *won[0].DisplayName || got.ETag != won[0].ETag {
		t.Fatalf("stored %+v (%v), want the winner's %+v", got, err, won[0])
	}
}
