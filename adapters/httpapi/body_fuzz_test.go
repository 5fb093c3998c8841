package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/leadr-oss/identity/domain/id"
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

		// Read every field as the handlers do: the known ones and whatever
		// else the body holds. A write-only field is only read as a string.
		names := slices.Clone(fuzzFields)
		for name := range b.fields {
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
			b.boolean(name)
			b.timestamp(name)
			bodyID[id.Game](b, name, i%3 == 0)
		}

		err = ps.err()
		if err == nil {
			if _, ok := b.whole.(map[string]any); !ok {
				t.Fatalf("readBody(%q): no problem, but the body is %T", raw, b.whole)
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
	raw, ok := b.fields[writeOnly[0]]
	var secret string
	if !ok || json.Unmarshal(raw, &secret) != nil || len(secret) < 24 || strings.ContainsAny(secret, " \t\r\n\"\\<>&") {
		return ""
	}
	var whole map[string]any
	_ = json.Unmarshal(mustJSON(b.fields), &whole)
	delete(whole, writeOnly[0])
	if strings.Contains(string(mustJSON(whole)), secret) {
		return ""
	}
	for key := range b.fields {
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
