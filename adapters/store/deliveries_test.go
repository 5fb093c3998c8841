package store_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun/dialect"

	"github.com/leadr-oss/identity/adapters/store"
	"github.com/leadr-oss/identity/domain/event"
	"github.com/leadr-oss/identity/domain/game"
	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/domain/webhook"
	"github.com/leadr-oss/identity/ports"
	"github.com/leadr-oss/identity/ports/paging"
	"github.com/leadr-oss/identity/ports/portstest"
	"github.com/leadr-oss/identity/test/pgtest"
)

// The queue's cases run on a database of their own: the fan-out's place in
// the feed is one per database, and Purge and Pending see every endpoint.

var (
	// hooksT0 is when the cases' endpoints are created; events are made
	// around it, so that "existed when the event was made" can be told.
	hooksT0 = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	// dueAt is the "now" of the fan-outs: the first attempts are due then.
	dueAt = hooksT0.Add(time.Hour)
)

// lease is how long the cases' claims hold an attempt.
const lease = 20 * time.Second

// queueEnv is one backend's queue and the repositories that make what it
// delivers.
type queueEnv struct {
	t        *testing.T
	db       *store.DB
	sqlite   bool
	queue    *store.Deliveries
	webhooks *store.Webhooks
	games    *store.Games
	events   *store.Events
	repos    portstest.Env
	names    int
}

func newQueueEnv(t *testing.T, db *store.DB) *queueEnv {
	t.Helper()
	s := store.New(db)
	q, err := store.NewDeliveries(s)
	if err != nil {
		t.Fatal(err)
	}
	w, err := store.NewWebhooks(s)
	if err != nil {
		t.Fatal(err)
	}
	e, err := store.NewEvents(s)
	if err != nil {
		t.Fatal(err)
	}
	return &queueEnv{t: t, db: db, sqlite: db.Bun().Dialect().Name() == dialect.SQLite, queue: q, webhooks: w,
		games: gamesRepo(t, s), events: e, repos: env(t, db)}
}

// onBothBackends runs fn on a fresh PostgreSQL database and on a fresh
// SQLite one, side by side.
func onBothBackends(t *testing.T, fn func(t *testing.T, e *queueEnv)) {
	for name, open := range map[string]func(t *testing.T) *store.DB{"postgres": func(t *testing.T) *store.DB { return pgtest.Fresh(t) }, "sqlite": sqliteDB} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fn(t, newQueueEnv(t, open(t)))
		})
	}
}

func (e *queueEnv) account() id.AccountID {
	e.t.Helper()
	return portstest.NewAccount(e.t, e.repos.Tenancy()).ID()
}

// endpoint creates an enabled webhook of account, made at `at`.
func (e *queueEnv) endpoint(account id.AccountID, at time.Time, types ...string) *webhook.Webhook {
	e.t.Helper()
	u, err := webhook.ParseURL("https://hooks.example.com/" + id.New[id.Webhook]().String())
	if err != nil {
		e.t.Fatal(err)
	}
	et, err := webhook.ParseEventTypes(types)
	if err != nil {
		e.t.Fatal(err)
	}
	w, err := webhook.New(account, u, et, nil, func(id.WebhookID) []byte { return []byte("sealed elsewhere") }, at)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.webhooks.Create(e.t.Context(), w); err != nil {
		e.t.Fatal(err)
	}
	return w
}

func (e *queueEnv) update(w id.WebhookID, fn func(*webhook.Webhook) error) {
	e.t.Helper()
	if _, err := e.webhooks.Update(e.t.Context(), w, fn); err != nil {
		e.t.Fatal(err)
	}
}

func (e *queueEnv) setStatus(w id.WebhookID, s webhook.Status, at time.Time) {
	e.t.Helper()
	e.update(w, func(w *webhook.Webhook) error { _, err := w.Apply(webhook.Change{Status: &s}, at); return err })
}

func (e *queueEnv) remove(w id.WebhookID, at time.Time) {
	e.t.Helper()
	e.update(w, func(w *webhook.Webhook) error { return w.Delete(at) })
}

// game creates a game of account at `at`, and returns it with its
// game.created event.
func (e *queueEnv) game(account id.AccountID, at time.Time) (*game.Game, *ports.Recorded) {
	e.t.Helper()
	slug, err := game.ParseSlug("hook-" + id.New[id.Game]().UUID().String()[24:])
	if err != nil {
		e.t.Fatal(err)
	}
	g, err := game.New(account, e.name(), slug, at)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.games.Create(e.t.Context(), g); err != nil {
		e.t.Fatal(err)
	}
	return g, e.lastEvent(g.ID().String(), "game.created")
}

// rename renames g at `at` and returns its game.updated event.
func (e *queueEnv) rename(g id.GameID, at time.Time) *ports.Recorded {
	e.t.Helper()
	if err := e.renameTo(e.t.Context(), g, e.name(), at); err != nil {
		e.t.Fatal(err)
	}
	return e.lastEvent(g.String(), "game.updated")
}

// renameTo is safe to call from any goroutine: it reports, not fails.
func (e *queueEnv) renameTo(ctx context.Context, g id.GameID, name game.Name, at time.Time) error {
	_, err := e.games.Update(ctx, g, func(g *game.Game) error {
		_, err := g.Apply(game.Change{Name: &name}, at)
		return err
	})
	return err
}

// name is a game name not given before in this case, so that a rename
// always changes the game and records an event.
func (e *queueEnv) name() game.Name {
	e.t.Helper()
	e.names++
	n, err := game.ParseName(fmt.Sprintf("Game %d", e.names))
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

// lastEvent is the newest event of type typ about subject.
func (e *queueEnv) lastEvent(subject, typ string) *ports.Recorded {
	e.t.Helper()
	got := e.eventsOf(ports.EventFilter{SubjectID: subject, Type: typ})
	if len(got) == 0 {
		e.t.Fatalf("no %s event of %s", typ, subject)
	}
	return got[len(got)-1]
}

// eventsOf are the events f selects, oldest first.
func (e *queueEnv) eventsOf(f ports.EventFilter) []*ports.Recorded {
	e.t.Helper()
	sort, err := ports.EventSchema.Spec.ParseSort("id:asc")
	if err != nil {
		e.t.Fatal(err)
	}
	return whole(e.t, ports.EventSchema, sort, func(req paging.Request) (paging.Result[*ports.Recorded], error) {
		return e.events.List(e.t.Context(), f, req)
	})
}

// whole pages through a list from its start, in pages of a few.
func whole[T any](t *testing.T, schema *paging.Schema[T], sort paging.Sort, list func(paging.Request) (paging.Result[T], error)) []T {
	t.Helper()
	var all []T
	req := paging.Request{Sort: sort, Limit: 7}
	for {
		res, err := list(req)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, res.Items...)
		if !res.More {
			return all
		}
		req.After = schema.Position(res.Items[len(res.Items)-1], sort)
	}
}

// caughtUp tells whether the fan-out has read every event committed: on
// PostgreSQL its place is (transaction, position), on SQLite a position.
func (e *queueEnv) caughtUp() bool {
	e.t.Helper()
	q := "SELECT count(*) FROM events WHERE position > (SELECT position FROM webhook_fanout)"
	if !e.sqlite {
		q = "SELECT count(*) FROM events AS e, webhook_fanout AS f WHERE (e.xid, e.position) > (f.xid, f.position)"
	}
	var behind int
	if err := e.db.Bun().NewRaw(q).Scan(e.t.Context(), &behind); err != nil {
		e.t.Fatal(err)
	}
	return behind == 0
}

// fanOutPage is small, so that the cases' fan-outs take several pages.
const fanOutPage = 2

// drain fans out until the fan-out has read every event committed. On
// PostgreSQL a transaction still open anywhere on the server (another
// test's) holds the feed back, so it waits a while for that.
func (e *queueEnv) drain(now time.Time) {
	e.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		n, err := e.queue.FanOut(e.t.Context(), fanOutPage, now)
		if err != nil {
			e.t.Fatal(err)
		}
		if n > 0 {
			continue
		}
		if e.caughtUp() {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatal("the fan-out did not read every committed event within 20 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// withAttempts makes an account with an endpoint of its game.created
// events, and n first attempts of it, due at dueAt.
func (e *queueEnv) withAttempts(n int) (id.AccountID, *webhook.Webhook) {
	e.t.Helper()
	mine := e.account()
	w := e.endpoint(mine, hooksT0, "game.created")
	for range n {
		e.game(mine, hooksT0.Add(time.Minute))
	}
	e.drain(dueAt)
	return mine, w
}

// log is endpoint w's whole delivery log, as List pages it.
func (e *queueEnv) log(w id.WebhookID) []*webhook.Delivery {
	e.t.Helper()
	return whole(e.t, ports.DeliverySchema, ports.DeliverySchema.DefaultSort(), func(req paging.Request) (paging.Result[*webhook.Delivery], error) {
		return e.queue.List(e.t.Context(), w, req)
	})
}

// wantFirstAttempts checks that w's log is one first attempt, due at due,
// of each of want, and nothing else.
func (e *queueEnv) wantFirstAttempts(name string, w id.WebhookID, due time.Time, want ...*ports.Recorded) {
	e.t.Helper()
	log := e.log(w)
	count := map[id.EventID]int{}
	for _, d := range log {
		count[d.EventID]++
	}
	for _, ev := range want {
		if count[ev.ID] != 1 {
			e.t.Errorf("%s: %s %s scheduled %d times, want once", name, ev.Type, ev.ID, count[ev.ID])
		}
	}
	if len(log) != len(want) {
		e.t.Errorf("%s: %d attempts scheduled, want %d", name, len(log), len(want))
	}
	byID := map[id.EventID]*ports.Recorded{}
	for _, ev := range want {
		byID[ev.ID] = ev
	}
	for _, d := range log {
		ev := byID[d.EventID]
		if ev == nil {
			e.t.Errorf("%s: event %s (%s) scheduled, not wanted", name, d.EventID, d.EventType)
			continue
		}
		if d.WebhookID != w || d.EventType != ev.Type || d.Attempt != 1 || d.Status != webhook.Pending || !d.DueAt.Equal(due) {
			e.t.Errorf("%s: scheduled %+v, want a first attempt of %s pending, due at %s", name, *d, ev.Type, due)
		}
	}
}

func (e *queueEnv) claim(w id.WebhookID, now time.Time, n int) []*ports.Claimed {
	e.t.Helper()
	got, err := e.queue.Claim(e.t.Context(), w, now, now.Add(lease), n)
	if err != nil {
		e.t.Fatal(err)
	}
	return got
}

func (e *queueEnv) claimOne(w id.WebhookID, now time.Time) *ports.Claimed {
	e.t.Helper()
	got := e.claim(w, now, 1)
	if len(got) != 1 {
		e.t.Fatalf("claimed %d attempts of %s at %s, want 1", len(got), w, now)
	}
	return got[0]
}

func (e *queueEnv) complete(c *ports.Claimed, o webhook.Outcome, at, next time.Time) bool {
	e.t.Helper()
	kept, err := e.queue.Complete(e.t.Context(), ports.Attempted{Claimed: c, Outcome: o, At: at, Next: next})
	if err != nil {
		e.t.Fatal(err)
	}
	return kept
}

func (e *queueEnv) webhook(w id.WebhookID) *webhook.Webhook {
	e.t.Helper()
	got, err := e.webhooks.Get(e.t.Context(), w)
	if err != nil {
		e.t.Fatal(err)
	}
	return got
}

func (e *queueEnv) due(now time.Time) []id.WebhookID {
	e.t.Helper()
	got, err := e.queue.Due(e.t.Context(), now, 100)
	if err != nil {
		e.t.Fatal(err)
	}
	return got
}

func deliveryIDs(cs []*ports.Claimed) []id.DeliveryID {
	out := make([]id.DeliveryID, len(cs))
	for i, c := range cs {
		out[i] = c.Delivery.ID
	}
	return out
}

func sortedIDs(ids []id.DeliveryID) []id.DeliveryID {
	out := slices.Clone(ids)
	slices.SortFunc(out, func(a, b id.DeliveryID) int { return compareUUID(a.UUID(), b.UUID()) })
	return out
}

func compareUUID(a, b id.UUID) int { return slices.Compare(a[:], b[:]) }

// TestFanOutSchedulesWhatEachEndpointWants: one first attempt of each
// event for each live, enabled endpoint of its account whose types match
// and that existed when the event was made; and each event once, however
// often the fan-out runs.
func TestFanOutSchedulesWhatEachEndpointWants(t *testing.T) {
	onBothBackends(t, func(t *testing.T, e *queueEnv) {
		mine, other := e.account(), e.account()
		e.game(mine, hooksT0.Add(-time.Minute)) // before the endpoints: none wants it
		all := e.endpoint(mine, hooksT0, "game.*")
		created := e.endpoint(mine, hooksT0, "game.created")
		unmatched := e.endpoint(mine, hooksT0, "identity.*", "game.deleted")
		disabled := e.endpoint(mine, hooksT0, "game.*")
		deleted := e.endpoint(mine, hooksT0, "game.*")
		theirs := e.endpoint(other, hooksT0, "game.*")
		g, made := e.game(mine, hooksT0.Add(time.Minute))
		renamed := e.rename(g.ID(), hooksT0.Add(2*time.Minute))
		_, theirMade := e.game(other, hooksT0.Add(time.Minute))
		e.setStatus(disabled.ID(), webhook.Disabled, hooksT0.Add(3*time.Minute))
		e.remove(deleted.ID(), hooksT0.Add(3*time.Minute))

		e.drain(dueAt)
		e.wantFirstAttempts("every game event", all.ID(), dueAt, made, renamed)
		e.wantFirstAttempts("game.created only", created.ID(), dueAt, made)
		e.wantFirstAttempts("no type of the events", unmatched.ID(), dueAt)
		e.wantFirstAttempts("disabled", disabled.ID(), dueAt)
		e.wantFirstAttempts("deleted", deleted.ID(), dueAt)
		e.wantFirstAttempts("another account's", theirs.ID(), dueAt, theirMade)

		for range 3 {
			if n, err := e.queue.FanOut(t.Context(), fanOutPage, dueAt.Add(time.Minute)); err != nil || n != 0 {
				t.Fatalf("a fan-out with nothing new read %d events (%v), want none", n, err)
			}
		}
		again := e.rename(g.ID(), hooksT0.Add(4*time.Minute))
		later := dueAt.Add(time.Hour)
		e.drain(later)
		if log := e.log(all.ID()); len(log) != 3 || log[0].EventID != again.ID || !log[0].DueAt.Equal(later) {
			t.Fatalf("after a new event, the log has %d attempts; want 3, the newest of %s due at %s", len(log), again.ID, later)
		}
		e.wantFirstAttempts("game.created only, after a rename", created.ID(), dueAt, made)
	})
}

// TestFanOutsAtOnceScheduleEachEventOnce: writers commit renames in an
// order of their own while two fan-outs run at once, round after round, as
// two replicas do; each event is scheduled exactly once.
func TestFanOutsAtOnceScheduleEachEventOnce(t *testing.T) {
	onBothBackends(t, func(t *testing.T, e *queueEnv) {
		mine := e.account()
		w := e.endpoint(mine, hooksT0, "game.updated")
		const writers, renames = 4, 15
		games := make([]*game.Game, writers)
		for n := range games {
			games[n], _ = e.game(mine, hooksT0)
		}
		defer store.New(e.db).Outbox().Subscribe(ports.Subscriber{Name: "commits in random order", Types: []string{"game.updated"},
			Handle: func(context.Context, event.Event) error {
				time.Sleep(time.Duration(rand.IntN(2000)) * time.Microsecond)
				return nil
			}})()

		stop := make(chan struct{})
		var fanners sync.WaitGroup
		rounds := make([]int, 2)
		for f := range rounds {
			fanners.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					if _, err := e.queue.FanOut(t.Context(), 3, dueAt); err != nil {
						t.Error(err)
						return
					}
					rounds[f]++
				}
			})
		}
		names := make([][]game.Name, writers)
		for n := range names {
			for range renames {
				names[n] = append(names[n], e.name())
			}
		}
		var writing sync.WaitGroup
		for n := range writers {
			writing.Go(func() {
				for r, name := range names[n] {
					if err := e.renameTo(t.Context(), games[n].ID(), name, hooksT0.Add(time.Duration(r+1)*time.Minute)); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		writing.Wait()
		close(stop)
		fanners.Wait()
		e.drain(dueAt)

		updated := e.eventsOf(ports.EventFilter{AccountID: mine, Type: "game.updated"})
		e.wantFirstAttempts("every rename", w.ID(), dueAt, updated...)
		if rounds[0] == 0 || rounds[1] == 0 {
			t.Errorf("the fan-outs ran %v times while the writers wrote: they did not run at once", rounds)
		}
	})
}

// TestFanOutAfterAnOutOfOrderCommit: on PostgreSQL a transaction that
// recorded its event before others and commits after them still has it
// fanned out, however often the fan-out ran in between.
func TestFanOutAfterAnOutOfOrderCommit(t *testing.T) {
	t.Parallel()
	e := newQueueEnv(t, pgtest.Fresh(t))
	mine := e.account()
	w := e.endpoint(mine, hooksT0, "game.updated")
	slow, _ := e.game(mine, hooksT0)
	fast, _ := e.game(mine, hooksT0)

	inside, release := make(chan struct{}), make(chan struct{})
	releaseOnce := sync.OnceFunc(func() { close(release) })
	defer releaseOnce() // a case that fails while the slow transaction is open lets it end
	defer store.New(e.db).Outbox().Subscribe(ports.Subscriber{Name: "holds the slow rename's transaction open", Types: []string{"game.updated"},
		Handle: func(_ context.Context, ev event.Event) error {
			if ev.Subject.ID == slow.ID().String() {
				close(inside)
				<-release
			}
			return nil
		}})()
	slowName, fastName := e.name(), e.name()
	done := make(chan error, 1)
	go func() { done <- e.renameTo(t.Context(), slow.ID(), slowName, hooksT0.Add(time.Minute)) }()
	<-inside // the slow event is inserted, its transaction open
	if err := e.renameTo(t.Context(), fast.ID(), fastName, hooksT0.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	fastEvent := e.lastEvent(fast.ID().String(), "game.updated")
	for range 5 {
		if _, err := e.queue.FanOut(t.Context(), 100, dueAt); err != nil {
			t.Fatal(err)
		}
	}
	releaseOnce()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	slowEvent := e.lastEvent(slow.ID().String(), "game.updated")
	e.drain(dueAt)
	e.wantFirstAttempts("both renames", w.ID(), dueAt, slowEvent, fastEvent)
}

// TestClaimLeasesEachAttemptToOneClaimer: claimers at once never get the
// same attempt while its lease holds; once it has run out, an attempt not
// completed is claimable again; attempts not yet due, and those of
// disabled or deleted endpoints, are neither due nor claimable.
func TestClaimLeasesEachAttemptToOneClaimer(t *testing.T) {
	onBothBackends(t, func(t *testing.T, e *queueEnv) {
		mine := e.account()
		w := e.endpoint(mine, hooksT0, "game.created")
		off := e.endpoint(mine, hooksT0, "game.created")
		gone := e.endpoint(mine, hooksT0, "game.created")
		const attempts = 20
		for range attempts {
			e.game(mine, hooksT0.Add(time.Minute))
		}
		e.drain(dueAt)
		e.setStatus(off.ID(), webhook.Disabled, hooksT0.Add(2*time.Minute))
		e.remove(gone.ID(), hooksT0.Add(2*time.Minute))

		early := dueAt.Add(-time.Second)
		if got := e.claim(w.ID(), early, attempts); len(got) != 0 {
			t.Errorf("claimed %d attempts a second before they are due", len(got))
		}
		if got := e.due(early); len(got) != 0 {
			t.Errorf("due a second early: %v", got)
		}
		if got := e.due(dueAt); !slices.Equal(got, []id.WebhookID{w.ID()}) {
			t.Errorf("due: %v, want only the enabled endpoint %s (disabled %s, deleted %s)", got, w.ID(), off.ID(), gone.ID())
		}
		for _, x := range []id.WebhookID{off.ID(), gone.ID()} {
			if got := e.claim(x, dueAt.Add(time.Hour), attempts); len(got) != 0 {
				t.Errorf("claimed %d attempts of %s, which is disabled or deleted", len(got), x)
			}
		}

		leaseUntil := dueAt.Add(lease)
		var mu sync.Mutex
		var claimed []*ports.Claimed
		var claimers sync.WaitGroup
		for range 4 {
			claimers.Go(func() {
				// Bounded, so that a queue that gives attempts again and
				// again fails the case rather than hanging it.
				for range attempts {
					got, err := e.queue.Claim(t.Context(), w.ID(), dueAt, leaseUntil, 3)
					if err != nil {
						t.Error(err)
						return
					}
					if len(got) == 0 {
						return
					}
					mu.Lock()
					claimed = append(claimed, got...)
					mu.Unlock()
				}
			})
		}
		claimers.Wait()
		count := map[id.DeliveryID]int{}
		for _, c := range claimed {
			if count[c.Delivery.ID]++; count[c.Delivery.ID] == 2 {
				t.Errorf("attempt %s claimed twice while its lease held", c.Delivery.ID)
			}
			if c.Webhook == nil || c.Webhook.ID() != w.ID() || c.Event == nil || c.Event.ID != c.Delivery.EventID ||
				c.Delivery.Status != webhook.Pending || c.Delivery.Attempt != 1 || c.LeaseToken == "" {
				t.Errorf("claimed %+v with webhook %v and event %v: want the pending first attempt with its endpoint and event", c.Delivery, c.Webhook, c.Event)
			}
		}
		if len(count) != attempts {
			t.Fatalf("claimed %d attempts, want all %d", len(count), attempts)
		}

		held := leaseUntil.Add(-time.Second)
		if got := e.claim(w.ID(), held, attempts); len(got) != 0 {
			t.Errorf("claimed %d attempts while their leases held", len(got))
		}
		if got := e.due(held); len(got) != 0 {
			t.Errorf("due while every attempt is leased: %v", got)
		}

		const done = 5
		for _, c := range claimed[:done] {
			if !e.complete(c, webhook.Outcome{ResponseStatus: 200}, dueAt.Add(time.Second), time.Time{}) {
				t.Fatalf("complete %s under its lease: lost", c.Delivery.ID)
			}
		}
		after := leaseUntil.Add(time.Second)
		again := e.claim(w.ID(), after, attempts)
		if got, want := sortedIDs(deliveryIDs(again)), sortedIDs(deliveryIDs(claimed[done:])); !slices.Equal(got, want) {
			t.Errorf("after the leases ran out, claimed %d attempts, want the %d not completed", len(got), len(want))
		}
	})
}

// TestCompleteWritesTheOutcomeUnderItsLease: the outcome of an attempt
// and its next attempt are written by the claimer that holds its lease;
// one whose lease was taken over writes nothing.
func TestCompleteWritesTheOutcomeUnderItsLease(t *testing.T) {
	onBothBackends(t, func(t *testing.T, e *queueEnv) {
		_, w := e.withAttempts(3)
		cs := e.claim(w.ID(), dueAt, 3)
		if len(cs) != 3 {
			t.Fatalf("claimed %d attempts, want 3", len(cs))
		}
		at := dueAt.Add(time.Second)
		outcomes := []webhook.Outcome{
			{ResponseStatus: 503, Duration: 1234 * time.Millisecond},
			{Error: "connection refused", Duration: 15 * time.Second},
			{ResponseStatus: 204, Duration: 40 * time.Millisecond},
		}
		nexts := []time.Time{at.Add(5 * time.Second), at.Add(6 * time.Second), {}}
		for i, c := range cs {
			if !e.complete(c, outcomes[i], at, nexts[i]) {
				t.Fatalf("complete %s under its lease: lost", c.Delivery.ID)
			}
		}

		log := e.log(w.ID())
		if len(log) != 5 {
			t.Fatalf("the log has %d attempts, want 3 and 2 retries", len(log))
		}
		for i := 1; i < len(log); i++ {
			if compareUUID(log[i-1].ID.UUID(), log[i].ID.UUID()) <= 0 {
				t.Errorf("the log is not newest first: %s before %s", log[i-1].ID, log[i].ID)
			}
		}
		byID := map[id.DeliveryID]*webhook.Delivery{}
		for _, d := range log {
			byID[d.ID] = d
		}
		wantStatus := []webhook.DeliveryStatus{webhook.Failed, webhook.Failed, webhook.Succeeded}
		for i, c := range cs {
			d := byID[c.Delivery.ID]
			if d == nil || d.Status != wantStatus[i] || d.Outcome != outcomes[i] || d.Attempt != 1 {
				t.Errorf("attempt completed with %+v: logged as %+v, want status %s", outcomes[i], d, wantStatus[i])
			}
		}
		// Retries were scheduled in the order of the completions.
		for n, i := range []int{1, 0} {
			r, c := log[n], cs[i].Delivery
			if r.Attempt != 2 || r.Status != webhook.Pending || r.EventID != c.EventID || r.EventType != c.EventType ||
				!r.DueAt.Equal(nexts[i]) || !r.CreatedAt.Equal(at) || r.Outcome != (webhook.Outcome{}) {
				t.Errorf("log[%d] is %+v, want the second attempt of %s, pending, due at %s", n, *r, c.EventID, nexts[i])
			}
		}

		// A claimer whose lease ran out, and whose attempt another claimed,
		// writes nothing.
		retryAt := nexts[0]
		stale := e.claimOne(w.ID(), retryAt)
		taken := e.claimOne(w.ID(), retryAt.Add(lease+time.Second))
		if taken.Delivery.ID != stale.Delivery.ID {
			t.Fatalf("claimed %s after the lease ran out, want %s again", taken.Delivery.ID, stale.Delivery.ID)
		}
		before := e.log(w.ID())
		if e.complete(stale, webhook.Outcome{ResponseStatus: 500}, retryAt.Add(time.Second), retryAt.Add(time.Hour)) {
			t.Error("a completion under a lease taken over was kept")
		}
		if after := e.log(w.ID()); !sameLog(before, after) {
			t.Errorf("a completion under a lease taken over wrote: the log went from %d to %d attempts, or changed", len(before), len(after))
		}
		if !e.complete(taken, webhook.Outcome{ResponseStatus: 200}, retryAt.Add(lease+2*time.Second), time.Time{}) {
			t.Fatal("the completion of the claimer that holds the lease was lost")
		}
		if e.complete(taken, webhook.Outcome{ResponseStatus: 500}, retryAt.Add(lease+3*time.Second), retryAt.Add(time.Hour)) {
			t.Error("an attempt was completed twice")
		}
		if got := e.log(w.ID()); len(got) != 5 || got[1].Status != webhook.Succeeded {
			t.Errorf("after the retry succeeded, the log has %d attempts, the retry %s; want 5 and succeeded", len(got), got[1].Status)
		}
	})
}

func sameLog(a, b []*webhook.Delivery) bool {
	return slices.EqualFunc(a, b, func(x, y *webhook.Delivery) bool { return *x == *y })
}

// disabledEvents are the webhook.disabled events of w.
func (e *queueEnv) disabledEvents(w id.WebhookID) []*ports.Recorded {
	e.t.Helper()
	return e.eventsOf(ports.EventFilter{SubjectID: w.String(), Type: "webhook.disabled"})
}

// TestCompleteOf410DisablesTheEndpoint: an endpoint that answers 410 Gone
// is disabled at once, by the system, with one event, and its other
// attempts are no longer due.
func TestCompleteOf410DisablesTheEndpoint(t *testing.T) {
	onBothBackends(t, func(t *testing.T, e *queueEnv) {
		mine, w := e.withAttempts(2)
		at := dueAt.Add(time.Second)
		c := e.claimOne(w.ID(), dueAt)
		if !e.complete(c, webhook.Outcome{ResponseStatus: 410, Duration: time.Millisecond}, at, time.Time{}) {
			t.Fatal("the completion under the lease was lost")
		}
		got := e.webhook(w.ID())
		if got.Status() != webhook.Disabled || got.DisabledReason() != webhook.ReasonGone {
			t.Errorf("after a 410 the endpoint is %s (%q), want disabled (%q)", got.Status(), got.DisabledReason(), webhook.ReasonGone)
		}
		disabled := e.disabledEvents(w.ID())
		if len(disabled) != 1 {
			t.Fatalf("%d webhook.disabled events, want 1", len(disabled))
		}
		if ev := disabled[0]; ev.Actor != event.System || !ev.OccurredAt.Equal(at) || ev.AccountID != mine {
			t.Errorf("webhook.disabled by %+v at %s in %s, want by the system at %s in %s", ev.Actor, ev.OccurredAt, ev.AccountID, at, mine)
		}
		if due := e.due(at.Add(time.Hour)); len(due) != 0 {
			t.Errorf("due after the endpoint was disabled: %v", due)
		}
		if left := e.claim(w.ID(), at.Add(time.Hour), 10); len(left) != 0 {
			t.Errorf("claimed %d attempts of the disabled endpoint", len(left))
		}
		if log := e.log(w.ID()); len(log) != 2 {
			t.Errorf("the log has %d attempts, want the two first ones: no retry after 410", len(log))
		}
	})
}

// TestCompleteDisablesAnEndpointFailingPastTheLimit: a failure notes when
// the endpoint began failing and records nothing; a success starts it
// over; failures for webhook.FailingLimit disable it, with one event.
func TestCompleteDisablesAnEndpointFailingPastTheLimit(t *testing.T) {
	onBothBackends(t, func(t *testing.T, e *queueEnv) {
		_, w := e.withAttempts(6)
		changes := len(e.eventsOf(ports.EventFilter{SubjectID: w.ID().String()}))
		attempt := func(at time.Time, o webhook.Outcome) *webhook.Webhook {
			t.Helper()
			if !e.complete(e.claimOne(w.ID(), at), o, at, time.Time{}) {
				t.Fatalf("the completion at %s under its lease was lost", at)
			}
			return e.webhook(w.ID())
		}
		failed := webhook.Outcome{ResponseStatus: 500}
		wantFailing := func(got *webhook.Webhook, since time.Time) {
			t.Helper()
			if got.Status() != webhook.Enabled || !got.FailingSince().Equal(since) {
				t.Errorf("the endpoint is %s, failing since %s; want enabled, failing since %s", got.Status(), got.FailingSince(), since)
			}
		}

		f0 := dueAt.Add(time.Second)
		wantFailing(attempt(f0, failed), f0)
		if got := attempt(f0.Add(24*time.Hour), webhook.Outcome{ResponseStatus: 200}); !got.FailingSince().IsZero() {
			t.Errorf("after a success the endpoint is failing since %s, want not failing", got.FailingSince())
		}
		f1 := f0.Add(48 * time.Hour)
		wantFailing(attempt(f1, failed), f1)
		wantFailing(attempt(f1.Add(webhook.FailingLimit-time.Second), failed), f1)
		if got := len(e.eventsOf(ports.EventFilter{SubjectID: w.ID().String()})); got != changes {
			t.Errorf("the failures and the success recorded %d events of the endpoint, want none", got-changes)
		}

		end := f1.Add(webhook.FailingLimit)
		got := attempt(end, webhook.Outcome{Error: "timed out", Duration: webhook.AttemptTimeout})
		if got.Status() != webhook.Disabled || got.DisabledReason() != webhook.ReasonFailing {
			t.Errorf("after failing for %s the endpoint is %s (%q), want disabled (%q)", webhook.FailingLimit, got.Status(), got.DisabledReason(), webhook.ReasonFailing)
		}
		disabled := e.disabledEvents(w.ID())
		if len(disabled) != 1 || disabled[0].Actor != event.System || !disabled[0].OccurredAt.Equal(end) {
			t.Fatalf("webhook.disabled events: %d, want one by the system at %s", len(disabled), end)
		}
	})
}

// TestReplayOfOneEvent: any event of the endpoint's account, whatever its
// type and age, is scheduled again; another account's, or one not kept, is
// event.ErrUnknownPosition and schedules nothing.
func TestReplayOfOneEvent(t *testing.T) {
	onBothBackends(t, func(t *testing.T, e *queueEnv) {
		mine, other := e.account(), e.account()
		w := e.endpoint(mine, hooksT0, "game.updated")
		opened := e.lastEvent(mine.String(), "account.created") // before w, and of no type of w's
		_, theirs := e.game(other, hooksT0.Add(time.Minute))
		now := dueAt.Add(time.Minute)
		if err := e.queue.Replay(t.Context(), w, ports.Replay{EventID: opened.ID}, now); err != nil {
			t.Fatal(err)
		}
		e.wantFirstAttempts("a replay of one event", w.ID(), now, opened)
		for name, ev := range map[string]id.EventID{"another account's event": theirs.ID, "an event not kept": id.New[id.Event]()} {
			err := e.queue.Replay(t.Context(), w, ports.Replay{EventID: ev}, now)
			if !errors.Is(err, event.ErrUnknownPosition) {
				t.Errorf("a replay of %s: %v, want %v", name, err, event.ErrUnknownPosition)
			}
		}
		e.wantFirstAttempts("after replays of unknown events", w.ID(), now, opened)
	})
}

// replays is how many replays of w are in progress.
func (e *queueEnv) replays(w id.WebhookID) int {
	e.t.Helper()
	var n int
	if err := e.db.Bun().NewRaw("SELECT count(*) FROM webhook_replays WHERE webhook_id = ?", w.UUID().String()).Scan(e.t.Context(), &n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

func (e *queueEnv) replayStep(limit, backlog int, now time.Time) int {
	e.t.Helper()
	n, err := e.queue.ReplayStep(e.t.Context(), limit, backlog, now)
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

// TestReplaySinceATimeInSteps: a replay since a time schedules the
// account's events of the endpoint's types from then (inclusive) to the
// request, a page at a time, over ties of time; it waits while the
// endpoint's backlog is full, and is gone when done.
func TestReplaySinceATimeInSteps(t *testing.T) {
	onBothBackends(t, func(t *testing.T, e *queueEnv) {
		mine, other := e.account(), e.account()
		w := e.endpoint(mine, hooksT0, "game.updated")
		g, _ := e.game(mine, hooksT0)
		since, until := hooksT0.Add(3*time.Minute), hooksT0.Add(10*time.Minute)
		e.rename(g.ID(), since.Add(-time.Second))
		var want []*ports.Recorded
		for _, at := range []time.Time{since, since, since, since.Add(time.Minute), since.Add(time.Minute), until} {
			want = append(want, e.rename(g.ID(), at))
		}
		e.game(mine, since.Add(time.Minute)) // in the range, of another type
		theirs, _ := e.game(other, hooksT0)
		e.rename(theirs.ID(), since.Add(time.Minute))
		e.rename(g.ID(), until.Add(time.Second))

		now := dueAt.Add(time.Minute)
		if err := e.queue.Replay(t.Context(), w, ports.Replay{Since: since, Until: until}, now); err != nil {
			t.Fatal(err)
		}
		// The range holds 7 events, 6 of them wanted: pages of 2 schedule
		// 2, 2, then wait at a backlog of 3.
		const limit, backlog = 2, 3
		for step, want := range []int{2, 2, 0, 0} {
			if got := e.replayStep(limit, backlog, now); got != want {
				t.Fatalf("step %d scheduled %d attempts, want %d", step, got, want)
			}
		}
		if e.replays(w.ID()) != 1 {
			t.Fatal("the replay is gone before it is done")
		}
		for range 3 {
			if !e.complete(e.claimOne(w.ID(), now), webhook.Outcome{ResponseStatus: 200}, now, time.Time{}) {
				t.Fatal("a completion under its lease was lost")
			}
		}
		for step, want := range []int{1, 1, 0} {
			if got := e.replayStep(limit, backlog, now); got != want {
				t.Fatalf("step %d after the backlog emptied scheduled %d attempts, want %d", step, got, want)
			}
		}
		if e.replays(w.ID()) != 0 {
			t.Error("the replay is still there when done")
		}
		scheduled := map[id.EventID]int{}
		for _, d := range e.log(w.ID()) {
			scheduled[d.EventID]++
		}
		for _, ev := range want {
			if scheduled[ev.ID] != 1 {
				t.Errorf("%s at %s scheduled %d times, want once", ev.ID, ev.OccurredAt, scheduled[ev.ID])
			}
		}
		if len(scheduled) != len(want) {
			t.Errorf("scheduled %d events, want %d", len(scheduled), len(want))
		}

		// A replay of an endpoint deleted meanwhile ends, scheduling nothing.
		if err := e.queue.Replay(t.Context(), w, ports.Replay{Since: since, Until: until}, now); err != nil {
			t.Fatal(err)
		}
		e.remove(w.ID(), now)
		if got := e.replayStep(limit, backlog, now); got != 0 || e.replays(w.ID()) != 0 {
			t.Errorf("the replay of a deleted endpoint scheduled %d attempts, and %d replays are left; want none", got, e.replays(w.ID()))
		}
	})
}

// TestPendingIsTheOldestEventPerEndpoint: for each endpoint with attempts
// pending, when the oldest of their events was made.
func TestPendingIsTheOldestEventPerEndpoint(t *testing.T) {
	onBothBackends(t, func(t *testing.T, e *queueEnv) {
		mine := e.account()
		hooks := []*webhook.Webhook{e.endpoint(mine, hooksT0, "game.created"), e.endpoint(mine, hooksT0, "game.created"), e.endpoint(mine, hooksT0, "game.created")}
		_, first := e.game(mine, hooksT0.Add(time.Minute))
		time.Sleep(3 * time.Millisecond) // event IDs tell the millisecond
		_, second := e.game(mine, hooksT0.Add(time.Minute))
		e.drain(dueAt)
		pending := func() map[id.WebhookID]time.Time {
			t.Helper()
			got, err := e.queue.Pending(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			return got
		}
		got := pending()
		for _, w := range hooks {
			if !got[w.ID()].Equal(first.ID.Time()) {
				t.Errorf("pending of %s since %s, want since the first event, %s", w.ID(), got[w.ID()], first.ID.Time())
			}
		}
		deliver := func(w id.WebhookID, events ...id.EventID) {
			t.Helper()
			for _, c := range e.claim(w, dueAt, 10) {
				if slices.Contains(events, c.Delivery.EventID) && !e.complete(c, webhook.Outcome{ResponseStatus: 200}, dueAt, time.Time{}) {
					t.Fatal("a completion under its lease was lost")
				}
			}
		}
		deliver(hooks[1].ID(), first.ID)
		deliver(hooks[2].ID(), first.ID, second.ID)
		got = pending()
		want := map[id.WebhookID]time.Time{hooks[0].ID(): first.ID.Time(), hooks[1].ID(): second.ID.Time()}
		if len(got) != len(want) || !got[hooks[0].ID()].Equal(want[hooks[0].ID()]) || !got[hooks[1].ID()].Equal(want[hooks[1].ID()]) {
			t.Errorf("pending: %v, want %v", got, want)
		}
	})
}

// TestPurgeDeletesAttemptsBeforeTheCutoff: attempts scheduled before the
// cutoff go, those after stay.
func TestPurgeDeletesAttemptsBeforeTheCutoff(t *testing.T) {
	onBothBackends(t, func(t *testing.T, e *queueEnv) {
		mine, w := e.withAttempts(2)
		for _, c := range e.claim(w.ID(), dueAt, 10) {
			if !e.complete(c, webhook.Outcome{ResponseStatus: 200}, dueAt, time.Time{}) {
				t.Fatal("a completion under its lease was lost")
			}
		}
		time.Sleep(3 * time.Millisecond) // delivery IDs tell the millisecond
		cutoff := time.Now()
		time.Sleep(3 * time.Millisecond)
		_, kept := e.game(mine, hooksT0.Add(time.Minute))
		e.drain(dueAt)

		n, err := e.queue.Purge(t.Context(), cutoff)
		if err != nil || n != 2 {
			t.Fatalf("purge: %d attempts, %v; want the 2 before the cutoff", n, err)
		}
		e.wantFirstAttempts("after the purge", w.ID(), dueAt, kept)
		if n, err := e.queue.Purge(t.Context(), cutoff); err != nil || n != 0 {
			t.Errorf("a second purge: %d attempts, %v; want none", n, err)
		}
	})
}

// TestCompleteOfASuccessForgetsFailuresNotedSinceItsClaim: two attempts
// claimed together, the first failing and the second succeeding, leave the
// endpoint not failing: the success is judged on the row, not on the
// endpoint as it was when claimed.
func TestCompleteOfASuccessForgetsFailuresNotedSinceItsClaim(t *testing.T) {
	onBothBackends(t, func(t *testing.T, e *queueEnv) {
		_, w := e.withAttempts(2)
		at := dueAt.Add(time.Second)
		both := e.claim(w.ID(), at, 2)
		if len(both) != 2 {
			t.Fatalf("claimed %d attempts, want 2", len(both))
		}
		if !e.complete(both[0], webhook.Outcome{ResponseStatus: 500}, at, time.Time{}) {
			t.Fatal("the failure's completion was lost")
		}
		if e.webhook(w.ID()).FailingSince().IsZero() {
			t.Fatal("the failure noted nothing")
		}
		if !e.complete(both[1], webhook.Outcome{ResponseStatus: 200}, at, time.Time{}) {
			t.Fatal("the success's completion was lost")
		}
		if since := e.webhook(w.ID()).FailingSince(); !since.IsZero() {
			t.Fatalf("after a success the endpoint is failing since %s", since)
		}
	})
}
