ALTER TABLE /*schema*/sparrow_delivery_attempt DROP COLUMN manual;

ALTER TABLE /*schema*/sparrow_delivery
    DROP COLUMN retry_requested,
    DROP COLUMN manual_attempt_count;
