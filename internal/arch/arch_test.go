// Package arch holds the architecture's one rule as a test: imports point
// inward. domain ← application ← adapters; ports speaks domain types;
// only bootstrap and cmd know every piece.
package arch

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/leadr-oss/identity"

type pkg struct {
	ImportPath string
	Deps       []string
}

func packages(t *testing.T) []pkg {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps=false", "-json", module+"/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []pkg
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var p pkg
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) < 10 {
		t.Fatalf("go list found only %d packages", len(pkgs))
	}
	return pkgs
}

var infrastructure = []string{
	"github.com/gin-gonic/", "github.com/uptrace/bun", "go.uber.org/fx", "go.uber.org/zap",
	"database/sql", "net/http", "encoding/json",
}

// rules: packages under a prefix must not depend (even indirectly) on any of
// the listed prefixes.
var rules = []struct {
	layer     string
	forbidden []string
}{
	{module + "/domain", append([]string{module + "/application", module + "/ports", module + "/adapters", module + "/bootstrap"}, infrastructure...)},
	{module + "/ports", append([]string{module + "/adapters", module + "/bootstrap"}, infrastructure[:5]...)},
	{module + "/application", []string{module + "/adapters", module + "/bootstrap", "github.com/gin-gonic/", "github.com/uptrace/bun",
		"go.uber.org/fx", "go.uber.org/zap", "database/sql", "net/http"}},
	{module + "/adapters/httpapi", []string{module + "/adapters/store", module + "/bootstrap", "github.com/uptrace/bun", "go.uber.org/fx"}},
	{module + "/adapters/store", []string{module + "/adapters/httpapi", module + "/bootstrap", "github.com/gin-gonic/", "go.uber.org/fx"}},
}

func TestImportsPointInward(t *testing.T) {
	checked := 0
	for _, p := range packages(t) {
		if strings.HasSuffix(p.ImportPath, "test") { // test helpers may reach further
			continue
		}
		for _, r := range rules {
			if p.ImportPath != r.layer && !strings.HasPrefix(p.ImportPath, r.layer+"/") {
				continue
			}
			checked++
			for _, dep := range p.Deps {
				for _, f := range r.forbidden {
					if dep == f || strings.HasPrefix(dep, f) {
						t.Errorf("%s depends on %s", p.ImportPath, dep)
					}
				}
			}
		}
	}
	if checked < 8 {
		t.Fatalf("only %d packages were checked; the rules no longer match the layout", checked)
	}
}
