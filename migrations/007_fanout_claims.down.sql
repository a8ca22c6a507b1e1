ALTER TABLE /*schema*/sparrow_event ADD COLUMN fanout_round integer NOT NULL DEFAULT 0, ADD COLUMN fanned_out_at timestamptz;

UPDATE /*schema*/sparrow_event e SET fanout_round = f.round + 1, fanned_out_at = f.at
FROM (SELECT event_id, max(round) AS round, max(at) AS at FROM /*schema*/sparrow_event_fanout GROUP BY event_id) f
WHERE f.event_id = e.id;

DROP TABLE /*schema*/sparrow_event_fanout;
