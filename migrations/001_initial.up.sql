-- Sparrow's initial schema. Every table name carries a /*schema*/ marker: an
-- SQL comment Sparrow's migrator replaces with the configured schema, and
-- which other tools read as nothing (tables land in the search_path).
--
-- Hot tables (events, deliveries, attempts) have no foreign keys on purpose:
-- a foreign key takes a share lock on the referenced row for every insert,
-- which would turn one busy webhook or event type into a lock hot spot.
-- Their references are kept by the application, and webhooks are soft-deleted
-- so delivery history never dangles.

CREATE TABLE /*schema*/sparrow_event_type (
    name        text        PRIMARY KEY,
    description text        NOT NULL DEFAULT '',
    active      boolean     NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    CONSTRAINT sparrow_event_type_name_check CHECK (name ~ '^[A-Za-z0-9_.-]{1,128}$')
);

CREATE TABLE /*schema*/sparrow_webhook (
    id               text        PRIMARY KEY,
    namespace        text        NOT NULL,
    url              text        NOT NULL,
    description      text        NOT NULL DEFAULT '',
    state            text        NOT NULL DEFAULT 'active',
    state_reason     text        NOT NULL DEFAULT '',
    state_changed_at timestamptz NOT NULL,
    headers          jsonb       NOT NULL DEFAULT '{}',
    timeout_ms       integer     NOT NULL,
    max_attempts     integer     NOT NULL,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    deleted_at       timestamptz,
    CONSTRAINT sparrow_webhook_state_check CHECK (state IN ('active', 'paused', 'disabled'))
);

-- Listing a namespace's webhooks, newest first, by keyset.
CREATE INDEX sparrow_webhook_namespace_idx ON /*schema*/sparrow_webhook (namespace, id DESC)
    WHERE deleted_at IS NULL;

-- Signing secrets. A webhook has one current secret (expires_at IS NULL) and,
-- during a rotation's grace period, older ones that still sign.
CREATE TABLE /*schema*/sparrow_webhook_secret (
    webhook_id text        NOT NULL REFERENCES /*schema*/sparrow_webhook (id) ON DELETE CASCADE,
    id         text        NOT NULL,
    secret     text        NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz,
    PRIMARY KEY (webhook_id, id)
);

CREATE TABLE /*schema*/sparrow_subscription (
    id           text        PRIMARY KEY,
    namespace    text        NOT NULL,
    webhook_id   text        NOT NULL REFERENCES /*schema*/sparrow_webhook (id) ON DELETE CASCADE,
    event_name   text        NOT NULL REFERENCES /*schema*/sparrow_event_type (name),
    active       boolean     NOT NULL DEFAULT true,
    label_filter jsonb       NOT NULL DEFAULT '{}',
    template     text        NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    CONSTRAINT sparrow_subscription_webhook_event_key UNIQUE (webhook_id, event_name)
);

-- Fan-out: the active subscriptions to one event in one namespace.
CREATE INDEX sparrow_subscription_fanout_idx ON /*schema*/sparrow_subscription (namespace, event_name)
    WHERE active;

-- Listing a namespace's subscriptions, newest first, by keyset.
CREATE INDEX sparrow_subscription_namespace_idx ON /*schema*/sparrow_subscription (namespace, id DESC);

CREATE TABLE /*schema*/sparrow_event (
    id              text        PRIMARY KEY,
    namespace       text        NOT NULL,
    name            text        NOT NULL,
    -- json, not jsonb: the payload is kept byte for byte as pushed, because
    -- it is the body receivers get and sign-check.
    payload         json        NOT NULL,
    labels          jsonb       NOT NULL DEFAULT '{}',
    idempotency_key text,
    created_at      timestamptz NOT NULL,
    expires_at      timestamptz,
    -- How many fan-outs have run; a fan-out job names the round it performs,
    -- so a job River runs twice finds its round done and creates nothing.
    fanout_round    integer     NOT NULL DEFAULT 0,
    fanned_out_at   timestamptz
);

-- Listing a namespace's events, newest first, by keyset.
CREATE INDEX sparrow_event_namespace_idx ON /*schema*/sparrow_event (namespace, id DESC);

-- One event per idempotency key and namespace.
CREATE UNIQUE INDEX sparrow_event_idempotency_key_idx ON /*schema*/sparrow_event (namespace, idempotency_key)
    WHERE idempotency_key IS NOT NULL;

CREATE TABLE /*schema*/sparrow_delivery (
    id               text        PRIMARY KEY,
    namespace        text        NOT NULL,
    webhook_id       text        NOT NULL,
    event_id         text        NOT NULL,
    event_name       text        NOT NULL,
    subscription_id  text        NOT NULL,
    status           text        NOT NULL,
    -- The body a subscription's template rendered; NULL means the event's
    -- payload, sent as pushed (most deliveries: no copy per webhook).
    body             json,
    attempt_count    integer     NOT NULL DEFAULT 0,
    max_attempts     integer     NOT NULL,
    -- The webhook is paused or disabled: the delivery waits, without a job,
    -- until the webhook is resumed.
    parked           boolean     NOT NULL DEFAULT false,
    -- The event's expiry, copied so a delivery is judged without the event
    -- row; a manual retry clears it.
    expires_at       timestamptz,
    next_attempt_at  timestamptz,
    last_attempt_at  timestamptz,
    last_status_code integer,
    last_error_class text        NOT NULL DEFAULT '',
    last_error       text        NOT NULL DEFAULT '',
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    completed_at     timestamptz,
    CONSTRAINT sparrow_delivery_status_check
        CHECK (status IN ('pending', 'retrying', 'succeeded', 'failed', 'expired', 'cancelled'))
);

-- A webhook's deliveries, newest first, by keyset.
CREATE INDEX sparrow_delivery_webhook_idx ON /*schema*/sparrow_delivery (webhook_id, id DESC);

-- A namespace's deliveries, newest first, by keyset.
CREATE INDEX sparrow_delivery_namespace_idx ON /*schema*/sparrow_delivery (namespace, id DESC);

-- An event's deliveries.
CREATE INDEX sparrow_delivery_event_idx ON /*schema*/sparrow_delivery (event_id);

-- Pending deliveries of a webhook (resume, delete, backlog figures).
CREATE INDEX sparrow_delivery_pending_idx ON /*schema*/sparrow_delivery (webhook_id, parked)
    WHERE status IN ('pending', 'retrying');

CREATE TABLE /*schema*/sparrow_delivery_attempt (
    delivery_id             text        NOT NULL,
    attempt                 integer     NOT NULL,
    webhook_id              text        NOT NULL,
    started_at              timestamptz NOT NULL,
    duration_us             bigint      NOT NULL,
    status_code             integer,
    error_class             text        NOT NULL DEFAULT '',
    error                   text        NOT NULL DEFAULT '',
    request_headers         jsonb       NOT NULL DEFAULT '{}',
    response_headers        jsonb       NOT NULL DEFAULT '{}',
    response_body           bytea,
    response_body_truncated boolean     NOT NULL DEFAULT false,
    next_attempt_at         timestamptz,
    -- The key makes recording idempotent: an attempt recorded twice (a
    -- worker re-run after a crash) is one row.
    PRIMARY KEY (delivery_id, attempt)
);

-- A webhook's recent attempts (health windows, dashboards).
CREATE INDEX sparrow_delivery_attempt_webhook_idx ON /*schema*/sparrow_delivery_attempt (webhook_id, started_at DESC);
