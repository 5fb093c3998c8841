package apptest

import (
	"testing"

	"github.com/leadr-oss/identity/ports/paging"
)

// WalkPages follows a list use case's next cursors from the first page to
// the last and returns every item, failing t on an error or on a walk that
// does not end.
func WalkPages[T any](t *testing.T, list func(cursor string) (paging.Page[T], error)) []T {
	t.Helper()
	var all []T
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 1000 {
			t.Fatal("more than 1000 pages: the walk does not end")
		}
		pg, err := list(cursor)
		if err != nil {
			t.Fatalf("list at cursor %q: %v", cursor, err)
		}
		all = append(all, pg.Items...)
		if !pg.HasNext {
			return all
		}
		cursor = pg.Next
	}
}
