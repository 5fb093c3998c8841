package identity

import (
	"fmt"

	"github.com/leadr-oss/identity/domain"
)

// ExternalKey is the player's key in the outside system named by its kind:
// a device ID, a SteamID64 or a studio's own player ID.
type ExternalKey struct {
	kind  Kind
	value string
}

const (
	maxKeyLen       = 128
	minDeviceKeyLen = 10
	minCustomKeyLen = 6
	steamIDLen      = 17
	steamIDPrefix   = "7656119"
)

// NewExternalKey validates raw against the format of kind:
// DEVICE 10–128 and CUSTOM 6–128 visible ASCII characters (0x21–0x7E);
// STEAM a SteamID64, exactly 17 digits starting with 7656119.
func NewExternalKey(kind Kind, raw string) (ExternalKey, error) {
	var ok bool
	var rule string
	switch kind {
	case KindDevice:
		ok, rule = visibleASCII(raw, minDeviceKeyLen), fmt.Sprintf("%d–%d visible ASCII characters", minDeviceKeyLen, maxKeyLen)
	case KindCustom:
		ok, rule = visibleASCII(raw, minCustomKeyLen), fmt.Sprintf("%d–%d visible ASCII characters", minCustomKeyLen, maxKeyLen)
	case KindSteam:
		ok, rule = steamID64(raw), "a SteamID64: 17 digits starting with "+steamIDPrefix
	default:
		return ExternalKey{}, domain.Rejected("kind", "Unknown identity kind", kind.String())
	}
	if !ok {
		return ExternalKey{}, domain.Rejected("external_key",
			fmt.Sprintf("A %s external_key must be %s", kind, rule), raw)
	}
	return ExternalKey{kind: kind, value: raw}, nil
}

func visibleASCII(s string, minLen int) bool {
	if len(s) < minLen || len(s) > maxKeyLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7E {
			return false
		}
	}
	return true
}

func steamID64(s string) bool {
	if len(s) != steamIDLen || s[:len(steamIDPrefix)] != steamIDPrefix {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func (k ExternalKey) Kind() Kind     { return k.kind }
func (k ExternalKey) String() string { return k.value }
