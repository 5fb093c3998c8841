package game

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/leadr-oss/identity/domain"
)

// Name is a game's display name.
type Name struct{ value string }

const maxNameLen = 100

// ParseName requires valid UTF-8, trims surrounding white space, normalises
// to NFC, and requires 1–100 code points and no control characters.
func ParseName(raw string) (Name, error) {
	if !utf8.ValidString(raw) {
		// Bytes that are no code point are neither counted nor stored (a
		// PostgreSQL text column refuses them).
		return Name{}, domain.Rejected("name", "Name must be valid UTF-8", raw)
	}
	s := norm.NFC.String(strings.TrimSpace(raw))
	n := utf8.RuneCountInString(s)
	switch {
	case n == 0:
		return Name{}, domain.TooShort("name", 1, raw)
	case n > maxNameLen:
		return Name{}, domain.TooLong("name", maxNameLen, raw)
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		return Name{}, domain.Rejected("name", "Name must not contain control characters", raw)
	}
	return Name{value: s}, nil
}

func (n Name) String() string { return n.value }
func (n Name) IsZero() bool   { return n.value == "" }

// Slug is a game's unique, unchangeable handle in URLs and tools.
type Slug struct{ value string }

const (
	minSlugLen = 3
	maxSlugLen = 64
)

// ParseSlug accepts 3–64 characters of a-z, 0-9 and "-", with no "-" at
// either end and never two in a row.
func ParseSlug(raw string) (Slug, error) {
	if !validSlug(raw) {
		return Slug{}, domain.Rejected("slug", fmt.Sprintf(
			"A slug is %d–%d lower-case letters, digits and single hyphens, starting and ending with a letter or digit",
			minSlugLen, maxSlugLen), raw)
	}
	return Slug{value: raw}, nil
}

func validSlug(s string) bool {
	if len(s) < minSlugLen || len(s) > maxSlugLen || s[0] == '-' || s[len(s)-1] == '-' || strings.Contains(s, "--") {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isSlugByte(s[i]) && s[i] != '-' {
			return false
		}
	}
	return true
}

func isSlugByte(b byte) bool { return b >= 'a' && b <= 'z' || b >= '0' && b <= '9' }

// DeriveSlug makes the slug of a game that was given none from its name:
// letters and digits lower-cased (accents dropped, "Émile" → "emile"), every
// other run of characters one "-". A name with too little of them to make
// a slug gets "game" in front.
func DeriveSlug(name Name) Slug {
	var b strings.Builder
	dash := false
	for _, r := range norm.NFD.String(name.value) {
		switch {
		case r < utf8.RuneSelf && isSlugByte(byte(unicode.ToLower(r))):
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteByte(byte(unicode.ToLower(r)))
			dash = false
		case unicode.Is(unicode.Mn, r):
			// A combining accent belongs to the letter before it.
		default:
			dash = true
		}
	}
	s := b.String()
	// Leave room for the "-N" of a taken slug.
	if len(s) > maxSlugLen-5 {
		s = strings.TrimRight(s[:maxSlugLen-5], "-")
	}
	if len(s) < minSlugLen {
		s = strings.Trim("game-"+s, "-")
	}
	return Slug{value: s}
}

// Numbered is the slug with "-n" after it, for n ≥ 2: the next candidate
// when a derived slug is taken.
func (s Slug) Numbered(n int) Slug { return Slug{value: fmt.Sprintf("%s-%d", s.value, n)} }

func (s Slug) String() string { return s.value }
func (s Slug) IsZero() bool   { return s.value == "" }

// SteamAppID is the game's application ID on Steam, 1–10 decimal digits.
type SteamAppID struct{ value string }

func ParseSteamAppID(raw string) (SteamAppID, error) {
	if len(raw) < 1 || len(raw) > 10 || strings.Trim(raw, "0123456789") != "" {
		return SteamAppID{}, domain.Rejected("steam_app_id", "A Steam app ID is 1–10 decimal digits", raw)
	}
	return SteamAppID{value: raw}, nil
}

func (a SteamAppID) String() string { return a.value }
func (a SteamAppID) IsZero() bool   { return a.value == "" }

// SteamWebAPIKey is a publisher's Steam Web API key in plaintext: it exists
// only on its way to being sealed, and never says what it is.
type SteamWebAPIKey struct{ value string }

// ParseSteamWebAPIKey accepts the 32 hexadecimal characters Steam issues.
// The rejected input is not echoed: it may be a real key with a typo.
func ParseSteamWebAPIKey(raw string) (SteamWebAPIKey, error) {
	if len(raw) != 32 || strings.Trim(raw, "0123456789abcdefABCDEF") != "" {
		return SteamWebAPIKey{}, domain.Rejected("steam_web_api_key", "A Steam Web API key is 32 hexadecimal characters", "[redacted]")
	}
	return SteamWebAPIKey{value: raw}, nil
}

// Reveal is the plaintext, for sealing it and for calling Steam.
func (k SteamWebAPIKey) Reveal() string { return k.value }

// String never reveals the key, so that it cannot reach a log by accident.
func (k SteamWebAPIKey) String() string { return "[redacted]" }

// GoString keeps %#v, which would otherwise print the field, from revealing it.
func (k SteamWebAPIKey) GoString() string { return "game.SteamWebAPIKey{[redacted]}" }
