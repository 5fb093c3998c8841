package id_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/leadr-oss/identity/domain"
	"github.com/leadr-oss/identity/domain/id"
)

const canonical = "0192f7e4-8a4e-7c3b-9d2a-6f1e0b9c4d21"

func TestParseAccepts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"lower case", "ide_" + canonical, "ide_" + canonical},
		{"upper-case hex", "ide_" + strings.ToUpper(canonical), "ide_" + canonical},
		{"mixed-case hex", "ide_0192F7E4-8a4e-7C3B-9d2a-6F1E0b9c4d21", "ide_" + canonical},
		{"max uuid", "ide_ffffffff-ffff-ffff-ffff-ffffffffffff", "ide_ffffffff-ffff-ffff-ffff-ffffffffffff"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := id.Parse[id.Identity](tt.in)
			if err != nil {
				t.Fatalf("Parse(%q): unexpected error %v", tt.in, err)
			}
			if got.String() != tt.want {
				t.Errorf("Parse(%q).String() = %q, want %q", tt.in, got.String(), tt.want)
			}
			if got.IsZero() {
				t.Errorf("Parse(%q) is zero", tt.in)
			}
			if got.UUID().String() != strings.TrimPrefix(tt.want, "ide_") {
				t.Errorf("UUID() = %s, want %s", got.UUID(), strings.TrimPrefix(tt.want, "ide_"))
			}
		})
	}
}

func TestParseEachPrefix(t *testing.T) {
	t.Parallel()
	check := func(t *testing.T, s string, parse func(string) (string, error)) {
		t.Helper()
		got, err := parse(s)
		if err != nil {
			t.Fatalf("Parse(%q): %v", s, err)
		}
		if got != s {
			t.Errorf("round trip of %q gave %q", s, got)
		}
	}
	check(t, "acc_"+canonical, func(s string) (string, error) { v, err := id.Parse[id.Account](s); return v.String(), err })
	check(t, "usr_"+canonical, func(s string) (string, error) { v, err := id.Parse[id.User](s); return v.String(), err })
	check(t, "key_"+canonical, func(s string) (string, error) { v, err := id.Parse[id.APIKey](s); return v.String(), err })
	check(t, "gam_"+canonical, func(s string) (string, error) { v, err := id.Parse[id.Game](s); return v.String(), err })
	check(t, "ide_"+canonical, func(s string) (string, error) { v, err := id.Parse[id.Identity](s); return v.String(), err })

	// The same string with another entity's prefix is refused.
	if _, err := id.Parse[id.Account]("gam_" + canonical); err == nil {
		t.Error("Parse[Account] accepted a game ID")
	}
}

func TestParseRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
	}{
		{"empty", ""},
		{"prefix only", "ide_"},
		{"bare uuid", canonical},
		{"wrong prefix", "acc_" + canonical},
		{"upper-case prefix", "IDE_" + canonical},
		{"missing underscore", "ide" + canonical},
		{"dash instead of underscore", "ide-" + canonical},
		{"double underscore", "ide__" + canonical},
		{"32 hex without dashes", "ide_" + strings.ReplaceAll(canonical, "-", "")},
		{"braces", "ide_{" + canonical + "}"},
		{"urn", "ide_urn:uuid:" + canonical},
		{"nil uuid", "ide_00000000-0000-0000-0000-000000000000"},
		{"trailing garbage", "ide_" + canonical + "x"},
		{"trailing space", "ide_" + canonical + " "},
		{"leading space", " ide_" + canonical},
		{"truncated", "ide_" + canonical[:35]},
		{"non-hex digit", "ide_0192f7e4-8a4e-7c3b-9d2a-6f1e0b9c4d2g"},
		{"dashes misplaced", "ide_0192f7e48-a4e-7c3b-9d2a-6f1e0b9c4d21"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := id.Parse[id.Identity](tt.in)
			if err == nil {
				t.Fatalf("Parse(%q) = %v, want an error", tt.in, got)
			}
			if !got.IsZero() {
				t.Errorf("Parse(%q) returned non-zero ID %v with its error", tt.in, got)
			}
			var de *domain.Error
			if !errors.As(err, &de) {
				t.Fatalf("error %v is not a *domain.Error", err)
			}
			if de.Category != domain.CategoryInvalid {
				t.Errorf("category = %v, want CategoryInvalid", de.Category)
			}
			if de.Rule != domain.Custom {
				t.Errorf("rule = %v, want Custom", de.Rule)
			}
			if de.Field != "" {
				t.Errorf("field = %q, want none (the caller attributes it)", de.Field)
			}
			if de.Input != tt.in {
				t.Errorf("input = %v, want %q", de.Input, tt.in)
			}
			if !strings.Contains(de.Message, "'ide_'") {
				t.Errorf("message %q does not name the expected prefix", de.Message)
			}
		})
	}
}

func TestNewIsVersion7(t *testing.T) {
	t.Parallel()
	for range 100 {
		v := id.New[id.Identity]()
		if v.IsZero() {
			t.Fatal("New returned the zero ID")
		}
		// In the canonical form the version is the first digit of the third
		// group and the variant (RFC 9562: 10xx) the first of the fourth.
		u := v.UUID().String()
		if u[14] != '7' {
			t.Fatalf("New gave UUID version %c, want 7 (%s)", u[14], v)
		}
		if !strings.ContainsRune("89ab", rune(u[19])) {
			t.Fatalf("New gave UUID variant digit %c, want one of 8, 9, a, b (%s)", u[19], v)
		}
		if !strings.HasPrefix(v.String(), "ide_") {
			t.Fatalf("New[Identity]().String() = %q, want prefix ide_", v)
		}
		back, err := id.Parse[id.Identity](v.String())
		if err != nil || back != v {
			t.Fatalf("Parse(%q) = %v, %v; want the same ID", v, back, err)
		}
	}
}

func TestNewSortsByCreation(t *testing.T) {
	t.Parallel()
	// Enough IDs that many share a millisecond.
	const n = 20000
	ids := make([]string, n)
	for i := range ids {
		ids[i] = id.New[id.Account]().String()
	}
	// Strictly increasing: sorted by creation and no duplicates.
	for i := 1; i < n; i++ {
		if ids[i-1] >= ids[i] {
			t.Fatalf("ID %d (%s) does not sort after ID %d (%s)", i, ids[i], i-1, ids[i-1])
		}
	}
}

func TestZeroID(t *testing.T) {
	t.Parallel()
	var z id.IdentityID
	if !z.IsZero() {
		t.Error("zero ID is not IsZero")
	}
	if got := z.String(); got != "" {
		t.Errorf("zero ID String() = %q, want empty", got)
	}
	if id.New[id.Identity]().IsZero() {
		t.Error("a new ID IsZero")
	}
}
