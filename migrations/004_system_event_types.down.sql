DELETE FROM /*schema*/sparrow_event_type
WHERE name IN ('sparrow.webhook.state_changed', 'sparrow.webhook.disabled', 'sparrow.delivery.exhausted');
