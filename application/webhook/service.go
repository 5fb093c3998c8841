// Package webhook holds the webhook use cases (create, get, list, update,
// delete, rotate the secret, the delivery log, replay) and the dispatcher
// that delivers the outbox's events to the endpoints.
package webhook

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/leadr-oss/identity/application/auth"
	"github.com/leadr-oss/identity/application/cursor"
	"github.com/leadr-oss/identity/domain"
	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/domain/tenancy"
	"github.com/leadr-oss/identity/domain/webhook"
	"github.com/leadr-oss/identity/ports"
	"github.com/leadr-oss/identity/ports/paging"
)

// Service implements ports.Webhooks.
type Service struct {
	repo   ports.WebhookRepository
	queue  ports.DeliveryQueue
	urls   ports.WebhookURLs
	cipher ports.Cipher
	cursor paging.Cursors
	now    ports.Clock
}

var _ ports.Webhooks = (*Service)(nil)

func NewService(repo ports.WebhookRepository, queue ports.DeliveryQueue, urls ports.WebhookURLs, cipher ports.Cipher, cursor paging.Cursors, now ports.Clock) *Service {
	return &Service{repo: repo, queue: queue, urls: urls, cipher: cipher, cursor: cursor, now: now}
}

// sealFor seals secret bound to the webhook's ID: moved to another row, it
// no longer opens.
func (s *Service) sealFor(secret webhook.Secret) func(id.WebhookID) []byte {
	return func(w id.WebhookID) []byte { return s.cipher.Seal(secret.Bytes(), []byte(w.String())) }
}

// Create validates the fields (422), asks the policy (403), then checks
// the URL against what the deployment allows (422; this may resolve its
// host, so it comes after the cheap refusals), and stores the endpoint with
// a new secret, whose plaintext is in this answer only.
func (s *Service) Create(ctx context.Context, p tenancy.Principal, c ports.CreateWebhook) (ports.NewSecret, error) {
	var problems []error
	u, err := webhook.ParseURL(c.URL)
	problems = append(problems, err)
	types, err := webhook.ParseEventTypes(c.EventTypes)
	problems = append(problems, err)
	if c.Description != nil {
		_, err := webhook.ParseDescription(*c.Description)
		problems = append(problems, err)
	}
	account, accessErr := auth.TargetAccount(p, c.AccountID)
	if domain.CategoryOf(accessErr) == domain.CategoryInvalid {
		problems, accessErr = append(problems, accessErr), nil
	}
	if err := errors.Join(problems...); err != nil {
		return ports.NewSecret{}, err
	}
	if accessErr != nil {
		return ports.NewSecret{}, accessErr
	}
	if err := s.urls.CheckURL(ctx, u); err != nil {
		return ports.NewSecret{}, err
	}
	secret := webhook.GenerateSecret()
	w, err := webhook.New(account, u, types, c.Description, s.sealFor(secret), s.now())
	if err != nil {
		return ports.NewSecret{}, err
	}
	if err := s.repo.Create(ctx, w); err != nil {
		return ports.NewSecret{}, fmt.Errorf("create webhook: %w", err)
	}
	return ports.NewSecret{Webhook: w, Secret: secret.Reveal()}, nil
}

func (s *Service) Get(ctx context.Context, p tenancy.Principal, q ports.GetWebhook) (*webhook.Webhook, error) {
	if err := auth.CheckNamed(p, q.AccountID); err != nil {
		return nil, err
	}
	w, err := s.repo.Get(ctx, q.ID)
	if err != nil {
		return nil, err
	}
	if err := auth.CheckAccess(p, q.AccountID, w.AccountID(), webhook.ErrForbidden, webhook.ErrNotFound); err != nil {
		return nil, err
	}
	return w, nil
}

func (s *Service) List(ctx context.Context, p tenancy.Principal, q ports.ListWebhooks) (paging.Page[*webhook.Webhook], error) {
	scope, err := auth.ListScope(p, q.AccountID)
	if err != nil {
		return paging.Page[*webhook.Webhook]{}, err
	}
	f := ports.WebhookFilter{AccountID: scope}
	return cursor.List(s.cursor, ports.WebhookSchema, q.Page, cursor.Fingerprint(f),
		func(r paging.Request) (paging.Result[*webhook.Webhook], error) { return s.repo.List(ctx, f, r) })
}

// Update validates (422), checks the named account (403) and a new URL
// (422), then changes the endpoint under its row lock, where the owner
// check runs (403), so that a refused update writes nothing.
func (s *Service) Update(ctx context.Context, p tenancy.Principal, c ports.UpdateWebhook) (*webhook.Webhook, error) {
	var problems []error
	var change webhook.Change
	if c.URL != nil {
		u, err := webhook.ParseURL(*c.URL)
		problems = append(problems, err)
		change.URL = &u
	}
	if c.EventTypes != nil {
		t, err := webhook.ParseEventTypes(c.EventTypes)
		problems = append(problems, err)
		change.EventTypes = &t
	}
	if c.Description.Given {
		if c.Description.Value != nil {
			_, err := webhook.ParseDescription(*c.Description.Value)
			problems = append(problems, err)
		}
		change.Description = &c.Description.Value
	}
	if c.Status != nil {
		st, err := webhook.ParseStatus(*c.Status)
		problems = append(problems, err)
		change.Status = &st
	}
	if err := errors.Join(problems...); err != nil {
		return nil, err
	}
	if err := auth.CheckNamed(p, c.AccountID); err != nil {
		return nil, err
	}
	if !c.Delete && change == (webhook.Change{}) {
		return s.Get(ctx, p, ports.GetWebhook{ID: c.ID, AccountID: c.AccountID})
	}
	if change.URL != nil && !c.Delete {
		if err := s.urls.CheckURL(ctx, *change.URL); err != nil {
			return nil, err
		}
	}
	return s.repo.Update(ctx, c.ID, func(w *webhook.Webhook) error {
		if err := auth.CheckAccess(p, c.AccountID, w.AccountID(), webhook.ErrForbidden, webhook.ErrNotFound); err != nil {
			return err
		}
		if c.Delete {
			return w.Delete(s.now())
		}
		_, err := w.Apply(change, s.now())
		return err
	})
}

// RotateSecret gives the endpoint a new secret; the one it replaces signs
// beside it for webhook.RotationOverlap.
func (s *Service) RotateSecret(ctx context.Context, p tenancy.Principal, q ports.GetWebhook) (ports.NewSecret, error) {
	if err := auth.CheckNamed(p, q.AccountID); err != nil {
		return ports.NewSecret{}, err
	}
	secret := webhook.GenerateSecret()
	w, err := s.repo.Update(ctx, q.ID, func(w *webhook.Webhook) error {
		if err := auth.CheckAccess(p, q.AccountID, w.AccountID(), webhook.ErrForbidden, webhook.ErrNotFound); err != nil {
			return err
		}
		return w.RotateSecret(s.sealFor(secret)(w.ID()), s.now())
	})
	if err != nil {
		return ports.NewSecret{}, err
	}
	return ports.NewSecret{Webhook: w, Secret: secret.Reveal()}, nil
}

func (s *Service) Deliveries(ctx context.Context, p tenancy.Principal, q ports.ListDeliveries) (paging.Page[*webhook.Delivery], error) {
	w, err := s.Get(ctx, p, ports.GetWebhook{ID: q.WebhookID, AccountID: q.AccountID})
	if err != nil {
		return paging.Page[*webhook.Delivery]{}, err
	}
	return cursor.List(s.cursor, ports.DeliverySchema, q.Page, w.ID().String(),
		func(r paging.Request) (paging.Result[*webhook.Delivery], error) { return s.queue.List(ctx, w.ID(), r) })
}

// Replay schedules again one event of the endpoint's account, or every
// event since a time that its types match; they are delivered with their
// own IDs as webhook-id, as the first time.
func (s *Service) Replay(ctx context.Context, p tenancy.Principal, c ports.ReplayWebhook) error {
	// A replay names one event or a time, not both.
	switch {
	case c.EventID.IsZero() && c.Since.IsZero():
		return domain.Missing("event_id")
	case !c.EventID.IsZero() && !c.Since.IsZero():
		return domain.Rejected("since", "Give either event_id or since, not both", c.Since.Format(time.RFC3339Nano))
	}
	w, err := s.Get(ctx, p, ports.GetWebhook{ID: c.WebhookID, AccountID: c.AccountID})
	if err != nil {
		return err
	}
	now := s.now()
	return s.queue.Replay(ctx, w, ports.Replay{EventID: c.EventID, Since: c.Since, Until: now}, now)
}
