package httpapi_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/leadr-oss/identity/adapters/httpapi"
	"github.com/leadr-oss/identity/adapters/httpapi/openapi"
)

// document is the OpenAPI document the router serves.
func document(t *testing.T, h http.Handler) []byte {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/openapi.json", nil))
	if rec.Code != 200 {
		t.Fatalf("/openapi.json: %d", rec.Code)
	}
	return rec.Body.Bytes()
}

func TestOpenAPIDocumentIsValid(t *testing.T) {
	doc, err := libopenapi.NewDocument(document(t, newEnv(t).router))
	if err != nil {
		t.Fatal(err)
	}
	if v := doc.GetVersion(); v != "3.1.0" {
		t.Fatalf("OpenAPI version %s", v)
	}
	v, errs := validator.NewValidator(doc)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if ok, problems := v.ValidateDocument(); !ok {
		for _, p := range problems {
			t.Errorf("%s: %s", p.Message, p.Reason)
		}
	}
}

// Every route the router serves is in the document, and every operation the
// document describes is served.
func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	reg := prometheus.NewRegistry()
	e := newEnv(t)
	r, err := httpapi.NewRouter(httpapi.Deps{Routes: e.routes(), Logger: zap.NewNop(), Metrics: httpapi.NewMetrics(reg, reg)})
	if err != nil {
		t.Fatal(err)
	}
	param := regexp.MustCompile(`:([a-z_]+)`)
	var served []string
	for _, route := range r.Routes() {
		served = append(served, route.Method+" "+param.ReplaceAllString(route.Path, "{$1}"))
	}
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(document(t, r), &doc); err != nil {
		t.Fatal(err)
	}
	var documented []string
	for path, item := range doc.Paths {
		for method := range item {
			if method != "parameters" {
				documented = append(documented, strings.ToUpper(method)+" "+path)
			}
		}
	}
	slices.Sort(served)
	slices.Sort(documented)
	if !slices.Equal(served, documented) {
		for _, s := range served {
			if !slices.Contains(documented, s) {
				t.Errorf("served but not documented: %s", s)
			}
		}
		for _, d := range documented {
			if !slices.Contains(served, d) {
				t.Errorf("documented but not served: %s", d)
			}
		}
	}
	if len(served) < 20 {
		t.Fatalf("only %d routes", len(served))
	}
}

func TestDocsPageUsesOnlyEmbeddedAssets(t *testing.T) {
	e := newEnv(t)
	srv := httptest.NewServer(e.router)
	defer srv.Close()
	get := func(path string) (*http.Response, string) {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	resp, page := get("/docs")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || !strings.Contains(page, `id="swagger-ui"`) {
		t.Fatalf("/docs: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
		t.Fatalf("no CSP keeping the page to its own assets: %q", csp)
	}
	refs := regexp.MustCompile(`(?:src|href)="([^"]+)"`).FindAllStringSubmatch(page, -1)
	if len(refs) < 3 {
		t.Fatalf("the page references %d assets", len(refs))
	}
	for _, ref := range refs {
		u := ref[1]
		if !strings.HasPrefix(u, "/") || strings.HasPrefix(u, "//") {
			t.Fatalf("the page references %q, which is not served by the binary", u)
		}
		resp, body := get(u)
		if resp.StatusCode != 200 || len(body) == 0 || resp.Header.Get("Content-Type") == "" {
			t.Fatalf("%s: %d, %d bytes, %q", u, resp.StatusCode, len(body), resp.Header.Get("Content-Type"))
		}
	}
	_, init := get("/docs/init.js")
	if !strings.Contains(init, `"/openapi.json"`) {
		t.Fatal("the page does not read /openapi.json")
	}
	if resp, _ := get("/docs/swagger-ui-bundle.js.map"); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("an unlisted asset is served: %d", resp.StatusCode)
	}
	resp, body := get("/openapi.json")
	fragments := [][]byte{}
	for _, rs := range e.routes() {
		fragments = append(fragments, rs.OpenAPI)
	}
	want, err := openapi.Assemble(openapi.Base, fragments...)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json; charset=utf-8" || body != string(want) {
		t.Fatalf("/openapi.json: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}
