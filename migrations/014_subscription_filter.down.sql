ALTER TABLE /*schema*/sparrow_subscription
    DROP COLUMN filter;
