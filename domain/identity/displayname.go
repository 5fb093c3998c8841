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
// points and no control characters (category Cc).
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
	}
	return DisplayName{value: s}, nil
}

func (d DisplayName) String() string { return d.value }
func (d DisplayName) IsZero() bool   { return d.value == "" }
