package httpapi

import (
	"strings"

	"github.com/leadr-oss/identity/domain"
)

// problem is one entry of a 422 body, in FastAPI's (pydantic's) shape.
type problem struct {
	Type  string         `json:"type"`
	Loc   []any          `json:"loc"`
	Msg   string         `json:"msg"`
	Input any            `json:"input"`
	Ctx   map[string]any `json:"ctx,omitempty"`
}

// invalidRequest is a request that failed validation in this adapter: wrong
// JSON, wrong types, missing fields, malformed IDs.
type invalidRequest struct {
	problems []problem
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
	list []problem
}

func (ps *problems) add(source, field, typ, msg string, input any, ctx map[string]any) {
	loc := []any{source}
	if field != "" {
		loc = append(loc, field)
	}
	ps.list = append(ps.list, problem{Type: typ, Loc: loc, Msg: msg, Input: input, Ctx: ctx})
}

// addDomain records the domain validation errors in err, at the field the
// error names unless field is given.
func (ps *problems) addDomain(source, field string, err error) {
	for _, de := range invalidErrors(err) {
		f := field
		if f == "" {
			f = de.Field
		}
		ps.add(source, f, de.Code, message(de), de.Input, de.Context)
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

// message renders a domain message as pydantic does: a rule broken by a
// custom validator reads "Value error, …".
func message(de *domain.Error) string {
	if de.Code == "value_error" {
		return "Value error, " + de.Message
	}
	return de.Message
}
