-- Ordered delivery per key: an event may carry an ordering key, which its
-- deliveries keep. Per webhook and key, one delivery goes at a time, in the
-- order the events were pushed (their transactions committed).
ALTER TABLE /*schema*/sparrow_event
    ADD COLUMN ordering_key text,
    ADD COLUMN ordering_seq bigint;
-- The events of a key not yet fanned out, found in order.
CREATE INDEX sparrow_event_ordering_idx ON /*schema*/sparrow_event (namespace, ordering_key, ordering_seq)
    WHERE ordering_key IS NOT NULL;

-- Pushes number the events of each key: the push updates the key's row,
-- holding it until its transaction ends, so numbers follow commit order.
CREATE TABLE /*schema*/sparrow_ordering_push (
    namespace    text        NOT NULL,
    ordering_key text        NOT NULL,
    pushed       bigint      NOT NULL,
    pushed_at    timestamptz NOT NULL,
    PRIMARY KEY (namespace, ordering_key)
);

-- Fan-out takes a key's events in number order. Its row is locked by the
-- fan-out handling the key (a row apart from the pushes', so that a slow
-- pushing transaction holds up no fan-out); every event numbered up to
-- fanned is fanned out.
CREATE TABLE /*schema*/sparrow_ordering_fanout (
    namespace    text   NOT NULL,
    ordering_key text   NOT NULL,
    fanned       bigint NOT NULL,
    PRIMARY KEY (namespace, ordering_key)
);

-- Events claimed for fan-out while one numbered before them was not yet
-- fanned out: the fan-out that takes that one takes them after it.
CREATE TABLE /*schema*/sparrow_ordering_deferred (
    event_id     text   NOT NULL PRIMARY KEY,
    namespace    text   NOT NULL,
    ordering_key text   NOT NULL,
    ordering_seq bigint NOT NULL
);
CREATE INDEX sparrow_ordering_deferred_key_idx ON /*schema*/sparrow_ordering_deferred (namespace, ordering_key, ordering_seq);

-- waits_for is the delivery of the same key to the same webhook that must
-- end first. carried_by_job is the delivery job that made the attempt that
-- ended it, and goes on to this one without a job of its own; were that
-- job's process to die, River runs the job again, and it finds the
-- delivery here.
ALTER TABLE /*schema*/sparrow_delivery
    ADD COLUMN ordering_key text,
    ADD COLUMN waits_for text,
    ADD COLUMN carried_by_job bigint;
-- The deliveries to release when the one they wait for ends.
CREATE INDEX sparrow_delivery_waits_for_idx ON /*schema*/sparrow_delivery (waits_for) WHERE waits_for IS NOT NULL;
CREATE INDEX sparrow_delivery_carried_idx ON /*schema*/sparrow_delivery (carried_by_job) WHERE carried_by_job IS NOT NULL;

-- The newest delivery of each key to each webhook: the one the next
-- delivery of the key waits for (waits_for), while it is pending. Fan-out
-- and the recording of a keyed delivery's end lock the row, so that a
-- delivery never waits for one that ended unseen.
CREATE TABLE /*schema*/sparrow_ordering (
    webhook_id       text        NOT NULL,
    ordering_key     text        NOT NULL,
    namespace        text        NOT NULL,
    last_delivery_id text        NOT NULL,
    linked_at        timestamptz NOT NULL,
    PRIMARY KEY (webhook_id, ordering_key)
);
