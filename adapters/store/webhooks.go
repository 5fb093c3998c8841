package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/domain/tenancy"
	"github.com/leadr-oss/identity/domain/webhook"
	"github.com/leadr-oss/identity/ports"
	"github.com/leadr-oss/identity/ports/paging"
)

// Webhooks implements ports.WebhookRepository.
type Webhooks struct {
	db *DB
}

var _ ports.WebhookRepository = (*Webhooks)(nil)

func init() {
	repositories = append(repositories, func(s *Store) (any, error) { return NewWebhooks(s) })
}

func NewWebhooks(s *Store) (*Webhooks, error) {
	if err := checkRowModel[webhookRow](s.db.read, webhookColumns, ports.WebhookSchema.Spec); err != nil {
		return nil, err
	}
	return &Webhooks{db: s.db}, nil
}

var webhookConstraints = map[string]error{
	"webhooks_account_fkey": tenancy.ErrAccountNotFound,
	"webhooks.foreign_key":  tenancy.ErrAccountNotFound, // its only foreign key
}

func (r *Webhooks) Create(ctx context.Context, w *webhook.Webhook) error {
	if err := r.db.create(ctx, webhookToRow(w), webhook.Created(w), webhookConstraints); err != nil {
		return fmt.Errorf("create webhook: %w", err)
	}
	return nil
}

func liveWebhook(webhookID id.WebhookID) condition {
	return cond("id = ? AND deleted_at IS NULL", toUUID(webhookID))
}

func (r *Webhooks) Get(ctx context.Context, webhookID id.WebhookID) (*webhook.Webhook, error) {
	return getOne(ctx, r.db, "webhooks", webhookColumns, liveWebhook(webhookID), webhook.ErrNotFound, webhookFromRow)
}

func (r *Webhooks) Update(ctx context.Context, webhookID id.WebhookID, fn func(*webhook.Webhook) error) (*webhook.Webhook, error) {
	return updateLocked(ctx, r.db, "webhook", liveWebhook(webhookID), webhook.ErrNotFound, webhookFromRow, webhookToRow, webhook.Changed, fn,
		"url", "event_types", "description", "status", "disabled_reason", "secret", "previous_secret", "previous_until",
		"failing_since", "updated_at", "deleted_at")
}

func (r *Webhooks) List(ctx context.Context, f ports.WebhookFilter, req paging.Request) (paging.Result[*webhook.Webhook], error) {
	l := listing{table: "webhooks", columns: webhookColumns, sortBy: ports.WebhookSchema.Spec, where: []condition{cond("deleted_at IS NULL")}}
	if !f.AccountID.IsZero() {
		l.where = append(l.where, cond("account_id = ?", toUUID(f.AccountID)))
	}
	return list(ctx, r.db, l, req, webhookFromRow)
}

type webhookRow struct {
	bun.BaseModel `bun:"table:webhooks"`

	ID             uuid.UUID      `bun:"id,pk,type:uuid"`
	AccountID      uuid.UUID      `bun:"account_id,type:uuid"`
	URL            string         `bun:"url"`
	EventTypes     string         `bun:"event_types"`
	Description    sql.NullString `bun:"description"`
	Status         string         `bun:"status"`
	DisabledReason sql.NullString `bun:"disabled_reason"`
	Secret         []byte         `bun:"secret"`
	PreviousSecret []byte         `bun:"previous_secret"`
	PreviousUntil  sql.NullTime   `bun:"previous_until"`
	FailingSince   sql.NullTime   `bun:"failing_since"`
	CreatedAt      time.Time      `bun:"created_at"`
	UpdatedAt      time.Time      `bun:"updated_at"`
	DeletedAt      sql.NullTime   `bun:"deleted_at"`
}

const webhookColumns = "id, account_id, url, event_types, description, status, disabled_reason, secret, previous_secret, previous_until, failing_since, created_at, updated_at, deleted_at"

func (r *webhookRow) fields() []any {
	return []any{uuidField(&r.ID), uuidField(&r.AccountID), &r.URL, &r.EventTypes, &r.Description, &r.Status, &r.DisabledReason,
		&r.Secret, &r.PreviousSecret, &r.PreviousUntil, &r.FailingSince, &r.CreatedAt, &r.UpdatedAt, &r.DeletedAt}
}

func nullTime(t time.Time) sql.NullTime { return sql.NullTime{Time: t, Valid: !t.IsZero()} }

func webhookToRow(w *webhook.Webhook) *webhookRow {
	s := w.Snapshot()
	r := &webhookRow{
		ID: toUUID(s.ID), AccountID: toUUID(s.AccountID), URL: s.URL, EventTypes: strings.Join(s.EventTypes, " "),
		Status: string(s.Status), DisabledReason: sql.NullString{String: s.DisabledReason, Valid: s.DisabledReason != ""},
		Secret: s.Secret, PreviousSecret: s.PreviousSecret, PreviousUntil: nullTime(s.PreviousUntil),
		FailingSince: nullTime(s.FailingSince), CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt, DeletedAt: nullTime(s.DeletedAt),
	}
	if s.Description != nil {
		r.Description = sql.NullString{String: *s.Description, Valid: true}
	}
	return r
}

func webhookFromRow(r *webhookRow) (*webhook.Webhook, error) {
	s := webhook.Snapshot{
		ID: fromUUID[id.Webhook](r.ID), AccountID: fromUUID[id.Account](r.AccountID), URL: r.URL,
		EventTypes: strings.Fields(r.EventTypes), Status: webhook.Status(r.Status), DisabledReason: r.DisabledReason.String,
		Secret: r.Secret, PreviousSecret: r.PreviousSecret, PreviousUntil: r.PreviousUntil.Time,
		FailingSince: r.FailingSince.Time, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, DeletedAt: r.DeletedAt.Time,
	}
	if r.Description.Valid {
		d := r.Description.String
		s.Description = &d
	}
	return webhook.Rehydrate(s), nil
}
