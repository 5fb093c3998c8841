package httpapi

import (
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/leadr-oss/identity/domain"
	"github.com/leadr-oss/identity/wire"
)

// invalidRequest is a request that failed validation in this adapter: wrong
// JSON, wrong types, missing fields, malformed IDs.
type invalidRequest struct {
	problems []wire.Problem
}

func (e *invalidRequest) Error() string {
	msgs := make([]string, len(e.problems))
	for i, p := range e.problems {
		msgs[i] = p.Msg
	}
	return "invalid request: " + strings.Join(msgs, "; ")
}

// problems collects the validation problems of one request, from its path,
// query and body alike, so that all of them are reported at once.
type problems struct {
	list []wire.Problem
}

func (ps *problems) add(source, field, typ, msg string, input any, ctx map[string]any) {
	loc := []any{source}
	if field != "" {
		loc = append(loc, field)
	}
	ps.list = append(ps.list, wire.Problem{Type: typ, Loc: loc, Msg: msg, Input: input, Ctx: ctx})
}

// addDomain records the domain validation errors in err, at the field the
// error names unless field is given.
func (ps *problems) addDomain(source, field string, err error) {
	for _, de := range invalidErrors(err) {
		f := field
		if f == "" {
			f = de.Field
		}
		p := pydantic(de)
		ps.add(source, f, p.Type, p.Msg, p.Input, p.Ctx)
	}
}

func (ps *problems) err() error {
	if len(ps.list) == 0 {
		return nil
	}
	return &invalidRequest{problems: ps.list}
}

// invalidErrors lists the Invalid domain errors in err's tree (errors.Join
// gathers several).
func invalidErrors(err error) []*domain.Error {
	var out []*domain.Error
	var walk func(error)
	walk = func(err error) {
		switch e := err.(type) {
		case nil:
		case *domain.Error:
			if e.Category == domain.CategoryInvalid {
				out = append(out, e)
			}
		case interface{ Unwrap() []error }:
			for _, inner := range e.Unwrap() {
				walk(inner)
			}
		case interface{ Unwrap() error }:
			walk(e.Unwrap())
		}
	}
	walk(err)
	return out
}

// pydantic words a domain rule as FastAPI answers the same rule declared on
// a pydantic model, so that clients see one dialect whichever layer checked
// the input. Loc is left to the caller, who knows where the input came from.
func pydantic(de *domain.Error) wire.Problem {
	switch de.Rule {
	case domain.Required:
		return wire.Problem{Type: "missing", Msg: "Field required", Input: de.Input}
	case domain.MinLength:
		return wire.Problem{Type: "string_too_short", Msg: "String should have at least " + characters(de.Limit),
			Input: de.Input, Ctx: map[string]any{"min_length": de.Limit}}
	case domain.MaxLength:
		return wire.Problem{Type: "string_too_long", Msg: "String should have at most " + characters(de.Limit),
			Input: de.Input, Ctx: map[string]any{"max_length": de.Limit}}
	case domain.OneOf:
		expected := expectedOneOf(de.Allowed)
		return wire.Problem{Type: "enum", Msg: "Input should be " + expected, Input: de.Input, Ctx: map[string]any{"expected": expected}}
	default:
		// A rule pydantic has no name for is a custom validator's ValueError.
		return wire.Problem{Type: "value_error", Msg: "Value error, " + de.Message, Input: de.Input}
	}
}

func characters(n int) string {
	if n == 1 {
		return "1 character"
	}
	return strconv.Itoa(n) + " characters"
}

// expectedOneOf lists values as pydantic's enum error does: 'a', 'b' or 'c'.
func expectedOneOf(values []string) string {
	quoted := make([]string, len(values))
	for i, v := range values {
		quoted[i] = "'" + v + "'"
	}
	if len(quoted) < 2 {
		return strings.Join(quoted, "")
	}
	return strings.Join(quoted[:len(quoted)-1], ", ") + " or " + quoted[len(quoted)-1]
}

// A 422 echoes the input it refuses, as FastAPI does, but never more than
// maxInputDepth levels and about maxInputBytes of it: an error body must not
// amplify a request (a 5,000-level array would otherwise come back whole).
const (
	maxInputDepth = 32
	maxInputBytes = 1024
	// cutMark stands where some of the input was left out.
	cutMark = "…"
)

// bounded returns the problems with their inputs cut to the bounds; the
// budget is shared, so many problems cannot add up past it either.
func bounded(list []wire.Problem) []wire.Problem {
	k := cutter{budget: maxInputBytes}
	out := make([]wire.Problem, len(list))
	for i, p := range list {
		p.Input = k.cut(p.Input, 0)
		out[i] = p
	}
	return out
}

// cutter walks an input, spending its budget on roughly the bytes each
// value takes in JSON.
type cutter struct{ budget int }

func (k *cutter) cut(v any, depth int) any {
	switch x := v.(type) {
	case rawInput:
		return k.json(x.json, x.writeOnly, depth)
	case string:
		return k.text(x)
	case []any:
		if depth >= maxInputDepth || k.budget <= 0 {
			return cutMark
		}
		out := make([]any, 0, min(len(x), 16))
		for _, e := range x {
			if k.budget <= 0 {
				return append(out, cutMark)
			}
			k.budget--
			out = append(out, k.cut(e, depth+1))
		}
		return out
	case map[string]any:
		if depth >= maxInputDepth || k.budget <= 0 {
			return cutMark
		}
		// In key order, as encoding/json writes them, so that the same
		// input is always cut the same way.
		out := make(map[string]any, min(len(x), 16))
		for _, name := range slices.Sorted(maps.Keys(x)) {
			if k.budget <= 0 {
				out[cutMark] = cutMark
				break
			}
			out[k.text(name)] = k.cut(x[name], depth+1)
		}
		return out
	case json.Number:
		// The body is decoded with UseNumber: a number is its text, which
		// may be as long as the body.
		if len(x) > 32 {
			return k.text(string(x))
		}
		k.budget -= len(x)
		return x
	default: // booleans, null
		k.budget -= 8
		return v
	}
}

// rawInput is an input left as the JSON the client sent (a body, or an
// object or array in it), which the cut decodes only as far as it shows it:
// decoded whole, a megabyte of `[0,0,…]` took 35 MB. A problem that echoes
// it answers exactly what it would with the decoded value.
type rawInput struct {
	json []byte // valid JSON
	// writeOnly are the members of an object whose values, unless null,
	// are echoed as "[redacted]".
	writeOnly []string
}

// json cuts the JSON value raw as cut cuts the value it decodes to (with
// encoding/json and UseNumber), member for member and byte for byte
// (FuzzRawInput), decoding no more of it than it keeps.
func (k *cutter) json(raw []byte, writeOnly []string, depth int) any {
	switch raw[0] {
	case '[':
		if depth >= maxInputDepth || k.budget <= 0 {
			return cutMark
		}
		out := []any{}
		for i := first(raw); i >= 0; {
			if k.budget <= 0 {
				return append(out, cutMark)
			}
			k.budget--
			var e []byte
			e, i = element(raw, i)
			out = append(out, k.json(e, nil, depth+1))
		}
		return out
	case '{':
		if depth >= maxInputDepth || k.budget <= 0 {
			return cutMark
		}
		out := map[string]any{}
		// Each member shown takes at least 2 of the budget (its name's
		// quotes), or the rest of it: no more than budget/2+1 are shown,
		// and one more says that some were left out.
		for _, m := range smallestMembers(raw, k.budget/2+2) {
			if k.budget <= 0 {
				out[cutMark] = cutMark
				break
			}
			name := k.text(m.name)
			if slices.Contains(writeOnly, m.name) && string(m.value) != "null" {
				out[name] = k.cut(redacted, depth+1)
			} else {
				out[name] = k.json(m.value, nil, depth+1)
			}
		}
		return out
	case '"':
		return k.text(string(shown(unquote(raw, maxInputBytes))))
	case 't', 'f':
		return k.cut(raw[0] == 't', depth)
	case 'n':
		return k.cut(nil, depth)
	default:
		return k.cut(json.Number(shown(raw)), depth)
	}
}

// shown is as much of a text as a cut may show: all of it, or a prefix
// long enough that the cut still cuts it, at the same place.
func shown(s []byte) []byte {
	if len(s) > maxInputBytes {
		return s[:maxInputBytes]
	}
	return s
}

// text spends len(s) and cuts s, on a character boundary, where the budget
// ends.
func (k *cutter) text(s string) string {
	if len(s)+2 <= k.budget {
		k.budget -= len(s) + 2
		return s
	}
	keep := max(k.budget-2, 0)
	for keep > 0 && !utf8.RuneStart(s[keep]) {
		keep--
	}
	k.budget = 0
	return s[:keep] + cutMark
}
