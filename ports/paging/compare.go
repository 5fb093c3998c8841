package paging

import (
	"bytes"
	"cmp"
	"fmt"
	"time"

	"github.com/leadr-oss/identity/domain/id"
)

// Compare orders two positions of the same sort the way every store must:
// strings by their bytes, times to the microsecond, UUIDs by their bytes,
// and NULL after every value ascending (so before every value descending).
// It is the reference the stores are tested against.
func (s Sort) Compare(a, b Position) int {
	for i, k := range s {
		c := compareValues(a[i], b[i])
		if k.Desc {
			c = -c
		}
		if c != 0 {
			return c
		}
	}
	return 0
}

func compareValues(a, b any) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return 1
	case b == nil:
		return -1
	}
	switch a := a.(type) {
	case string:
		return cmp.Compare(a, b.(string))
	case time.Time:
		return cmp.Compare(a.UnixMicro(), b.(time.Time).UnixMicro())
	case id.UUID:
		bu := b.(id.UUID)
		return bytes.Compare(a[:], bu[:])
	}
	panic(fmt.Sprintf("paging: cannot compare %T", a))
}

// Within is how many leading sort keys it takes to tell b from a: the
// index of the first key they differ on, plus one; 0 when they are equal.
func Within(a, b Position) int {
	for i := range min(len(a), len(b)) {
		if compareValues(a[i], b[i]) != 0 {
			return i + 1
		}
	}
	return 0
}
