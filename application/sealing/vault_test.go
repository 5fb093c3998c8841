package sealing_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/leadr-oss/identity/application/apptest"
	"github.com/leadr-oss/identity/application/sealing"
	"github.com/leadr-oss/identity/ports"
)

var (
	rootKey  = []byte("the-root-key-of-these-tests-000000000000")
	otherKey = []byte("another-root-key-of-these-tests-11111111")
)

// stored reads what store holds under name, as a copy of the database shows it.
func stored(t *testing.T, store ports.SecretStore, name string) []byte {
	t.Helper()
	raw, err := store.Secret(t.Context(), name, func() []byte { t.Fatalf("nothing stored under %s", name); return nil })
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestVaultStoresOnlySealedSecrets(t *testing.T) {
	store := apptest.NewMemory().Secrets()
	pepper := sealing.RandomKey()
	got, err := sealing.NewVault(store, rootKey).Secret(t.Context(), "api_key_pepper", func() []byte { return pepper })
	if err != nil || !bytes.Equal(got, pepper) {
		t.Fatalf("Secret = %x, %v", got, err)
	}
	if raw := stored(t, store, "api_key_pepper"); bytes.Contains(raw, pepper) {
		t.Fatal("the store holds the pepper in plaintext")
	}
	// Another replica with the same key reads the same secret.
	again, err := sealing.NewVault(store, rootKey).Secret(t.Context(), "api_key_pepper", sealing.RandomKey)
	if err != nil || !bytes.Equal(again, pepper) {
		t.Fatalf("another replica read %x, %v", again, err)
	}
	// Another key opens nothing, and generates nothing in its place.
	if _, err := sealing.NewVault(store, otherKey).Secret(t.Context(), "api_key_pepper", sealing.RandomKey); !errors.Is(err, sealing.ErrWrongKey) {
		t.Fatalf("another key: %v", err)
	}
	// A sealed value is bound to its name: moved under another, it does not open.
	moved := apptest.NewMemory().Secrets()
	if _, err := moved.Secret(t.Context(), "cursor_secret", func() []byte { return stored(t, store, "api_key_pepper") }); err != nil {
		t.Fatal(err)
	}
	if _, err := sealing.NewVault(moved, rootKey).Secret(t.Context(), "cursor_secret", sealing.RandomKey); !errors.Is(err, sealing.ErrWrongKey) {
		t.Fatalf("a value moved to another name: %v", err)
	}
}

func TestCredentialsKeyIsSharedAndSealed(t *testing.T) {
	store := apptest.NewMemory().Secrets()
	one, err := sealing.NewVault(store, rootKey).Credentials(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	two, err := sealing.NewVault(store, rootKey).Credentials(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	steamKey := []byte("0123456789ABCDEF0123456789ABCDEF")
	if got, err := two.Open(one.Seal(steamKey, []byte("gam_1")), []byte("gam_1")); err != nil || !bytes.Equal(got, steamKey) {
		t.Fatalf("the replicas' credentials keys differ: %q %v", got, err)
	}
	// The stored credentials key opens nothing by itself.
	raw := stored(t, store, sealing.CredentialsKey)
	if _, err := sealing.NewCipher(raw).Open(one.Seal(steamKey, []byte("gam_1")), []byte("gam_1")); err == nil {
		t.Fatal("the credentials key is stored as is")
	}
	if _, err := sealing.NewVault(store, otherKey).Credentials(t.Context()); !errors.Is(err, sealing.ErrWrongKey) {
		t.Fatalf("another root key: %v", err)
	}
}

func TestUpgradeSealsEveryValueAndMovesSteamKeys(t *testing.T) {
	pepper, cursor, oldKey := sealing.RandomKey(), sealing.RandomKey(), sealing.RandomKey()
	vault := sealing.NewVault(nil, rootKey)
	u := vault.Upgrade(map[string][]byte{"api_key_pepper": pepper, "cursor_secret": cursor, "encryption_key": oldKey}, rootKey)

	store := apptest.NewMemory().Secrets()
	for name, value := range u.Sealed() {
		if bytes.Contains(value, pepper) || bytes.Contains(value, cursor) || bytes.Contains(value, oldKey) {
			t.Fatalf("%s is stored in plaintext", name)
		}
		if _, err := store.Secret(t.Context(), name, func() []byte { return value }); err != nil {
			t.Fatal(err)
		}
	}
	if _, ok := u.Sealed()["encryption_key"]; ok {
		t.Fatal("the old plaintext key is carried over")
	}
	after := sealing.NewVault(store, rootKey)
	for name, want := range map[string][]byte{"api_key_pepper": pepper, "cursor_secret": cursor} {
		if got, err := after.Secret(t.Context(), name, sealing.RandomKey); err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s after the upgrade: %x, %v", name, got, err)
		}
	}
	credentials, err := after.Credentials(t.Context())
	if err != nil {
		t.Fatal(err)
	}

	// Steam keys sealed with the old generated key, or with the configured
	// key itself, move under the credentials key; others stay unreadable.
	steamKey := []byte("0123456789ABCDEF0123456789ABCDEF")
	for name, sealer := range map[string]*sealing.Cipher{"generated": sealing.NewCipher(oldKey), "configured": sealing.NewCipher(rootKey)} {
		old := sealer.Seal(steamKey, []byte("gam_1"))
		resealed, ok := u.Reseal(old, []byte("gam_1"))
		if !ok {
			t.Fatalf("%s: not resealed", name)
		}
		if got, err := credentials.Open(resealed, []byte("gam_1")); err != nil || !bytes.Equal(got, steamKey) {
			t.Fatalf("%s: the resealed key opens as %q, %v", name, got, err)
		}
		if _, err := sealer.Open(resealed, []byte("gam_1")); err == nil {
			t.Fatalf("%s: the old key still opens the resealed value", name)
		}
	}
	if _, ok := u.Reseal(sealing.NewCipher(otherKey).Seal(steamKey, []byte("gam_1")), []byte("gam_1")); ok {
		t.Fatal("a value sealed under an unknown key was resealed")
	}
	if _, ok := u.Reseal(sealing.NewCipher(oldKey).Seal(steamKey, []byte("gam_1")), []byte("gam_2")); ok {
		t.Fatal("a value sealed for another game was resealed")
	}
}
