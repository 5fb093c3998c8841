// Package paging is the vocabulary of keyset pagination that ports,
// use cases and stores share: sort specs, positions, repository requests
// and results, pages, and each resource's sort schema. The signed cursors
// that carry a position between requests are behind the Cursors interface.
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

// Sort is an ordered list of keys. ParseSort appends "id:asc" unless id is
// named, so a parsed sort always names id and its order is total; keys after
// id never decide anything.
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
	String FieldType = iota + 1
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

// Field declares one sort field of a resource, once: its name in the API,
// how it compares, the column that stores it, and how to read it from an
// item. Value returns string, nil (NULL, for NullableString), time.Time or
// id.UUID.
type Field[T any] struct {
	Name   string
	Type   FieldType
	Column string // "" means the same as Name
	Value  func(T) any
}

// Spec is what a resource's lists can be sorted by, without the items:
// what cursors and stores need.
type Spec struct {
	resource    string
	types       map[string]FieldType
	columns     map[string]string
	names       []string // sorted, for messages and checks
	defaultSort Sort
}

// Schema is a Spec with the accessors that read each field from an item.
type Schema[T any] struct {
	*Spec
	values map[string]func(T) any
}

// NewSchema declares a resource's sort fields. A bad declaration (no id
// field of type UUID, a field without a type or an accessor, a name used
// twice, a default sort that does not parse) panics: schemas are package
// variables, so the service fails as it starts, never mid-request.
func NewSchema[T any](resource, defaultSort string, fields ...Field[T]) *Schema[T] {
	s := &Schema[T]{
		Spec:   &Spec{resource: resource, types: map[string]FieldType{}, columns: map[string]string{}},
		values: map[string]func(T) any{},
	}
	for _, f := range fields {
		switch {
		case f.Name == "":
			panic("paging: " + resource + ": a field without a name")
		case f.Type == 0:
			panic("paging: " + resource + "." + f.Name + ": no type")
		case f.Value == nil:
			panic("paging: " + resource + "." + f.Name + ": no accessor")
		case s.types[f.Name] != 0:
			panic("paging: " + resource + "." + f.Name + ": declared twice")
		}
		col := f.Column
		if col == "" {
			col = f.Name
		}
		s.types[f.Name], s.columns[f.Name], s.values[f.Name] = f.Type, col, f.Value
		s.names = append(s.names, f.Name)
	}
	if s.types[IDField] != UUID {
		panic("paging: " + resource + ": a schema needs an id field of type UUID")
	}
	slices.Sort(s.names)
	def, err := s.ParseSort(defaultSort)
	if err != nil {
		panic("paging: " + resource + ": bad default sort: " + err.Error())
	}
	s.defaultSort = def
	return s
}

// Position is item's place in sort: the value of each of its keys.
func (s *Schema[T]) Position(item T, sort Sort) Position {
	pos := make(Position, len(sort))
	for i, k := range sort {
		pos[i] = s.values[k.Field](item)
	}
	return pos
}

func (s *Spec) Resource() string { return s.resource }

// Type returns the type of a field the spec knows.
func (s *Spec) Type(field string) FieldType { return s.types[field] }

// Column returns the column that stores a field the spec knows.
func (s *Spec) Column(field string) string { return s.columns[field] }

// Fields returns the field names, sorted.
func (s *Spec) Fields() []string { return slices.Clone(s.names) }

// DefaultSort is the sort of a request that names none.
func (s *Spec) DefaultSort() Sort { return s.defaultSort }

// ParseSort reads "field:asc|desc,…". Every element needs a known field and a
// direction (either case); no field may be named twice; "id:asc" is appended
// unless id is named. Errors are BadRequest and name the valid fields.
func (s *Spec) ParseSort(raw string) (Sort, error) {
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

func (s *Spec) sortError(format string, args ...any) error {
	return domain.BadRequest(fmt.Sprintf(format, args...) + ". Valid fields: " + strings.Join(s.names, ", "))
}
