-- Fan-out rounds move out of the event row into a table of their own. A
-- fan-out claimed its round by updating every event it took, rewriting
-- rows that carry whole payloads; it now inserts a small row per event and
-- round. Events are written once and never updated.
CREATE TABLE /*schema*/sparrow_event_fanout (
    event_id text        NOT NULL REFERENCES /*schema*/sparrow_event (id) ON DELETE CASCADE,
    -- Rounds count from 0, the fan-out of the push; each repush takes the
    -- next one.
    round    integer     NOT NULL,
    at       timestamptz NOT NULL,
    PRIMARY KEY (event_id, round)
);

-- A fan-out claims a round only past every round the event had, so keeping
-- each event's last round is enough.
INSERT INTO /*schema*/sparrow_event_fanout (event_id, round, at)
SELECT id, fanout_round - 1, coalesce(fanned_out_at, created_at) FROM /*schema*/sparrow_event WHERE fanout_round > 0;

ALTER TABLE /*schema*/sparrow_event DROP COLUMN fanout_round, DROP COLUMN fanned_out_at;
