package cursor

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
)

// Fingerprint is the canonical form of a list's filters, the struct f (one
// of the ports' filter types): the string a cursor is bound to (see Plan).
// It is read from every field of the struct, so a filter added to the type
// cannot be left out of it, which would let a cursor made under one value
// of that filter continue under another.
//
// It is name=value for each field, in order, joined by ";". The name is the
// field's, lower-case and without an "ID" suffix, unless a `cursor:"name"`
// tag gives another. Strings are quoted; other values are written by their
// String method (the domain's IDs and enums, which hold no ";" or quote) or
// as booleans. A field tagged `cursor:",omitempty"` is left out when zero:
// a filter added to a type after its cursors were first handed out takes
// that tag, so that those cursors still work.
func Fingerprint[F any](f F) string {
	v := reflect.ValueOf(f)
	fs := fieldsOf(v.Type())
	var b strings.Builder
	b.Grow(48 * len(fs)) // an ID's name and value, in one allocation
	for _, fd := range fs {
		fv := v.Field(fd.index)
		if fd.omitEmpty && fv.IsZero() {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(';')
		}
		b.WriteString(fd.name)
		b.WriteByte('=')
		switch fd.form {
		case stringer:
			b.WriteString(fv.Interface().(fmt.Stringer).String())
		case quoted:
			b.WriteString(strconv.Quote(fv.String()))
		case boolean:
			b.WriteString(strconv.FormatBool(fv.Bool()))
		}
	}
	return b.String()
}

type form int

const (
	stringer form = iota
	quoted
	boolean
)

type filterField struct {
	index     int
	name      string
	omitEmpty bool
	form      form
}

// fields caches each filter type's fields: reading the tags on every list
// request would cost more than writing the fingerprint.
var fields sync.Map // reflect.Type → []filterField

var stringerType = reflect.TypeFor[fmt.Stringer]()

// fieldsOf panics on a type it cannot fingerprint: a programming error
// that the first list of that type shows.
func fieldsOf(t reflect.Type) []filterField {
	if fs, ok := fields.Load(t); ok {
		return fs.([]filterField)
	}
	if t.Kind() != reflect.Struct {
		panic("cursor: a filter is a struct, not " + t.String())
	}
	fs := make([]filterField, t.NumField())
	for i := range fs {
		sf := t.Field(i)
		name, opt, _ := strings.Cut(sf.Tag.Get("cursor"), ",")
		if name == "" {
			name = strings.ToLower(strings.TrimSuffix(sf.Name, "ID"))
		}
		fd := filterField{index: i, name: name, omitEmpty: opt == "omitempty"}
		switch {
		case !sf.IsExported():
			panic("cursor: unexported filter field " + t.String() + "." + sf.Name)
		case sf.Type.Implements(stringerType):
			fd.form = stringer
		case sf.Type.Kind() == reflect.String:
			fd.form = quoted
		case sf.Type.Kind() == reflect.Bool:
			fd.form = boolean
		default:
			panic("cursor: filter field " + t.String() + "." + sf.Name + " has no canonical form")
		}
		fs[i] = fd
	}
	fields.Store(t, fs)
	return fs
}
