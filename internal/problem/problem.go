// Package problem is the one error shape Parley's domain returns to its edges. The HTTP layer
// renders it as application/problem+json; the CLI prints its detail. A Kind says which class of
// failure it is (and so the HTTP status); Code is a stable machine-readable string clients may
// switch on, documented in the OpenAPI document.
package problem

import (
	"errors"
	"fmt"
)

// Kind classifies an error.
type Kind int

const (
	Internal Kind = iota
	Invalid
	NotFound
	Conflict
	Unauthorized
	Forbidden
	TooLarge
	TooMany
	Unavailable
)

// Error is a domain error with a stable code.
type Error struct {
	Kind   Kind
	Code   string
	Detail string
	// Fields names the request fields at fault, with a message for each.
	Fields map[string]string
}

func (e *Error) Error() string {
	if e.Detail != "" {
		return e.Code + ": " + e.Detail
	}
	return e.Code
}

// Status is the HTTP status of the error's kind, for the edges that speak HTTP (the API and
// the web app).
func (e *Error) Status() int {
	if s, ok := kindStatus[e.Kind]; ok {
		return s
	}
	return 500
}

var kindStatus = map[Kind]int{
	Internal:     500,
	Invalid:      400,
	NotFound:     404,
	Conflict:     409,
	Unauthorized: 401,
	Forbidden:    403,
	TooLarge:     413,
	TooMany:      429,
	Unavailable:  503,
}

// New returns an error of the given kind.
func New(kind Kind, code, format string, args ...any) *Error {
	return &Error{Kind: kind, Code: code, Detail: fmt.Sprintf(format, args...)}
}

// NotFoundf reports a missing (or invisible) resource.
func NotFoundf(code, format string, args ...any) *Error {
	return New(NotFound, code, format, args...)
}

// Invalidf reports bad input.
func Invalidf(code, format string, args ...any) *Error {
	return New(Invalid, code, format, args...)
}

// Field reports bad input in one named field.
func Field(code, field, message string) *Error {
	return &Error{Kind: Invalid, Code: code, Detail: field + ": " + message, Fields: map[string]string{field: message}}
}

// Conflictf reports a clash with existing state.
func Conflictf(code, format string, args ...any) *Error {
	return New(Conflict, code, format, args...)
}

// Forbiddenf reports an action the caller may not take on something they can see.
func Forbiddenf(code, format string, args ...any) *Error {
	return New(Forbidden, code, format, args...)
}

// As extracts a *Error from err.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}
