package client

import (
	"context"
	"iter"
	"net/http"
	"time"

	"github.com/leadr-oss/identity/wire"
)

// The bodies of events (see package wire).
type (
	Event     = wire.Event
	EventFeed = wire.EventFeed
)

// ListEventsParams filter, sort and page the audit log; empty fields are
// left out.
type ListEventsParams struct {
	AccountID string
	// Type is an event type, or a prefix of types ending in ".*".
	Type      string
	SubjectID string
	ActorID   string
	Sort      string
	Cursor    string
	Limit     int
}

func (p ListEventsParams) query() string {
	return query("account_id", p.AccountID, "type", p.Type, "subject_id", p.SubjectID, "actor_id", p.ActorID,
		"sort", p.Sort, "cursor", p.Cursor, "limit", limit(p.Limit))
}

// ListEvents is one page of the audit log, newest first by default.
func (c *Client) ListEvents(ctx context.Context, p ListEventsParams) (Page[Event], error) {
	var page Page[Event]
	_, err := c.call(ctx, http.MethodGet, "/v1/events"+p.query(), nil, &page)
	return page, err
}

// FeedParams select a page of the change feed.
type FeedParams struct {
	AccountID string
	Type      string
	// After is the NextAfter of the previous page; empty: from the first
	// event kept.
	After string
	Limit int
}

// EventFeed is one page of the change feed, oldest first.
func (c *Client) EventFeed(ctx context.Context, p FeedParams) (EventFeed, error) {
	var page EventFeed
	_, err := c.call(ctx, http.MethodGet, "/v1/events/feed"+query("account_id", p.AccountID, "type", p.Type,
		"after", p.After, "limit", limit(p.Limit)), nil, &page)
	return page, err
}

// FollowEvents yields every event of the feed from p.After on, exactly
// once and in the feed's order, polling every interval once it has caught
// up, until ctx ends or a call fails. A consumer that saves each event's
// ID and resumes with it as After misses none across restarts.
func (c *Client) FollowEvents(ctx context.Context, p FeedParams, interval time.Duration) iter.Seq2[Event, error] {
	return func(yield func(Event, error) bool) {
		for {
			page, err := c.EventFeed(ctx, p)
			if err != nil {
				yield(Event{}, err)
				return
			}
			for _, e := range page.Data {
				if !yield(e, nil) {
					return
				}
			}
			if page.NextAfter != nil {
				p.After = *page.NextAfter
			}
			if len(page.Data) > 0 {
				continue
			}
			select {
			case <-ctx.Done():
				yield(Event{}, ctx.Err())
				return
			case <-time.After(interval):
			}
		}
	}
}
