package httpapi

import (
	_ "embed"
	"encoding/json"
	"net/http"
	"sync"

	"github.com/gin-gonic/gin"

	"github.com/leadr-oss/identity/adapters/httpapi/openapi"
	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/domain/webhook"
	"github.com/leadr-oss/identity/ports"
	"github.com/leadr-oss/identity/wire"
)

//go:embed webhooks.openapi.json
var webhooksOpenAPI []byte

var webhooksFragment = sync.OnceValue(func() []byte {
	return openapi.Fragment(webhooksOpenAPI, map[string]any{
		"Webhook":        wire.Webhook{},
		"WebhookCreated": wire.CreatedWebhook{},
		"WebhookPage":    wire.Page[wire.Webhook]{},
		"WebhookCreate":  wire.CreateWebhookRequest{},
		"DeliveryPage":   wire.Page[wire.Delivery]{},
		"WebhookReplay":  wire.ReplayRequest{},
		"ReplayAccepted": wire.ReplayAccepted{},
	})
})

// WebhookRoutes are the endpoints of webhooks.
func WebhookRoutes(app ports.Webhooks) Routes {
	h := webhookHandlers{app: app}
	return Routes{OpenAPI: webhooksFragment(), Mount: func(api gin.IRoutes) {
		api.POST("/webhooks", h.create)
		api.GET("/webhooks", h.list)
		api.GET("/webhooks/:webhook_id", h.get)
		api.PATCH("/webhooks/:webhook_id", h.update)
		api.DELETE("/webhooks/:webhook_id", h.delete)
		api.POST("/webhooks/:webhook_id/rotate-secret", h.rotate)
		api.GET("/webhooks/:webhook_id/deliveries", h.deliveries)
		api.POST("/webhooks/:webhook_id/replay", h.replay)
	}}
}

type webhookHandlers struct {
	app ports.Webhooks
}

func (h webhookHandlers) create(c *gin.Context) {
	var ps problems
	b, err := readBody(c, &ps)
	if err != nil {
		fail(c, err)
		return
	}
	var req wire.CreateWebhookRequest
	in := fieldsOf(b, &req)
	cmd := ports.CreateWebhook{
		AccountID:   bodyID[id.Account](in, &req.AccountID),
		URL:         deref(bodyString(in, &req.URL)),
		EventTypes:  bodyStrings(in, &req.EventTypes),
		Description: bodyString(in, &req.Description),
	}
	if !parsed(c, &ps) {
		return
	}
	created, err := h.app.Create(c.Request.Context(), principal(c), cmd)
	if err != nil {
		fail(c, err)
		return
	}
	c.Header("Location", "/v1/webhooks/"+created.Webhook.ID().String())
	c.JSON(http.StatusCreated, toCreatedWebhook(created))
}

func (h webhookHandlers) list(c *gin.Context) {
	var ps problems
	q := ports.ListWebhooks{
		AccountID: queryID[id.Account](c, &ps, "account_id"),
		Page:      pageParams(c, &ps),
	}
	if !parsed(c, &ps) {
		return
	}
	page, err := h.app.List(c.Request.Context(), principal(c), q)
	writePage(c, page, err, toWebhook)
}

func webhookTarget(c *gin.Context, ps *problems) ports.GetWebhook {
	return ports.GetWebhook{
		ID:        pathID[id.Webhook](c, ps, "webhook_id"),
		AccountID: queryID[id.Account](c, ps, "account_id"),
	}
}

func (h webhookHandlers) get(c *gin.Context) {
	var ps problems
	q := webhookTarget(c, &ps)
	if !parsed(c, &ps) {
		return
	}
	w, err := h.app.Get(c.Request.Context(), principal(c), q)
	writeOne(c, http.StatusOK, w, err, toWebhook)
}

func (h webhookHandlers) update(c *gin.Context) {
	var ps problems
	q := webhookTarget(c, &ps)
	cmd := ports.UpdateWebhook{ID: q.ID, AccountID: q.AccountID}
	b, err := readBody(c, &ps)
	if err != nil {
		fail(c, err)
		return
	}
	cmd.URL = b.str("url", false)
	cmd.EventTypes = b.strs("event_types", false)
	cmd.Description = b.setting("description")
	cmd.Status = b.str("status", false)
	if !parsed(c, &ps) {
		return
	}
	w, err := h.app.Update(c.Request.Context(), principal(c), cmd)
	writeOne(c, http.StatusOK, w, err, toWebhook)
}

func (h webhookHandlers) delete(c *gin.Context) {
	var ps problems
	q := webhookTarget(c, &ps)
	if !parsed(c, &ps) {
		return
	}
	if _, err := h.app.Update(c.Request.Context(), principal(c), ports.UpdateWebhook{ID: q.ID, AccountID: q.AccountID, Delete: true}); err != nil {
		fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (h webhookHandlers) rotate(c *gin.Context) {
	var ps problems
	q := webhookTarget(c, &ps)
	if !parsed(c, &ps) {
		return
	}
	rotated, err := h.app.RotateSecret(c.Request.Context(), principal(c), q)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, toCreatedWebhook(rotated))
}

func (h webhookHandlers) deliveries(c *gin.Context) {
	var ps problems
	w := webhookTarget(c, &ps)
	q := ports.ListDeliveries{WebhookID: w.ID, AccountID: w.AccountID, Page: pageParams(c, &ps)}
	if !parsed(c, &ps) {
		return
	}
	page, err := h.app.Deliveries(c.Request.Context(), principal(c), q)
	writePage(c, page, err, toDelivery)
}

// replay answers 202: the events are scheduled, and delivered as the
// endpoint takes them.
func (h webhookHandlers) replay(c *gin.Context) {
	var ps problems
	w := webhookTarget(c, &ps)
	b, err := readBody(c, &ps)
	if err != nil {
		fail(c, err)
		return
	}
	var req wire.ReplayRequest
	in := fieldsOf(b, &req)
	cmd := ports.ReplayWebhook{
		WebhookID: w.ID, AccountID: w.AccountID,
		EventID: bodyID[id.Event](in, &req.EventID),
		Since:   bodyTime(in, &req.Since),
	}
	if !parsed(c, &ps) {
		return
	}
	if err := h.app.Replay(c.Request.Context(), principal(c), cmd); err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusAccepted, wire.ReplayAccepted{Status: "accepted"})
}

// A webhook's events hold it as its answers do: never its secret.
var _ = eventResource(toWebhook)

func toWebhook(w *webhook.Webhook) wire.Webhook {
	return wire.Webhook{
		ID: w.ID().String(), AccountID: w.AccountID().String(), URL: w.URL().String(), EventTypes: w.EventTypes().Patterns(),
		Description: w.Description(), Status: string(w.Status()), DisabledReason: w.DisabledReason(),
		CreatedAt: wireTime(w.CreatedAt()), UpdatedAt: wireTime(w.UpdatedAt()),
	}
}

func toCreatedWebhook(n ports.NewSecret) wire.CreatedWebhook {
	return wire.CreatedWebhook{Webhook: toWebhook(n.Webhook), Secret: n.Secret}
}

func toDelivery(d *webhook.Delivery) wire.Delivery {
	w := wire.Delivery{
		ID: d.ID.String(), EventID: d.EventID.String(), EventType: string(d.EventType), Attempt: d.Attempt,
		Status: string(d.Status), CreatedAt: wireTime(d.CreatedAt),
	}
	if d.Status == webhook.Pending {
		return w
	}
	if s := d.Outcome.ResponseStatus; s != 0 {
		w.ResponseStatus = &s
	}
	if e := d.Outcome.Error; e != "" {
		w.Error = &e
	}
	ms := int(d.Outcome.Duration.Milliseconds())
	w.DurationMS = &ms
	return w
}

// WebhookPayload is the body of a delivery of e: its type, when it
// happened, and the event as the audit log gives it.
func WebhookPayload(e *ports.Recorded) ([]byte, error) {
	return json.Marshal(wire.WebhookMessage{Type: string(e.Type), Timestamp: wireTime(e.OccurredAt), Data: toEvent(e)})
}
