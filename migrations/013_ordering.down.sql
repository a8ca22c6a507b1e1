-- Version 12 has no ordering: deliveries still waiting for their key's
-- turn would never be sent, nor events deferred fanned out. Refuse until
-- none waits.
DO $$
DECLARE
    waiting bigint := (SELECT count(*) FROM /*schema*/sparrow_delivery WHERE waits_for IS NOT NULL AND status IN ('pending', 'retrying'))
        + (SELECT count(*) FROM /*schema*/sparrow_ordering_deferred);
BEGIN
    IF waiting > 0 THEN
        RAISE EXCEPTION 'sparrow: % deliveries or events wait for their ordering key''s turn; run the workers until none does, then migrate down', waiting;
    END IF;
END
$$;

DROP TABLE /*schema*/sparrow_ordering;
DROP INDEX /*schema*/sparrow_delivery_carried_idx;
DROP INDEX /*schema*/sparrow_delivery_waits_for_idx;
ALTER TABLE /*schema*/sparrow_delivery DROP COLUMN carried_by_job, DROP COLUMN waits_for, DROP COLUMN ordering_key;
DROP TABLE /*schema*/sparrow_ordering_deferred;
DROP TABLE /*schema*/sparrow_ordering_fanout;
DROP TABLE /*schema*/sparrow_ordering_push;
DROP INDEX /*schema*/sparrow_event_ordering_idx;
ALTER TABLE /*schema*/sparrow_event DROP COLUMN ordering_seq, DROP COLUMN ordering_key;
