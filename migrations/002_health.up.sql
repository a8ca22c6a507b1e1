-- Per-webhook health. Figures are kept as counters updated once per batch of
-- recorded attempts (one row per webhook, minute and outcome), never once per
-- attempt, so concurrent deliveries to one webhook do not queue on one row.

CREATE TABLE /*schema*/sparrow_webhook_health (
    webhook_id           text        PRIMARY KEY,
    namespace            text        NOT NULL,
    state                text        NOT NULL DEFAULT 'unknown',
    state_reason         text        NOT NULL DEFAULT '',
    state_changed_at     timestamptz NOT NULL,
    consecutive_failures integer     NOT NULL DEFAULT 0,
    -- The first failure since the last success: how long the webhook has
    -- been failing, for auto-disable.
    failing_since        timestamptz,
    last_success_at      timestamptz,
    last_failure_at      timestamptz,
    -- Resuming a webhook starts a new generation: figures restart from zero
    -- while the older counters stay for history.
    generation           integer     NOT NULL DEFAULT 0,
    reset_at             timestamptz,
    updated_at           timestamptz NOT NULL,
    CONSTRAINT sparrow_webhook_health_state_check
        CHECK (state IN ('unknown', 'healthy', 'degraded', 'unhealthy', 'disabled'))
);

-- Summaries: a namespace's webhooks by state.
CREATE INDEX sparrow_webhook_health_namespace_idx ON /*schema*/sparrow_webhook_health (namespace, state);

-- Attempt counters per webhook, generation, minute and error class ('' for
-- successes), with summed durations and a latency histogram.
CREATE TABLE /*schema*/sparrow_webhook_health_bucket (
    webhook_id        text        NOT NULL,
    generation        integer     NOT NULL,
    bucket            timestamptz NOT NULL,
    error_class       text        NOT NULL,
    attempts          integer     NOT NULL,
    duration_us_sum   bigint      NOT NULL,
    latency_histogram integer[]   NOT NULL,
    PRIMARY KEY (webhook_id, generation, bucket, error_class)
);

CREATE TABLE /*schema*/sparrow_webhook_health_transition (
    id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    webhook_id text        NOT NULL,
    at         timestamptz NOT NULL,
    from_state text        NOT NULL,
    to_state   text        NOT NULL,
    reason     text        NOT NULL
);

-- A webhook's transitions, newest first.
CREATE INDEX sparrow_webhook_health_transition_webhook_idx ON /*schema*/sparrow_webhook_health_transition (webhook_id, id DESC);
