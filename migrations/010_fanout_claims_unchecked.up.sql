-- A fan-out claim's foreign key looked its event up and locked it (a
-- KEY SHARE lock, written to the event's row) for every event fanned out,
-- though the claim is inserted only after the event was read. Retention
-- deletes an event's claims with the event instead.
ALTER TABLE /*schema*/sparrow_event_fanout DROP CONSTRAINT sparrow_event_fanout_event_id_fkey;
