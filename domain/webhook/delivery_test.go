package webhook_test

import (
	"testing"
	"time"

	"github.com/leadr-oss/identity/domain/webhook"
)

// The contract's schedule (section 10): the wait before attempt n+1 when
// attempt n failed.
var schedule = []time.Duration{
	5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour,
}

func TestNextAttemptFollowsTheSchedule(t *testing.T) {
	failed := time.Date(2026, 12, 7, 18, 0, 0, 0, time.UTC)
	// Float rounding may shift a wait by a nanosecond or so.
	const slack = time.Microsecond
	for i, wait := range schedule {
		attempt := i + 1
		for _, c := range []struct {
			jitter float64
			want   time.Duration
		}{
			{0, wait * 8 / 10},
			{0.5, wait},
			{0.999999, wait * 12 / 10},
		} {
			next, ok := webhook.NextAttempt(attempt, failed, c.jitter)
			if !ok {
				t.Fatalf("attempt %d: given up, want a retry after %v", attempt, wait)
			}
			got := next.Sub(failed)
			if got < wait*8/10-slack || got > wait*12/10+slack {
				t.Errorf("attempt %d, jitter %v: wait %v, outside %v ± 20%%", attempt, c.jitter, got, wait)
			}
			// Coarser where the jitter is just short of 1.
			if d := (got - c.want).Abs(); d > max(slack, wait/100_000) {
				t.Errorf("attempt %d, jitter %v: wait %v, want %v", attempt, c.jitter, got, c.want)
			}
		}
	}
}

func TestNextAttemptGivesUpAfterTheLast(t *testing.T) {
	failed := time.Date(2026, 12, 7, 18, 0, 0, 0, time.UTC)
	if webhook.MaxAttempts != len(schedule)+1 {
		t.Fatalf("MaxAttempts = %d, want %d", webhook.MaxAttempts, len(schedule)+1)
	}
	if _, ok := webhook.NextAttempt(webhook.MaxAttempts-1, failed, 0.5); !ok {
		t.Errorf("attempt %d was given up, want one more", webhook.MaxAttempts-1)
	}
	for _, attempt := range []int{webhook.MaxAttempts, webhook.MaxAttempts + 1, 0, -1} {
		if next, ok := webhook.NextAttempt(attempt, failed, 0.5); ok || !next.IsZero() {
			t.Errorf("attempt %d: next %v, %v; want none", attempt, next, ok)
		}
	}
}

func TestOutcomeSucceeded(t *testing.T) {
	for _, c := range []struct {
		o    webhook.Outcome
		want bool
	}{
		{webhook.Outcome{ResponseStatus: 200}, true},
		{webhook.Outcome{ResponseStatus: 204, Duration: time.Second}, true},
		{webhook.Outcome{ResponseStatus: 299}, true},
		{webhook.Outcome{ResponseStatus: 200, Error: "the answer came too late"}, false},
		{webhook.Outcome{}, false},
		{webhook.Outcome{Error: "connection refused"}, false},
		{webhook.Outcome{ResponseStatus: 100}, false},
		{webhook.Outcome{ResponseStatus: 199}, false},
		{webhook.Outcome{ResponseStatus: 300}, false},
		{webhook.Outcome{ResponseStatus: 301}, false},
		{webhook.Outcome{ResponseStatus: 404}, false},
		{webhook.Outcome{ResponseStatus: 410}, false},
		{webhook.Outcome{ResponseStatus: 500}, false},
	} {
		if got := c.o.Succeeded(); got != c.want {
			t.Errorf("%+v: Succeeded = %v, want %v", c.o, got, c.want)
		}
	}
}
