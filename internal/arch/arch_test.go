// Package arch holds the architecture's one rule as a test: imports point
// inward. domain ← ports ← application ← adapters; only bootstrap and cmd
// know every piece. Adapters know the ports, never the application behind
// them: bootstrap joins the two.
//
// The rule is an allow-list per layer rather than a deny-list: a deny-list
// lets every import nobody thought of slip through, while here a new import
// outside a layer's row fails until someone decides it belongs there.
package arch

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/leadr-oss/identity"

// A layer is a row of the rule. Patterns are import paths as the go command
// writes them: "x/..." is x and everything below it, and a leading "./"
// stands for the module, so rows stay readable and survive a rename of the
// module. A package belongs to the row whose pkgs pattern matches it most
// specifically, so a sub-package may get a row of its own.
//
// Every restricted layer may use the standard library, minus stdExcept;
// allow adds what else it may import (a std package listed there is allowed
// even if stdExcept would refuse it).
type layer struct {
	pkgs         string
	stdExcept    []string
	allow        []string
	unrestricted bool
}

var layers = []layer{
	{
		pkgs: "./domain/...",
		// No I/O, no wire format, no processes: the domain is pure rules.
		stdExcept: []string{"net/...", "database/...", "encoding/json", "os/exec"},
		// net/mail only parses addresses (tenancy validates e-mails with
		// it); it opens no connection, which is what banning net/... is for.
		// net/url likewise only parses (a webhook's URL).
		allow: []string{"./domain/...", "golang.org/x/text/...", "net/mail", "net/url"},
	},
	{
		pkgs:      "./ports/...",
		stdExcept: []string{"net/http", "database/..."},
		allow:     []string{"./domain/...", "./ports/..."},
	},
	{
		pkgs:      "./application/...",
		stdExcept: []string{"net/http", "database/..."},
		// An aggregate's use cases never call another's: they hear of its
		// changes through events (ports.Subscriber). What they share is
		// these packages, which belong to no aggregate.
		allow: []string{"./domain/...", "./ports/...", "golang.org/x/text/...",
			"./application/auth", "./application/cursor", "./application/credcache", "./application/sealing"},
	},
	// Test helpers exercise the inner layers (a contract suite runs the
	// application against a port) but must not drag in adapters or wiring.
	{pkgs: "./ports/portstest", allow: []string{"./domain/...", "./ports/...", "./application/..."}},
	{pkgs: "./application/apptest", allow: []string{"./domain/...", "./ports/...", "./application/..."}},
	{
		pkgs: "./adapters/httpapi/...",
		// The wire types are the API's public contract, shared with the
		// client so the two cannot drift apart; the OpenAPI schemas are
		// generated from them with swaggest/jsonschema-go. The client itself
		// (its refresh logic) is not the server's to link.
		allow: []string{
			"./domain/...", "./ports/...", "./adapters/httpapi/...", "./wire",
			"github.com/gin-gonic/...", "go.uber.org/zap/...", "github.com/prometheus/...",
			"go.opentelemetry.io/...", "github.com/swaggo/files/...", "github.com/swaggest/jsonschema-go",
		},
	},
	// The verifier is the one reading of the token format, which the service
	// shares with the services that verify its tokens.
	{pkgs: "./adapters/tokens", allow: []string{"./domain/...", "./ports/...", "./verifier", "github.com/golang-jwt/jwt/v5"}},
	{pkgs: "./adapters/steam", allow: []string{"./domain/...", "./ports/..."}},
	{pkgs: "./adapters/webhooks", allow: []string{"./domain/...", "./ports/..."}},
	{pkgs: "./adapters/ratelimit", allow: []string{"./ports/...", "github.com/redis/go-redis/v9", "github.com/go-redis/redis_rate/v10"}},
	{
		pkgs: "./adapters/store/...",
		allow: []string{
			"./domain/...", "./ports/...", "./adapters/store/...", "./migrations/...",
			"github.com/uptrace/bun/...", "github.com/google/uuid", "modernc.org/sqlite/...",
			"github.com/jackc/pgx/...",
		},
	},
	{pkgs: "./migrations/..."},
	// The API's bodies, which the server and the client share: data only,
	// so that neither links the other's code, and no I/O. Clients import
	// it through package client, so anything beyond the standard library
	// would become their dependency too.
	{pkgs: "./wire", stdExcept: []string{"net/...", "database/...", "os/...", "io/..."}},
	// Clients of the service import this package; anything beyond the
	// standard library and the wire types would become their dependency too.
	{pkgs: "./client/...", allow: []string{"./wire"}},
	// Other services import it to check tokens: the standard library only.
	{pkgs: "./verifier"},
	// Wiring and tests know every piece by design.
	{pkgs: "./bootstrap/...", unrestricted: true},
	{pkgs: "./cmd/...", unrestricted: true},
	{pkgs: "./test/...", unrestricted: true},
	{pkgs: "./internal/...", unrestricted: true},
	// Tests of the image build; they ship nothing.
	{pkgs: "./build/...", unrestricted: true},
}

// knownViolations break the table today and wait for a fix. They are listed
// rather than allowed so the rule keeps saying what is wanted; the test fails
// once one is no longer needed, so the list can only shrink.
var knownViolations = []struct{ pkg, imp, why string }{}

// listedPackage holds the fields of `go list -json` the check reads.
type listedPackage struct {
	ImportPath string
	Imports    []string
	Standard   bool
	DepOnly    bool
	Error      *struct{ Err string }
}

type violation struct{ pkg, imp string }

func (v violation) String() string { return v.pkg + " imports " + v.imp }

type report struct {
	checked     int         // packages of restricted layers
	violations  []violation // imports outside their layer's row, known ones excepted
	unplaced    []string    // module packages no row claims
	unusedKnown []string    // knownViolations the tree no longer has
}

// check applies the table to a `go list -deps -json` listing. It needs the
// dependencies, not just the module's packages, because only their entries
// say which imports are standard.
func check(pkgs []listedPackage) report {
	std := map[string]bool{}
	for _, p := range pkgs {
		std[p.ImportPath] = p.Standard
	}
	known := map[violation]bool{}
	for _, k := range knownViolations {
		known[violation{expand(k.pkg), k.imp}] = false
	}

	var r report
	for _, p := range pkgs {
		if p.DepOnly || !matches("./...", p.ImportPath) {
			continue
		}
		l, ok := layerOf(p.ImportPath)
		if !ok {
			r.unplaced = append(r.unplaced, p.ImportPath)
			continue
		}
		if l.unrestricted {
			continue
		}
		r.checked++
		for _, imp := range p.Imports {
			if l.allows(imp, std[imp]) {
				continue
			}
			v := violation{p.ImportPath, imp}
			if _, ok := known[v]; ok {
				known[v] = true
				continue
			}
			r.violations = append(r.violations, v)
		}
	}
	for v, used := range known {
		if !used {
			r.unusedKnown = append(r.unusedKnown, v.String())
		}
	}
	slices.Sort(r.unusedKnown)
	return r
}

func layerOf(path string) (layer, bool) {
	best, found := layer{}, false
	for _, l := range layers {
		if matches(l.pkgs, path) && (!found || len(expand(l.pkgs)) > len(expand(best.pkgs))) {
			best, found = l, true
		}
	}
	return best, found
}

func (l layer) allows(imp string, standard bool) bool {
	if slices.ContainsFunc(l.allow, func(p string) bool { return matches(p, imp) }) {
		return true
	}
	return standard && !slices.ContainsFunc(l.stdExcept, func(p string) bool { return matches(p, imp) })
}

func expand(pattern string) string {
	if rest, ok := strings.CutPrefix(pattern, "./"); ok {
		return module + "/" + rest
	}
	return pattern
}

func matches(pattern, path string) bool {
	pattern = expand(pattern)
	if base, ok := strings.CutSuffix(pattern, "/..."); ok {
		return path == base || strings.HasPrefix(path, base+"/")
	}
	return path == pattern
}

// goList lists the module's packages and their dependencies. overlay maps
// file paths relative to the module root to replacement contents, planted
// through the go command's -overlay flag so the tree is never written to.
func goList(t *testing.T, overlay map[string]string) []listedPackage {
	t.Helper()
	args := []string{"list", "-e", "-deps", "-json=ImportPath,Imports,Standard,DepOnly,Error"}
	if len(overlay) > 0 {
		args = append(args, "-overlay", overlayFile(t, overlay))
	}
	cmd := exec.Command("go", append(args, module+"/...")...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	var pkgs []listedPackage
	for dec := json.NewDecoder(bytes.NewReader(out)); dec.More(); {
		var p listedPackage
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

func overlayFile(t *testing.T, files map[string]string) string {
	t.Helper()
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(gomod)))
	dir := t.TempDir()
	replace := map[string]string{}
	for name, content := range files {
		backing := filepath.Join(dir, strings.ReplaceAll(name, "/", "_"))
		if err := os.WriteFile(backing, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		replace[filepath.Join(root, filepath.FromSlash(name))] = backing
	}
	b, err := json.Marshal(map[string]any{"Replace": replace})
	if err != nil {
		t.Fatal(err)
	}
	overlay := filepath.Join(dir, "overlay.json")
	if err := os.WriteFile(overlay, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return overlay
}

// listErrors returns the errors go list met, which would leave the check
// judging packages it could not fully read.
func listErrors(pkgs []listedPackage) []string {
	var errs []string
	for _, p := range pkgs {
		if p.Error != nil {
			errs = append(errs, p.ImportPath+": "+p.Error.Err)
		}
	}
	return errs
}

func TestImportsStayWithinTheirLayer(t *testing.T) {
	pkgs := goList(t, nil)
	for _, e := range listErrors(pkgs) {
		t.Errorf("go list: %s", e)
	}
	r := check(pkgs)
	for _, v := range r.violations {
		t.Errorf("%s, which its layer does not allow", v)
	}
	for _, p := range r.unplaced {
		t.Errorf("%s belongs to no layer: give it a row in the table", p)
	}
	for _, k := range r.unusedKnown {
		t.Errorf("known violation %q is gone: delete it from knownViolations", k)
	}
	for _, k := range knownViolations {
		t.Logf("known violation: %s imports %s (%s)", k.pkg, k.imp, k.why)
	}
	// The guard against the table silently matching nothing, e.g. after the
	// module is renamed or the folders are reorganised.
	if r.checked < 8 {
		t.Fatalf("only %d packages were checked; the rules no longer match the layout", r.checked)
	}
	t.Logf("checked %d packages", r.checked)
}

// plant checks the tree with extra files overlaid, and returns what the
// overlay changed in the report, so the planted tests hold whatever the
// state of the tree around them.
func plant(t *testing.T, files map[string]string) (added []string, unplaced []string) {
	t.Helper()
	basePkgs := goList(t, nil)
	plantedPkgs := goList(t, files)
	baseErrs := listErrors(basePkgs)
	for _, e := range listErrors(plantedPkgs) {
		if !slices.Contains(baseErrs, e) {
			t.Errorf("the planted files do not list cleanly: %s", e)
		}
	}
	base, planted := check(basePkgs), check(plantedPkgs)
	for _, v := range planted.violations {
		if !slices.Contains(base.violations, v) {
			added = append(added, v.String())
		}
	}
	for _, v := range base.violations {
		if !slices.Contains(planted.violations, v) {
			t.Errorf("planting hid an existing violation: %s", v)
		}
	}
	for _, p := range planted.unplaced {
		if !slices.Contains(base.unplaced, p) {
			unplaced = append(unplaced, p)
		}
	}
	slices.Sort(added)
	return added, unplaced
}

func TestPlantedForbiddenImportsAreReported(t *testing.T) {
	added, unplaced := plant(t, map[string]string{
		"domain/zz_planted.go":           "package domain\n\nimport _ \"net/http\"\n",
		"ports/zz_planted.go":            "package ports\n\nimport _ \"github.com/gin-gonic/gin\"\n",
		"wire/zz_planted.go":             "package wire\n\nimport _ \"net/http\"\n",
		"adapters/store/zz_planted.go":   "package store\n\nimport _ \"" + module + "/application/identity\"\n",
		"application/game/zz_planted.go": "package game\n\nimport _ \"" + module + "/application/session\"\n",
	})
	want := []string{
		module + "/adapters/store imports " + module + "/application/identity",
		module + "/application/game imports " + module + "/application/session",
		module + "/domain imports net/http",
		module + "/ports imports github.com/gin-gonic/gin",
		module + "/wire imports net/http",
	}
	if !slices.Equal(added, want) {
		t.Errorf("planted violations reported as\n\t%s\nwant\n\t%s",
			strings.Join(added, "\n\t"), strings.Join(want, "\n\t"))
	}
	if len(unplaced) > 0 {
		t.Errorf("unexpected unplaced packages: %v", unplaced)
	}
}

func TestPlantedAllowedImportIsAccepted(t *testing.T) {
	added, unplaced := plant(t, map[string]string{
		"domain/zz_planted.go": "package domain\n\nimport _ \"golang.org/x/text/unicode/norm\"\n",
	})
	if len(added) > 0 || len(unplaced) > 0 {
		t.Errorf("an allowed import was refused: violations %v, unplaced %v", added, unplaced)
	}
}

func TestPlantedPackageOutsideEveryLayerIsReported(t *testing.T) {
	added, unplaced := plant(t, map[string]string{
		"zzplanted/zz_planted.go": "package zzplanted\n",
	})
	want := []string{module + "/zzplanted"}
	if !slices.Equal(unplaced, want) || len(added) > 0 {
		t.Errorf("unplaced %v, violations %v; want unplaced %v and no violation", unplaced, added, want)
	}
}

// The planted tests compare against the tree, so they cannot see whether the
// table itself is wrong; these cases pin the patterns' meaning.
func TestTableMeaning(t *testing.T) {
	for _, c := range []struct {
		pkg, imp string
		std, ok  bool
	}{
		{"./domain/tenancy", "net/mail", true, true},
		{"./domain/tenancy", "net", true, false},
		{"./domain/tenancy", "net/netip", true, false},
		{"./domain", "database/sql/driver", true, false},
		{"./domain", "encoding/json", true, false},
		{"./domain", "encoding/jsonx", false, false},
		{"./domain", "./ports", false, false},
		{"./ports/paging", "./domain/id", false, true},
		{"./ports/paging", "./application/cursor", false, false},
		{"./ports/portstest", "./application/identity", false, true},
		{"./ports/portstest", "github.com/gin-gonic/gin", false, false},
		{"./application/tenancy", "net/http", true, false},
		{"./application/tenancy", "golang.org/x/text/cases", false, true},
		{"./adapters/httpapi", "./adapters/store", false, false},
		{"./adapters/httpapi", "./application/identity", false, false},
		{"./adapters/store", "./application/cursor", false, false},
		{"./adapters/httpapi", "./wire", false, true},
		{"./adapters/httpapi", "./client", false, false},
		{"./wire", "time", true, true},
		{"./wire", "encoding/json", true, true},
		{"./wire", "net/http", true, false},
		{"./wire", "./domain/id", false, false},
		{"./wire", "./client", false, false},
		{"./client", "./wire", false, true},
		{"./client", "./adapters/httpapi", false, false},
		{"./adapters/httpapi", "go.uber.org/zap/zapcore", false, true},
		{"./adapters/store", "./adapters/httpapi", false, false},
		{"./adapters/store", "github.com/lib/pq", false, false},
		{"./adapters/store", "github.com/jackc/pgx/v5/stdlib", false, true},
		{"./adapters/store", "github.com/uptrace/bunrouter", false, false},
		{"./client", "github.com/google/uuid", false, false},
		{"./migrations", "embed", true, true},
		{"./bootstrap", "go.uber.org/fx", false, true},
	} {
		l, found := layerOf(expand(c.pkg))
		if !found {
			t.Errorf("%s: no layer", c.pkg)
			continue
		}
		if got := l.unrestricted || l.allows(expand(c.imp), c.std); got != c.ok {
			t.Errorf("%s importing %s: allowed = %v, want %v", c.pkg, c.imp, got, c.ok)
		}
	}
}
