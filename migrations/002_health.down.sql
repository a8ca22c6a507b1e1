DROP TABLE /*schema*/sparrow_webhook_health_transition;
DROP TABLE /*schema*/sparrow_webhook_health_bucket;
DROP TABLE /*schema*/sparrow_webhook_health;
