// Package domain holds what every aggregate shares: the error categories the
// adapters translate into responses. Aggregates live in the sub-packages.
package domain

import (
	"errors"
	"fmt"
	"strings"
)

// Category says what kind of failure an error is. Adapters map categories to
// statuses in one place; an individual error matters to them only for what
// its status cannot say (the HTTP adapter names the Bearer scheme on the
// 401 of a missing or invalid access token).
type Category uint8

const (
	// CategoryInternal is the zero value: a failure nobody anticipated.
	CategoryInternal Category = iota
	// CategoryInvalid marks a single input field that breaks a rule.
	CategoryInvalid
	// CategoryBadRequest marks a request that cannot be served as asked
	// (an unknown sort field, a cursor that does not fit).
	CategoryBadRequest
	CategoryUnauthenticated
	CategoryForbidden
	CategoryNotFound
	CategoryConflict
	// CategoryPreconditionFailed marks a request whose precondition (a
	// single-use nonce, an entity tag) does not hold.
	CategoryPreconditionFailed
	// CategoryUnavailable marks a dependency that does not answer in time
	// (Steam's Web API): the request may succeed later.
	CategoryUnavailable
	// CategoryGone marks a reference to something that was there and is
	// kept no longer (a feed position past the events' retention).
	CategoryGone
)

// Rule is the kind of rule an invalid input breaks. It is data rather than
// text so that each adapter can word the failure in its own protocol's terms.
type Rule uint8

const (
	// NoRule is the zero value, on errors that are not CategoryInvalid.
	NoRule Rule = iota
	// Required: the field was not given.
	Required
	// MinLength: the text has fewer than Limit characters (code points).
	MinLength
	// MaxLength: the text has more than Limit characters (code points).
	MaxLength
	// OneOf: the value is none of Allowed.
	OneOf
	// Custom: a rule of the field's own, which Message states.
	Custom
)

// Error is a failure with a category and what a caller needs to act on it.
//
// For CategoryInvalid it says which field broke which Rule, with the rule's
// parameter (Limit or Allowed) and the offending Input, so that an adapter
// can point at the exact input and explain it in its own words. Message is
// what the caller is told; Invalid errors carry one for the Custom rule
// only, because the other rules explain themselves.
type Error struct {
	Category Category
	Message  string
	Field    string
	Rule     Rule
	// Limit is the bound of MinLength and MaxLength.
	Limit int
	// Allowed lists the values OneOf accepts, in the order to name them.
	Allowed []string
	// Input is the rejected value; none for Required.
	Input any
	// Facts are what the caller is told beside Message, by name: when a
	// ban ends, which player holds an identity. Values are strings, times
	// (zero for none) or nil.
	Facts map[string]any
}

// Is makes an error with facts match the sentinel it was made from
// (WithFacts): the facts vary, the failure is the same.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && e.Facts != nil && t.Facts == nil &&
		t.Category == e.Category && t.Message == e.Message && t.Field == e.Field
}

// WithFacts is e telling facts too; errors.Is still finds e in it.
func (e *Error) WithFacts(facts map[string]any) *Error {
	c := *e
	c.Facts = facts
	return &c
}

func (e *Error) Error() string {
	msg := e.Message
	switch e.Rule {
	case Required:
		msg = "required"
	case MinLength:
		msg = "must have at least " + characters(e.Limit)
	case MaxLength:
		msg = "must have at most " + characters(e.Limit)
	case OneOf:
		msg = "must be one of " + strings.Join(e.Allowed, ", ")
	}
	if e.Field != "" {
		return fmt.Sprintf("%s: %s", e.Field, msg)
	}
	return msg
}

func characters(n int) string {
	if n == 1 {
		return "1 character"
	}
	return fmt.Sprintf("%d characters", n)
}

// CategoryOf returns the category of the first *Error in err's chain, or
// CategoryInternal when there is none.
func CategoryOf(err error) Category {
	var de *Error
	if errors.As(err, &de) {
		return de.Category
	}
	return CategoryInternal
}

// Missing reports a required field that was not given.
func Missing(field string) *Error {
	return &Error{Category: CategoryInvalid, Field: field, Rule: Required}
}

// TooShort reports text shorter than minLen characters.
func TooShort(field string, minLen int, input any) *Error {
	return &Error{Category: CategoryInvalid, Field: field, Rule: MinLength, Limit: minLen, Input: input}
}

// TooLong reports text longer than maxLen characters.
func TooLong(field string, maxLen int, input any) *Error {
	return &Error{Category: CategoryInvalid, Field: field, Rule: MaxLength, Limit: maxLen, Input: input}
}

// NotOneOf reports a value outside a closed set.
func NotOneOf(field string, allowed []string, input any) *Error {
	return &Error{Category: CategoryInvalid, Field: field, Rule: OneOf, Allowed: allowed, Input: input}
}

// Rejected reports a value that breaks a rule of the field's own; message
// states the rule for the caller. Field may be empty when a value type does
// not know which input it came from: the adapter that read it names it.
func Rejected(field, message string, input any) *Error {
	return &Error{Category: CategoryInvalid, Field: field, Rule: Custom, Message: message, Input: input}
}

func BadRequest(message string) *Error { return &Error{Category: CategoryBadRequest, Message: message} }
func Unauthenticated(message string) *Error {
	return &Error{Category: CategoryUnauthenticated, Message: message}
}
func Forbidden(message string) *Error { return &Error{Category: CategoryForbidden, Message: message} }
func NotFound(message string) *Error  { return &Error{Category: CategoryNotFound, Message: message} }
func Conflict(message string) *Error  { return &Error{Category: CategoryConflict, Message: message} }
func PreconditionFailed(message string) *Error {
	return &Error{Category: CategoryPreconditionFailed, Message: message}
}
func Gone(message string) *Error { return &Error{Category: CategoryGone, Message: message} }
func Unavailable(message string) *Error {
	return &Error{Category: CategoryUnavailable, Message: message}
}
