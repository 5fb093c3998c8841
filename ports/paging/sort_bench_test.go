package paging_test

import (
	"testing"

	"github.com/leadr-oss/identity/ports"
)

// BenchmarkParseSort parses sort specs of the identity list, which every list
// request that names a sort, and every cursor, goes through. The specs range
// from one key (id appended) to every key a client may name, spelled loosely.
func BenchmarkParseSort(b *testing.B) {
	for _, c := range []struct {
		name, raw string
		keys      int
	}{
		{"one_key", "created_at:desc", 2},
		{"two_keys", "display_name:asc,created_at:desc", 3},
		{"all_keys_loose", " kind:ASC , display_name:Desc,updated_at:asc, created_at:desc ,id:desc", 5},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sort, err := ports.IdentitySchema.ParseSort(c.raw)
				if err != nil {
					b.Fatal(err)
				}
				if len(sort) != c.keys {
					b.Fatalf("%q parsed to %d keys, want %d", c.raw, len(sort), c.keys)
				}
			}
		})
	}
}
