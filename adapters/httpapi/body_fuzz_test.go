package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"maps"
	"math"
	"mime"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/wire"
)

// fuzzFields are the body fields the handlers read, whatever the endpoint.
var fuzzFields = []string{
	"account_id", "game_id", "identity_id", "user_id", "kind", "external_key", "display_name", "deleted",
	"name", "slug", "email", "super_admin", "status", "expires_at", "steam_app_id", steamKeyField,
	"steam_ticket", "refresh_token",
}

// FuzzReadBody sends arbitrary bytes, under an arbitrary Content-Type, as a
// request body through readBody and every reader of its fields, as the
// handlers do. Nothing panics; the only error readBody returns is
// errTooLarge, for bodies over MaxBodyBytes (huge pads the body past it);
// every other failure is a problem of the 422 that fail answers (type, loc
// in the body, msg), never an unclassified error and never a 500; and a
// write-only field's value is never in that answer.
//
// Bodies are left as JSON since issue 17; readBody once decoded each whole.
// Every answer is still the one that decoding gave: the same json_invalid
// problem at the same offset, the same fields with the same values
// (wantFields), the same booleans (wantBoolean), and inputs that, left as
// JSON, answer what they did decoded (wantEchoes).
//
// The corpus entries object-then-closing-bracket* are an object followed by
// "}" or "]": json.Decoder.More reports no more values before a closing
// bracket, so readBody once took such a body for one object and returned
// json.Unmarshal's error of the whole body, which fail answered with a 500.
func FuzzReadBody(f *testing.F) {
	gin.SetMode(gin.TestMode)
	for _, s := range []struct {
		contentType, body string
		writeOnly         bool
	}{
		{"application/json", `{"game_id":"gam_0192f7e4-8a4e-7c3b-9d2a-6f1e0b9c4d21","kind":"DEVICE","external_key":"device-3f2a9c41-6b7e","display_name":"Ada"}`, false},
		{"application/json; charset=utf-8", `{"display_name":null,"deleted":true}`, false},
		{"", `{"display_name":"x","deleted":"yes"}`, false},
		{"application/merge-patch+json", `{"deleted":0}`, false},
		{"application/json", `{"name":"Pong","slug":"pong","steam_app_id":"480","steam_web_api_key":"0123456789abcdef0123456789abcdef"}`, true},
		{"application/json", `{"steam_web_api_key":123456789012345678901234567890}`, true},
		{"application/json", `{"steam_web_api_key":["a-secret-that-must-not-echo-back"]}`, true},
		{"text/plain", `{"steam_web_api_key":"a-secret-that-must-not-echo-back"}`, true},
		{"application/json", `["a-secret-that-must-not-echo-back"]`, true},
		{"application/json", `{"expires_at":"2030-01-01T00:00:00Z"}`, false},
		{"application/json", `{"expires_at":"0000-01-01T00:00:00+01:00"}`, false},
		{"application/json", `{"expires_at":"9999-12-31T23:59:59-01:00"}`, false},
		{"application/json", `{"expires_at":"2030-01-01T00:00:00"}`, false},
		{"application/json", `{"expires_at":12}`, false},
		{"application/json", `{"account_id":"acc_nope","game_id":5,"kind":["DEVICE"],"external_key":{}}`, false},
		{"application/json", `{"display_name":"\ud800"}`, false},
		{"application/json", `{"display_name":"\ufffd \uFFFD �"}`, false},
		{"application/json", `{"display_name":"\u0000"}`, false},
		{"application/json", "{\"display_name\": \"\xff\xfe\"}", false},
		{"application/json", `{"a":1,"a":2}`, false},
		{"application/json", `{"\u0064isplay_name":"x","display_nam\u0065":"y","\ud800\udc00":1,"\udc00\ud800":2,"\ud800\u0041":3,"a\/b\"\\\b\f\n\r\t\u00E9":4}`, false},
		{"application/json", `{"deleted":1.0,"super_admin":"off"}`, false},
		{"application/json", `{"deleted":1e400}`, false},
		{"application/json", `{"deleted":-0}`, false},
		{"application/json", `{}`, false},
		{"application/json", ``, false},
		{"application/json", "  \n\t", false},
		{"application/json", `null`, false},
		{"application/json", `[]`, false},
		{"application/json", `"string"`, false},
		{"application/json", `42`, false},
		{"application/json", `{`, false},
		{"application/json", `{"a":}`, false},
		{"application/json", `{}{}`, false},
		{"application/json", `{} x`, false},
		{"application/json", `[]]`, false},
		{"application/json", "\ufeff{}", false},
		{"application/json", strings.Repeat("[", 100000), false},
		{"application/json", `{"a":` + strings.Repeat(`{"a":`, 5000) + `1` + strings.Repeat(`}`, 5001), false},
		{"application/x-www-form-urlencoded", `display_name=x`, false},
		{"multipart/form-data; boundary=x", "--x\r\n", false},
		{"application/json; charset=latin1", `{}`, false},
		{";;;", `{}`, false},
		{"application/vnd.api+json", `{"name":"x"}`, false},
	} {
		f.Add(s.contentType, []byte(s.body), s.writeOnly, false)
	}
	f.Add("application/json", []byte(`{"display_name":"x"}`), false, true)
	f.Add("", []byte(`[`), true, true)

	f.Fuzz(func(t *testing.T, contentType string, raw []byte, writeOnly, huge bool) {
		if huge && len(raw) <= MaxBodyBytes {
			raw = append(raw, bytes.Repeat([]byte(" "), MaxBodyBytes+1-len(raw))...)
		}
		var wo []string
		if writeOnly {
			wo = []string{steamKeyField}
		}
		c, w := fuzzContext(contentType, raw)
		var ps problems
		b, err := readBody(c, &ps, wo...)
		if err != nil {
			if !errors.Is(err, errTooLarge) {
				t.Fatalf("readBody(%q): unclassified error %T %v, which fail answers with a 500", raw, err, err)
			}
			if len(raw) <= MaxBodyBytes {
				t.Fatalf("readBody: errTooLarge for %d bytes", len(raw))
			}
			fail(c, err)
			if w.Code != http.StatusRequestEntityTooLarge || w.Body.String() != `{"detail":"Request body too large"}` {
				t.Fatalf("errTooLarge answered %d %s", w.Code, w.Body)
			}
			return
		}
		if len(raw) > MaxBodyBytes {
			t.Fatalf("readBody read %d bytes, over MaxBodyBytes", len(raw))
		}
		if b == nil {
			t.Fatal("readBody gave neither a body nor an error")
		}
		if b.broken != (len(ps.list) > 0) {
			t.Fatalf("readBody(%q): broken %v with %d problems", raw, b.broken, len(ps.list))
		}
		fields := wantFields(t, contentType, raw, b, ps.list)

		// Read every field as the handlers do: the known ones and whatever
		// else the body holds. A write-only field is only read as a string.
		names := slices.Clone(fuzzFields)
		for name := range fields {
			if !slices.Contains(names, name) {
				names = append(names, name)
			}
		}
		slices.Sort(names)
		for i, name := range names {
			b.str(name, i%2 == 0)
			b.setting(name)
			if slices.Contains(wo, name) {
				continue
			}
			before := len(ps.list)
			got := b.boolean(name)
			wantBoolean(t, name, fields, got, ps.list[before:])
			b.timestamp(name, b.str(name, false))
			parseID[id.Game](b, name, b.str(name, i%3 == 0))
		}
		wantEchoes(t, ps.list)

		err = ps.err()
		if err == nil {
			if b.raw[0] != '{' {
				t.Fatalf("readBody(%q): no problem, but the body is %s", raw, b.raw)
			}
			return
		}
		var invalid *invalidRequest
		if !errors.As(err, &invalid) || len(invalid.problems) == 0 {
			t.Fatalf("problems give %T %v, want an *invalidRequest", err, err)
		}
		c, w = fuzzContext(contentType, nil)
		fail(c, err)
		if w.Code != http.StatusUnprocessableEntity {
			t.Fatalf("problems of %q answered %d %s, want 422", raw, w.Code, w.Body)
		}
		var answer struct {
			Detail []struct {
				Type string `json:"type"`
				Loc  []any  `json:"loc"`
				Msg  string `json:"msg"`
			} `json:"detail"`
		}
		if err := json.Unmarshal(w.Body.Bytes(), &answer); err != nil || len(answer.Detail) == 0 {
			t.Fatalf("422 body %s: %v", w.Body, err)
		}
		for _, p := range answer.Detail {
			if p.Type == "" || p.Msg == "" || len(p.Loc) == 0 || p.Loc[0] != "body" {
				t.Fatalf("422 of %q: problem %+v", raw, p)
			}
		}
		if secret := writeOnlySecret(b, wo); secret != "" && strings.Contains(w.Body.String(), secret) {
			t.Fatalf("422 of %q echoes the write-only value %q: %s", raw, secret, w.Body)
		}
	})
}

func fuzzContext(contentType string, raw []byte) (*gin.Context, *httptest.ResponseRecorder) {
	w := httptest.NewRecorder()
	c, _ := gin.CreateTestContext(w)
	c.Request = httptest.NewRequest(http.MethodPost, "/v1/games", bytes.NewReader(raw))
	if contentType != "" {
		c.Request.Header.Set("Content-Type", contentType)
	}
	return c, w
}

// writeOnlySecret is the write-only field's value when it is a string that
// nothing else in the body, and nothing an answer says of its own, could
// spell: 24 characters or more, no white space, in no other key or value.
// The whole body decoded here stands in for a body that readBody refused
// (a form, say), whose raw text a 422 may echo where nothing is write-only.
func writeOnlySecret(b *body, writeOnly []string) string {
	if len(writeOnly) == 0 {
		return ""
	}
	raw, ok := b.field(writeOnly[0])
	var secret string
	if !ok || json.Unmarshal(raw, &secret) != nil || len(secret) < 24 || strings.ContainsAny(secret, " \t\r\n\"\\<>&") {
		return ""
	}
	var whole map[string]any
	_ = json.Unmarshal(b.raw, &whole)
	delete(whole, writeOnly[0])
	if strings.Contains(string(mustJSON(whole)), secret) {
		return ""
	}
	for key := range whole {
		if strings.Contains(key, secret) {
			return ""
		}
	}
	return secret
}

func mustJSON(v any) []byte {
	out, _ := json.Marshal(v)
	return out
}

// wantFields checks readBody's verdict on raw against decoding raw whole,
// as readBody did until it left bodies as JSON (issue 17): the same
// json_invalid problem, the same refusal of what is not an object, the same
// fields with the same values. It returns the fields.
func wantFields(t *testing.T, contentType string, raw []byte, b *body, list []wire.Problem) map[string]json.RawMessage {
	t.Helper()
	if !utf8.Valid(raw) || len(bytes.TrimSpace(raw)) == 0 {
		return nil
	}
	if mt, _, _ := mime.ParseMediaType(contentType); contentType != "" && mt != "application/json" && !strings.HasSuffix(mt, "+json") {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var whole any
	err := dec.Decode(&whole)
	if err == nil && len(bytes.TrimSpace(raw[dec.InputOffset():])) > 0 {
		err = errExtraData
	}
	_, object := whole.(map[string]any)
	switch {
	case !b.broken:
		if err != nil || !object {
			t.Fatalf("readBody(%q) took what decodes to %#v, %v", raw, whole, err)
		}
	case list[0].Type == "json_invalid":
		offset := int64(len(raw))
		var syntax *json.SyntaxError
		if errors.As(err, &syntax) {
			offset = syntax.Offset
		}
		if err == nil || list[0].Loc[1] != offset || list[0].Ctx["error"] != err.Error() {
			t.Fatalf("readBody(%q): json_invalid at %v: %v, decoding: %v at %d", raw, list[0].Loc, list[0].Ctx, err, offset)
		}
		return nil
	default: // model_attributes_type
		if err == nil && object {
			t.Fatalf("readBody(%q): %s, for an object", raw, list[0].Type)
		}
		return nil
	}
	var want map[string]json.RawMessage
	if err := json.Unmarshal(raw[:dec.InputOffset()], &want); err != nil {
		t.Fatal(err)
	}
	got := map[string]json.RawMessage{}
	for _, at := range b.members {
		quoted, _, _ := member(b.raw, int(at))
		name := string(unquote(quoted, math.MaxInt))
		got[name], _ = b.field(name)
	}
	if !maps.EqualFunc(got, want, func(a, b json.RawMessage) bool { return bytes.Equal(a, b) }) {
		t.Fatalf("readBody(%q): fields %q, want %q", raw, got, want)
	}
	return want
}

// wantBoolean checks body.boolean against reading the decoded value, as it
// did until bodies were left as JSON.
func wantBoolean(t *testing.T, name string, fields map[string]json.RawMessage, got *bool, added []wire.Problem) {
	t.Helper()
	raw, ok := fields[name]
	var want *bool
	problem := ""
	if ok && string(raw) != "null" {
		switch v := decode(raw).(type) {
		case bool:
			want = &v
		case json.Number:
			want = map[string]*bool{"0": ptr(false), "0.0": ptr(false), "1": ptr(true), "1.0": ptr(true)}[v.String()]
		case string:
			switch strings.ToLower(strings.TrimSpace(v)) {
			case "0", "off", "f", "false", "n", "no":
				want = ptr(false)
			case "1", "on", "t", "true", "y", "yes":
				want = ptr(true)
			}
		default:
			problem = "bool_type"
		}
		if want == nil && problem == "" {
			problem = "bool_parsing"
		}
	}
	if (got == nil) != (want == nil) || got != nil && *got != *want {
		t.Fatalf("boolean(%q) of %s: %v, want %v", name, raw, got, want)
	}
	if problem == "" && len(added) > 0 || problem != "" && (len(added) != 1 || added[0].Type != problem) {
		t.Fatalf("boolean(%q) of %s: problems %+v, want %q", name, raw, added, problem)
	}
}

// wantEchoes checks that the problems' inputs left as JSON answer exactly
// what they would decoded.
func wantEchoes(t *testing.T, list []wire.Problem) {
	t.Helper()
	decoded := slices.Clone(list)
	for i, p := range decoded {
		if in, ok := p.Input.(rawInput); ok {
			decoded[i].Input = decodeInput(in)
		}
	}
	if got, want := mustJSON(bounded(list)), mustJSON(bounded(decoded)); !bytes.Equal(got, want) {
		t.Fatalf("echoes\n%s\nwant\n%s", got, want)
	}
}

// decodeInput decodes an input left as JSON as readBody once decoded every
// body, write-only fields redacted.
func decodeInput(in rawInput) any {
	v := decode(in.json)
	if m, ok := v.(map[string]any); ok {
		for _, name := range in.writeOnly {
			if v, ok := m[name]; ok && v != nil {
				m[name] = redacted
			}
		}
	}
	return v
}

func decode(raw []byte) any {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	_ = dec.Decode(&v)
	return v
}
