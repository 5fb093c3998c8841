package main

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/domain/identity"
)

// Seeded keys and names must be ones the service accepts as they are:
// get-or-create sends the keys back, and a name it normalised would differ.
func TestSeededValuesAreValid(t *testing.T) {
	for k := range kinds {
		kind, err := identity.ParseKind(kinds[k])
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, n := range []int{0, 1, 2, 999_999, 10_000_000} {
			key := externalKey(uint8(k), n)
			if _, err := identity.NewExternalKey(kind, key); err != nil {
				t.Errorf("%s key %q: %v", kinds[k], key, err)
			}
			if seen[key] {
				t.Errorf("%s key %q twice", kinds[k], key)
			}
			seen[key] = true
		}
	}
	rnd := rand.New(rand.NewPCG(1, 2))
	for range 100 {
		raw := displayName(rnd.IntN)
		if name, err := identity.ParseDisplayName(raw); err != nil || name.String() != raw {
			t.Errorf("display name %q: %q, %v", raw, name, err)
		}
	}
}

func TestUUIDv7(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	u := uuidV7(at, rand.New(rand.NewPCG(1, 2)))
	if _, err := id.Parse[id.Identity]("ide_" + u.String()); err != nil {
		t.Fatal(err)
	}
	ms := int64(u[0])<<40 | int64(u[1])<<32 | int64(u[2])<<24 | int64(u[3])<<16 | int64(u[4])<<8 | int64(u[5])
	if u[6]>>4 != 7 || u[8]>>6 != 2 || ms != at.UnixMilli() {
		t.Errorf("%s: version %d, variant %b, time %d; want 7, 10, %d", u, u[6]>>4, u[8]>>6, ms, at.UnixMilli())
	}
}
