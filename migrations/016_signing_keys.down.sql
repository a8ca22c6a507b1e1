ALTER TABLE /*schema*/sparrow_webhook_secret DROP COLUMN public_key;
