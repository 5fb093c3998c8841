package httpapi

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
)

// budgetRouter serves handler behind limitBody, on an admin path and on a
// client path, with a budget of limit bytes of bodies in flight.
func budgetRouter(limit int64, handler gin.HandlerFunc) (http.Handler, *bodyBudget) {
	budget := &bodyBudget{limit: limit}
	r := gin.New()
	r.Use(recovery(), deadline(0, &runtime{bodies: budget}))
	r.POST("/v1/things", limitBody(), handler)
	r.POST(ClientPrefix+"/things", limitBody(), handler)
	return r, budget
}

// readName reads a body as the handlers do, and answers 200 with the name.
func readName(c *gin.Context) {
	var ps problems
	b, err := readBody(c, &ps)
	if err != nil {
		fail(c, err)
		return
	}
	name := b.str("name", true)
	if !parsed(c, &ps) {
		return
	}
	c.JSON(http.StatusOK, gin.H{"name": *name})
}

// post sends body to path; a negative size sends it without a declared
// length, as a chunked body arrives.
func post(h http.Handler, ctx context.Context, path string, body io.Reader, size int64) *httptest.ResponseRecorder {
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, path, body)
	req.ContentLength = size
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func nameOfSize(n int) string {
	return `{"name":"` + strings.Repeat("n", n-len(`{"name":""}`)) + `"}`
}

// TestBodyBudget: past the budget of bodies in flight a request is answered
// 503 at once, in the contract's shape, before its body is read; a body of
// undeclared length takes the budget as it is read; and the budget is
// whole again once the requests in flight are over.
func TestBodyBudget(t *testing.T) {
	h, budget := budgetRouter(1000, readName)

	// A request in flight holds 600 bytes while its body trickles in.
	slow, feed := io.Pipe()
	held := make(chan *httptest.ResponseRecorder)
	go func() { held <- post(h, t.Context(), "/v1/things", slow, 600) }()
	for budget.used.Load() != 600 {
		time.Sleep(time.Millisecond)
	}

	rec := post(h, t.Context(), "/v1/things", strings.NewReader(nameOfSize(500)), 500)
	wantUnavailable(t, rec)
	// Nothing of it was read: its declared length was enough to refuse it.
	if used := budget.used.Load(); used != 600 {
		t.Fatalf("a refused request holds %d bytes", used-600)
	}
	if rec := post(h, t.Context(), "/v1/things", strings.NewReader(nameOfSize(400)), 400); rec.Code != http.StatusOK {
		t.Fatalf("a body within the budget: %d %s", rec.Code, rec.Body)
	}
	// Undeclared, the body takes the budget as it is read, and runs out.
	wantUnavailable(t, post(h, t.Context(), "/v1/things", strings.NewReader(nameOfSize(900)), -1))
	if rec := post(h, t.Context(), "/v1/things", strings.NewReader(nameOfSize(300)), -1); rec.Code != http.StatusOK {
		t.Fatalf("an undeclared body within the budget: %d %s", rec.Code, rec.Body)
	}

	if _, err := io.WriteString(feed, nameOfSize(600)); err != nil {
		t.Fatal(err)
	}
	feed.Close()
	if rec := <-held; rec.Code != http.StatusOK {
		t.Fatalf("the slow request: %d %s", rec.Code, rec.Body)
	}
	if used := budget.used.Load(); used != 0 {
		t.Fatalf("%d bytes still held with no request in flight", used)
	}
}

func wantUnavailable(t *testing.T, rec *httptest.ResponseRecorder) {
	t.Helper()
	if rec.Code != http.StatusServiceUnavailable || rec.Body.String() != `{"detail":"Service temporarily unavailable"}` || rec.Header().Get("Retry-After") != "1" {
		t.Fatalf("got %d %s, Retry-After %q; want the contract's 503", rec.Code, rec.Body, rec.Header().Get("Retry-After"))
	}
}

// TestBodyBudgetGivenBack: whatever ends a request, what its body took of
// the budget is given back.
func TestBodyBudgetGivenBack(t *testing.T) {
	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	cases := []struct {
		name    string
		handler gin.HandlerFunc
		ctx     context.Context
		path    string
		body    io.Reader
		size    int64
		status  int
	}{
		{"answered", readName, t.Context(), "/v1/things", strings.NewReader(nameOfSize(100)), 100, http.StatusOK},
		{"422", readName, t.Context(), "/v1/things", strings.NewReader(`{}`), 2, http.StatusUnprocessableEntity},
		{"a panic once read", func(c *gin.Context) {
			_, _ = readBody(c, &problems{})
			panic("boom")
		}, t.Context(), "/v1/things", strings.NewReader(nameOfSize(100)), 100, http.StatusInternalServerError},
		{"the client gone mid-body", readName, cancelled, "/v1/things", io.MultiReader(strings.NewReader(`{"name":"`), brokenReader{}), 100, StatusClientClosedRequest},
		{"declared over the client cap", readName, t.Context(), ClientPrefix + "/things", strings.NewReader(nameOfSize(MaxClientBodyBytes + 1)), MaxClientBodyBytes + 1, http.StatusRequestEntityTooLarge},
		{"undeclared, over the client cap", readName, t.Context(), ClientPrefix + "/things", strings.NewReader(nameOfSize(MaxClientBodyBytes + 1)), -1, http.StatusRequestEntityTooLarge},
		{"undeclared, over the admin cap", readName, t.Context(), "/v1/things", strings.NewReader(nameOfSize(MaxBodyBytes + 1)), -1, http.StatusRequestEntityTooLarge},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h, budget := budgetRouter(2*MaxBodyBytes, tc.handler)
			if rec := post(h, tc.ctx, tc.path, tc.body, tc.size); rec.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.status, rec.Body)
			}
			if used := budget.used.Load(); used != 0 {
				t.Fatalf("%d bytes still held", used)
			}
		})
	}
}

type brokenReader struct{}

func (brokenReader) Read([]byte) (int, error) { return 0, io.ErrUnexpectedEOF }
