package harness

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/leadr-oss/identity/adapters/httpapi"
	"go.uber.org/zap"
)

// The conformance check catches an answer the document does not describe,
// and lets documented ones and unknown routes through.
func TestConformance(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		switch r.URL.Path {
		case "/v1/health":
			w.Write([]byte(`{"service":"leadr","status":"healthy","database":"connected"}`))
		case "/v1/health/live":
			w.Write([]byte(`{"status":42}`)) // status must be a string, service is required
		case "/v1/accounts":
			w.WriteHeader(http.StatusCreated) // no Location
			w.Write([]byte(`{"id":"acc_0195f2a0-0000-7000-8000-000000000000","name":"n","slug":"s","created_at":"2026-01-01T00:00:00Z","updated_at":"2026-01-01T00:00:00Z"}`))
		default:
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte(`{"detail":"Not Found"}`))
		}
	}))
	defer srv.Close()
	router, err := httpapi.NewRouter(httpapi.Deps{Routes: []httpapi.Routes{httpapi.TenancyRoutes(nil)}, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	router.ServeHTTP(rec, httptest.NewRequest("GET", "/openapi.json", nil))
	c := &conformance{base: http.DefaultTransport, document: rec.Body.Bytes()}
	hc := &http.Client{Transport: c}
	for _, path := range []string{"/v1/health", "/v1/health/live", "/v1/nowhere"} {
		resp, err := hc.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	resp, err := hc.Post(srv.URL+"/v1/accounts", "application/json", strings.NewReader(`{"name":"n","slug":"s"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if len(c.wrong) != 2 || !strings.Contains(c.wrong[0], "/v1/health/live") || !strings.Contains(c.wrong[1], "Location") {
		t.Fatalf("found %q, want the live check's body and the missing Location", c.wrong)
	}
}
