package httpapi_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/leadr-oss/identity/adapters/httpapi"
)

// padded is body followed by white space up to size bytes.
func padded(body string, size int) string {
	return body + strings.Repeat(" ", size-len(body))
}

// TestClientBodyCap: a client endpoint takes a body of up to 16 KiB, and
// answers 413 to a larger one, declared or not; admin endpoints keep their
// megabyte.
func TestClientBodyCap(t *testing.T) {
	e := newEnv(t)
	acme := e.newTenant("acme")
	signIn := fmt.Sprintf(`{"game_id":%q,"kind":"DEVICE","external_key":"3f2a9c1e-device"}`, acme.game)
	for _, path := range []string{"/v1/client/sessions", "/v1/client/sessions/refresh"} {
		t.Run(path, func(t *testing.T) {
			e.do("POST", path, "", padded(`{}`, httpapi.MaxClientBodyBytes+1)).want(t, http.StatusRequestEntityTooLarge, "Request body too large")
			r := undeclared(e, path, padded(`{}`, httpapi.MaxClientBodyBytes+1))
			if r.Code != http.StatusRequestEntityTooLarge || r.Body.String() != `{"detail":"Request body too large"}` {
				t.Fatalf("undeclared length: %d %s", r.Code, r.Body)
			}
		})
	}
	e.do("POST", "/v1/client/sessions", "", padded(signIn, httpapi.MaxClientBodyBytes)).want(t, http.StatusCreated)
	if r := undeclared(e, "/v1/client/sessions", padded(signIn, httpapi.MaxClientBodyBytes)); r.Code != http.StatusCreated {
		t.Fatalf("16 KiB of undeclared length: %d %s", r.Code, r.Body)
	}
	e.do("POST", "/v1/accounts", e.super, padded(`{"name":"Big","slug":"big"}`, httpapi.MaxBodyBytes)).want(t, http.StatusCreated)
}

// undeclared posts body without a Content-Length, as a chunked body
// arrives.
func undeclared(e *env, path, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest("POST", path, io.MultiReader(strings.NewReader(body)))
	req.ContentLength = -1
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	e.router.ServeHTTP(rec, req)
	return rec
}

// TestBodyBudgetOverTheWire: admin requests that each declare a body of a
// megabyte and send it slowly fill the budget of bodies in flight; the next
// request with a body is answered 503 at once (not 422), and once they are
// gone, the budget is whole again.
func TestBodyBudgetOverTheWire(t *testing.T) {
	e := newEnv(t)
	srv := httptest.NewServer(e.router)
	defer srv.Close()
	// A few more than the budget holds: a probe below that arrives while
	// the slow ones are still taking their share can push one of them out
	// (503), and the rest must still fill the budget.
	slow := make([]net.Conn, httpapi.BodyBudgetBytes/httpapi.MaxBodyBytes+4)
	for i := range slow {
		conn, err := net.Dial("tcp", srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprintf(conn, "POST /v1/accounts HTTP/1.1\r\nHost: x\r\nleadr-api-key: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n{", e.super, httpapi.MaxBodyBytes)
		slow[i] = conn
	}
	post := func() *http.Response {
		req, _ := http.NewRequest("POST", srv.URL+"/v1/accounts", strings.NewReader(`{}`))
		req.Header.Set("leadr-api-key", e.super)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	// The slow requests take the budget as they arrive.
	deadline := time.Now().Add(10 * time.Second)
	resp := post()
	for resp.StatusCode != http.StatusServiceUnavailable && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
		resp = post()
	}
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "1" {
		t.Fatalf("with the budget taken: %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	for _, conn := range slow {
		conn.Close()
	}
	for resp.StatusCode == http.StatusServiceUnavailable && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
		resp = post()
	}
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("once the slow requests are gone: %d", resp.StatusCode)
	}
}
