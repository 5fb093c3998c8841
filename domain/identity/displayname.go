package identity

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/leadr-oss/identity/domain"
)

// DisplayName is the name a game shows for a player. The zero value is "no
// display name".
type DisplayName struct {
	value string
}

// MaxDisplayNameLen is counted in Unicode code points.
const MaxDisplayNameLen = 64

// ParseDisplayName requires valid UTF-8, trims surrounding white space
// (Unicode White_Space), normalises to NFC, and then requires 1–64 code
// points, no control characters (category Cc), none of the characters that
// let a name pass for another on a leaderboard (spoofing), and at least one
// visible character.
func ParseDisplayName(raw string) (DisplayName, error) {
	if !utf8.ValidString(raw) {
		// Bytes that are no code point are neither counted nor stored (a
		// PostgreSQL text column refuses them).
		return DisplayName{}, domain.Rejected("display_name", "Display name must be valid UTF-8", raw)
	}
	s := norm.NFC.String(strings.TrimSpace(raw))
	n := utf8.RuneCountInString(s)
	switch {
	case n == 0:
		return DisplayName{}, domain.TooShort("display_name", 1, raw)
	case n > MaxDisplayNameLen:
		return DisplayName{}, domain.TooLong("display_name", MaxDisplayNameLen, raw)
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		return DisplayName{}, domain.Rejected("display_name", "Display name must not contain control characters", raw)
	case strings.IndexFunc(s, spoofing) >= 0:
		return DisplayName{}, domain.Rejected("display_name", "Display name must not contain bidirectional controls, line or paragraph separators or U+FEFF", raw)
	case strings.IndexFunc(s, visible) < 0:
		return DisplayName{}, domain.Rejected("display_name", "Display name must contain a visible character", raw)
	}
	return DisplayName{value: s}, nil
}

// spoofing reports the characters a name shown to everyone must not hold:
// bidirectional controls reorder what follows them ("\u202eadmin" reads
// backwards), separators break a leaderboard's line, and U+FEFF hides
// between letters. Zero-width joiners stay: emoji sequences need them.
func spoofing(r rune) bool {
	switch {
	case r == '\u061c', r == '\u200e', r == '\u200f', r == '\ufeff':
		return true
	case r >= '\u202a' && r <= '\u202e', r >= '\u2066' && r <= '\u2069':
		return true
	}
	return unicode.In(r, unicode.Zl, unicode.Zp)
}

// visible reports a character that shows: not white space, not a format
// character, not a combining mark, and not one of the Hangul fillers, which
// are letters by category but draw nothing (a favourite blank name).
func visible(r rune) bool {
	switch r {
	case '\u115f', '\u1160', '\u3164', '\uffa0':
		return false
	}
	return !unicode.IsSpace(r) && !unicode.In(r, unicode.White_Space, unicode.Cf, unicode.Mn, unicode.Me, unicode.Mc)
}

func (d DisplayName) String() string { return d.value }
func (d DisplayName) IsZero() bool   { return d.value == "" }
