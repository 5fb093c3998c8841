package tenancy

import (
	"fmt"
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
		err := domain.Invalid(field, "string_too_short", fmt.Sprintf("String should have at least %d %s", minLen, plural(minLen)), raw)
		err.Context = map[string]any{"min_length": minLen}
		return "", err
	case n > maxLen:
		err := domain.Invalid(field, "string_too_long", fmt.Sprintf("String should have at most %d %s", maxLen, plural(maxLen)), raw)
		err.Context = map[string]any{"max_length": maxLen}
		return "", err
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		return "", domain.InvalidValue(field, "Must not contain control characters", raw)
	}
	return s, nil
}

func plural(n int) string {
	if n == 1 {
		return "character"
	}
	return "characters"
}
