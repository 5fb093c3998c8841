package store

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// TestScrub: the personal fields of the purged identities go wherever they
// are in an event's data (the resource, its changes, a player's list of
// identities and that list's changes), and nothing else does.
func TestScrub(t *testing.T) {
	purged := map[string]bool{"ide_a": true}
	cases := []struct {
		name, in, want string
		players        []string
	}{{
		name: "identity event with changes",
		in: `{"id":"ide_a","player_id":"ply_1","external_key":"device-secret-1","display_name":"Ada","kind":"DEVICE",
			"changes":{"display_name":["Al","Ada"],"player_id":["ply_0","ply_1"]}}`,
		want:    `{"id":"ide_a","player_id":"ply_1","kind":"DEVICE","changes":{"player_id":["ply_0","ply_1"]}}`,
		players: []string{"ply_1", "ply_0", "ply_1"},
	}, {
		name: "player event keeps other identities",
		in: `{"id":"ply_1","identities":[{"id":"ide_a","player_id":"ply_1","external_key":"k1","display_name":null},
			{"id":"ide_b","player_id":"ply_1","external_key":"k2","display_name":"Bo"}],
			"changes":{"identities":[[],[{"id":"ide_a","external_key":"k1","display_name":"x"}]]}}`,
		want: `{"id":"ply_1","identities":[{"id":"ide_a","player_id":"ply_1"},
			{"id":"ide_b","player_id":"ply_1","external_key":"k2","display_name":"Bo"}],
			"changes":{"identities":[[],[{"id":"ide_a"}]]}}`,
		players: []string{"ply_1", "ply_1"},
	}, {
		name:    "nothing of theirs",
		in:      `{"id":"ide_b","external_key":"k2","n":12345678901234567890}`,
		want:    `{"id":"ide_b","external_key":"k2","n":12345678901234567890}`,
		players: nil,
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, players, changed, err := scrub([]byte(c.in), purged)
			if err != nil {
				t.Fatal(err)
			}
			var got, want any
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal([]byte(c.want), &want); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("scrubbed\n%s\nwant\n%s", out, c.want)
			}
			if changed != (c.in != c.want) {
				t.Fatalf("changed = %v", changed)
			}
			slices.Sort(players)
			slices.Sort(c.players)
			if !slices.Equal(players, c.players) {
				t.Fatalf("players %v, want %v", players, c.players)
			}
			if !changed && string(out) != c.in {
				t.Fatal("data without personal fields of the purged was rewritten")
			}
			if strings.Contains(string(out), "k1") || strings.Contains(string(out), "device-secret-1") {
				t.Fatalf("a purged key is left: %s", out)
			}
		})
	}
}
