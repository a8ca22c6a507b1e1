"""NamespaceService through sparrow_client.Client: the namespaces a key may
use, and portal tokens limited to one namespace."""

import unittest

import grpc

from proto import webhook_pb2
from sparrow_client import Client
from tests import support


class NamespacesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = support.server()

    def client(self, api_key):
        client = Client(self.server.grpc_address, api_key=api_key)
        self.addCleanup(client.close)
        return client

    def assertCode(self, code, call, request):
        with self.assertRaises(grpc.RpcError) as err:
            call(request, timeout=support.RPC_TIMEOUT)
        self.assertEqual(err.exception.code(), code, err.exception.details())

    def test_list_namespaces(self):
        namespace = support.unique("py-ns")
        admin = self.client(support.API_KEY)
        admin.webhooks.RegisterWebhook(webhook_pb2.RegisterWebhookRequest(
            namespace=namespace, url="https://example.com/hook"), timeout=support.RPC_TIMEOUT)
        listed = admin.namespaces.ListNamespaces(webhook_pb2.ListNamespacesRequest(), timeout=support.RPC_TIMEOUT)
        [summary] = [n for n in listed.namespaces if n.namespace == namespace]
        self.assertEqual((summary.webhooks, summary.paused_webhooks, summary.subscriptions), (1, 0, 0))
        self.assertTrue(listed.access.all_namespaces)
        self.assertEqual(list(listed.access.capabilities), ["read", "manage_webhooks", "push_events", "manage_event_types"])

        # A scoped key gets its namespace, in use or not, and nothing else.
        scoped = self.client(support.SCOPED_API_KEY).namespaces.ListNamespaces(
            webhook_pb2.ListNamespacesRequest(), timeout=support.RPC_TIMEOUT)
        self.assertEqual([n.namespace for n in scoped.namespaces], [support.SCOPED_NAMESPACE])
        self.assertFalse(scoped.access.all_namespaces)
        self.assertNotIn("manage_event_types", scoped.access.capabilities)

    def test_portal_token(self):
        namespace = support.unique("py-portal")
        admin = self.client(support.API_KEY)
        issued = admin.namespaces.CreatePortalToken(webhook_pb2.CreatePortalTokenRequest(
            namespace=namespace, ttl_seconds=300), timeout=support.RPC_TIMEOUT)
        self.assertTrue(issued.token.startswith("spt_"))

        portal = self.client(issued.token)
        listed = portal.namespaces.ListNamespaces(webhook_pb2.ListNamespacesRequest(), timeout=support.RPC_TIMEOUT)
        self.assertEqual([n.namespace for n in listed.namespaces], [namespace])
        self.assertTrue(listed.access.portal)
        self.assertEqual(list(listed.access.capabilities), ["read"])
        self.assertEqual(listed.access.expires_at, issued.expires_at)
        portal.webhooks.ListWebhooks(webhook_pb2.ListWebhooksRequest(namespace=namespace), timeout=support.RPC_TIMEOUT)

        self.assertCode(grpc.StatusCode.PERMISSION_DENIED, portal.webhooks.ListWebhooks,
                        webhook_pb2.ListWebhooksRequest(namespace="default"))
        self.assertCode(grpc.StatusCode.PERMISSION_DENIED, portal.webhooks.RegisterWebhook,
                        webhook_pb2.RegisterWebhookRequest(namespace=namespace, url="https://example.com/hook"))
        self.assertCode(grpc.StatusCode.PERMISSION_DENIED, portal.namespaces.CreatePortalToken,
                        webhook_pb2.CreatePortalTokenRequest(namespace=namespace))
        self.assertCode(grpc.StatusCode.PERMISSION_DENIED, self.client(support.SCOPED_API_KEY).namespaces.CreatePortalToken,
                        webhook_pb2.CreatePortalTokenRequest(namespace=support.SCOPED_NAMESPACE))
        self.assertCode(grpc.StatusCode.INVALID_ARGUMENT, admin.namespaces.CreatePortalToken,
                        webhook_pb2.CreatePortalTokenRequest(namespace=namespace, capabilities=["push_events"]))
        self.assertCode(grpc.StatusCode.UNAUTHENTICATED, self.client(issued.token + "x").webhooks.ListWebhooks,
                        webhook_pb2.ListWebhooksRequest(namespace=namespace))


if __name__ == "__main__":
    unittest.main()
