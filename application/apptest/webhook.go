package apptest

import (
	"context"
	"reflect"
	"slices"

	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/domain/tenancy"
	"github.com/leadr-oss/identity/domain/webhook"
	"github.com/leadr-oss/identity/ports"
	"github.com/leadr-oss/identity/ports/paging"
)

func init() { fakes = append(fakes, func(m *Memory) any { return m.Webhooks() }) }

func (m *Memory) Webhooks() ports.WebhookRepository { return (*memWebhooks)(m) }

type webhookTable struct{ rows []webhook.Snapshot }

// webhooks is the webhook table; the caller holds the lock.
func (m *Memory) webhooks() *webhookTable { return table[webhookTable](m, "webhooks") }

type memWebhooks Memory

func liveWebhook(webhookID id.WebhookID) func(webhook.Snapshot) bool {
	return func(w webhook.Snapshot) bool { return w.ID == webhookID && w.DeletedAt.IsZero() }
}

func (r *memWebhooks) Create(ctx context.Context, w *webhook.Webhook) error {
	m := (*Memory)(r)
	return m.write(ctx, func(ctx context.Context, tx *memTx) error {
		if !m.accountExists(w.AccountID()) {
			return tenancy.ErrAccountNotFound
		}
		add(tx, &m.webhooks().rows, w.Snapshot())
		return tx.record(ctx, webhook.Created(w))
	})
}

func (r *memWebhooks) Get(ctx context.Context, webhookID id.WebhookID) (*webhook.Webhook, error) {
	defer (*Memory)(r).lock(ctx)()
	rows := (*Memory)(r).webhooks().rows
	i := slices.IndexFunc(rows, liveWebhook(webhookID))
	if i < 0 {
		return nil, webhook.ErrNotFound
	}
	return webhook.Rehydrate(rows[i]), nil
}

// Update is update's, but for the event: webhook.Changed makes none when
// only the deliveries' bookkeeping (failing_since) changed, and the
// store saves that row without one, which saveIfChanged would record.
func (r *memWebhooks) Update(ctx context.Context, webhookID id.WebhookID, fn func(*webhook.Webhook) error) (*webhook.Webhook, error) {
	m := (*Memory)(r)
	var out *webhook.Webhook
	err := m.write(ctx, func(ctx context.Context, tx *memTx) error {
		rows := &m.webhooks().rows
		i := slices.IndexFunc(*rows, liveWebhook(webhookID))
		if i < 0 {
			return webhook.ErrNotFound
		}
		before, w := webhook.Rehydrate((*rows)[i]), webhook.Rehydrate((*rows)[i])
		if err := fn(w); err != nil {
			return err
		}
		out = w
		after := w.Snapshot()
		if reflect.DeepEqual((*rows)[i], after) {
			return nil
		}
		set(tx, rows, i, after)
		if e := webhook.Changed(before, w); e.Type != "" {
			return tx.record(ctx, e)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (r *memWebhooks) List(ctx context.Context, f ports.WebhookFilter, req paging.Request) (paging.Result[*webhook.Webhook], error) {
	defer (*Memory)(r).lock(ctx)()
	var items []*webhook.Webhook
	for _, s := range (*Memory)(r).webhooks().rows {
		if s.DeletedAt.IsZero() && (f.AccountID.IsZero() || s.AccountID == f.AccountID) {
			items = append(items, webhook.Rehydrate(s))
		}
	}
	return Page(items, req, ports.WebhookSchema), nil
}
