-- Sealed headers cannot be decrypted in SQL, and the headers column holds
-- only their names: refuse to revert while any exist, rather than lose them.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM /*schema*/sparrow_webhook WHERE headers_sealed IS NOT NULL) THEN
        RAISE EXCEPTION 'sparrow: % webhooks have encrypted headers; this version cannot be reverted without losing them',
            (SELECT count(*) FROM /*schema*/sparrow_webhook WHERE headers_sealed IS NOT NULL);
    END IF;
END
$$;

ALTER TABLE /*schema*/sparrow_webhook DROP CONSTRAINT sparrow_webhook_headers_sealed_check;
ALTER TABLE /*schema*/sparrow_webhook DROP COLUMN headers_key_id, DROP COLUMN headers_sealed;
