ALTER TABLE /*schema*/sparrow_event_type DROP COLUMN schema;
