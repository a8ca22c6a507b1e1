DELETE FROM /*schema*/sparrow_event_fanout f
WHERE NOT EXISTS (SELECT 1 FROM /*schema*/sparrow_event e WHERE e.id = f.event_id);

ALTER TABLE /*schema*/sparrow_event_fanout ADD CONSTRAINT sparrow_event_fanout_event_id_fkey
    FOREIGN KEY (event_id) REFERENCES /*schema*/sparrow_event (id) ON DELETE CASCADE;
