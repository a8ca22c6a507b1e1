-- Attempts per HTTP status in each health bucket ({"200": 41, "none": 2};
-- "none" for attempts that got no answer), for the status breakdown of
-- health figures. Kept in the buckets, not read from the attempts, so a
-- week of them costs a read of the webhook's counters, however many
-- attempts it had. Buckets written before this version have none: a
-- constant default, so adding the column rewrites nothing.
ALTER TABLE /*schema*/sparrow_webhook_health_bucket ADD COLUMN status_counts jsonb NOT NULL DEFAULT '{}';
