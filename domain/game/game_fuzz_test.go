package game_test

import (
	"errors"
	"regexp"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/leadr-oss/identity/domain"
	"github.com/leadr-oss/identity/domain/game"
)

// slugForm is the contract's slug (section 6) without its length: runs of
// a-z 0-9 joined by single hyphens.
var slugForm = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// FuzzGameName holds the text rules of games to section 6 of the contract,
// on arbitrary text read as each of them:
//   - ParseName: valid UTF-8, trimmed of White_Space, NFC, 1–100 code
//     points, no Cc; idempotent; a refusal is an Invalid error of "name"
//     that echoes the input.
//   - DeriveSlug: total, on accepted names and on whatever a store holds;
//     always a slug ParseSlug accepts, numbered variants too, and the one
//     the documented derivation gives.
//   - ParseSlug: exactly 3–64 characters of a-z 0-9 and single inner "-".
//   - ParseSteamAppID: exactly 1–10 decimal digits.
func FuzzGameName(f *testing.F) {
	for _, s := range []string{
		"Space Invaders", "  Pong  ", "\u00a0\u3000Pong\u2003\u2028", "Cafe\u0301", "Émile's Café", "ÀÉÎÕÜ ñ",
		"🎮 Party", "東方Project", "Ｆｕｌｌｗｉｄｔｈ Game", "Straße", "\u212A", "X", "Go!", "a b", "🎮", "!!!",
		"Half-Life 2", "--- Pong ---", "a_b.c/d", strings.Repeat("a", 100), strings.Repeat("a", 101),
		strings.Repeat("é", 100), strings.Repeat("e\u0301", 101), strings.Repeat("a", 58) + " bcd",
		strings.Repeat("a", 57) + " bcd", strings.Repeat("a-", 50), strings.Repeat("🎮", 200),
		"", "   ", "a\x00b", "Pong\nII", "a\u0085b", "\x1b[31mred", "\xff", "Pong\xfe", "\xed\xa0\x80",
		"space-invaders", "abc", "ab", "a--b", "-abc", "abc-", "ABC", strings.Repeat("a", 64), strings.Repeat("a", 65),
		"480", "0", "1234567890", "12345678901", "٤٨٠", "+480", " 480",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		checkName(t, raw)

		// A stored name is trusted as it is: deriving from it is total too.
		stored := game.Rehydrate(game.Snapshot{Name: raw}).Name()
		checkDerived(t, stored)

		checkSlug(t, raw)
		checkSteamAppID(t, raw)
	})
}

func checkName(t *testing.T, raw string) {
	t.Helper()
	got, err := game.ParseName(raw)

	want := norm.NFC.String(strings.TrimFunc(raw, isWhiteSpace))
	n := utf8.RuneCountInString(want)
	var wantRule domain.Rule
	switch {
	case !utf8.ValidString(raw):
		wantRule = domain.Custom
	case n == 0:
		wantRule = domain.MinLength
	case n > 100:
		wantRule = domain.MaxLength
	case strings.IndexFunc(want, isCc) >= 0:
		wantRule = domain.Custom
	}

	if err != nil {
		de := invalid(t, err)
		if de.Field != "name" || de.Input != raw || !got.IsZero() {
			t.Fatalf("ParseName(%q) = %q, %+v", raw, got, de)
		}
		if wantRule == domain.NoRule || de.Rule != wantRule {
			t.Fatalf("ParseName(%q) broke rule %v (%v), want %v", raw, de.Rule, err, wantRule)
		}
		switch {
		case de.Rule == domain.MinLength && de.Limit != 1, de.Rule == domain.MaxLength && de.Limit != 100:
			t.Fatalf("ParseName(%q): limit %d (%v)", raw, de.Limit, err)
		}
		return
	}
	if wantRule != domain.NoRule {
		t.Fatalf("ParseName(%q) = %q, but the rule refuses it (%v)", raw, got, wantRule)
	}
	s := got.String()
	if s != want || got.IsZero() {
		t.Fatalf("ParseName(%q) = %q, want %q", raw, s, want)
	}
	if !utf8.ValidString(s) || !norm.NFC.IsNormalString(s) || strings.IndexFunc(s, isCc) >= 0 {
		t.Fatalf("ParseName(%q) = %q: not clean text", raw, s)
	}
	if first, _ := utf8.DecodeRuneInString(s); isWhiteSpace(first) {
		t.Fatalf("ParseName(%q) = %q starts with white space", raw, s)
	}
	if last, _ := utf8.DecodeLastRuneInString(s); isWhiteSpace(last) {
		t.Fatalf("ParseName(%q) = %q ends with white space", raw, s)
	}
	if again, err := game.ParseName(s); err != nil || again != got {
		t.Fatalf("ParseName(%q) = %q, %v; want it unchanged", s, again, err)
	}
	checkDerived(t, got)
}

// checkDerived checks DeriveSlug(name) against the documented derivation:
// the name's ASCII letters and digits lower-cased, accents (Mn after NFD)
// dropped, every other run one "-", cut to 59 characters without a
// trailing "-", "game-" in front of fewer than 3 characters.
func checkDerived(t *testing.T, name game.Name) {
	t.Helper()
	slug := game.DeriveSlug(name)
	if _, err := game.ParseSlug(slug.String()); err != nil {
		t.Fatalf("DeriveSlug(%q) = %q, not a slug: %v", name, slug, err)
	}
	for _, k := range []int{2, 3, 10, 99, 9999} {
		if _, err := game.ParseSlug(slug.Numbered(k).String()); err != nil {
			t.Fatalf("DeriveSlug(%q).Numbered(%d) = %q, not a slug: %v", name, k, slug.Numbered(k), err)
		}
	}
	if again := game.DeriveSlug(name); again != slug {
		t.Fatalf("DeriveSlug(%q) = %q, then %q", name, slug, again)
	}

	var runs []string
	var run strings.Builder
	for _, r := range norm.NFD.String(name.String()) {
		switch {
		case r < utf8.RuneSelf && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'):
			run.WriteRune(unicode.ToLower(r))
		case unicode.Is(unicode.Mn, r):
		default:
			if run.Len() > 0 {
				runs = append(runs, run.String())
				run.Reset()
			}
		}
	}
	if run.Len() > 0 {
		runs = append(runs, run.String())
	}
	want := strings.Join(runs, "-")
	if len(want) > 59 {
		want = strings.TrimRight(want[:59], "-")
	}
	if len(want) < 3 {
		want = strings.TrimSuffix("game-"+want, "-")
	}
	if slug.String() != want {
		t.Fatalf("DeriveSlug(%q) = %q, want %q", name, slug, want)
	}
}

func checkSlug(t *testing.T, raw string) {
	t.Helper()
	want := len(raw) >= 3 && len(raw) <= 64 && slugForm.MatchString(raw)
	got, err := game.ParseSlug(raw)
	if err != nil {
		de := invalid(t, err)
		if want || de.Field != "slug" || de.Rule != domain.Custom || de.Input != raw || !got.IsZero() {
			t.Fatalf("ParseSlug(%q) = %q, %+v", raw, got, de)
		}
		return
	}
	if !want || got.String() != raw {
		t.Fatalf("ParseSlug(%q) = %q, but that is no slug", raw, got)
	}
}

func checkSteamAppID(t *testing.T, raw string) {
	t.Helper()
	want := len(raw) >= 1 && len(raw) <= 10 && strings.Trim(raw, "0123456789") == ""
	got, err := game.ParseSteamAppID(raw)
	if err != nil {
		de := invalid(t, err)
		if want || de.Field != "steam_app_id" || de.Input != raw || !got.IsZero() {
			t.Fatalf("ParseSteamAppID(%q) = %q, %+v", raw, got, de)
		}
		return
	}
	if !want || got.String() != raw {
		t.Fatalf("ParseSteamAppID(%q) = %q, but that is no app ID", raw, got)
	}
}

// Bytes that are not UTF-8 were once taken for code points (one each) and
// stored as they came; PostgreSQL refuses such text. Found by FuzzGameName.
func TestNameRefusesInvalidUTF8(t *testing.T) {
	t.Parallel()
	for _, raw := range []string{"\xff", "Pong\xff", "\xe2\x82", "\xed\xa0\x80", "\xc0\xaf", " Pong\xfe "} {
		got, err := game.ParseName(raw)
		de := invalid(t, err)
		if de.Field != "name" || de.Rule != domain.Custom || de.Message != "Name must be valid UTF-8" || de.Input != raw {
			t.Errorf("ParseName(%q): %+v", raw, de)
		}
		if !got.IsZero() {
			t.Errorf("ParseName(%q) returned %q with its error", raw, got)
		}
	}
}

func isWhiteSpace(r rune) bool { return unicode.Is(unicode.White_Space, r) }
func isCc(r rune) bool         { return unicode.Is(unicode.Cc, r) }

// invalid fails t unless err is an Invalid *domain.Error, and returns it.
func invalid(t *testing.T, err error) *domain.Error {
	t.Helper()
	var de *domain.Error
	if !errors.As(err, &de) || de.Category != domain.CategoryInvalid {
		t.Fatalf("error %T %v, want an Invalid *domain.Error", err, err)
	}
	return de
}
