ALTER TABLE /*schema*/sparrow_webhook_health_bucket DROP COLUMN status_counts;
