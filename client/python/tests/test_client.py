"""sparrow_client.Client against real servers."""

import unittest

import grpc
from google.protobuf.struct_pb2 import Struct

from proto import webhook_pb2, webhook_pb2_grpc
from sparrow_client import ApiKeyInterceptor, Client
from tests import support


class ClientTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = support.server()
        cls.receiver = support.receiver()

    def client(self, *args, **kwargs):
        client = Client(*args, **kwargs)
        self.addCleanup(client.close)
        return client

    def test_stubs(self):
        client = self.client(self.server.grpc_address, api_key=support.API_KEY)
        self.assertIsInstance(client.webhooks, webhook_pb2_grpc.WebhookServiceStub)
        self.assertIsInstance(client.events, webhook_pb2_grpc.EventServiceStub)
        self.assertIsInstance(client.subscriptions, webhook_pb2_grpc.SubscriptionServiceStub)
        self.assertIsInstance(client.deliveries, webhook_pb2_grpc.DeliveryServiceStub)
        self.assertIsInstance(client.health, webhook_pb2_grpc.HealthServiceStub)
        self.assertIsInstance(client.namespaces, webhook_pb2_grpc.NamespaceServiceStub)

    def test_push_and_deliver(self):
        namespace, event = support.unique("py-client"), support.unique("py.client")
        with Client(self.server.grpc_address, api_key=support.API_KEY) as client:
            client.events.RegisterEvent(webhook_pb2.RegisterEventRequest(name=event), timeout=support.RPC_TIMEOUT)
            registered = client.webhooks.RegisterWebhook(webhook_pb2.RegisterWebhookRequest(
                namespace=namespace, events=[event], url=self.receiver.url(f"/{namespace}")), timeout=support.RPC_TIMEOUT)
            payload = Struct()
            payload.update({"order_id": "ord_456"})
            pushed = client.events.PushEvent(webhook_pb2.PushEventRequest(
                namespace=namespace, event=event, payload=payload, labels={"via": "client"}), timeout=support.RPC_TIMEOUT)
            [request] = self.receiver.wait(f"/{namespace}")
            self.assertEqual(request.json(), {"order_id": "ord_456"})
            self.assertEqual(request.headers["sparrow-event-id"], pushed.event_id)
            self.assertTrue(support.signature_valid(registered.webhook_secret, request))
            [subscription] = client.subscriptions.ListSubscriptions(webhook_pb2.ListSubscriptionsRequest(
                namespace=namespace, webhook_id=registered.webhook_id), timeout=support.RPC_TIMEOUT).subscriptions
            self.assertEqual(subscription.event_name, event)
            listing = webhook_pb2.ListDeliveriesRequest(webhook_id=registered.webhook_id, namespace=namespace)
            support.wait_for(
                lambda: [d for d in client.deliveries.ListDeliveries(listing, timeout=support.RPC_TIMEOUT).deliveries
                         if d.status == "succeeded"],
                "the delivery to succeed")
            health = client.health.GetWebhookHealth(webhook_pb2.GetWebhookHealthRequest(
                webhook_id=registered.webhook_id, namespace=namespace), timeout=support.RPC_TIMEOUT)
            self.assertEqual(health.webhook_id, registered.webhook_id)

    def test_without_key(self):
        client = self.client(self.server.grpc_address)
        with self.assertRaises(grpc.RpcError) as err:
            client.webhooks.ListWebhooks(webhook_pb2.ListWebhooksRequest(), timeout=support.RPC_TIMEOUT)
        self.assertEqual(err.exception.code(), grpc.StatusCode.UNAUTHENTICATED)

    def test_wrong_key(self):
        client = self.client(self.server.grpc_address, api_key="not-the-key-0123456789")
        with self.assertRaises(grpc.RpcError) as err:
            client.webhooks.ListWebhooks(webhook_pb2.ListWebhooksRequest(), timeout=support.RPC_TIMEOUT)
        self.assertEqual(err.exception.code(), grpc.StatusCode.UNAUTHENTICATED)
        # A call's own x-api-key wins over the client's.
        client.webhooks.ListWebhooks(webhook_pb2.ListWebhooksRequest(), metadata=[("x-api-key", support.API_KEY)],
                                     timeout=support.RPC_TIMEOUT)

    def test_tls(self):
        server, ca = support.tls_server(), support.ca()
        address = f"localhost:{server.grpc_port}"
        client = self.client(address, api_key=support.API_KEY, root_certificates=ca.read_ca())
        summary = client.health.GetHealthSummary(webhook_pb2.GetHealthSummaryRequest(namespace="default"),
                                                 timeout=support.RPC_TIMEOUT)
        self.assertEqual(summary.namespace, "default")
        for name, refused in (
            ("default roots", self.client(address, api_key=support.API_KEY, tls=True)),
            ("plaintext", self.client(address, api_key=support.API_KEY)),
        ):
            with self.subTest(name):
                with self.assertRaises(grpc.RpcError) as err:
                    refused.health.GetHealthSummary(webhook_pb2.GetHealthSummaryRequest(), timeout=support.RPC_TIMEOUT)
                self.assertEqual(err.exception.code(), grpc.StatusCode.UNAVAILABLE)

    def test_arguments(self):
        with self.assertRaises(ValueError):
            Client("localhost:1", tls=False, root_certificates=b"pem")
        with self.assertRaises(ValueError):
            Client("localhost:1", api_key="")
        with self.assertRaises(ValueError):
            ApiKeyInterceptor("")

    def test_close(self):
        client = Client(self.server.grpc_address, api_key=support.API_KEY)
        client.health.GetHealthSummary(webhook_pb2.GetHealthSummaryRequest(), timeout=support.RPC_TIMEOUT)
        client.close()
        with self.assertRaises(ValueError):  # grpc: "Cannot invoke RPC on closed channel!"
            client.health.GetHealthSummary(webhook_pb2.GetHealthSummaryRequest(), timeout=support.RPC_TIMEOUT)


if __name__ == "__main__":
    unittest.main()
