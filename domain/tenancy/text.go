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
