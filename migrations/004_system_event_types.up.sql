-- Sparrow's own event types: health changes pushed as events, so an
-- operator's endpoint can subscribe to them like to any other.
INSERT INTO /*schema*/sparrow_event_type (name, description, active, created_at, updated_at) VALUES
    ('sparrow.webhook.state_changed', 'A webhook''s health state changed (Sparrow)', true, now(), now()),
    ('sparrow.webhook.disabled', 'Sparrow disabled a webhook after sustained failure (Sparrow)', true, now(), now()),
    ('sparrow.delivery.exhausted', 'A delivery used up its attempts (Sparrow)', true, now(), now())
ON CONFLICT (name) DO NOTHING;
