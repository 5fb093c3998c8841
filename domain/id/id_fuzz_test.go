package id_test

import (
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/leadr-oss/identity/domain"
	"github.com/leadr-oss/identity/domain/id"
)

// canonicalForm is the contract's ID, written independently of Parse: a
// prefix of one entity, "_", and a UUID in 8-4-4-4-12 hex of either case.
var canonicalForm = regexp.MustCompile(`^(acc|usr|key|gam|ide|ses)_[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// FuzzParse reads arbitrary text as an ID of every entity. Parse never
// panics; it accepts exactly the canonical form with the entity's own
// prefix and a UUID that is not nil; an accepted ID's String is its input
// lower-cased and parses back to the same ID; a refused one is a zero ID
// and an Invalid error that names the prefix and echoes the input.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"ide_" + canonical,
		"acc_" + canonical,
		"usr_" + canonical,
		"key_" + canonical,
		"gam_" + canonical,
		"ses_" + canonical,
		"ide_" + strings.ToUpper(canonical),
		"gam_0192F7E4-8a4e-7C3B-9d2a-6F1E0b9c4d21",
		"acc_ffffffff-ffff-ffff-ffff-ffffffffffff",
		"ide_00000000-0000-0000-0000-000000000000",
		"ide_00000000-0000-0000-0000-000000000001",
		"", "ide_", "ide", canonical, "IDE_" + canonical, "ide-" + canonical, "ide__" + canonical,
		"ide_" + strings.ReplaceAll(canonical, "-", ""),
		"ide_{" + canonical + "}", "ide_urn:uuid:" + canonical,
		"ide_" + canonical + "x", " ide_" + canonical, "ide_" + canonical + "\n",
		"ide_0192f7e4-8a4e-7c3b-9d2a-6f1e0b9c4d2g",
		"ide_0192f7e48-a4e-7c3b-9d2a-6f1e0b9c4d21",
		"ide_0192f7e4-8a4e-7c3b-9d2a-6f1e0b9c4d2\xff",
		"ide_0192f7e4-8a4e-7c3b-9d2a-6f1e0b9c4d2é",
		"ide_0192f7e4+8a4e+7c3b+9d2a+6f1e0b9c4d21",
		"ide_0x92f7e4-8a4e-7c3b-9d2a-6f1e0b9c4d21",
		"ide_ 192f7e4-8a4e-7c3b-9d2a-6f1e0b9c4d21",
		"ses_" + canonical + "\x00",
		"ﬁde_" + canonical, // a ligature that upper-cases to more letters
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		accepted := 0
		for _, ok := range []bool{
			checkParse[id.Account](t, s),
			checkParse[id.User](t, s),
			checkParse[id.APIKey](t, s),
			checkParse[id.Game](t, s),
			checkParse[id.Identity](t, s),
			checkParse[id.Session](t, s),
		} {
			if ok {
				accepted++
			}
		}
		if accepted > 1 {
			t.Fatalf("%q is an ID of %d entities", s, accepted)
		}

		// Any 16 bytes (but the nil UUID) make an ID that prints canonically
		// and parses back.
		var u id.UUID
		copy(u[:], s)
		if u == (id.UUID{}) {
			return
		}
		gid := id.FromUUID[id.Game](u)
		back, err := id.Parse[id.Game](gid.String())
		if err != nil || back != gid || back.UUID() != u {
			t.Fatalf("FromUUID(%x).String() = %q parses to %v, %v", u[:], gid.String(), back, err)
		}
		if pu, ok := id.ParseUUID(u.String()); !ok || pu != u {
			t.Fatalf("ParseUUID(%q) = %x, %v", u.String(), pu[:], ok)
		}
	})
}

// checkParse checks Parse[E] on s and reports whether it accepted s.
func checkParse[E id.Entity](t *testing.T, s string) bool {
	t.Helper()
	var e E
	prefix := e.Prefix() + "_"
	want := strings.HasPrefix(s, prefix) && canonicalForm.MatchString(s) &&
		strings.Trim(s[len(prefix):], "0-") != ""

	got, err := id.Parse[E](s)
	if err != nil {
		if want {
			t.Fatalf("Parse[%s](%q) refused a canonical ID: %v", e.Noun(), s, err)
		}
		if !got.IsZero() || got.String() != "" {
			t.Fatalf("Parse[%s](%q) returned %v with its error", e.Noun(), s, got)
		}
		var de *domain.Error
		if !errors.As(err, &de) {
			t.Fatalf("Parse[%s](%q): error %T %v is not a *domain.Error", e.Noun(), s, err, err)
		}
		if de.Category != domain.CategoryInvalid || de.Rule != domain.Custom || de.Field != "" {
			t.Fatalf("Parse[%s](%q): error %+v, want an Invalid Custom error without a field", e.Noun(), s, de)
		}
		if in, ok := de.Input.(string); !ok || in != s {
			t.Fatalf("Parse[%s](%q): error echoes %#v", e.Noun(), s, de.Input)
		}
		if !strings.Contains(de.Message, "'"+prefix+"'") {
			t.Fatalf("Parse[%s](%q): message %q does not name %q", e.Noun(), s, de.Message, prefix)
		}
		return false
	}
	if !want {
		t.Fatalf("Parse[%s](%q) accepted a non-canonical ID: %v", e.Noun(), s, got)
	}
	if got.IsZero() {
		t.Fatalf("Parse[%s](%q) returned the zero ID", e.Noun(), s)
	}
	str := got.String()
	if str != strings.ToLower(s) {
		t.Fatalf("Parse[%s](%q).String() = %q, want the input lower-cased", e.Noun(), s, str)
	}
	if got.UUID().String() != str[len(prefix):] {
		t.Fatalf("Parse[%s](%q).UUID() = %s, want %s", e.Noun(), s, got.UUID(), str[len(prefix):])
	}
	again, err := id.Parse[E](str)
	if err != nil || again != got {
		t.Fatalf("Parse[%s](%q) = %v, %v; want %v again", e.Noun(), str, again, err, got)
	}
	return true
}
