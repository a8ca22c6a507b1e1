-- Version 14 has no recoveries: a running one's next batch would find
-- neither its table nor, in that version's code, a worker. Refuse until
-- none runs (cancel them, or let them finish).
DO $$
DECLARE
    running bigint := (SELECT count(*) FROM /*schema*/sparrow_recovery WHERE status = 'running');
BEGIN
    IF running > 0 THEN
        RAISE EXCEPTION 'sparrow: % recoveries are running; cancel them or let them finish, then migrate down', running;
    END IF;
END
$$;

DROP TABLE /*schema*/sparrow_recovery;
