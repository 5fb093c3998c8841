package openapi

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	"github.com/swaggest/jsonschema-go"
)

// Schemas generates the component schemas of Go wire types (the structs
// the server writes and the client reads), named by the map's keys, so that
// the document cannot drift from what is sent. The conventions are
// FastAPI's: a field without omitempty is required; a pointer is nullable
// (type [T, "null"]; a pointer to a struct, anyOf null and its $ref);
// time.Time is a date-time string; nested named types become components of
// their own. Struct tags add what Go types cannot say: description,
// pattern, minLength, maxLength, enum, minimum, maximum.
func Schemas(types map[string]any) (map[string]json.RawMessage, error) {
	out := map[string]json.RawMessage{}
	named := map[reflect.Type]string{}
	for name, v := range types {
		named[reflect.TypeOf(v)] = name
	}
	r := jsonschema.Reflector{}
	for name, v := range types {
		s, err := r.Reflect(v,
			jsonschema.RootRef,
			jsonschema.DefinitionsPrefix("#/components/schemas/"),
			jsonschema.InterceptDefName(func(t reflect.Type, def string) string {
				if n, ok := named[t]; ok {
					return n
				}
				return t.Name()
			}),
			jsonschema.InterceptProp(fastAPIField),
		)
		if err != nil {
			return nil, fmt.Errorf("openapi: schema %s: %w", name, err)
		}
		for def, ds := range s.Definitions {
			raw, err := json.Marshal(ds)
			if err != nil {
				return nil, err
			}
			if prev, dup := out[def]; dup && string(prev) != string(raw) {
				return nil, fmt.Errorf("openapi: two types are named %s", def)
			}
			out[def] = raw
		}
	}
	return out, nil
}

// fastAPIField applies the conventions of Schemas to one property.
func fastAPIField(p jsonschema.InterceptPropParams) error {
	if !p.Processed || p.Field.Tag.Get("json") == "-" {
		return nil
	}
	name, opts, _ := strings.Cut(p.Field.Tag.Get("json"), ",")
	if name == "" {
		return nil
	}
	if !strings.Contains(opts, "omitempty") && !contains(p.ParentSchema.Required, name) {
		p.ParentSchema.Required = append(p.ParentSchema.Required, name)
	}
	t := p.Field.Type
	switch {
	case t.Kind() == reflect.Pointer && p.PropertySchema.Ref != nil:
		// A pointer to a struct (a player's ban) is null or the struct:
		// a $ref's siblings cannot say "or null", anyOf can.
		ref := jsonschema.Schema{Ref: p.PropertySchema.Ref}
		p.PropertySchema.Ref = nil
		p.PropertySchema.AnyOf = []jsonschema.SchemaOrBool{jsonschema.Null.ToSchemaOrBool(), ref.ToSchemaOrBool()}
	case t.Kind() == reflect.Pointer:
		// Nullable: the reflector already gives [T, null] to pointers.
	case t.Kind() == reflect.Slice || t.Kind() == reflect.Map:
		// Encoded as [] and {}, never null.
		if t := p.PropertySchema.Type; t != nil && len(t.SliceOfSimpleTypeValues) > 0 {
			kept := nonNull(t.SliceOfSimpleTypeValues)
			p.PropertySchema.Type = (&jsonschema.Type{}).WithSimpleTypes(kept[0])
		}
	}
	return nil
}

func nonNull(ts []jsonschema.SimpleType) []jsonschema.SimpleType {
	var out []jsonschema.SimpleType
	for _, t := range ts {
		if t != jsonschema.Null {
			out = append(out, t)
		}
	}
	return out
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// Fragment returns an aggregate's fragment with the schemas of its wire
// types added. The schemas are generated when the service starts, so a
// type that cannot be described stops it there.
func Fragment(handWritten []byte, types map[string]any) []byte {
	var f map[string]json.RawMessage
	if err := json.Unmarshal(handWritten, &f); err != nil {
		panic("openapi: fragment: " + err.Error())
	}
	var comps struct {
		Schemas map[string]json.RawMessage `json:"schemas"`
	}
	if raw, ok := f["components"]; ok {
		if err := json.Unmarshal(raw, &comps); err != nil {
			panic("openapi: fragment components: " + err.Error())
		}
	}
	if comps.Schemas == nil {
		comps.Schemas = map[string]json.RawMessage{}
	}
	generated, err := Schemas(types)
	if err != nil {
		panic(err)
	}
	for name, s := range generated {
		if _, dup := comps.Schemas[name]; dup {
			panic("openapi: schema " + name + " is both written and generated")
		}
		comps.Schemas[name] = s
	}
	raw, _ := json.Marshal(comps)
	f["components"] = raw
	out, err := json.Marshal(f)
	if err != nil {
		panic(err)
	}
	return out
}
