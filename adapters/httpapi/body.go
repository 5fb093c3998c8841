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
	"github.com/leadr-oss/identity/wire"
)

// MaxBodyBytes is the largest request body accepted on an admin endpoint;
// larger ones get 413. Client endpoints accept less (MaxClientBodyBytes).
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
// messages, recording problems instead of stopping at the first. The body
// stays the JSON it arrived as: a field is decoded when a handler reads it,
// and the rest only as far as a 422 echoes it (see rawInput).
type body struct {
	// raw is the object; members, where each of its members starts.
	raw     []byte
	members []int32
	ps      *problems
	// broken: the body as a whole is a problem, and its fields are not read.
	broken bool
	// writeOnly are the fields whose values no answer may contain (secrets).
	writeOnly []string
}

// readBody reads the request body as a JSON object, up to its route's cap
// (bodyCap). A body that is not one is a problem of the whole body; a body
// over the cap is an error, as is one past the budget of bodies in flight
// (limitBody). The values of the writeOnly fields are never echoed in a
// problem: pydantic would echo them, but a 422 must not hand a secret back
// (to a log or a proxy on the way).
func readBody(c *gin.Context, ps *problems, writeOnly ...string) (*body, error) {
	raw, err := readAll(c)
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return nil, errTooLarge
	case errors.Is(err, errBodyBudget):
		return nil, errBodyBudget
	case err != nil:
		return nil, &unreadBody{err}
	}
	b := &body{ps: ps, writeOnly: writeOnly}
	if ct := c.GetHeader("Content-Type"); ct != "" && len(bytes.TrimSpace(raw)) > 0 {
		if mt, _, _ := mime.ParseMediaType(ct); mt != "application/json" && !strings.HasSuffix(mt, "+json") {
			ps.add("body", "", "model_attributes_type", "Input should be a valid dictionary or object to extract fields from", b.wholeInput(string(shown(raw))), nil)
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
		ps.list = append(ps.list, wire.Problem{Type: "json_invalid", Loc: []any{"body", invalidUTF8At(raw)}, Msg: "JSON decode error",
			Input: map[string]any{}, Ctx: map[string]any{"error": "invalid UTF-8"}})
		b.broken = true
		return b, nil
	}
	value, err := jsonValue(raw)
	if err != nil {
		offset := int64(len(raw))
		var syntax *json.SyntaxError
		if errors.As(err, &syntax) {
			offset = syntax.Offset
		}
		ps.list = append(ps.list, wire.Problem{Type: "json_invalid", Loc: []any{"body", offset}, Msg: "JSON decode error",
			Input: map[string]any{}, Ctx: map[string]any{"error": err.Error()}})
		b.broken = true
		return b, nil
	}
	if value[0] != '{' {
		ps.add("body", "", "model_attributes_type", "Input should be a valid dictionary or object to extract fields from", b.wholeInput(rawInput{json: value}), nil)
		b.broken = true
		return b, nil
	}
	b.raw = value
	b.members = membersOf(value)
	c.Set(bodyKey, b.whole())
	return b, nil
}

// readAll reads the request body, up to its route's cap, into a buffer of
// its declared length when it declares one.
func readAll(c *gin.Context) ([]byte, error) {
	limit := bodyCap(c)
	r := http.MaxBytesReader(c.Writer, c.Request.Body, limit)
	size := int64(512)
	if n := c.Request.ContentLength; n >= 0 && n <= limit {
		size = n + 1 // +1: room for the read that finds the end
	}
	raw := make([]byte, 0, size)
	for {
		n, err := r.Read(raw[len(raw):cap(raw)])
		raw = raw[:len(raw)+n]
		if err == io.EOF {
			return raw, nil
		}
		if err != nil {
			return nil, err
		}
		if len(raw) == cap(raw) {
			raw = slices.Grow(raw, len(raw))
		}
	}
}

// jsonValue returns the one JSON value that raw holds, without the white
// space around it, or the error that answers json_invalid. json.Valid
// knows most bodies for what they are without decoding anything; the
// others are decoded as they always were, for the decoder's own error and
// offset, and because a value followed by white space that is not JSON's
// (that bytes.TrimSpace trims, such as U+00A0) was always taken.
func jsonValue(raw []byte) ([]byte, error) {
	start := skipSpace(raw, 0)
	if json.Valid(raw) {
		return raw[start:valueEnd(raw, start)], nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(new(skipped)); err != nil {
		return nil, err
	}
	end := dec.InputOffset()
	if len(bytes.TrimSpace(raw[end:])) > 0 {
		return nil, errExtraData
	}
	return raw[start:end], nil
}

// skipped takes any JSON value and keeps nothing of it.
type skipped struct{}

func (*skipped) UnmarshalJSON([]byte) error { return nil }

// errExtraData is a value followed by more than white space.
//
//lint:ignore ST1005 the text is the 422's ctx.error, worded as Python's json module words it
var errExtraData = errors.New("Extra data")

// membersOf returns where each member of the object obj starts. It counts
// them first: an index grown as it is filled took five times its size.
// The offsets fit in an int32: a body takes at most MaxBodyBytes.
func membersOf(obj []byte) []int32 {
	n := 0
	for i := first(obj); i >= 0; n++ {
		_, _, i = member(obj, i)
	}
	at := make([]int32, 0, n)
	for i := first(obj); i >= 0; {
		at = append(at, int32(i))
		_, _, i = member(obj, i)
	}
	return at
}

// field returns the raw value of a member, the last of that name as
// decoding into a map would keep it.
func (b *body) field(name string) (json.RawMessage, bool) {
	var text []byte
	for _, at := range slices.Backward(b.members) {
		quoted, value, _ := member(b.raw, int(at))
		if text = appendUnquoted(text[:0], quoted, len(name)); string(text) == name {
			return value, true
		}
	}
	return nil, false
}

// whole is the body as a problem echoes it, write-only fields redacted.
func (b *body) whole() rawInput {
	return rawInput{json: b.raw, writeOnly: b.writeOnly}
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

func (b *body) missing(name string) {
	b.ps.add("body", name, "missing", "Field required", b.whole(), nil)
}

// given is a field's value, unless it is absent (a problem when it is
// required) or null where null is allowed.
func (b *body) given(name string, required bool) (json.RawMessage, bool) {
	raw, ok := b.field(name)
	if !ok {
		if required && !b.broken {
			b.missing(name)
		}
		return nil, false
	}
	if string(raw) == "null" && !required {
		return nil, false
	}
	return raw, true
}

// str reads a string field; required fields report "missing". It returns
// nil when the field is absent, null or of another type.
func (b *body) str(name string, required bool) *string {
	raw, ok := b.given(name, required)
	if !ok {
		return nil
	}
	var s string
	if raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
		b.ps.add("body", name, "string_type", "Input should be a valid string", b.input(name, rawInput{json: raw}), nil)
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
	raw, ok := b.field(name)
	if !ok || string(raw) == "null" {
		return nil
	}
	switch raw[0] {
	case 't', 'f':
		return ptr(raw[0] == 't')
	case '"':
		var s string
		_ = json.Unmarshal(raw, &s) // valid JSON: cannot fail
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "0", "off", "f", "false", "n", "no":
			return ptr(false)
		case "1", "on", "t", "true", "y", "yes":
			return ptr(true)
		}
	case '{', '[':
		b.ps.add("body", name, "bool_type", "Input should be a valid boolean", rawInput{json: raw}, nil)
		return nil
	default: // a number, as it is written
		switch string(raw) {
		case "0", "0.0":
			return ptr(false)
		case "1", "1.0":
			return ptr(true)
		}
	}
	b.ps.add("body", name, "bool_parsing", "Input should be a valid boolean, unable to interpret input", rawInput{json: raw}, nil)
	return nil
}

// timestamp parses s, the value of an optional field, as an RFC 3339
// date-time; one without an offset is UTC.
func (b *body) timestamp(name string, s *string) time.Time {
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

// parseID parses s, the value of a body field, as a prefixed ID.
func parseID[E id.Entity](b *body, name string, s *string) id.ID[E] {
	if s == nil {
		return id.ID[E]{}
	}
	v, err := id.Parse[E](*s)
	if err != nil {
		b.ps.addDomain("body", name, err)
	}
	return v
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
	raw, ok := b.field(name)
	if !ok {
		return ports.Setting{}
	}
	if string(raw) == "null" {
		return ports.Setting{Given: true}
	}
	v := b.str(name, false)
	return ports.Setting{Given: v != nil, Value: v}
}

// strs reads a list of strings; required lists report "missing". It
// returns nil when the field is absent, null, or not a list of strings (a
// problem).
func (b *body) strs(name string, required bool) []string {
	raw, ok := b.given(name, required)
	if !ok {
		return nil
	}
	var items []json.RawMessage
	if raw[0] != '[' || json.Unmarshal(raw, &items) != nil {
		b.ps.add("body", name, "list_type", "Input should be a valid list", b.input(name, rawInput{json: raw}), nil)
		return nil
	}
	out := make([]string, len(items))
	for i, item := range items {
		if item[0] != '"' || json.Unmarshal(item, &out[i]) != nil || loneSurrogate(item, out[i]) {
			b.ps.add("body", name, "string_type", "Input should be a list of valid strings", b.input(name, rawInput{json: raw}), nil)
			return nil
		}
	}
	return out
}
