-- Recoveries: the events of a time range re-sent to one webhook that did not
-- receive them, batch by batch. Each batch moves the cursor in the
-- transaction that creates its deliveries, so a crash neither loses nor
-- repeats one.
CREATE TABLE /*schema*/sparrow_recovery (
    id          text        PRIMARY KEY,
    namespace   text        NOT NULL,
    webhook_id  text        NOT NULL,
    -- The event types the webhook had active subscriptions to when the
    -- recovery started: the ones it considers.
    event_names text[]      NOT NULL,
    since       timestamptz NOT NULL,
    -- NULL: until created_at.
    until       timestamptz,
    status      text        NOT NULL DEFAULT 'running',
    error       text        NOT NULL DEFAULT '',
    -- NULL until the first batch counts the events to consider.
    total       bigint,
    done        bigint      NOT NULL DEFAULT 0,
    resent      bigint      NOT NULL DEFAULT 0,
    -- The batches done so far: a batch's job names its number, so a job run
    -- twice finds its batch done.
    batches     integer     NOT NULL DEFAULT 0,
    -- The last event considered, by (created_at, id); NULL before the first.
    cursor_at   timestamptz,
    cursor_id   text        NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    CONSTRAINT sparrow_recovery_status_check CHECK (status IN ('running', 'succeeded', 'cancelled', 'failed'))
);

-- One running recovery per webhook and range: starting it again returns it.
CREATE UNIQUE INDEX sparrow_recovery_running_key ON /*schema*/sparrow_recovery
    (webhook_id, since, coalesce(until, 'infinity'::timestamptz)) WHERE status = 'running';

-- Listing a namespace's recoveries, or a webhook's, newest first, by keyset.
CREATE INDEX sparrow_recovery_namespace_idx ON /*schema*/sparrow_recovery (namespace, id DESC);
CREATE INDEX sparrow_recovery_webhook_idx ON /*schema*/sparrow_recovery (webhook_id, id DESC);
