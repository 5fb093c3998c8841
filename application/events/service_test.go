package events_test

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/leadr-oss/identity/application/apptest"
	"github.com/leadr-oss/identity/application/auth"
	"github.com/leadr-oss/identity/application/cursor"
	appevents "github.com/leadr-oss/identity/application/events"
	"github.com/leadr-oss/identity/domain/event"
	"github.com/leadr-oss/identity/domain/game"
	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/domain/tenancy"
	"github.com/leadr-oss/identity/ports"
	"github.com/leadr-oss/identity/ports/paging"
)

const retention = 24 * time.Hour

// clock is a fake ports.Clock the test moves by hand. It starts at the
// present, to the millisecond, because the events' IDs, whose time is what
// retention is measured by, are made at the present.
type clock struct{ now time.Time }

func (c *clock) Now() time.Time          { return c.now }
func (c *clock) Advance(d time.Duration) { c.now = c.now.Add(d) }

type env struct {
	t       *testing.T
	ctx     context.Context
	svc     *appevents.Service
	repo    ports.EventRepository
	games   ports.GameRepository
	clock   *clock
	acme    id.AccountID // the regular user's account
	other   id.AccountID // another tenant
	regular tenancy.Principal
	super   tenancy.Principal
	slugs   int
}

func newEnv(t *testing.T) *env {
	t.Helper()
	mem := apptest.NewMemory()
	clk := &clock{now: time.Now().UTC().Truncate(time.Millisecond)}
	e := &env{
		t: t, ctx: context.Background(), repo: mem.Events(), games: mem.Games(), clock: clk,
		svc: appevents.NewService(mem.Events(), cursor.NewCodec([]byte("cursor secret")), clk.Now, retention),
	}
	e.acme, e.other = mem.NewAccount(t, "acme", clk.Now()), mem.NewAccount(t, "other", clk.Now())
	system := mem.NewAccount(t, "system", clk.Now())
	e.regular = tenancy.Principal{KeyID: id.New[id.APIKey](), UserID: id.New[id.User](), AccountID: e.acme}
	e.super = tenancy.Principal{KeyID: id.New[id.APIKey](), UserID: id.New[id.User](), AccountID: system, SuperAdmin: true}
	return e
}

// by is ctx carrying p's key as the actor, as the HTTP edge puts it.
func (e *env) by(p tenancy.Principal) context.Context {
	return event.WithActor(e.ctx, event.Actor{Kind: event.ActorAPIKey, ID: p.KeyID.String()})
}

// newGame creates a game in the account, as p: a game.created event.
func (e *env) newGame(p tenancy.Principal, account id.AccountID) id.GameID {
	e.t.Helper()
	e.clock.Advance(time.Second)
	name, err := game.ParseName("Game")
	if err != nil {
		e.t.Fatal(err)
	}
	e.slugs++
	g, err := game.New(account, name, game.DeriveSlug(name).Numbered(e.slugs+1), e.clock.Now())
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.games.Create(e.by(p), g); err != nil {
		e.t.Fatal(err)
	}
	return g.ID()
}

// deleteGame deletes it, as the system: a game.deleted event.
func (e *env) deleteGame(gameID id.GameID) {
	e.t.Helper()
	e.clock.Advance(time.Second)
	if _, err := e.games.Update(e.ctx, gameID, func(g *game.Game) error { return g.Delete(e.clock.Now()) }); err != nil {
		e.t.Fatal(err)
	}
}

// history gives both accounts events of several types, subjects and
// actors: acme's key creates two games, of which the system deletes one,
// and a superadmin creates one in each account.
func (e *env) history() (pong, galaga, theirs id.GameID) {
	e.t.Helper()
	pong, galaga = e.newGame(e.regular, e.acme), e.newGame(e.regular, e.acme)
	e.newGame(e.super, e.acme)
	theirs = e.newGame(e.super, e.other)
	e.deleteGame(galaga)
	return pong, galaga, theirs
}

// recorded is what the outbox holds under f, in the feed's order: what
// the use cases must give, scoped and paged.
func (e *env) recorded(f ports.EventFilter) []*ports.Recorded {
	e.t.Helper()
	events, err := e.repo.Feed(e.ctx, f, id.EventID{}, 1000)
	if err != nil {
		e.t.Fatal(err)
	}
	return events
}

func eventIDs(events []*ports.Recorded) []id.EventID {
	out := make([]id.EventID, len(events))
	for i, ev := range events {
		out[i] = ev.ID
	}
	return out
}

func compareIDs(a, b id.EventID) int {
	x, y := a.UUID(), b.UUID()
	return bytes.Compare(x[:], y[:])
}

// sortedIDs sorts by ID so that lists compare as sets.
func sortedIDs(events []*ports.Recorded) []id.EventID {
	return slices.SortedFunc(slices.Values(eventIDs(events)), compareIDs)
}

func ptr(s string) *string { return &s }

func fields(t *testing.T, err error) []string {
	t.Helper()
	var out []string
	for _, de := range apptest.InvalidErrors(t, err) {
		out = append(out, de.Field)
	}
	return out
}

// list follows next cursors to the end and returns every event.
func (e *env) list(t *testing.T, p tenancy.Principal, q ports.ListEvents) []*ports.Recorded {
	t.Helper()
	return apptest.WalkPages(t, func(cursor string) (paging.Page[*ports.Recorded], error) {
		q.Page.Cursor = cursor
		return e.svc.List(e.ctx, p, q)
	})
}

func TestListScope(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.history()
	unknown := id.New[id.Account]()
	tests := []struct {
		name    string
		p       tenancy.Principal
		account id.AccountID
		want    id.AccountID // zero: every account's
		wantErr error
	}{
		{name: "regular, none named: its own", p: e.regular, want: e.acme},
		{name: "regular, its own named", p: e.regular, account: e.acme, want: e.acme},
		{name: "regular, another named", p: e.regular, account: e.other, wantErr: auth.ErrAccountDenied},
		{name: "superadmin, none named: all", p: e.super},
		{name: "superadmin, another named", p: e.super, account: e.other, want: e.other},
		{name: "superadmin, an unknown account", p: e.super, account: unknown, want: unknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			q := ports.ListEvents{AccountID: tt.account, Page: paging.Params{Limit: 2}}
			if tt.wantErr != nil {
				if _, err := e.svc.List(e.ctx, tt.p, q); !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			got := e.list(t, tt.p, q)
			want := e.recorded(ports.EventFilter{AccountID: tt.want})
			if !slices.Equal(sortedIDs(got), sortedIDs(want)) {
				t.Errorf("listed %d events, want the %d of the scope", len(got), len(want))
			}
		})
	}
}

func TestListFilters(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	pong, galaga, _ := e.history()
	tests := []struct {
		name string
		q    ports.ListEvents
		want ports.EventFilter // of acme, what the outbox holds under it
	}{
		{name: "exact type", q: ports.ListEvents{Type: ptr("game.created")}, want: ports.EventFilter{Type: "game.created"}},
		{name: "type prefix", q: ports.ListEvents{Type: ptr("game.*")}, want: ports.EventFilter{Type: "game.*"}},
		{name: "subject", q: ports.ListEvents{SubjectID: ptr(galaga.String())}, want: ports.EventFilter{SubjectID: galaga.String()}},
		{name: "actor", q: ports.ListEvents{ActorID: ptr(e.regular.KeyID.String())}, want: ports.EventFilter{ActorID: e.regular.KeyID.String()}},
		{
			name: "all at once",
			q:    ports.ListEvents{Type: ptr("game.*"), SubjectID: ptr(pong.String()), ActorID: ptr(e.regular.KeyID.String())},
			want: ports.EventFilter{Type: "game.*", SubjectID: pong.String(), ActorID: e.regular.KeyID.String()},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.want.AccountID = e.acme
			want := e.recorded(tt.want)
			if len(want) == 0 {
				t.Fatalf("the history holds no event for %+v: the case tests nothing", tt.want)
			}
			if got := e.list(t, e.regular, tt.q); !slices.Equal(sortedIDs(got), sortedIDs(want)) {
				t.Errorf("listed %v, want %v", eventIDs(got), eventIDs(want))
			}
		})
	}
}

func TestListValidation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	long := strings.Repeat("x", 65)
	tests := []struct {
		name string
		p    tenancy.Principal
		q    ports.ListEvents
		want []string // the fields refused; none: accepted
	}{
		{name: "resource only", q: ports.ListEvents{Type: ptr("identity")}, want: []string{"type"}}, // no event type lacks a verb
		{name: "verb with an underscore", q: ports.ListEvents{Type: ptr("session.reuse_detected")}},
		{name: "ID filters", q: ports.ListEvents{SubjectID: ptr("ide_0192F7E4-8a4e-7c3b-9d2a-6f1e0b9c4d21"), ActorID: ptr("key_0192f7e4-8a4e-7c3b-9d2a-6f1e0b9c4d21")}},
		{name: "no ID", q: ports.ListEvents{SubjectID: ptr("ide_x"), ActorID: ptr("key_\x00")}, want: []string{"subject_id", "actor_id"}},
		{name: "empty type", q: ports.ListEvents{Type: ptr("")}, want: []string{"type"}},
		{name: "upper case type", q: ports.ListEvents{Type: ptr("Identity.created")}, want: []string{"type"}},
		{name: "three parts", q: ports.ListEvents{Type: ptr("identity.created.now")}, want: []string{"type"}},
		{name: "wildcard alone", q: ports.ListEvents{Type: ptr("*")}, want: []string{"type"}},
		{name: "wildcard without its dot", q: ports.ListEvents{Type: ptr("identity*")}, want: []string{"type"}},
		{name: "wildcard inside", q: ports.ListEvents{Type: ptr("*.created")}, want: []string{"type"}},
		{name: "a verb prefix", q: ports.ListEvents{Type: ptr("identity.cre*")}, want: []string{"type"}},
		{name: "resource too long", q: ports.ListEvents{Type: ptr(strings.Repeat("a", 33) + ".created")}, want: []string{"type"}},
		{name: "empty subject", q: ports.ListEvents{SubjectID: ptr("")}, want: []string{"subject_id"}},
		{name: "subject too long", q: ports.ListEvents{SubjectID: ptr(long)}, want: []string{"subject_id"}},
		{name: "empty actor", q: ports.ListEvents{ActorID: ptr("")}, want: []string{"actor_id"}},
		{name: "actor too long", q: ports.ListEvents{ActorID: ptr(long)}, want: []string{"actor_id"}},
		{name: "every filter at once", q: ports.ListEvents{Type: ptr("X"), SubjectID: ptr(""), ActorID: ptr(long)}, want: []string{"type", "subject_id", "actor_id"}},
		{name: "invalid before denied", q: ports.ListEvents{AccountID: id.New[id.Account](), Type: ptr("?")}, want: []string{"type"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := e.svc.List(e.ctx, e.regular, tt.q)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if got := fields(t, err); !slices.Equal(got, tt.want) {
				t.Errorf("refused %v, want %v", got, tt.want)
			}
		})
	}
}

// The audit log is newest first, ties by ID, and its cursors walk it
// whole, each event once.
func TestListPages(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.history()
	for range 5 {
		e.newGame(e.regular, e.acme)
	}
	want := e.recorded(ports.EventFilter{AccountID: e.acme})
	for _, limit := range []int{1, 2, 3, len(want), 100} {
		got := e.list(t, e.regular, ports.ListEvents{Page: paging.Params{Limit: limit}})
		if !slices.Equal(sortedIDs(got), sortedIDs(want)) {
			t.Fatalf("limit %d: walked %d events, want the %d of acme", limit, len(got), len(want))
		}
		for i := 1; i < len(got); i++ {
			a, b := got[i-1], got[i]
			if a.OccurredAt.Before(b.OccurredAt) ||
				a.OccurredAt.Equal(b.OccurredAt) && compareIDs(a.ID, b.ID) > 0 {
				t.Fatalf("limit %d: %s (%v) before %s (%v)", limit, a.ID, a.OccurredAt, b.ID, b.OccurredAt)
			}
		}
	}
}

// A cursor goes on only with the filters and scope it was made under.
func TestListCursorKeepsItsFilters(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.history()
	first, err := e.svc.List(e.ctx, e.super, ports.ListEvents{Type: ptr("game.*"), Page: paging.Params{Limit: 1}})
	if err != nil || !first.HasNext {
		t.Fatalf("first page: %+v, %v", first, err)
	}
	for _, c := range []struct {
		name string
		q    ports.ListEvents
	}{
		{"another type", ports.ListEvents{Type: ptr("account.*")}},
		{"no type", ports.ListEvents{}},
		{"an account", ports.ListEvents{AccountID: e.acme, Type: ptr("game.*")}},
		{"a subject", ports.ListEvents{Type: ptr("game.*"), SubjectID: ptr("gam_0192f7e4-8a4e-7c3b-9d2a-6f1e0b9c4d21")}},
		{"an actor", ports.ListEvents{Type: ptr("game.*"), ActorID: ptr(e.super.KeyID.String())}},
	} {
		c.q.Page = paging.Params{Limit: 1, Cursor: first.Next}
		if _, err := e.svc.List(e.ctx, e.super, c.q); !errors.Is(err, cursor.ErrCursorState) {
			t.Errorf("%s: %v, want ErrCursorState", c.name, err)
		}
	}
	if _, err := e.svc.List(e.ctx, e.super, ports.ListEvents{Type: ptr("game.*"), Page: paging.Params{Limit: 1, Cursor: first.Next}}); err != nil {
		t.Errorf("the same filters: %v", err)
	}
}

func TestFeedScope(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.history()
	tests := []struct {
		name    string
		p       tenancy.Principal
		q       ports.FeedEvents
		want    ports.EventFilter
		wantErr error
	}{
		{name: "regular: its own", p: e.regular, want: ports.EventFilter{AccountID: e.acme}},
		{name: "regular, its own named", p: e.regular, q: ports.FeedEvents{AccountID: e.acme}, want: ports.EventFilter{AccountID: e.acme}},
		{name: "regular, another named", p: e.regular, q: ports.FeedEvents{AccountID: e.other}, wantErr: auth.ErrAccountDenied},
		{name: "superadmin: all", p: e.super},
		{name: "superadmin, another named", p: e.super, q: ports.FeedEvents{AccountID: e.other}, want: ports.EventFilter{AccountID: e.other}},
		{name: "a type", p: e.regular, q: ports.FeedEvents{Type: ptr("game.*")}, want: ports.EventFilter{AccountID: e.acme, Type: "game.*"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := e.svc.Feed(e.ctx, tt.p, tt.q)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			// In the feed's own order, not only the same events.
			if want := e.recorded(tt.want); !slices.Equal(eventIDs(got.Events), eventIDs(want)) {
				t.Errorf("fed %v, want %v", eventIDs(got.Events), eventIDs(want))
			}
		})
	}
}

// A reader that starts with no after and follows next_after reads every
// event of its scope once, in order, and then waits where it stopped.
func TestFeedFollowed(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.history()
	want := e.recorded(ports.EventFilter{AccountID: e.acme})
	var got []*ports.Recorded
	var after id.EventID
	for polls := 0; ; polls++ {
		if polls > len(want)+1 {
			t.Fatal("the feed does not end")
		}
		page, err := e.svc.Feed(e.ctx, e.regular, ports.FeedEvents{After: after, Limit: 2})
		if err != nil {
			t.Fatalf("after %s: %v", after, err)
		}
		if len(page.Events) > 2 {
			t.Fatalf("a page of %d events, over its limit", len(page.Events))
		}
		if len(page.Events) == 0 {
			if page.NextAfter != after {
				t.Errorf("an empty page's next_after is %s, want the after sent, %s", page.NextAfter, after)
			}
			break
		}
		if last := page.Events[len(page.Events)-1].ID; page.NextAfter != last {
			t.Errorf("next_after %s, want the page's last event %s", page.NextAfter, last)
		}
		got, after = append(got, page.Events...), page.NextAfter
	}
	if !slices.Equal(eventIDs(got), eventIDs(want)) {
		t.Fatalf("read %v, want %v", eventIDs(got), eventIDs(want))
	}
	// What is recorded next is read next.
	gameID := e.newGame(e.regular, e.acme)
	page, err := e.svc.Feed(e.ctx, e.regular, ports.FeedEvents{After: after})
	if err != nil || len(page.Events) != 1 || page.Events[0].Subject.ID != gameID.String() {
		t.Fatalf("after a new game: %v, %v; want its game.created", page.Events, err)
	}
}

func TestFeedNothingEverSeen(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.history()
	for _, q := range []ports.FeedEvents{
		{Type: ptr("webhook.*")},
		{AccountID: id.New[id.Account]()},
	} {
		page, err := e.svc.Feed(e.ctx, e.super, q)
		if err != nil || len(page.Events) != 0 || !page.NextAfter.IsZero() {
			t.Errorf("%+v: %d events, next_after %s, %v; want none and a zero next_after", q, len(page.Events), page.NextAfter, err)
		}
	}
}

func TestFeedLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for range appevents.DefaultFeedLimit + 5 {
		e.newGame(e.regular, e.acme)
	}
	tests := []struct {
		limit, want int
		invalid     bool
	}{
		{limit: 0, want: appevents.DefaultFeedLimit},
		{limit: 1, want: 1},
		{limit: appevents.MaxFeedLimit, want: appevents.DefaultFeedLimit + 6}, // and acme's account.created
		{limit: appevents.MaxFeedLimit + 1, invalid: true},
		{limit: -1, invalid: true},
	}
	for _, tt := range tests {
		page, err := e.svc.Feed(e.ctx, e.regular, ports.FeedEvents{Limit: tt.limit})
		if tt.invalid {
			if got := fields(t, err); !slices.Equal(got, []string{"limit"}) {
				t.Errorf("limit %d: refused %v, want limit", tt.limit, got)
			}
			continue
		}
		if err != nil || len(page.Events) != tt.want {
			t.Errorf("limit %d: %d events, %v; want %d", tt.limit, len(page.Events), err, tt.want)
		}
	}
}

func TestFeedType(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, typ := range []string{"", "Game.created", "game.created.now", "*", "game*"} {
		_, err := e.svc.Feed(e.ctx, e.regular, ports.FeedEvents{Type: ptr(typ)})
		if got := fields(t, err); !slices.Equal(got, []string{"type"}) {
			t.Errorf("type %q: refused %v, want type", typ, got)
		}
	}
}

func TestFeedAfter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		p       func(*env) tenancy.Principal
		after   func(e *env, theirs id.EventID) id.EventID
		elapsed time.Duration // how long after the history the feed is read
		wantErr error
	}{
		{
			name:  "an event of its scope",
			after: func(e *env, _ id.EventID) id.EventID { return e.recorded(ports.EventFilter{AccountID: e.acme})[0].ID },
		},
		{
			name:    "an event of its scope, kept no longer",
			after:   func(e *env, _ id.EventID) id.EventID { return e.recorded(ports.EventFilter{AccountID: e.acme})[0].ID },
			elapsed: retention + time.Minute,
			wantErr: event.ErrPositionExpired,
		},
		{
			name:    "unknown",
			after:   func(*env, id.EventID) id.EventID { return id.New[id.Event]() },
			wantErr: event.ErrUnknownPosition,
		},
		{
			name:    "another account's event",
			after:   func(_ *env, theirs id.EventID) id.EventID { return theirs },
			wantErr: event.ErrUnknownPosition,
		},
		{
			name:  "another account's event, to a superadmin",
			p:     func(e *env) tenancy.Principal { return e.super },
			after: func(_ *env, theirs id.EventID) id.EventID { return theirs },
		},
		{
			name:    "unknown, at the edge of retention",
			after:   func(e *env, _ id.EventID) id.EventID { return id.FirstAt[id.Event](e.clock.Now().Add(-retention)) },
			wantErr: event.ErrUnknownPosition,
		},
		{
			name: "unknown, just past it",
			after: func(e *env, _ id.EventID) id.EventID {
				return id.FirstAt[id.Event](e.clock.Now().Add(-retention - time.Millisecond))
			},
			wantErr: event.ErrPositionExpired,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			_, _, theirs := e.history()
			theirsID := e.recorded(ports.EventFilter{SubjectID: theirs.String()})[0].ID
			e.clock.Advance(tt.elapsed)
			p := e.regular
			if tt.p != nil {
				p = tt.p(e)
			}
			after := tt.after(e, theirsID)
			page, err := e.svc.Feed(e.ctx, p, ports.FeedEvents{After: after})
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err == nil && page.NextAfter.IsZero() {
				t.Errorf("next_after is zero after %s", after)
			}
		})
	}
}
