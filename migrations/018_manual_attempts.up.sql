-- Attempts made by hand (RetryDelivery, RetryFailedDeliveries) are counted
-- apart from the automatic ones, which alone count against max_attempts
-- and set the retry schedule: a manual retry is one extra attempt, not a
-- new run. retry_requested is set while a manual attempt is asked for and
-- not yet made; automatic jobs leave such a delivery to the manual one.
-- Constant defaults: no table rewrite.
ALTER TABLE /*schema*/sparrow_delivery
    ADD COLUMN manual_attempt_count integer NOT NULL DEFAULT 0,
    ADD COLUMN retry_requested      boolean NOT NULL DEFAULT false;

ALTER TABLE /*schema*/sparrow_delivery_attempt ADD COLUMN manual boolean NOT NULL DEFAULT false;
