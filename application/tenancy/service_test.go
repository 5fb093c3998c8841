package tenancy_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/leadr-oss/identity/application/apptest"
	"github.com/leadr-oss/identity/application/auth"
	"github.com/leadr-oss/identity/application/cursor"
	apptenancy "github.com/leadr-oss/identity/application/tenancy"
	"github.com/leadr-oss/identity/domain"
	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/domain/tenancy"
	"github.com/leadr-oss/identity/ports"
	"github.com/leadr-oss/identity/ports/paging"
)

// clock is a fake ports.Clock the test moves by hand.
type clock struct{ now time.Time }

func (c *clock) Now() time.Time          { return c.now }
func (c *clock) Advance(d time.Duration) { c.now = c.now.Add(d) }

type env struct {
	t      *testing.T
	ctx    context.Context
	svc    *apptenancy.Service
	repo   ports.TenancyRepository
	hasher auth.Hasher
	authn  *auth.Authenticator
	clock  *clock
	acme   id.AccountID // the regular user's account
	other  id.AccountID // another tenant
	system id.AccountID // the superadmin's
	// Users: acme's regular one (the regular principal), a superadmin user
	// placed in acme, other's regular one, and the superadmin principal's.
	acmeUser, acmeAdmin, otherUser, root *tenancy.User
	regular, super                       tenancy.Principal
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	mem := apptest.NewMemory()
	clk := &clock{now: time.Date(2025, 6, 1, 10, 0, 0, 123456789, time.UTC)}
	hasher := auth.NewHasher([]byte("a pepper of a good length, 32+ bytes"))
	repo := mem.Tenancy()
	e := &env{
		t: t, ctx: ctx, repo: repo, hasher: hasher, clock: clk,
		svc:   apptenancy.NewService(repo, hasher, cursor.NewCodec([]byte("cursor secret")), clk.Now),
		authn: auth.NewAuthenticator(repo, hasher, clk.Now),
	}
	e.acme, e.other, e.system = e.newAccount("acme"), e.newAccount("other"), e.newAccount("system")
	e.acmeUser = e.newUser(e.acme, "dev@acme.example", false)
	e.acmeAdmin = e.newUser(e.acme, "admin@acme.example", true)
	e.otherUser = e.newUser(e.other, "dev@other.example", false)
	e.root = e.newUser(e.system, "root@leadr.example", true)
	e.regular = tenancy.Principal{KeyID: id.New[id.APIKey](), UserID: e.acmeUser.ID(), AccountID: e.acme}
	e.super = tenancy.Principal{KeyID: id.New[id.APIKey](), UserID: e.root.ID(), AccountID: e.system, SuperAdmin: true}
	return e
}

// newAccount and newUser write straight to the repository: the fixture is
// not what is under test.
func (e *env) newAccount(slug string) id.AccountID {
	e.t.Helper()
	a, err := tenancy.NewAccount(slug, slug, e.clock.Now())
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.repo.CreateAccount(e.ctx, a); err != nil {
		e.t.Fatal(err)
	}
	return a.ID()
}

func (e *env) newUser(account id.AccountID, email string, super bool) *tenancy.User {
	e.t.Helper()
	u, err := tenancy.NewUser(account, email, "User "+email, super, e.clock.Now())
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.repo.CreateUser(e.ctx, u); err != nil {
		e.t.Fatal(err)
	}
	return u
}

func (e *env) newKey(p tenancy.Principal, c ports.CreateAPIKey) (*tenancy.APIKey, string) {
	e.t.Helper()
	if c.Name == "" {
		c.Name = "game server"
	}
	k, plain, err := e.svc.CreateAPIKey(e.ctx, p, c)
	if err != nil {
		e.t.Fatalf("CreateAPIKey(%+v): %v", c, err)
	}
	return k, plain
}

func (e *env) storedKey(keyID id.APIKeyID) tenancy.APIKeySnapshot {
	e.t.Helper()
	k, err := e.repo.GetAPIKey(e.ctx, keyID)
	if err != nil {
		e.t.Fatal(err)
	}
	return k.Snapshot()
}

var all = paging.Request{Limit: 1000}

// counts is how many accounts, users and keys the repository holds.
func (e *env) counts() [3]int {
	e.t.Helper()
	a, err1 := e.repo.ListAccounts(e.ctx, id.AccountID{}, withSort(all, ports.AccountSchema.DefaultSort()))
	u, err2 := e.repo.ListUsers(e.ctx, ports.UserFilter{}, withSort(all, ports.UserSchema.DefaultSort()))
	k, err3 := e.repo.ListAPIKeys(e.ctx, ports.APIKeyFilter{}, withSort(all, ports.APIKeySchema.DefaultSort()))
	if err := errors.Join(err1, err2, err3); err != nil {
		e.t.Fatal(err)
	}
	return [3]int{len(a.Items), len(u.Items), len(k.Items)}
}

func withSort(r paging.Request, s paging.Sort) paging.Request { r.Sort = s; return r }

// fields returns the fields of the Invalid errors err holds, sorted; it
// fails the test on an error of another category.
func fields(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		t.Fatal("got no error, want Invalid errors")
	}
	var out []string
	var walk func(error)
	walk = func(err error) {
		if multi, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range multi.Unwrap() {
				walk(e)
			}
			return
		}
		var de *domain.Error
		if !errors.As(err, &de) || de.Category != domain.CategoryInvalid {
			t.Fatalf("error %v (%T) is not an Invalid *domain.Error", err, err)
		}
		out = append(out, de.Field)
	}
	walk(err)
	slices.Sort(out)
	return out
}

// outcome checks err against a table's expectation: an Invalid error on
// exactly invalid's fields, or wantErr (nil: success).
func outcome(t *testing.T, err, wantErr error, invalid []string) bool {
	t.Helper()
	switch {
	case invalid != nil:
		if got := fields(t, err); !slices.Equal(got, invalid) {
			t.Fatalf("invalid fields = %v, want %v (%v)", got, invalid, err)
		}
		return false
	case wantErr != nil:
		if !errors.Is(err, wantErr) {
			t.Fatalf("err = %v, want %v", err, wantErr)
		}
		return false
	case err != nil:
		t.Fatal(err)
	}
	return true
}

func TestCreateAccount(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		super      bool
		c          ports.CreateAccount
		wantErr    error
		invalid    []string
		wantName   string
		wantCounts int // accounts stored after
	}{
		{name: "superadmin", super: true, c: ports.CreateAccount{Name: "  Acme Two ", Slug: "acme-two"}, wantName: "Acme Two", wantCounts: 4},
		{name: "regular user", c: ports.CreateAccount{Name: "Mine", Slug: "mine"}, wantErr: auth.ErrSuperadminRequired, wantCounts: 3},
		{name: "slug taken", super: true, c: ports.CreateAccount{Name: "Acme again", Slug: "acme"}, wantErr: tenancy.ErrSlugTaken, wantCounts: 3},
		{name: "invalid", super: true, c: ports.CreateAccount{Name: "", Slug: "Acme"}, invalid: []string{"name", "slug"}, wantCounts: 3},
		{name: "invalid beats access", c: ports.CreateAccount{Name: "Mine", Slug: "-mine"}, invalid: []string{"slug"}, wantCounts: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			p := e.regular
			if tt.super {
				p = e.super
			}
			a, err := e.svc.CreateAccount(e.ctx, p, tt.c)
			if outcome(t, err, tt.wantErr, tt.invalid) {
				now := domain.Timestamp(e.clock.Now())
				if a.Name() != tt.wantName || a.Slug() != tt.c.Slug || a.CreatedAt() != now || a.UpdatedAt() != now {
					t.Errorf("account = %+v", a.Snapshot())
				}
				stored, err := e.repo.GetAccount(e.ctx, a.ID())
				if err != nil || stored.Snapshot() != a.Snapshot() {
					t.Errorf("stored %v, %v; want %+v", stored, err, a.Snapshot())
				}
			} else if a != nil {
				t.Errorf("got account %+v with an error", a.Snapshot())
			}
			if n := e.counts()[0]; n != tt.wantCounts {
				t.Errorf("%d accounts stored, want %d", n, tt.wantCounts)
			}
		})
	}
}

func TestGetAccount(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tests := []struct {
		name    string
		p       tenancy.Principal
		account id.AccountID
		wantErr error
	}{
		{"own account", e.regular, e.acme, nil},
		{"another account", e.regular, e.other, tenancy.ErrAccountAccess},
		// A regular user learns nothing about which accounts exist.
		{"unknown account, regular", e.regular, id.New[id.Account](), tenancy.ErrAccountAccess},
		{"superadmin, any account", e.super, e.other, nil},
		{"superadmin, unknown account", e.super, id.New[id.Account](), tenancy.ErrAccountNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := e.svc.GetAccount(e.ctx, tt.p, tt.account)
			if outcome(t, err, tt.wantErr, nil) && a.ID() != tt.account {
				t.Errorf("got %s, want %s", a.ID(), tt.account)
			}
		})
	}
}

// walk follows next cursors to the end with list and returns every item.
func walk[T any](t *testing.T, q paging.Params, list func(paging.Params) (paging.Page[T], error)) []T {
	t.Helper()
	var out []T
	for pages := 0; ; pages++ {
		if pages > 1000 {
			t.Fatal("more than 1000 pages: the walk does not end")
		}
		pg, err := list(q)
		if err != nil {
			t.Fatalf("list(%+v): %v", q, err)
		}
		out = append(out, pg.Items...)
		if !pg.HasNext {
			return out
		}
		q.Cursor = pg.Next
	}
}

type identified[I fmt.Stringer] interface{ ID() I }

func idsOf[I fmt.Stringer, T identified[I]](items []T) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.ID().String()
	}
	slices.Sort(out)
	return out
}

func strs[I fmt.Stringer](ids ...I) []string {
	out := make([]string, len(ids))
	for i, v := range ids {
		out[i] = v.String()
	}
	slices.Sort(out)
	return out
}

func TestListAccounts(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tests := []struct {
		name    string
		p       tenancy.Principal
		account id.AccountID
		limit   int
		want    []id.AccountID
	}{
		{"regular sees own account", e.regular, id.AccountID{}, 0, []id.AccountID{e.acme}},
		{"regular names own account", e.regular, e.acme, 0, []id.AccountID{e.acme}},
		{"superadmin sees all", e.super, id.AccountID{}, 0, []id.AccountID{e.acme, e.other, e.system}},
		{"superadmin names one", e.super, e.other, 0, []id.AccountID{e.other}},
		{"superadmin names an unknown one", e.super, id.New[id.Account](), 0, nil},
		{"small pages", e.super, id.AccountID{}, 1, []id.AccountID{e.acme, e.other, e.system}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := walk(t, paging.Params{Limit: tt.limit}, func(pp paging.Params) (paging.Page[*tenancy.Account], error) {
				return e.svc.ListAccounts(e.ctx, tt.p, ports.ListAccounts{AccountID: tt.account, Page: pp})
			})
			if !slices.Equal(idsOf[id.AccountID](got), strs(tt.want...)) {
				t.Errorf("listed %v, want %v", idsOf[id.AccountID](got), strs(tt.want...))
			}
		})
	}
	if _, err := e.svc.ListAccounts(e.ctx, e.regular, ports.ListAccounts{AccountID: e.other}); !errors.Is(err, auth.ErrAccountDenied) {
		t.Errorf("regular user naming another account: %v, want ErrAccountDenied", err)
	}
	first, err := e.svc.ListAccounts(e.ctx, e.super, ports.ListAccounts{Page: paging.Params{Limit: 1}})
	if err != nil || first.Next == "" {
		t.Fatalf("first page: %+v, %v", first, err)
	}
	for name, q := range map[string]ports.ListAccounts{
		"account named": {AccountID: e.acme},
		"other sort":    {Page: paging.Params{Sort: ptr("slug:asc")}},
	} {
		q.Page.Cursor = first.Next
		if _, err := e.svc.ListAccounts(e.ctx, e.super, q); !errors.Is(err, cursor.ErrCursorState) {
			t.Errorf("%s: %v, want ErrCursorState", name, err)
		}
	}
}

func ptr(s string) *string { return &s }

func TestCreateUser(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		super       bool
		named       string // "", "acme", "other" or "unknown"
		c           ports.CreateUser
		wantErr     error
		invalid     []string
		wantAccount string
	}{
		{name: "regular, own account by default", c: ports.CreateUser{Email: "new@acme.example", DisplayName: "New"}, wantAccount: "acme"},
		{name: "regular names own account", named: "acme", c: ports.CreateUser{Email: "new@acme.example", DisplayName: "New"}, wantAccount: "acme"},
		{name: "regular names another account", named: "other", c: ports.CreateUser{Email: "new@acme.example", DisplayName: "New"}, wantErr: auth.ErrAccountDenied},
		{name: "regular makes a superadmin", c: ports.CreateUser{Email: "new@acme.example", DisplayName: "New", SuperAdmin: true}, wantErr: auth.ErrSuperadminRequired},
		{name: "superadmin makes a user", super: true, named: "other", c: ports.CreateUser{Email: "new@other.example", DisplayName: "New"}, wantAccount: "other"},
		{name: "superadmin makes a superadmin", super: true, named: "other", c: ports.CreateUser{Email: "new@other.example", DisplayName: "New", SuperAdmin: true}, wantAccount: "other"},
		{name: "superadmin without account", super: true, c: ports.CreateUser{Email: "new@other.example", DisplayName: "New"}, invalid: []string{"account_id"}},
		{name: "superadmin, unknown account", super: true, named: "unknown", c: ports.CreateUser{Email: "new@x.example", DisplayName: "New"}, wantErr: tenancy.ErrAccountNotFound},
		{name: "email taken", c: ports.CreateUser{Email: "dev@acme.example", DisplayName: "New"}, wantErr: tenancy.ErrEmailTaken},
		{name: "email taken, domain in another case", c: ports.CreateUser{Email: "dev@ACME.example", DisplayName: "New"}, wantErr: tenancy.ErrEmailTaken},
		// Unique within an account: another tenant's e-mail reveals nothing.
		{name: "email of another account", super: true, named: "other", c: ports.CreateUser{Email: "dev@acme.example", DisplayName: "New"}, wantAccount: "other"},
		{name: "email of another account, asked by a regular user", c: ports.CreateUser{Email: "dev@other.example", DisplayName: "New"}, wantAccount: "acme"},
		{name: "invalid", c: ports.CreateUser{Email: "nope", DisplayName: "N"}, invalid: []string{"display_name", "email"}},
		{name: "invalid beats another account", named: "other", c: ports.CreateUser{Email: "nope", DisplayName: "New"}, invalid: []string{"email"}},
		{name: "invalid beats superadmin required", c: ports.CreateUser{Email: "new@acme.example", DisplayName: "", SuperAdmin: true}, invalid: []string{"display_name"}},
		{name: "superadmin, everything wrong", super: true, c: ports.CreateUser{Email: "", DisplayName: ""}, invalid: []string{"account_id", "display_name", "email"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			accounts := map[string]id.AccountID{"acme": e.acme, "other": e.other, "unknown": id.New[id.Account]()}
			p := e.regular
			if tt.super {
				p = e.super
			}
			c := tt.c
			c.AccountID = accounts[tt.named]
			before := e.counts()[1]
			u, err := e.svc.CreateUser(e.ctx, p, c)
			if !outcome(t, err, tt.wantErr, tt.invalid) {
				if u != nil {
					t.Errorf("got user %+v with an error", u.Snapshot())
				}
				if n := e.counts()[1]; n != before {
					t.Errorf("a refused create stored %d users", n-before)
				}
				return
			}
			if u.AccountID() != accounts[tt.wantAccount] || u.SuperAdmin() != c.SuperAdmin || u.Email() != c.Email {
				t.Errorf("user = %+v", u.Snapshot())
			}
			stored, err := e.repo.GetUser(e.ctx, u.ID())
			if err != nil || stored.Snapshot() != u.Snapshot() {
				t.Errorf("stored %v, %v; want %+v", stored, err, u.Snapshot())
			}
		})
	}
}

func TestGetUser(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tests := []struct {
		name    string
		p       tenancy.Principal
		user    id.UserID
		wantErr error
	}{
		{"own user", e.regular, e.acmeUser.ID(), nil},
		{"a superadmin user of own account", e.regular, e.acmeAdmin.ID(), nil},
		{"another account's user", e.regular, e.otherUser.ID(), tenancy.ErrUserAccess},
		{"the superadmin's user", e.regular, e.root.ID(), tenancy.ErrUserAccess},
		{"unknown user", e.regular, id.New[id.User](), tenancy.ErrUserNotFound},
		{"superadmin, any user", e.super, e.otherUser.ID(), nil},
		{"superadmin, unknown user", e.super, id.New[id.User](), tenancy.ErrUserNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := e.svc.GetUser(e.ctx, tt.p, tt.user)
			if outcome(t, err, tt.wantErr, nil) && u.ID() != tt.user {
				t.Errorf("got %s, want %s", u.ID(), tt.user)
			}
		})
	}
}

func TestListUsers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tests := []struct {
		name    string
		p       tenancy.Principal
		account id.AccountID
		limit   int
		want    []*tenancy.User
	}{
		{"regular sees own account", e.regular, id.AccountID{}, 0, []*tenancy.User{e.acmeUser, e.acmeAdmin}},
		{"regular names own account", e.regular, e.acme, 0, []*tenancy.User{e.acmeUser, e.acmeAdmin}},
		{"superadmin sees all", e.super, id.AccountID{}, 0, []*tenancy.User{e.acmeUser, e.acmeAdmin, e.otherUser, e.root}},
		{"superadmin names one", e.super, e.other, 0, []*tenancy.User{e.otherUser}},
		{"small pages", e.super, id.AccountID{}, 1, []*tenancy.User{e.acmeUser, e.acmeAdmin, e.otherUser, e.root}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := walk(t, paging.Params{Limit: tt.limit}, func(pp paging.Params) (paging.Page[*tenancy.User], error) {
				return e.svc.ListUsers(e.ctx, tt.p, ports.ListUsers{AccountID: tt.account, Page: pp})
			})
			if !slices.Equal(idsOf[id.UserID](got), idsOf[id.UserID](tt.want)) {
				t.Errorf("listed %v, want %v", idsOf[id.UserID](got), idsOf[id.UserID](tt.want))
			}
		})
	}
	if _, err := e.svc.ListUsers(e.ctx, e.regular, ports.ListUsers{AccountID: e.other}); !errors.Is(err, auth.ErrAccountDenied) {
		t.Errorf("regular user naming another account: %v, want ErrAccountDenied", err)
	}
	first, err := e.svc.ListUsers(e.ctx, e.super, ports.ListUsers{Page: paging.Params{Limit: 1}})
	if err != nil || first.Next == "" {
		t.Fatalf("first page: %+v, %v", first, err)
	}
	if _, err := e.svc.ListUsers(e.ctx, e.super, ports.ListUsers{AccountID: e.acme, Page: paging.Params{Cursor: first.Next}}); !errors.Is(err, cursor.ErrCursorState) {
		t.Errorf("cursor of all accounts used for one: %v, want ErrCursorState", err)
	}
}

func TestCreateAPIKeyReturnsThePlaintextOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	expires := e.clock.Now().Add(24*time.Hour + 999*time.Nanosecond)
	k, plain := e.newKey(e.regular, ports.CreateAPIKey{UserID: e.acmeUser.ID(), Name: " game server ", ExpiresAt: expires})
	if !tenancy.WellFormedKey(plain) {
		t.Fatalf("plaintext %q is not a well-formed key", plain)
	}
	now := domain.Timestamp(e.clock.Now())
	if k.AccountID() != e.acme || k.UserID() != e.acmeUser.ID() || k.Name() != "game server" ||
		k.Status() != tenancy.KeyActive || k.ExpiresAt() != domain.Timestamp(expires) ||
		k.CreatedAt() != now || k.UpdatedAt() != now {
		t.Errorf("key = %+v", k.Snapshot())
	}
	if k.Prefix() != plain[:tenancy.KeyPrefixLen] {
		t.Errorf("prefix = %q, want the plaintext's first %d characters", k.Prefix(), tenancy.KeyPrefixLen)
	}
	stored := e.storedKey(k.ID())
	if !reflect.DeepEqual(stored, k.Snapshot()) {
		t.Errorf("stored %+v, returned %+v", stored, k.Snapshot())
	}
	// Only the keyed hash is kept: neither the store nor any later read
	// holds the plaintext.
	if !bytes.Equal(stored.Hash, e.hasher.Hash(plain)) {
		t.Error("the stored hash is not the keyed hash of the plaintext")
	}
	got, err := e.svc.GetAPIKey(e.ctx, e.regular, k.ID())
	if err != nil {
		t.Fatal(err)
	}
	listed, err := e.svc.ListAPIKeys(e.ctx, e.regular, ports.ListAPIKeys{})
	if err != nil {
		t.Fatal(err)
	}
	for what, v := range map[string]any{"stored": stored, "read": got.Snapshot(), "listed": listed.Items[0].Snapshot()} {
		if s := fmt.Sprintf("%+v %s", v, v); strings.Contains(s, plain) || strings.Contains(s, plain[tenancy.KeyPrefixLen:]) {
			t.Errorf("the %s key holds the plaintext: %s", what, s)
		}
	}
	// What is returned works, for whom it was made.
	who, err := e.authn.Authenticate(e.ctx, plain)
	want := tenancy.Principal{KeyID: k.ID(), UserID: e.acmeUser.ID(), AccountID: e.acme}
	if err != nil || who != want {
		t.Errorf("Authenticate = %+v, %v; want %+v", who, err, want)
	}

	k2, plain2 := e.newKey(e.regular, ports.CreateAPIKey{UserID: e.acmeUser.ID()})
	if plain2 == plain || bytes.Equal(k2.Hash(), k.Hash()) || k2.ID() == k.ID() {
		t.Error("two keys share a plaintext, hash or ID")
	}
}

func TestCreateAPIKey(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		super   bool
		named   string // "", "acme" or "other"
		user    string // "acmeUser", "acmeAdmin", "otherUser", "root", "unknown" or "" (none)
		keyName string
		expires time.Duration // from now; 0: never
		limit   *string       // the rate_limit sent; nil: none
		wantErr error
		invalid []string
	}{
		{name: "regular, for a user of own account", user: "acmeUser"},
		{name: "superadmin gives a key its own limit", super: true, named: "acme", user: "acmeUser", limit: ptr("50/m")},
		{name: "regular gives a key its own limit", user: "acmeUser", limit: ptr("50/m"), wantErr: auth.ErrSuperadminRequired},
		{name: "regular asks for the default limit", user: "acmeUser", limit: ptr(""), invalid: []string{"rate_limit"}},
		{name: "bad limit beats superadmin required", user: "acmeUser", limit: ptr("fast"), invalid: []string{"rate_limit"}},
		{name: "bad limit and bad name", super: true, named: "acme", user: "acmeUser", keyName: " ", limit: ptr("0/s"), invalid: []string{"name", "rate_limit"}},
		{name: "regular names own account", named: "acme", user: "acmeUser"},
		{name: "regular, for a superadmin user of own account", user: "acmeAdmin", wantErr: auth.ErrSuperadminRequired},
		{name: "superadmin, for a superadmin user", super: true, named: "acme", user: "acmeAdmin"},
		{name: "regular, for another account's user", user: "otherUser", wantErr: tenancy.ErrUserNotFound},
		{name: "regular, for the superadmin's user", user: "root", wantErr: tenancy.ErrUserNotFound},
		{name: "regular names another account", named: "other", user: "otherUser", wantErr: auth.ErrAccountDenied},
		{name: "superadmin, user of another account than named", super: true, named: "acme", user: "otherUser", wantErr: tenancy.ErrUserNotFound},
		{name: "superadmin, user of the named account", super: true, named: "other", user: "otherUser"},
		{name: "unknown user", user: "unknown", wantErr: tenancy.ErrUserNotFound},
		{name: "with an expiry", user: "acmeUser", expires: time.Hour},
		{name: "no user", invalid: []string{"user_id"}},
		{name: "no name", user: "acmeUser", keyName: " ", invalid: []string{"name"}},
		{name: "expired already", user: "acmeUser", expires: -time.Second, invalid: []string{"expires_at"}},
		{name: "superadmin without account", super: true, user: "otherUser", invalid: []string{"account_id"}},
		{name: "invalid beats another account", named: "other", user: "otherUser", keyName: " ", invalid: []string{"name"}},
		{name: "invalid beats superadmin required", user: "acmeAdmin", expires: -time.Hour, invalid: []string{"expires_at"}},
		{name: "invalid beats not found", user: "unknown", keyName: strings.Repeat("k", 101), invalid: []string{"name"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			accounts := map[string]id.AccountID{"acme": e.acme, "other": e.other}
			users := map[string]id.UserID{
				"acmeUser": e.acmeUser.ID(), "acmeAdmin": e.acmeAdmin.ID(), "otherUser": e.otherUser.ID(),
				"root": e.root.ID(), "unknown": id.New[id.User](),
			}
			p := e.regular
			if tt.super {
				p = e.super
			}
			c := ports.CreateAPIKey{AccountID: accounts[tt.named], UserID: users[tt.user], Name: "game server"}
			if tt.keyName != "" {
				c.Name = tt.keyName
			}
			if tt.expires != 0 {
				c.ExpiresAt = e.clock.Now().Add(tt.expires)
			}
			if tt.limit != nil {
				c.RateLimit = ports.Setting{Given: true, Value: tt.limit}
			}
			before := e.counts()[2]
			k, plain, err := e.svc.CreateAPIKey(e.ctx, p, c)
			if !outcome(t, err, tt.wantErr, tt.invalid) {
				if k != nil || plain != "" {
					t.Errorf("got key %v and plaintext %q with an error", k, plain)
				}
				if n := e.counts()[2]; n != before {
					t.Errorf("a refused create stored %d keys", n-before)
				}
				return
			}
			if k.UserID() != c.UserID || plain == "" {
				t.Errorf("key of user %s, plaintext %q", k.UserID(), plain)
			}
			who, err := e.authn.Authenticate(e.ctx, plain)
			if err != nil || who.UserID != c.UserID {
				t.Errorf("Authenticate = %+v, %v", who, err)
			}
			// The key's own limit travels with whoever uses it.
			if want := deref(tt.limit); k.RateLimit().String() != want || who.RateLimit.String() != want {
				t.Errorf("rate limit %q, authenticated with %q; want %q", k.RateLimit(), who.RateLimit, want)
			}
		})
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func TestGetAPIKey(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	mine, _ := e.newKey(e.regular, ports.CreateAPIKey{UserID: e.acmeUser.ID()})
	theirs, _ := e.newKey(e.super, ports.CreateAPIKey{AccountID: e.other, UserID: e.otherUser.ID()})
	tests := []struct {
		name    string
		p       tenancy.Principal
		key     id.APIKeyID
		wantErr error
	}{
		{"own key", e.regular, mine.ID(), nil},
		{"another account's key", e.regular, theirs.ID(), tenancy.ErrAPIKeyAccess},
		{"unknown key", e.regular, id.New[id.APIKey](), tenancy.ErrAPIKeyNotFound},
		{"superadmin, any key", e.super, theirs.ID(), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := e.svc.GetAPIKey(e.ctx, tt.p, tt.key)
			if outcome(t, err, tt.wantErr, nil) && k.ID() != tt.key {
				t.Errorf("got %s, want %s", k.ID(), tt.key)
			}
		})
	}
}

func TestListAPIKeys(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	dev1, _ := e.newKey(e.regular, ports.CreateAPIKey{UserID: e.acmeUser.ID()})
	dev2, _ := e.newKey(e.regular, ports.CreateAPIKey{UserID: e.acmeUser.ID()})
	admin, _ := e.newKey(e.super, ports.CreateAPIKey{AccountID: e.acme, UserID: e.acmeAdmin.ID()})
	theirs, _ := e.newKey(e.super, ports.CreateAPIKey{AccountID: e.other, UserID: e.otherUser.ID()})
	tests := []struct {
		name string
		p    tenancy.Principal
		q    ports.ListAPIKeys
		want []*tenancy.APIKey
	}{
		{"regular sees own account", e.regular, ports.ListAPIKeys{}, []*tenancy.APIKey{dev1, dev2, admin}},
		{"regular names own account", e.regular, ports.ListAPIKeys{AccountID: e.acme}, []*tenancy.APIKey{dev1, dev2, admin}},
		{"regular, by user", e.regular, ports.ListAPIKeys{UserID: e.acmeUser.ID()}, []*tenancy.APIKey{dev1, dev2}},
		{"regular, another account's user", e.regular, ports.ListAPIKeys{UserID: e.otherUser.ID()}, nil},
		{"superadmin sees all", e.super, ports.ListAPIKeys{}, []*tenancy.APIKey{dev1, dev2, admin, theirs}},
		{"superadmin names one", e.super, ports.ListAPIKeys{AccountID: e.other}, []*tenancy.APIKey{theirs}},
		{"superadmin, by user", e.super, ports.ListAPIKeys{UserID: e.acmeAdmin.ID()}, []*tenancy.APIKey{admin}},
		{"small pages", e.super, ports.ListAPIKeys{Page: paging.Params{Limit: 1}}, []*tenancy.APIKey{dev1, dev2, admin, theirs}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := walk(t, tt.q.Page, func(pp paging.Params) (paging.Page[*tenancy.APIKey], error) {
				q := tt.q
				q.Page = pp
				return e.svc.ListAPIKeys(e.ctx, tt.p, q)
			})
			if !slices.Equal(idsOf[id.APIKeyID](got), idsOf[id.APIKeyID](tt.want)) {
				t.Errorf("listed %v, want %v", idsOf[id.APIKeyID](got), idsOf[id.APIKeyID](tt.want))
			}
		})
	}
	if _, err := e.svc.ListAPIKeys(e.ctx, e.regular, ports.ListAPIKeys{AccountID: e.other}); !errors.Is(err, auth.ErrAccountDenied) {
		t.Errorf("regular user naming another account: %v, want ErrAccountDenied", err)
	}
	first, err := e.svc.ListAPIKeys(e.ctx, e.regular, ports.ListAPIKeys{Page: paging.Params{Limit: 1}})
	if err != nil || first.Next == "" {
		t.Fatalf("first page: %+v, %v", first, err)
	}
	if _, err := e.svc.ListAPIKeys(e.ctx, e.regular, ports.ListAPIKeys{UserID: e.acmeUser.ID(), Page: paging.Params{Cursor: first.Next}}); !errors.Is(err, cursor.ErrCursorState) {
		t.Errorf("cursor without a user filter used with one: %v, want ErrCursorState", err)
	}
}

func TestUpdateAPIKeyRevokes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	k, plain := e.newKey(e.regular, ports.CreateAPIKey{UserID: e.acmeUser.ID()})
	e.clock.Advance(time.Hour)
	got, err := e.svc.UpdateAPIKey(e.ctx, e.regular, ports.UpdateAPIKey{ID: k.ID(), Status: ptr("revoked")})
	if err != nil {
		t.Fatal(err)
	}
	revokedAt := domain.Timestamp(e.clock.Now())
	for what, s := range map[string]tenancy.APIKeySnapshot{"returned": got.Snapshot(), "stored": e.storedKey(k.ID())} {
		if s.Status != tenancy.KeyRevoked || s.UpdatedAt != revokedAt || s.CreatedAt != k.CreatedAt() {
			t.Errorf("%s key = %+v; want revoked at %v", what, s, revokedAt)
		}
	}
	if _, err := e.authn.Authenticate(e.ctx, plain); !errors.Is(err, tenancy.ErrKeyInvalid) {
		t.Errorf("a revoked key authenticates: %v", err)
	}

	// Revoking again changes nothing; revocation is final.
	e.clock.Advance(time.Hour)
	steps := []struct {
		status  *string
		wantErr error
	}{
		{ptr("revoked"), nil},
		{nil, nil},
		{ptr("active"), tenancy.ErrKeyRevoked},
	}
	for _, s := range steps {
		_, err := e.svc.UpdateAPIKey(e.ctx, e.regular, ports.UpdateAPIKey{ID: k.ID(), Status: s.status})
		if !errors.Is(err, s.wantErr) || (s.wantErr == nil) != (err == nil) {
			t.Errorf("status %v: err = %v, want %v", s.status, err, s.wantErr)
		}
		if st := e.storedKey(k.ID()); st.Status != tenancy.KeyRevoked || st.UpdatedAt != revokedAt {
			t.Errorf("status %v: stored key = %+v; want it as revoked", s.status, st)
		}
	}
}

func TestUpdateAPIKey(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		super      bool
		target     string // "mine", "theirs", "admin's" (a superadmin user's, in my account) or "unknown"
		status     *string
		limit      *ports.Setting
		wantErr    error
		invalid    []string
		wantStatus tenancy.KeyStatus // of the target, after
		wantLimit  string            // of the target, after
	}{
		// Issue 17, finding 1: a regular user locked the superadmins out.
		{name: "revoke a superadmin's key", target: "admin's", status: ptr("revoked"), wantErr: auth.ErrSuperadminRequired, wantStatus: tenancy.KeyActive},
		{name: "nothing asked of a superadmin's key", target: "admin's", wantErr: auth.ErrSuperadminRequired, wantStatus: tenancy.KeyActive},
		{name: "superadmin revokes a superadmin's key", super: true, target: "admin's", status: ptr("revoked"), wantStatus: tenancy.KeyRevoked},
		{name: "superadmin limits a key", super: true, target: "theirs", limit: &ports.Setting{Given: true, Value: ptr("5/s")}, wantStatus: tenancy.KeyActive, wantLimit: "5/s"},
		{name: "superadmin lifts a key's limit", super: true, target: "theirs", limit: &ports.Setting{Given: true, Value: ptr("off")}, wantStatus: tenancy.KeyActive, wantLimit: "off"},
		{name: "superadmin limits and revokes", super: true, target: "mine", status: ptr("revoked"), limit: &ports.Setting{Given: true, Value: ptr("1/h")}, wantStatus: tenancy.KeyRevoked, wantLimit: "1/h"},
		{name: "regular limits own key", target: "mine", limit: &ports.Setting{Given: true, Value: ptr("5/s")}, wantErr: auth.ErrSuperadminRequired, wantStatus: tenancy.KeyActive},
		{name: "regular asks for the default limit", target: "mine", limit: &ports.Setting{Given: true}, wantErr: auth.ErrSuperadminRequired, wantStatus: tenancy.KeyActive},
		{name: "bad limit beats access", target: "theirs", limit: &ports.Setting{Given: true, Value: ptr("5/d")}, invalid: []string{"rate_limit"}, wantStatus: tenancy.KeyActive},
		{name: "bad limit and bad status", super: true, target: "mine", status: ptr("paused"), limit: &ports.Setting{Given: true, Value: ptr("-1/s")}, invalid: []string{"rate_limit", "status"}, wantStatus: tenancy.KeyActive},
		{name: "revoke own", target: "mine", status: ptr("revoked"), wantStatus: tenancy.KeyRevoked},
		{name: "keep own active", target: "mine", status: ptr("active"), wantStatus: tenancy.KeyActive},
		{name: "nothing asked", target: "mine", wantStatus: tenancy.KeyActive},
		{name: "revoke another account's", target: "theirs", status: ptr("revoked"), wantErr: tenancy.ErrAPIKeyAccess, wantStatus: tenancy.KeyActive},
		{name: "nothing asked of another account's", target: "theirs", wantErr: tenancy.ErrAPIKeyAccess, wantStatus: tenancy.KeyActive},
		{name: "superadmin revokes any", super: true, target: "theirs", status: ptr("revoked"), wantStatus: tenancy.KeyRevoked},
		{name: "unknown key", target: "unknown", status: ptr("revoked"), wantErr: tenancy.ErrAPIKeyNotFound},
		{name: "bad status", target: "mine", status: ptr("paused"), invalid: []string{"status"}, wantStatus: tenancy.KeyActive},
		{name: "status is case-sensitive", target: "mine", status: ptr("Revoked"), invalid: []string{"status"}, wantStatus: tenancy.KeyActive},
		{name: "bad status beats access", target: "theirs", status: ptr(""), invalid: []string{"status"}, wantStatus: tenancy.KeyActive},
		{name: "bad status beats existence", target: "unknown", status: ptr("paused"), invalid: []string{"status"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			mine, _ := e.newKey(e.regular, ports.CreateAPIKey{UserID: e.acmeUser.ID()})
			theirs, theirPlain := e.newKey(e.super, ports.CreateAPIKey{AccountID: e.other, UserID: e.otherUser.ID()})
			admins, _ := e.newKey(e.super, ports.CreateAPIKey{AccountID: e.acme, UserID: e.acmeAdmin.ID()})
			keys := map[string]id.APIKeyID{"mine": mine.ID(), "theirs": theirs.ID(), "admin's": admins.ID(), "unknown": id.New[id.APIKey]()}
			p := e.regular
			if tt.super {
				p = e.super
			}
			e.clock.Advance(time.Hour)
			c := ports.UpdateAPIKey{ID: keys[tt.target], Status: tt.status}
			if tt.limit != nil {
				c.RateLimit = *tt.limit
			}
			got, err := e.svc.UpdateAPIKey(e.ctx, p, c)
			if outcome(t, err, tt.wantErr, tt.invalid) {
				if got.ID() != keys[tt.target] || got.Status() != tt.wantStatus {
					t.Errorf("returned %+v, want status %v", got.Snapshot(), tt.wantStatus)
				}
			} else if got != nil {
				t.Errorf("got key %+v with an error", got.Snapshot())
			}
			if tt.target == "unknown" {
				return
			}
			stored := e.storedKey(keys[tt.target])
			if stored.Status != tt.wantStatus || stored.RateLimit.String() != tt.wantLimit {
				t.Errorf("stored status %v, rate limit %q; want %v, %q", stored.Status, stored.RateLimit, tt.wantStatus, tt.wantLimit)
			}
			if tt.wantStatus == tenancy.KeyActive && tt.wantLimit == "" && stored.UpdatedAt != mine.UpdatedAt() {
				t.Errorf("a key that stayed active moved its updated_at to %v", stored.UpdatedAt)
			}
			// The other tenant's key is refused or revoked, never half-changed.
			_, authErr := e.authn.Authenticate(e.ctx, theirPlain)
			if revoked := tt.target == "theirs" && tt.wantStatus == tenancy.KeyRevoked; revoked != (authErr != nil) {
				t.Errorf("their key authenticates: %v, want revoked %v", authErr, revoked)
			}
		})
	}
}
