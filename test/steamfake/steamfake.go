// Package steamfake is a stand-in for Steam's Web API in tests: an
// httptest server that answers ISteamUserAuth/AuthenticateUserTicket the
// way Steam does, for tickets a test registers. Point the Steam adapter's
// base URL at URL().
//
// What it copies from Steam: 200 with {"response":{"params":{...}}} for a
// ticket Steam vouches for and {"response":{"error":{...}}} for one it
// refuses (errorcode 101 "Invalid ticket" for any ticket it does not know,
// and for a ticket made for another identity than the request's identity
// parameter, as GetAuthTicketForWebApi tickets are); 403 with an HTML page
// for a missing or wrong publisher key; 400 for a missing appid or ticket.
package steamfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Player is what Steam says about a ticket's owner.
type Player struct {
	SteamID string // SteamID64
	// OwnerSteamID is the licence owner's, different when the game is
	// borrowed (Family Sharing); empty answers SteamID, as Steam does.
	OwnerSteamID    string
	VACBanned       bool
	PublisherBanned bool
	// Result is params.result; empty answers "OK".
	Result string
}

// DefaultIdentity is the identity Ticket's tickets are made for: the
// service's default LEADR_STEAM_TICKET_IDENTITY.
const DefaultIdentity = "leadr"

// Request is one call the server received, as it read it.
type Request struct {
	AppID    string
	Key      string // from the key parameter or the x-webapi-key header
	Ticket   string
	Identity string
}

// Server is the fake. Its methods may be called at any time, from any
// goroutine, also while requests are being served.
type Server struct {
	srv     *httptest.Server
	closing chan struct{}

	mu       sync.Mutex
	keys     map[string]string // app ID → publisher key
	tickets  map[string]answer // by lower-case ticket
	slow     time.Duration
	status   int
	requests []Request
}

type answer struct {
	player   Player
	identity string // what the ticket was made for
	code     int    // a refusal's errorcode, when non-zero
	raw      string // a verbatim body, when set
	isRaw    bool
}

// New starts a server that t closes at its end.
func New(t testing.TB) *Server {
	t.Helper()
	s := &Server{
		closing: make(chan struct{}),
		keys:    map[string]string{},
		tickets: map[string]answer{},
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(func() {
		close(s.closing) // releases Slow answers still waiting
		s.srv.Close()
	})
	return s
}

// URL is the base URL of the Web API, without a trailing slash.
func (s *Server) URL() string { return s.srv.URL }

// ExpectKey makes key the only publisher key accepted for appID; other apps
// may be given keys too. A request with another key, or for an app no key
// was given for, is refused with 403, as Steam refuses a key that does not
// belong to the app's publisher. Until ExpectKey is called, any non-empty
// key is accepted for any app.
func (s *Server) ExpectKey(appID, key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys[appID] = key
}

// Ticket makes ticket one Steam vouches for, as p's, when it is presented
// with the identity DefaultIdentity. Tickets are hex, so case does not
// matter.
func (s *Server) Ticket(ticket string, p Player) {
	s.TicketFor(DefaultIdentity, ticket, p)
}

// TicketFor makes ticket one that p's game made for identity
// (GetAuthTicketForWebApi): Steam vouches for it only when a request names
// that identity, and refuses it with errorcode 101 otherwise, so that a
// ticket made for one backend is useless to another. An empty identity is
// a session ticket (GetAuthSessionTicket, made for a game server or a
// peer), vouched for only when a request names no identity.
func (s *Server) TicketFor(identity, ticket string, p Player) {
	s.set(ticket, answer{player: p, identity: identity})
}

// Refuse makes Steam refuse ticket with errorcode (101 is Steam's "Invalid
// ticket", 3 its "Invalid parameter").
func (s *Server) Refuse(ticket string, errorcode int) {
	s.set(ticket, answer{code: errorcode})
}

// Raw makes the answer for ticket a 200 with body as it is: malformed JSON,
// an unexpected shape.
func (s *Server) Raw(ticket, body string) {
	s.set(ticket, answer{raw: body, isRaw: true})
}

// Slow delays every answer by d; zero answers at once again. A request its
// client gives up on stops waiting.
func (s *Server) Slow(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.slow = d
}

// Fail answers every request with status (after any Slow delay) until it is
// called with 0.
func (s *Server) Fail(status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status = status
}

// Requests are the calls received so far, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// SteamID64 is the SteamID64 of the individual account number account in
// the public universe: a valid ID for tests.
func SteamID64(account uint32) string {
	return strconv.FormatUint(76561197960265728+uint64(account), 10)
}

func (s *Server) set(ticket string, a answer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tickets[strings.ToLower(ticket)] = a
}

var paths = map[string]bool{
	"/ISteamUserAuth/AuthenticateUserTicket/v1/": true, "/ISteamUserAuth/AuthenticateUserTicket/v1": true,
	"/ISteamUserAuth/AuthenticateUserTicket/v0001/": true, "/ISteamUserAuth/AuthenticateUserTicket/v0001": true,
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if !paths[r.URL.Path] {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
		return
	}
	q := r.URL.Query()
	req := Request{AppID: q.Get("appid"), Key: q.Get("key"), Ticket: q.Get("ticket"), Identity: q.Get("identity")}
	if req.Key == "" {
		req.Key = r.Header.Get("x-webapi-key")
	}

	s.mu.Lock()
	s.requests = append(s.requests, req)
	slow, status := s.slow, s.status
	wantKey, appKnown := s.keys[req.AppID]
	anyKey := len(s.keys) == 0
	a, ticketKnown := s.tickets[strings.ToLower(req.Ticket)]
	s.mu.Unlock()

	if slow > 0 {
		timer := time.NewTimer(slow)
		defer timer.Stop()
		select {
		case <-timer.C:
		case <-r.Context().Done():
			return
		case <-s.closing:
			return
		}
	}
	if status != 0 {
		http.Error(w, http.StatusText(status), status)
		return
	}

	if req.Key == "" || (!anyKey && (!appKnown || req.Key != wantKey)) {
		forbidden(w)
		return
	}
	for _, p := range []string{"appid", "ticket"} {
		if q.Get(p) == "" {
			w.Header().Set("Content-Type", "text/html; charset=UTF-8")
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, "<html><head><title>Bad Request</title></head><body><h1>Bad Request</h1>Required parameter '%s' is missing</body></html>", p)
			return
		}
	}

	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	switch {
	case !ticketKnown:
		writeError(w, 101)
	case a.isRaw:
		_, _ = w.Write([]byte(a.raw))
	case a.code != 0:
		writeError(w, a.code)
	case req.Identity != a.identity:
		writeError(w, 101)
	default:
		p := a.player
		if p.Result == "" {
			p.Result = "OK"
		}
		if p.OwnerSteamID == "" {
			p.OwnerSteamID = p.SteamID
		}
		writeJSON(w, map[string]any{"params": map[string]any{
			"result": p.Result, "steamid": p.SteamID, "ownersteamid": p.OwnerSteamID,
			"vacbanned": p.VACBanned, "publisherbanned": p.PublisherBanned,
		}})
	}
}

func writeJSON(w http.ResponseWriter, response map[string]any) {
	_ = json.NewEncoder(w).Encode(map[string]any{"response": response})
}

var descriptions = map[int]string{3: "Invalid parameter", 101: "Invalid ticket"}

func writeError(w http.ResponseWriter, code int) {
	desc, ok := descriptions[code]
	if !ok {
		desc = "Error " + strconv.Itoa(code)
	}
	writeJSON(w, map[string]any{"error": map[string]any{"errorcode": code, "errordesc": desc}})
}

func forbidden(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/html; charset=UTF-8")
	w.WriteHeader(http.StatusForbidden)
	_, _ = w.Write([]byte("<html><head><title>Forbidden</title></head><body><h1>Forbidden</h1>" +
		"Access is denied. Retrying will not help. Please verify your <pre>key=</pre> parameter.</body></html>"))
}
