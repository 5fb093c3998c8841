package game_test

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/leadr-oss/identity/domain"
	"github.com/leadr-oss/identity/domain/game"
	"github.com/leadr-oss/identity/domain/id"
)

// invalidErr asserts that err is an Invalid *domain.Error and returns it.
func invalidErr(t *testing.T, err error) *domain.Error {
	t.Helper()
	if err == nil {
		t.Fatal("got no error, want an Invalid error")
	}
	var de *domain.Error
	if !errors.As(err, &de) {
		t.Fatalf("error %v (%T) is not a *domain.Error", err, err)
	}
	if de.Category != domain.CategoryInvalid {
		t.Fatalf("category = %v, want CategoryInvalid (%v)", de.Category, err)
	}
	return de
}

func TestParseName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		raw   string
		want  string      // when ok
		rule  domain.Rule // when not ok
		limit int
	}{
		{name: "plain", raw: "Space Invaders", want: "Space Invaders"},
		{name: "one char", raw: "X", want: "X"},
		{name: "inner spaces kept", raw: "Space  Invaders", want: "Space  Invaders"},
		{name: "ascii spaces trimmed", raw: "  Pong  ", want: "Pong"},
		{name: "tabs and newlines trimmed", raw: "\t\n Pong \r\n", want: "Pong"},
		{name: "unicode white space trimmed", raw: "\u00a0\u3000Pong\u2003\u2028", want: "Pong"},
		{name: "NEL at the edge trimmed", raw: "\u0085Pong\u0085", want: "Pong"},
		{name: "inner no-break space kept", raw: "Pong\u00a0II", want: "Pong\u00a0II"},
		{name: "NFC composes", raw: "Cafe\u0301", want: "Café"},
		{name: "emoji", raw: "🎮 Party", want: "🎮 Party"},
		{name: "CJK", raw: "東方Project", want: "東方Project"},
		{name: "zero width space is Cf not Cc", raw: "a\u200bb", want: "a\u200bb"},
		{name: "100 ascii", raw: strings.Repeat("a", 100), want: strings.Repeat("a", 100)},
		{name: "100 é counted as code points", raw: strings.Repeat("é", 100), want: strings.Repeat("é", 100)},
		{name: "100 decomposed é count after NFC", raw: strings.Repeat("e\u0301", 100), want: strings.Repeat("é", 100)},
		{name: "100 emoji", raw: strings.Repeat("🎮", 100), want: strings.Repeat("🎮", 100)},
		{name: "100 after trimming", raw: "  " + strings.Repeat("x", 100) + "\u3000", want: strings.Repeat("x", 100)},

		{name: "empty", raw: "", rule: domain.MinLength, limit: 1},
		{name: "only spaces", raw: "   ", rule: domain.MinLength, limit: 1},
		{name: "only unicode white space", raw: "\u00a0\u3000\u2003\t", rule: domain.MinLength, limit: 1},
		{name: "101 ascii", raw: strings.Repeat("a", 101), rule: domain.MaxLength, limit: 100},
		{name: "101 é", raw: strings.Repeat("é", 101), rule: domain.MaxLength, limit: 100},
		{name: "101 emoji", raw: strings.Repeat("🎮", 101), rule: domain.MaxLength, limit: 100},
		{name: "NUL", raw: "a\u0000b", rule: domain.Custom},
		{name: "BEL", raw: "Pong\u0007", rule: domain.Custom},
		{name: "inner newline", raw: "Pong\nII", rule: domain.Custom},
		{name: "inner tab", raw: "Pong\tII", rule: domain.Custom},
		{name: "inner NEL", raw: "a\u0085b", rule: domain.Custom},
		{name: "DEL", raw: "a\u007fb", rule: domain.Custom},
		{name: "C1 control", raw: "a\u009fb", rule: domain.Custom},
		{name: "ESC", raw: "\u001b[31mred", rule: domain.Custom},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := game.ParseName(tt.raw)
			if tt.rule == domain.NoRule {
				if err != nil {
					t.Fatalf("ParseName(%q): %v", tt.raw, err)
				}
				if got.String() != tt.want || got.IsZero() {
					t.Errorf("ParseName(%q) = %q, want %q", tt.raw, got, tt.want)
				}
				return
			}
			de := invalidErr(t, err)
			if de.Field != "name" || de.Rule != tt.rule || de.Limit != tt.limit {
				t.Errorf("field, rule, limit = %q, %v, %d; want name, %v, %d (%v)", de.Field, de.Rule, de.Limit, tt.rule, tt.limit, err)
			}
			if de.Input != tt.raw {
				t.Errorf("input = %q, want the raw input %q", de.Input, tt.raw)
			}
			if !got.IsZero() {
				t.Errorf("returned non-zero name %q with its error", got)
			}
		})
	}
}

func TestParseSlug(t *testing.T) {
	t.Parallel()
	tests := []struct {
		raw string
		ok  bool
	}{
		{"abc", true},
		{"a-b", true},
		{"123", true},
		{"a1b", true},
		{"space-invaders", true},
		{"space-invaders-2", true},
		{"a-b-c-d", true},
		{"0-0", true},
		{strings.Repeat("s", 64), true},
		{strings.Repeat("ab-", 21) + "a", true}, // 64

		{"", false},
		{"a", false},
		{"ab", false},
		{"a-", false},
		{strings.Repeat("s", 65), false},
		{"-abc", false},
		{"abc-", false},
		{"-", false},
		{"---", false},
		{"a--b", false},
		{"ABC", false},
		{"Abc", false},
		{" abc", false},
		{"abc ", false},
		{"ab c", false},
		{"ab_c", false},
		{"ab.c", false},
		{"abé", false},
		{"abc\n", false},
		{"ab\x00c", false},
		{"ａｂｃ", false},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			t.Parallel()
			got, err := game.ParseSlug(tt.raw)
			if tt.ok {
				if err != nil {
					t.Fatalf("ParseSlug(%q): %v", tt.raw, err)
				}
				if got.String() != tt.raw || got.IsZero() {
					t.Errorf("ParseSlug(%q) = %q", tt.raw, got)
				}
				return
			}
			de := invalidErr(t, err)
			if de.Field != "slug" || de.Rule != domain.Custom || de.Message == "" {
				t.Errorf("field, rule, message = %q, %v, %q; want slug, Custom and a message", de.Field, de.Rule, de.Message)
			}
			if de.Input != tt.raw {
				t.Errorf("input = %v, want %q", de.Input, tt.raw)
			}
			if !got.IsZero() {
				t.Errorf("returned non-zero slug %q with its error", got)
			}
		})
	}
}

func mustName(t *testing.T, raw string) game.Name {
	t.Helper()
	n, err := game.ParseName(raw)
	if err != nil {
		t.Fatalf("ParseName(%q): %v", raw, err)
	}
	return n
}

func mustSlug(t *testing.T, raw string) game.Slug {
	t.Helper()
	s, err := game.ParseSlug(raw)
	if err != nil {
		t.Fatalf("ParseSlug(%q): %v", raw, err)
	}
	return s
}

func TestDeriveSlug(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		want string
	}{
		{"Space Invaders", "space-invaders"},
		{"SPACE INVADERS", "space-invaders"},
		{"pong", "pong"},
		{"Hello, World!!!", "hello-world"},
		{"--- Pong ---", "pong"},
		{"a_b.c/d", "a-b-c-d"},
		{"Half-Life 2", "half-life-2"},
		{"Émile's Café", "emile-s-cafe"},
		{"ÀÉÎÕÜ ñ", "aeiou-n"},
		{"Cafe\u0301", "cafe"}, // decomposed input drops its accent too
		// Letters with no ASCII base are not letters of a slug.
		{"Straße", "stra-e"},
		{"東方Project", "project"},
		{"Ｆｕｌｌｗｉｄｔｈ Game", "game"},
		// The Kelvin sign decomposes canonically to K.
		{"\u212A", "game-k"},
		// Too short or nothing usable: "game" goes in front.
		{"X", "game-x"},
		{"Go", "game-go"},
		{"42", "game-42"},
		{"Go!", "game-go"},
		{"é", "game-e"},
		{"a b", "a-b"}, // three characters are enough
		{"a", "game-a"},
		{"🎮", "game"},
		{"!!!", "game"},
		{"東方", "game"},
		{"abc", "abc"},
		// Long names are cut to 59, leaving room for "-N".
		{strings.Repeat("a", 100), strings.Repeat("a", 59)},
		{strings.Repeat("é", 100), strings.Repeat("e", 59)},
		// A cut that would end on "-" drops it.
		{strings.Repeat("a", 58) + " bcd", strings.Repeat("a", 58)},
		{strings.Repeat("a", 57) + " bcd", strings.Repeat("a", 57) + "-b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := game.DeriveSlug(mustName(t, tt.name))
			if got.String() != tt.want {
				t.Errorf("DeriveSlug(%q) = %q, want %q", tt.name, got, tt.want)
			}
		})
	}
}

// nameAlphabet mixes every kind of character a name may hold: ASCII
// letters, digits and symbols, accented letters both composed and not,
// letters with no ASCII base, CJK, emoji, and white space.
var nameAlphabet = []rune("aZ09-_ .,!?'&/\\" + "éÉüñçÅø" + "\u0301\u0308" + "ßæłđ" + "東方ゲーム한국" + "🎮🙂👾✓" + "\u00a0\u3000" + "\u212A")

// TestDerivedSlugsAreValidSlugs is the rule that matters to the service:
// whatever a name is, its derived slug, and every numbered variant the
// service tries, is one ParseSlug accepts.
func TestDerivedSlugsAreValidSlugs(t *testing.T) {
	t.Parallel()
	names := []string{
		"🎮", "🎮🎮🎮", "!!!", "---", "東方", "ゲーム", "a", "Z", "9", "é", "\u0301a", "a\u0301", "ß",
		strings.Repeat("🎮", 100), strings.Repeat("東", 100), strings.Repeat("-", 100),
		strings.Repeat("a-", 50), strings.Repeat("a ", 49) + "a", strings.Repeat("é", 100),
	}
	rnd := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		n := 1 + rnd.IntN(100)
		var b strings.Builder
		for range n {
			b.WriteRune(nameAlphabet[rnd.IntN(len(nameAlphabet))])
		}
		names = append(names, b.String())
	}
	check := func(t *testing.T, what string, n game.Name) {
		t.Helper()
		s := game.DeriveSlug(n)
		if _, err := game.ParseSlug(s.String()); err != nil {
			t.Errorf("%s %q: derived slug %q is invalid: %v", what, n, s, err)
			return
		}
		for _, k := range []int{2, 3, 10, 99, 100} {
			if numbered := s.Numbered(k); !isValidSlug(numbered) {
				t.Errorf("%s %q: %q.Numbered(%d) = %q is invalid", what, n, s, k, numbered)
			}
		}
	}
	for _, raw := range names {
		n, err := game.ParseName(raw)
		if err != nil {
			continue // white space only, or made too short by trimming
		}
		check(t, "name", n)
	}
	// Stores may hold names longer than ParseName allows (written before a
	// rule, or by a migration); DeriveSlug must stay total on them.
	for _, raw := range []string{
		strings.Repeat("a", 200), strings.Repeat("🎮", 200), strings.Repeat("é", 200),
		strings.Repeat("ab ", 67), strings.Repeat("東方", 100),
	} {
		if utf8.RuneCountInString(raw) < 200 {
			t.Fatalf("test name %q is shorter than 200 characters", raw)
		}
		check(t, "stored name", game.Rehydrate(game.Snapshot{Name: raw}).Name())
	}
}

func isValidSlug(s game.Slug) bool {
	_, err := game.ParseSlug(s.String())
	return err == nil
}

func TestSlugNumbered(t *testing.T) {
	t.Parallel()
	s := mustSlug(t, "space-invaders")
	tests := []struct {
		n    int
		want string
	}{
		{2, "space-invaders-2"},
		{3, "space-invaders-3"},
		{10, "space-invaders-10"},
		{100, "space-invaders-100"},
	}
	for _, tt := range tests {
		if got := s.Numbered(tt.n); got.String() != tt.want {
			t.Errorf("Numbered(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
	if s.String() != "space-invaders" {
		t.Errorf("Numbered changed its receiver to %q", s)
	}
}

func TestParseSteamAppID(t *testing.T) {
	t.Parallel()
	tests := []struct {
		raw string
		ok  bool
	}{
		{"480", true},
		{"0", true},
		{"1", true},
		{"0000000001", true},
		{"1234567890", true},
		{"9999999999", true},

		{"", false},
		{"12345678901", false},
		{"48a", false},
		{" 480", false},
		{"480 ", false},
		{"-480", false},
		{"+480", false},
		{"4.8", false},
		{"4_8", false},
		{"0x1F", false},
		{"４８０", false},
		{"٤٨٠", false},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			t.Parallel()
			got, err := game.ParseSteamAppID(tt.raw)
			if tt.ok {
				if err != nil {
					t.Fatalf("ParseSteamAppID(%q): %v", tt.raw, err)
				}
				if got.String() != tt.raw || got.IsZero() {
					t.Errorf("ParseSteamAppID(%q) = %q", tt.raw, got)
				}
				return
			}
			de := invalidErr(t, err)
			if de.Field != "steam_app_id" || de.Rule != domain.Custom || de.Input != tt.raw {
				t.Errorf("field, rule, input = %q, %v, %v; want steam_app_id, Custom, %q", de.Field, de.Rule, de.Input, tt.raw)
			}
			if !got.IsZero() {
				t.Errorf("returned non-zero app ID %q with its error", got)
			}
		})
	}
}

func TestParseSteamWebAPIKey(t *testing.T) {
	t.Parallel()
	hex32 := "0123456789abcdef0123456789abcdef"
	tests := []struct {
		name string
		raw  string
		ok   bool
	}{
		{"lower", hex32, true},
		{"upper", strings.ToUpper(hex32), true},
		{"mixed", "0123456789abcdefABCDEF0123456789", true},

		{"empty", "", false},
		{"31", hex32[:31], false},
		{"33", hex32 + "0", false},
		{"64", hex32 + hex32, false},
		{"not hex", hex32[:31] + "g", false},
		{"space", hex32[:31] + " ", false},
		{"padded", " " + hex32 + " ", false},
		{"dashes", "01234567-89ab-cdef-0123-456789abcd", false},
		{"32 bytes with non-ASCII", hex32[:30] + "é", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := game.ParseSteamWebAPIKey(tt.raw)
			if tt.ok {
				if err != nil {
					t.Fatalf("ParseSteamWebAPIKey(%q): %v", tt.raw, err)
				}
				if got.Reveal() != tt.raw {
					t.Errorf("Reveal() = %q, want %q", got.Reveal(), tt.raw)
				}
				return
			}
			de := invalidErr(t, err)
			if de.Field != "steam_web_api_key" || de.Rule != domain.Custom {
				t.Errorf("field, rule = %q, %v; want steam_web_api_key, Custom", de.Field, de.Rule)
			}
			// A rejected key may be a real key with a typo: nothing of the
			// error may carry it to a response or a log.
			if tt.raw != "" {
				for what, s := range map[string]string{
					"input":   fmt.Sprint(de.Input),
					"message": de.Message,
					"Error()": err.Error(),
					"%+v":     fmt.Sprintf("%+v", de),
				} {
					if strings.Contains(s, tt.raw) || strings.Contains(s, strings.TrimSpace(tt.raw)) {
						t.Errorf("the error's %s %q echoes the input", what, s)
					}
				}
			}
			if got.Reveal() != "" {
				t.Errorf("returned a key %q with its error", got.Reveal())
			}
		})
	}
}

func TestSteamWebAPIKeyNeverPrintsItself(t *testing.T) {
	t.Parallel()
	const plain = "0123456789abcdefABCDEF0123456789"
	k, err := game.ParseSteamWebAPIKey(plain)
	if err != nil {
		t.Fatal(err)
	}
	type request struct {
		Name string
		Key  game.SteamWebAPIKey
	}
	for _, s := range []string{
		k.String(),
		fmt.Sprint(k),
		fmt.Sprintf("%v %+v %s %q %#v", k, k, k, k, k),
		fmt.Sprintf("%v %+v %#v", request{"Pong", k}, request{"Pong", k}, request{"Pong", k}),
		fmt.Sprintf("%v %+v %#v", &k, []game.SteamWebAPIKey{k}, map[string]game.SteamWebAPIKey{"k": k}),
	} {
		if strings.Contains(strings.ToLower(s), strings.ToLower(plain)) {
			t.Errorf("%q reveals the key", s)
		}
	}
	if k.String() != "[redacted]" {
		t.Errorf("String() = %q, want [redacted]", k.String())
	}
}

var (
	accountID = id.New[id.Account]()
	// t0 has nanoseconds and a zone, which the aggregate must drop.
	t0 = time.Date(2025, 3, 4, 12, 30, 45, 123456789, time.FixedZone("CET", 3600))
)

func newGame(t *testing.T) *game.Game {
	t.Helper()
	g, err := game.New(accountID, mustName(t, "Space Invaders"), mustSlug(t, "space-invaders"), t0)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestNew(t *testing.T) {
	t.Parallel()
	g := newGame(t)
	want := time.Date(2025, 3, 4, 11, 30, 45, 123456000, time.UTC)
	checks := []struct {
		what      string
		got, want any
	}{
		{"account", g.AccountID(), accountID},
		{"name", g.Name().String(), "Space Invaders"},
		{"slug", g.Slug().String(), "space-invaders"},
		{"steam app ID", g.SteamAppID().IsZero(), true},
		{"sealed key", g.SealedSteamKey() == nil, true},
		{"steam configured", g.SteamConfigured(), false},
		{"device sign-in", g.DeviceSignIn(), true},
		{"created_at", g.CreatedAt(), want},
		{"updated_at", g.UpdatedAt(), want},
		{"created_at location", g.CreatedAt().Location(), time.UTC},
		{"deleted", g.IsDeleted(), false},
		{"deleted_at zero", g.DeletedAt().IsZero(), true},
		{"prefix", g.ID().String()[:4], "gam_"},
		{"id version digit", g.ID().UUID().String()[14], byte('7')},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.what, c.got, c.want)
		}
	}
	if newGame(t).ID() == g.ID() {
		t.Error("two games got the same ID")
	}
}

func TestNewRequiresItsParts(t *testing.T) {
	t.Parallel()
	name, slug := mustName(t, "Pong"), mustSlug(t, "pong")
	tests := []struct {
		name    string
		account id.AccountID
		gname   game.Name
		slug    game.Slug
		field   string
	}{
		{"no account", id.AccountID{}, name, slug, "account_id"},
		{"no name", accountID, game.Name{}, slug, "name"},
		{"no slug", accountID, name, game.Slug{}, "slug"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			g, err := game.New(tt.account, tt.gname, tt.slug, t0)
			if g != nil {
				t.Errorf("got game %+v with an error", g.Snapshot())
			}
			de := invalidErr(t, err)
			if de.Field != tt.field || de.Rule != domain.Required {
				t.Errorf("field, rule = %q, %v; want %q, Required", de.Field, de.Rule, tt.field)
			}
		})
	}
}

func appID(t *testing.T, raw string) *game.SteamAppID {
	t.Helper()
	a, err := game.ParseSteamAppID(raw)
	if err != nil {
		t.Fatal(err)
	}
	return &a
}

func TestApply(t *testing.T) {
	t.Parallel()
	later := t0.Add(time.Hour + 999*time.Nanosecond)
	sealed := []byte("sealed key")
	type state struct {
		name     string
		appID    string
		key      []byte
		steamSet bool
	}
	// steam is the starting point of cases that need Steam settings.
	steam := game.Change{SteamAppID: appID(t, "480"), SteamKey: sealed}
	tests := []struct {
		name        string
		initial     *game.Change
		change      func(t *testing.T) game.Change
		wantChanged bool
		want        state
	}{
		{
			name:        "rename",
			change:      func(t *testing.T) game.Change { n := mustName(t, "Galaga"); return game.Change{Name: &n} },
			wantChanged: true, want: state{name: "Galaga"},
		},
		{
			name:   "same name",
			change: func(t *testing.T) game.Change { n := mustName(t, " Space Invaders "); return game.Change{Name: &n} },
			want:   state{name: "Space Invaders"},
		},
		{
			name:        "set app ID",
			change:      func(t *testing.T) game.Change { return game.Change{SteamAppID: appID(t, "480")} },
			wantChanged: true, want: state{name: "Space Invaders", appID: "480"},
		},
		{
			name:        "set key",
			change:      func(*testing.T) game.Change { return game.Change{SteamKey: sealed} },
			wantChanged: true, want: state{name: "Space Invaders", key: sealed},
		},
		{
			name:        "set both",
			change:      func(*testing.T) game.Change { return steam },
			wantChanged: true, want: state{name: "Space Invaders", appID: "480", key: sealed, steamSet: true},
		},
		{
			name: "same settings again", initial: &steam,
			change: func(*testing.T) game.Change { return steam },
			want:   state{name: "Space Invaders", appID: "480", key: sealed, steamSet: true},
		},
		{
			name: "another app ID", initial: &steam,
			change:      func(t *testing.T) game.Change { return game.Change{SteamAppID: appID(t, "570")} },
			wantChanged: true, want: state{name: "Space Invaders", appID: "570", key: sealed, steamSet: true},
		},
		{
			name: "another key", initial: &steam,
			change:      func(*testing.T) game.Change { return game.Change{SteamKey: []byte("other")} },
			wantChanged: true, want: state{name: "Space Invaders", appID: "480", key: []byte("other"), steamSet: true},
		},
		{
			name: "clear app ID", initial: &steam,
			change:      func(*testing.T) game.Change { return game.Change{ClearSteamAppID: true} },
			wantChanged: true, want: state{name: "Space Invaders", key: sealed},
		},
		{
			name: "clear key", initial: &steam,
			change:      func(*testing.T) game.Change { return game.Change{ClearSteamKey: true} },
			wantChanged: true, want: state{name: "Space Invaders", appID: "480"},
		},
		{
			name: "clear both", initial: &steam,
			change:      func(*testing.T) game.Change { return game.Change{ClearSteamAppID: true, ClearSteamKey: true} },
			wantChanged: true, want: state{name: "Space Invaders"},
		},
		{
			name:   "clear what is not set",
			change: func(*testing.T) game.Change { return game.Change{ClearSteamAppID: true, ClearSteamKey: true} },
			want:   state{name: "Space Invaders"},
		},
		{
			name: "nothing", initial: &steam,
			change: func(*testing.T) game.Change { return game.Change{} },
			want:   state{name: "Space Invaders", appID: "480", key: sealed, steamSet: true},
		},
		{
			name: "rename and clear together", initial: &steam,
			change: func(t *testing.T) game.Change {
				n := mustName(t, "Galaga")
				return game.Change{Name: &n, ClearSteamKey: true}
			},
			wantChanged: true, want: state{name: "Galaga", appID: "480"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			g := newGame(t)
			if tt.initial != nil {
				if _, err := g.Apply(*tt.initial, t0); err != nil {
					t.Fatal(err)
				}
			}
			before := g.UpdatedAt()
			changed, err := g.Apply(tt.change(t), later)
			if err != nil {
				t.Fatal(err)
			}
			if changed != tt.wantChanged {
				t.Errorf("changed = %v, want %v", changed, tt.wantChanged)
			}
			got := state{g.Name().String(), g.SteamAppID().String(), g.SealedSteamKey(), g.SteamConfigured()}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("state = %+v, want %+v", got, tt.want)
			}
			wantUpdated := before
			if tt.wantChanged {
				wantUpdated = domain.Timestamp(later)
			}
			if g.UpdatedAt() != wantUpdated {
				t.Errorf("updated_at = %v, want %v", g.UpdatedAt(), wantUpdated)
			}
			if g.CreatedAt() != domain.Timestamp(t0) {
				t.Errorf("created_at moved to %v", g.CreatedAt())
			}
		})
	}
}

func TestApplyDeviceSignIn(t *testing.T) {
	t.Parallel()
	off, on := false, true
	later := t0.Add(time.Hour)
	g := newGame(t)
	for _, step := range []struct {
		name        string
		change      game.Change
		wantChanged bool
		want        bool
	}{
		{"left alone", game.Change{}, false, true},
		{"on again", game.Change{DeviceSignIn: &on}, false, true},
		{"turned off", game.Change{DeviceSignIn: &off}, true, false},
		{"off again", game.Change{DeviceSignIn: &off}, false, false},
		{"left alone while off", game.Change{SteamAppID: appID(t, "480")}, true, false},
		{"turned on", game.Change{DeviceSignIn: &on}, true, true},
	} {
		before := g.UpdatedAt()
		later = later.Add(time.Second)
		changed, err := g.Apply(step.change, later)
		if err != nil {
			t.Fatal(err)
		}
		wantUpdated := before
		if step.wantChanged {
			wantUpdated = domain.Timestamp(later)
		}
		if changed != step.wantChanged || g.DeviceSignIn() != step.want || g.UpdatedAt() != wantUpdated {
			t.Errorf("%s: changed %v, device sign-in %v, updated_at %v; want %v, %v, %v",
				step.name, changed, g.DeviceSignIn(), g.UpdatedAt(), step.wantChanged, step.want, wantUpdated)
		}
		if back := game.Rehydrate(g.Snapshot()); back.DeviceSignIn() != g.DeviceSignIn() {
			t.Errorf("%s: a snapshot does not keep device sign-in", step.name)
		}
	}
}

func TestApplyKeepsItsOwnCopyOfTheKey(t *testing.T) {
	t.Parallel()
	g := newGame(t)
	key := []byte("sealed key")
	if _, err := g.Apply(game.Change{SteamKey: key}, t0); err != nil {
		t.Fatal(err)
	}
	key[0] = 'X'
	got := g.SealedSteamKey()
	got[1] = 'X'
	if !bytes.Equal(g.SealedSteamKey(), []byte("sealed key")) {
		t.Errorf("the game's key changed through a caller's slice: %q", g.SealedSteamKey())
	}
}

func TestApplyToDeleted(t *testing.T) {
	t.Parallel()
	g := newGame(t)
	deletedAt := t0.Add(time.Minute)
	if err := g.Delete(deletedAt); err != nil {
		t.Fatal(err)
	}
	before := g.Snapshot()
	n := mustName(t, "Galaga")
	for _, c := range []game.Change{
		{Name: &n},
		{SteamAppID: appID(t, "480"), SteamKey: []byte("k")},
		{ClearSteamAppID: true},
		{},
	} {
		changed, err := g.Apply(c, t0.Add(time.Hour))
		if !errors.Is(err, game.ErrDeleted) || domain.CategoryOf(err) != domain.CategoryConflict {
			t.Errorf("Apply(%+v) to a deleted game: %v, want ErrDeleted", c, err)
		}
		if changed {
			t.Errorf("Apply(%+v) to a deleted game reported a change", c)
		}
	}
	if after := g.Snapshot(); !reflect.DeepEqual(after, before) {
		t.Errorf("a deleted game changed:\n got %+v\nwant %+v", after, before)
	}
}

func TestDelete(t *testing.T) {
	t.Parallel()
	g := newGame(t)
	at := time.Date(2025, 5, 6, 7, 8, 9, 987654321, time.FixedZone("X", -5*3600))
	if err := g.Delete(at); err != nil {
		t.Fatal(err)
	}
	want := time.Date(2025, 5, 6, 12, 8, 9, 987654000, time.UTC)
	if !g.IsDeleted() || g.DeletedAt() != want || g.UpdatedAt() != want {
		t.Errorf("deleted = %v, deleted_at = %v, updated_at = %v; want deleted at %v", g.IsDeleted(), g.DeletedAt(), g.UpdatedAt(), want)
	}
	if g.CreatedAt() != domain.Timestamp(t0) {
		t.Errorf("created_at = %v", g.CreatedAt())
	}

	err := g.Delete(at.Add(time.Hour))
	if !errors.Is(err, game.ErrDeleted) {
		t.Fatalf("second Delete: %v, want ErrDeleted", err)
	}
	if g.DeletedAt() != want || g.UpdatedAt() != want {
		t.Errorf("second Delete moved deleted_at/updated_at to %v/%v", g.DeletedAt(), g.UpdatedAt())
	}
}

func TestSteamConfigured(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		change game.Change
		want   bool
	}{
		{"neither", game.Change{}, false},
		{"app ID only", game.Change{SteamAppID: appID(t, "480")}, false},
		{"key only", game.Change{SteamKey: []byte("k")}, false},
		{"both", game.Change{SteamAppID: appID(t, "480"), SteamKey: []byte("k")}, true},
		{"an empty key is no key", game.Change{SteamAppID: appID(t, "480"), SteamKey: []byte{}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			g := newGame(t)
			if _, err := g.Apply(tt.change, t0); err != nil {
				t.Fatal(err)
			}
			if got := g.SteamConfigured(); got != tt.want {
				t.Errorf("SteamConfigured() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestSnapshotRehydrateRoundTrip(t *testing.T) {
	t.Parallel()
	plain := newGame(t)
	withSteam := newGame(t)
	if _, err := withSteam.Apply(game.Change{SteamAppID: appID(t, "480"), SteamKey: []byte("sealed")}, t0.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	deleted := newGame(t)
	if err := deleted.Delete(t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	for name, orig := range map[string]*game.Game{"plain": plain, "with steam": withSteam, "deleted": deleted} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			snap := orig.Snapshot()
			back := game.Rehydrate(snap)
			if !reflect.DeepEqual(back.Snapshot(), snap) {
				t.Errorf("round trip changed the snapshot:\n got %+v\nwant %+v", back.Snapshot(), snap)
			}
			if back.ID() != orig.ID() || back.AccountID() != orig.AccountID() || back.Name() != orig.Name() ||
				back.Slug() != orig.Slug() || back.SteamAppID() != orig.SteamAppID() ||
				!bytes.Equal(back.SealedSteamKey(), orig.SealedSteamKey()) ||
				back.SteamConfigured() != orig.SteamConfigured() || back.IsDeleted() != orig.IsDeleted() {
				t.Errorf("rehydrated game differs from the original")
			}
		})
	}
	snap := withSteam.Snapshot()
	if snap.ID != withSteam.ID() || snap.AccountID != accountID || snap.Name != "Space Invaders" ||
		snap.Slug != "space-invaders" || snap.SteamAppID != "480" || string(snap.SteamKey) != "sealed" ||
		snap.CreatedAt != domain.Timestamp(t0) || snap.UpdatedAt != domain.Timestamp(t0.Add(time.Second)) ||
		!snap.DeletedAt.IsZero() {
		t.Errorf("snapshot = %+v", snap)
	}
	if s := plain.Snapshot(); s.SteamAppID != "" || s.SteamKey != nil {
		t.Errorf("snapshot of a game without Steam settings = %+v", s)
	}
	// Neither side shares the key's bytes with the other.
	snap.SteamKey[0] = 'X'
	if string(withSteam.SealedSteamKey()) != "sealed" {
		t.Error("changing a snapshot changed the game")
	}
	raw := withSteam.Snapshot()
	back := game.Rehydrate(raw)
	raw.SteamKey[0] = 'X'
	if string(back.SealedSteamKey()) != "sealed" {
		t.Error("changing the snapshot a game came from changed the game")
	}
}

func TestRehydrateBringsTimesToUTC(t *testing.T) {
	t.Parallel()
	at := time.Date(2024, 1, 2, 3, 4, 5, 6000, time.FixedZone("Y", 2*3600))
	g := game.Rehydrate(game.Snapshot{
		ID: id.New[id.Game](), AccountID: accountID, Name: "Pong", Slug: "pong",
		CreatedAt: at, UpdatedAt: at, DeletedAt: at,
	})
	for what, got := range map[string]time.Time{"created_at": g.CreatedAt(), "updated_at": g.UpdatedAt(), "deleted_at": g.DeletedAt()} {
		if got.Location() != time.UTC || !got.Equal(at) {
			t.Errorf("%s = %v, want %v in UTC", what, got, at)
		}
	}
	// A deleted rehydrated game keeps its state rules.
	if err := g.Delete(at.Add(time.Hour)); !errors.Is(err, game.ErrDeleted) {
		t.Errorf("Delete of a rehydrated deleted game: %v", err)
	}
}

func TestWithSlug(t *testing.T) {
	t.Parallel()
	g := newGame(t)
	if _, err := g.Apply(game.Change{SteamAppID: appID(t, "480"), SteamKey: []byte("sealed")}, t0); err != nil {
		t.Fatal(err)
	}
	before := g.Snapshot()
	other := g.WithSlug(g.Slug().Numbered(2))
	if other.Slug().String() != "space-invaders-2" {
		t.Errorf("WithSlug gave slug %q", other.Slug())
	}
	if !reflect.DeepEqual(g.Snapshot(), before) {
		t.Errorf("WithSlug changed the original:\n got %+v\nwant %+v", g.Snapshot(), before)
	}
	// Everything but the slug is the same game, ID included: the sealed key
	// is bound to that ID.
	want := before
	want.Slug = "space-invaders-2"
	if !reflect.DeepEqual(other.Snapshot(), want) {
		t.Errorf("WithSlug changed more than the slug:\n got %+v\nwant %+v", other.Snapshot(), want)
	}
	n := mustName(t, "Galaga")
	if _, err := other.Apply(game.Change{Name: &n, SteamKey: []byte("other")}, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(g.Snapshot(), before) {
		t.Error("changing the copy changed the original")
	}
}
