// Package domain holds what every aggregate shares: the error categories the
// adapters translate into responses. Aggregates live in the sub-packages.
package domain

import (
	"errors"
	"fmt"
)

// Category says what kind of failure an error is. Adapters map categories to
// statuses in one place and never need to know individual errors.
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
	CategoryUnavailable
)

// Error is a failure with a category and a message meant for the caller.
// Invalid errors also name the field at fault and a stable machine code, so
// that an adapter can point at the exact input.
type Error struct {
	Category Category
	Message  string
	// Field, Code, Input and Context are set for CategoryInvalid only.
	Field   string
	Code    string
	Input   any
	Context map[string]any
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s: %s", e.Field, e.Message)
	}
	return e.Message
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

// Invalid reports that one input field breaks a rule. Code is a stable,
// machine-readable name of the rule ("value_error", "string_too_long", …).
func Invalid(field, code, message string, input any) *Error {
	return &Error{Category: CategoryInvalid, Field: field, Code: code, Message: message, Input: input}
}

// InvalidValue is the common case of Invalid: a value the field's own rules reject.
func InvalidValue(field, message string, input any) *Error {
	return Invalid(field, "value_error", message, input)
}

// Missing reports a required field that was not given.
func Missing(field string) *Error {
	return Invalid(field, "missing", "Field required", nil)
}

// WithField returns a copy of an Invalid error attributed to another field;
// value types validate without knowing which input they came from.
func WithField(err error, field string) error {
	var de *Error
	if !errors.As(err, &de) || de.Category != CategoryInvalid {
		return err
	}
	cp := *de
	cp.Field = field
	return &cp
}

func BadRequest(message string) *Error { return &Error{Category: CategoryBadRequest, Message: message} }
func Unauthenticated(message string) *Error {
	return &Error{Category: CategoryUnauthenticated, Message: message}
}
func Forbidden(message string) *Error { return &Error{Category: CategoryForbidden, Message: message} }
func NotFound(message string) *Error  { return &Error{Category: CategoryNotFound, Message: message} }
func Conflict(message string) *Error  { return &Error{Category: CategoryConflict, Message: message} }
func Unavailable(message string) *Error {
	return &Error{Category: CategoryUnavailable, Message: message}
}
