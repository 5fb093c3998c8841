package httpapi_test

import (
	"strings"
	"testing"
	"time"
)

// TestDomainProblems pins every 422 shape a domain rule produces, byte for
// byte: clients written against FastAPI parse msg and ctx, so the rendering
// of the domain's meaning must never drift.
func TestDomainProblems(t *testing.T) {
	e := newEnv(t)
	acme := e.newTenant("acme")
	identity := e.do("POST", "/v1/identities", acme.key, map[string]any{"game_id": acme.game, "kind": "DEVICE", "external_key": "device-0001"}).want(t, 201)
	apiKey := e.do("POST", "/v1/api-keys", acme.key, map[string]any{"user_id": acme.user, "name": "k"}).want(t, 201)
	past := e.clock.Now().Add(-time.Second).Format(time.RFC3339)

	cases := []struct {
		name, method, path, key string
		body                    any
		want                    string
	}{
		{"too short, one character", "POST", "/v1/accounts", e.super, map[string]any{"name": " ", "slug": "blank"}, `{"detail":[{"type":"string_too_short","loc":["body","name"],"msg":"String should have at least 1 character","input":" ","ctx":{"min_length":1}}]}`},
		{"too long", "POST", "/v1/accounts", e.super, map[string]any{"name": strings.Repeat("n", 101), "slug": "long"}, `{"detail":[{"type":"string_too_long","loc":["body","name"],"msg":"String should have at most 100 characters","input":"nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn","ctx":{"max_length":100}}]}`},
		{"control character", "POST", "/v1/accounts", e.super, map[string]any{"name": "Ac\u0007me", "slug": "ctl"}, `{"detail":[{"type":"value_error","loc":["body","name"],"msg":"Value error, Must not contain control characters","input":"Ac\u0007me"}]}`},
		{"slug", "POST", "/v1/accounts", e.super, map[string]any{"name": "X", "slug": "-x"}, `{"detail":[{"type":"value_error","loc":["body","slug"],"msg":"Value error, A slug is 1–50 lower-case letters, digits and hyphens, starting and ending with a letter or digit","input":"-x"}]}`},
		{"too short, several characters", "POST", "/v1/users", acme.key, map[string]any{"email": "ann@example.com", "display_name": "A"}, `{"detail":[{"type":"string_too_short","loc":["body","display_name"],"msg":"String should have at least 2 characters","input":"A","ctx":{"min_length":2}}]}`},
		{"email", "POST", "/v1/users", acme.key, map[string]any{"email": "nope", "display_name": "Ann"}, `{"detail":[{"type":"value_error","loc":["body","email"],"msg":"Value error, value is not a valid email address","input":"nope"}]}`},
		{"missing, from the use case", "POST", "/v1/users", e.super, map[string]any{"email": "x", "display_name": "E"}, `{"detail":[{"type":"missing","loc":["body","account_id"],"msg":"Field required","input":{"display_name":"E","email":"x"}},{"type":"value_error","loc":["body","email"],"msg":"Value error, value is not a valid email address","input":"x"},{"type":"string_too_short","loc":["body","display_name"],"msg":"String should have at least 2 characters","input":"E","ctx":{"min_length":2}}]}`},
		{"missing account of a superadmin", "POST", "/v1/identities", e.super, map[string]any{"game_id": unknownGame, "kind": "STEAM", "external_key": "76561197960287930"}, `{"detail":[{"type":"missing","loc":["body","account_id"],"msg":"Field required","input":{"external_key":"76561197960287930","game_id":"gam_0195f2a0-0000-7000-8000-000000000001","kind":"STEAM"}}]}`},
		{"one of three", "POST", "/v1/identities", acme.key, map[string]any{"game_id": unknownGame, "kind": "device", "external_key": "device-0001"}, `{"detail":[{"type":"enum","loc":["body","kind"],"msg":"Input should be 'DEVICE', 'STEAM' or 'CUSTOM'","input":"device","ctx":{"expected":"'DEVICE', 'STEAM' or 'CUSTOM'"}}]}`},
		{"external key", "POST", "/v1/identities", acme.key, map[string]any{"game_id": unknownGame, "kind": "STEAM", "external_key": "123"}, `{"detail":[{"type":"value_error","loc":["body","external_key"],"msg":"Value error, A STEAM external_key must be a SteamID64: 17 digits starting with 7656119","input":"123"}]}`},
		{"display name too long", "POST", "/v1/identities", acme.key, map[string]any{"game_id": unknownGame, "kind": "DEVICE", "external_key": "device-0001", "display_name": strings.Repeat("é", 65)}, `{"detail":[{"type":"string_too_long","loc":["body","display_name"],"msg":"String should have at most 64 characters","input":"ééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééé","ctx":{"max_length":64}}]}`},
		{"display name control", "POST", "/v1/identities", acme.key, map[string]any{"game_id": unknownGame, "kind": "CUSTOM", "external_key": "custom-1", "display_name": "a\u0000b"}, `{"detail":[{"type":"value_error","loc":["body","display_name"],"msg":"Value error, Display name must not contain control characters","input":"a\u0000b"}]}`},
		{"several at once", "POST", "/v1/identities", acme.key, map[string]any{"game_id": unknownGame, "kind": "DEVICE", "external_key": "short", "display_name": ""}, `{"detail":[{"type":"value_error","loc":["body","external_key"],"msg":"Value error, A DEVICE external_key must be 10–128 visible ASCII characters","input":"short"},{"type":"string_too_short","loc":["body","display_name"],"msg":"String should have at least 1 character","input":"","ctx":{"min_length":1}}]}`},
		{"several, one missing", "POST", "/v1/identities", e.super, map[string]any{"game_id": unknownGame, "kind": "Steam", "external_key": "x", "display_name": strings.Repeat("x", 65)}, `{"detail":[{"type":"enum","loc":["body","kind"],"msg":"Input should be 'DEVICE', 'STEAM' or 'CUSTOM'","input":"Steam","ctx":{"expected":"'DEVICE', 'STEAM' or 'CUSTOM'"}},{"type":"string_too_long","loc":["body","display_name"],"msg":"String should have at most 64 characters","input":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx","ctx":{"max_length":64}},{"type":"missing","loc":["body","account_id"],"msg":"Field required","input":{"display_name":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx","external_key":"x","game_id":"gam_0195f2a0-0000-7000-8000-000000000001","kind":"Steam"}}]}`},
		{"body ID", "POST", "/v1/identities", acme.key, map[string]any{"game_id": "acc_0195f2a0-0000-7000-8000-000000000001", "kind": "DEVICE", "external_key": "device-0001"}, `{"detail":[{"type":"value_error","loc":["body","game_id"],"msg":"Value error, Invalid game ID: expected 'gam_' followed by a UUID","input":"acc_0195f2a0-0000-7000-8000-000000000001"}]}`},
		{"path ID", "GET", "/v1/identities/ide_nope", acme.key, nil, `{"detail":[{"type":"value_error","loc":["path","identity_id"],"msg":"Value error, Invalid identity ID: expected 'ide_' followed by a UUID","input":"ide_nope"}]}`},
		{"query ID", "GET", "/v1/identities?game_id=nope&account_id=usr_0195f2a0-0000-7000-8000-000000000001", acme.key, nil, `{"detail":[{"type":"value_error","loc":["query","account_id"],"msg":"Value error, Invalid account ID: expected 'acc_' followed by a UUID","input":"usr_0195f2a0-0000-7000-8000-000000000001"},{"type":"value_error","loc":["query","game_id"],"msg":"Value error, Invalid game ID: expected 'gam_' followed by a UUID","input":"nope"}]}`},
		{"rename too short", "PATCH", "/v1/identities/" + identity.str("id"), acme.key, map[string]any{"display_name": " "}, `{"detail":[{"type":"string_too_short","loc":["body","display_name"],"msg":"String should have at least 1 character","input":" ","ctx":{"min_length":1}}]}`},
		{"one of two", "PATCH", "/v1/api-keys/" + apiKey.str("id"), acme.key, map[string]any{"status": "paused"}, `{"detail":[{"type":"enum","loc":["body","status"],"msg":"Input should be 'active' or 'revoked'","input":"paused","ctx":{"expected":"'active' or 'revoked'"}}]}`},
		{"expiry in the past", "POST", "/v1/api-keys", acme.key, map[string]any{"user_id": acme.user, "name": "old", "expires_at": past}, `{"detail":[{"type":"value_error","loc":["body","expires_at"],"msg":"Value error, expires_at must be in the future","input":"2026-03-04T05:06:06Z"}]}`},
		{"expiry in year 1, once in UTC", "POST", "/v1/api-keys", acme.key, map[string]any{"user_id": acme.user, "name": "far", "expires_at": "0000-12-31T23:00:00-02:00"}, `{"detail":[{"type":"value_error","loc":["body","expires_at"],"msg":"Value error, expires_at must be in the future","input":"0001-01-01T01:00:00Z"}]}`},
		{"name of a key", "POST", "/v1/api-keys", acme.key, map[string]any{"user_id": acme.user, "name": ""}, `{"detail":[{"type":"string_too_short","loc":["body","name"],"msg":"String should have at least 1 character","input":"","ctx":{"min_length":1}}]}`},
		{"game slug", "POST", "/v1/games", acme.key, map[string]any{"name": "G", "slug": "Bad Slug"}, `{"detail":[{"type":"value_error","loc":["body","slug"],"msg":"Value error, A slug is 3–64 lower-case letters, digits and single hyphens, starting and ending with a letter or digit","input":"Bad Slug"}]}`},
		{"game name control", "POST", "/v1/games", acme.key, map[string]any{"name": "a\u0007b"}, `{"detail":[{"type":"value_error","loc":["body","name"],"msg":"Value error, Name must not contain control characters","input":"a\u0007b"}]}`},
		{"steam app ID", "PATCH", "/v1/games/" + acme.game, acme.key, map[string]any{"steam_app_id": "x480"}, `{"detail":[{"type":"value_error","loc":["body","steam_app_id"],"msg":"Value error, A Steam app ID is 1–10 decimal digits","input":"x480"}]}`},
		// A Steam Web API key is never echoed: not when rejected, not in a
		// missing field's whole-body input, not when of the wrong type.
		{"steam key", "POST", "/v1/games", acme.key, map[string]any{"name": "G", "steam_web_api_key": "not-a-key"}, `{"detail":[{"type":"value_error","loc":["body","steam_web_api_key"],"msg":"Value error, A Steam Web API key is 32 hexadecimal characters","input":"[redacted]"}]}`},
		{"steam key of the wrong type", "POST", "/v1/games", acme.key, map[string]any{"name": "G", "steam_web_api_key": []string{steamKey}}, `{"detail":[{"type":"string_type","loc":["body","steam_web_api_key"],"msg":"Input should be a valid string","input":"[redacted]"}]}`},
		{"missing name beside a steam key", "POST", "/v1/games", acme.key, map[string]any{"slug": "abc", "steam_web_api_key": steamKey}, `{"detail":[{"type":"missing","loc":["body","name"],"msg":"Field required","input":{"slug":"abc","steam_web_api_key":"[redacted]"}}]}`},
		{"missing account beside a steam key", "POST", "/v1/games", e.super, map[string]any{"name": "G", "steam_web_api_key": steamKey, "steam_app_id": nil}, `{"detail":[{"type":"missing","loc":["body","account_id"],"msg":"Field required","input":{"name":"G","steam_app_id":null,"steam_web_api_key":"[redacted]"}}]}`},
		{"not an object, where a steam key may be", "PATCH", "/v1/games/" + acme.game, acme.key, []any{1}, `{"detail":[{"type":"model_attributes_type","loc":["body"],"msg":"Input should be a valid dictionary or object to extract fields from","input":"[redacted]"}]}`},
		{"not an object, elsewhere", "PATCH", "/v1/identities/" + identity.str("id"), acme.key, []any{1}, `{"detail":[{"type":"model_attributes_type","loc":["body"],"msg":"Input should be a valid dictionary or object to extract fields from","input":[1]}]}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.do(c.method, c.path, c.key, c.body)
			r.problems(t)
			if r.raw != c.want {
				t.Errorf("got  %s\nwant %s", r.raw, c.want)
			}
		})
	}
}
