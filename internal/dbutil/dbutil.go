// Package dbutil runs Sparrow's SQL: it qualifies table names with the
// configured schema and translates PostgreSQL errors into Sparrow's error
// vocabulary in one place, so pgx errors never leak past the storage code.
package dbutil

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/sparrowhq/sparrow/internal/errs"
)

// Executor is anything Sparrow can run statements on: a *pgxpool.Pool, a
// *pgx.Conn or a pgx.Tx.
type Executor interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	CopyFrom(ctx context.Context, table pgx.Identifier, columns []string, src pgx.CopyFromSource) (int64, error)
}

// schemaMarker precedes every table name in Sparrow's SQL. Being a comment,
// it leaves the SQL valid as written: unqualified names resolve through the
// search_path, which is what the zero Schema means.
const schemaMarker = "/*schema*/"

// Schema is the PostgreSQL schema that holds Sparrow's tables. The empty
// Schema means "whatever the connection's search_path resolves".
type Schema string

// On returns a DB running statements on e within s.
func (s Schema) On(e Executor) DB { return DB{exec: e, schema: s} }

// Render returns sql with its table names qualified by s.
func (s Schema) Render(sql string) string {
	if !strings.Contains(sql, schemaMarker) {
		return sql
	}
	key := renderKey{schema: s, sql: sql}
	if cached, ok := rendered.Load(key); ok {
		return cached.(string)
	}
	prefix := ""
	if s != "" {
		prefix = pgx.Identifier{string(s)}.Sanitize() + "."
	}
	out := strings.ReplaceAll(sql, schemaMarker, prefix)
	rendered.Store(key, out)
	return out
}

type renderKey struct {
	schema Schema
	sql    string
}

// rendered caches Render's output: the set of (schema, statement) pairs a
// process uses is small and fixed, and statements run on every delivery.
var rendered sync.Map

// DB is an Executor bound to a Schema.
type DB struct {
	exec   Executor
	schema Schema
}

// Exec runs sql after rendering its table names.
func (db DB) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	return db.exec.Exec(ctx, db.schema.Render(sql), args...)
}

// Query runs sql after rendering its table names.
func (db DB) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	return db.exec.Query(ctx, db.schema.Render(sql), args...)
}

// QueryRow runs sql after rendering its table names.
func (db DB) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	return db.exec.QueryRow(ctx, db.schema.Render(sql), args...)
}

// CopyFrom copies rows into table, qualified by the DB's schema.
func (db DB) CopyFrom(ctx context.Context, table string, columns []string, src pgx.CopyFromSource) (int64, error) {
	ident := pgx.Identifier{table}
	if db.schema != "" {
		ident = pgx.Identifier{string(db.schema), table}
	}
	return db.exec.CopyFrom(ctx, ident, columns, src)
}

// PostgreSQL error codes Sparrow treats specially.
const (
	codeUniqueViolation     = "23505"
	codeForeignKeyViolation = "23503"
	codeCheckViolation      = "23514"
	codeCharacterNotInRepo  = "22021" // e.g. a NUL byte in text
	codeUntranslatable      = "22P05"
	codeInvalidText         = "22P02"
	codeLockNotAvailable    = "55P03" // lock_timeout expired
)

// Interpret translates a PostgreSQL error into Sparrow's vocabulary; what it
// does not recognise comes back wrapped with op for context. Storage code
// calls it on every error, so callers only ever see Sparrow's errors or an
// unexpected failure.
func Interpret(op string, err error) error {
	if err == nil {
		return nil
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case codeUniqueViolation:
			return fmt.Errorf("%s: %w", op, errs.ErrAlreadyExists)
		case codeForeignKeyViolation, codeCheckViolation, codeCharacterNotInRepo, codeUntranslatable, codeInvalidText:
			// Validation catches these first; reaching here means a field
			// escaped it, which is still the caller's input at fault.
			return refused(op, pgErr)
		}
	}
	return fmt.Errorf("%s: %w", op, err)
}

// refusedError is a value PostgreSQL refused: to clients an invalid
// argument with a generic message, since PostgreSQL's own names tables,
// columns and constraints (the server's business); to the server's log,
// through Detail, PostgreSQL's account.
type refusedError struct {
	invalid *errs.InvalidArgumentError
	op      string
	cause   *pgconn.PgError
}

func refused(op string, cause *pgconn.PgError) *refusedError {
	return &refusedError{invalid: errs.InvalidArgument("", "a value in the request cannot be stored"), op: op, cause: cause}
}

func (e *refusedError) Error() string { return e.invalid.Error() }

// Unwrap leads errors.Is to ErrInvalidArgument and errors.As to the
// *InvalidArgumentError, and to nothing of the cause.
func (e *refusedError) Unwrap() error { return e.invalid }

// Detail returns PostgreSQL's account of a value it refused, when err
// carries one, for the server's log; "" otherwise.
func Detail(err error) string {
	var refused *refusedError
	if !errors.As(err, &refused) {
		return ""
	}
	return fmt.Sprintf("%s: %s (SQLSTATE %s, table %q, constraint %q)", refused.op, refused.cause.Message,
		refused.cause.Code, refused.cause.TableName, refused.cause.ConstraintName)
}

// IsUniqueViolation reports whether err is a unique violation on constraint
// (any constraint when constraint is empty).
func IsUniqueViolation(err error, constraint string) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == codeUniqueViolation &&
		(constraint == "" || pgErr.ConstraintName == constraint)
}

// IsLockTimeout reports whether err is a statement that gave up waiting for
// a lock (lock_timeout).
func IsLockTimeout(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == codeLockNotAvailable
}

// Namespaces selects the namespaces a maintenance statement covers: Only
// one, or (Only empty) every namespace but those in Except.
type Namespaces struct {
	Only   string
	Except []string
}

// Args returns the two arguments of NamespacesWhere.
func (n Namespaces) Args() []any { return []any{n.Only, n.Except} }

// NamespacesWhere is the condition matching Namespaces' Args bound to $1
// and $2, for column.
func NamespacesWhere(column string) string {
	return "($1 = '' OR " + column + " = $1) AND " + column + " <> ALL(coalesce($2::text[], '{}'))"
}
