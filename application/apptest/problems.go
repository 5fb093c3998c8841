package apptest

import (
	"errors"
	"testing"

	"github.com/leadr-oss/identity/domain"
)

// InvalidErrors walks err through every errors.Join branch and returns the
// Invalid errors it holds, in order; it fails the test on no error or on an
// error of another category. Use cases report every problem of an input at
// once, and their tests check them all.
func InvalidErrors(t *testing.T, err error) []*domain.Error {
	t.Helper()
	if err == nil {
		t.Fatal("got no error, want Invalid errors")
	}
	var out []*domain.Error
	var walk func(error)
	walk = func(err error) {
		if multi, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range multi.Unwrap() {
				walk(e)
			}
			return
		}
		var de *domain.Error
		if !errors.As(err, &de) {
			t.Fatalf("error %v (%T) is not a *domain.Error", err, err)
		}
		if de.Category != domain.CategoryInvalid {
			t.Fatalf("error %v has category %v, want CategoryInvalid", err, de.Category)
		}
		out = append(out, de)
	}
	walk(err)
	return out
}
