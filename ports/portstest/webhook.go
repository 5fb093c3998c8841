package portstest

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/domain/tenancy"
	"github.com/leadr-oss/identity/domain/webhook"
	"github.com/leadr-oss/identity/ports"
	"github.com/leadr-oss/identity/ports/paging"
)

func (e Env) Webhooks() ports.WebhookRepository { return repository[ports.WebhookRepository](e) }

func init() {
	register("Webhooks", func(t *testing.T, s Stores) { runWebhooks(t, s.Shared) })
	register("WebhookLists", func(t *testing.T, s Stores) { runWebhookLists(t, s.Shared) })
	register("WebhookBookkeeping", func(t *testing.T, s Stores) { runWebhookBookkeeping(t, s.Fresh(t)) })
}

// newWebhook makes an endpoint whose sealed secret is sealed: the stores
// keep the bytes they are given, whatever sealed them.
func newWebhook(tb testing.TB, account id.AccountID, rawURL string, types []string, description *string, sealed []byte, at time.Time) *webhook.Webhook {
	tb.Helper()
	u, err := webhook.ParseURL(rawURL)
	if err != nil {
		tb.Fatal(err)
	}
	et, err := webhook.ParseEventTypes(types)
	if err != nil {
		tb.Fatal(err)
	}
	w, err := webhook.New(account, u, et, description, func(id.WebhookID) []byte { return bytes.Clone(sealed) }, at)
	if err != nil {
		tb.Fatal(err)
	}
	return w
}

func createWebhook(t *testing.T, env Env, account id.AccountID, at time.Time) *webhook.Webhook {
	t.Helper()
	w := newWebhook(t, account, "https://example.com/hooks", []string{"identity.*"}, nil, []byte("sealed \x00\xff"), at)
	must(t, env.Webhooks().Create(ctx(t), w))
	return w
}

// sameWebhook compares whole snapshots: secrets, event types' order and a
// description's absence are all state a store must give back as it was.
func sameWebhook(t *testing.T, got, want *webhook.Webhook) {
	t.Helper()
	if g, w := got.Snapshot(), want.Snapshot(); !reflect.DeepEqual(g, w) {
		t.Fatalf("webhook differs:\n got  %+v\n want %+v", g, w)
	}
}

func storedWebhook(t *testing.T, env Env, webhookID id.WebhookID) *webhook.Webhook {
	t.Helper()
	w, err := env.Webhooks().Get(ctx(t), webhookID)
	must(t, err)
	return w
}

func listWebhooks(t *testing.T, env Env, account id.AccountID) []*webhook.Webhook {
	t.Helper()
	res, err := env.Webhooks().List(ctx(t), ports.WebhookFilter{AccountID: account},
		paging.Request{Sort: ports.WebhookSchema.DefaultSort(), Limit: 100})
	must(t, err)
	return res.Items
}

// updateWebhook runs fn in Update, checks that what Update answered is what
// the store kept, and returns it.
func updateWebhook(t *testing.T, env Env, webhookID id.WebhookID, fn func(*webhook.Webhook) error) *webhook.Webhook {
	t.Helper()
	updated, err := env.Webhooks().Update(ctx(t), webhookID, fn)
	must(t, err)
	sameWebhook(t, storedWebhook(t, env, webhookID), updated)
	return updated
}

func applyWebhook(c webhook.Change, at time.Time) func(*webhook.Webhook) error {
	return func(w *webhook.Webhook) error {
		_, err := w.Apply(c, at)
		return err
	}
}

func attempt(o webhook.Outcome, at time.Time) func(*webhook.Webhook) error {
	return func(w *webhook.Webhook) error {
		w.RecordAttempt(o, at)
		return nil
	}
}

func text(s string) *string { return &s }

func runWebhooks(t *testing.T, shared func(t *testing.T) Env) {
	t.Run("created webhook reads back exactly", func(t *testing.T) {
		t.Parallel()
		env := shared(t)
		acc := NewAccount(t, env.Tenancy())
		r := &recorder{t: t, env: env, account: acc.ID(), n: len(recorded(t, env, acc.ID()))}
		for n, c := range []struct {
			description *string
			types       []string
			sealed      []byte
		}{
			{nil, []string{"identity.*"}, []byte("sealed")},
			// An empty description is one, not none.
			{text(""), []string{"webhook.updated", "identity.*", "game.deleted"}, []byte{0, 1, 0xfe, 0xff, 0, 's'}},
			{text("Zoë's orders ✓\nsecond line\ttab"), []string{"session.*", "account.created", "api_key.revoked"}, []byte{0xff}},
		} {
			w := newWebhook(t, acc.ID(), fmt.Sprintf("https://example.com/hooks/%d?x=1", n), c.types, c.description, c.sealed, t0.Add(time.Duration(n)*time.Second))
			r.step("create", func() { must(t, env.Webhooks().Create(ctx(t), w)) }, seen{"webhook.created", w.ID().String()})
			got := storedWebhook(t, env, w.ID())
			sameWebhook(t, got, w)
			if !slices.Equal(got.EventTypes().Patterns(), c.types) || !bytes.Equal(got.SealedSecret(), c.sealed) {
				t.Fatalf("read back types %q and secret %x, want %q and %x", got.EventTypes().Patterns(), got.SealedSecret(), c.types, c.sealed)
			}
			if (got.Description() == nil) != (c.description == nil) {
				t.Fatalf("description %v read back as %v", c.description, got.Description())
			}
			i := slices.IndexFunc(listWebhooks(t, env, acc.ID()), func(x *webhook.Webhook) bool { return x.ID() == w.ID() })
			if i < 0 {
				t.Fatal("the account's list lacks the new webhook")
			}
			sameWebhook(t, listWebhooks(t, env, acc.ID())[i], w)
		}
	})

	t.Run("unknown account is refused", func(t *testing.T) {
		t.Parallel()
		env := shared(t)
		account := id.New[id.Account]()
		w := newWebhook(t, account, "https://example.com/orphan", []string{"identity.*"}, nil, []byte("sealed"), t0)
		wantErr(t, env.Webhooks().Create(ctx(t), w), tenancy.ErrAccountNotFound)
		_, err := env.Webhooks().Get(ctx(t), w.ID())
		wantErr(t, err, webhook.ErrNotFound)
		if n := len(recorded(t, env, account)); n != 0 {
			t.Fatalf("a refused creation recorded %d events", n)
		}
	})

	t.Run("unknown webhook is not found", func(t *testing.T) {
		t.Parallel()
		env := shared(t)
		_, err := env.Webhooks().Get(ctx(t), id.New[id.Webhook]())
		wantErr(t, err, webhook.ErrNotFound)
		_, err = env.Webhooks().Update(ctx(t), id.New[id.Webhook](), func(*webhook.Webhook) error {
			return errors.New("fn called for an unknown webhook")
		})
		wantErr(t, err, webhook.ErrNotFound)
	})

	t.Run("update saves what fn changed, once an event, and a failing fn changes nothing", func(t *testing.T) {
		t.Parallel()
		env := shared(t)
		acc := NewAccount(t, env.Tenancy())
		w := newWebhook(t, acc.ID(), "https://example.com/a", []string{"identity.*", "game.*"}, text("orders"), []byte("sealed"), t0)
		must(t, env.Webhooks().Create(ctx(t), w))
		r := &recorder{t: t, env: env, account: acc.ID(), n: len(recorded(t, env, acc.ID()))}
		subject := w.ID().String()
		u, err := webhook.ParseURL("https://example.org/b")
		must(t, err)
		types, err := webhook.ParseEventTypes([]string{"session.revoked", "identity.deleted"})
		must(t, err)
		var none *string
		disabled, enabled := webhook.Disabled, webhook.Enabled

		boom := errors.New("boom")
		r.step("a failing fn", func() {
			_, err := env.Webhooks().Update(ctx(t), w.ID(), func(w *webhook.Webhook) error {
				_, _ = w.Apply(webhook.Change{URL: &u, Status: &disabled}, t0.Add(time.Hour))
				return boom
			})
			wantErr(t, err, boom)
			sameWebhook(t, storedWebhook(t, env, w.ID()), w)
		})

		r.step("a change to what it is", func() {
			same, sameTypes, desc := w.URL(), w.EventTypes(), w.Description()
			got := updateWebhook(t, env, w.ID(), applyWebhook(webhook.Change{URL: &same, EventTypes: &sameTypes, Description: &desc, Status: &enabled}, t0.Add(time.Hour)))
			sameWebhook(t, got, w)
		})

		at := t0.Add(2 * time.Hour)
		r.step("change URL and types, clear the description", func() {
			got := updateWebhook(t, env, w.ID(), applyWebhook(webhook.Change{URL: &u, EventTypes: &types, Description: &none}, at))
			if got.URL() != u || !slices.Equal(got.EventTypes().Patterns(), types.Patterns()) || got.Description() != nil ||
				!got.UpdatedAt().Equal(at) || !got.CreatedAt().Equal(w.CreatedAt()) || !bytes.Equal(got.SealedSecret(), w.SealedSecret()) {
				t.Fatalf("not saved as made: %+v", got.Snapshot())
			}
		}, seen{"webhook.updated", subject})

		r.step("describe it as nothing", func() {
			empty := text("")
			got := updateWebhook(t, env, w.ID(), applyWebhook(webhook.Change{Description: &empty}, at.Add(time.Second)))
			if d := got.Description(); d == nil || *d != "" {
				t.Fatalf("description %v, want an empty one", d)
			}
		}, seen{"webhook.updated", subject})

		r.step("disable", func() {
			got := updateWebhook(t, env, w.ID(), applyWebhook(webhook.Change{Status: &disabled}, at.Add(2*time.Second)))
			if got.Status() != webhook.Disabled || got.DisabledReason() != "" || !got.UpdatedAt().Equal(at.Add(2*time.Second)) {
				t.Fatalf("not disabled by the caller: %+v", got.Snapshot())
			}
		}, seen{"webhook.disabled", subject})

		r.step("disable again", func() {
			updateWebhook(t, env, w.ID(), applyWebhook(webhook.Change{Status: &disabled}, at.Add(3*time.Second)))
		})

		r.step("enable", func() {
			got := updateWebhook(t, env, w.ID(), applyWebhook(webhook.Change{Status: &enabled}, at.Add(4*time.Second)))
			if got.Status() != webhook.Enabled || !got.UpdatedAt().Equal(at.Add(4*time.Second)) {
				t.Fatalf("not enabled: %+v", got.Snapshot())
			}
		}, seen{"webhook.updated", subject})
	})

	t.Run("a rotated secret is saved with the one it replaced", func(t *testing.T) {
		t.Parallel()
		env := shared(t)
		acc := NewAccount(t, env.Tenancy())
		w := createWebhook(t, env, acc.ID(), t0)
		r := &recorder{t: t, env: env, account: acc.ID(), n: len(recorded(t, env, acc.ID()))}
		for n, sealed := range [][]byte{{0, 's', 0xff, 2}, []byte("third")} {
			at := t0.Add(time.Duration(n+1) * time.Hour)
			previous := storedWebhook(t, env, w.ID()).SealedSecret()
			r.step("rotate", func() {
				got := updateWebhook(t, env, w.ID(), func(w *webhook.Webhook) error { return w.RotateSecret(sealed, at) })
				s := got.Snapshot()
				if !bytes.Equal(s.Secret, sealed) || !bytes.Equal(s.PreviousSecret, previous) ||
					!s.PreviousUntil.Equal(at.Add(webhook.RotationOverlap)) || !s.UpdatedAt.Equal(at) {
					t.Fatalf("rotation %d saved %+v", n, s)
				}
				if both := got.Secrets(at.Add(time.Minute)); len(both) != 2 || !bytes.Equal(both[0], sealed) || !bytes.Equal(both[1], previous) {
					t.Fatalf("secrets within the overlap: %x", both)
				}
			}, seen{"webhook.secret_rotated", w.ID().String()})
		}
	})

	t.Run("deleted webhooks are invisible and forget their secrets", func(t *testing.T) {
		t.Parallel()
		env := shared(t)
		acc := NewAccount(t, env.Tenancy())
		w := createWebhook(t, env, acc.ID(), t0)
		kept := createWebhook(t, env, acc.ID(), t0)
		updateWebhook(t, env, w.ID(), func(w *webhook.Webhook) error { return w.RotateSecret([]byte("rotated"), t0.Add(time.Minute)) })
		r := &recorder{t: t, env: env, account: acc.ID(), n: len(recorded(t, env, acc.ID()))}
		at := t0.Add(time.Hour)
		r.step("delete", func() {
			deleted, err := env.Webhooks().Update(ctx(t), w.ID(), func(w *webhook.Webhook) error { return w.Delete(at) })
			must(t, err)
			s := deleted.Snapshot()
			if !deleted.IsDeleted() || !s.DeletedAt.Equal(at) || s.Secret != nil || s.PreviousSecret != nil || !s.PreviousUntil.IsZero() {
				t.Fatalf("Update did not return the deleted webhook, without secrets: %+v", s)
			}
		}, seen{"webhook.deleted", w.ID().String()})
		_, err := env.Webhooks().Get(ctx(t), w.ID())
		wantErr(t, err, webhook.ErrNotFound)
		r.step("update the deleted webhook", func() {
			_, err = env.Webhooks().Update(ctx(t), w.ID(), func(*webhook.Webhook) error {
				return errors.New("fn called for a deleted webhook")
			})
			wantErr(t, err, webhook.ErrNotFound)
		})
		if listed := listWebhooks(t, env, acc.ID()); len(listed) != 1 || listed[0].ID() != kept.ID() {
			t.Fatalf("the account lists %d webhooks, want only the live one", len(listed))
		}
	})
}

// runWebhookBookkeeping is on a store of its own, so that its recorder sees
// every event, those of no account included.
func runWebhookBookkeeping(t *testing.T, env Env) {
	acc := NewAccount(t, env.Tenancy())
	w := createWebhook(t, env, acc.ID(), t0)
	gone := createWebhook(t, env, acc.ID(), t0)
	// No account: an event without a type has none, and must show too.
	r := &recorder{t: t, env: env, n: len(recorded(t, env, id.AccountID{}))}
	failed, ok := webhook.Outcome{ResponseStatus: 500}, webhook.Outcome{ResponseStatus: 204}
	t1 := t0.Add(time.Hour)
	failing := func(got *webhook.Webhook, since time.Time) {
		t.Helper()
		if !got.FailingSince().Equal(since) || got.Status() != webhook.Enabled || !got.UpdatedAt().Equal(w.UpdatedAt()) {
			t.Fatalf("failing since %v (want %v), status %s, updated at %v", got.FailingSince(), since, got.Status(), got.UpdatedAt())
		}
	}

	r.step("a failure", func() { failing(updateWebhook(t, env, w.ID(), attempt(failed, t1)), t1) })
	r.step("another failure", func() { failing(updateWebhook(t, env, w.ID(), attempt(failed, t1.Add(time.Hour))), t1) })
	r.step("a success", func() { failing(updateWebhook(t, env, w.ID(), attempt(ok, t1.Add(2*time.Hour))), time.Time{}) })
	t2 := t1.Add(3 * time.Hour)
	r.step("failing again", func() { failing(updateWebhook(t, env, w.ID(), attempt(failed, t2)), t2) })
	end := t2.Add(webhook.FailingLimit)
	r.step("failing for the limit", func() {
		got := updateWebhook(t, env, w.ID(), attempt(failed, end))
		if got.Status() != webhook.Disabled || got.DisabledReason() != webhook.ReasonFailing ||
			!got.FailingSince().Equal(t2) || !got.UpdatedAt().Equal(end) {
			t.Fatalf("not disabled for failing: %+v", got.Snapshot())
		}
	}, seen{"webhook.disabled", w.ID().String()})
	r.step("a failure while disabled", func() { updateWebhook(t, env, w.ID(), attempt(failed, end.Add(time.Hour))) })

	r.step("410 Gone", func() {
		got := updateWebhook(t, env, gone.ID(), attempt(webhook.Outcome{ResponseStatus: 410}, t1))
		if got.Status() != webhook.Disabled || got.DisabledReason() != webhook.ReasonGone || !got.UpdatedAt().Equal(t1) {
			t.Fatalf("not disabled as gone: %+v", got.Snapshot())
		}
	}, seen{"webhook.disabled", gone.ID().String()})

	enabled := webhook.Enabled
	r.step("enabling forgets the failures", func() {
		got := updateWebhook(t, env, w.ID(), applyWebhook(webhook.Change{Status: &enabled}, end.Add(2*time.Hour)))
		if got.Status() != webhook.Enabled || got.DisabledReason() != "" || !got.FailingSince().IsZero() {
			t.Fatalf("enabled as %+v", got.Snapshot())
		}
	}, seen{"webhook.updated", w.ID().String()})
}

// webhookFixture is one account's live webhooks, with ties in creation and
// update times, beside one deleted and another account's.
type webhookFixture struct {
	account, other id.AccountID
	all            []*webhook.Webhook
	others         []*webhook.Webhook
}

func newWebhookFixture(t *testing.T, env Env) webhookFixture {
	t.Helper()
	f := webhookFixture{account: NewAccount(t, env.Tenancy()).ID(), other: NewAccount(t, env.Tenancy()).ID()}
	for n := range 11 {
		// Three per instant, and a spread of updated_at.
		w := createWebhook(t, env, f.account, t0.Add(time.Duration(n/3)*time.Second))
		if n%4 == 1 {
			var err error
			w, err = env.Webhooks().Update(ctx(t), w.ID(), func(w *webhook.Webhook) error {
				return w.RotateSecret([]byte("rotated"), t0.Add(time.Duration(100-n/4)*time.Second))
			})
			must(t, err)
		}
		f.all = append(f.all, w)
	}
	gone := createWebhook(t, env, f.account, t0)
	_, err := env.Webhooks().Update(ctx(t), gone.ID(), func(w *webhook.Webhook) error { return w.Delete(t0) })
	must(t, err)
	f.others = []*webhook.Webhook{createWebhook(t, env, f.other, t0)}
	return f
}

func runWebhookLists(t *testing.T, shared func(t *testing.T) Env) {
	env := shared(t)
	f := newWebhookFixture(t, env)
	sorts := []string{
		"created_at:desc,id:asc", "created_at:asc", "id:asc", "id:desc", "updated_at:asc", "updated_at:desc",
		"updated_at:desc,created_at:asc", "created_at:desc,updated_at:asc,id:desc",
	}
	for _, fl := range []struct {
		name    string
		account id.AccountID
		all     []*webhook.Webhook
	}{
		{"account", f.account, f.all},
		{"another account", f.other, f.others},
	} {
		for _, raw := range sorts {
			sort, err := ports.WebhookSchema.ParseSort(raw)
			must(t, err)
			want := slices.Clone(fl.all)
			slices.SortFunc(want, func(a, b *webhook.Webhook) int {
				return sort.Compare(ports.WebhookSchema.Position(a, sort), ports.WebhookSchema.Position(b, sort))
			})
			for _, limit := range []int{1, 4, 100} {
				t.Run(fmt.Sprintf("%s/%s/limit=%d", fl.name, raw, limit), func(t *testing.T) {
					t.Parallel()
					list := func(r paging.Request) (paging.Result[*webhook.Webhook], error) {
						return env.Webhooks().List(ctx(t), ports.WebhookFilter{AccountID: fl.account}, r)
					}
					Walk(t, list, sort, limit, want, ports.WebhookSchema, func(w *webhook.Webhook) string { return w.ID().String() })
				})
			}
		}
	}
}
