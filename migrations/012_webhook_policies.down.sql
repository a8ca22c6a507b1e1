DROP TABLE /*schema*/sparrow_webhook_rate;
ALTER TABLE /*schema*/sparrow_webhook
    DROP COLUMN rate_limit_per_second,
    DROP COLUMN retry_schedule_ms;
