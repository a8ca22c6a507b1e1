-- The public key of an ed25519 signing secret ("whpk_..."), NULL for an
-- HMAC secret: webhook reads show the current one, and with it the
-- signature scheme, without opening sealed secrets. No backfill: before
-- this version a "whsk_" secret could only be stored through the Go API of
-- the same unreleased version, and a sealed one can't be read in SQL.
ALTER TABLE /*schema*/sparrow_webhook_secret ADD COLUMN public_key text;
