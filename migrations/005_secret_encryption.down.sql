-- Sealed secrets cannot be decrypted in SQL: refuse to revert while any
-- exist, rather than lose them.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM /*schema*/sparrow_webhook_secret WHERE sealed IS NOT NULL) THEN
        RAISE EXCEPTION 'sparrow: encrypted webhook secrets present; this version cannot be reverted without losing them';
    END IF;
END $$;
ALTER TABLE /*schema*/sparrow_webhook_secret DROP CONSTRAINT sparrow_webhook_secret_value_check;
ALTER TABLE /*schema*/sparrow_webhook_secret DROP COLUMN key_id, DROP COLUMN sealed;
ALTER TABLE /*schema*/sparrow_webhook_secret ALTER COLUMN secret SET NOT NULL;
