package store_test

import (
	"testing"
	"time"

	"github.com/leadr-oss/identity/adapters/store"
	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/domain/webhook"
	"github.com/leadr-oss/identity/ports"
	"github.com/leadr-oss/identity/ports/portstest"
	"github.com/leadr-oss/identity/test/pgtest"
)

// BenchmarkWebhookQueue is what the database does for one delivered event:
// write_only makes an event (a game's creation) and nothing else;
// delivered also fans it out to an endpoint, claims the attempt and
// records its success, as the dispatcher does. Their ratio is the queue's
// cost per event and endpoint beside the write that made it.
func BenchmarkWebhookQueue(b *testing.B) {
	db := pgtest.Fresh(b)
	s := store.New(db)
	account := newBenchAccount(b, tenancyRepo(b, s))
	games := gamesRepo(b, s)
	b.Run("write_only", func(b *testing.B) {
		for b.Loop() {
			portstest.NewGame(b, games, account)
		}
	})

	hooks, err := store.NewWebhooks(s)
	if err != nil {
		b.Fatal(err)
	}
	queue, err := store.NewDeliveries(s)
	if err != nil {
		b.Fatal(err)
	}
	u, _ := webhook.ParseURL("https://93.184.216.34/bench")
	types, _ := webhook.ParseEventTypes([]string{"game.*"})
	w, err := webhook.New(account, u, types, nil, func(id.WebhookID) []byte { return []byte("sealed") }, time.Unix(0, 0))
	if err != nil {
		b.Fatal(err)
	}
	if err := hooks.Create(b.Context(), w); err != nil {
		b.Fatal(err)
	}
	// The games above are fanned out and delivered first.
	for {
		n, err := queue.FanOut(b.Context(), 500, time.Now())
		if err != nil {
			b.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	for {
		now := time.Now()
		claimed, err := queue.Claim(b.Context(), w.ID(), now, now.Add(time.Minute), 500)
		if err != nil {
			b.Fatal(err)
		}
		if len(claimed) == 0 {
			break
		}
		for _, c := range claimed {
			if _, err := queue.Complete(b.Context(), ports.Attempted{Claimed: c, Outcome: webhook.Outcome{ResponseStatus: 204}, At: now}); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("delivered", func(b *testing.B) {
		for b.Loop() {
			portstest.NewGame(b, games, account)
			now := time.Now()
			if n, err := queue.FanOut(b.Context(), 500, now); err != nil || n != 1 {
				b.Fatalf("fanned out %d: %v", n, err)
			}
			claimed, err := queue.Claim(b.Context(), w.ID(), now, now.Add(time.Minute), 4)
			if err != nil || len(claimed) != 1 {
				b.Fatalf("claimed %d: %v", len(claimed), err)
			}
			ok, err := queue.Complete(b.Context(), ports.Attempted{Claimed: claimed[0], Outcome: webhook.Outcome{ResponseStatus: 204}, At: now})
			if err != nil || !ok {
				b.Fatalf("complete: %v %v", ok, err)
			}
		}
	})
}
