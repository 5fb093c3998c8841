package auth_test

import (
	"testing"

	"github.com/leadr-oss/identity/application/auth"
	"github.com/leadr-oss/identity/domain/tenancy"
)

// BenchmarkAuthenticate verifies an API key as every admin request does,
// against the in-memory repository: what it measures is the Authenticator's
// own share (shape check, hash, constant-time compare, expiry), the database
// lookup being measured end to end by bootstrap's BenchmarkService.
func BenchmarkAuthenticate(b *testing.B) {
	e := newAuthEnv()
	key, created, err := auth.Bootstrap(e.ctx, e.mem.Tenancy(), e.hasher, e.clock.Now, "")
	if err != nil || !created {
		b.Fatalf("bootstrap: created = %v, %v", created, err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.authn.Authenticate(e.ctx, key); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHash is the HMAC of a key alone, the part of Authenticate that a
// cache of verified keys would still pay to look a key up.
func BenchmarkHash(b *testing.B) {
	h := auth.NewHasher([]byte("a pepper of thirty-two bytes...."))
	key := tenancy.GenerateKey()
	b.ReportAllocs()
	for b.Loop() {
		if len(h.Hash(key)) != 32 {
			b.Fatal("not a SHA-256 HMAC")
		}
	}
}
