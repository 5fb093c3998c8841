package main

import (
	"bytes"
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/leadr-oss/identity/test/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func runWith(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	for k, v := range env {
		t.Setenv(k, v)
	}
	var stdout, stderr bytes.Buffer
	code := run(args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestCommands(t *testing.T) {
	if code, out, _ := runWith(t, nil, "version"); code != 0 || !strings.HasPrefix(out, "leadr ") {
		t.Fatalf("version: %d %q", code, out)
	}
	if code, _, errOut := runWith(t, nil); code != 2 || !strings.Contains(errOut, "usage") {
		t.Fatalf("no command: %d %q", code, errOut)
	}
	if code, _, errOut := runWith(t, nil, "launch"); code != 2 || !strings.Contains(errOut, `unknown command "launch"`) {
		t.Fatalf("unknown command: %d %q", code, errOut)
	}
	code, _, errOut := runWith(t, map[string]string{"LEADR_DATABASE_URL": "mysql://db", "LEADR_LOG_FORMAT": "xml"}, "serve")
	if code != 1 || !strings.Contains(errOut, "LEADR_DATABASE_URL") || !strings.Contains(errOut, "LEADR_LOG_FORMAT") {
		t.Fatalf("bad configuration: %d %q", code, errOut)
	}
}

func TestMigrate(t *testing.T) {
	env := map[string]string{"LEADR_DATABASE_URL": pgtest.Empty(t)}
	steps := []struct {
		args []string
		want string
	}{
		{[]string{"migrate", "status"}, "20261127000001_init                      pending"},
		{[]string{"migrate", "up"}, "applied 20261127000001_init"},
		{[]string{"migrate", "up"}, "nothing applied"},
		{[]string{"migrate", "status"}, "20261127000001_init                      applied "},
		{[]string{"migrate", "down"}, "rolled back 20261127000001_init"},
		{[]string{"migrate", "status"}, "pending"},
		{[]string{"migrate", "up"}, "applied 20261127000001_init"},
	}
	for _, s := range steps {
		code, out, errOut := runWith(t, env, s.args...)
		if code != 0 || !strings.Contains(out, s.want) {
			t.Fatalf("%v: %d %q %q, want %q", s.args, code, out, errOut, s.want)
		}
	}
	if code, _, errOut := runWith(t, env, "migrate", "sideways"); code != 1 || !strings.Contains(errOut, "unknown migrate action") {
		t.Fatalf("bad action: %d %q", code, errOut)
	}
}

func TestHealthcheck(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/health/live" {
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	if code, _, errOut := runWith(t, map[string]string{"LEADR_HTTP_ADDR": addr}, "healthcheck"); code != 0 {
		t.Fatalf("a live server is unhealthy: %q", errOut)
	}
	srv.Close()
	if code, _, _ := runWith(t, map[string]string{"LEADR_HTTP_ADDR": addr}, "healthcheck"); code != 1 {
		t.Fatal("a stopped server is healthy")
	}
}

// dispatched returns the commands run's switch accepts, read from the source
// so that a command added there cannot be forgotten in the usage; aliases
// (-v, --help) and help itself, which prints the usage, are left out.
func dispatched(t *testing.T) (commands []string, doc string) {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "main.go", nil, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	for _, decl := range f.Decls {
		fn, ok := decl.(*ast.FuncDecl)
		if !ok || fn.Name.Name != "run" {
			continue
		}
		ast.Inspect(fn.Body, func(n ast.Node) bool {
			sw, ok := n.(*ast.SwitchStmt)
			if !ok {
				return true
			}
			if idx, ok := sw.Tag.(*ast.IndexExpr); !ok || identName(idx.X) != "args" {
				return true
			}
			for _, stmt := range sw.Body.List {
				for _, e := range stmt.(*ast.CaseClause).List {
					lit, ok := e.(*ast.BasicLit)
					if !ok {
						continue
					}
					name, _ := strconv.Unquote(lit.Value)
					if !strings.HasPrefix(name, "-") && name != "help" {
						commands = append(commands, name)
					}
				}
			}
			return false
		})
	}
	if len(commands) < 4 {
		t.Fatalf("found only %v in run's switch on args[0]; has it moved?", commands)
	}
	slices.Sort(commands)
	return commands, f.Doc.Text()
}

func identName(e ast.Expr) string {
	if id, ok := e.(*ast.Ident); ok {
		return id.Name
	}
	return ""
}

var listed = regexp.MustCompile(`(?m)^\s+leadr (\S+)\s`)

func TestUsageListsEveryCommand(t *testing.T) {
	commands, doc := dispatched(t)
	code, out, _ := runWith(t, nil, "help")
	if code != 0 {
		t.Fatalf("help: %d", code)
	}
	for what, text := range map[string]string{"the usage": out, "the package comment": doc} {
		var names []string
		for _, m := range listed.FindAllStringSubmatch(text, -1) {
			names = append(names, m[1])
		}
		slices.Sort(names)
		if !slices.Equal(names, commands) {
			t.Errorf("%s lists %v; the commands are %v:\n%s", what, names, commands, text)
		}
	}
}
