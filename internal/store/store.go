// Package store is Sparrow's SQL: one file per table, each operation a
// function named for its table and verb (WebhookGet, DeliveryInsertMany,
// EventTakeQueued), taking a dbutil.DB bound to the engine's schema. It
// speaks in the domain packages' types and Sparrow's errors: pgx errors are
// translated (dbutil.Interpret) before they leave.
package store

import (
	"encoding/json"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sparrowhq/sparrow/internal/dbutil"
	"github.com/sparrowhq/sparrow/internal/errs"
)

// scanOne scans row with scan, translating no row into a NotFound of what
// id, and other errors with op for context.
func scanOne[T any](scan func(pgx.Row) (*T, error), what string, row pgx.Row, op, id string) (*T, error) {
	v, err := scan(row)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errs.NotFound(what, id)
	}
	if err != nil {
		return nil, dbutil.Interpret(op, err)
	}
	return v, nil
}

// collectPage returns a function collecting the rows of a listing that
// asked for limit+1 of them: the first limit, scanned with scan, and
// whether more followed.
func collectPage[T any](scan func(pgx.Row) (*T, error), limit int, op string) func(pgx.Rows, error) ([]T, bool, error) {
	return func(rows pgx.Rows, err error) ([]T, bool, error) {
		if err != nil {
			return nil, false, dbutil.Interpret(op, err)
		}
		items, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (T, error) {
			v, err := scan(row)
			if err != nil {
				var zero T
				return zero, err
			}
			return *v, nil
		})
		if err != nil {
			return nil, false, dbutil.Interpret(op, err)
		}
		return items[:min(len(items), limit)], len(items) > limit, nil
	}
}

// nullString returns s, or nil (SQL NULL) when it is empty.
func nullString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// nullTime returns t, or nil (SQL NULL) when it is zero.
func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// deref returns *t, or the zero time for SQL NULL.
func deref(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

// nullJSON returns raw, or nil (SQL NULL) when it is empty.
func nullJSON(raw json.RawMessage) []byte {
	if len(raw) == 0 {
		return nil
	}
	return raw
}

// emptyIfNil returns m, or an empty map in its place, for a jsonb column
// that is never NULL.
func emptyIfNil(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}
