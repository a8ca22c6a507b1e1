"""The generated stubs against real servers: a push delivered and signed,
what the API records of it, the API key, errors, and TLS."""

import base64
import json
import os
import time
import unittest

import grpc
from google.protobuf.struct_pb2 import Struct

from proto import webhook_pb2, webhook_pb2_grpc
from tests import support

SERVICES = ("NamespaceService", "WebhookService", "EventService", "SubscriptionService", "DeliveryService", "HealthService")


def stubs(channel):
    return (
        webhook_pb2_grpc.WebhookServiceStub(channel),
        webhook_pb2_grpc.EventServiceStub(channel),
        webhook_pb2_grpc.SubscriptionServiceStub(channel),
        webhook_pb2_grpc.DeliveryServiceStub(channel),
        webhook_pb2_grpc.HealthServiceStub(channel),
    )


def with_key(method, request, key=support.API_KEY):
    return method(request, metadata=[("x-api-key", key)], timeout=support.RPC_TIMEOUT)


class GeneratedCodeTest(unittest.TestCase):
    def test_services(self):
        self.assertEqual(webhook_pb2.DESCRIPTOR.package, "webhook")
        self.assertEqual(set(webhook_pb2.DESCRIPTOR.services_by_name), set(SERVICES))
        for service in SERVICES:
            self.assertTrue(hasattr(webhook_pb2_grpc, service + "Stub"), service)


class StubsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = support.server()
        cls.receiver = support.receiver()
        cls.channel = grpc.insecure_channel(cls.server.grpc_address)
        cls.addClassCleanup(cls.channel.close)
        cls.webhooks, cls.events, cls.subscriptions, cls.deliveries, cls.health = stubs(cls.channel)

    def register(self, namespace, event, path, secret=""):
        with_key(self.events.RegisterEvent, webhook_pb2.RegisterEventRequest(name=event, description="test", active=True))
        return with_key(self.webhooks.RegisterWebhook, webhook_pb2.RegisterWebhookRequest(
            namespace=namespace, events=[event], url=self.receiver.url(path), webhook_secret=secret, active=True))

    def push(self, namespace, event, payload):
        return with_key(self.events.PushEvent, webhook_pb2.PushEventRequest(namespace=namespace, event=event, payload=payload))

    def test_push_delivered_signed_and_recorded(self):
        namespace, event = support.unique("py-push"), support.unique("py.order.created")
        secret = "whsec_" + base64.b64encode(os.urandom(24)).decode()
        registered = self.register(namespace, event, f"/{namespace}", secret)
        self.assertRegex(registered.webhook_id, r"^wh_")
        self.assertEqual(registered.webhook_secret, secret)
        self.assertEqual(registered.webhook.state, "active")
        self.assertEqual(list(registered.webhook.events), [event])

        document = {"order_id": "ord_123", "total": 49.99, "items": [{"sku": "A1", "qty": 2}], "gift": False, "note": None}
        payload = Struct()
        payload.update(document)
        labels = {"plan": "premium", "region": "us-east-1"}
        pushed = with_key(self.events.PushEvent, webhook_pb2.PushEventRequest(
            namespace=namespace, event=event, payload=payload, ttl_seconds=3600, labels=labels))
        self.assertRegex(pushed.event_id, r"^evt_")

        # The receiver gets the payload as JSON with the Standard Webhooks headers.
        [request] = self.receiver.wait(f"/{namespace}")
        self.assertEqual(request.json(), document)
        self.assertTrue(request.headers["content-type"].startswith("application/json"))
        self.assertRegex(request.headers["webhook-id"], r"^dlv_")
        self.assertLess(abs(int(request.headers["webhook-timestamp"]) - time.time()), 300)
        self.assertEqual(request.headers["sparrow-event"], event)
        self.assertEqual(request.headers["sparrow-event-id"], pushed.event_id)
        self.assertEqual(request.headers["sparrow-namespace"], namespace)
        self.assertEqual(request.headers["sparrow-webhook-id"], registered.webhook_id)
        self.assertEqual(request.headers["sparrow-attempt"], "1")
        self.assertTrue(support.signature_valid(secret, request))
        # The check can fail: another key, or another body, doesn't verify.
        self.assertFalse(support.signature_valid("whsec_" + base64.b64encode(os.urandom(24)).decode(), request))
        tampered = support.Received(request.path, request.headers, request.body.replace(b"49.99", b"0.99"))
        self.assertFalse(support.signature_valid(secret, tampered))

        # The event keeps its payload, labels and TTL.
        stored = with_key(self.events.GetEvent, webhook_pb2.GetEventRequest(event_id=pushed.event_id, namespace=namespace)).event
        self.assertEqual(stored.event_name, event)
        self.assertEqual(stored.payload, payload)
        self.assertEqual(dict(stored.labels), labels)
        self.assertEqual(stored.expires_at.ToSeconds() - stored.created_at.ToSeconds(), 3600)

        # The delivery is listed, succeeded at its first attempt.
        listing = webhook_pb2.ListDeliveriesRequest(webhook_id=registered.webhook_id, namespace=namespace, limit=10)
        [delivery] = support.wait_for(
            lambda: [d for d in with_key(self.deliveries.ListDeliveries, listing).deliveries if d.status == "succeeded"],
            "the delivery to be recorded as succeeded")
        self.assertEqual(delivery.id, request.headers["webhook-id"])
        self.assertEqual(delivery.event_id, pushed.event_id)
        self.assertEqual(delivery.attempt_count, 1)
        self.assertEqual(delivery.last_status_code, 200)
        self.assertEqual(delivery.expires_at, stored.expires_at)
        detail = with_key(self.deliveries.GetDelivery, webhook_pb2.GetDeliveryRequest(delivery_id=delivery.id, namespace=namespace)).delivery
        self.assertEqual(detail.body.encode(), request.body)
        self.assertEqual([a.status_code for a in detail.attempts], [200])

        # And counts in the webhook's health.
        health_request = webhook_pb2.GetWebhookHealthRequest(webhook_id=registered.webhook_id, namespace=namespace)
        health = support.wait_for(
            lambda: (lambda h: h if h.attempts >= 1 else None)(with_key(self.health.GetWebhookHealth, health_request)),
            "the attempt to count in the webhook's health")
        self.assertEqual((health.webhook_id, health.namespace), (registered.webhook_id, namespace))
        self.assertEqual((health.attempts, health.successes, health.failures), (1, 1, 0))
        self.assertEqual(health.success_rate, 100.0)
        self.assertIn(health.health_status, ("unknown", "healthy"))

        subscriptions = with_key(self.subscriptions.ListSubscriptions, webhook_pb2.ListSubscriptionsRequest(
            namespace=namespace, webhook_id=registered.webhook_id)).subscriptions
        self.assertEqual([s.event_name for s in subscriptions], [event])

    def test_text_secret_signs_with_its_bytes(self):
        namespace, event = support.unique("py-text-secret"), support.unique("py.text")
        secret = "a text secret that is not whsec_ base64"
        self.register(namespace, event, f"/{namespace}", secret)
        self.push(namespace, event, Struct())
        [request] = self.receiver.wait(f"/{namespace}")
        self.assertEqual(request.json(), {})
        self.assertTrue(support.signature_valid(secret, request))

    def test_payload_json_keeps_numbers_exact(self):
        # A Struct holds every number as a double; payload_json carries the
        # JSON text as it is, so big integers and decimals arrive exactly.
        namespace, event = support.unique("py-exact"), support.unique("py.exact")
        self.register(namespace, event, f"/{namespace}")
        text = json.dumps({"max_u64": 2**64 - 1, "id": 9007199254740993, "price": 10.10})
        pushed = with_key(self.events.PushEvent, webhook_pb2.PushEventRequest(
            namespace=namespace, event=event, payload_json=text))
        [request] = self.receiver.wait(f"/{namespace}")
        self.assertEqual(request.body.decode(), text)
        self.assertEqual(request.json()["max_u64"], 2**64 - 1)
        stored = with_key(self.events.GetEvent, webhook_pb2.GetEventRequest(event_id=pushed.event_id, namespace=namespace)).event
        self.assertEqual(stored.payload_json, text)

    def test_generated_secret(self):
        namespace, event = support.unique("py-generated-secret"), support.unique("py.generated")
        secret = self.register(namespace, event, f"/{namespace}").webhook_secret
        self.assertTrue(secret.startswith("whsec_"), secret)
        self.assertGreaterEqual(len(support.signing_key(secret)), 16)
        payload = Struct()
        payload.update({"n": 1})
        self.push(namespace, event, payload)
        [request] = self.receiver.wait(f"/{namespace}")
        self.assertTrue(support.signature_valid(secret, request))

    def test_call_without_key_unauthenticated(self):
        webhooks, events, subscriptions, deliveries, health = self.webhooks, self.events, self.subscriptions, self.deliveries, self.health
        calls = [
            (webhooks.ListWebhooks, webhook_pb2.ListWebhooksRequest()),
            (events.ListEventTypes, webhook_pb2.ListEventTypesRequest()),
            (events.PushEvent, webhook_pb2.PushEventRequest(event="order.created")),
            (subscriptions.ListSubscriptions, webhook_pb2.ListSubscriptionsRequest()),
            (deliveries.ListDeliveries, webhook_pb2.ListDeliveriesRequest()),
            (health.GetHealthSummary, webhook_pb2.GetHealthSummaryRequest()),
        ]
        for method, request in calls:
            with self.subTest(method=type(request).__name__):
                with self.assertRaises(grpc.RpcError) as err:
                    method(request, timeout=support.RPC_TIMEOUT)
                self.assertEqual(err.exception.code(), grpc.StatusCode.UNAUTHENTICATED)

    def test_wrong_key_unauthenticated(self):
        with self.assertRaises(grpc.RpcError) as err:
            with_key(self.webhooks.ListWebhooks, webhook_pb2.ListWebhooksRequest(), key="not-the-key-0123456789")
        self.assertEqual(err.exception.code(), grpc.StatusCode.UNAUTHENTICATED)

    def test_bearer_key(self):
        listed = self.webhooks.ListWebhooks(
            webhook_pb2.ListWebhooksRequest(namespace=support.unique("py-bearer")),
            metadata=[("authorization", f"Bearer {support.API_KEY}")], timeout=support.RPC_TIMEOUT)
        self.assertEqual(list(listed.webhooks), [])

    def test_scoped_key(self):
        request = webhook_pb2.ListWebhooksRequest(namespace=support.SCOPED_NAMESPACE)
        with_key(self.webhooks.ListWebhooks, request, key=support.SCOPED_API_KEY)
        with self.assertRaises(grpc.RpcError) as err:
            with_key(self.webhooks.ListWebhooks, webhook_pb2.ListWebhooksRequest(namespace="default"), key=support.SCOPED_API_KEY)
        self.assertEqual(err.exception.code(), grpc.StatusCode.PERMISSION_DENIED)

    def test_errors(self):
        with self.assertRaises(grpc.RpcError) as err:
            with_key(self.webhooks.RegisterWebhook, webhook_pb2.RegisterWebhookRequest(url="not a url"))
        self.assertEqual(err.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        self.assertIn("url", err.exception.details())
        with self.assertRaises(grpc.RpcError) as err:
            with_key(self.events.GetEventType, webhook_pb2.GetEventTypeRequest(name=support.unique("py.missing")))
        self.assertEqual(err.exception.code(), grpc.StatusCode.NOT_FOUND)


class TlsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = support.tls_server()
        cls.ca = support.ca()
        cls.receiver = support.receiver()
        cls.address = f"localhost:{cls.server.grpc_port}"

    def channel(self, channel):
        self.addCleanup(channel.close)
        return channel

    def test_push_over_tls(self):
        credentials = grpc.ssl_channel_credentials(root_certificates=self.ca.read_ca())
        webhooks, events, _, deliveries, _ = stubs(self.channel(grpc.secure_channel(self.address, credentials)))
        namespace, event = support.unique("py-tls"), support.unique("py.tls")
        with_key(events.RegisterEvent, webhook_pb2.RegisterEventRequest(name=event))
        registered = with_key(webhooks.RegisterWebhook, webhook_pb2.RegisterWebhookRequest(
            namespace=namespace, events=[event], url=self.receiver.url(f"/{namespace}")))
        payload = Struct()
        payload.update({"over": "tls"})
        with_key(events.PushEvent, webhook_pb2.PushEventRequest(namespace=namespace, event=event, payload=payload))
        [request] = self.receiver.wait(f"/{namespace}")
        self.assertEqual(request.json(), {"over": "tls"})
        self.assertTrue(support.signature_valid(registered.webhook_secret, request))
        listed = with_key(deliveries.ListDeliveries, webhook_pb2.ListDeliveriesRequest(
            webhook_id=registered.webhook_id, namespace=namespace))
        self.assertEqual(len(listed.deliveries), 1)

        with self.assertRaises(grpc.RpcError) as err:
            webhooks.ListWebhooks(webhook_pb2.ListWebhooksRequest(), timeout=support.RPC_TIMEOUT)
        self.assertEqual(err.exception.code(), grpc.StatusCode.UNAUTHENTICATED)

    def test_unknown_ca_refused(self):
        # gRPC's default roots don't include the test CA.
        health = webhook_pb2_grpc.HealthServiceStub(self.channel(grpc.secure_channel(self.address, grpc.ssl_channel_credentials())))
        with self.assertRaises(grpc.RpcError) as err:
            with_key(health.GetHealthSummary, webhook_pb2.GetHealthSummaryRequest())
        self.assertEqual(err.exception.code(), grpc.StatusCode.UNAVAILABLE)

    def test_plaintext_refused(self):
        health = webhook_pb2_grpc.HealthServiceStub(self.channel(grpc.insecure_channel(f"127.0.0.1:{self.server.grpc_port}")))
        with self.assertRaises(grpc.RpcError) as err:
            with_key(health.GetHealthSummary, webhook_pb2.GetHealthSummaryRequest())
        self.assertEqual(err.exception.code(), grpc.StatusCode.UNAVAILABLE)


if __name__ == "__main__":
    unittest.main()
