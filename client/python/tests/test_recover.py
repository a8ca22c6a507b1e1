"""Recoveries against a real server: a receiver fails a delivery, comes back,
and a recovery re-sends what it missed, once, as a new delivery; the
recovery reads back with its progress, lists, is started once for a range,
and is refused with bad input."""

import time
import unittest

import grpc
from google.protobuf.struct_pb2 import Struct
from google.protobuf.timestamp_pb2 import Timestamp

from proto import webhook_pb2
from tests import support
from tests.test_api import stubs, with_key


def timestamp(seconds_from_now=0.0):
    ts = Timestamp()
    ts.FromNanoseconds(int((time.time() + seconds_from_now) * 1e9))
    return ts


class RecoverTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = support.server()
        cls.receiver = support.receiver()
        cls.channel = grpc.insecure_channel(cls.server.grpc_address)
        cls.addClassCleanup(cls.channel.close)
        cls.webhooks, cls.events, cls.subscriptions, cls.deliveries, cls.health = stubs(cls.channel)

    def setUp(self):
        self.namespace, self.event = support.unique("py-recover"), support.unique("py.recover")
        self.path = f"/{self.namespace}"
        with_key(self.events.RegisterEvent, webhook_pb2.RegisterEventRequest(name=self.event, active=True))
        self.webhook = with_key(self.webhooks.RegisterWebhook, webhook_pb2.RegisterWebhookRequest(
            namespace=self.namespace, events=[self.event], url=self.receiver.url(self.path), active=True)).webhook

    def push(self):
        payload = Struct()
        payload.update({"order_id": "ord_1"})
        return with_key(self.events.PushEvent, webhook_pb2.PushEventRequest(
            namespace=self.namespace, event=self.event, payload=payload)).event_id

    def recover(self, **fields):
        return with_key(self.webhooks.RecoverWebhook, webhook_pb2.RecoverWebhookRequest(
            namespace=self.namespace, webhook_id=self.webhook.id, **fields)).recovery

    def get(self, recovery_id):
        return with_key(self.webhooks.GetRecovery, webhook_pb2.GetRecoveryRequest(
            namespace=self.namespace, recovery_id=recovery_id)).recovery

    def wait_ended(self, recovery_id):
        return support.wait_for(lambda: (r := self.get(recovery_id)).status != "running" and r, "the recovery to end")

    def assertCode(self, call, code, text=""):
        with self.assertRaises(grpc.RpcError) as err:
            call()
        self.assertEqual(err.exception.code(), code, err.exception.details())
        self.assertIn(text, err.exception.details())

    def test_recover_what_failed(self):
        since = timestamp(-1)
        self.receiver.answer(self.path, 404)  # not retried: fails at once
        event_id = self.push()
        support.wait_for(lambda: with_key(self.deliveries.ListDeliveries, webhook_pb2.ListDeliveriesRequest(
            namespace=self.namespace, event_id=event_id, status="failed")).deliveries, "the delivery to fail")
        self.receiver.answer(self.path, 200)

        recovery = self.recover(since=since)
        self.assertRegex(recovery.id, r"^rcv_")
        self.assertEqual((recovery.namespace, recovery.webhook_id), (self.namespace, self.webhook.id))
        self.assertFalse(recovery.HasField("until"))
        ended = self.wait_ended(recovery.id)
        self.assertEqual((ended.status, ended.total, ended.done, ended.resent), ("succeeded", 1, 1, 1))

        first, again = self.receiver.wait(self.path, 2)
        self.assertEqual(again.headers["sparrow-event-id"], event_id)
        self.assertNotEqual(again.headers["webhook-id"], first.headers["webhook-id"])  # a new delivery

        listed = with_key(self.webhooks.ListRecoveries, webhook_pb2.ListRecoveriesRequest(
            namespace=self.namespace, webhook_id=self.webhook.id)).recoveries
        self.assertEqual([r.id for r in listed], [recovery.id])
        self.assertCode(lambda: with_key(self.webhooks.CancelRecovery, webhook_pb2.CancelRecoveryRequest(
            namespace=self.namespace, recovery_id=recovery.id)), grpc.StatusCode.FAILED_PRECONDITION)

        # All received now: another recovery re-sends nothing.
        second = self.wait_ended(self.recover(since=since).id)
        self.assertEqual((second.status, second.done, second.resent), ("succeeded", 1, 0))

    def test_started_once_per_range(self):
        since = timestamp(-60)
        first = self.recover(since=since)
        again = self.recover(since=since)
        # Started again while it runs: the same recovery; a new one only
        # once the first has ended (it has no event to send, so may have).
        if again.id != first.id:
            self.assertNotEqual(self.get(first.id).status, "running", "two recoveries of one range running")
        bounded = self.recover(since=since, until=timestamp(-1))
        self.assertNotEqual(bounded.id, first.id)
        for r in (first, bounded):
            self.assertEqual(self.wait_ended(r.id).status, "succeeded")

    def test_bad_input(self):
        for name, fields, text in (
            ("no since", {}, "since"),
            ("since in the future", {"since": timestamp(3600)}, "since"),
            ("until before since", {"since": timestamp(-60), "until": timestamp(-120)}, "until"),
            ("until in the future", {"since": timestamp(-60), "until": timestamp(3600)}, "until"),
        ):
            with self.subTest(name):
                self.assertCode(lambda: self.recover(**fields), grpc.StatusCode.INVALID_ARGUMENT, text)
        self.assertCode(lambda: with_key(self.webhooks.RecoverWebhook, webhook_pb2.RecoverWebhookRequest(
            namespace="elsewhere", webhook_id=self.webhook.id, since=timestamp(-60))), grpc.StatusCode.NOT_FOUND)
        self.assertCode(lambda: self.get("rcv_nope"), grpc.StatusCode.INVALID_ARGUMENT, "recovery_id")
        listed = with_key(self.webhooks.ListRecoveries, webhook_pb2.ListRecoveriesRequest(namespace=self.namespace)).recoveries
        self.assertEqual(list(listed), [], "a refused request started a recovery")


if __name__ == "__main__":
    unittest.main()
