-- Version 8 fans events out through River jobs only: events still queued
-- here would never be delivered. Refuse until the workers have taken them.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM /*schema*/sparrow_fanout_queue) THEN
        RAISE EXCEPTION 'sparrow: % events wait for fan-out; run the workers until sparrow_fanout_queue is empty, then migrate down',
            (SELECT count(*) FROM /*schema*/sparrow_fanout_queue);
    END IF;
END
$$;

DROP TABLE /*schema*/sparrow_fanout_queue;
