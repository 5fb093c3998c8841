package paging_test

import (
	"crypto/rand"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/ports/paging"
	"github.com/leadr-oss/identity/ports/paging/pagingtest"
)

type widget = pagingtest.Widget

var (
	widgets     = pagingtest.Widgets
	badRequest  = pagingtest.BadRequest
	validFields = pagingtest.ValidFields
)

func TestParseSort(t *testing.T) {
	t.Parallel()
	k := func(field string, desc bool) paging.Key { return paging.Key{Field: field, Desc: desc} }
	tests := []struct {
		raw  string
		want paging.Sort
	}{
		{"name:asc", paging.Sort{k("name", false), k("id", false)}},
		{"name:desc", paging.Sort{k("name", true), k("id", false)}},
		{"name:DESC", paging.Sort{k("name", true), k("id", false)}},
		{"name:Asc", paging.Sort{k("name", false), k("id", false)}},
		{"created_at:desc,label:asc", paging.Sort{k("created_at", true), k("label", false), k("id", false)}},
		{" name : desc , label:asc ", paging.Sort{k("name", true), k("label", false), k("id", false)}},
		{"id:desc", paging.Sort{k("id", true)}},
		{"id:asc", paging.Sort{k("id", false)}},
		{"id:desc,name:asc", paging.Sort{k("id", true), k("name", false)}},
		{"name:asc,id:desc", paging.Sort{k("name", false), k("id", true)}},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			t.Parallel()
			got, err := widgets.ParseSort(tt.raw)
			if err != nil {
				t.Fatalf("ParseSort(%q): %v", tt.raw, err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("ParseSort(%q) = %v, want %v", tt.raw, got, tt.want)
			}
			if got.String() != tt.want.String() {
				t.Errorf("String() = %q, want %q", got.String(), tt.want.String())
			}
		})
	}
}

func TestParseSortErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		raw  string
		want string
	}{
		{"bogus:asc", "Unknown sort field: bogus"},
		{"Name:asc", "Unknown sort field: Name"},
		{"name:asc,bogus:desc", "Unknown sort field: bogus"},
		{"name", "Invalid sort specification: name. Expected 'field:asc' or 'field:desc'"},
		{"label:asc,name", "Invalid sort specification: name. Expected 'field:asc' or 'field:desc'"},
		{"name:up", `Invalid sort direction: "up" in name:up. Expected 'asc' or 'desc'`},
		{"name:", `Invalid sort direction: "" in name:. Expected 'asc' or 'desc'`},
		{"name:ascending", `Invalid sort direction: "ascending" in name:ascending. Expected 'asc' or 'desc'`},
		{"name:asc:desc", `Invalid sort direction: "asc:desc" in name:asc:desc. Expected 'asc' or 'desc'`},
		{"", `Invalid sort specification: empty element in "". Expected 'field:asc' or 'field:desc'`},
		{"name:asc,", `Invalid sort specification: empty element in "name:asc,". Expected 'field:asc' or 'field:desc'`},
		{",name:asc", `Invalid sort specification: empty element in ",name:asc". Expected 'field:asc' or 'field:desc'`},
		{"name:asc,,id:asc", `Invalid sort specification: empty element in "name:asc,,id:asc". Expected 'field:asc' or 'field:desc'`},
		{"name:asc, ", `Invalid sort specification: empty element in "name:asc, ". Expected 'field:asc' or 'field:desc'`},
		{"name:asc,name:desc", "Sort field named twice: name"},
		{"id:asc,id:asc", "Sort field named twice: id"},
		{"label:asc,name:asc,label:desc", "Sort field named twice: label"},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			t.Parallel()
			got, err := widgets.ParseSort(tt.raw)
			if got != nil {
				t.Errorf("got sort %v with an error", got)
			}
			msg := badRequest(t, err)
			if want := tt.want + ". Valid fields: " + validFields; msg != want {
				t.Errorf("message\n got %q\nwant %q", msg, want)
			}
		})
	}
}

func TestSchemaDefaults(t *testing.T) {
	t.Parallel()
	if got := widgets.DefaultSort().String(); got != "created_at:desc,id:asc" {
		t.Errorf("DefaultSort = %q", got)
	}
	if widgets.Resource() != "widgets" {
		t.Errorf("Resource = %q", widgets.Resource())
	}
	if widgets.Type("name") != paging.NullableString || widgets.Type("created_at") != paging.Time {
		t.Error("Type does not report the declared field types")
	}
	if got := (paging.Sort{{Field: "name", Desc: true}, {Field: "id"}}).Reverse().String(); got != "name:asc,id:desc" {
		t.Errorf("Reverse = %q", got)
	}
}

func mustID(t *testing.T, s string) id.GameID {
	t.Helper()
	v, err := id.Parse[id.Game](s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestCompare(t *testing.T) {
	t.Parallel()
	lowID := mustID(t, "gam_00000000-0000-7000-8000-000000000001").UUID()
	highID := mustID(t, "gam_ffffffff-0000-7000-8000-000000000000").UUID()
	midID := mustID(t, "gam_7fffffff-ffff-7fff-bfff-ffffffffffff").UUID()
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	asc := func(field string) paging.Sort { return paging.Sort{{Field: field}, {Field: "id"}} }
	desc := func(field string) paging.Sort { return paging.Sort{{Field: field, Desc: true}, {Field: "id"}} }
	tests := []struct {
		name string
		sort paging.Sort
		a, b paging.Position
		want int // sign
	}{
		{"Z before a", asc("name"), paging.Position{"Z", lowID}, paging.Position{"a", lowID}, -1},
		{"a before é", asc("name"), paging.Position{"a", lowID}, paging.Position{"é", lowID}, -1},
		{"Z before é", asc("name"), paging.Position{"Z", lowID}, paging.Position{"é", lowID}, -1},
		{"é before emoji (bytes)", asc("name"), paging.Position{"é", lowID}, paging.Position{"🙂", lowID}, -1},
		{"prefix first", asc("name"), paging.Position{"ab", lowID}, paging.Position{"abc", lowID}, -1},
		{"Z before a descending reversed", desc("name"), paging.Position{"Z", lowID}, paging.Position{"a", lowID}, 1},
		{"NULL after value ascending", asc("name"), paging.Position{nil, lowID}, paging.Position{"zzz", highID}, 1},
		{"value before NULL ascending", asc("name"), paging.Position{"", highID}, paging.Position{nil, lowID}, -1},
		{"NULL before value descending", desc("name"), paging.Position{nil, highID}, paging.Position{"", lowID}, -1},
		{"value after NULL descending", desc("name"), paging.Position{"zzz", lowID}, paging.Position{nil, highID}, 1},
		{"NULLs tie, id decides", asc("name"), paging.Position{nil, highID}, paging.Position{nil, lowID}, 1},
		{"NULLs tie descending, id still ascending", desc("name"), paging.Position{nil, lowID}, paging.Position{nil, highID}, -1},
		{"equal strings, id decides", asc("name"), paging.Position{"x", midID}, paging.Position{"x", highID}, -1},
		{"identical", asc("name"), paging.Position{"x", midID}, paging.Position{"x", midID}, 0},
		{"times ordered", asc("created_at"), paging.Position{base, highID}, paging.Position{base.Add(time.Microsecond), lowID}, -1},
		{"times descending", desc("created_at"), paging.Position{base, lowID}, paging.Position{base.Add(time.Microsecond), lowID}, 1},
		{"same microsecond is equal", asc("created_at"), paging.Position{base.Add(100 * time.Nanosecond), lowID}, paging.Position{base.Add(900 * time.Nanosecond), lowID}, 0},
		{"same microsecond, id decides", asc("created_at"), paging.Position{base.Add(900 * time.Nanosecond), lowID}, paging.Position{base.Add(100 * time.Nanosecond), highID}, -1},
		{"same instant in other zones", asc("created_at"), paging.Position{base, lowID}, paging.Position{base.In(time.FixedZone("X", 7200)), lowID}, 0},
		{"uuid by bytes", paging.Sort{{Field: "id"}}, paging.Position{midID}, paging.Position{highID}, -1},
		{"uuid descending", paging.Sort{{Field: "id", Desc: true}}, paging.Position{midID}, paging.Position{highID}, 1},
	}
	sign := func(n int) int {
		switch {
		case n < 0:
			return -1
		case n > 0:
			return 1
		}
		return 0
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := sign(tt.sort.Compare(tt.a, tt.b)); got != tt.want {
				t.Errorf("Compare(%v, %v) = %d, want %d", tt.a, tt.b, got, tt.want)
			}
			if got := sign(tt.sort.Compare(tt.b, tt.a)); got != -tt.want {
				t.Errorf("Compare(%v, %v) = %d, want %d (antisymmetry)", tt.b, tt.a, got, -tt.want)
			}
		})
	}
}

func TestCompareUUIDMatchesCanonicalStrings(t *testing.T) {
	t.Parallel()
	sort := paging.Sort{{Field: "id"}}
	ids := make([]id.GameID, 200)
	for i := range ids {
		var b [16]byte
		_, _ = rand.Read(b[:])
		s := fmt.Sprintf("gam_%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
		ids[i] = mustID(t, s)
	}
	for i := 1; i < len(ids); i++ {
		a, b := ids[i-1], ids[i]
		byStrings := strings.Compare(a.String(), b.String())
		if got := sort.Compare(paging.Position{a.UUID()}, paging.Position{b.UUID()}); (got < 0) != (byStrings < 0) || (got == 0) != (byStrings == 0) {
			t.Fatalf("Compare(%s, %s) = %d, strings compare %d", a, b, got, byStrings)
		}
	}
}

// A schema that cannot serve a request fails where it is declared.
func TestBadSchemasPanic(t *testing.T) {
	t.Parallel()
	idField := paging.Field[widget]{Name: "id", Type: paging.UUID, Value: func(w widget) any { return w.ID.UUID() }}
	name := paging.Field[widget]{Name: "name", Type: paging.NullableString, Value: func(widget) any { return nil }}
	tests := []struct {
		name        string
		defaultSort string
		fields      []paging.Field[widget]
	}{
		{"no id", "name:asc", []paging.Field[widget]{name}},
		{"id not a UUID", "id:asc", []paging.Field[widget]{{Name: "id", Type: paging.String, Value: idField.Value}}},
		{"no type", "id:asc", []paging.Field[widget]{idField, {Name: "name", Value: name.Value}}},
		{"no accessor", "id:asc", []paging.Field[widget]{idField, {Name: "name", Type: paging.String}}},
		{"no name", "id:asc", []paging.Field[widget]{idField, {Type: paging.String, Value: name.Value}}},
		{"declared twice", "id:asc", []paging.Field[widget]{idField, name, name}},
		{"bad default sort", "nope:asc", []paging.Field[widget]{idField, name}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			defer func() {
				if recover() == nil {
					t.Fatal("NewSchema accepted a bad declaration")
				}
			}()
			paging.NewSchema("bad", tt.defaultSort, tt.fields...)
		})
	}
}

func TestSchemaColumnsDefaultToNames(t *testing.T) {
	t.Parallel()
	s := paging.NewSchema("things", "id:asc",
		paging.Field[widget]{Name: "id", Type: paging.UUID, Value: func(w widget) any { return w.ID.UUID() }},
		paging.Field[widget]{Name: "label", Type: paging.String, Column: "label_text", Value: func(w widget) any { return w.Label }},
	)
	if s.Column("id") != "id" || s.Column("label") != "label_text" {
		t.Errorf("columns: id → %q, label → %q", s.Column("id"), s.Column("label"))
	}
	w := widget{ID: id.New[id.Game](), Label: "x"}
	if pos := s.Position(w, paging.Sort{{Field: "label"}, {Field: "id"}}); pos[0] != "x" || pos[1] != w.ID.UUID() {
		t.Errorf("Position = %v", pos)
	}
}

func TestWithin(t *testing.T) {
	at := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	u1, u2 := id.New[id.Identity]().UUID(), id.New[id.Identity]().UUID()
	for _, c := range []struct {
		a, b paging.Position
		want int
	}{
		{paging.Position{at, u1}, paging.Position{at.Add(time.Microsecond), u1}, 1},
		{paging.Position{at, u1}, paging.Position{at, u2}, 2},
		{paging.Position{"Ada", u1}, paging.Position{nil, u1}, 1},
		{paging.Position{nil, u1}, paging.Position{nil, u2}, 2},
		{paging.Position{"Ada", u1}, paging.Position{"Ada", u1}, 0},
		{paging.Position{at, u1}, paging.Position{at.In(time.FixedZone("x", 3600)), u2}, 2}, // one instant
	} {
		if got := paging.Within(c.a, c.b); got != c.want {
			t.Errorf("Within(%v, %v) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}
