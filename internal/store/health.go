package store

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/sparrowhq/sparrow/health"
	"github.com/sparrowhq/sparrow/internal/dbutil"
	"github.com/sparrowhq/sparrow/internal/errs"
	"github.com/sparrowhq/sparrow/webhook"
)

// HealthObservation is one recorded attempt, as health counts it.
type HealthObservation struct {
	WebhookID string
	Namespace string
	At        time.Time
	Duration  time.Duration
	// ErrorClass is empty for a success.
	ErrorClass string
	// StatusCode is the HTTP status; 0 when there was no answer.
	StatusCode int
}

// healthRow is a webhook's health row.
type healthRow struct {
	webhookID, namespace string
	state                health.State
	reason               string
	changedAt            time.Time
	consecutive          int
	failingSince         *time.Time
	lastSuccess          *time.Time
	lastFailure          *time.Time
	generation           int
	resetAt              *time.Time
}

type healthBucketKey struct {
	webhookID string
	bucket    time.Time
	class     string
}

type healthBucketSum struct {
	attempts   int32
	durationUS int64
	histogram  histogram
	// statuses counts attempts by statusKey.
	statuses map[string]int32
}

// statusKey is how health counts an attempt's HTTP status: "200", "503", or
// health.NoAnswer.
func statusKey(code int) string {
	if code == 0 {
		return health.NoAnswer
	}
	return strconv.Itoa(code)
}

// HealthApply counts a batch of observations into their webhooks' health, decides
// each webhook's state anew at time now, and returns the state changes, in
// webhook order. A disabled webhook stays disabled until HealthReset: its
// observations still count in the figures but change no state. It locks the
// webhooks' health rows (in id order, so concurrent batches cannot deadlock)
// until the transaction ends.
func HealthApply(ctx context.Context, db dbutil.DB, obs []HealthObservation, t health.Thresholds, now time.Time) ([]health.Transition, error) {
	if len(obs) == 0 {
		return nil, nil
	}
	obs = slices.Clone(obs)
	slices.SortFunc(obs, func(a, b HealthObservation) int {
		if c := strings.Compare(a.WebhookID, b.WebhookID); c != 0 {
			return c
		}
		return a.At.Compare(b.At)
	})
	rows, err := healthLockRows(ctx, db, obs, now)
	if err != nil {
		return nil, err
	}
	buckets := map[healthBucketKey]*healthBucketSum{}
	for _, o := range obs {
		r := rows[o.WebhookID]
		at := o.At
		if o.ErrorClass == "" {
			r.consecutive, r.failingSince, r.lastSuccess = 0, nil, latest(r.lastSuccess, at)
		} else {
			r.consecutive++
			r.lastFailure = latest(r.lastFailure, at)
			if r.failingSince == nil {
				r.failingSince = &at
			}
		}
		key := healthBucketKey{o.WebhookID, o.At.Truncate(time.Minute), o.ErrorClass}
		sum := buckets[key]
		if sum == nil {
			sum = &healthBucketSum{histogram: newHistogram(), statuses: map[string]int32{}}
			buckets[key] = sum
		}
		sum.attempts++
		sum.durationUS += o.Duration.Microseconds()
		sum.histogram.add(o.Duration)
		sum.statuses[statusKey(o.StatusCode)]++
	}
	if err := healthAddBuckets(ctx, db, rows, buckets); err != nil {
		return nil, err
	}
	figures, err := healthWindowFigures(ctx, db, rows, now.Add(-t.Window))
	if err != nil {
		return nil, err
	}
	var transitions []health.Transition
	for _, id := range slices.Sorted(maps.Keys(rows)) {
		r := rows[id]
		if r.state == health.StateDisabled {
			// Only HealthReset (ResumeWebhook, with the webhook) leaves disabled.
			// An attempt in flight when the webhook was disabled lands here:
			// its success must not call a webhook whose deliveries wait
			// healthy, nor later failures disable it a second time.
			continue
		}
		f := figures[id]
		f.ConsecutiveFailures = r.consecutive
		if r.failingSince != nil {
			f.FailingSince = *r.failingSince
		}
		state, reason := t.Evaluate(f, now)
		if state != r.state {
			transitions = append(transitions, health.Transition{WebhookID: id, Namespace: r.namespace, At: now, From: r.state, To: state, Reason: reason})
			r.state, r.reason, r.changedAt = state, reason, now
		}
	}
	if err := healthSaveRows(ctx, db, rows, now); err != nil {
		return nil, err
	}
	return transitions, healthRecordTransitions(ctx, db, transitions)
}

// latest returns the later of t and at. Attempts are counted as they end,
// and one that started long ago, such as one a slow receiver held, must not
// make the last success or failure older.
func latest(t *time.Time, at time.Time) *time.Time {
	if t != nil && t.After(at) {
		return t
	}
	return &at
}

// healthLockRows creates missing health rows and locks them all.
func healthLockRows(ctx context.Context, db dbutil.DB, obs []HealthObservation, now time.Time) (map[string]*healthRow, error) {
	var ids, namespaces []string
	for _, o := range obs {
		if len(ids) == 0 || ids[len(ids)-1] != o.WebhookID {
			ids, namespaces = append(ids, o.WebhookID), append(namespaces, o.Namespace)
		}
	}
	if _, err := db.Exec(ctx, `
INSERT INTO /*schema*/sparrow_webhook_health (webhook_id, namespace, state_changed_at, updated_at)
SELECT id, namespace, $3, $3 FROM unnest($1::text[], $2::text[]) AS input (id, namespace)
ON CONFLICT (webhook_id) DO NOTHING`, ids, namespaces, now); err != nil {
		return nil, dbutil.Interpret("create health", err)
	}
	rows, err := db.Query(ctx, `
SELECT webhook_id, namespace, state, state_reason, state_changed_at, consecutive_failures, failing_since,
    last_success_at, last_failure_at, generation, reset_at
FROM /*schema*/sparrow_webhook_health WHERE webhook_id = ANY($1) ORDER BY webhook_id FOR UPDATE`, ids)
	if err != nil {
		return nil, dbutil.Interpret("lock health", err)
	}
	out := map[string]*healthRow{}
	var r healthRow
	_, err = pgx.ForEachRow(rows, []any{&r.webhookID, &r.namespace, &r.state, &r.reason, &r.changedAt, &r.consecutive,
		&r.failingSince, &r.lastSuccess, &r.lastFailure, &r.generation, &r.resetAt}, func() error {
		copied := r
		out[r.webhookID] = &copied
		return nil
	})
	return out, dbutil.Interpret("lock health", err)
}

// healthAddBuckets adds the batch's sums to the counters, one row per webhook,
// minute and class.
func healthAddBuckets(ctx context.Context, db dbutil.DB, rows map[string]*healthRow, buckets map[healthBucketKey]*healthBucketSum) error {
	n := len(buckets)
	var (
		ids, classes, histograms = make([]string, 0, n), make([]string, 0, n), make([]string, 0, n)
		statuses                 = make([]string, 0, n)
		generations, attempts    = make([]int32, 0, n), make([]int32, 0, n)
		times                    = make([]time.Time, 0, n)
		durations                = make([]int64, 0, n)
	)
	for key, sum := range buckets {
		ids, classes, times = append(ids, key.webhookID), append(classes, key.class), append(times, key.bucket)
		generations, attempts, durations = append(generations, int32(rows[key.webhookID].generation)), append(attempts, sum.attempts), append(durations, sum.durationUS)
		histograms = append(histograms, sum.histogram.literal())
		counts, _ := json.Marshal(sum.statuses) // strings to integers: nothing to fail on
		statuses = append(statuses, string(counts))
	}
	_, err := db.Exec(ctx, `
INSERT INTO /*schema*/sparrow_webhook_health_bucket AS b (webhook_id, generation, bucket, error_class, attempts, duration_us_sum, latency_histogram, status_counts)
SELECT id, generation, bucket, class, attempts, duration_us, histogram::integer[], statuses::jsonb
FROM unnest($1::text[], $2::integer[], $3::timestamptz[], $4::text[], $5::integer[], $6::bigint[], $7::text[], $8::text[])
    AS input (id, generation, bucket, class, attempts, duration_us, histogram, statuses)
ON CONFLICT (webhook_id, generation, bucket, error_class) DO UPDATE SET
    attempts = b.attempts + excluded.attempts,
    duration_us_sum = b.duration_us_sum + excluded.duration_us_sum,
    latency_histogram = ARRAY(
        SELECT old + new FROM unnest(b.latency_histogram, excluded.latency_histogram) WITH ORDINALITY AS h (old, new, i) ORDER BY i
    ),
    status_counts = (
        SELECT coalesce(jsonb_object_agg(key, total), '{}') FROM (
            SELECT key, sum(value::integer) AS total
            FROM (SELECT * FROM jsonb_each_text(b.status_counts) UNION ALL SELECT * FROM jsonb_each_text(excluded.status_counts)) AS both_counts
            GROUP BY key
        ) AS summed
    )`, ids, generations, times, classes, attempts, durations, histograms, statuses)
	return dbutil.Interpret("add health counters", err)
}

// healthWindowFigures sums each webhook's attempts and successes of its current
// generation since `since`.
func healthWindowFigures(ctx context.Context, db dbutil.DB, rows map[string]*healthRow, since time.Time) (map[string]health.Figures, error) {
	ids := slices.Sorted(maps.Keys(rows))
	generations := make([]int32, len(ids))
	for i, id := range ids {
		generations[i] = int32(rows[id].generation)
	}
	res, err := db.Query(ctx, `
SELECT b.webhook_id, sum(b.attempts), coalesce(sum(b.attempts) FILTER (WHERE b.error_class = ''), 0)
FROM unnest($1::text[], $2::integer[]) AS w (id, generation)
JOIN /*schema*/sparrow_webhook_health_bucket b ON b.webhook_id = w.id AND b.generation = w.generation AND b.bucket >= $3
GROUP BY b.webhook_id`, ids, generations, since.Truncate(time.Minute))
	if err != nil {
		return nil, dbutil.Interpret("health window", err)
	}
	out := map[string]health.Figures{}
	var id string
	var f health.Figures
	_, err = pgx.ForEachRow(res, []any{&id, &f.Attempts, &f.Successes}, func() error {
		out[id] = f
		return nil
	})
	return out, dbutil.Interpret("health window", err)
}

func healthSaveRows(ctx context.Context, db dbutil.DB, rows map[string]*healthRow, now time.Time) error {
	ids := slices.Sorted(maps.Keys(rows))
	n := len(ids)
	states, reasons := make([]string, n), make([]string, n)
	changed := make([]time.Time, n)
	consecutive := make([]int32, n)
	failingSince, lastSuccess, lastFailure := make([]*time.Time, n), make([]*time.Time, n), make([]*time.Time, n)
	for i, id := range ids {
		r := rows[id]
		states[i], reasons[i], changed[i], consecutive[i] = string(r.state), r.reason, r.changedAt, int32(r.consecutive)
		failingSince[i], lastSuccess[i], lastFailure[i] = r.failingSince, r.lastSuccess, r.lastFailure
	}
	_, err := db.Exec(ctx, `
UPDATE /*schema*/sparrow_webhook_health h SET
    state = i.state, state_reason = i.reason, state_changed_at = i.changed, consecutive_failures = i.consecutive,
    failing_since = i.failing_since, last_success_at = i.last_success, last_failure_at = i.last_failure, updated_at = $9
FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::integer[], $6::timestamptz[], $7::timestamptz[], $8::timestamptz[])
    AS i (id, state, reason, changed, consecutive, failing_since, last_success, last_failure)
WHERE h.webhook_id = i.id`, ids, states, reasons, changed, consecutive, failingSince, lastSuccess, lastFailure, now)
	return dbutil.Interpret("save health", err)
}

func healthRecordTransitions(ctx context.Context, db dbutil.DB, ts []health.Transition) error {
	if len(ts) == 0 {
		return nil
	}
	n := len(ts)
	ids, from, to, reasons := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	at := make([]time.Time, n)
	for i, t := range ts {
		ids[i], from[i], to[i], reasons[i], at[i] = t.WebhookID, string(t.From), string(t.To), t.Reason, t.At
	}
	_, err := db.Exec(ctx, `
INSERT INTO /*schema*/sparrow_webhook_health_transition (webhook_id, at, from_state, to_state, reason)
SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::text[], $4::text[], $5::text[])`, ids, at, from, to, reasons)
	return dbutil.Interpret("record health transitions", err)
}

// HealthReset starts a new generation for a webhook being resumed: state unknown,
// no consecutive failures, figures from zero. It returns the transition, if
// the webhook had a state to leave.
func HealthReset(ctx context.Context, db dbutil.DB, webhookID string, now time.Time) (*health.Transition, error) {
	return healthReset(ctx, db, webhookID, now, false)
}

// HealthResetIfDisabled is HealthReset for a webhook whose health is disabled, and does
// nothing to others. It is for a webhook resumed from paused: one paused
// after Sparrow disabled it has a disabled health that only a reset ends.
func HealthResetIfDisabled(ctx context.Context, db dbutil.DB, webhookID string, now time.Time) (*health.Transition, error) {
	return healthReset(ctx, db, webhookID, now, true)
}

func healthReset(ctx context.Context, db dbutil.DB, webhookID string, now time.Time, onlyDisabled bool) (*health.Transition, error) {
	t := health.Transition{WebhookID: webhookID, At: now, To: health.StateUnknown, Reason: "webhook resumed"}
	// Locked whatever its state: an attempt being recorded meanwhile waits
	// for the resume to commit, rather than disable the webhook after this
	// read.
	err := db.QueryRow(ctx, `
SELECT namespace, state FROM /*schema*/sparrow_webhook_health WHERE webhook_id = $1 FOR UPDATE`, webhookID).Scan(&t.Namespace, &t.From)
	if errors.Is(err, pgx.ErrNoRows) || err == nil && onlyDisabled && t.From != health.StateDisabled {
		return nil, nil
	}
	if err != nil {
		return nil, dbutil.Interpret("reset health", err)
	}
	if _, err := db.Exec(ctx, `
UPDATE /*schema*/sparrow_webhook_health SET
    state = 'unknown', state_reason = $3, state_changed_at = $2, consecutive_failures = 0,
    failing_since = NULL, generation = generation + 1, reset_at = $2, updated_at = $2
WHERE webhook_id = $1`, webhookID, now, t.Reason); err != nil {
		return nil, dbutil.Interpret("reset health", err)
	}
	if t.From == health.StateUnknown {
		return nil, nil
	}
	return &t, healthRecordTransitions(ctx, db, []health.Transition{t})
}

// pausedReason is the health reason of a paused webhook whose pause has no
// reason of its own (one registered inactive).
const pausedReason = "webhook paused"

// HealthGet returns the health of webhook id in namespace at time now, with
// figures and a timeline (in points health.PointSpan(window) long) over
// window. A paused webhook's state is health.StatePaused, with the webhook's
// reason and time; its own state stays stored for when it is resumed.
func HealthGet(ctx context.Context, db dbutil.DB, namespace, id string, window time.Duration, now time.Time) (*health.Health, error) {
	h := &health.Health{
		WebhookID: id, Namespace: namespace, State: health.StateUnknown, Window: window,
		ErrorCounts: map[string]int{}, StatusCounts: map[string]int{},
	}
	var generation int
	var changed, failingSince, lastSuccess, lastFailure, resetAt *time.Time
	var reason *string
	var state *health.State
	var consecutive *int
	var webhookState webhook.State
	var webhookReason string
	var webhookChanged time.Time
	err := db.QueryRow(ctx, `
SELECT h.state, h.state_reason, h.state_changed_at, h.consecutive_failures, h.failing_since, h.last_success_at,
    h.last_failure_at, coalesce(h.generation, 0), h.reset_at,
    (SELECT count(*) FROM /*schema*/sparrow_delivery d WHERE d.webhook_id = w.id AND d.status IN ('pending', 'retrying')),
    w.state, w.state_reason, w.state_changed_at
FROM /*schema*/sparrow_webhook w LEFT JOIN /*schema*/sparrow_webhook_health h ON h.webhook_id = w.id
WHERE w.namespace = $1 AND w.id = $2 AND w.deleted_at IS NULL`, namespace, id).Scan(
		&state, &reason, &changed, &consecutive, &failingSince, &lastSuccess, &lastFailure, &generation, &resetAt, &h.PendingDeliveries,
		&webhookState, &webhookReason, &webhookChanged)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errs.NotFound("webhook", id)
	}
	if err != nil {
		return nil, dbutil.Interpret("get health", err)
	}
	if state != nil {
		h.State, h.StateReason, h.StateChangedAt, h.ConsecutiveFailures = *state, *reason, *changed, *consecutive
		h.FailingSince, h.LastSuccessAt, h.LastFailureAt = deref(failingSince), deref(lastSuccess), deref(lastFailure)
	}
	if webhookState == webhook.StatePaused {
		h.State, h.StateReason, h.StateChangedAt = health.StatePaused, cmp.Or(webhookReason, pausedReason), webhookChanged
	}
	if err := healthWindowDetail(ctx, db, h, generation, now.Add(-window)); err != nil {
		return nil, err
	}
	if err := healthRecentDetail(ctx, db, h, deref(resetAt)); err != nil {
		return nil, err
	}
	h.Transitions, err = healthTransitionList(ctx, db, namespace, id, 20)
	return h, err
}

// healthTimeline returns per-minute figures of buckets selected by where, whose
// arguments follow since ($1).
func healthTimeline(ctx context.Context, db dbutil.DB, since time.Time, where string, args ...any) ([]health.Point, error) {
	rows, err := db.Query(ctx, `
SELECT b.bucket, sum(b.attempts), coalesce(sum(b.attempts) FILTER (WHERE b.error_class = ''), 0), sum(b.duration_us_sum)
FROM /*schema*/sparrow_webhook_health_bucket b
WHERE b.bucket >= $1 AND `+where+`
GROUP BY b.bucket ORDER BY b.bucket`, append([]any{since.Truncate(time.Minute)}, args...)...)
	if err != nil {
		return nil, dbutil.Interpret("health timeline", err)
	}
	out := []health.Point{}
	var p health.Point
	var durationUS int64
	_, err = pgx.ForEachRow(rows, []any{&p.At, &p.Attempts, &p.Successes, &durationUS}, func() error {
		p.LatencyAvg = pointLatency(p.Attempts, durationUS)
		out = append(out, p)
		return nil
	})
	return out, dbutil.Interpret("health timeline", err)
}

// pointLatency is the average latency of a point's attempts.
func pointLatency(attempts int, durationUS int64) time.Duration {
	return time.Duration(durationUS/int64(max(attempts, 1))) * time.Microsecond
}

// healthWindowQuery sums a webhook's buckets of generation $2 since $3: its
// attempts by error class, their duration, their HTTP statuses, their
// latency histogram, and its timeline in points $4 seconds long (grouped by
// epoch, as date_bin would from PostgreSQL 14 on). The buckets are read once
// (a CTE used more than once is computed once): a week's are some ten
// thousand per error class, however many attempts they count, on about as
// many pages.
const healthWindowQuery = `
WITH window_buckets AS (
    SELECT to_timestamp(floor(extract(epoch FROM bucket) / $4) * $4) AS at,
        error_class, attempts, duration_us_sum, latency_histogram, status_counts
    FROM /*schema*/sparrow_webhook_health_bucket
    WHERE webhook_id = $1 AND generation = $2 AND bucket >= $3
), points AS (
    SELECT at, sum(attempts) AS attempts, coalesce(sum(attempts) FILTER (WHERE error_class = ''), 0) AS successes,
        sum(duration_us_sum) AS duration_us
    FROM window_buckets GROUP BY at
)
SELECT
    (SELECT coalesce(jsonb_object_agg(error_class, attempts), '{}') FROM (
        SELECT error_class, sum(attempts) AS attempts FROM window_buckets GROUP BY error_class) AS classes),
    (SELECT coalesce(sum(duration_us), 0) FROM points),
    (SELECT coalesce(jsonb_object_agg(key, attempts), '{}') FROM (
        SELECT key, sum(value::integer) AS attempts FROM window_buckets, jsonb_each_text(status_counts) GROUP BY key) AS statuses),
    (SELECT coalesce(array_agg(n ORDER BY i), '{}') FROM (
        SELECT i, sum(n)::integer AS n FROM window_buckets, unnest(latency_histogram) WITH ORDINALITY AS h (n, i) GROUP BY i) AS latencies),
    (SELECT coalesce(array_agg(at ORDER BY at), '{}') FROM points),
    (SELECT coalesce(array_agg(attempts ORDER BY at), '{}') FROM points),
    (SELECT coalesce(array_agg(successes ORDER BY at), '{}') FROM points),
    (SELECT coalesce(array_agg(duration_us ORDER BY at), '{}') FROM points)`

// healthWindowDetail fills the figures and the timeline of h.Window.
func healthWindowDetail(ctx context.Context, db dbutil.DB, h *health.Health, generation int, since time.Time) error {
	var classes map[string]int
	var durationUS int64
	hist := newHistogram()
	var at []time.Time
	var attempts, successes, durations []int64
	err := db.QueryRow(ctx, healthWindowQuery, h.WebhookID, generation, since.Truncate(time.Minute),
		int64(health.PointSpan(h.Window)/time.Second)).Scan(
		&classes, &durationUS, &h.StatusCounts, (*[]int32)(&hist), &at, &attempts, &successes, &durations)
	if err != nil {
		return dbutil.Interpret("health window", err)
	}
	for class, n := range classes {
		h.Attempts += n
		if class == "" {
			h.Successes += n
		} else {
			h.ErrorCounts[class] = n
		}
	}
	h.Failures = h.Attempts - h.Successes
	h.SuccessRate = health.Figures{Attempts: h.Attempts, Successes: h.Successes}.SuccessRate()
	if h.Attempts > 0 {
		h.LatencyAvg = time.Duration(durationUS/int64(h.Attempts)) * time.Microsecond
		h.LatencyP95 = hist.quantile(0.95)
	}
	h.Timeline = make([]health.Point, len(at))
	for i := range at {
		n := int(attempts[i])
		h.Timeline[i] = health.Point{At: at[i], Attempts: n, Successes: int(successes[i]), LatencyAvg: pointLatency(n, durations[i])}
	}
	return nil
}

// healthRecentDetail fills the figures of the last 100 attempts since resetAt.
func healthRecentDetail(ctx context.Context, db dbutil.DB, h *health.Health, resetAt time.Time) error {
	rows, err := db.Query(ctx, `
SELECT duration_us, error_class = '' FROM /*schema*/sparrow_delivery_attempt
WHERE webhook_id = $1 AND started_at >= $2 ORDER BY started_at DESC LIMIT 100`, h.WebhookID, resetAt)
	if err != nil {
		return dbutil.Interpret("recent health", err)
	}
	var samples []time.Duration
	var total time.Duration
	var successes int
	var us int64
	var ok bool
	_, err = pgx.ForEachRow(rows, []any{&us, &ok}, func() error {
		d := time.Duration(us) * time.Microsecond
		samples, total = append(samples, d), total+d
		if ok {
			successes++
		}
		return nil
	})
	if err != nil {
		return dbutil.Interpret("recent health", err)
	}
	h.RecentAttempts = len(samples)
	if len(samples) > 0 {
		h.RecentSuccessRate = 100 * float64(successes) / float64(len(samples))
		h.RecentLatencyAvg = total / time.Duration(len(samples))
		h.RecentLatencyP95 = exactQuantile(samples, 0.95)
	}
	return nil
}

func healthTransitionList(ctx context.Context, db dbutil.DB, namespace, id string, limit int) ([]health.Transition, error) {
	rows, err := db.Query(ctx, `
SELECT at, from_state, to_state, reason FROM /*schema*/sparrow_webhook_health_transition
WHERE webhook_id = $1 ORDER BY id DESC LIMIT $2`, id, limit)
	if err != nil {
		return nil, dbutil.Interpret("health transitions", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (health.Transition, error) {
		t := health.Transition{WebhookID: id, Namespace: namespace}
		err := row.Scan(&t.At, &t.From, &t.To, &t.Reason)
		return t, err
	})
	if out == nil {
		out = []health.Transition{}
	}
	return out, dbutil.Interpret("health transitions", err)
}

// HealthSummarize returns the health of a namespace's webhooks at time now, with
// the worst `worst` of them. Paused webhooks count as health.StatePaused.
func HealthSummarize(ctx context.Context, db dbutil.DB, namespace string, window time.Duration, worst int, now time.Time) (*health.Summary, error) {
	s := &health.Summary{Namespace: namespace, Window: window, Webhooks: map[health.State]int{}}
	rows, err := db.Query(ctx, `
SELECT w.id,
    CASE WHEN w.state = 'paused' THEN 'paused' ELSE coalesce(h.state, 'unknown') END,
    CASE WHEN w.state = 'paused' THEN coalesce(nullif(w.state_reason, ''), $3) ELSE coalesce(h.state_reason, '') END,
    coalesce(h.consecutive_failures, 0),
    coalesce(sum(b.attempts), 0), coalesce(sum(b.attempts) FILTER (WHERE b.error_class = ''), 0)
FROM /*schema*/sparrow_webhook w
LEFT JOIN /*schema*/sparrow_webhook_health h ON h.webhook_id = w.id
LEFT JOIN /*schema*/sparrow_webhook_health_bucket b ON b.webhook_id = w.id AND b.generation = h.generation AND b.bucket >= $2
WHERE w.namespace = $1 AND w.deleted_at IS NULL
GROUP BY w.id, w.state, w.state_reason, h.state, h.state_reason, h.consecutive_failures`, namespace, now.Add(-window).Truncate(time.Minute), pausedReason)
	if err != nil {
		return nil, dbutil.Interpret("health summary", err)
	}
	var all []health.Health
	var h health.Health
	_, err = pgx.ForEachRow(rows, []any{&h.WebhookID, &h.State, &h.StateReason, &h.ConsecutiveFailures, &h.Attempts, &h.Successes}, func() error {
		h.Namespace, h.Window, h.Failures = namespace, window, h.Attempts-h.Successes
		h.SuccessRate = health.Figures{Attempts: h.Attempts, Successes: h.Successes}.SuccessRate()
		s.Webhooks[h.State]++
		s.Attempts += h.Attempts
		s.Successes += h.Successes
		all = append(all, h)
		return nil
	})
	if err != nil {
		return nil, dbutil.Interpret("health summary", err)
	}
	s.SuccessRate = health.Figures{Attempts: s.Attempts, Successes: s.Successes}.SuccessRate()
	s.Worst = health.Worst(all, worst)
	if s.Worst == nil {
		s.Worst = []health.Health{}
	}
	// Every generation counts here: the namespace's traffic, not a webhook's
	// state.
	s.Timeline, err = healthTimeline(ctx, db, now.Add(-window), `b.webhook_id IN (
    SELECT id FROM /*schema*/sparrow_webhook WHERE namespace = $2 AND deleted_at IS NULL)`, namespace)
	return s, err
}

// HealthPrune deletes up to limit health buckets and up to limit transitions
// older than cutoff, oldest first, and returns how many rows it deleted.
func HealthPrune(ctx context.Context, db dbutil.DB, cutoff time.Time, limit int) (int64, error) {
	var n int64
	err := db.QueryRow(ctx, `
WITH transitions AS (
    DELETE FROM /*schema*/sparrow_webhook_health_transition WHERE id IN (
        SELECT id FROM /*schema*/sparrow_webhook_health_transition WHERE at < $1 ORDER BY at LIMIT $2
    )
    RETURNING 1
), buckets AS (
    DELETE FROM /*schema*/sparrow_webhook_health_bucket WHERE (webhook_id, generation, bucket, error_class) IN (
        SELECT webhook_id, generation, bucket, error_class FROM /*schema*/sparrow_webhook_health_bucket
        WHERE bucket < $1 ORDER BY bucket LIMIT $2
    )
    RETURNING 1
)
SELECT (SELECT count(*) FROM transitions) + (SELECT count(*) FROM buckets)`, cutoff, limit).Scan(&n)
	return n, dbutil.Interpret("prune health history", err)
}
