package httpapi

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"sync"

	"github.com/gin-gonic/gin"

	"github.com/leadr-oss/identity/adapters/httpapi/openapi"
	"github.com/leadr-oss/identity/domain/event"
	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/ports"
	"github.com/leadr-oss/identity/wire"
)

//go:embed events.openapi.json
var eventsOpenAPI []byte

var eventsFragment = sync.OnceValue(func() []byte {
	return openapi.Fragment(eventsOpenAPI, map[string]any{
		"Event":     wire.Event{},
		"EventPage": wire.Page[wire.Event]{},
		"EventFeed": wire.EventFeed{},
	})
})

// EventRoutes are the audit log and the change feed.
func EventRoutes(app ports.Events) Routes {
	h := eventHandlers{app: app}
	return Routes{OpenAPI: eventsFragment(), Mount: func(api gin.IRoutes) {
		api.GET("/events", h.list)
		api.GET("/events/feed", h.feed)
	}}
}

type eventHandlers struct {
	app ports.Events
}

func (h eventHandlers) list(c *gin.Context) {
	var ps problems
	q := ports.ListEvents{
		AccountID: queryID[id.Account](c, &ps, "account_id"),
		Page:      pageParams(c, &ps),
	}
	for name, to := range map[string]**string{"type": &q.Type, "subject_id": &q.SubjectID, "actor_id": &q.ActorID} {
		if s, ok := query(c, name); ok {
			*to = &s
		}
	}
	if !parsed(c, &ps) {
		return
	}
	page, err := h.app.List(c.Request.Context(), principal(c), q)
	writePage(c, page, err, toEvent)
}

func (h eventHandlers) feed(c *gin.Context) {
	var ps problems
	q := ports.FeedEvents{
		AccountID: queryID[id.Account](c, &ps, "account_id"),
		After:     queryID[id.Event](c, &ps, "after"),
	}
	if s, ok := query(c, "type"); ok {
		q.Type = &s
	}
	q.Limit = limitParam(c, &ps, maxFeedLimit)
	if !parsed(c, &ps) {
		return
	}
	f, err := h.app.Feed(c.Request.Context(), principal(c), q)
	if err != nil {
		fail(c, err)
		return
	}
	out := wire.EventFeed{Data: make([]wire.Event, len(f.Events))}
	for i, e := range f.Events {
		out.Data[i] = toEvent(e)
	}
	if !f.NextAfter.IsZero() {
		next := f.NextAfter.String()
		out.NextAfter = &next
	}
	c.JSON(http.StatusOK, out)
}

// maxFeedLimit is the most events a page of the feed holds.
const maxFeedLimit = 1000

func toEvent(e *ports.Recorded) wire.Event {
	w := wire.Event{
		ID: e.ID.String(), Type: string(e.Type), AccountID: e.AccountID.String(), OccurredAt: wireTime(e.OccurredAt),
		Actor:   wire.EventActor{Type: string(e.Actor.Kind)},
		Subject: wire.EventSubject{Type: e.Subject.Resource, ID: e.Subject.ID},
		Data:    e.Data,
	}
	if e.Actor.ID != "" {
		w.Actor.ID = &e.Actor.ID
	}
	return w
}

// eventResources write each aggregate in the API's shape, for the data of
// its events: each slice registers its own (eventResource), so that an
// event says exactly what the slice's answers say, and never more (no
// secret: the answers hold none).
var eventResources = map[reflect.Type]func(any) any{}

// eventResource registers toWire as the shape of T's events, where the
// slice declares its answers: var _ = eventResource(toGame).
func eventResource[T, W any](toWire func(T) W) struct{} {
	eventResources[reflect.TypeFor[T]()] = func(v any) any { return toWire(v.(T)) }
	return struct{}{}
}

// EncodeEvent is the data of an event: the resource after the change and,
// when it changed, "changes", each field that differs as [before, after]
// (updated_at aside, which every change moves).
func EncodeEvent(e event.Event) ([]byte, error) {
	after, err := encodeResource(e.After)
	if err != nil {
		return nil, err
	}
	if e.Before == nil {
		return after, nil
	}
	before, err := encodeResource(e.Before)
	if err != nil {
		return nil, err
	}
	var was, is map[string]json.RawMessage
	if err := json.Unmarshal(before, &was); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(after, &is); err != nil {
		return nil, err
	}
	fields := make([]string, 0, len(is))
	for f, v := range is {
		if f != "updated_at" && !bytes.Equal(v, was[f]) {
			fields = append(fields, f)
		}
	}
	slices.Sort(fields)
	var b bytes.Buffer
	b.Write(after[:len(after)-1]) // the object, open
	b.WriteString(`,"changes":{`)
	for i, f := range fields {
		if i > 0 {
			b.WriteByte(',')
		}
		old := was[f]
		if old == nil {
			old = json.RawMessage("null")
		}
		fmt.Fprintf(&b, "%q:[%s,%s]", f, old, is[f])
	}
	b.WriteString("}}")
	return b.Bytes(), nil
}

func encodeResource(v any) ([]byte, error) {
	toWire, ok := eventResources[reflect.TypeOf(v)]
	if !ok {
		return nil, fmt.Errorf("no event shape for %T (eventResource)", v)
	}
	return json.Marshal(toWire(v))
}
