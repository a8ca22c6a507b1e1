-- A webhook's failed, expired or cancelled deliveries, newest first: the
-- listing people ask for when something goes wrong. Without it, such a
-- listing walks the webhook's whole history past its successes. Partial,
-- so that deliveries that succeed (most) never enter it.
CREATE INDEX sparrow_delivery_finished_badly_idx ON /*schema*/sparrow_delivery (webhook_id, status, id DESC)
    WHERE status IN ('failed', 'expired', 'cancelled');
