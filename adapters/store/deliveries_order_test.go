package store_test

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/leadr-oss/identity/adapters/store"
	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/domain/tenancy"
	"github.com/leadr-oss/identity/domain/webhook"
	"github.com/leadr-oss/identity/ports"
	"github.com/leadr-oss/identity/ports/paging"
	"github.com/leadr-oss/identity/test/pgtest"
)

// TestFanOutOrdersTransactionIDsAsNumbers: the fan-out selects each
// event's transaction ID as text (to carry it to its place), and ORDER BY
// a bare "xid" would sort that text, where "1000" comes before "999": a page
// cut by its limit would skip the event of transaction 999 for good. Two
// events are written with those transaction IDs, and fanned out a page of
// one at a time.
func TestFanOutOrdersTransactionIDsAsNumbers(t *testing.T) {
	db := pgtest.Fresh(t)
	s := store.New(db)
	a, err := tenancy.NewAccount("Order", "order", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := tenancyRepo(t, s).CreateAccount(t.Context(), a); err != nil {
		t.Fatal(err)
	}
	hooks, err := store.NewWebhooks(s)
	if err != nil {
		t.Fatal(err)
	}
	queue, err := store.NewDeliveries(s)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := webhook.ParseURL("https://93.184.216.34/order")
	types, _ := webhook.ParseEventTypes([]string{"game.*"})
	w, _ := webhook.New(a.ID(), u, types, nil, func(id.WebhookID) []byte { return []byte("sealed") }, time.Unix(0, 0))
	if err := hooks.Create(t.Context(), w); err != nil {
		t.Fatal(err)
	}
	bun := db.Bun()
	// The feed serves transactions below the oldest running: take the
	// server's transaction IDs past 1000 first (a young server is below).
	for {
		var current uint64
		if err := bun.NewRaw("SELECT pg_current_xact_id()::text::bigint").Scan(t.Context(), &current); err != nil {
			t.Fatal(err)
		}
		if current > 1002 {
			break
		}
	}
	if _, err := bun.NewRaw("UPDATE webhook_fanout SET xid = '998'::xid8, position = 0").Exec(t.Context()); err != nil {
		t.Fatal(err)
	}
	var want []uuid.UUID
	for _, xid := range []string{"999", "1000"} {
		eventID := uuid.Must(uuid.NewV7())
		want = append(want, eventID)
		_, err := bun.NewRaw(`INSERT INTO events (id, xid, type, account_id, occurred_at, actor_type, subject_type, subject_id, data)
			VALUES (?, ?::xid8, 'game.created', ?, ?, 'system', 'game', 'gam_x', '{}')`,
			eventID, xid, uuid.UUID(a.ID().UUID()), time.Now()).Exec(t.Context())
		if err != nil {
			t.Fatal(err)
		}
	}
	for range want {
		if n, err := queue.FanOut(t.Context(), 1, time.Now()); err != nil || n != 1 {
			t.Fatalf("fanned out %d events: %v", n, err)
		}
	}
	oldestFirst, err := ports.DeliverySchema.ParseSort("id:asc")
	if err != nil {
		t.Fatal(err)
	}
	log, err := queue.List(t.Context(), w.ID(), paging.Request{Sort: oldestFirst, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	var got []uuid.UUID
	for _, d := range log.Items {
		got = append(got, uuid.UUID(d.EventID.UUID()))
	}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("scheduled the events %v, want %v (transactions 999, then 1000)", got, want)
	}
}
