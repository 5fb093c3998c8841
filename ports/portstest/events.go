package portstest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/leadr-oss/identity/domain/event"
	"github.com/leadr-oss/identity/domain/game"
	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/domain/identity"
	"github.com/leadr-oss/identity/domain/session"
	"github.com/leadr-oss/identity/domain/tenancy"
	"github.com/leadr-oss/identity/ports"
	"github.com/leadr-oss/identity/ports/paging"
)

func (e Env) Events() ports.EventRepository { return repository[ports.EventRepository](e) }
func (e Env) Outbox() ports.Outbox          { return repository[ports.Outbox](e) }

func init() {
	register("Events", func(t *testing.T, s Stores) { runEvents(t, s.Shared) })
	// Purge deletes across accounts: a store of its own.
	register("EventPurge", func(t *testing.T, s Stores) { runEventPurge(t, s.Fresh(t)) })
}

// seen is an event as the cases compare them.
type seen struct {
	Type    event.Type
	Subject string
}

func (s seen) String() string { return string(s.Type) + " " + s.Subject }

// recorded is every event of the account, in the order they were recorded
// (their IDs are UUIDv7), read from the audit log: the feed holds back
// events behind transactions still running, which other tests' are.
func recorded(t *testing.T, env Env, account id.AccountID) []*ports.Recorded {
	t.Helper()
	sort, err := ports.EventSchema.Spec.ParseSort("id:asc")
	must(t, err)
	var all []*ports.Recorded
	req := paging.Request{Sort: sort, Limit: 7}
	for {
		res, err := env.Events().List(ctx(t), ports.EventFilter{AccountID: account}, req)
		must(t, err)
		all = append(all, res.Items...)
		if !res.More {
			return all
		}
		req.After = ports.EventSchema.Position(res.Items[len(res.Items)-1], sort)
	}
}

// feed reads the account's feed from the start until it holds n events,
// for up to ten seconds: the feed serves an event once every transaction
// that began before it ended.
func feed(t *testing.T, env Env, account id.AccountID, n int) []*ports.Recorded {
	t.Helper()
	var all []*ports.Recorded
	var after id.EventID
	deadline := time.Now().Add(10 * time.Second)
	for len(all) < n && time.Now().Before(deadline) {
		page, err := env.Events().Feed(ctx(t), ports.EventFilter{AccountID: account}, after, 4)
		must(t, err)
		if len(page) == 0 {
			time.Sleep(10 * time.Millisecond)
			continue
		}
		all = append(all, page...)
		after = page[len(page)-1].ID
	}
	return all
}

// since are the events of the account after the first n, as compared.
func since(t *testing.T, env Env, account id.AccountID, n int) []seen {
	t.Helper()
	all := recorded(t, env, account)
	if len(all) < n {
		t.Fatalf("%d events, fewer than the %d seen before", len(all), n)
	}
	out := []seen{}
	for _, e := range all[n:] {
		out = append(out, seen{e.Type, e.Subject.ID})
	}
	return out
}

// recorder tells what each step records in one account.
type recorder struct {
	t       *testing.T
	env     Env
	account id.AccountID
	n       int
}

// step runs do and checks that it recorded exactly want.
func (r *recorder) step(name string, do func(), want ...seen) {
	r.t.Helper()
	do()
	got := since(r.t, r.env, r.account, r.n)
	if want == nil {
		want = []seen{}
	}
	// The order within one change is the store's: a bulk revocation's
	// sessions come in any.
	byString := func(a, b seen) int { return strings.Compare(a.String(), b.String()) }
	slices.SortFunc(got, byString)
	slices.SortFunc(want, byString)
	if !slices.Equal(got, want) {
		r.t.Fatalf("%s recorded %v, want %v", name, got, want)
	}
	r.n += len(got)
}

func runEvents(t *testing.T, shared func(t *testing.T) Env) {
	t.Run("every change records one event per aggregate, in its transaction", func(t *testing.T) {
		t.Parallel()
		env := shared(t)
		keyActor := event.Actor{Kind: event.ActorAPIKey, ID: "key_" + id.New[id.Account]().UUID().String()}
		c := event.WithActor(ctx(t), keyActor)

		a, _ := tenancy.NewAccount("Events", "evt-"+id.New[id.Account]().UUID().String()[24:], t0)
		r := &recorder{t: t, env: env, account: a.ID()}
		r.step("create account", func() { must(t, env.Tenancy().CreateAccount(c, a)) },
			seen{"account.created", a.ID().String()})
		u, _ := tenancy.NewUser(a.ID(), "u-"+a.Slug()+"@example.com", "User", false, t0)
		r.step("create user", func() { must(t, env.Tenancy().CreateUser(c, u)) }, seen{"user.created", u.ID().String()})
		plain := tenancy.GenerateKey()
		k, _ := tenancy.NewAPIKey(a.ID(), u.ID(), "k", plain, []byte(plain), time.Time{}, t0)
		r.step("create key", func() { must(t, env.Tenancy().CreateAPIKey(c, k)) }, seen{"api_key.created", k.ID().String()})
		limit, err := tenancy.ParseRateLimit("10/s")
		must(t, err)
		r.step("limit key", func() {
			_, err := env.Tenancy().UpdateAPIKey(c, k.ID(), func(k *tenancy.APIKey, _ *tenancy.User) error {
				k.SetRateLimit(limit, t0.Add(time.Second))
				return nil
			})
			must(t, err)
		}, seen{"api_key.updated", k.ID().String()})
		r.step("update key to what it is", func() {
			_, err := env.Tenancy().UpdateAPIKey(c, k.ID(), func(k *tenancy.APIKey, _ *tenancy.User) error {
				k.SetRateLimit(limit, t0.Add(2*time.Second))
				return nil
			})
			must(t, err)
		})
		r.step("revoke key", func() {
			_, err := env.Tenancy().UpdateAPIKey(c, k.ID(), func(k *tenancy.APIKey, _ *tenancy.User) error {
				_, err := k.SetStatus(tenancy.KeyRevoked, t0.Add(3*time.Second))
				return err
			})
			must(t, err)
		}, seen{"api_key.revoked", k.ID().String()})

		g := newGame(t, a.ID(), "Game", uniqueSlug("evt"), t0)
		r.step("create game", func() { must(t, env.Games().Create(c, g)) }, seen{"game.created", g.ID().String()})
		r.step("rename game", func() {
			_, err := env.Games().Update(c, g.ID(), func(g *game.Game) error { return rename(g, "Renamed", t0.Add(time.Second)) })
			must(t, err)
		}, seen{"game.updated", g.ID().String()})

		fresh := newIdentity(t, device(g.ID(), 1, "Ada", t0), a.ID())
		keep := func(*identity.Identity) error { return nil }
		var i *identity.Identity
		r.step("create identity", func() {
			got, created, err := env.Identities().GetOrCreate(c, fresh, keep)
			must(t, err)
			if !created {
				t.Fatal("not created")
			}
			i = got
		}, seen{"identity.created", fresh.ID().String()})
		r.step("get the identity again", func() {
			_, _, err := env.Identities().GetOrCreate(c, newIdentity(t, device(g.ID(), 1, "Ada", t0), a.ID()), keep)
			must(t, err)
		})
		r.step("get the identity again, renamed", func() {
			_, _, err := env.Identities().GetOrCreate(c, newIdentity(t, device(g.ID(), 1, "", t0), a.ID()), renameTo(t, "Ada L.", t0.Add(time.Second)))
			must(t, err)
		}, seen{"identity.updated", i.ID().String()})
		r.step("rename identity", func() {
			_, err := env.Identities().Update(c, i.ID(), renameTo(t, "Ada B.", t0.Add(2*time.Second)))
			must(t, err)
		}, seen{"identity.updated", i.ID().String()})
		r.step("rename identity to its name", func() {
			_, err := env.Identities().Update(c, i.ID(), renameTo(t, "Ada B.", t0.Add(3*time.Second)))
			must(t, err)
		})

		s, hash := newSession(t, env, i, t0)
		r.n++ // newSession's session.created, checked with the rest below
		r.step("refresh", func() {
			_, err := env.Sessions().Rotate(c, hash, newHash(), t0.Add(time.Minute), refreshAt(t0.Add(time.Minute)))
			must(t, err)
		})
		r.step("present the rotated token again", func() {
			_, err := env.Sessions().Rotate(c, hash, newHash(), t0.Add(2*time.Minute), notCalled(t))
			wantErr(t, err, session.ErrRefreshInvalid)
		}, seen{"session.reuse_detected", s.ID().String()})
		s2, _ := newSession(t, env, i, t0)
		r.n++
		r.step("revoke session", func() { revoke(t, env, s2, t0.Add(time.Minute)) }, seen{"session.revoked", s2.ID().String()})
		s3, _ := newSession(t, env, i, t0)
		s4, _ := newSession(t, env, i, t0)
		r.n += 2
		r.step("revoke the identity's sessions", func() {
			must(t, env.Sessions().RevokeIdentity(c, i.ID(), t0.Add(time.Hour), unbounded))
		}, seen{"session.revoked", s3.ID().String()}, seen{"session.revoked", s4.ID().String()})

		r.step("delete identity", func() {
			_, err := env.Identities().Update(c, i.ID(), func(i *identity.Identity) error { return i.Delete(t0.Add(time.Hour)) })
			must(t, err)
		}, seen{"identity.deleted", i.ID().String()})
		r.step("delete game", func() {
			_, err := env.Games().Update(c, g.ID(), func(g *game.Game) error { return g.Delete(t0.Add(time.Hour)) })
			must(t, err)
		}, seen{"game.deleted", g.ID().String()})

		all := recorded(t, env, a.ID())
		if got := feed(t, env, a.ID(), len(all)); len(got) != len(all) || got[0].ID != all[0].ID || got[len(got)-1].ID != all[len(all)-1].ID {
			t.Fatalf("the feed holds %d of the %d events", len(got), len(all))
		}
		ids := map[id.EventID]bool{}
		for _, e := range all {
			if e.ID.IsZero() || ids[e.ID] {
				t.Fatalf("event %v: no ID, or one seen before", e)
			}
			ids[e.ID] = true
			if e.AccountID != a.ID() || e.Subject.Resource != string(e.Type)[:len(e.Subject.Resource)] || len(e.Data) == 0 {
				t.Fatalf("event %s %s: account %s, subject %+v, data %q", e.Type, e.ID, e.AccountID, e.Subject, e.Data)
			}
			want := keyActor // newSession and revoke act without one: the system
			if e.Type == "session.created" || e.Subject.ID == s2.ID().String() {
				want = event.System
			}
			if e.Actor != want {
				t.Fatalf("event %s was made by %+v, want %+v", e.Type, e.Actor, want)
			}
		}
		created := seen{"session.created", s.ID().String()}
		if !slices.ContainsFunc(all, func(e *ports.Recorded) bool { return (seen{e.Type, e.Subject.ID}) == created }) {
			t.Fatal("no session.created")
		}
	})

	t.Run("a change whose transaction fails after its write records nothing", func(t *testing.T) {
		t.Parallel()
		env := shared(t)
		i := newPlayer(t, env)
		s, _ := newSession(t, env, i, t0)
		before := len(recorded(t, env, i.AccountID()))
		boom := errors.New("boom")
		// The subscriber writes (it revokes the identity's sessions in the
		// deletion's transaction), then fails: neither write may stay.
		defer env.Outbox().Subscribe(ports.Subscriber{Name: "failing", Types: []string{"identity.*"},
			Handle: func(c context.Context, e event.Event) error {
				if e.Subject.ID != i.ID().String() {
					return nil
				}
				if err := env.Sessions().RevokeIdentity(c, i.ID(), t0.Add(time.Hour), unbounded); err != nil {
					return err
				}
				return boom
			}})()
		_, err := env.Identities().Update(ctx(t), i.ID(), func(i *identity.Identity) error { return i.Delete(t0.Add(time.Hour)) })
		wantErr(t, err, boom)
		_, err = env.Identities().Update(ctx(t), i.ID(), renameTo(t, "Bea", t0.Add(time.Hour)))
		wantErr(t, err, boom)
		got, err := env.Identities().Get(ctx(t), i.ID())
		must(t, err)
		sameIdentity(t, got, i)
		unchanged(t, env, s)
		if after := recorded(t, env, i.AccountID()); len(after) != before {
			t.Fatalf("failed changes recorded %d events", len(after)-before)
		}
	})

	t.Run("a subscriber's writes join the change's transaction", func(t *testing.T) {
		t.Parallel()
		env := shared(t)
		i := newPlayer(t, env)
		s, _ := newSession(t, env, i, t0)
		n := len(recorded(t, env, i.AccountID()))
		defer env.Outbox().Subscribe(ports.Subscriber{Name: "revoker", Types: []string{"identity.deleted"},
			Handle: func(c context.Context, e event.Event) error {
				if e.Subject.ID != i.ID().String() {
					return nil
				}
				return env.Sessions().RevokeIdentity(c, i.ID(), e.OccurredAt, unbounded)
			}})()
		_, err := env.Identities().Update(ctx(t), i.ID(), func(i *identity.Identity) error { return i.Delete(t0.Add(time.Hour)) })
		must(t, err)
		if !getSession(t, env, s.ID()).IsRevoked() {
			t.Fatal("the subscriber's revocation did not commit with the deletion")
		}
		want := []seen{{"identity.deleted", i.ID().String()}, {"session.revoked", s.ID().String()}}
		if got := since(t, env, i.AccountID(), n); !slices.Equal(got, want) {
			t.Fatalf("recorded %v, want %v", got, want)
		}
	})

	t.Run("the feed pages, filters and knows its positions", func(t *testing.T) {
		t.Parallel()
		env := shared(t)
		i := newPlayer(t, env)
		other := newPlayer(t, env)
		for n := range 3 {
			_, err := env.Identities().Update(ctx(t), i.ID(), renameTo(t, fmt.Sprintf("Name %d", n), t0.Add(time.Duration(n+1)*time.Second)))
			must(t, err)
		}
		all := feed(t, env, i.AccountID(), 6)
		if len(all) != 6 { // account, game and identity created, three renames
			t.Fatalf("%d events: %v", len(all), all)
		}
		typed, err := env.Events().Feed(ctx(t), ports.EventFilter{AccountID: i.AccountID(), Type: "identity.*"}, all[0].ID, 10)
		must(t, err)
		if len(typed) != 4 || typed[0].Type != "identity.created" || typed[3].ID != all[5].ID {
			t.Fatalf("identity.* after the first event: %d events", len(typed))
		}
		exact, err := env.Events().Feed(ctx(t), ports.EventFilter{AccountID: i.AccountID(), Type: "identity.updated"}, id.EventID{}, 2)
		must(t, err)
		if len(exact) != 2 || exact[0].ID != all[3].ID || exact[1].ID != all[4].ID {
			t.Fatalf("identity.updated, two: %v", exact)
		}
		last, err := env.Events().Feed(ctx(t), ports.EventFilter{AccountID: i.AccountID()}, all[5].ID, 10)
		must(t, err)
		if len(last) != 0 {
			t.Fatalf("after the last event: %d events", len(last))
		}
		_, err = env.Events().Feed(ctx(t), ports.EventFilter{AccountID: i.AccountID()}, id.New[id.Event](), 10)
		wantErr(t, err, event.ErrUnknownPosition)
		_, err = env.Events().Feed(ctx(t), ports.EventFilter{AccountID: other.AccountID()}, all[1].ID, 10)
		wantErr(t, err, event.ErrUnknownPosition) // another account's event is no position of this one

		res, err := env.Events().List(ctx(t), ports.EventFilter{AccountID: i.AccountID(), Type: "identity.*", SubjectID: i.ID().String()},
			paging.Request{Sort: ports.EventSchema.DefaultSort(), Limit: 3})
		must(t, err)
		if len(res.Items) != 3 || !res.More || res.Items[0].ID != all[5].ID {
			t.Fatalf("audit log of the identity, newest first: %d items, more=%v", len(res.Items), res.More)
		}
		res, err = env.Events().List(ctx(t), ports.EventFilter{AccountID: i.AccountID(), ActorID: "key_none"},
			paging.Request{Sort: ports.EventSchema.DefaultSort(), Limit: 3})
		must(t, err)
		if len(res.Items) != 0 {
			t.Fatalf("events of an actor that made none: %d", len(res.Items))
		}
	})
}

func runEventPurge(t *testing.T, env Env) {
	i := newPlayer(t, env)
	all := recorded(t, env, i.AccountID())
	if len(all) != 3 {
		t.Fatalf("%d events", len(all))
	}
	n, err := env.Events().Purge(ctx(t), all[0].ID.Time())
	must(t, err)
	if n != 0 {
		t.Fatalf("purged %d events older than the first", n)
	}
	n, err = env.Events().Purge(ctx(t), time.Now().Add(time.Hour))
	must(t, err)
	if n != 3 || len(recorded(t, env, i.AccountID())) != 0 {
		t.Fatalf("purged %d of 3 events", n)
	}
}

func renameTo(t *testing.T, name string, at time.Time) func(*identity.Identity) error {
	t.Helper()
	n, err := identity.ParseDisplayName(name)
	must(t, err)
	return func(i *identity.Identity) error {
		_, err := i.Rename(n, at)
		return err
	}
}
