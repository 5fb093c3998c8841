package apptest

import (
	"context"
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

func (r *memWebhooks) Update(ctx context.Context, webhookID id.WebhookID, fn func(*webhook.Webhook) error) (*webhook.Webhook, error) {
	m := (*Memory)(r)
	return update(ctx, m, func() *[]webhook.Snapshot { return &m.webhooks().rows }, liveWebhook(webhookID), webhook.ErrNotFound,
		webhook.Rehydrate, webhook.Changed, fn)
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
