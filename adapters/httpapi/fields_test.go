package httpapi

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/wire"
)

// request is a wire struct with one field of each kind the readers take.
type testRequest struct {
	Name     string  `json:"name"`
	Slug     string  `json:"slug,omitempty"`
	Nickname *string `json:"nickname,omitempty"`
	Admin    bool    `json:"admin,omitempty"`
	Deleted  *bool   `json:"deleted,omitempty"`
	GameID   string  `json:"game_id,omitempty"`
}

func readTestBody(t *testing.T, raw string) (*body, *problems) {
	t.Helper()
	c, _ := fuzzContext("application/json", []byte(raw))
	var ps problems
	b, err := readBody(c, &ps)
	if err != nil {
		t.Fatal(err)
	}
	return b, &ps
}

func locs(ps *problems) string {
	var out []string
	for _, p := range ps.list {
		l, _ := json.Marshal(p.Loc)
		out = append(out, p.Type+" "+string(l))
	}
	return strings.Join(out, "; ")
}

// The readers take a field's name and whether it is required from the
// struct's tags, and decode into the struct.
func TestFieldsAreReadByTheirTags(t *testing.T) {
	b, ps := readTestBody(t, `{"slug":"s","nickname":null,"admin":"yes","deleted":0,"game_id":"gam_0195f2a0-0000-7000-8000-000000000001"}`)
	var req testRequest
	in := fieldsOf(b, &req)
	if got := bodyString(in, &req.Name); got != nil {
		t.Errorf("an absent name: %q", *got)
	}
	if got := bodyString(in, &req.Slug); got == nil || *got != "s" {
		t.Errorf("slug %v", got)
	}
	if got := bodyString(in, &req.Nickname); got != nil {
		t.Errorf("a null nickname: %q", *got)
	}
	if got := bodyBool(in, &req.Admin); got == nil || !*got {
		t.Errorf("admin %v", got)
	}
	if got := bodyBool(in, &req.Deleted); got == nil || *got {
		t.Errorf("deleted %v", got)
	}
	if got := bodyID[id.Game](in, &req.GameID); got.String() != "gam_0195f2a0-0000-7000-8000-000000000001" {
		t.Errorf("game %v", got)
	}
	want := testRequest{Slug: "s", Admin: true, Deleted: ptr(false), GameID: "gam_0195f2a0-0000-7000-8000-000000000001"}
	if !reflect.DeepEqual(req, want) {
		t.Errorf("decoded %+v, want %+v", req, want)
	}
	if got := locs(ps); got != `missing ["body","name"]` {
		t.Errorf("problems: %s; want only the required name missing", got)
	}
}

func TestFieldsReportProblemsAtTheirNames(t *testing.T) {
	b, ps := readTestBody(t, `{"name":1,"nickname":[],"admin":"maybe","game_id":"acc_x"}`)
	var req testRequest
	in := fieldsOf(b, &req)
	bodyString(in, &req.Name)
	bodyString(in, &req.Nickname)
	bodyBool(in, &req.Admin)
	bodyID[id.Game](in, &req.GameID)
	want := `string_type ["body","name"]; string_type ["body","nickname"]; bool_parsing ["body","admin"]; value_error ["body","game_id"]`
	if got := locs(ps); got != want {
		t.Errorf("problems\n got %s\nwant %s", got, want)
	}
}

func TestFieldsRefuseWhatIsNotAFieldOfTheirStruct(t *testing.T) {
	mustPanic := func(what string, f func()) {
		t.Helper()
		defer func() {
			if recover() == nil {
				t.Errorf("%s: no panic", what)
			}
		}()
		f()
	}
	b, _ := readTestBody(t, `{}`)
	var req, other testRequest
	mustPanic("a field of another struct", func() { bodyString(fieldsOf(b, &req), &other.Name) })
	mustPanic("a required boolean", func() {
		var r struct {
			On bool `json:"on"`
		}
		bodyBool(fieldsOf(b, &r), &r.On)
	})
	mustPanic("an embedded struct", func() {
		var r struct {
			testRequest
		}
		fieldsOf(b, &r)
	})
	mustPanic("a field without a JSON name", func() {
		var r struct {
			Secret string `json:"-"`
		}
		fieldsOf(b, &r)
	})
}

// The write-only fields are named where readBody is told of them; these
// names must be those of the wire structs, or a secret would be echoed.
func TestWriteOnlyFieldsAreWireFields(t *testing.T) {
	for _, c := range []struct {
		name string
		of   any
	}{
		{steamKeyField, wire.CreateGameRequest{}},
		{steamTicketField, wire.SignInRequest{}},
		{externalKeyField, wire.SignInRequest{}},
		{refreshTokenField, wire.RefreshRequest{}},
	} {
		if !slices.ContainsFunc(fieldTagsOf(reflect.TypeOf(c.of)), func(tag fieldTag) bool { return tag.name == c.name }) {
			t.Errorf("%s is not a field of %T", c.name, c.of)
		}
	}
}
