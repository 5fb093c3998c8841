// Package paging is keyset pagination: sort specs, the signed cursors that
// carry a position from one page to the next, and the pages themselves.
package paging

import (
	"fmt"
	"slices"
	"strings"

	"github.com/leadr-oss/identity/domain"
)

// Key is one field of a sort spec and its direction.
type Key struct {
	Field string
	Desc  bool
}

// Sort is an ordered list of keys; its last key is always "id", which makes
// the order total.
type Sort []Key

// String is the canonical form, e.g. "created_at:desc,id:asc".
func (s Sort) String() string {
	var b strings.Builder
	for i, k := range s {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k.Field)
		if k.Desc {
			b.WriteString(":desc")
		} else {
			b.WriteString(":asc")
		}
	}
	return b.String()
}

// Reverse returns the same keys with every direction flipped.
func (s Sort) Reverse() Sort {
	r := make(Sort, len(s))
	for i, k := range s {
		r[i] = Key{Field: k.Field, Desc: !k.Desc}
	}
	return r
}

// FieldType tells how a sort field's values are compared and carried in cursors.
type FieldType uint8

const (
	// String compares by the bytes of its UTF-8.
	String FieldType = iota
	// NullableString is String where NULL sorts after every value ascending
	// and before every value descending.
	NullableString
	// Time compares to the microsecond.
	Time
	// UUID compares as the 16 bytes, which equals comparing canonical strings.
	UUID
)

// IDField is the tie-breaker every sort ends with.
const IDField = "id"

// Schema is what one resource's lists can be sorted by.
type Schema struct {
	resource    string
	types       map[string]FieldType
	valid       string // the sorted field names, for messages
	defaultSort Sort
}

// NewSchema describes a resource's sortable fields; fields must include "id"
// of type UUID. defaultSort is used when a request gives no sort.
func NewSchema(resource string, fields map[string]FieldType, defaultSort string) *Schema {
	if fields[IDField] != UUID {
		panic("paging: a schema needs an id field of type UUID")
	}
	names := make([]string, 0, len(fields))
	for n := range fields {
		names = append(names, n)
	}
	slices.Sort(names)
	s := &Schema{resource: resource, types: fields, valid: strings.Join(names, ", ")}
	def, err := s.ParseSort(defaultSort)
	if err != nil {
		panic("paging: bad default sort: " + err.Error())
	}
	s.defaultSort = def
	return s
}

func (s *Schema) Resource() string { return s.resource }

// Type returns the type of a field the schema knows.
func (s *Schema) Type(field string) FieldType { return s.types[field] }

// DefaultSort is the sort of a request that names none.
func (s *Schema) DefaultSort() Sort { return s.defaultSort }

// ParseSort reads "field:asc|desc,…". Every element needs a known field and a
// direction (either case); no field may be named twice; "id:asc" is appended
// unless id is named. Errors are BadRequest and name the valid fields.
func (s *Schema) ParseSort(raw string) (Sort, error) {
	var sort Sort
	seen := map[string]bool{}
	for _, elem := range strings.Split(raw, ",") {
		elem = strings.TrimSpace(elem)
		field, dir, ok := strings.Cut(elem, ":")
		field, dir = strings.TrimSpace(field), strings.ToLower(strings.TrimSpace(dir))
		switch {
		case elem == "":
			return nil, s.sortError("Invalid sort specification: empty element in %q. Expected 'field:asc' or 'field:desc'", raw)
		case !ok:
			return nil, s.sortError("Invalid sort specification: %s. Expected 'field:asc' or 'field:desc'", elem)
		case dir != "asc" && dir != "desc":
			return nil, s.sortError("Invalid sort direction: %q in %s. Expected 'asc' or 'desc'", dir, elem)
		}
		if _, known := s.types[field]; !known {
			return nil, s.sortError("Unknown sort field: %s", field)
		}
		if seen[field] {
			return nil, s.sortError("Sort field named twice: %s", field)
		}
		seen[field] = true
		sort = append(sort, Key{Field: field, Desc: dir == "desc"})
	}
	if !seen[IDField] {
		sort = append(sort, Key{Field: IDField})
	}
	return sort, nil
}

func (s *Schema) sortError(format string, args ...any) error {
	return domain.BadRequest(fmt.Sprintf(format, args...) + ". Valid fields: " + s.valid)
}
