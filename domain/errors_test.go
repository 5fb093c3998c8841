package domain_test

import (
	"errors"
	"testing"

	"github.com/leadr-oss/identity/domain"
)

// Logs and wrapped errors read Error(), so every rule must make sense there
// without an adapter's wording.
func TestErrorText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  error
		want string
	}{
		{domain.Missing("game_id"), "game_id: required"},
		{domain.TooShort("name", 1, ""), "name: must have at least 1 character"},
		{domain.TooShort("display_name", 2, "A"), "display_name: must have at least 2 characters"},
		{domain.TooLong("name", 100, "…"), "name: must have at most 100 characters"},
		{domain.NotOneOf("status", []string{"active", "revoked"}, "paused"), "status: must be one of active, revoked"},
		{domain.Rejected("email", "value is not a valid email address", "x"), "email: value is not a valid email address"},
		{domain.Rejected("", "Invalid game ID", "x"), "Invalid game ID"},
		{domain.NotFound("Account not found"), "Account not found"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

func TestCategoryOf(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  error
		want domain.Category
	}{
		{nil, domain.CategoryInternal},
		{errors.New("boom"), domain.CategoryInternal},
		{domain.Missing("x"), domain.CategoryInvalid},
		{errors.Join(errors.New("boom"), domain.TooLong("x", 1, "xx")), domain.CategoryInvalid},
		{domain.BadRequest("no"), domain.CategoryBadRequest},
		{domain.Unauthenticated("no"), domain.CategoryUnauthenticated},
		{domain.Forbidden("no"), domain.CategoryForbidden},
		{domain.NotFound("no"), domain.CategoryNotFound},
		{domain.Conflict("no"), domain.CategoryConflict},
	}
	for _, tt := range tests {
		if got := domain.CategoryOf(tt.err); got != tt.want {
			t.Errorf("CategoryOf(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}
