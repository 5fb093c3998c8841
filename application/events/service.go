// Package events holds the audit log and the change feed: the events every
// change records in its transaction, read back per account.
package events

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"time"

	"github.com/leadr-oss/identity/application/auth"
	"github.com/leadr-oss/identity/application/cursor"
	"github.com/leadr-oss/identity/domain"
	"github.com/leadr-oss/identity/domain/event"
	"github.com/leadr-oss/identity/domain/tenancy"
	"github.com/leadr-oss/identity/ports"
	"github.com/leadr-oss/identity/ports/paging"
)

// Service implements ports.Events.
type Service struct {
	repo      ports.EventRepository
	cursor    paging.Cursors
	now       ports.Clock
	retention time.Duration
}

var _ ports.Events = (*Service)(nil)

// NewService serves the events kept retention.
func NewService(repo ports.EventRepository, cursor paging.Cursors, now ports.Clock, retention time.Duration) *Service {
	return &Service{repo: repo, cursor: cursor, now: now, retention: retention}
}

// Feed pages, and the most a page holds.
const (
	DefaultFeedLimit = 100
	MaxFeedLimit     = 1000
)

// typePattern is an event type, or a prefix of types ending in ".*".
var typePattern = regexp.MustCompile(`^[a-z_]{1,32}\.([a-z_]{1,32}|\*)$`)

// idPattern is any ID's shape: a filter on anything else is refused
// rather than sent to the database.
var idPattern = regexp.MustCompile(`^[a-z]{3}_[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

func parseType(raw *string) (string, error) {
	if raw == nil {
		return "", nil
	}
	if !typePattern.MatchString(*raw) {
		return "", domain.Rejected("type", "Must be an event type, such as identity.created, or a prefix of types ending in .*, such as identity.*", *raw)
	}
	return *raw, nil
}

// parseIDFilter reads an ID of any kind (the subject or the actor of
// events), in its lower-case form, as events hold it.
func parseIDFilter(field string, raw *string) (string, error) {
	if raw == nil {
		return "", nil
	}
	if !idPattern.MatchString(*raw) {
		return "", domain.Rejected(field, "Must be an ID, such as ide_0192f7e4-8a4e-7c3b-9d2a-6f1e0b9c4d21", *raw)
	}
	return strings.ToLower(*raw), nil
}

// List is the audit log: a regular key reads its account's events only.
func (s *Service) List(ctx context.Context, p tenancy.Principal, q ports.ListEvents) (paging.Page[*ports.Recorded], error) {
	typ, err1 := parseType(q.Type)
	subject, err2 := parseIDFilter("subject_id", q.SubjectID)
	actor, err3 := parseIDFilter("actor_id", q.ActorID)
	if err := errors.Join(err1, err2, err3); err != nil {
		return paging.Page[*ports.Recorded]{}, err
	}
	scope, err := auth.ListScope(p, q.AccountID)
	if err != nil {
		return paging.Page[*ports.Recorded]{}, err
	}
	f := ports.EventFilter{AccountID: scope, Type: typ, SubjectID: subject, ActorID: actor}
	return cursor.List(s.cursor, ports.EventSchema, q.Page, cursor.Fingerprint(f),
		func(r paging.Request) (paging.Result[*ports.Recorded], error) { return s.repo.List(ctx, f, r) })
}

// Feed is the change feed: every event of the reader's scope exactly once,
// in one order, from after on.
func (s *Service) Feed(ctx context.Context, p tenancy.Principal, q ports.FeedEvents) (ports.Feed, error) {
	typ, err := parseType(q.Type)
	limit := q.Limit
	switch {
	case limit == 0:
		limit = DefaultFeedLimit
	case limit < 1 || limit > MaxFeedLimit:
		err = errors.Join(err, domain.Rejected("limit", "Must be between 1 and 1000", q.Limit))
	}
	if err != nil {
		return ports.Feed{}, err
	}
	scope, err := auth.ListScope(p, q.AccountID)
	if err != nil {
		return ports.Feed{}, err
	}
	if !q.After.IsZero() && q.After.Time().Before(s.now().Add(-s.retention)) {
		return ports.Feed{}, event.ErrPositionExpired
	}
	events, err := s.repo.Feed(ctx, ports.EventFilter{AccountID: scope, Type: typ}, q.After, limit)
	if err != nil {
		return ports.Feed{}, err
	}
	next := q.After
	if len(events) > 0 {
		next = events[len(events)-1].ID
	}
	return ports.Feed{Events: events, NextAfter: next}, nil
}
