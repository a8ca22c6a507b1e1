-- Retention deletes history oldest first, in small batches: each table it
-- prunes gets an index on the time it prunes by, so a batch reads only the
-- rows it deletes.

CREATE INDEX sparrow_delivery_completed_idx ON /*schema*/sparrow_delivery (completed_at)
    WHERE completed_at IS NOT NULL;

CREATE INDEX sparrow_event_created_idx ON /*schema*/sparrow_event (created_at);

CREATE INDEX sparrow_webhook_health_bucket_bucket_idx ON /*schema*/sparrow_webhook_health_bucket (bucket);

CREATE INDEX sparrow_webhook_health_transition_at_idx ON /*schema*/sparrow_webhook_health_transition (at);

CREATE INDEX sparrow_webhook_deleted_idx ON /*schema*/sparrow_webhook (deleted_at)
    WHERE deleted_at IS NOT NULL;
