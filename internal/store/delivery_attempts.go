package store

import (
	"context"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/sparrowhq/sparrow/delivery"
	"github.com/sparrowhq/sparrow/internal/dbutil"
)

func deliveryAttemptList(ctx context.Context, db dbutil.DB, deliveryID string) ([]delivery.Attempt, error) {
	rows, err := db.Query(ctx, `
SELECT delivery_id, attempt, webhook_id, started_at, duration_us, status_code, error_class, error,
    request_headers, response_headers, response_body, response_body_truncated, next_attempt_at, manual
FROM /*schema*/sparrow_delivery_attempt WHERE delivery_id = $1 ORDER BY attempt`, deliveryID)
	if err != nil {
		return nil, dbutil.Interpret("get attempts", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (delivery.Attempt, error) {
		var a delivery.Attempt
		var durationUS int64
		var code *int
		var next *time.Time
		err := row.Scan(&a.DeliveryID, &a.Number, &a.WebhookID, &a.StartedAt, &durationUS, &code, &a.ErrorClass, &a.Error,
			&a.RequestHeaders, &a.ResponseHeaders, &a.ResponseBody, &a.ResponseBodyTruncated, &next, &a.Manual)
		a.Duration = time.Duration(durationUS) * time.Microsecond
		a.NextAttemptAt = deref(next)
		if code != nil {
			a.StatusCode = *code
		}
		return a, err
	})
	return out, dbutil.Interpret("get attempts", err)
}

// AttemptRecord is an attempt to store with the delivery status it leads to.
type AttemptRecord struct {
	Attempt delivery.Attempt
	// Status is the delivery's status after the attempt.
	Status delivery.Status
}

// DeliveryRecordAttempts stores attempts and moves their deliveries on, in one
// statement for the whole batch. It returns the ids of the deliveries moved:
// a record whose delivery was already past that attempt (a worker re-run
// after a crash) or no longer pending is stored but moves nothing. A
// manual attempt moves a delivery whose manual attempt was asked for,
// whatever its status, and counts apart from the automatic ones; any
// attempt recorded fulfils the request.
func DeliveryRecordAttempts(ctx context.Context, db dbutil.DB, records []*AttemptRecord, now time.Time) ([]string, error) {
	n := len(records)
	var (
		deliveryIDs, webhookIDs, classes, messages, statuses = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		numbers                                              = make([]int32, n)
		codes                                                = make([]*int32, n)
		started                                              = make([]time.Time, n)
		next                                                 = make([]*time.Time, n)
		durations                                            = make([]int64, n)
		reqHeaders, respHeaders                              = make([]string, n), make([]string, n)
		bodies                                               = make([][]byte, n)
		truncated, manual                                    = make([]bool, n), make([]bool, n)
	)
	for i, r := range records {
		a := r.Attempt
		deliveryIDs[i], webhookIDs[i], classes[i], messages[i], statuses[i] = a.DeliveryID, a.WebhookID, string(a.ErrorClass), a.Error, string(r.Status)
		numbers[i], started[i], next[i], durations[i] = int32(a.Number), a.StartedAt, nullTime(a.NextAttemptAt), a.Duration.Microseconds()
		if a.StatusCode != 0 {
			code := int32(a.StatusCode)
			codes[i] = &code
		}
		reqHeaders[i], respHeaders[i] = jsonString(a.RequestHeaders), jsonString(a.ResponseHeaders)
		bodies[i], truncated[i], manual[i] = a.ResponseBody, a.ResponseBodyTruncated, a.Manual
	}
	rows, err := db.Query(ctx, `
WITH input AS (
    SELECT * FROM unnest($1::text[], $2::int[], $3::text[], $4::timestamptz[], $5::bigint[], $6::int[], $7::text[], $8::text[],
        $9::jsonb[], $10::jsonb[], $11::bytea[], $12::boolean[], $13::timestamptz[], $14::text[], $16::boolean[])
    AS i (delivery_id, attempt, webhook_id, started_at, duration_us, status_code, error_class, error,
        request_headers, response_headers, response_body, response_body_truncated, next_attempt_at, status, manual)
), attempts AS (
    INSERT INTO /*schema*/sparrow_delivery_attempt (delivery_id, attempt, webhook_id, started_at, duration_us, status_code,
        error_class, error, request_headers, response_headers, response_body, response_body_truncated, next_attempt_at, manual)
    SELECT delivery_id, attempt, webhook_id, started_at, duration_us, status_code, error_class, error,
        request_headers, response_headers, response_body, response_body_truncated, next_attempt_at, manual
    FROM input
    ON CONFLICT (delivery_id, attempt) DO NOTHING
), moving AS (
    -- The deliveries the records move on, looked up and locked one by one
    -- by primary key alone (OFFSET 0 keeps the lookups from being flattened
    -- into a join that hashes every pending delivery, and the conditions
    -- out of them: given the status, a planner that believes few deliveries
    -- pending, as after a VACUUM of a large history, walks the whole index of
    -- pending deliveries for each). Locked, they can't change before the
    -- update below, which therefore needs no conditions of its own; its
    -- join finds each row by primary key (with "id = ANY" of them all, it
    -- looked every one up again for each).
    SELECT i.* FROM input i, LATERAL (
        SELECT d.attempt_count, d.manual_attempt_count, d.status, d.retry_requested
        FROM /*schema*/sparrow_delivery d WHERE d.id = i.delivery_id OFFSET 0 FOR UPDATE
    ) d
    WHERE d.attempt_count + d.manual_attempt_count = i.attempt - 1
      AND CASE WHEN i.manual THEN d.retry_requested ELSE d.status IN ('pending', 'retrying') END
)
UPDATE /*schema*/sparrow_delivery d
SET status = i.status, attempt_count = d.attempt_count + (NOT i.manual)::int,
    manual_attempt_count = d.manual_attempt_count + i.manual::int, retry_requested = false,
    next_attempt_at = i.next_attempt_at, last_attempt_at = i.started_at,
    last_status_code = i.status_code, last_error_class = i.error_class, last_error = i.error, updated_at = $15,
    completed_at = CASE WHEN i.status IN ('succeeded', 'failed') THEN $15::timestamptz END, carried_by_job = NULL
FROM moving i
WHERE d.id = i.delivery_id
RETURNING d.id`,
		// Planned for the table as it is now (see DeliveryLoadWork), its arrays sent
		// in binary once described: in text, PostgreSQL's parsing of a
		// batch's fourteen arrays costs more than the round trip.
		pgx.QueryExecModeDescribeExec,
		deliveryIDs, numbers, webhookIDs, started, durations, codes, classes, messages,
		reqHeaders, respHeaders, bodies, truncated, next, statuses, now, manual)
	if err != nil {
		return nil, dbutil.Interpret("record attempts", err)
	}
	moved, err := pgx.CollectRows(rows, pgx.RowTo[string])
	return moved, dbutil.Interpret("record attempts", err)
}

// jsonString encodes m as a JSON object, by hand: encoding/json reflects
// over the map and sorts its keys, two and a half times the time and ten
// times the allocations for an attempt's headers (BenchmarkJSONString), and
// jsonb keeps the same value either way.
func jsonString(m map[string]string) string {
	b := make([]byte, 0, 2+64*len(m))
	b = append(b, '{')
	for k, v := range m {
		if len(b) > 1 {
			b = append(b, ',')
		}
		b = append(appendJSONString(b, k), ':')
		b = appendJSONString(b, v)
	}
	return string(append(b, '}'))
}

// appendJSONString appends s as a JSON string, invalid UTF-8 replaced by
// U+FFFD as encoding/json does.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0 // of the bytes not appended yet, which need no escaping
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		b = append(b, s[start:i]...)
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		case r == utf8.RuneError && size == 1:
			b = append(b, `\ufffd`...)
		default:
			b = append(b, s[i:i+size]...)
		}
		i += size
		start = i
	}
	return append(append(b, s[start:]...), '"')
}
