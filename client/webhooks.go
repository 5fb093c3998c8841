package client

import (
	"context"
	"iter"
	"net/http"
	"net/url"
	"time"

	"github.com/leadr-oss/identity/wire"
)

// The bodies of webhooks (see package wire). A receiver checks what it is
// sent with a WebhookVerifier.
type (
	Webhook              = wire.Webhook
	CreatedWebhook       = wire.CreatedWebhook
	CreateWebhookRequest = wire.CreateWebhookRequest
	UpdateWebhookRequest = wire.UpdateWebhookRequest
	Delivery             = wire.Delivery
	WebhookMessage       = wire.WebhookMessage
)

// CreateWebhook creates an endpoint; the answer's Secret is shown this
// once.
func (c *Client) CreateWebhook(ctx context.Context, req CreateWebhookRequest) (CreatedWebhook, error) {
	var w CreatedWebhook
	_, err := c.call(ctx, http.MethodPost, "/v1/webhooks", req, &w)
	return w, err
}

func (c *Client) GetWebhook(ctx context.Context, id string) (Webhook, error) {
	var w Webhook
	_, err := c.call(ctx, http.MethodGet, "/v1/webhooks/"+url.PathEscape(id), nil, &w)
	return w, err
}

// ListWebhooksParams page a list of webhooks; empty fields are left out.
type ListWebhooksParams struct {
	AccountID string
	Sort      string
	Cursor    string
	Limit     int
}

func (c *Client) ListWebhooks(ctx context.Context, p ListWebhooksParams) (Page[Webhook], error) {
	var page Page[Webhook]
	q := query("account_id", p.AccountID, "sort", p.Sort, "cursor", p.Cursor, "limit", limit(p.Limit))
	_, err := c.call(ctx, http.MethodGet, "/v1/webhooks"+q, nil, &page)
	return page, err
}

// Webhooks iterates over every webhook the params select.
func (c *Client) Webhooks(ctx context.Context, p ListWebhooksParams) iter.Seq2[Webhook, error] {
	return walk(func(cursor string) (Page[Webhook], error) {
		p.Cursor = cursor
		return c.ListWebhooks(ctx, p)
	}, p.Cursor)
}

// UpdateWebhook changes the fields req gives.
func (c *Client) UpdateWebhook(ctx context.Context, id string, req UpdateWebhookRequest) (Webhook, error) {
	var w Webhook
	_, err := c.call(ctx, http.MethodPatch, "/v1/webhooks/"+url.PathEscape(id), req, &w)
	return w, err
}

func (c *Client) DeleteWebhook(ctx context.Context, id string) error {
	_, err := c.call(ctx, http.MethodDelete, "/v1/webhooks/"+url.PathEscape(id), nil, nil)
	return err
}

// RotateWebhookSecret gives the endpoint a new secret, shown this once;
// the old one signs beside it for 24 hours.
func (c *Client) RotateWebhookSecret(ctx context.Context, id string) (CreatedWebhook, error) {
	var w CreatedWebhook
	_, err := c.call(ctx, http.MethodPost, "/v1/webhooks/"+url.PathEscape(id)+"/rotate-secret", nil, &w)
	return w, err
}

// ListDeliveries is a page of the endpoint's delivery log, newest first.
func (c *Client) ListDeliveries(ctx context.Context, webhookID, cursor string, n int) (Page[Delivery], error) {
	var page Page[Delivery]
	q := query("cursor", cursor, "limit", limit(n))
	_, err := c.call(ctx, http.MethodGet, "/v1/webhooks/"+url.PathEscape(webhookID)+"/deliveries"+q, nil, &page)
	return page, err
}

// ReplayEvent delivers one event to the endpoint again.
func (c *Client) ReplayEvent(ctx context.Context, webhookID, eventID string) error {
	_, err := c.call(ctx, http.MethodPost, "/v1/webhooks/"+url.PathEscape(webhookID)+"/replay", wire.ReplayRequest{EventID: eventID}, nil)
	return err
}

// ReplaySince delivers again every event since t that the endpoint's
// types match.
func (c *Client) ReplaySince(ctx context.Context, webhookID string, t time.Time) error {
	since := t.UTC().Format(time.RFC3339Nano)
	_, err := c.call(ctx, http.MethodPost, "/v1/webhooks/"+url.PathEscape(webhookID)+"/replay", wire.ReplayRequest{Since: &since}, nil)
	return err
}
