-- Custom headers often carry credentials (Authorization, API keys). With
-- secret keys they are sealed as signing secrets are (AES-256-GCM, bound to
-- the webhook's id): headers_sealed holds nonce and ciphertext of all of a
-- webhook's headers as one JSON object, headers_key_id names the key, so
-- keys can be rotated by re-sealing row by row.
--
-- headers keeps their names, each with the masked value every read shows
-- ('********', webhook.MaskedHeaderValue), so that reads and an update's
-- check of its masked values need no key. The check below makes a sealed
-- row that still holds a value in the clear impossible. Without keys, or
-- with no headers, headers holds them in the clear as before.
ALTER TABLE /*schema*/sparrow_webhook ADD COLUMN headers_key_id text, ADD COLUMN headers_sealed bytea;
ALTER TABLE /*schema*/sparrow_webhook ADD CONSTRAINT sparrow_webhook_headers_sealed_check
    CHECK ((headers_sealed IS NULL) = (headers_key_id IS NULL)
        AND (headers_sealed IS NULL OR NOT jsonb_path_exists(headers, '$.* ? (@ != "********")')));
