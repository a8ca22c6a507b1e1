"""Payload filters against a real server: a subscription with a filter gets
only the events the filter passes; TestFilter tries a filter over a sample
event; a filter that does not compile is refused, naming the field and the
place, and changes nothing."""

import unittest

import grpc
from google.protobuf.struct_pb2 import Struct

from proto import webhook_pb2
from tests import support
from tests.test_api import stubs, with_key


def payload(**fields):
    s = Struct()
    s.update(fields)
    return s


class FilterTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = support.server()
        cls.receiver = support.receiver()
        cls.channel = grpc.insecure_channel(cls.server.grpc_address)
        cls.addClassCleanup(cls.channel.close)
        cls.webhooks, cls.events, cls.subscriptions, cls.deliveries, cls.health = stubs(cls.channel)

    def event_type(self):
        name = support.unique("py.filter")
        with_key(self.events.RegisterEvent, webhook_pb2.RegisterEventRequest(name=name, active=True))
        return name

    def register(self, namespace, path, events=()):
        return with_key(self.webhooks.RegisterWebhook, webhook_pb2.RegisterWebhookRequest(
            namespace=namespace, events=list(events), url=self.receiver.url(path), active=True))

    def subscribe(self, webhook, event, **fields):
        return with_key(self.subscriptions.CreateSubscription, webhook_pb2.CreateSubscriptionRequest(
            namespace=webhook.webhook.namespace, webhook_id=webhook.webhook_id, event_name=event, **fields)).subscription

    def assertInvalid(self, call, *wanted):
        with self.assertRaises(grpc.RpcError) as err:
            call()
        self.assertEqual(err.exception.code(), grpc.StatusCode.INVALID_ARGUMENT, err.exception.details())
        for text in wanted:
            self.assertIn(text, err.exception.details())

    def test_only_matching_events_delivered(self):
        namespace, event = support.unique("py-filter"), self.event_type()
        filtered = self.register(namespace, f"/{namespace}/filtered")
        # A webhook taking every event: once it has them all, every event
        # has been fanned out.
        self.register(namespace, f"/{namespace}/all", events=[event])
        sub = self.subscribe(filtered, event, filter='payload.total > 100 && payload.currency == "EUR" && labels.region == "eu"')
        self.assertEqual(sub.filter, 'payload.total > 100 && payload.currency == "EUR" && labels.region == "eu"')

        eu = {"region": "eu"}
        pushes = [
            ("small", payload(id="small", total=50, currency="EUR"), eu),
            ("usd", payload(id="usd", total=150, currency="USD"), eu),
            ("us", payload(id="us", total=150, currency="EUR"), {"region": "us"}),
            ("no-total", payload(id="no-total", currency="EUR"), eu),
            ("match", payload(id="match", total=150, currency="EUR"), eu),
        ]
        pushed = {}
        for name, body, labels in pushes:
            pushed[name] = with_key(self.events.PushEvent, webhook_pb2.PushEventRequest(
                namespace=namespace, event=event, payload=body, labels=labels)).event_id
        self.receiver.wait(f"/{namespace}/all", len(pushes))

        listing = webhook_pb2.ListDeliveriesRequest(webhook_id=filtered.webhook_id, namespace=namespace, limit=100)
        deliveries = with_key(self.deliveries.ListDeliveries, listing).deliveries
        self.assertEqual([d.event_id for d in deliveries], [pushed["match"]])
        [request] = self.receiver.wait(f"/{namespace}/filtered")
        self.assertEqual(request.json()["id"], "match")

    def test_test_filter(self):
        sample = payload(total=150, currency="EUR")
        cases = [
            ('payload.total > 100 && payload.currency == "EUR"', {}, True),
            ("payload.total > 200", {}, False),
            ('labels.region == "eu"', {"region": "eu"}, True),
            ('"region" in labels', {}, False),
            # A field the event lacks: no match, no error.
            ("payload.discount > 0", {}, False),
            ("!has(payload.discount)", {}, True),
        ]
        for expression, labels, matched in cases:
            with self.subTest(expression):
                got = with_key(self.subscriptions.TestFilter, webhook_pb2.TestFilterRequest(
                    filter=expression, payload=sample, labels=labels))
                self.assertEqual(got.matched, matched)
        # payload_json keeps integers exact.
        got = with_key(self.subscriptions.TestFilter, webhook_pb2.TestFilterRequest(
            filter="payload.n == 9007199254740993", payload_json='{"n": 9007199254740993}'))
        self.assertTrue(got.matched)

        bad = [
            ("payload.total >", sample, ("filter: 1:16: Syntax error",)),
            ("payload.total + 1", sample, ("filter:", "not bool")),
            ("payload.currency > 1", sample, ("filter:", "no such overload")),
            ("", sample, ("filter: empty expression",)),
            ("true", None, ("payload",)),
        ]
        for expression, body, wanted in bad:
            with self.subTest(f"refused: {expression!r}"):
                self.assertInvalid(lambda: with_key(self.subscriptions.TestFilter, webhook_pb2.TestFilterRequest(
                    filter=expression, payload=body)), *wanted)

    def test_bad_filter_refused(self):
        namespace, event = support.unique("py-filter-bad"), self.event_type()
        webhook = self.register(namespace, f"/{namespace}")
        self.assertInvalid(lambda: self.subscribe(webhook, event, filter="payload.total >"), "filter: 1:16: Syntax error")
        listing = webhook_pb2.ListSubscriptionsRequest(namespace=namespace, webhook_id=webhook.webhook_id)
        self.assertEqual(len(with_key(self.subscriptions.ListSubscriptions, listing).subscriptions), 0)

        sub = self.subscribe(webhook, event, filter="payload.total > 100")

        def update(**fields):
            return with_key(self.subscriptions.UpdateSubscription, webhook_pb2.UpdateSubscriptionRequest(
                namespace=namespace, subscription_id=sub.id, **fields)).subscription

        self.assertInvalid(lambda: update(active=False, filter="total > 100"), "filter: 1:1: undeclared reference to 'total'")
        stored = with_key(self.subscriptions.GetSubscription, webhook_pb2.GetSubscriptionRequest(
            namespace=namespace, subscription_id=sub.id)).subscription
        self.assertEqual((stored.filter, stored.active), ("payload.total > 100", True))

        # Left out, the filter stays; "" removes it.
        self.assertEqual(update(template="").filter, "payload.total > 100")
        self.assertEqual(update(filter="").filter, "")


if __name__ == "__main__":
    unittest.main()
