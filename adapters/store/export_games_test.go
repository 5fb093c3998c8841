package store

import (
	"github.com/leadr-oss/identity/ports"
	"github.com/leadr-oss/identity/ports/paging"
)

// GameListQuery exposes the SQL of a game list page to tests.
func GameListQuery(f ports.GameFilter, req paging.Request) (string, []any) {
	return keysetQuery(gameListing(f), req)
}
