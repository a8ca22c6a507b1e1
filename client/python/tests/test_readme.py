"""The README's examples (the product page's) run as written against real
servers: only the addresses, the API key, the webhook URL and the CA file
are replaced."""

import re
import unittest

import grpc

from proto import webhook_pb2, webhook_pb2_grpc
from tests import support

ADDRESS = "localhost:50051"
TLS_ADDRESS = "sparrow.example.com:50051"
URL = "https://example.com/webhook"
KEY = "your-api-key"
CA_FILE = '"ca-cert.pem"'


class ReadmeExamplesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.examples = support.readme_examples()
        cls.server = support.server()
        cls.receiver = support.receiver()

    def test_examples_present(self):
        self.assertEqual(
            set(self.examples),
            {"imports", "channel", "register-and-push", "exact-payload", "metadata", "interceptor", "errors",
             "list-deliveries", "health", "recover", "delivery-policies", "ordering-key", "payload-filter",
             "test-send", "ed25519", "tls", "client", "client-tls"},
        )

    def test_walkthrough(self):
        """Steps 1 to 3, the API key in both forms, deliveries and health,
        against a server that requires a key."""
        ns = {"__name__": "readme"}
        run = lambda name, replace=None: support.run_example(self.examples[name], ns, replace)
        address = {ADDRESS: self.server.grpc_address}
        url = self.receiver.url("/readme")

        run("imports")
        run("channel", address)
        # Stubs on a plain channel send no key: the server refuses them.
        with self.assertRaises(grpc.RpcError) as refused:
            run("register-and-push", {URL: url})
        self.assertEqual(refused.exception.code(), grpc.StatusCode.UNAUTHENTICATED)

        # Stubs on the intercepted channel send it.
        run("interceptor", {**address, KEY: support.API_KEY})
        out = run("register-and-push", {URL: url})
        printed = re.fullmatch(r"Webhook registered: (wh_\S+)\nEvent pushed: (evt_\S+)\n", out)
        self.assertIsNotNone(printed, out)
        webhook_id, event_id = printed.groups()
        self.assertEqual(ns["webhook_id"], webhook_id)

        # The delivery reaches the receiver, signed with the generated secret.
        [request] = self.receiver.wait("/readme")
        self.assertEqual(request.json(), {"order_id": "ord_123", "total": 49.99})

        self.assertEqual(request.headers["sparrow-event-id"], event_id)
        self.assertEqual(request.headers["sparrow-event"], "order.created")
        self.assertEqual(request.headers["sparrow-webhook-id"], webhook_id)
        self.assertTrue(ns["response"].webhook_secret.startswith("whsec_"))
        self.assertTrue(support.signature_valid(ns["response"].webhook_secret, request))

        deliveries = webhook_pb2.ListDeliveriesRequest(webhook_id=webhook_id, namespace="default")
        support.wait_for(
            lambda: any(d.status == "succeeded"
                        for d in ns["delivery_stub"].ListDeliveries(deliveries, timeout=support.RPC_TIMEOUT).deliveries),
            "the delivery to be recorded as succeeded",
        )
        out = run("list-deliveries")
        self.assertEqual(out, f"Delivery {request.headers['webhook-id']}: status=succeeded attempts=1\n")

        # The event was delivered: a recovery over the last hour has nothing to re-send.
        out = run("recover")
        self.assertEqual(out, "Recovery succeeded: 0 of 1 events re-sent\n")

        health = webhook_pb2.GetWebhookHealthRequest(webhook_id=webhook_id, namespace="default")
        support.wait_for(
            lambda: ns["health_stub"].GetWebhookHealth(health, timeout=support.RPC_TIMEOUT).attempts >= 1,
            "the attempt to count in the webhook's health",
        )
        out = run("health")
        self.assertRegex(out, r"^Health: (unknown|healthy), success_rate=100\.0%\n$")

        # payload_json arrives as written, its integer beyond a double's.
        run("exact-payload")
        [_, exact] = self.receiver.wait("/readme", 2)
        self.assertEqual(exact.body, b'{"order_id": 18446744073709551615, "total": 49.99}')

        # Stubs without the interceptor again: errors, then the key as metadata.
        run("channel", address)
        out = run("errors")
        self.assertRegex(out, r"^UNAUTHENTICATED: .*API key")
        run("metadata", {KEY: support.API_KEY, URL: self.receiver.url("/readme-metadata")})
        self.assertRegex(ns["response"].webhook_id, r"^wh_")
        self.assertNotEqual(ns["response"].webhook_id, webhook_id)
        self.assertEqual(list(ns["response"].webhook.events), ["order.created"])
        self.assertEqual(ns["response"].webhook.url, self.receiver.url("/readme-metadata"))

    def test_delivery_policies(self):
        """The retry schedule, rate limit and ordering key examples, in a
        namespace and with an event type of their own (the walkthrough
        registers "order.created")."""
        namespace, event = support.unique("readme-policies"), support.unique("readme.order")
        ns = {"__name__": "readme"}
        run = lambda name, replace=None: support.run_example(self.examples[name], ns, replace)
        own = {'namespace="default"': f'namespace="{namespace}"', '"order.created"': repr(event)}
        run("imports")
        run("interceptor", {ADDRESS: self.server.grpc_address, KEY: support.API_KEY})
        ns["event_stub"].RegisterEvent(webhook_pb2.RegisterEventRequest(name=event, active=True), timeout=support.RPC_TIMEOUT)

        out = run("delivery-policies", {**own, URL: self.receiver.url(f"/{namespace}")})
        self.assertEqual(out, "retry_schedule=['5s', '5m', '30m', '2h'] max_attempts=5\n")
        self.assertEqual(ns["webhook"].rate_limit_per_second, 10)
        webhook_id = ns["response"].webhook_id
        read = ns["webhook_stub"].GetWebhook(webhook_pb2.GetWebhookRequest(webhook_id=webhook_id, namespace=namespace),
                                             timeout=support.RPC_TIMEOUT).webhook
        self.assertEqual(list(read.retry_schedule), ["1m", "10m", "1h"])
        self.assertEqual((read.max_attempts, read.rate_limit_per_second), (4, 0))

        run("ordering-key", own)
        requests = self.receiver.wait(f"/{namespace}", 3)
        self.assertEqual([r.json() for r in requests],
                         [{"order_id": o, "customer_id": "cus_42"} for o in ("ord_124", "ord_125", "ord_126")])
        event_ids = [r.headers["sparrow-event-id"] for r in requests]
        for event_id in event_ids:
            stored = ns["event_stub"].GetEvent(webhook_pb2.GetEventRequest(event_id=event_id, namespace=namespace),
                                               timeout=support.RPC_TIMEOUT).event
            self.assertEqual(stored.ordering_key, "cus_42")
        listing = webhook_pb2.ListDeliveriesRequest(webhook_id=webhook_id, namespace=namespace)
        deliveries = ns["delivery_stub"].ListDeliveries(listing, timeout=support.RPC_TIMEOUT).deliveries
        self.assertEqual({d.event_id: d.ordering_key for d in deliveries}, {e: "cus_42" for e in event_ids})
        ns["channel"].close()

    def test_payload_filter(self):
        """The payload filter example, in a namespace and with an event type
        of their own: of two events, only the one passing the filter is
        delivered."""
        namespace, event = support.unique("readme-filter"), support.unique("readme.order")
        ns = {"__name__": "readme"}
        run = lambda name, replace=None: support.run_example(self.examples[name], ns, replace)
        own = {'namespace="default"': f'namespace="{namespace}"', '"order.created"': repr(event)}
        run("imports")
        run("interceptor", {ADDRESS: self.server.grpc_address, KEY: support.API_KEY})
        ns["event_stub"].RegisterEvent(webhook_pb2.RegisterEventRequest(name=event, active=True), timeout=support.RPC_TIMEOUT)
        register = lambda path, events: ns["webhook_stub"].RegisterWebhook(webhook_pb2.RegisterWebhookRequest(
            namespace=namespace, url=self.receiver.url(path), events=events, active=True), timeout=support.RPC_TIMEOUT)
        ns["webhook_id"] = register(f"/{namespace}/filtered", []).webhook_id
        # A webhook taking every event: once it has them all, both were fanned out.
        register(f"/{namespace}/all", [event])

        out = run("payload-filter", own)
        self.assertEqual(out, "matched=True\n")

        pushed = {}
        for total in (50, 150):
            body = webhook_pb2.PushEventRequest(namespace=namespace, event=event,
                                                payload_json=f'{{"total": {total}, "currency": "EUR"}}')
            pushed[total] = ns["event_stub"].PushEvent(body, timeout=support.RPC_TIMEOUT).event_id
        self.receiver.wait(f"/{namespace}/all", 2)
        listing = webhook_pb2.ListDeliveriesRequest(webhook_id=ns["webhook_id"], namespace=namespace)
        deliveries = ns["delivery_stub"].ListDeliveries(listing, timeout=support.RPC_TIMEOUT).deliveries
        self.assertEqual([d.event_id for d in deliveries], [pushed[150]])
        [request] = self.receiver.wait(f"/{namespace}/filtered")
        self.assertEqual(request.json(), {"total": 150, "currency": "EUR"})
        ns["channel"].close()

    def test_test_send_and_ed25519(self):
        """The test send and ed25519 examples, in a namespace and with an
        event type of their own."""
        namespace, event = support.unique("readme-testsend"), support.unique("readme.order")
        ns = {"__name__": "readme"}
        run = lambda name, replace=None: support.run_example(self.examples[name], ns, replace)
        own = {'namespace="default"': f'namespace="{namespace}"', '"order.created"': repr(event)}
        run("imports")
        run("interceptor", {ADDRESS: self.server.grpc_address, KEY: support.API_KEY})
        ns["event_stub"].RegisterEvent(webhook_pb2.RegisterEventRequest(name=event, active=True), timeout=support.RPC_TIMEOUT)
        path = f"/{namespace}"
        ns["webhook_id"] = ns["webhook_stub"].RegisterWebhook(webhook_pb2.RegisterWebhookRequest(
            namespace=namespace, url=self.receiver.url(path), active=True), timeout=support.RPC_TIMEOUT).webhook_id

        out = run("test-send", own)
        self.assertRegex(out, r"^Test delivery dlv_\S+: \{\}\n$")
        [request] = self.receiver.wait(path)
        self.assertEqual(request.headers["webhook-id"], ns["sent"].delivery_id)

        out = run("ed25519", {**own, URL: self.receiver.url(path + "/ed25519")})
        self.assertEqual(out, "ed25519: give receivers whpk_...\n")
        self.assertTrue(ns["response"].webhook_secret.startswith("whsk_"))
        ns["channel"].close()

    def test_tls(self):
        server, ca = support.tls_server(), support.ca()
        ns = {"__name__": "readme"}
        run = lambda name, replace=None: support.run_example(self.examples[name], ns, replace)
        run("imports")
        run("tls", {CA_FILE: repr(ca.ca_cert), TLS_ADDRESS: f"localhost:{server.grpc_port}"})
        health_stub = webhook_pb2_grpc.HealthServiceStub(ns["channel"])
        summary = health_stub.GetHealthSummary(
            webhook_pb2.GetHealthSummaryRequest(namespace="default"),
            metadata=[("x-api-key", support.API_KEY)],
            timeout=support.RPC_TIMEOUT,
        )
        self.assertEqual(summary.namespace, "default")
        ns["channel"].close()

    def test_client(self):
        server, tls_server, ca = support.server(), support.tls_server(), support.ca()
        ns = {"__name__": "readme"}
        run = lambda name, replace=None: support.run_example(self.examples[name], ns, replace)
        run("imports")
        out = run("client", {ADDRESS: server.grpc_address, KEY: support.API_KEY})
        self.assertRegex(out, r"^\d+ attempts, success_rate=\d+\.\d%\n$")

        run("client-tls", {CA_FILE: repr(ca.ca_cert), TLS_ADDRESS: f"localhost:{tls_server.grpc_port}",
                           KEY: support.API_KEY})
        with ns["client"] as client:
            summary = client.health.GetHealthSummary(
                webhook_pb2.GetHealthSummaryRequest(namespace="default"), timeout=support.RPC_TIMEOUT
            )
        self.assertEqual(summary.namespace, "default")


if __name__ == "__main__":
    unittest.main()
