package event

import "github.com/leadr-oss/identity/domain"

var (
	// ErrUnknownPosition: a feed's after that names no event the reader
	// may see.
	ErrUnknownPosition = domain.NotFound("Event not found")
	// ErrPositionExpired: a feed's after older than the events kept.
	ErrPositionExpired = domain.Gone("Event feed position expired")
)
