DROP INDEX /*schema*/sparrow_webhook_deleted_idx;
DROP INDEX /*schema*/sparrow_webhook_health_transition_at_idx;
DROP INDEX /*schema*/sparrow_webhook_health_bucket_bucket_idx;
DROP INDEX /*schema*/sparrow_event_created_idx;
DROP INDEX /*schema*/sparrow_delivery_completed_idx;
