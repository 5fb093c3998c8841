package verifier

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"
)

// FeedConfig configures FollowFeed. Only APIKey is required.
type FeedConfig struct {
	// APIKey is an API key of the account whose tokens are verified (or a
	// superadmin's), sent as leadr-api-key. It only needs to read events.
	APIKey string
	// AccountID, when set, limits the feed to that account, and tokens of
	// other accounts are refused. Unset, the key decides: a superadmin's
	// reads every account's feed; a regular key reads its own account's
	// only, and so tokens of other accounts are refused (their revocations
	// would never be heard of).
	AccountID string
	// PollInterval is how often the feed is read once caught up (two
	// requests each time): 250 ms by default. A failed read is retried
	// after twice as long as the last wait, up to 30 s.
	PollInterval time.Duration
	// Window is the longest token lifetime (exp - iat) accepted, and how
	// long revocations are remembered: 1 h by default. It must be at least
	// the service's LEADR_ACCESS_TOKEN_TTL, or every token is refused.
	Window time.Duration
}

const (
	defaultPoll   = 250 * time.Millisecond
	defaultWindow = time.Hour
	maxBackoff    = 30 * time.Second
	feedLimit     = 1000 // the most the feed serves per page
	logLimit      = 100  // the most the audit log serves per page
	maxPageBytes  = 32 << 20
)

var (
	// The feed is followed under two type prefixes rather than whole: a
	// verifier has no use for every identity's creation or rename, the bulk
	// of the events. session.created comes along (one per sign-in), the
	// price of two followers instead of one per revoking type.
	followed = []string{"session.*", "player.*"}
	// revoking are the types that end tokens, read back from the audit
	// log at start.
	revoking = []string{"session.revoked", "session.reuse_detected",
		"player.banned", "player.deleted", "player.merged", "player.purged"}
)

// event is what the verifier reads of an EventResponse.
type event struct {
	ID         string    `json:"id"`
	Type       string    `json:"type"`
	OccurredAt time.Time `json:"occurred_at"`
	Subject    struct {
		ID string `json:"id"`
	} `json:"subject"`
	Data json.RawMessage `json:"data"`
}

// revokedID is the session or player whose tokens e ends, or "".
func (e *event) revokedID() string {
	id, prefix := e.Subject.ID, "ply_"
	switch e.Type {
	case "session.revoked", "session.reuse_detected":
		prefix = "ses_"
	case "player.banned", "player.deleted", "player.purged":
	case "player.merged":
		var d struct {
			From string `json:"from"`
		}
		_ = json.Unmarshal(e.Data, &d)
		id = d.From
	default:
		return ""
	}
	if !isID(id, prefix) {
		return ""
	}
	return id
}

// revocations are what the feed said.
type revocations struct {
	mu sync.RWMutex
	// window is FeedConfig.Window, zero until FollowFeed; keep is how long
	// an entry can still matter (window and leeway).
	window, keep, leeway time.Duration
	// account is the one account whose feed is read, "" for every account
	// (or until the start-up read found out which).
	account string
	// ready is closed once the start-up read is done.
	ready chan struct{}
	// ids maps a revoked session to when it was revoked (all its tokens
	// are refused), and a player to the last second whose tokens are.
	ids     map[string]time.Time
	evicted time.Time
	running bool
	read    time.Time
	err     error
}

func (r *revocations) check(c *Claims) error {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.window == 0 {
		return nil
	}
	if c.ExpiresAt.Sub(c.IssuedAt) > r.window {
		return invalid("lifetime longer than the revocation window")
	}
	if r.account != "" && c.AccountID != r.account {
		return invalid("of an account whose revocations are not followed")
	}
	if _, ok := r.ids[c.SessionID]; ok {
		return ErrRevoked
	}
	// A player banned, deleted or merged at a second refuses the tokens
	// issued until then: its tokens issued after an unban or a restore pass.
	// iat is the issuing replica's clock and the event's time another's:
	// the leeway covers their skew, at the cost of a refresh for a token
	// issued within it after an unban.
	if at, ok := r.ids[c.PlayerID]; ok && !c.IssuedAt.After(at.Add(r.leeway)) {
		return ErrRevoked
	}
	return nil
}

func (r *revocations) learn(events []event, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	// An entry older than keep concerns only tokens expired by now, since
	// none lives longer than window.
	old := now.Add(-r.keep)
	for i := range events {
		id := events[i].revokedID()
		// iat is in whole seconds, so the event's time is rounded up.
		at := events[i].OccurredAt.Add(time.Second - 1).Truncate(time.Second)
		if id == "" || at.Before(old) {
			continue
		}
		if prev, ok := r.ids[id]; !ok || at.After(prev) {
			r.ids[id] = at
		}
	}
	if now.Sub(r.evicted) >= time.Minute {
		for id, at := range r.ids {
			if at.Before(old) {
				delete(r.ids, id)
			}
		}
		r.evicted = now
	}
}

func (r *revocations) status(running bool, read time.Time, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.running, r.err = running, err
	if !read.IsZero() {
		r.read = read
	}
}

// FollowFeed learns revocations from the service's change feed until ctx
// ends, in a goroutine of its own; see the package documentation for what
// it promises, and Status for how it fares. From the call on, tokens that
// live longer than cfg.Window are refused. It fails only on a bad cfg, or
// when the feed is already being followed.
func (v *Verifier) FollowFeed(ctx context.Context, cfg FeedConfig) error {
	if cfg.APIKey == "" || cfg.PollInterval < 0 || cfg.Window < 0 {
		return errors.New("verifier: FollowFeed needs an API key, and no negative durations")
	}
	cfg.PollInterval, cfg.Window = cmp.Or(cfg.PollInterval, defaultPoll), cmp.Or(cfg.Window, defaultWindow)
	r := &v.revoked
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.running {
		return errors.New("verifier: the feed is already followed")
	}
	r.running, r.window, r.keep, r.leeway = true, cfg.Window, cfg.Window+v.leeway, v.leeway
	r.account, r.ready = cfg.AccountID, make(chan struct{})
	if r.ids == nil {
		r.ids = make(map[string]time.Time)
	}
	go (&follower{v: v, cfg: cfg}).run(ctx)
	return nil
}

// Ready is closed once FollowFeed's start-up read is done: from then on
// tokens revoked before the verifier started are refused too, and so are
// tokens of accounts whose feed the API key does not read. Until then
// tokens are checked by signature and expiry only. Nil before FollowFeed.
func (v *Verifier) Ready() <-chan struct{} {
	v.revoked.mu.RLock()
	defer v.revoked.mu.RUnlock()
	return v.revoked.ready
}

// scope finds out whose feed the key reads when FollowFeed was given no
// account: naming an account not its own is 403 for a regular key, and
// then the one account it lists is its own.
func (f *follower) scope(ctx context.Context) error {
	var discard struct{}
	err := f.get(ctx, "events/feed", url.Values{"account_id": {noAccount}, "limit": {"1"}}, &discard)
	var st statusError
	switch {
	case err == nil, errors.As(err, &st) && st == http.StatusNotFound:
		f.scoped = true // a superadmin's key: every account
		return nil
	case !errors.As(err, &st) || st != http.StatusForbidden:
		return err
	}
	var accounts struct {
		Data []struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	if err := f.get(ctx, "accounts", url.Values{"limit": {"2"}}, &accounts); err != nil {
		return err
	}
	if len(accounts.Data) != 1 || !isID(accounts.Data[0].ID, "acc_") {
		return errors.New("verifier: cannot tell which account the API key reads; set FeedConfig.AccountID")
	}
	f.cfg.AccountID, f.scoped = accounts.Data[0].ID, true
	f.v.revoked.mu.Lock()
	f.v.revoked.account = f.cfg.AccountID
	f.v.revoked.mu.Unlock()
	return nil
}

// noAccount is an account ID no database holds, for scope's question.
const noAccount = "acc_00000000-0000-7000-8000-000000000000"

type follower struct {
	v   *Verifier
	cfg FeedConfig
	// after holds the position of each of the followed, nil when the
	// follower must (re)start from a new head.
	after []string
	// scoped says that the account whose feed is read is known.
	scoped bool
	// again is when the audit log is read back once more after a start.
	again time.Time
}

// readAgainAfter is when the audit log is read back a second time after a
// start. On PostgreSQL the feed serves an event only once every
// transaction older than it has ended, and orders events by transaction:
// an event of a transaction that began before the head and commits after
// the first read back is in neither (the feed goes on after the head). A
// minute later every transaction of the service has ended (its requests'
// deadline is seconds, its background work a minute at most).
const readAgainAfter = time.Minute

func (f *follower) run(ctx context.Context) {
	defer f.v.revoked.status(false, time.Time{}, nil)
	wait := f.cfg.PollInterval
	for {
		more, err := f.step(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			f.v.revoked.status(true, time.Time{}, err)
			f.v.report(err)
			wait = min(2*wait, maxBackoff)
		} else {
			f.v.revoked.status(true, f.v.now(), nil)
			wait = f.cfg.PollInterval
			if more {
				continue
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

// step reads a page of each followed type, after starting from a new head
// if need be, and says whether there is more to read at once.
func (f *follower) step(ctx context.Context) (more bool, err error) {
	if f.after == nil {
		if err := f.start(ctx); err != nil {
			return false, err
		}
	}
	if !f.again.IsZero() && !f.v.now().Before(f.again) {
		if err := f.readBack(ctx); err != nil {
			return false, err
		}
		f.again = time.Time{}
	}
	for i, typ := range followed {
		q := url.Values{"type": {typ}, "limit": {strconv.Itoa(feedLimit)}}
		if f.after[i] != "" {
			q.Set("after", f.after[i])
		}
		var page struct {
			Data      []event `json:"data"`
			NextAfter *string `json:"next_after"`
		}
		var lost statusError
		if err := f.get(ctx, "events/feed", q, &page); errors.As(err, &lost) && (lost == http.StatusGone || lost == http.StatusNotFound) {
			// The position expired (or its event was purged): what happened
			// since is read back from the audit log.
			f.after = nil
			return false, fmt.Errorf("%w: the feed position is lost, restarting from the newest event", err)
		} else if err != nil {
			return false, err
		}
		f.v.revoked.learn(page.Data, f.v.now())
		if page.NextAfter != nil {
			f.after[i] = *page.NextAfter
		}
		more = more || len(page.Data) == feedLimit
	}
	return more, nil
}

// start reads the newest event, where following begins, then the
// revocations of the last Window from the audit log, newest first: those
// recorded before the verifier started, or while its position was lost
// (and once more a minute later, see readAgainAfter).
func (f *follower) start(ctx context.Context) error {
	if !f.scoped && f.cfg.AccountID == "" {
		if err := f.scope(ctx); err != nil {
			return err
		}
	}
	var head logPage
	if err := f.get(ctx, "events", url.Values{"limit": {"1"}}, &head); err != nil {
		return err
	}
	if err := f.readBack(ctx); err != nil {
		return err
	}
	var at string
	if len(head.Data) > 0 {
		at = head.Data[0].ID
	}
	f.after, f.again = []string{at, at}, f.v.now().Add(readAgainAfter)
	f.v.revoked.mu.Lock()
	select {
	case <-f.v.revoked.ready:
	default:
		close(f.v.revoked.ready)
	}
	f.v.revoked.mu.Unlock()
	return nil
}

// logPage is a page of the audit log.
type logPage struct {
	Data       []event `json:"data"`
	Pagination struct {
		NextCursor *string `json:"next_cursor"`
	} `json:"pagination"`
}

// readBack learns the revocations of the last Window from the audit log.
func (f *follower) readBack(ctx context.Context) error {
	since := f.v.now().Add(-f.cfg.Window - f.v.leeway)
	for _, typ := range revoking {
		q := url.Values{"type": {typ}, "limit": {strconv.Itoa(logLimit)}}
		for {
			var p logPage
			if err := f.get(ctx, "events", q, &p); err != nil {
				return err
			}
			f.v.revoked.learn(p.Data, f.v.now())
			if p.Pagination.NextCursor == nil || len(p.Data) == 0 || p.Data[len(p.Data)-1].OccurredAt.Before(since) {
				break
			}
			q.Set("cursor", *p.Pagination.NextCursor)
		}
	}
	return nil
}

// get reads /v1/<path>?<q> into out.
func (f *follower) get(ctx context.Context, path string, q url.Values, out any) error {
	if f.cfg.AccountID != "" {
		q.Set("account_id", f.cfg.AccountID)
	}
	u := f.v.base.JoinPath("v1", path)
	u.RawQuery = q.Encode()
	_, body, err := f.v.get(ctx, u.String(), f.cfg.APIKey, maxPageBytes)
	if err == nil {
		err = json.Unmarshal(body, out)
	}
	if err != nil {
		return fmt.Errorf("verifier: read %s: %w", path, err)
	}
	return nil
}
