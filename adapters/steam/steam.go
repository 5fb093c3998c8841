// Package steam verifies Steam tickets with Steam's Web API
// (ISteamUserAuth/AuthenticateUserTicket), for the SteamID64 a ticket
// belongs to.
//
// Tickets are Web API tickets that the game made for this service
// (GetAuthTicketForWebApi with the service's identity), and the identity
// goes to Steam with each: Steam then refuses a ticket made for anyone
// else, such as another backend of a game with the same app ID, which
// could otherwise replay the tickets its players send it.
//
// The publisher Web API key travels in the x-webapi-key header, which Steam
// accepts, so that it is in no URL a proxy or a trace could record. The URL
// still holds the player's ticket, so no error of this package ever holds
// the URL, the key or the ticket: net/http puts the whole URL in its
// *url.Error, which is why transport errors are classified here and then
// dropped rather than wrapped.
package steam

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/leadr-oss/identity/domain/session"
	"github.com/leadr-oss/identity/ports"
)

const (
	// DefaultBaseURL is Steam's partner-only Web API host, which Steam
	// recommends for requests made with publisher keys.
	DefaultBaseURL = "https://partner.steam-api.com"
	// DefaultTimeout is the contract's bound on a sign-in's wait for Steam.
	DefaultTimeout = 5 * time.Second

	path = "/ISteamUserAuth/AuthenticateUserTicket/v1/"
	// maxBody bounds what is read from Steam: its answers are a few hundred
	// bytes, and a misbehaving upstream must not make us buffer megabytes.
	maxBody = 64 << 10
)

// Client implements ports.SteamTickets.
type Client struct {
	endpoint string // base URL and path, without a query
	identity string // what tickets must have been made for
	timeout  time.Duration
	http     *http.Client
}

var _ ports.SteamTickets = (*Client)(nil)

// New returns a client of the Web API at baseURL (Steam's host in
// production; a fake's URL in tests) that accepts only tickets made for
// identity (GetAuthTicketForWebApi's pchIdentity). A timeout of zero or
// less is DefaultTimeout; it bounds each call, connection and body
// included. A nil client is a private one that follows no redirects.
//
// A base URL that is not an absolute http(s) URL without query or fragment,
// or an empty identity (which would accept tickets made for anyone), panics,
// as regexp.MustCompile does on a bad pattern: bootstrap validates
// LEADR_STEAM_API_URL and LEADR_STEAM_TICKET_IDENTITY before wiring, so only
// a programming error gets here.
func New(baseURL, identity string, timeout time.Duration, client *http.Client) *Client {
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		// Not quoted back: a URL may carry credentials, and url.Parse's
		// error would repeat it.
		panic("steam: the base URL must be an absolute http(s) URL without query or fragment")
	}
	if identity == "" {
		panic("steam: tickets must be bound to an identity")
	}
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	if client == nil {
		client = &http.Client{
			// A redirect would be followed to wherever Steam (or whoever
			// answers in its place) points; the answer we need is never
			// one, so a redirect is treated as Steam misbehaving.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	u.Path = strings.TrimRight(u.Path, "/") + path
	return &Client{endpoint: u.String(), identity: identity, timeout: timeout, http: client}
}

// answer is AuthenticateUserTicket's body: params on a verdict, error on a
// ticket Steam refuses.
type answer struct {
	Response struct {
		Params *struct {
			Result          string `json:"result"`
			SteamID         string `json:"steamid"`
			OwnerSteamID    string `json:"ownersteamid"`
			VACBanned       bool   `json:"vacbanned"`
			PublisherBanned bool   `json:"publisherbanned"`
		} `json:"params"`
		Error *struct {
			Code int `json:"errorcode"`
		} `json:"error"`
	} `json:"response"`
}

// Authenticate asks Steam who ticket belongs to for appID, with the game's
// publisher key webAPIKey. A ticket Steam refuses is
// session.ErrSteamTicketInvalid; everything else that is not a clear answer
// is session.ErrSteamUnavailable, wrapped with a reason that names neither
// the key nor the ticket.
func (c *Client) Authenticate(ctx context.Context, appID, webAPIKey, ticket string) (ports.SteamPlayer, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()

	q := url.Values{"appid": {appID}, "ticket": {ticket}, "identity": {c.identity}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.endpoint+"?"+q.Encode(), nil)
	if err != nil {
		// Only a method or URL that does not parse fails here; the URL
		// holds the ticket, so the error is not kept.
		return ports.SteamPlayer{}, unavailable("could not build the request")
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("x-webapi-key", webAPIKey)

	resp, err := c.http.Do(req)
	if err != nil {
		return ports.SteamPlayer{}, transportError(ctx, err)
	}
	defer resp.Body.Close()

	switch {
	case resp.StatusCode == http.StatusOK:
	case resp.StatusCode == http.StatusForbidden || resp.StatusCode == http.StatusUnauthorized:
		// Steam refuses the publisher key (wrong, revoked, not allowed for
		// this app or this server's IP), not the ticket. Answering 401
		// "Invalid Steam ticket" would tell the player their Steam account
		// is at fault and send them retrying; it is the studio's
		// configuration, so it is 503 to the player and this reason to the
		// operator's logs.
		drain(resp.Body)
		return ports.SteamPlayer{}, unavailable(fmt.Sprintf("HTTP %d: Steam refused the game's Web API key", resp.StatusCode))
	default:
		drain(resp.Body)
		return ports.SteamPlayer{}, unavailable(fmt.Sprintf("HTTP %d", resp.StatusCode))
	}

	var a answer
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxBody)).Decode(&a); err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ports.SteamPlayer{}, transportError(ctx, ctxErr)
		}
		return ports.SteamPlayer{}, unavailable("malformed answer")
	}
	drain(resp.Body)

	r := a.Response
	switch {
	case r.Error != nil:
		// Steam's errordesc is not kept: it is Steam's text, and we do not
		// vouch for what it may echo back. The code is a number.
		return ports.SteamPlayer{}, fmt.Errorf("%w (steam: errorcode %d)", session.ErrSteamTicketInvalid, r.Error.Code)
	case r.Params == nil:
		return ports.SteamPlayer{}, unavailable("answer without params or error")
	case r.Params.Result != "OK":
		// Nor is the result: nothing Steam sends back goes into an error.
		return ports.SteamPlayer{}, fmt.Errorf("%w (steam: result not OK)", session.ErrSteamTicketInvalid)
	}
	p := r.Params
	// The SteamID becomes the identity's external key, so only a real
	// individual account's ID is taken, never whatever a broken answer holds.
	if !validSteamID64(p.SteamID) {
		return ports.SteamPlayer{}, unavailable("answer without a valid steamid")
	}
	// The owner only informs (Family Sharing); an odd one is dropped rather
	// than failing a sign-in whose player Steam did vouch for.
	owner := p.OwnerSteamID
	if !validSteamID64(owner) {
		owner = ""
	}
	return ports.SteamPlayer{
		SteamID:         p.SteamID,
		OwnerSteamID:    owner,
		VACBanned:       p.VACBanned,
		PublisherBanned: p.PublisherBanned,
	}, nil
}

// transportError names why no answer came, keeping the context's error in
// the chain (so a caller can tell its own cancellation from Steam's
// slowness) but never err itself, whose text holds the URL.
func transportError(ctx context.Context, err error) error {
	switch ctxErr := ctx.Err(); {
	case errors.Is(ctxErr, context.DeadlineExceeded):
		return fmt.Errorf("%w (steam: no answer in time): %w", session.ErrSteamUnavailable, context.DeadlineExceeded)
	case errors.Is(ctxErr, context.Canceled):
		return fmt.Errorf("%w (steam: request cancelled): %w", session.ErrSteamUnavailable, context.Canceled)
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return unavailable("no answer in time")
	}
	return unavailable("could not reach Steam")
}

func unavailable(reason string) error {
	return fmt.Errorf("%w (steam: %s)", session.ErrSteamUnavailable, reason)
}

// drain reads a little of what is left so the connection can be reused.
func drain(body io.Reader) {
	_, _ = io.Copy(io.Discard, io.LimitReader(body, maxBody))
}

// validSteamID64 accepts the canonical decimal SteamID64 of an individual
// account in the public universe: universe 1, account type 1, instance 1
// (the desktop instance) and a non-zero account number, which is what
// Steam gives for a player.
func validSteamID64(s string) bool {
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil || strconv.FormatUint(v, 10) != s {
		return false
	}
	universe, accountType, instance, account := v>>56, (v>>52)&0xf, (v>>32)&0xfffff, uint32(v)
	return universe == 1 && accountType == 1 && instance == 1 && account != 0
}
