package auth_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/leadr-oss/identity/application/apptest"
	"github.com/leadr-oss/identity/application/auth"
	"github.com/leadr-oss/identity/domain"
	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/domain/tenancy"
	"github.com/leadr-oss/identity/ports"
	"github.com/leadr-oss/identity/ports/paging"
)

var (
	own     = id.New[id.Account]()
	other   = id.New[id.Account]()
	regular = tenancy.Principal{KeyID: id.New[id.APIKey](), UserID: id.New[id.User](), AccountID: own}
	super   = tenancy.Principal{KeyID: id.New[id.APIKey](), UserID: id.New[id.User](), AccountID: own, SuperAdmin: true}
	none    id.AccountID
)

func TestListScope(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		p       tenancy.Principal
		named   id.AccountID
		want    id.AccountID
		wantErr error
	}{
		{"regular, none named: own", regular, none, own, nil},
		{"regular, own named", regular, own, own, nil},
		{"regular, other named", regular, other, none, auth.ErrAccountDenied},
		{"superadmin, none named: all", super, none, none, nil},
		{"superadmin, own named", super, own, own, nil},
		{"superadmin, other named", super, other, other, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := auth.ListScope(tt.p, tt.named)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("scope = %q, want %q", got, tt.want)
			}
			// CheckNamed is ListScope's check without the scope.
			if err := auth.CheckNamed(tt.p, tt.named); !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Errorf("CheckNamed: err = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestTargetAccount(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		p           tenancy.Principal
		named       id.AccountID
		want        id.AccountID
		wantErr     error
		wantMissing bool
	}{
		{name: "regular, none named: own", p: regular, named: none, want: own},
		{name: "regular, own named", p: regular, named: own, want: own},
		// The named account comes back with the refusal, so validation can go on.
		{name: "regular, other named", p: regular, named: other, want: other, wantErr: auth.ErrAccountDenied},
		{name: "superadmin, none named", p: super, named: none, want: none, wantMissing: true},
		{name: "superadmin, own named", p: super, named: own, want: own},
		{name: "superadmin, other named", p: super, named: other, want: other},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := auth.TargetAccount(tt.p, tt.named)
			switch {
			case tt.wantMissing:
				var de *domain.Error
				if !errors.As(err, &de) || de.Category != domain.CategoryInvalid || de.Field != "account_id" || de.Rule != domain.Required {
					t.Fatalf("err = %v, want Missing(account_id)", err)
				}
			case tt.wantErr != nil:
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
			case err != nil:
				t.Fatalf("unexpected error %v", err)
			}
			if got != tt.want {
				t.Errorf("account = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestCheckOwner(t *testing.T) {
	t.Parallel()
	denied := domain.Forbidden("no")
	tests := []struct {
		name  string
		p     tenancy.Principal
		owner id.AccountID
		want  error
	}{
		{"regular, own resource", regular, own, nil},
		{"regular, other's resource", regular, other, denied},
		{"superadmin, own resource", super, own, nil},
		{"superadmin, other's resource", super, other, nil},
		{"regular without account, owned resource", tenancy.Principal{}, other, denied},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if err := auth.CheckOwner(tt.p, tt.owner, denied); err != tt.want {
				t.Errorf("CheckOwner = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestCheckAccess(t *testing.T) {
	t.Parallel()
	denied, notFound := domain.Forbidden("no"), domain.NotFound("none")
	tests := []struct {
		name         string
		p            tenancy.Principal
		named, owner id.AccountID
		want         error
	}{
		{"regular, own resource", regular, none, own, nil},
		{"regular, own resource, own named", regular, own, own, nil},
		{"regular, other's resource", regular, none, other, denied},
		{"regular, other's resource, own named", regular, own, other, denied},
		{"superadmin, any resource", super, none, other, nil},
		{"superadmin, resource in the named account", super, other, other, nil},
		{"superadmin, resource outside the named account", super, own, other, notFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if err := auth.CheckAccess(tt.p, tt.named, tt.owner, denied, notFound); err != tt.want {
				t.Errorf("CheckAccess = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestRequireSuperadmin(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		p    tenancy.Principal
		want error
	}{
		{"superadmin", super, nil},
		{"regular", regular, auth.ErrSuperadminRequired},
		{"zero principal", tenancy.Principal{}, auth.ErrSuperadminRequired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := auth.RequireSuperadmin(tt.p)
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if tt.want != nil {
				if domain.CategoryOf(err) != domain.CategoryForbidden || err.Error() != "Superadmin access required" {
					t.Errorf("err = %v (category %v)", err, domain.CategoryOf(err))
				}
			}
		})
	}
}

func TestHasher(t *testing.T) {
	t.Parallel()
	a, b := auth.NewHasher([]byte("pepper one")), auth.NewHasher([]byte("pepper two"))
	key := tenancy.GenerateKey()
	if first, again := a.Hash(key), a.Hash(key); string(first) != string(again) {
		t.Error("Hash is not deterministic")
	}
	if len(a.Hash(key)) != 32 {
		t.Errorf("hash has %d bytes, want 32 (SHA-256)", len(a.Hash(key)))
	}
	if string(a.Hash(key)) == string(b.Hash(key)) {
		t.Error("the pepper does not change the hash")
	}
	if string(a.Hash(key)) == string(a.Hash(tenancy.GenerateKey())) {
		t.Error("two keys hash alike")
	}
}

type clock struct{ now time.Time }

func (c *clock) Now() time.Time { return c.now }

type authEnv struct {
	ctx    context.Context
	mem    *apptest.Memory
	hasher auth.Hasher
	clock  *clock
	authn  *auth.Authenticator
}

func newAuthEnv() *authEnv {
	e := &authEnv{
		ctx:    context.Background(),
		mem:    apptest.NewMemory(),
		hasher: auth.NewHasher([]byte("test pepper")),
		clock:  &clock{now: time.Date(2025, 6, 1, 10, 0, 0, 0, time.UTC)},
	}
	e.authn = auth.NewAuthenticator(e.mem.Tenancy(), e.hasher, e.clock.Now)
	return e
}

// issue stores an account, a user and a key for it, and returns the key's
// plaintext, the key and the user.
func (e *authEnv) issue(t *testing.T, slug string, superAdmin bool, expiresAt time.Time) (string, *tenancy.APIKey, *tenancy.User) {
	t.Helper()
	repo := e.mem.Tenancy()
	a, err := tenancy.NewAccount(slug, slug, e.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := repo.CreateAccount(e.ctx, a); err != nil {
		t.Fatal(err)
	}
	u, err := tenancy.NewUser(a.ID(), slug+"@example.com", "User "+slug, superAdmin, e.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := repo.CreateUser(e.ctx, u); err != nil {
		t.Fatal(err)
	}
	plaintext := tenancy.GenerateKey()
	k, err := tenancy.NewAPIKey(a.ID(), u.ID(), "key", plaintext, e.hasher.Hash(plaintext), expiresAt, e.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := repo.CreateAPIKey(e.ctx, k); err != nil {
		t.Fatal(err)
	}
	return plaintext, k, u
}

func TestAuthenticate(t *testing.T) {
	t.Parallel()
	e := newAuthEnv()
	now := e.clock.Now()
	regularKey, regularAPIKey, regularUser := e.issue(t, "acme", false, time.Time{})
	superKey, superAPIKey, superUser := e.issue(t, "system", true, time.Time{})
	expiringKey, expiringAPIKey, expiringUser := e.issue(t, "expiring", false, now.Add(time.Hour))
	revokedKey, revoked, _ := e.issue(t, "revoked", false, time.Time{})
	if _, err := e.mem.Tenancy().UpdateAPIKey(e.ctx, revoked.ID(), func(k *tenancy.APIKey, _ *tenancy.User) error {
		_, err := k.SetStatus(tenancy.KeyRevoked, now)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	// A key stored under another pepper's hash is unknown to this service.
	otherPepper := auth.NewHasher([]byte("another pepper"))
	foreignKey := tenancy.GenerateKey()
	{
		_, k, u := e.issue(t, "foreign", false, time.Time{})
		fk, err := tenancy.NewAPIKey(k.AccountID(), u.ID(), "foreign", foreignKey, otherPepper.Hash(foreignKey), time.Time{}, now)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.mem.Tenancy().CreateAPIKey(e.ctx, fk); err != nil {
			t.Fatal(err)
		}
	}

	tests := []struct {
		name    string
		key     string
		at      time.Time
		want    tenancy.Principal
		wantErr error
	}{
		{name: "empty", key: "", at: now, wantErr: tenancy.ErrKeyRequired},
		{name: "malformed", key: "not-a-key", at: now, wantErr: tenancy.ErrKeyInvalid},
		{name: "malformed: valid key with a character more", key: regularKey + "A", at: now, wantErr: tenancy.ErrKeyInvalid},
		{name: "malformed: valid key cut short", key: regularKey[:len(regularKey)-1], at: now, wantErr: tenancy.ErrKeyInvalid},
		{name: "malformed: padded", key: " " + regularKey, at: now, wantErr: tenancy.ErrKeyInvalid},
		{name: "unknown", key: tenancy.GenerateKey(), at: now, wantErr: tenancy.ErrKeyInvalid},
		{name: "hashed under another pepper", key: foreignKey, at: now, wantErr: tenancy.ErrKeyInvalid},
		{name: "revoked", key: revokedKey, at: now.Add(time.Minute), wantErr: tenancy.ErrKeyInvalid},
		{name: "expired", key: expiringKey, at: now.Add(2 * time.Hour), wantErr: tenancy.ErrKeyInvalid},
		{name: "at its expiry", key: expiringKey, at: now.Add(time.Hour), wantErr: tenancy.ErrKeyInvalid},
		{
			name: "before its expiry", key: expiringKey, at: now.Add(59 * time.Minute),
			want: tenancy.Principal{KeyID: expiringAPIKey.ID(), UserID: expiringUser.ID(), AccountID: expiringUser.AccountID()},
		},
		{
			name: "regular", key: regularKey, at: now.Add(24 * time.Hour),
			want: tenancy.Principal{KeyID: regularAPIKey.ID(), UserID: regularUser.ID(), AccountID: regularUser.AccountID()},
		},
		{
			name: "superadmin", key: superKey, at: now,
			want: tenancy.Principal{KeyID: superAPIKey.ID(), UserID: superUser.ID(), AccountID: superUser.AccountID(), SuperAdmin: true},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.clock.now = tt.at
			p, err := e.authn.Authenticate(e.ctx, tt.key)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				if domain.CategoryOf(err) != domain.CategoryUnauthenticated {
					t.Errorf("category = %v, want unauthenticated", domain.CategoryOf(err))
				}
				if p != (tenancy.Principal{}) {
					t.Errorf("got principal %+v with an error", p)
				}
				return
			}
			if err != nil {
				t.Fatalf("Authenticate: %v", err)
			}
			if p != tt.want {
				t.Errorf("principal = %+v, want %+v", p, tt.want)
			}
		})
	}
}

func TestBootstrapGenerated(t *testing.T) {
	t.Parallel()
	e := newAuthEnv()
	generated, created, err := auth.Bootstrap(e.ctx, e.mem.Tenancy(), e.hasher, e.clock.Now, "")
	if err != nil {
		t.Fatal(err)
	}
	if !created {
		t.Fatal("first bootstrap created nothing")
	}
	if !tenancy.WellFormedKey(generated) {
		t.Fatalf("generated key %q is not well-formed", generated)
	}
	p, err := e.authn.Authenticate(e.ctx, generated)
	if err != nil {
		t.Fatalf("the generated key does not authenticate: %v", err)
	}
	if !p.SuperAdmin {
		t.Error("the bootstrap key is not a superadmin's")
	}
	a, err := e.mem.Tenancy().GetAccount(e.ctx, p.AccountID)
	if err != nil {
		t.Fatal(err)
	}
	if a.Slug() != auth.SystemAccountSlug || a.Name() != auth.SystemAccountName {
		t.Errorf("account = %q/%q, want the system account", a.Name(), a.Slug())
	}
	u, err := e.mem.Tenancy().GetUser(e.ctx, p.UserID)
	if err != nil {
		t.Fatal(err)
	}
	if u.Email() != auth.SuperadminEmail || !u.SuperAdmin() {
		t.Errorf("user = %q (superadmin %v)", u.Email(), u.SuperAdmin())
	}
	k, err := e.mem.Tenancy().GetAPIKey(e.ctx, p.KeyID)
	if err != nil {
		t.Fatal(err)
	}
	if string(k.Hash()) != string(e.hasher.Hash(generated)) || k.Prefix() != generated[:tenancy.KeyPrefixLen] {
		t.Error("the stored key is not the hash of the generated plaintext")
	}

	// Idempotent: a second run creates nothing and shows no key.
	again, created, err := auth.Bootstrap(e.ctx, e.mem.Tenancy(), e.hasher, e.clock.Now, "")
	if err != nil {
		t.Fatal(err)
	}
	if created || again != "" {
		t.Errorf("second bootstrap: created = %v, key = %q; want nothing", created, again)
	}
	if n := countKeys(t, e); n != 1 {
		t.Errorf("%d keys after two bootstraps, want 1", n)
	}
	if _, err := e.authn.Authenticate(e.ctx, generated); err != nil {
		t.Errorf("the first key stopped working: %v", err)
	}
}

func TestBootstrapConfigured(t *testing.T) {
	t.Parallel()
	e := newAuthEnv()
	configured := tenancy.GenerateKey()
	shown, created, err := auth.Bootstrap(e.ctx, e.mem.Tenancy(), e.hasher, e.clock.Now, configured)
	if err != nil {
		t.Fatal(err)
	}
	if !created {
		t.Fatal("bootstrap created nothing")
	}
	if shown != "" {
		t.Errorf("bootstrap showed %q for a configured key; it must show nothing", shown)
	}
	p, err := e.authn.Authenticate(e.ctx, configured)
	if err != nil || !p.SuperAdmin {
		t.Fatalf("the configured key: principal %+v, err %v", p, err)
	}

	// A second run, even with another configured key, changes nothing.
	second := tenancy.GenerateKey()
	shown, created, err = auth.Bootstrap(e.ctx, e.mem.Tenancy(), e.hasher, e.clock.Now, second)
	if err != nil || created || shown != "" {
		t.Errorf("second bootstrap: %q, %v, %v; want nothing created", shown, created, err)
	}
	if _, err := e.authn.Authenticate(e.ctx, second); !errors.Is(err, tenancy.ErrKeyInvalid) {
		t.Errorf("the second configured key authenticates: %v", err)
	}
	if n := countKeys(t, e); n != 1 {
		t.Errorf("%d keys, want 1", n)
	}
}

func TestBootstrapRejectsMalformedConfiguredKey(t *testing.T) {
	t.Parallel()
	e := newAuthEnv()
	shown, created, err := auth.Bootstrap(e.ctx, e.mem.Tenancy(), e.hasher, e.clock.Now, "ldr_too-short")
	if err == nil || created || shown != "" {
		t.Fatalf("malformed configured key: %q, %v, %v; want an error", shown, created, err)
	}
	if n := countKeys(t, e); n != 0 {
		t.Errorf("%d keys stored, want 0", n)
	}
}

func TestBootstrapWhenASuperadminExists(t *testing.T) {
	t.Parallel()
	e := newAuthEnv()
	e.issue(t, "acme", true, time.Time{})
	shown, created, err := auth.Bootstrap(e.ctx, e.mem.Tenancy(), e.hasher, e.clock.Now, "")
	if err != nil || created || shown != "" {
		t.Errorf("bootstrap with a superadmin present: %q, %v, %v; want nothing created", shown, created, err)
	}
	if n := countKeys(t, e); n != 1 {
		t.Errorf("%d keys, want 1", n)
	}
}

func countKeys(t *testing.T, e *authEnv) int {
	t.Helper()
	req := paging.Request{Sort: ports.APIKeySchema.DefaultSort(), Limit: paging.MaxLimit}
	res, err := e.mem.Tenancy().ListAPIKeys(e.ctx, ports.APIKeyFilter{}, req)
	if err != nil {
		t.Fatal(err)
	}
	return len(res.Items)
}
