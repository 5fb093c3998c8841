package migrations_test

import (
	"slices"
	"testing"

	"github.com/leadr-oss/identity/adapters/store"
)

// Both dialects have the same migrations, each with an up and a down.
func TestDialectsHaveTheSameVersions(t *testing.T) {
	names := func(sqlite bool) []string {
		ms, err := store.Migrations(sqlite)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, m := range ms.Sorted() {
			if m.Up == nil || m.Down == nil {
				t.Errorf("migration %s_%s (sqlite=%v) lacks an up or a down", m.Name, m.Comment, sqlite)
			}
			out = append(out, m.Name+"_"+m.Comment)
		}
		return out
	}
	pg, lite := names(false), names(true)
	if len(pg) == 0 || !slices.Equal(pg, lite) {
		t.Fatalf("postgres %v, sqlite %v", pg, lite)
	}
}
