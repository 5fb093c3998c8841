package identity

import (
	"strings"

	"github.com/leadr-oss/identity/domain"
)

// Kind is how a player is identified. It is a closed set: the only values are
// the variables below, and the zero Kind is "no kind".
type Kind struct {
	name string
}

var (
	KindDevice = Kind{"DEVICE"}
	KindSteam  = Kind{"STEAM"}
	KindCustom = Kind{"CUSTOM"}
)

// Kinds lists every kind in the order messages name them.
func Kinds() []Kind { return []Kind{KindDevice, KindSteam, KindCustom} }

// ParseKind accepts a kind's exact, upper-case name.
func ParseKind(s string) (Kind, error) {
	for _, k := range Kinds() {
		if s == k.name {
			return k, nil
		}
	}
	var names []string
	for _, k := range Kinds() {
		names = append(names, k.name)
	}
	return Kind{}, domain.NotOneOf("kind", names, s)
}

// ParseKindFilter reads a list's kind filter: a kind that is none is the
// contract's 400, naming the kinds, rather than a 422.
func ParseKindFilter(s string) (Kind, error) {
	k, err := ParseKind(s)
	if err != nil {
		names := make([]string, 0, 3)
		for _, k := range Kinds() {
			names = append(names, k.name)
		}
		return Kind{}, domain.BadRequest("Invalid kind: " + s + ". Must be one of: " + strings.Join(names, ", "))
	}
	return k, nil
}

func (k Kind) String() string { return k.name }
func (k Kind) IsZero() bool   { return k.name == "" }
