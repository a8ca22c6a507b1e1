DROP TABLE /*schema*/sparrow_delivery_attempt;
DROP TABLE /*schema*/sparrow_delivery;
DROP TABLE /*schema*/sparrow_event;
DROP TABLE /*schema*/sparrow_subscription;
DROP TABLE /*schema*/sparrow_webhook_secret;
DROP TABLE /*schema*/sparrow_webhook;
DROP TABLE /*schema*/sparrow_event_type;
