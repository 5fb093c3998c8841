package sealing_test

import (
	"bytes"
	"testing"

	"github.com/leadr-oss/identity/application/sealing"
)

func TestSealedValuesOpenOnlyWithTheirKeyAndContext(t *testing.T) {
	c := sealing.NewCipher([]byte("a shared secret of enough length!!"))
	plain := []byte("0123456789ABCDEF0123456789ABCDEF")
	sealed := c.Seal(plain, []byte("gam_1"))
	if bytes.Contains(sealed, plain) {
		t.Fatal("the sealed value holds the plaintext")
	}
	if again := c.Seal(plain, []byte("gam_1")); bytes.Equal(again, sealed) {
		t.Fatal("sealing twice gave the same bytes: the nonce is not fresh")
	}
	got, err := c.Open(sealed, []byte("gam_1"))
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("Open = %q, %v", got, err)
	}
	other := sealing.NewCipher([]byte("another secret of enough length!!!"))
	tampered := bytes.Clone(sealed)
	tampered[len(tampered)-1] ^= 1
	for name, open := range map[string]func() ([]byte, error){
		"another context": func() ([]byte, error) { return c.Open(sealed, []byte("gam_2")) },
		"another key":     func() ([]byte, error) { return other.Open(sealed, []byte("gam_1")) },
		"tampered":        func() ([]byte, error) { return c.Open(tampered, []byte("gam_1")) },
		"truncated":       func() ([]byte, error) { return c.Open(sealed[:5], []byte("gam_1")) },
		"empty":           func() ([]byte, error) { return c.Open(nil, []byte("gam_1")) },
	} {
		if got, err := open(); err == nil || got != nil {
			t.Errorf("%s: opened (%q, %v)", name, got, err)
		}
	}
}
