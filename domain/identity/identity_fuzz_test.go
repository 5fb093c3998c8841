package identity_test

import (
	"errors"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/leadr-oss/identity/domain"
	"github.com/leadr-oss/identity/domain/identity"
)

// FuzzDisplayName holds ParseDisplayName to the contract's rule (section 3):
// valid UTF-8, trimmed of White_Space, NFC, then 1–64 code points and no
// control character (Cc). It never panics; it accepts exactly what the rule
// allows, as the rule normalises it; parsing an accepted name again gives
// it back unchanged; and a refusal is an Invalid error of display_name that
// echoes the raw input and names the rule the input broke.
func FuzzDisplayName(f *testing.F) {
	for _, s := range []string{
		"Alice", "Ada Lovelace", "  Bob  ", "\t\n Bob \r\n", "\u00a0Bob\u00a0", "\u3000玩家一号\u3000",
		"e\u0301", "Jose\u0301 ", "🎮 gamer 🙂", "a\u200bb", "\u200b", "\ufeffBOM", "\u2028Bob\u2029",
		strings.Repeat("a", 64), strings.Repeat("a", 65), strings.Repeat("é", 64), strings.Repeat("e\u0301", 64),
		strings.Repeat("e\u0301", 65), strings.Repeat("🙂", 65), "  " + strings.Repeat("x", 64) + "\u3000",
		"", "   ", "\u00a0\u3000\u2003\t", "a\x00b", "\x00", "ab\x07", "a\u0085b", "\u0085Bob\u0085",
		"a\nb", "a\x7fb", "a\u009fb", "\x1b[31mred", "\u202eevil\u202c", "Zalgo\u0336\u0337\u0338",
		"\xff", "Bob\xff", "\xe2\x82", "\xed\xa0\x80", "\xc0\xaf", "\xf4\x90\x80\x80", "\ufffd",
		"\u0344", "\u1100\u1161\u11a8", // a singleton decomposition; conjoining jamo that NFC composes
		"\u212b", "\u2000Bob\u2001", // canonical equivalents of Å and of spaces
		"\u202eadmin\u200b", "\u200b\u200b", "a\u2028b", "👩\u200d💻", "\u3164", "\u2066x", // spoofing (issue 17)
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		got, err := identity.ParseDisplayName(raw)

		// The rule, stated without the code under test's helpers.
		want := norm.NFC.String(strings.TrimFunc(raw, isWhiteSpace))
		n := utf8.RuneCountInString(want)
		var wantRule domain.Rule
		switch {
		case !utf8.ValidString(raw):
			wantRule = domain.Custom
		case n == 0:
			wantRule = domain.MinLength
		case n > identity.MaxDisplayNameLen:
			wantRule = domain.MaxLength
		case strings.IndexFunc(want, isCc) >= 0, strings.ContainsFunc(want, isSpoofing), !strings.ContainsFunc(want, isVisible):
			wantRule = domain.Custom
		}

		if err != nil {
			de := invalid(t, err)
			if de.Field != "display_name" {
				t.Fatalf("ParseDisplayName(%q): field %q, want display_name", raw, de.Field)
			}
			if in, ok := de.Input.(string); !ok || in != raw {
				t.Fatalf("ParseDisplayName(%q): error echoes %#v, want the raw input", raw, de.Input)
			}
			if !got.IsZero() {
				t.Fatalf("ParseDisplayName(%q) returned %q with its error", raw, got)
			}
			if wantRule == domain.NoRule {
				t.Fatalf("ParseDisplayName(%q) refused %q, which keeps the rule: %v", raw, want, err)
			}
			if de.Rule != wantRule {
				t.Fatalf("ParseDisplayName(%q): rule %v (%v), want %v", raw, de.Rule, err, wantRule)
			}
			switch {
			case de.Rule == domain.MinLength && de.Limit != 1,
				de.Rule == domain.MaxLength && de.Limit != identity.MaxDisplayNameLen:
				t.Fatalf("ParseDisplayName(%q): limit %d (%v)", raw, de.Limit, err)
			}
			return
		}
		if wantRule != domain.NoRule {
			t.Fatalf("ParseDisplayName(%q) = %q, but the rule refuses it (%v)", raw, got, wantRule)
		}
		s := got.String()
		if s != want {
			t.Fatalf("ParseDisplayName(%q) = %q, want %q", raw, s, want)
		}
		checkCleanName(t, raw, s, identity.MaxDisplayNameLen)
		if got.IsZero() {
			t.Fatalf("ParseDisplayName(%q) is zero", raw)
		}
		// Idempotent: the stored name is its own canonical form.
		again, err := identity.ParseDisplayName(s)
		if err != nil || again != got {
			t.Fatalf("ParseDisplayName(%q) = %q, %v; want it unchanged", s, again, err)
		}
	})
}

// checkCleanName checks what an accepted name must be, whatever the rule's
// implementation: valid UTF-8 in NFC, no White_Space at either end, no Cc,
// 1 to maxLen code points.
func checkCleanName(t *testing.T, raw, s string, maxLen int) {
	t.Helper()
	if !utf8.ValidString(s) {
		t.Fatalf("%q was accepted as %q: not valid UTF-8", raw, s)
	}
	if n := utf8.RuneCountInString(s); n < 1 || n > maxLen {
		t.Fatalf("%q was accepted as %q of %d code points", raw, s, n)
	}
	if !norm.NFC.IsNormalString(s) {
		t.Fatalf("%q was accepted as %q: not NFC", raw, s)
	}
	first, _ := utf8.DecodeRuneInString(s)
	last, _ := utf8.DecodeLastRuneInString(s)
	if isWhiteSpace(first) || isWhiteSpace(last) {
		t.Fatalf("%q was accepted as %q: white space at an end", raw, s)
	}
	if i := strings.IndexFunc(s, isCc); i >= 0 {
		t.Fatalf("%q was accepted as %q: a control character at byte %d", raw, s, i)
	}
}

// Bytes that are not UTF-8 were once taken for code points (one each) and
// stored as they came; PostgreSQL refuses such text. Found by FuzzDisplayName.
func TestDisplayNameRefusesInvalidUTF8(t *testing.T) {
	t.Parallel()
	for _, raw := range []string{"\xff", "Bob\xff", "\xe2\x82", "\xed\xa0\x80", "\xc0\xaf", " Bob\xfe "} {
		got, err := identity.ParseDisplayName(raw)
		de := invalid(t, err)
		if de.Field != "display_name" || de.Rule != domain.Custom || de.Message != "Display name must be valid UTF-8" || de.Input != raw {
			t.Errorf("ParseDisplayName(%q): %+v", raw, de)
		}
		if !got.IsZero() {
			t.Errorf("ParseDisplayName(%q) returned %q with its error", raw, got)
		}
	}
}

func isWhiteSpace(r rune) bool { return unicode.Is(unicode.White_Space, r) }

// isSpoofing is the contract's list, spelled out: bidi controls, Zl, Zp, BOM.
func isSpoofing(r rune) bool {
	return strings.ContainsRune("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff", r) ||
		unicode.Is(unicode.Zl, r) || unicode.Is(unicode.Zp, r)
}

// isVisible: not white space, format or a combining mark (M), nor a Hangul filler.
func isVisible(r rune) bool {
	return !isWhiteSpace(r) && !unicode.Is(unicode.Cf, r) && !unicode.Is(unicode.M, r) &&
		!strings.ContainsRune("\u115f\u1160\u3164\uffa0", r)
}
func isCc(r rune) bool { return unicode.Is(unicode.Cc, r) }

// FuzzExternalKey holds NewExternalKey to the rules of section 3: DEVICE
// 10–128 and CUSTOM 6–128 characters 0x21–0x7E, STEAM exactly 17 digits
// starting 7656119; the key is kept as given (no normalising). Kinds are
// read by ParseKind, which accepts only the exact upper-case names.
func FuzzExternalKey(f *testing.F) {
	for _, s := range []struct{ kind, key string }{
		{"DEVICE", "device-3f2a9c41-6b7e"},
		{"DEVICE", "0123456789"},
		{"DEVICE", "012345678"},
		{"DEVICE", strings.Repeat("d", 128)},
		{"DEVICE", strings.Repeat("d", 129)},
		{"DEVICE", "abcdefghij\xff"},
		{"DEVICE", "abcdefghi "},
		{"DEVICE", " abcdefghij"},
		{"DEVICE", "abcde\x00fghij"},
		{"DEVICE", "abcdefghi\x7f"},
		{"DEVICE", "ｆｕｌｌｗｉｄｔｈ１２"},
		{"CUSTOM", "player-42"},
		{"CUSTOM", "!~!~!~"},
		{"CUSTOM", "abcde"},
		{"CUSTOM", "abcdéf"},
		{"STEAM", "76561197960287930"},
		{"STEAM", "76561190000000000"},
		{"STEAM", "7656119796028793"},
		{"STEAM", "765611979602879300"},
		{"STEAM", "86561197960287930"},
		{"STEAM", "7656119796028793a"},
		{"STEAM", "７6561197960287930"},
		{"STEAM", "+7656119796028793"},
		{"device", "device-3f2a9c41-6b7e"},
		{"", "device-3f2a9c41-6b7e"},
		{"EMAIL", "someone@example.com"},
		{"DEVICE ", "device-3f2a9c41-6b7e"},
	} {
		f.Add(s.kind, s.key)
	}
	f.Fuzz(func(t *testing.T, kindName, raw string) {
		kind, err := identity.ParseKind(kindName)
		if err != nil {
			de := invalid(t, err)
			if de.Field != "kind" || de.Rule != domain.OneOf || strings.Join(de.Allowed, ",") != "DEVICE,STEAM,CUSTOM" {
				t.Fatalf("ParseKind(%q): %+v", kindName, de)
			}
			if kindName == "DEVICE" || kindName == "STEAM" || kindName == "CUSTOM" {
				t.Fatalf("ParseKind(%q) refused a kind", kindName)
			}
			// A key without a kind is refused for the kind, whatever it is.
			if _, err := identity.NewExternalKey(identity.Kind{}, raw); invalid(t, err).Field != "kind" {
				t.Fatalf("NewExternalKey(no kind, %q): %v", raw, err)
			}
			return
		}
		if kind.String() != kindName {
			t.Fatalf("ParseKind(%q) = %q", kindName, kind)
		}

		var want bool
		switch kind {
		case identity.KindDevice:
			want = visible(raw) && len(raw) >= 10 && len(raw) <= 128
		case identity.KindCustom:
			want = visible(raw) && len(raw) >= 6 && len(raw) <= 128
		case identity.KindSteam:
			want = len(raw) == 17 && strings.HasPrefix(raw, "7656119") && strings.Trim(raw, "0123456789") == ""
		}

		key, err := identity.NewExternalKey(kind, raw)
		if err != nil {
			de := invalid(t, err)
			if de.Field != "external_key" || de.Rule != domain.Custom || !strings.Contains(de.Message, kindName) {
				t.Fatalf("NewExternalKey(%s, %q): %+v", kind, raw, de)
			}
			if in, ok := de.Input.(string); !ok || in != raw {
				t.Fatalf("NewExternalKey(%s, %q): error echoes %#v", kind, raw, de.Input)
			}
			if want {
				t.Fatalf("NewExternalKey(%s, %q) refused a valid key: %v", kind, raw, err)
			}
			if key != (identity.ExternalKey{}) {
				t.Fatalf("NewExternalKey(%s, %q) returned %v with its error", kind, raw, key)
			}
			return
		}
		if !want {
			t.Fatalf("NewExternalKey(%s, %q) accepted a key the rule refuses", kind, raw)
		}
		if key.String() != raw || key.Kind() != kind {
			t.Fatalf("NewExternalKey(%s, %q) = %s %q: not the key as given", kind, raw, key.Kind(), key)
		}
		if again, err := identity.NewExternalKey(kind, key.String()); err != nil || again != key {
			t.Fatalf("NewExternalKey(%s, %q) again = %v, %v", kind, key, again, err)
		}
	})
}

func visible(s string) bool {
	for _, b := range []byte(s) {
		if b < '!' || b > '~' {
			return false
		}
	}
	return true
}

// invalid fails t unless err is an Invalid *domain.Error, and returns it.
func invalid(t *testing.T, err error) *domain.Error {
	t.Helper()
	var de *domain.Error
	if !errors.As(err, &de) || de.Category != domain.CategoryInvalid {
		t.Fatalf("error %T %v, want an Invalid *domain.Error", err, err)
	}
	return de
}
