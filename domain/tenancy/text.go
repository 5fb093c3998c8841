package tenancy

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/leadr-oss/identity/domain"
)

// cleanText trims surrounding white space and checks a length in code points
// and the absence of control characters: the rule every free-text field of
// this package shares.
func cleanText(field, raw string, minLen, maxLen int) (string, error) {
	if !utf8.ValidString(raw) {
		// Bytes that are no code point are neither counted nor stored (a
		// PostgreSQL text column refuses them).
		return "", domain.Rejected(field, "Must be valid UTF-8", raw)
	}
	s := strings.TrimSpace(raw)
	n := utf8.RuneCountInString(s)
	switch {
	case n < minLen:
		return "", domain.TooShort(field, minLen, raw)
	case n > maxLen:
		return "", domain.TooLong(field, maxLen, raw)
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		return "", domain.Rejected(field, "Must not contain control characters", raw)
	}
	return s, nil
}
