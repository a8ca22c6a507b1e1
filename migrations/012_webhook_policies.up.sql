-- A webhook's own delivery policies: a retry schedule in place of the
-- engine's backoff (NULL: the backoff), and a rate limit shared by every
-- engine on the database (0: none).
ALTER TABLE /*schema*/sparrow_webhook
    ADD COLUMN retry_schedule_ms bigint[],
    ADD COLUMN rate_limit_per_second integer NOT NULL DEFAULT 0
        CHECK (rate_limit_per_second BETWEEN 0 AND 10000);

-- The pace of each rate-limited webhook, as the generic cell rate
-- algorithm keeps it: the time its next request may go, which engines move
-- forward as they reserve requests (a row each, locked only for the
-- reservation, so that reserving never blocks on the webhook's own row).
CREATE TABLE /*schema*/sparrow_webhook_rate (
    webhook_id text        PRIMARY KEY,
    next_at    timestamptz NOT NULL
);
