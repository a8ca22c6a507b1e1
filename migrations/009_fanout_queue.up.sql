-- Events waiting for their first fan-out. A push writes its event and a row
-- here in one statement, and no River job: a River insert beside the host's
-- own write cost a transaction more than twice what the write cost alone.
-- Workers take the rows (FOR UPDATE SKIP LOCKED) and delete them in the
-- transaction that creates the events' deliveries.
--
-- No foreign key to sparrow_event: its check would lock each new event row
-- again, and events are pruned only once fanned out.
CREATE TABLE /*schema*/sparrow_fanout_queue (
    -- Event ids sort by push time, so the queue is taken oldest first.
    event_id      text        PRIMARY KEY,
    -- The push's trace context, so its fan-out joins the push's trace.
    trace_context jsonb,
    queued_at     timestamptz NOT NULL
);
