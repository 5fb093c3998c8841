package harness

import (
	"encoding/json"
	"testing"

	"github.com/leadr-oss/identity/client"
)

// Wire sends requests and checks the answers as received: status, headers
// and the exact body shapes of the contract.
type Wire struct {
	t testing.TB
	c *client.Client
}

// Over returns a Wire for t that sends through c.
func Over(t testing.TB, c *client.Client) Wire { return Wire{t: t, c: c} }

// Answer is a received answer; JSON is its decoded body (nil if not JSON).
type Answer struct {
	t testing.TB
	*client.Response
	JSON map[string]any
	what string
}

// Do sends method path with body (JSON; a string is sent as is) and fails
// t if the request cannot be sent.
func (w Wire) Do(method, path string, body any) Answer {
	w.t.Helper()
	resp, err := w.c.Do(w.t.Context(), method, path, body)
	if err != nil {
		w.t.Fatalf("%s %s: %v", method, path, err)
	}
	a := Answer{t: w.t, Response: resp, what: method + " " + path}
	_ = json.Unmarshal(resp.Body, &a.JSON)
	return a
}

// Want fails t unless the status is status and, when given, the detail is
// detail[0]. Every answer must be JSON with the contract's content type.
func (a Answer) Want(status int, detail ...string) Answer {
	a.t.Helper()
	if a.Status != status {
		a.t.Fatalf("%s: status %d, want %d; body %s", a.what, a.Status, status, a.Body)
	}
	if ct := a.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		a.t.Fatalf("%s: Content-Type %q", a.what, ct)
	}
	if a.JSON == nil {
		a.t.Fatalf("%s: body is not a JSON object: %s", a.what, a.Body)
	}
	if len(detail) > 0 && a.JSON["detail"] != detail[0] {
		a.t.Fatalf("%s: detail %v, want %q", a.what, a.JSON["detail"], detail[0])
	}
	return a
}

// Problem fails t unless the answer is a 422 holding a problem of type typ
// at loc, in FastAPI's shape, and returns that problem.
func (a Answer) Problem(typ string, loc ...any) map[string]any {
	a.t.Helper()
	a.Want(422)
	list, ok := a.JSON["detail"].([]any)
	if !ok || len(list) == 0 {
		a.t.Fatalf("%s: 422 without a list of problems: %s", a.what, a.Body)
	}
	want, _ := json.Marshal(loc)
	for _, p := range list {
		m, ok := p.(map[string]any)
		if !ok {
			a.t.Fatalf("%s: a problem is not an object: %s", a.what, a.Body)
		}
		for _, k := range []string{"type", "loc", "msg", "input"} {
			if _, has := m[k]; !has {
				a.t.Fatalf("%s: a problem has no %q: %s", a.what, k, a.Body)
			}
		}
		if got, _ := json.Marshal(m["loc"]); m["type"] == typ && string(got) == string(want) {
			return m
		}
	}
	a.t.Fatalf("%s: no %s problem at %v in %s", a.what, typ, loc, a.Body)
	return nil
}

// Str returns a string field of the body.
func (a Answer) Str(field string) string {
	s, _ := a.JSON[field].(string)
	return s
}
