package downstream

import (
	"cmp"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/leadr-oss/identity/verifier"
)

// maxScoreBody bounds what POST /scores reads: {"score": n} takes a few
// dozen bytes, and any signed-in player may send anything.
const maxScoreBody = 1 << 10

// Score is a player's best score.
type Score struct {
	PlayerID string `json:"player_id"`
	Score    int64  `json:"score"`
}

// Scores is the leaderboard of one game, in memory: the best score of each
// player, of at most max players, the best ones, so that no number of
// players can exhaust the memory.
type Scores struct {
	game string
	max  int

	mu   sync.Mutex
	best map[string]int64 // player ID → best score
}

// NewScores returns an empty leaderboard of game holding at most max
// players.
func NewScores(game string, max int) *Scores {
	return &Scores{game: game, max: max, best: make(map[string]int64)}
}

// Handler serves the leaderboard to the game's players whose access tokens
// v accepts: POST /scores {"score": n} records n for the caller's player,
// GET /scores answers {"scores": [Score…]}, best first.
func (s *Scores) Handler(v *verifier.Verifier) http.Handler {
	mux := http.NewServeMux()
	// The verifier guards each route rather than the whole mux, so that an
	// unknown route is a 404 before it is a 401, as on the identity service.
	mux.Handle("POST /scores", v.Middleware(s.player(s.record)))
	mux.Handle("GET /scores", v.Middleware(s.player(s.top)))
	return mux
}

// player passes next the caller's player, and refuses the tokens of other
// games: the identity service signs every game's tokens with the same keys,
// and the verifier follows the revocations of one account only.
func (s *Scores) player(next func(w http.ResponseWriter, r *http.Request, player string)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		claims, _ := verifier.ClaimsFrom(r.Context())
		if claims.GameID != s.game || claims.PlayerID == "" {
			writeJSON(w, http.StatusForbidden, detail("Access token not valid for this game"))
			return
		}
		next(w, r, claims.PlayerID)
	})
}

func (s *Scores) record(w http.ResponseWriter, r *http.Request, player string) {
	var body struct {
		Score *int64 `json:"score"`
	}
	err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxScoreBody)).Decode(&body)
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		writeJSON(w, http.StatusRequestEntityTooLarge, detail("Request body too large"))
	case err != nil || body.Score == nil:
		writeJSON(w, http.StatusBadRequest, detail(`The body must be {"score": <integer>}`))
	default:
		s.add(player, *body.Score)
		w.WriteHeader(http.StatusNoContent)
	}
}

func (s *Scores) add(player string, score int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if best, ok := s.best[player]; ok {
		s.best[player] = max(best, score)
		return
	}
	if len(s.best) < s.max {
		s.best[player] = score
		return
	}
	// Full: the lowest score makes room for a better one. A scan is cheap
	// next to a request for boards of a few thousand players.
	lowest := ""
	for p, sc := range s.best {
		if lowest == "" || sc < s.best[lowest] {
			lowest = p
		}
	}
	if score > s.best[lowest] {
		delete(s.best, lowest)
		s.best[player] = score
	}
}

func (s *Scores) top(w http.ResponseWriter, _ *http.Request, _ string) {
	s.mu.Lock()
	board := make([]Score, 0, len(s.best))
	for p, sc := range s.best {
		board = append(board, Score{PlayerID: p, Score: sc})
	}
	s.mu.Unlock()
	slices.SortFunc(board, func(a, b Score) int {
		return cmp.Or(cmp.Compare(b.Score, a.Score), strings.Compare(a.PlayerID, b.PlayerID))
	})
	writeJSON(w, http.StatusOK, map[string][]Score{"scores": board})
}

// detail is an error body in the identity service's shape, which the
// verifier's own refusals share.
func detail(msg string) map[string]string { return map[string]string{"detail": msg} }

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}
