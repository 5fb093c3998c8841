package tenancy_test

import (
	"encoding/base64"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/leadr-oss/identity/domain"
	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/domain/tenancy"
)

var t0 = time.Date(2025, 3, 4, 12, 30, 45, 123456789, time.FixedZone("CET", 3600))

// domainErrors walks err, including every branch of errors.Join, and returns
// each *domain.Error it finds, in order.
func domainErrors(err error) []*domain.Error {
	if err == nil {
		return nil
	}
	if de, ok := err.(*domain.Error); ok {
		return []*domain.Error{de}
	}
	switch u := err.(type) {
	case interface{ Unwrap() []error }:
		var out []*domain.Error
		for _, e := range u.Unwrap() {
			out = append(out, domainErrors(e)...)
		}
		return out
	case interface{ Unwrap() error }:
		return domainErrors(u.Unwrap())
	}
	return nil
}

// problem is one expected Invalid error: its field and the rule it breaks.
type problem struct {
	field string
	rule  domain.Rule
}

func problemsOf(t *testing.T, err error) []problem {
	t.Helper()
	var out []problem
	for _, de := range domainErrors(err) {
		if de.Category != domain.CategoryInvalid {
			t.Errorf("error %v has category %v, want CategoryInvalid", de, de.Category)
		}
		out = append(out, problem{de.Field, de.Rule})
	}
	return out
}

func TestNewAccount(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, slug string
		wantName   string
		problems   []problem
	}{
		{name: "Acme Games", slug: "acme-games", wantName: "Acme Games"},
		{name: "  Acme  ", slug: "acme", wantName: "Acme"},
		{name: "\u00a0Acme\u3000", slug: "acme", wantName: "Acme"},
		{name: "A", slug: "a", wantName: "A"},
		{name: strings.Repeat("n", 100), slug: "x", wantName: strings.Repeat("n", 100)},
		{name: strings.Repeat("é", 100), slug: "x", wantName: strings.Repeat("é", 100)},
		{name: "Studio", slug: "0", wantName: "Studio"},
		{name: "Studio", slug: "a1-b2--c3", wantName: "Studio"},
		{name: "Studio", slug: strings.Repeat("s", 50), wantName: "Studio"},

		{name: "", slug: "acme", problems: []problem{{"name", domain.MinLength}}},
		{name: "   ", slug: "acme", problems: []problem{{"name", domain.MinLength}}},
		{name: strings.Repeat("n", 101), slug: "acme", problems: []problem{{"name", domain.MaxLength}}},
		{name: strings.Repeat("é", 101), slug: "acme", problems: []problem{{"name", domain.MaxLength}}},
		{name: "Ac\u0000me", slug: "acme", problems: []problem{{"name", domain.Custom}}},
		{name: "Acme", slug: "", problems: []problem{{"slug", domain.Custom}}},
		{name: "Acme", slug: strings.Repeat("s", 51), problems: []problem{{"slug", domain.Custom}}},
		{name: "Acme", slug: "Acme", problems: []problem{{"slug", domain.Custom}}},
		{name: "Acme", slug: "-acme", problems: []problem{{"slug", domain.Custom}}},
		{name: "Acme", slug: "acme-", problems: []problem{{"slug", domain.Custom}}},
		{name: "Acme", slug: "-", problems: []problem{{"slug", domain.Custom}}},
		{name: "Acme", slug: "ac_me", problems: []problem{{"slug", domain.Custom}}},
		{name: "Acme", slug: "ac me", problems: []problem{{"slug", domain.Custom}}},
		{name: "Acme", slug: " acme", problems: []problem{{"slug", domain.Custom}}},
		{name: "Acme", slug: "acme\n", problems: []problem{{"slug", domain.Custom}}},
		{name: "Acme", slug: "acmé", problems: []problem{{"slug", domain.Custom}}},
		{name: "", slug: "BAD", problems: []problem{{"name", domain.MinLength}, {"slug", domain.Custom}}},
	}
	for _, tt := range tests {
		t.Run(tt.name+"|"+tt.slug, func(t *testing.T) {
			t.Parallel()
			a, err := tenancy.NewAccount(tt.name, tt.slug, t0)
			if tt.problems != nil {
				if a != nil {
					t.Errorf("got account %v with an error", a)
				}
				if got := problemsOf(t, err); !slices.Equal(got, tt.problems) {
					t.Errorf("problems = %v, want %v (%v)", got, tt.problems, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("NewAccount(%q, %q): %v", tt.name, tt.slug, err)
			}
			if a.Name() != tt.wantName || a.Slug() != tt.slug {
				t.Errorf("name, slug = %q, %q; want %q, %q", a.Name(), a.Slug(), tt.wantName, tt.slug)
			}
			want := domain.Timestamp(t0)
			if a.CreatedAt() != want || a.UpdatedAt() != want {
				t.Errorf("created_at, updated_at = %v, %v; want %v", a.CreatedAt(), a.UpdatedAt(), want)
			}
			if a.ID().IsZero() || !strings.HasPrefix(a.ID().String(), "acc_") {
				t.Errorf("ID = %q", a.ID())
			}
			if back := tenancy.RehydrateAccount(a.Snapshot()); back.Snapshot() != a.Snapshot() {
				t.Errorf("snapshot round trip: %+v != %+v", back.Snapshot(), a.Snapshot())
			}
		})
	}
}

func TestNewUser(t *testing.T) {
	t.Parallel()
	account := id.New[id.Account]()
	tests := []struct {
		label       string
		account     id.AccountID
		email, name string
		wantEmail   string
		wantName    string
		problems    []problem
	}{
		{label: "plain", account: account, email: "ann@example.com", name: "Ann", wantEmail: "ann@example.com", wantName: "Ann"},
		{label: "domain lower-cased, local kept", account: account, email: "Ann.Lee@Example.COM", name: "Ann", wantEmail: "Ann.Lee@example.com", wantName: "Ann"},
		{label: "trimmed", account: account, email: "  ann@example.com\t", name: "  Ann Lee \u00a0", wantEmail: "ann@example.com", wantName: "Ann Lee"},
		{label: "plus tag", account: account, email: "ann+test@sub.example.org", name: "Ann", wantEmail: "ann+test@sub.example.org", wantName: "Ann"},
		{label: "2-char name", account: account, email: "a@b.co", name: "Al", wantEmail: "a@b.co", wantName: "Al"},
		{label: "100-char name", account: account, email: "a@b.co", name: strings.Repeat("ü", 100), wantEmail: "a@b.co", wantName: strings.Repeat("ü", 100)},

		{label: "empty email", account: account, email: "", name: "Ann", problems: []problem{{"email", domain.Custom}}},
		{label: "no at", account: account, email: "ann.example.com", name: "Ann", problems: []problem{{"email", domain.Custom}}},
		{label: "two ats", account: account, email: "ann@@example.com", name: "Ann", problems: []problem{{"email", domain.Custom}}},
		{label: "no local part", account: account, email: "@example.com", name: "Ann", problems: []problem{{"email", domain.Custom}}},
		{label: "no dot in domain", account: account, email: "ann@localhost", name: "Ann", problems: []problem{{"email", domain.Custom}}},
		{label: "domain ends in dot", account: account, email: "ann@example.com.", name: "Ann", problems: []problem{{"email", domain.Custom}}},
		{label: "domain starts with dot", account: account, email: "ann@.example.com", name: "Ann", problems: []problem{{"email", domain.Custom}}},
		{label: "display-name form", account: account, email: "Ann <ann@example.com>", name: "Ann", problems: []problem{{"email", domain.Custom}}},
		{label: "angle form", account: account, email: "<ann@example.com>", name: "Ann", problems: []problem{{"email", domain.Custom}}},
		{label: "inner space", account: account, email: "ann lee@example.com", name: "Ann", problems: []problem{{"email", domain.Custom}}},
		{label: "too long", account: account, email: strings.Repeat("a", 64) + "@" + strings.Repeat("b", 186) + ".com", name: "Ann", problems: []problem{{"email", domain.Custom}}},
		{label: "1-char name", account: account, email: "ann@example.com", name: "A", problems: []problem{{"display_name", domain.MinLength}}},
		{label: "1-char name after trimming", account: account, email: "ann@example.com", name: "  A  ", problems: []problem{{"display_name", domain.MinLength}}},
		{label: "101-char name", account: account, email: "ann@example.com", name: strings.Repeat("x", 101), problems: []problem{{"display_name", domain.MaxLength}}},
		{label: "control in name", account: account, email: "ann@example.com", name: "An\u0007n", problems: []problem{{"display_name", domain.Custom}}},
		{label: "no account", email: "ann@example.com", name: "Ann", problems: []problem{{"account_id", domain.Required}}},
		{
			label: "everything wrong at once", email: "nope", name: "",
			problems: []problem{{"account_id", domain.Required}, {"email", domain.Custom}, {"display_name", domain.MinLength}},
		},
		{
			label: "email and name wrong", account: account, email: "a@b", name: strings.Repeat("x", 101),
			problems: []problem{{"email", domain.Custom}, {"display_name", domain.MaxLength}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.label, func(t *testing.T) {
			t.Parallel()
			u, err := tenancy.NewUser(tt.account, tt.email, tt.name, true, t0)
			if tt.problems != nil {
				if u != nil {
					t.Errorf("got user %v with an error", u)
				}
				if got := problemsOf(t, err); !slices.Equal(got, tt.problems) {
					t.Errorf("problems = %v, want %v (%v)", got, tt.problems, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("NewUser: %v", err)
			}
			if u.Email() != tt.wantEmail || u.DisplayName() != tt.wantName {
				t.Errorf("email, name = %q, %q; want %q, %q", u.Email(), u.DisplayName(), tt.wantEmail, tt.wantName)
			}
			if u.AccountID() != tt.account || !u.SuperAdmin() || u.ID().IsZero() {
				t.Errorf("account, superadmin, id = %v, %v, %v", u.AccountID(), u.SuperAdmin(), u.ID())
			}
			if u.CreatedAt() != domain.Timestamp(t0) || u.UpdatedAt() != domain.Timestamp(t0) {
				t.Errorf("timestamps = %v, %v", u.CreatedAt(), u.UpdatedAt())
			}
			if back := tenancy.RehydrateUser(u.Snapshot()); back.Snapshot() != u.Snapshot() {
				t.Errorf("snapshot round trip: %+v != %+v", back.Snapshot(), u.Snapshot())
			}
		})
	}
}

func TestNewUserErrorCarriesInput(t *testing.T) {
	t.Parallel()
	_, err := tenancy.NewUser(id.New[id.Account](), "not-an-email", "Ann", false, t0)
	var de *domain.Error
	if !errors.As(err, &de) {
		t.Fatalf("err = %v, want a *domain.Error", err)
	}
	if de.Field != "email" || de.Rule != domain.Custom || de.Input != "not-an-email" || de.Message != "value is not a valid email address" {
		t.Errorf("error = %+v", de)
	}
}

func TestGenerateKey(t *testing.T) {
	t.Parallel()
	const n = 1000
	seen := make(map[string]bool, n)
	for range n {
		k := tenancy.GenerateKey()
		if !tenancy.WellFormedKey(k) {
			t.Fatalf("generated key %q is not well-formed", k)
		}
		if len(k) != len("ldr_")+43 || !strings.HasPrefix(k, "ldr_") {
			t.Fatalf("generated key %q: want ldr_ and 43 characters", k)
		}
		body, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(k, "ldr_"))
		if err != nil || len(body) != 32 {
			t.Fatalf("key body of %q decodes to %d bytes (%v), want 32", k, len(body), err)
		}
		if seen[k] {
			t.Fatalf("key %q generated twice", k)
		}
		seen[k] = true
	}
}

func TestWellFormedKey(t *testing.T) {
	t.Parallel()
	body := "abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123-_Z" // 43 url-safe characters
	if len(body) != 43 {
		t.Fatalf("test body has %d characters", len(body))
	}
	tests := []struct {
		name string
		key  string
		want bool
	}{
		{"valid", "ldr_" + body, true},
		{"all dashes", "ldr_" + strings.Repeat("-", 43), true},
		{"empty", "", false},
		{"scheme only", "ldr_", false},
		{"42 chars", "ldr_" + body[:42], false},
		{"44 chars", "ldr_" + body + "A", false},
		{"no scheme", body + "AAAA", false},
		{"upper-case scheme", "LDR_" + body, false},
		{"other scheme", "ldk_" + body, false},
		{"dash scheme", "ldr-" + body, false},
		{"plus (std base64)", "ldr_" + body[:42] + "+", false},
		{"slash (std base64)", "ldr_" + body[:42] + "/", false},
		{"padding", "ldr_" + body[:42] + "=", false},
		{"space", "ldr_" + body[:42] + " ", false},
		{"leading space", " ldr_" + body[:42], false},
		{"dot", "ldr_" + body[:42] + ".", false},
		{"non-ASCII", "ldr_" + body[:41] + "é", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tenancy.WellFormedKey(tt.key); got != tt.want {
				t.Errorf("WellFormedKey(%q) = %v, want %v", tt.key, got, tt.want)
			}
		})
	}
}

func newKey(t *testing.T, expiresAt time.Time) (*tenancy.APIKey, string) {
	t.Helper()
	plaintext := tenancy.GenerateKey()
	k, err := tenancy.NewAPIKey(id.New[id.Account](), id.New[id.User](), "CI key", plaintext, []byte("hash"), expiresAt, t0)
	if err != nil {
		t.Fatal(err)
	}
	return k, plaintext
}

func TestNewAPIKey(t *testing.T) {
	t.Parallel()
	account, user := id.New[id.Account](), id.New[id.User]()
	plaintext := tenancy.GenerateKey()
	expires := t0.Add(24 * time.Hour)
	k, err := tenancy.NewAPIKey(account, user, "  CI key ", plaintext, []byte{1, 2, 3}, expires, t0)
	if err != nil {
		t.Fatal(err)
	}
	if k.Prefix() != plaintext[:14] || len(k.Prefix()) != tenancy.KeyPrefixLen || !strings.HasPrefix(k.Prefix(), "ldr_") {
		t.Errorf("prefix = %q, want %q", k.Prefix(), plaintext[:14])
	}
	if strings.Contains(k.Prefix(), plaintext[14:]) {
		t.Error("the prefix holds the secret part of the key")
	}
	if k.AccountID() != account || k.UserID() != user || k.Name() != "CI key" {
		t.Errorf("account, user, name = %v, %v, %q", k.AccountID(), k.UserID(), k.Name())
	}
	if k.Status() != tenancy.KeyActive {
		t.Errorf("status = %v, want active", k.Status())
	}
	if k.ExpiresAt() != domain.Timestamp(expires) || k.CreatedAt() != domain.Timestamp(t0) || k.UpdatedAt() != domain.Timestamp(t0) {
		t.Errorf("expires, created, updated = %v, %v, %v", k.ExpiresAt(), k.CreatedAt(), k.UpdatedAt())
	}
	if string(k.Hash()) != "\x01\x02\x03" {
		t.Errorf("hash = %v", k.Hash())
	}
	// The hash cannot be changed through what the key hands out.
	k.Hash()[0] = 9
	k.Snapshot().Hash[0] = 9
	if k.Hash()[0] != 1 {
		t.Error("Hash() or Snapshot() exposed the key's own hash slice")
	}
	back := tenancy.RehydrateAPIKey(k.Snapshot())
	if got, want := back.Snapshot(), k.Snapshot(); got.ID != want.ID || got.Prefix != want.Prefix ||
		string(got.Hash) != string(want.Hash) || got.Status != want.Status || got.ExpiresAt != want.ExpiresAt ||
		got.CreatedAt != want.CreatedAt || got.UpdatedAt != want.UpdatedAt || got.Name != want.Name {
		t.Errorf("snapshot round trip: %+v != %+v", got, want)
	}
}

func TestNewAPIKeyRejects(t *testing.T) {
	t.Parallel()
	account, user := id.New[id.Account](), id.New[id.User]()
	tests := []struct {
		label   string
		account id.AccountID
		user    id.UserID
		name    string
		expires time.Time
		want    []problem
	}{
		{"expires now", account, user, "k", t0, []problem{{"expires_at", domain.Custom}}},
		{"expired", account, user, "k", t0.Add(-time.Hour), []problem{{"expires_at", domain.Custom}}},
		{"empty name", account, user, " ", time.Time{}, []problem{{"name", domain.MinLength}}},
		{"long name", account, user, strings.Repeat("k", 101), time.Time{}, []problem{{"name", domain.MaxLength}}},
		{"no account", id.AccountID{}, user, "k", time.Time{}, []problem{{"account_id", domain.Required}}},
		{"no user", account, id.UserID{}, "k", time.Time{}, []problem{{"user_id", domain.Required}}},
		{
			"all at once", id.AccountID{}, id.UserID{}, "", t0.Add(-time.Second),
			[]problem{{"account_id", domain.Required}, {"user_id", domain.Required}, {"name", domain.MinLength}, {"expires_at", domain.Custom}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.label, func(t *testing.T) {
			t.Parallel()
			k, err := tenancy.NewAPIKey(tt.account, tt.user, tt.name, tenancy.GenerateKey(), []byte("h"), tt.expires, t0)
			if k != nil {
				t.Errorf("got key with an error")
			}
			if got := problemsOf(t, err); !slices.Equal(got, tt.want) {
				t.Errorf("problems = %v, want %v (%v)", got, tt.want, err)
			}
		})
	}
}

func TestNewAPIKeyRefusesBadMaterial(t *testing.T) {
	t.Parallel()
	account, user := id.New[id.Account](), id.New[id.User]()
	for label, c := range map[string]struct {
		plaintext string
		hash      []byte
	}{
		"malformed plaintext": {"ldr_short", []byte("h")},
		"empty hash":          {tenancy.GenerateKey(), nil},
	} {
		if k, err := tenancy.NewAPIKey(account, user, "k", c.plaintext, c.hash, time.Time{}, t0); err == nil || k != nil {
			t.Errorf("%s: got key %v, err %v; want an error", label, k, err)
		}
	}
}

func TestAuthenticates(t *testing.T) {
	t.Parallel()
	expires := t0.Add(time.Hour)
	revoked := func() *tenancy.APIKey {
		k, _ := newKey(t, time.Time{})
		if _, err := k.SetStatus(tenancy.KeyRevoked, t0); err != nil {
			t.Fatal(err)
		}
		return k
	}
	tests := []struct {
		name string
		key  *tenancy.APIKey
		at   time.Time
		want bool
	}{
		{"active, never expires", first(newKey(t, time.Time{})), t0.Add(100 * 365 * 24 * time.Hour), true},
		{"active, before expiry", first(newKey(t, expires)), expires.Add(-time.Microsecond), true},
		{"active, at expiry", first(newKey(t, expires)), domain.Timestamp(expires), false},
		{"active, after expiry", first(newKey(t, expires)), expires.Add(time.Second), false},
		{"revoked", revoked(), t0.Add(time.Second), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.key.Authenticates(tt.at); got != tt.want {
				t.Errorf("Authenticates(%v) = %v, want %v", tt.at, got, tt.want)
			}
		})
	}
}

func first[A, B any](a A, _ B) A { return a }

func TestSetStatus(t *testing.T) {
	t.Parallel()
	later := t0.Add(time.Hour)
	tests := []struct {
		name        string
		revokeFirst bool
		to          tenancy.KeyStatus
		wantChanged bool
		wantErr     error
		wantStatus  tenancy.KeyStatus
		wantUpdated time.Time
	}{
		{"active to revoked", false, tenancy.KeyRevoked, true, nil, tenancy.KeyRevoked, domain.Timestamp(later)},
		{"active to active", false, tenancy.KeyActive, false, nil, tenancy.KeyActive, domain.Timestamp(t0)},
		{"revoked to revoked", true, tenancy.KeyRevoked, false, nil, tenancy.KeyRevoked, domain.Timestamp(t0)},
		{"revoked to active", true, tenancy.KeyActive, false, tenancy.ErrKeyRevoked, tenancy.KeyRevoked, domain.Timestamp(t0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			k, _ := newKey(t, time.Time{})
			if tt.revokeFirst {
				if changed, err := k.SetStatus(tenancy.KeyRevoked, t0); err != nil || !changed {
					t.Fatalf("revoke: %v, %v", changed, err)
				}
			}
			changed, err := k.SetStatus(tt.to, later)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if changed != tt.wantChanged {
				t.Errorf("changed = %v, want %v", changed, tt.wantChanged)
			}
			if k.Status() != tt.wantStatus {
				t.Errorf("status = %v, want %v", k.Status(), tt.wantStatus)
			}
			if k.UpdatedAt() != tt.wantUpdated {
				t.Errorf("updated_at = %v, want %v", k.UpdatedAt(), tt.wantUpdated)
			}
		})
	}
}

func TestParseKeyStatus(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want tenancy.KeyStatus
		ok   bool
	}{
		{"active", tenancy.KeyActive, true},
		{"revoked", tenancy.KeyRevoked, true},
		{"Active", tenancy.KeyStatus{}, false},
		{"REVOKED", tenancy.KeyStatus{}, false},
		{"deleted", tenancy.KeyStatus{}, false},
		{"", tenancy.KeyStatus{}, false},
	}
	for _, tt := range tests {
		got, err := tenancy.ParseKeyStatus(tt.in)
		if tt.ok {
			if err != nil || got != tt.want || got.String() != tt.in {
				t.Errorf("ParseKeyStatus(%q) = %v, %v", tt.in, got, err)
			}
			continue
		}
		var de *domain.Error
		if !errors.As(err, &de) || de.Field != "status" || de.Rule != domain.OneOf ||
			!slices.Equal(de.Allowed, []string{"active", "revoked"}) || de.Input != tt.in {
			t.Errorf("ParseKeyStatus(%q) error = %+v, want status to be one of active, revoked", tt.in, err)
		}
	}
}

func TestEmailHostsAreDomainNames(t *testing.T) {
	for _, email := range []string{"a@[1.2.3.4]", "a@-b.com", "a@b-.com", "a@b..com", "a@localhost", "a@exa_mple.com"} {
		if _, err := tenancy.NewUser(id.New[id.Account](), email, "Some One", false, time.Now()); err == nil {
			t.Errorf("%q accepted", email)
		}
	}
	u, err := tenancy.NewUser(id.New[id.Account](), "first.last+tag@Sub-Domain.Example.ORG", "Some One", false, time.Now())
	if err != nil || u.Email() != "first.last+tag@sub-domain.example.org" {
		t.Fatalf("a valid address: %v %v", u, err)
	}
}

func TestExpiryEndsWithRFC3339(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	plain := tenancy.GenerateKey()
	for _, c := range []struct {
		at time.Time
		ok bool
	}{
		{time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC), true},
		{time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), false},
		{time.Date(9999, 12, 31, 23, 59, 59, 0, time.FixedZone("west", -3600)), false},
	} {
		_, err := tenancy.NewAPIKey(id.New[id.Account](), id.New[id.User](), "k", plain, []byte("h"), c.at, now)
		if (err == nil) != c.ok {
			t.Errorf("expires_at %v: error %v", c.at, err)
		}
	}
}

// The limits travel with the errors because callers are told them.
func TestTextLimits(t *testing.T) {
	t.Parallel()
	account, user := id.New[id.Account](), id.New[id.User]()
	tests := []struct {
		label string
		err   func(text string) error
		field string
		min   int
		max   int
	}{
		{"account name", func(s string) error { _, err := tenancy.NewAccount(s, "acme", t0); return err }, "name", 1, 100},
		{"user display name", func(s string) error {
			_, err := tenancy.NewUser(account, "ann@example.com", s, false, t0)
			return err
		}, "display_name", 2, 100},
		{"key name", func(s string) error {
			_, err := tenancy.NewAPIKey(account, user, s, tenancy.GenerateKey(), []byte("hash"), time.Time{}, t0)
			return err
		}, "name", 1, 100},
	}
	for _, tt := range tests {
		t.Run(tt.label, func(t *testing.T) {
			t.Parallel()
			for _, c := range []struct {
				text  string
				rule  domain.Rule
				limit int
			}{
				{strings.Repeat("x", tt.min-1), domain.MinLength, tt.min},
				{strings.Repeat("x", tt.max+1), domain.MaxLength, tt.max},
			} {
				des := domainErrors(tt.err(c.text))
				if len(des) != 1 {
					t.Fatalf("%d characters: errors %v, want one", len(c.text), des)
				}
				de := des[0]
				if de.Field != tt.field || de.Rule != c.rule || de.Limit != c.limit || de.Input != c.text {
					t.Errorf("%d characters: %+v, want %s to break %v with limit %d", len(c.text), de, tt.field, c.rule, c.limit)
				}
			}
		})
	}
}

// TestTextRefusesInvalidUTF8: bytes that are no code point are refused,
// not counted as characters and stored.
func TestTextRefusesInvalidUTF8(t *testing.T) {
	t.Parallel()
	if _, err := tenancy.NewAccount("Acme\xff", "acme", t0); domain.CategoryOf(err) != domain.CategoryInvalid {
		t.Fatalf("account name with a stray byte: %v, want an Invalid error", err)
	}
	if _, err := tenancy.NewAccount("Acmé", "acme", t0); err != nil {
		t.Fatalf("valid UTF-8 refused: %v", err)
	}
}

func TestParseRateLimit(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]struct {
		rate   int
		period time.Duration
	}{"1/s": {1, time.Second}, "600/m": {600, time.Minute}, "1000000/h": {1000000, time.Hour}, "off": {}} {
		l, err := tenancy.ParseRateLimit(in)
		if err != nil || l.Rate() != want.rate || l.Period() != want.period || l.String() != in || l.IsDefault() || l.Off() != (in == "off") {
			t.Errorf("ParseRateLimit(%q) = %q (%d per %s), %v", in, l, l.Rate(), l.Period(), err)
		}
	}
	for _, in := range []string{"", "0/s", "-1/s", "1000001/s", "01/s", "+1/s", "1/d", "1/", "/s", "1", "1 /s", "Off", "null", "1/S"} {
		if l, err := tenancy.ParseRateLimit(in); domain.CategoryOf(err) != domain.CategoryInvalid {
			t.Errorf("ParseRateLimit(%q) = %q, %v; want a validation error", in, l, err)
		}
	}
	if def := (tenancy.RateLimit{}); !def.IsDefault() || def.Off() || def.String() != "" {
		t.Errorf("the zero limit is %q", def)
	}
}

func TestSetRateLimit(t *testing.T) {
	t.Parallel()
	k, _ := newKey(t, time.Time{})
	created := k.UpdatedAt()
	limit, _ := tenancy.ParseRateLimit("5/m")
	if !k.SetRateLimit(limit, created.Add(time.Hour)) || k.RateLimit() != limit || !k.UpdatedAt().Equal(created.Add(time.Hour)) {
		t.Fatalf("set: %q at %v", k.RateLimit(), k.UpdatedAt())
	}
	if k.SetRateLimit(limit, created.Add(2*time.Hour)) || !k.UpdatedAt().Equal(created.Add(time.Hour)) {
		t.Fatal("setting the same limit again changed the key")
	}
	if !k.SetRateLimit(tenancy.RateLimit{}, created.Add(3*time.Hour)) || !k.RateLimit().IsDefault() {
		t.Fatal("the default is not given back")
	}
}
