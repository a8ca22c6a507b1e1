-- An event type may carry a JSON Schema its payloads must satisfy.
ALTER TABLE /*schema*/sparrow_event_type ADD COLUMN schema jsonb;
