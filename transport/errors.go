package transport

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"

	"connectrpc.com/connect"
	"google.golang.org/genproto/googleapis/rpc/errdetails"

	"github.com/sparrowhq/sparrow"
	"github.com/sparrowhq/sparrow/internal/dbutil"
)

// codes is the one table from the engine's errors to Connect codes. Errors it
// doesn't list are internal: logged, and reported to the client as an id.
var codes = []struct {
	err  error
	code connect.Code
}{
	{sparrow.ErrInvalidArgument, connect.CodeInvalidArgument},
	{sparrow.ErrNotFound, connect.CodeNotFound},
	{sparrow.ErrAlreadyExists, connect.CodeAlreadyExists},
	{sparrow.ErrFailedPrecondition, connect.CodeFailedPrecondition},
	{sparrow.ErrResourceExhausted, connect.CodeResourceExhausted},
	{sparrow.ErrPermissionDenied, connect.CodePermissionDenied},
	{context.Canceled, connect.CodeCanceled},
	{context.DeadlineExceeded, connect.CodeDeadlineExceeded},
}

// CodeOf returns the Connect code an engine error is answered with.
func CodeOf(err error) connect.Code {
	var connectErr *connect.Error
	if errors.As(err, &connectErr) {
		return connectErr.Code()
	}
	for _, c := range codes {
		if errors.Is(err, c.err) {
			return c.code
		}
	}
	return connect.CodeInternal
}

// errorTranslator turns what handlers return into Connect errors: handlers
// return the engine's errors as they are, and this is the only place that
// decides what a client sees.
type errorTranslator struct {
	logger *slog.Logger
}

func (t *errorTranslator) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		res, err := next(ctx, req)
		if err == nil {
			return res, nil
		}
		return nil, t.translate(ctx, req.Spec().Procedure, err)
	}
}

func (t *errorTranslator) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return next
}

func (t *errorTranslator) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return next
}

func (t *errorTranslator) translate(ctx context.Context, procedure string, err error) error {
	var connectErr *connect.Error
	if errors.As(err, &connectErr) {
		return connectErr
	}
	code := CodeOf(err)
	if code != connect.CodeInternal {
		if detail := dbutil.Detail(err); detail != "" {
			// A value validation let through and PostgreSQL refused: the
			// client is told only that, the log what to fix.
			t.logger.WarnContext(ctx, "sparrow: the database refused a value", slog.String("procedure", procedure),
				slog.String("error", detail))
		}
		out := connect.NewError(code, err)
		var invalid *sparrow.InvalidArgumentError
		if errors.As(err, &invalid) && invalid.Field != "" {
			detail, detailErr := connect.NewErrorDetail(&errdetails.BadRequest{
				FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: invalid.Field, Description: invalid.Reason}},
			})
			if detailErr == nil {
				out.AddDetail(detail)
			}
		}
		return out
	}
	// Database and other internal failures stay in the server's log; the
	// client gets an id to quote.
	id := errorID()
	t.logger.ErrorContext(ctx, "sparrow: internal error", slog.String("procedure", procedure),
		slog.String("error_id", id), slog.String("error", err.Error()))
	return connect.NewError(connect.CodeInternal, errors.New("internal error (id "+id+")"))
}

// recovered answers a panic in a handler or interceptor as an internal
// error, like any other: the panic and its stack go to the log under an
// error id, the client gets the id, and the server carries on.
func (t *errorTranslator) recovered(ctx context.Context, spec connect.Spec, _ http.Header, p any) error {
	id := errorID()
	t.logger.ErrorContext(ctx, "sparrow: panic", slog.String("procedure", spec.Procedure), slog.String("error_id", id),
		slog.String("panic", fmt.Sprint(p)), slog.String("stack", string(debug.Stack())))
	return connect.NewError(connect.CodeInternal, errors.New("internal error (id "+id+")"))
}

func errorID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
