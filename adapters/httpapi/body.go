package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/ports"
)

// MaxBodyBytes is the largest request body accepted; larger ones get 413.
const MaxBodyBytes = 1 << 20

// errTooLarge answers 413; its text is the contract's detail.
//
//lint:ignore ST1005 the text is the answer's detail, worded as FastAPI words it
var errTooLarge = errors.New("Request body too large")

// unreadBody is a body the client did not send whole: it stalled past the
// server's read timeout, or its connection broke. The client's doing,
// never a fault of the database, whatever the error looks like.
type unreadBody struct{ err error }

func (e *unreadBody) Error() string { return "read the request body: " + e.err.Error() }
func (e *unreadBody) Unwrap() error { return e.err }

// redacted stands in for a write-only field's value wherever a problem
// would echo it.
const redacted = "[redacted]"

// body reads a JSON object field by field with pydantic's rules and
// messages, recording problems instead of stopping at the first.
type body struct {
	fields map[string]json.RawMessage
	// whole is the body as problems echo it, write-only fields redacted.
	whole any
	ps    *problems
	// broken: the body as a whole is a problem, and its fields are not read.
	broken bool
	// writeOnly are the fields whose values no answer may contain (secrets).
	writeOnly []string
}

// readBody decodes the request body as a JSON object. A body that is not
// one is a problem of the whole body; a body over MaxBodyBytes is an error.
// The values of the writeOnly fields are never echoed in a problem: pydantic
// would echo them, but a 422 must not hand a secret back (to a log or a
// proxy on the way).
func readBody(c *gin.Context, ps *problems, writeOnly ...string) (*body, error) {
	raw, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, MaxBodyBytes))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return nil, errTooLarge
	}
	if err != nil {
		return nil, &unreadBody{err}
	}
	b := &body{fields: map[string]json.RawMessage{}, ps: ps, writeOnly: writeOnly}
	if ct := c.GetHeader("Content-Type"); ct != "" && len(bytes.TrimSpace(raw)) > 0 {
		if mt, _, _ := mime.ParseMediaType(ct); mt != "application/json" && !strings.HasSuffix(mt, "+json") {
			ps.add("body", "", "model_attributes_type", "Input should be a valid dictionary or object to extract fields from", b.wholeInput(string(raw)), nil)
			b.broken = true
			return b, nil
		}
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		ps.add("body", "", "missing", "Field required", nil, nil)
		b.broken = true
		return b, nil
	}
	if !utf8.Valid(raw) {
		ps.list = append(ps.list, problem{Type: "json_invalid", Loc: []any{"body", invalidUTF8At(raw)}, Msg: "JSON decode error",
			Input: map[string]any{}, Ctx: map[string]any{"error": "invalid UTF-8"}})
		b.broken = true
		return b, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	// Only white space may follow the value: Decoder.More says nothing of
	// a stray '}' or ']', which the field decoding below would then choke on.
	if err := dec.Decode(&b.whole); err != nil || len(bytes.TrimSpace(raw[dec.InputOffset():])) > 0 {
		offset := int64(len(raw))
		var syntax *json.SyntaxError
		if errors.As(err, &syntax) {
			offset = syntax.Offset
		}
		ps.list = append(ps.list, problem{Type: "json_invalid", Loc: []any{"body", offset}, Msg: "JSON decode error",
			Input: map[string]any{}, Ctx: map[string]any{"error": jsonErrorText(err)}})
		b.broken = true
		return b, nil
	}
	m, ok := b.whole.(map[string]any)
	if !ok {
		ps.add("body", "", "model_attributes_type", "Input should be a valid dictionary or object to extract fields from", b.wholeInput(b.whole), nil)
		b.broken = true
		return b, nil
	}
	for _, name := range writeOnly {
		if v, ok := m[name]; ok && v != nil {
			m[name] = redacted
		}
	}
	if err := json.Unmarshal(raw, &b.fields); err != nil {
		return nil, err // cannot happen: raw decoded as an object above
	}
	c.Set(bodyKey, b.whole)
	return b, nil
}

// wholeInput is what a problem of a body that is not an object echoes. On
// an endpoint with write-only fields nothing of it is: such a body (a form,
// an array, a bare string) cannot be searched for where a secret is in it.
func (b *body) wholeInput(v any) any {
	if len(b.writeOnly) > 0 {
		return redacted
	}
	return v
}

// input is a field's value as a problem echoes it. A write-only field's is
// never echoed, whatever its type: a key sent as a number or in an array is
// a key all the same.
func (b *body) input(name string, v any) any {
	if slices.Contains(b.writeOnly, name) {
		return redacted
	}
	return v
}

func jsonErrorText(err error) string {
	if err == nil {
		return "Extra data"
	}
	return err.Error()
}

// value decodes a field for echoing it back in a problem.
func (b *body) value(name string) any {
	var v any
	dec := json.NewDecoder(bytes.NewReader(b.fields[name]))
	dec.UseNumber()
	_ = dec.Decode(&v)
	return v
}

func (b *body) missing(name string) {
	b.ps.add("body", name, "missing", "Field required", b.whole, nil)
}

// str reads a string field; required fields report "missing". It returns
// nil when the field is absent, null or of another type.
func (b *body) str(name string, required bool) *string {
	raw, ok := b.fields[name]
	if !ok {
		if required && !b.broken {
			b.missing(name)
		}
		return nil
	}
	if string(raw) == "null" && !required {
		return nil
	}
	var s string
	if string(raw) == "null" || json.Unmarshal(raw, &s) != nil {
		b.ps.add("body", name, "string_type", "Input should be a valid string", b.input(name, b.value(name)), nil)
		return nil
	}
	if loneSurrogate(raw, s) {
		b.ps.add("body", name, "string_unicode", "Input should be a valid string, unable to parse raw data as a unicode string", b.input(name, s), nil)
		return nil
	}
	return &s
}

// boolean reads an optional boolean with pydantic's lax rules: true/false,
// 0/1, and strings such as "yes" or "off".
func (b *body) boolean(name string) *bool {
	raw, ok := b.fields[name]
	if !ok || string(raw) == "null" {
		return nil
	}
	switch v := b.value(name).(type) {
	case bool:
		return &v
	case json.Number:
		switch v.String() {
		case "0", "0.0":
			return ptr(false)
		case "1", "1.0":
			return ptr(true)
		}
	case string:
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "0", "off", "f", "false", "n", "no":
			return ptr(false)
		case "1", "on", "t", "true", "y", "yes":
			return ptr(true)
		}
	default:
		b.ps.add("body", name, "bool_type", "Input should be a valid boolean", v, nil)
		return nil
	}
	b.ps.add("body", name, "bool_parsing", "Input should be a valid boolean, unable to interpret input", b.value(name), nil)
	return nil
}

// timestamp reads an optional RFC 3339 date-time; one without an offset is UTC.
func (b *body) timestamp(name string) time.Time {
	s := b.str(name, false)
	if s == nil {
		return time.Time{}
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999"} {
		t, err := time.Parse(layout, *s)
		if err != nil {
			continue
		}
		if t = t.UTC(); t.Year() < 1 || t.Year() > 9999 || t.IsZero() {
			// Out of RFC 3339's range once in UTC; and the zero time means
			// "no expiry" to the use cases.
			b.ps.add("body", name, "datetime_parsing", "Input should be a valid datetime, year out of range", *s, nil)
			return time.Time{}
		}
		return t
	}
	b.ps.add("body", name, "datetime_parsing", "Input should be a valid datetime", *s, nil)
	return time.Time{}
}

func ptr[T any](v T) *T { return &v }

// bodyID reads a prefixed ID from a body field.
func bodyID[E id.Entity](b *body, name string, required bool) id.ID[E] {
	s := b.str(name, required)
	if s == nil {
		return id.ID[E]{}
	}
	v, err := id.Parse[E](*s)
	if err != nil {
		b.ps.addDomain("body", name, err)
	}
	return v
}

// queryID reads an optional prefixed ID from the query string.
func queryID[E id.Entity](c *gin.Context, ps *problems, name string) id.ID[E] {
	s, ok := query(c, name)
	if !ok {
		return id.ID[E]{}
	}
	v, err := id.Parse[E](s)
	if err != nil {
		ps.addDomain("query", name, err)
	}
	return v
}

// pathID reads a prefixed ID from the path.
func pathID[E id.Entity](c *gin.Context, ps *problems, name string) id.ID[E] {
	v, err := id.Parse[E](c.Param(name))
	if err != nil {
		ps.addDomain("path", name, err)
	}
	return v
}

// query returns the last value of a query parameter, as FastAPI does.
func query(c *gin.Context, name string) (string, bool) {
	vs, ok := c.GetQueryArray(name)
	if !ok {
		return "", false
	}
	return vs[len(vs)-1], true
}

func invalidUTF8At(raw []byte) int {
	for i := 0; i < len(raw); {
		r, size := utf8.DecodeRune(raw[i:])
		if r == utf8.RuneError && size == 1 {
			return i
		}
		i += size
	}
	return len(raw)
}

// loneSurrogate reports whether decoding turned an escaped lone UTF-16
// surrogate ("\ud800") into U+FFFD: the body is valid UTF-8, so a
// replacement character that the raw string does not spell out came from
// one.
func loneSurrogate(raw []byte, decoded string) bool {
	if !strings.ContainsRune(decoded, utf8.RuneError) {
		return false
	}
	return strings.Count(decoded, string(utf8.RuneError)) >
		strings.Count(string(raw), string(utf8.RuneError))+strings.Count(strings.ToLower(string(raw)), `\ufffd`)
}

// setting reads an optional string field that JSON null clears: absent is
// not given, null is given without a value.
func (b *body) setting(name string) ports.Setting {
	raw, ok := b.fields[name]
	if !ok {
		return ports.Setting{}
	}
	if string(raw) == "null" {
		return ports.Setting{Given: true}
	}
	v := b.str(name, false)
	return ports.Setting{Given: v != nil, Value: v}
}
