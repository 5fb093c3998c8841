// Package openapi assembles the OpenAPI 3.1 document of the HTTP API: a base
// (the service's own endpoints and the shapes every slice shares) and one
// fragment per aggregate, written next to that aggregate's handlers. Tests
// keep them true: every route is documented and every documented route
// exists, and every answer the acceptance suite receives validates against
// the document.
package openapi

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
)

// Base is the part of the document that belongs to no aggregate: the
// service's own endpoints, the schemas every list and error shares, and
// the error answers (components.responses) every operation refers to.
//
//go:embed base.json
var Base []byte

type document struct {
	OpenAPI    string                     `json:"openapi"`
	Info       json.RawMessage            `json:"info"`
	Servers    json.RawMessage            `json:"servers,omitempty"`
	Tags       []json.RawMessage          `json:"tags,omitempty"`
	Paths      map[string]json.RawMessage `json:"paths"`
	Components components                 `json:"components"`
}

type components struct {
	SecuritySchemes json.RawMessage            `json:"securitySchemes,omitempty"`
	Responses       json.RawMessage            `json:"responses,omitempty"`
	Schemas         map[string]json.RawMessage `json:"schemas"`
}

// fragment is what an aggregate adds: its tags, paths and schemas.
type fragment struct {
	Tags       []json.RawMessage          `json:"tags"`
	Paths      map[string]json.RawMessage `json:"paths"`
	Components struct {
		Schemas map[string]json.RawMessage `json:"schemas"`
	} `json:"components"`
}

// Assemble merges fragments into base. A path defined twice, or a schema
// defined twice differently, is an error: two slices must not claim one
// name. Schemas generated from shared wire types (Pagination) come with
// every fragment that uses them, alike.
func Assemble(base []byte, fragments ...[]byte) ([]byte, error) {
	var doc document
	if err := json.Unmarshal(base, &doc); err != nil {
		return nil, fmt.Errorf("openapi: base: %w", err)
	}
	baseDoc := doc
	baseDoc.Paths = maps.Clone(doc.Paths)
	for i, raw := range fragments {
		var f fragment
		if err := json.Unmarshal(raw, &f); err != nil {
			return nil, fmt.Errorf("openapi: fragment %d: %w", i, err)
		}
		doc.Tags = append(doc.Tags, f.Tags...)
		if err := merge(doc.Paths, f.Paths, "path"); err != nil {
			return nil, err
		}
		if err := merge(doc.Components.Schemas, f.Components.Schemas, "schema"); err != nil {
			return nil, err
		}
	}
	if err := addCommonResponses(doc.Paths, baseDoc); err != nil {
		return nil, err
	}
	// Fragments come in the order fx gives them, which is not promised:
	// sorted tags keep the document the same from one start to the next.
	slices.SortStableFunc(doc.Tags, func(a, b json.RawMessage) int { return strings.Compare(tagName(a), tagName(b)) })
	return json.MarshalIndent(doc, "", "  ")
}

func tagName(raw json.RawMessage) string {
	var t struct {
		Name string `json:"name"`
	}
	_ = json.Unmarshal(raw, &t)
	return t.Name
}

func merge(into, from map[string]json.RawMessage, what string) error {
	for _, k := range slices.Sorted(maps.Keys(from)) {
		if prev, dup := into[k]; dup && (what == "path" || !jsonEqual(prev, from[k])) {
			return fmt.Errorf("openapi: %s %s is defined twice", what, k)
		}
		into[k] = from[k]
	}
	return nil
}

func jsonEqual(a, b json.RawMessage) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

// Answers any operation may give, documented once here rather than by
// every fragment: 503 (the database's fault, past the deadline) and 431 on
// every operation that does not document its own; 429 and 408 (a body not
// received in time) on the aggregates' operations, which the rate limits
// cover and which read bodies.
var (
	everywhere = map[string]string{"503": "Unavailable", "431": "HeadersTooLarge"}
	limited    = map[string]string{"429": "TooManyRequests", "408": "RequestTimeout"}
)

// addCommonResponses adds the common answers to every operation of paths;
// the paths of base get only those of everywhere.
func addCommonResponses(paths map[string]json.RawMessage, base document) error {
	for name, raw := range paths {
		var item map[string]json.RawMessage
		if err := json.Unmarshal(raw, &item); err != nil {
			return fmt.Errorf("openapi: path %s: %w", name, err)
		}
		_, ofBase := base.Paths[name]
		for method, rawOp := range item {
			var op map[string]json.RawMessage
			if err := json.Unmarshal(rawOp, &op); err != nil || op["responses"] == nil {
				continue // not an operation (parameters, summary)
			}
			var responses map[string]json.RawMessage
			if err := json.Unmarshal(op["responses"], &responses); err != nil {
				return fmt.Errorf("openapi: %s %s: responses: %w", method, name, err)
			}
			add := maps.Clone(everywhere)
			if !ofBase {
				maps.Copy(add, limited)
			}
			for status, component := range add {
				if _, own := responses[status]; !own {
					responses[status] = json.RawMessage(`{"$ref":"#/components/responses/` + component + `"}`)
				}
			}
			op["responses"], _ = json.Marshal(responses)
			item[method], _ = json.Marshal(op)
		}
		paths[name], _ = json.Marshal(item)
	}
	return nil
}
