package openapi_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/leadr-oss/identity/adapters/httpapi/openapi"
)

type inner struct {
	N int `json:"n"`
}

type wire struct {
	ID       string     `json:"id" pattern:"^x_[0-9]+$"`
	Name     *string    `json:"name" minLength:"1"`
	Optional string     `json:"optional,omitempty" description:"May be left out."`
	When     time.Time  `json:"when"`
	Maybe    *time.Time `json:"maybe"`
	Tags     []string   `json:"tags"`
	Inner    inner      `json:"inner"`
	Skipped  string     `json:"-"`
}

func schemaOf(t *testing.T, types map[string]any, name string) map[string]any {
	t.Helper()
	all, err := openapi.Schemas(types)
	if err != nil {
		t.Fatal(err)
	}
	var s map[string]any
	if err := json.Unmarshal(all[name], &s); err != nil {
		t.Fatalf("%s: %v (%s)", name, err, all[name])
	}
	return s
}

// The conventions are FastAPI's: what it would document for the same model.
func TestSchemasFollowFastAPIConventions(t *testing.T) {
	s := schemaOf(t, map[string]any{"Wire": wire{}}, "Wire")
	props := s["properties"].(map[string]any)
	js := func(v any) string { b, _ := json.Marshal(v); return string(b) }
	for field, want := range map[string]string{
		"id":       `{"pattern":"^x_[0-9]+$","type":"string"}`,
		"name":     `{"minLength":1,"type":["null","string"]}`,
		"optional": `{"description":"May be left out.","type":"string"}`,
		"when":     `{"format":"date-time","type":"string"}`,
		"maybe":    `{"format":"date-time","type":["null","string"]}`,
		"tags":     `{"items":{"type":"string"},"type":"array"}`,
		"inner":    `{"$ref":"#/components/schemas/inner"}`,
	} {
		if got := js(props[field]); got != want {
			t.Errorf("%s: %s, want %s", field, got, want)
		}
	}
	if _, ok := props["Skipped"]; ok {
		t.Error(`a json:"-" field is documented`)
	}
	if got := js(s["required"]); got != `["id","name","when","maybe","tags","inner"]` {
		t.Errorf("required = %s: every field without omitempty, in order", got)
	}
}

func TestSchemasNameNestedTypesAsGiven(t *testing.T) {
	type page struct {
		Items []inner `json:"items"`
	}
	all, err := openapi.Schemas(map[string]any{"Inner": inner{}, "InnerPage": page{}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(all["InnerPage"]), `"#/components/schemas/Inner"`) {
		t.Fatalf("InnerPage does not refer to Inner by its given name: %s", all["InnerPage"])
	}
}

func TestAssembleRefusesAPathOrSchemaClaimedTwice(t *testing.T) {
	a := []byte(`{"paths":{"/v1/a":{}},"components":{"schemas":{"A":{"type":"string"}}}}`)
	sameSchema := []byte(`{"paths":{"/v1/b":{}},"components":{"schemas":{"A":{"type":"string"}}}}`)
	otherSchema := []byte(`{"paths":{"/v1/c":{}},"components":{"schemas":{"A":{"type":"integer"}}}}`)
	samePath := []byte(`{"paths":{"/v1/a":{}}}`)
	if _, err := openapi.Assemble(openapi.Base, a, sameSchema); err != nil {
		t.Errorf("a schema shared alike was refused: %v", err)
	}
	if _, err := openapi.Assemble(openapi.Base, a, otherSchema); err == nil {
		t.Error("two different schemas under one name were merged")
	}
	if _, err := openapi.Assemble(openapi.Base, a, samePath); err == nil {
		t.Error("one path in two fragments was merged")
	}
}
