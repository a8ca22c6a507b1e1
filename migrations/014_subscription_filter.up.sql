-- Payload filters: a CEL expression over an event's payload and labels that
-- must be true for the subscription to get the event; '' lets every event
-- through (that the label filter keeps).
ALTER TABLE /*schema*/sparrow_subscription
    ADD COLUMN filter text NOT NULL DEFAULT '';
