package faults

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/leadr-oss/identity/client"
	"github.com/leadr-oss/identity/test/harness"
)

const (
	// requestTimeout is the services' LEADR_REQUEST_TIMEOUT: short, so that
	// the tests are quick.
	requestTimeout = 2 * time.Second
	// answerBound is how long any answer may take: the deadline and a
	// margin generous for a loaded two-core machine under the race
	// detector, yet far short of a hang.
	answerBound = requestTimeout + 3*time.Second
	unavailable = "Service temporarily unavailable"
)

// startService starts the service on dbURL with the tests' deadline and
// env, as name, value pairs.
func startService(t *testing.T, dbURL string, env ...string) *harness.Service {
	t.Helper()
	opts := []harness.Option{harness.WithDatabaseURL(dbURL), harness.WithEnv("LEADR_REQUEST_TIMEOUT", requestTimeout.String())}
	for i := 0; i+1 < len(env); i += 2 {
		opts = append(opts, harness.WithEnv(env[i], env[i+1]))
	}
	return harness.StartService(t, opts...)
}

// request is one kind of request and the status of its success.
type request struct {
	name string
	ok   int
	send func(ctx context.Context) (*client.Response, error)
}

// answer is what one request received, and when.
type answer struct {
	request
	resp           *client.Response
	err            error
	sent, received time.Time
}

func (r request) do(ctx context.Context) answer {
	a := answer{request: r, sent: time.Now()}
	a.resp, a.err = r.send(ctx)
	a.received = time.Now()
	return a
}

func (a answer) succeeded() bool { return a.err == nil && a.resp.Status == a.ok }

func (a answer) String() string {
	took := a.received.Sub(a.sent).Round(time.Millisecond)
	if a.err != nil {
		return fmt.Sprintf("%s: %v after %v", a.name, a.err, took)
	}
	return fmt.Sprintf("%s: %d %s (Retry-After %q) after %v", a.name, a.resp.Status, a.resp.Body, a.resp.Header.Get("Retry-After"), took)
}

// fault returns what keeps a from being an answer the contract allows
// whatever the database does, success or 503, or "".
func (a answer) fault() string {
	switch {
	case a.err != nil:
		return "no answer"
	case a.received.Sub(a.sent) > answerBound:
		return fmt.Sprintf("answered after more than %v", answerBound)
	case a.resp.Status == a.ok:
		return ""
	case a.resp.Status != http.StatusServiceUnavailable:
		return fmt.Sprintf("%d, neither %d nor 503", a.resp.Status, a.ok)
	}
	var body map[string]any
	if json.Unmarshal(a.resp.Body, &body) != nil || len(body) != 1 || body["detail"] != unavailable {
		return fmt.Sprintf("503 without the body {\"detail\":%q}", unavailable)
	}
	if s, err := strconv.Atoi(a.resp.Header.Get("Retry-After")); err != nil || s < 1 {
		return "503 without Retry-After in whole seconds, at least 1"
	}
	return ""
}

// wantUnavailable fails t unless a is the contract's 503 within the bound.
func wantUnavailable(t *testing.T, a answer) {
	t.Helper()
	if f := a.fault(); f != "" || a.resp.Status != http.StatusServiceUnavailable {
		t.Errorf("%s, want 503: %s", a, f)
	}
}

// identityRequests are the requests that read and write the identities
// table: a get-or-create of a new identity (201 unless one was already
// written), a GET of one and a list of the game's.
func identityRequests(tenant harness.Tenant, known client.Identity, newKey func() string) []request {
	c := tenant.Client
	return []request{
		{"get-or-create", http.StatusCreated, func(ctx context.Context) (*client.Response, error) {
			return c.Do(ctx, "POST", "/v1/identities", client.CreateIdentityRequest{GameID: tenant.Game.ID, Kind: client.KindCustom, ExternalKey: newKey()})
		}},
		{"get identity", http.StatusOK, func(ctx context.Context) (*client.Response, error) {
			return c.Do(ctx, "GET", "/v1/identities/"+known.ID, nil)
		}},
		{"list identities", http.StatusOK, func(ctx context.Context) (*client.Response, error) {
			return c.Do(ctx, "GET", "/v1/identities?limit=5&game_id="+tenant.Game.ID, nil)
		}},
	}
}

// newIdentity creates an identity for the tests to read.
func newIdentity(t *testing.T, tenant harness.Tenant) client.Identity {
	t.Helper()
	return harness.NewIdentity(t, tenant.Client, client.CreateIdentityRequest{GameID: tenant.Game.ID, Kind: client.KindCustom, ExternalKey: "known-" + harness.Unique()})
}
