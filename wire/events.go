package wire

import (
	"encoding/json"
	"time"
)

// Event is one change, as the audit log and the change feed give it.
type Event struct {
	ID         string          `json:"id"`
	Type       string          `json:"type"`
	AccountID  string          `json:"account_id"`
	OccurredAt time.Time       `json:"occurred_at"`
	Actor      EventActor      `json:"actor"`
	Subject    EventSubject    `json:"subject"`
	Data       json.RawMessage `json:"data"`
}

// EventActor is who made a change: "api_key" or "session" with its ID, or
// "system" with none.
type EventActor struct {
	Type string  `json:"type"`
	ID   *string `json:"id"`
}

// EventSubject is what changed.
type EventSubject struct {
	Type string `json:"type"`
	ID   string `json:"id"`
}

// EventFeed is a page of the change feed. NextAfter is where to read on
// from; null only when no event was ever seen.
type EventFeed struct {
	Data      []Event `json:"data"`
	NextAfter *string `json:"next_after"`
}
