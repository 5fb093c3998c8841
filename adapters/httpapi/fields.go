package httpapi

import (
	"fmt"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/ports"
)

// A handler reads a body into the body's wire struct (package wire), one
// field at a time. It names each field by a pointer into the struct; the
// field's JSON name, and whether it is required (no omitempty), come from
// the struct's tags, which the OpenAPI schema is generated from and the
// client encodes with: the names the server reads cannot drift from the
// names the others use. The body stays the JSON readBody checked, and each
// reader decodes only its own member.
//
// Handlers read the fields in the struct's order: pydantic reports a
// model's problems in the order of its fields.

// fields is a body being read into a wire struct.
type fields struct {
	b    *body
	req  reflect.Value // the struct
	tags []fieldTag    // of its fields, by index
}

// fieldTag is what a request field's tags say to the server.
type fieldTag struct {
	name     string
	required bool
}

// fieldTags caches fieldTagsOf by type: the reflection is done once.
var fieldTags sync.Map // reflect.Type → []fieldTag

// fieldsOf reads b into req.
func fieldsOf[T any](b *body, req *T) fields {
	t := reflect.TypeFor[T]()
	tags, ok := fieldTags.Load(t)
	if !ok {
		tags, _ = fieldTags.LoadOrStore(t, fieldTagsOf(t))
	}
	return fields{b: b, req: reflect.ValueOf(req).Elem(), tags: tags.([]fieldTag)}
}

// fieldTagsOf reads the tags of a request struct. A request body is flat:
// a field that is embedded or has no JSON name is a mistake, found at the
// first request.
func fieldTagsOf(t reflect.Type) []fieldTag {
	tags := make([]fieldTag, t.NumField())
	for i := range tags {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if f.Anonymous || name == "" || name == "-" {
			panic("httpapi: " + t.String() + "." + f.Name + " is not a field of a request body")
		}
		tags[i] = fieldTag{name: name, required: !strings.Contains(opts, "omitempty")}
	}
	return tags
}

// tag is the tag of the field that p points to.
func (f fields) tag(p any) fieldTag {
	for i, tag := range f.tags {
		if f.req.Field(i).Addr().Interface() == p {
			return tag
		}
	}
	panic(fmt.Sprintf("httpapi: %T is not a field of %s", p, f.req.Type()))
}

// bodyString reads a string field into *p. It returns nil when the field is
// absent, null where null is allowed, or not a string (a problem).
func bodyString[P *string | **string](f fields, p P) *string {
	tag := f.tag(p)
	s := f.b.str(tag.name, tag.required)
	switch p := any(p).(type) {
	case *string:
		if s != nil {
			*p = *s
		}
	case **string:
		*p = s
	}
	return s
}

// bodyBool reads an optional boolean field, with pydantic's lax rules,
// into *p. It returns nil when the field is absent, null, or not a boolean
// (a problem). No request has a required boolean; one would need
// body.boolean to report it missing.
func bodyBool[P *bool | **bool](f fields, p P) *bool {
	tag := f.tag(p)
	if tag.required {
		panic("httpapi: " + f.req.Type().String() + "." + tag.name + " is a required boolean")
	}
	v := f.b.boolean(tag.name)
	switch p := any(p).(type) {
	case *bool:
		if v != nil {
			*p = *v
		}
	case **bool:
		*p = v
	}
	return v
}

// bodyID reads a prefixed ID from a string field into *p.
func bodyID[E id.Entity](f fields, p *string) id.ID[E] {
	return parseID[E](f.b, f.tag(p).name, bodyString(f, p))
}

// bodyTime reads an optional RFC 3339 date-time from a string field into
// *p; see body.timestamp.
func bodyTime(f fields, p **string) time.Time {
	return f.b.timestamp(f.tag(p).name, bodyString(f, p))
}

// bodySetting reads an optional string field that JSON null clears into
// *p; see body.setting.
func bodySetting(f fields, p **string) ports.Setting {
	s := f.b.setting(f.tag(p).name)
	*p = s.Value
	return s
}

// bodyStrings reads a list of strings into *p; see body.strs.
func bodyStrings(f fields, p *[]string) []string {
	tag := f.tag(p)
	*p = f.b.strs(tag.name, tag.required)
	return *p
}
