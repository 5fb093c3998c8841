package bootstrap_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"
)

// BenchmarkService measures the whole service over HTTP on PostgreSQL:
// authentication, parsing, the use case, the store, the JSON answer.
func BenchmarkService(b *testing.B) {
	r := startB(b)
	super := keyPattern.FindString(r.stderr.String())
	do := func(b *testing.B, method, path, body string) []byte {
		req, _ := http.NewRequest(method, r.base+path, bytes.NewBufferString(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("leadr-api-key", super)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		if resp.StatusCode >= 300 {
			b.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, out)
		}
		return out
	}
	var acc, game struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(do(b, "POST", "/v1/accounts", `{"name":"Bench","slug":"bench"}`), &acc); err != nil {
		b.Fatal(err)
	}
	account := acc.ID
	if err := json.Unmarshal(do(b, "POST", "/v1/games", fmt.Sprintf(`{"account_id":%q,"name":"Bench"}`, account)), &game); err != nil {
		b.Fatal(err)
	}
	create := func(n int) string {
		return fmt.Sprintf(`{"account_id":%q,"game_id":%q,"kind":"DEVICE","external_key":"device-%010d"}`, account, game.ID, n)
	}
	for n := range 1000 {
		do(b, "POST", "/v1/identities", create(n))
	}
	b.Run("get_or_create_existing", func(b *testing.B) {
		for b.Loop() {
			do(b, "POST", "/v1/identities", create(7))
		}
	})
	b.Run("list_first_page", func(b *testing.B) {
		for b.Loop() {
			do(b, "GET", "/v1/identities?account_id="+account, "")
		}
	})
	b.Run("list_parallel", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				do(b, "GET", "/v1/identities?account_id="+account, "")
			}
		})
	})
}
