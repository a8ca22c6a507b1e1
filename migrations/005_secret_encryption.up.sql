-- Webhook secrets may be stored sealed (AES-256-GCM) instead of in the
-- clear: sealed holds nonce and ciphertext, key_id names the key, so keys
-- can be rotated by re-sealing row by row.
ALTER TABLE /*schema*/sparrow_webhook_secret ALTER COLUMN secret DROP NOT NULL;
ALTER TABLE /*schema*/sparrow_webhook_secret ADD COLUMN key_id text, ADD COLUMN sealed bytea;
ALTER TABLE /*schema*/sparrow_webhook_secret ADD CONSTRAINT sparrow_webhook_secret_value_check
    CHECK ((secret IS NULL) <> (sealed IS NULL) AND (sealed IS NULL) = (key_id IS NULL));
