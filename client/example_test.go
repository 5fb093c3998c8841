package client_test

import (
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/fx"

	"github.com/leadr-oss/identity/bootstrap"
	"github.com/leadr-oss/identity/client"
)

// A game server signs a player in, renames them, and lists the game's
// Steam players. (README.md quotes this example; TestREADMEQuotesTheExample
// keeps the two alike.)
func Example() {
	ctx := context.Background()
	c := client.New("http://localhost:8080", client.WithAPIKey(os.Getenv("LEADR_API_KEY")))
	game := "gam_0195f2a0-0000-7000-8000-000000000001"

	player, created, err := c.CreateIdentity(ctx, client.CreateIdentityRequest{
		GameID: game, Kind: client.KindSteam, ExternalKey: "76561197960287930",
	})
	var apiErr *client.Error
	if errors.As(err, &apiErr) {
		fmt.Println("refused:", apiErr.Status, apiErr.Detail, apiErr.Problems)
		return
	}
	if err != nil {
		fmt.Println("unreachable:", err)
		return
	}
	fmt.Println(player.ID, "created:", created)

	name := "Gordon"
	if _, err := c.UpdateIdentity(ctx, player.ID, client.UpdateIdentityRequest{DisplayName: &name}); err != nil {
		fmt.Println(err)
	}

	// The iterator follows the cursors, page after page.
	for identity, err := range c.Identities(ctx, client.ListIdentitiesParams{GameID: game, Kind: client.KindSteam}) {
		if err != nil {
			fmt.Println(err)
			break
		}
		fmt.Println(identity.ExternalKey, identity.DisplayName != nil)
	}
}

// The same calls against the service's own HTTP API, in this process, so
// that what they print is checked.
func Example_inProcess() {
	ctx := context.Background()
	base, key, stop := inProcessService()
	defer stop()
	c := client.New(base, client.WithAPIKey(key))
	hl, err := c.CreateGame(ctx, client.CreateGameRequest{Name: "Half-Life"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("game:", hl.Slug)
	game := hl.ID
	gordon := client.CreateIdentityRequest{GameID: game, Kind: client.KindSteam, ExternalKey: "76561197960287930"}

	player, created, err := c.CreateIdentity(ctx, gordon)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("created:", created)
	again, created, _ := c.CreateIdentity(ctx, gordon)
	fmt.Println("the same player:", again.ID == player.ID, "created:", created)

	var apiErr *client.Error
	_, _, err = c.CreateIdentity(ctx, client.CreateIdentityRequest{GameID: game, Kind: client.KindSteam, ExternalKey: "gordon"})
	if errors.As(err, &apiErr) {
		fmt.Println("refused:", apiErr.Status, apiErr.Problems[0].Type, apiErr.Problems[0].Loc)
	}
	_, err = c.GetIdentity(ctx, "ide_0195f2a0-0000-7000-8000-000000000000")
	if errors.As(err, &apiErr) {
		fmt.Println("refused:", apiErr.Status, apiErr.Detail)
	}

	name := "Gordon"
	if _, err := c.UpdateIdentity(ctx, player.ID, client.UpdateIdentityRequest{DisplayName: &name}); err != nil {
		fmt.Println(err)
	}
	alyx := "Alyx"
	if _, _, err := c.CreateIdentity(ctx, client.CreateIdentityRequest{GameID: game, Kind: client.KindSteam, ExternalKey: "76561197960287931", DisplayName: &alyx}); err != nil {
		fmt.Println(err)
	}

	// One identity a page: the iterator follows the cursor to the second.
	for identity, err := range c.Identities(ctx, client.ListIdentitiesParams{GameID: game, Kind: client.KindSteam, Sort: "display_name:asc", Limit: 1}) {
		if err != nil {
			fmt.Println(err)
			break
		}
		fmt.Println(identity.ExternalKey, *identity.DisplayName)
	}
	// Output:
	// game: half-life
	// created: true
	// the same player: true created: false
	// refused: 422 value_error [body external_key]
	// refused: 404 Identity not found
	// 76561197960287931 Alyx
	// 76561197960287930 Gordon
}

// inProcessService starts the whole service in this process, on an SQLite
// file in a temporary folder (its zero-setup default), so that the example
// needs no database server. It returns the base URL and the key of a
// studio's account.
func inProcessService() (base, key string, stop func()) {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "leadr-example-")
	if err != nil {
		panic(err)
	}
	superadmin := "ldr_" + strings.Repeat("S", 43)
	env := map[string]string{
		"LEADR_DATABASE_URL": "sqlite:" + filepath.Join(dir, "leadr.db"), "LEADR_HTTP_ADDR": "127.0.0.1:0",
		"LEADR_LOG_LEVEL": "error", "LEADR_SUPERADMIN_API_KEY": superadmin,
	}
	cfg, err := bootstrap.ParseConfig(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		panic(err)
	}
	var srv *bootstrap.Server
	app := fx.New(bootstrap.Service(cfg, io.Discard), fx.Populate(&srv), fx.NopLogger)
	if err := app.Start(ctx); err != nil {
		panic(err)
	}
	base = "http://" + srv.Addr().String()
	stop = func() {
		_ = app.Stop(ctx)
		_ = os.RemoveAll(dir)
	}

	// The studio's key, made as the README's walkthrough makes it.
	c := client.New(base, client.WithAPIKey(superadmin))
	account, err := c.CreateAccount(ctx, client.CreateAccountRequest{Name: "Black Mesa", Slug: "black-mesa"})
	if err != nil {
		panic(err)
	}
	user, err := c.CreateUser(ctx, client.CreateUserRequest{AccountID: account.ID, Email: "dev@black-mesa.example", DisplayName: "Dev"})
	if err != nil {
		panic(err)
	}
	k, err := c.CreateAPIKey(ctx, client.CreateAPIKeyRequest{AccountID: account.ID, UserID: user.ID, Name: "game server"})
	if err != nil {
		panic(err)
	}
	return base, k.Key, stop
}

// The README's section on the client quotes Example, abridged: each line it
// shows must be a line of Example, in the same order, or the README shows
// code that does not compile.
func TestREADMEQuotesTheExample(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, _ := strings.Cut(string(readme), "## The Go client")
	_, quote, _ := strings.Cut(section, "```go\n")
	quote, _, found := strings.Cut(quote, "```")
	if !found {
		t.Fatal(`README.md has no go block under "## The Go client"`)
	}

	src, err := os.ReadFile("example_test.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "example_test.go", src, 0)
	if err != nil {
		t.Fatal(err)
	}
	var example []string
	for _, d := range f.Decls {
		if fn, ok := d.(*ast.FuncDecl); ok && fn.Name.Name == "Example" {
			body := src[fset.Position(fn.Body.Pos()).Offset:fset.Position(fn.Body.End()).Offset]
			example = strings.Split(string(body), "\n")
		}
	}
	if example == nil {
		t.Fatal("example_test.go has no func Example")
	}

	at := 0
	for _, line := range strings.Split(quote, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line == "…" {
			continue
		}
		for at < len(example) && strings.TrimSpace(example[at]) != line {
			at++
		}
		if at == len(example) {
			t.Fatalf("README.md quotes %q, which is not (or not in that order) in Example", line)
		}
		at++
	}
}
