package apptest

import (
	"testing"

	"github.com/leadr-oss/identity/domain/event"
	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/ports"
)

// RecordedDuring is every event repo records while change runs, in the
// order they were recorded: how a use case's test sees the events it
// speaks in.
func RecordedDuring(t testing.TB, repo ports.EventRepository, change func()) []*ports.Recorded {
	t.Helper()
	var last id.EventID
	if before := recordedAfter(t, repo, id.EventID{}); len(before) > 0 {
		last = before[len(before)-1].ID
	}
	change()
	return recordedAfter(t, repo, last)
}

// recordedAfter is every event repo holds after the event after (zero:
// from the first).
func recordedAfter(t testing.TB, repo ports.EventRepository, after id.EventID) []*ports.Recorded {
	t.Helper()
	const limit = 1000
	var all []*ports.Recorded
	for {
		page, err := repo.Feed(t.Context(), ports.EventFilter{}, after, limit)
		if err != nil {
			t.Fatalf("events after %s: %v", after, err)
		}
		all = append(all, page...)
		if len(page) < limit {
			return all
		}
		after = page[len(page)-1].ID
	}
}

// EventTypes are the types of events, in their order.
func EventTypes(events []*ports.Recorded) []event.Type {
	out := make([]event.Type, len(events))
	for i, e := range events {
		out[i] = e.Type
	}
	return out
}
