// Package errs holds the error vocabulary shared by Sparrow's packages. The
// root package re-exports every identifier here, so users match errors with
// sparrow.ErrNotFound and friends and never import this package.
package errs

import (
	"errors"
	"fmt"
)

var (
	// ErrNotFound is returned when the addressed resource does not exist in
	// the namespace named by the request (including when it exists in another
	// namespace: namespaces never reveal each other's contents).
	ErrNotFound = errors.New("not found")

	// ErrAlreadyExists is returned when creating a resource whose identity is
	// already taken, such as a second subscription of a webhook to one event.
	ErrAlreadyExists = errors.New("already exists")

	// ErrInvalidArgument is matched by every *InvalidArgumentError.
	ErrInvalidArgument = errors.New("invalid argument")

	// ErrFailedPrecondition is matched by every *FailedPreconditionError.
	ErrFailedPrecondition = errors.New("failed precondition")

	// ErrPermissionDenied is returned for what no caller may do, such as
	// pushing an event of one of Sparrow's own types.
	ErrPermissionDenied = errors.New("permission denied")

	// ErrResourceExhausted is returned when a request exceeds a configured
	// size limit as a whole (rather than one field of it being invalid).
	ErrResourceExhausted = errors.New("resource exhausted")
)

// InvalidArgumentError reports input that can never succeed as given. Field
// names the offending input the way the API spells it ("url",
// "labels[region]", "events[2]"), so a caller can point at it.
type InvalidArgumentError struct {
	Field  string
	Reason string
}

// InvalidArgument returns an *InvalidArgumentError for field.
func InvalidArgument(field, format string, args ...any) *InvalidArgumentError {
	return &InvalidArgumentError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

func (e *InvalidArgumentError) Error() string {
	if e.Field == "" {
		return "invalid argument: " + e.Reason
	}
	return "invalid argument: " + e.Field + ": " + e.Reason
}

// Is makes errors.Is(err, ErrInvalidArgument) true.
func (e *InvalidArgumentError) Is(target error) bool { return target == ErrInvalidArgument }

// FailedPreconditionError reports a request that is well formed but refused
// in the system's current state, such as pushing an inactive event type.
type FailedPreconditionError struct {
	Reason string
}

// FailedPrecondition returns a *FailedPreconditionError.
func FailedPrecondition(format string, args ...any) *FailedPreconditionError {
	return &FailedPreconditionError{Reason: fmt.Sprintf(format, args...)}
}

func (e *FailedPreconditionError) Error() string { return "failed precondition: " + e.Reason }

// Is makes errors.Is(err, ErrFailedPrecondition) true.
func (e *FailedPreconditionError) Is(target error) bool { return target == ErrFailedPrecondition }

// NotFound wraps ErrNotFound with the kind and id of what was missing.
func NotFound(kind, id string) error {
	return fmt.Errorf("%s %q: %w", kind, id, ErrNotFound)
}

// AlreadyExists wraps ErrAlreadyExists with a description of the conflict.
func AlreadyExists(format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), ErrAlreadyExists)
}
