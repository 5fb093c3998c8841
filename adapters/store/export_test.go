package store

import (
	"github.com/leadr-oss/identity/application/paging"
	"github.com/leadr-oss/identity/ports"
)

// IdentityListQuery exposes the SQL of an identity list page to tests.
func IdentityListQuery(f ports.IdentityFilter, req paging.Request) (string, []any) {
	return keysetQuery(identityListing(f), req)
}
