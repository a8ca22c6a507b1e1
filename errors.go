package sparrow

import "github.com/sparrowhq/sparrow/internal/errs"

// Errors returned by the engine. Match them with errors.Is; the typed ones
// with errors.As. transport maps each to its Connect code.
var (
	// ErrNotFound is returned when the addressed resource does not exist in
	// the namespace named (including when it exists in another namespace:
	// namespaces never reveal each other's contents).
	ErrNotFound = errs.ErrNotFound

	// ErrAlreadyExists is returned when creating something whose identity is
	// taken: an event type's name, a webhook's second subscription to one
	// event type.
	ErrAlreadyExists = errs.ErrAlreadyExists

	// ErrInvalidArgument is matched by every *InvalidArgumentError.
	ErrInvalidArgument = errs.ErrInvalidArgument

	// ErrFailedPrecondition is matched by every *FailedPreconditionError.
	ErrFailedPrecondition = errs.ErrFailedPrecondition

	// ErrPermissionDenied is returned for what no caller may do: pushing an
	// event of one of Sparrow's own types (sparrow.*), which only the engine
	// raises.
	ErrPermissionDenied = errs.ErrPermissionDenied

	// ErrResourceExhausted is returned when a request is over a configured
	// size limit as a whole, such as a batch with too many events.
	ErrResourceExhausted = errs.ErrResourceExhausted
)

// InvalidArgumentError reports input that can never succeed as given; Field
// names the offending input as the API spells it ("url", "labels[region]",
// "events[2]"). It matches ErrInvalidArgument.
type InvalidArgumentError = errs.InvalidArgumentError

// FailedPreconditionError reports a well-formed request refused in the
// system's current state, such as pushing an inactive event type. It matches
// ErrFailedPrecondition.
type FailedPreconditionError = errs.FailedPreconditionError
