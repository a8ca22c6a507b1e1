"""Test sends against a real server: SendTestEvent delivers an example of
an event type (made from its JSON Schema, or the payload given) to the one
webhook named, whatever its subscriptions, and to no other; bad requests
are refused with their status and change nothing."""

import json
import unittest

import grpc
from google.protobuf.struct_pb2 import Struct

from proto import webhook_pb2
from tests import support
from tests.test_api import stubs, with_key

SCHEMA = {
    "type": "object",
    "required": ["order_id", "total", "placed_at"],
    "properties": {
        "order_id": {"type": "string", "pattern": "^ord_[0-9]{6}$"},
        "total": {"type": "integer", "minimum": 100},
        "placed_at": {"type": "string", "format": "date-time"},
        "currency": {"enum": ["EUR", "USD"]},
    },
}
#: The example SCHEMA gives: made the same way every time.
EXAMPLE = '{"currency":"EUR","order_id":"ord_000000","placed_at":"2025-01-01T12:00:00Z","total":100}'


class TestSendTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = support.server()
        cls.receiver = support.receiver()
        cls.channel = grpc.insecure_channel(cls.server.grpc_address)
        cls.addClassCleanup(cls.channel.close)
        cls.webhooks, cls.events, cls.subscriptions, cls.deliveries, cls.health = stubs(cls.channel)

    def event_type(self, prefix, schema=None, active=True):
        name = support.unique(prefix)
        request = webhook_pb2.RegisterEventRequest(name=name, active=active)
        if schema is not None:
            request.schema.update(schema)
        with_key(self.events.RegisterEvent, request)
        return name

    def register(self, namespace, path, events=()):
        return with_key(self.webhooks.RegisterWebhook, webhook_pb2.RegisterWebhookRequest(
            namespace=namespace, url=self.receiver.url(path), events=list(events), active=True))

    def send(self, **fields):
        return with_key(self.webhooks.SendTestEvent, webhook_pb2.SendTestEventRequest(**fields))

    def test_example_from_schema(self):
        namespace, event = support.unique("py-test-send"), self.event_type("py.test.order", SCHEMA)
        path = f"/{namespace}"
        # The webhook subscribes to nothing: a test send needs no subscription.
        registered = self.register(namespace, path)
        sent = self.send(namespace=namespace, webhook_id=registered.webhook_id, event_name=event)
        self.assertEqual(sent.payload_json, EXAMPLE)
        self.assertEqual(json.loads(EXAMPLE), dict(sent.payload))
        [request] = self.receiver.wait(path)
        self.assertEqual(request.body, EXAMPLE.encode())
        self.assertEqual(request.headers["webhook-id"], sent.delivery_id)
        self.assertEqual(request.headers["sparrow-event-id"], sent.event_id)
        self.assertTrue(support.signature_valid(registered.webhook_secret, request))

        stored = with_key(self.events.GetEvent, webhook_pb2.GetEventRequest(namespace=namespace, event_id=sent.event_id)).event
        self.assertEqual(dict(stored.labels), {"sparrow.test": "true"})
        delivery = support.wait_for(lambda: (lambda d: d if d.status == "succeeded" else None)(
            with_key(self.deliveries.GetDelivery, webhook_pb2.GetDeliveryRequest(
                namespace=namespace, delivery_id=sent.delivery_id)).delivery), "the test delivery to succeed")
        self.assertEqual((delivery.webhook_id, delivery.subscription_id), (registered.webhook_id, ""))

    def test_payload_given(self):
        namespace, event = support.unique("py-test-send-given"), self.event_type("py.test.note")
        path = f"/{namespace}"
        registered = self.register(namespace, path)
        # payload_json arrives as written, its integer beyond a double's.
        text = '{"note": "hi", "n": 18446744073709551615}'
        sent = self.send(namespace=namespace, webhook_id=registered.webhook_id, event_name=event, payload_json=text)
        self.assertEqual(sent.payload_json, text)
        # A Struct payload; and none at all, for a type without a schema: {}.
        struct = Struct()
        struct.update({"note": "struct"})
        self.send(namespace=namespace, webhook_id=registered.webhook_id, event_name=event, payload=struct)
        empty = self.send(namespace=namespace, webhook_id=registered.webhook_id, event_name=event)
        self.assertEqual(empty.payload_json, "{}")
        requests = self.receiver.wait(path, 3)
        self.assertEqual(sorted(r.body for r in requests), sorted([text.encode(), b'{"note":"struct"}', b"{}"]))

    def test_not_sent_to_subscribers(self):
        namespace, event = support.unique("py-test-send-only"), self.event_type("py.test.only")
        target = self.register(namespace, f"/{namespace}/target")
        subscriber = self.register(namespace, f"/{namespace}/subscriber", events=[event])
        sent = self.send(namespace=namespace, webhook_id=target.webhook_id, event_name=event)
        self.receiver.wait(f"/{namespace}/target")
        # A push afterwards reaches the subscriber, and only it does.
        pushed = with_key(self.events.PushEvent, webhook_pb2.PushEventRequest(namespace=namespace, event=event, payload_json="{}"))
        [request] = self.receiver.wait(f"/{namespace}/subscriber")
        self.assertEqual(request.headers["sparrow-event-id"], pushed.event_id)
        deliveries = with_key(self.deliveries.ListDeliveries, webhook_pb2.ListDeliveriesRequest(
            namespace=namespace, event_id=sent.event_id)).deliveries
        self.assertEqual([d.webhook_id for d in deliveries], [target.webhook_id])
        listing = webhook_pb2.ListDeliveriesRequest(namespace=namespace, webhook_id=subscriber.webhook_id)
        self.assertEqual([d.event_id for d in with_key(self.deliveries.ListDeliveries, listing).deliveries], [pushed.event_id])

    def test_refused(self):
        namespace = support.unique("py-test-send-refused")
        strict, inactive = self.event_type("py.test.strict", SCHEMA), self.event_type("py.test.inactive", active=False)
        webhook_id = self.register(namespace, f"/{namespace}").webhook_id
        paused = with_key(self.webhooks.RegisterWebhook, webhook_pb2.RegisterWebhookRequest(
            namespace=namespace, url=self.receiver.url(f"/{namespace}/paused"), active=False)).webhook_id
        cases = [
            ("unknown webhook", dict(webhook_id="wh_01aaaaaaaaaaaaaaaaaaaaaaaa", event_name=strict), grpc.StatusCode.NOT_FOUND, ""),
            ("malformed webhook id", dict(webhook_id="nope", event_name=strict), grpc.StatusCode.INVALID_ARGUMENT, "webhook_id"),
            ("unknown type", dict(webhook_id=webhook_id, event_name=support.unique("py.none")), grpc.StatusCode.INVALID_ARGUMENT, "event_name"),
            ("inactive type", dict(webhook_id=webhook_id, event_name=inactive), grpc.StatusCode.FAILED_PRECONDITION, "inactive"),
            ("Sparrow's own type", dict(webhook_id=webhook_id, event_name="sparrow.webhook.disabled"), grpc.StatusCode.PERMISSION_DENIED, ""),
            ("payload against the schema", dict(webhook_id=webhook_id, event_name=strict, payload_json='{"order_id": "x"}'),
             grpc.StatusCode.INVALID_ARGUMENT, "payload"),
            ("payload not JSON", dict(webhook_id=webhook_id, event_name=strict, payload_json="{"), grpc.StatusCode.INVALID_ARGUMENT, "payload"),
            ("paused webhook", dict(webhook_id=paused, event_name=strict), grpc.StatusCode.FAILED_PRECONDITION, "paused"),
        ]
        for name, fields, code, mentions in cases:
            with self.subTest(name):
                with self.assertRaises(grpc.RpcError) as err:
                    self.send(namespace=namespace, **fields)
                self.assertEqual(err.exception.code(), code, err.exception.details())
                self.assertIn(mentions, err.exception.details())
        # Nothing refused was stored.
        events = with_key(self.events.ListEvents, webhook_pb2.ListEventsRequest(namespace=namespace)).events
        self.assertEqual(list(events), [])


if __name__ == "__main__":
    unittest.main()
