"""Delivery policies against a real server: a webhook's retry schedule and
rate limit (registered, read back, updated, bad values refused), and
ordered delivery per ordering key (pushed alone and in a batch, waiting for
its turn behind a paused webhook)."""

import re
import unittest

import grpc
from google.protobuf.struct_pb2 import Struct

from proto import webhook_pb2
from tests import support
from tests.test_api import stubs, with_key

#: The attempt limit of a webhook without a retry schedule or max_attempts.
DEFAULT_MAX_ATTEMPTS = 8

_DURATION = re.compile(r"(\d+)(h|m|s)")
_UNIT = {"h": 3600, "m": 60, "s": 1}


def seconds(schedule):
    """A schedule's durations ("5s", "5m", "2h", "1h30m0s") in seconds, so
    that schedules compare whatever way the server writes them."""
    out = []
    for written in schedule:
        parts = _DURATION.findall(written)
        if not parts or "".join(n + u for n, u in parts) != written:
            raise AssertionError(f"{written!r} is not a duration in whole seconds")
        out.append(sum(int(n) * _UNIT[u] for n, u in parts))
    return out


def payload(**fields):
    s = Struct()
    s.update(fields)
    return s


class PolicyTestCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = support.server()
        cls.receiver = support.receiver()
        cls.channel = grpc.insecure_channel(cls.server.grpc_address)
        cls.addClassCleanup(cls.channel.close)
        cls.webhooks, cls.events, cls.subscriptions, cls.deliveries, cls.health = stubs(cls.channel)

    def event_type(self, prefix):
        name = support.unique(prefix)
        with_key(self.events.RegisterEvent, webhook_pb2.RegisterEventRequest(name=name, active=True))
        return name

    def register(self, namespace, event, path=None, **fields):
        return with_key(self.webhooks.RegisterWebhook, webhook_pb2.RegisterWebhookRequest(
            namespace=namespace, events=[event], url=self.receiver.url(path or f"/{namespace}"), active=True, **fields))

    def get(self, webhook):
        return with_key(self.webhooks.GetWebhook, webhook_pb2.GetWebhookRequest(
            webhook_id=webhook.id, namespace=webhook.namespace)).webhook

    def update(self, webhook, **fields):
        return with_key(self.webhooks.UpdateWebhook, webhook_pb2.UpdateWebhookRequest(
            webhook_id=webhook.id, namespace=webhook.namespace, **fields)).webhook

    def assertPolicies(self, webhook, schedule, rate_limit, max_attempts):
        """webhook, as returned and as read again, has these policies."""
        for name, w in (("returned", webhook), ("read", self.get(webhook))):
            with self.subTest(name):
                self.assertEqual(seconds(w.retry_schedule), schedule)
                self.assertEqual(w.rate_limit_per_second, rate_limit)
                self.assertEqual(w.max_attempts, max_attempts)

    def assertInvalid(self, call, field):
        with self.assertRaises(grpc.RpcError) as err:
            call()
        self.assertEqual(err.exception.code(), grpc.StatusCode.INVALID_ARGUMENT, err.exception.details())
        self.assertIn(field, err.exception.details())


class RetryScheduleAndRateLimitTest(PolicyTestCase):
    def test_register_and_read_back(self):
        namespace, event = support.unique("py-policy"), self.event_type("py.policy")
        registered = self.register(namespace, event, retry_schedule=["5s", "5m", "30m", "2h"], rate_limit_per_second=25)
        # The attempt limit defaults to one more than the schedule's length.
        self.assertPolicies(registered.webhook, [5, 300, 1800, 7200], 25, 5)
        self.assertEqual(list(registered.webhook.retry_schedule), ["5s", "5m", "30m", "2h"])
        [listed] = with_key(self.webhooks.ListWebhooks, webhook_pb2.ListWebhooksRequest(namespace=namespace)).webhooks
        self.assertEqual(listed.id, registered.webhook_id)
        self.assertEqual(seconds(listed.retry_schedule), [5, 300, 1800, 7200])
        self.assertEqual((listed.rate_limit_per_second, listed.max_attempts), (25, 5))

        # An explicit max_attempts wins over the schedule's.
        explicit = self.register(namespace, event, retry_schedule=["1m"], max_attempts=4).webhook
        self.assertPolicies(explicit, [60], 0, 4)

        # Durations read back in their shortest form.
        written = self.register(namespace, event, retry_schedule=["90s", "120m", "1h0m30s", "3600s"]).webhook
        self.assertEqual(list(written.retry_schedule), ["1m30s", "2h", "1h0m30s", "1h"])

        # Neither: the default backoff, no limit.
        plain = self.register(namespace, event).webhook
        self.assertPolicies(plain, [], 0, DEFAULT_MAX_ATTEMPTS)

        # The bounds themselves are accepted: 20 waits, 1s and 24h, 10000/s.
        bounds = self.register(namespace, event, retry_schedule=["1s"] * 19 + ["24h"], rate_limit_per_second=10000).webhook
        self.assertPolicies(bounds, [1] * 19 + [86400], 10000, 21)

    def test_update(self):
        namespace, event = support.unique("py-policy-update"), self.event_type("py.policy")
        webhook = self.register(namespace, event).webhook
        self.assertPolicies(webhook, [], 0, DEFAULT_MAX_ATTEMPTS)

        # Set both: the attempt limit follows the schedule.
        webhook = self.update(webhook, retry_schedule=["10s", "1m", "1h"], rate_limit_per_second=50)
        self.assertPolicies(webhook, [10, 60, 3600], 50, 4)

        # Fields left out are kept.
        webhook = self.update(webhook, description="policies kept")
        self.assertEqual(webhook.description, "policies kept")
        self.assertPolicies(webhook, [10, 60, 3600], 50, 4)

        # A rate limit of 0 removes it; the schedule stays.
        webhook = self.update(webhook, rate_limit_per_second=0)
        self.assertPolicies(webhook, [10, 60, 3600], 0, 4)

        # A new schedule replaces the old one, with an explicit limit.
        webhook = self.update(webhook, retry_schedule=["30s"], max_attempts=10, rate_limit_per_second=5)
        self.assertPolicies(webhook, [30], 5, 10)

        # clear_retry_schedule goes back to the default backoff and limit.
        webhook = self.update(webhook, clear_retry_schedule=True)
        self.assertPolicies(webhook, [], 5, DEFAULT_MAX_ATTEMPTS)

    def test_invalid_refused(self):
        namespace, event = support.unique("py-policy-invalid"), self.event_type("py.policy")
        webhook = self.register(namespace, event, retry_schedule=["5s", "1m"], rate_limit_per_second=7).webhook

        def register(**fields):
            return lambda: self.register(namespace, event, **fields)

        def update(**fields):
            return lambda: self.update(webhook, **fields)

        cases = [
            ("under 1s", ["5s", "500ms"], "retry_schedule[1]"),
            ("over 24h", ["25h"], "retry_schedule[0]"),
            ("not a duration", ["soon"], "retry_schedule[0]"),
            ("zero", ["0s"], "retry_schedule[0]"),
            ("21 waits", ["1m"] * 21, "retry_schedule"),
        ]
        for name, schedule, field in cases:
            for kind, call in (("register", register), ("update", update)):
                with self.subTest(f"{kind} retry_schedule {name}"):
                    self.assertInvalid(call(retry_schedule=schedule), field)
        for rate in (10001, -1):
            for kind, call in (("register", register), ("update", update)):
                with self.subTest(f"{kind} rate_limit_per_second={rate}"):
                    self.assertInvalid(call(rate_limit_per_second=rate), "rate_limit_per_second")
        with self.subTest("update retry_schedule with clear_retry_schedule"):
            self.assertInvalid(update(retry_schedule=["5s"], clear_retry_schedule=True), "retry_schedule")

        # Nothing refused was stored.
        self.assertPolicies(self.get(webhook), [5, 60], 7, 3)
        self.assertEqual(len(with_key(self.webhooks.ListWebhooks, webhook_pb2.ListWebhooksRequest(namespace=namespace)).webhooks), 1)

    def test_retry_schedule_paces_retries(self):
        # A receiver failing every attempt: retries wait at least 1s then
        # 2s, and the delivery fails for good after len(schedule) + 1
        # attempts. (The default backoff would wait 5s then 5m, and try 8
        # times. A retry may come a few seconds after its wait: the job
        # queue looks for jobs that became due every few seconds.)
        namespace, event = support.unique("py-policy-retry"), self.event_type("py.policy")
        path = f"/{namespace}"
        self.receiver.answer(path, 503)
        registered = self.register(namespace, event, retry_schedule=["1s", "2s"])
        with_key(self.events.PushEvent, webhook_pb2.PushEventRequest(namespace=namespace, event=event, payload=payload(n=1)))
        listing = webhook_pb2.ListDeliveriesRequest(webhook_id=registered.webhook_id, namespace=namespace, status="failed")
        [delivery] = support.wait_for(lambda: list(with_key(self.deliveries.ListDeliveries, listing).deliveries),
                                      "the delivery to fail for good", timeout=2 * support.TIMEOUT)
        self.assertEqual((delivery.attempt_count, delivery.max_attempts, delivery.last_status_code), (3, 3, 503))
        requests = self.receiver.on(path)
        self.assertEqual([r.headers["sparrow-attempt"] for r in requests], ["1", "2", "3"])
        waits = [b.at - a.at for a, b in zip(requests, requests[1:])]
        self.assertGreaterEqual(waits[0], 0.9, waits)
        self.assertGreaterEqual(waits[1], 1.9, waits)

    def test_rate_limit_spaces_requests(self):
        # 4 a second: 6 deliveries pushed at once take at least 5 turns of
        # 250ms, and waiting for a turn spends no attempt.
        namespace, event = support.unique("py-policy-rate"), self.event_type("py.policy")
        registered = self.register(namespace, event, rate_limit_per_second=4)
        batch = [webhook_pb2.PushEventRequest(namespace=namespace, event=event, payload=payload(n=n)) for n in range(6)]
        with_key(self.events.PushEvents, webhook_pb2.PushEventsRequest(events=batch))
        requests = self.receiver.wait(f"/{namespace}", 6)
        span = requests[-1].at - requests[0].at
        self.assertGreaterEqual(span, 1.15, [round(r.at - requests[0].at, 3) for r in requests])
        self.assertEqual([r.headers["sparrow-attempt"] for r in requests], ["1"] * 6)
        listing = webhook_pb2.ListDeliveriesRequest(webhook_id=registered.webhook_id, namespace=namespace, status="succeeded")
        deliveries = support.wait_for(
            lambda: (lambda ds: ds if len(ds) == 6 else None)(list(with_key(self.deliveries.ListDeliveries, listing).deliveries)),
            "the 6 deliveries to succeed")
        self.assertEqual([d.attempt_count for d in deliveries], [1] * 6)


class OrderingKeyTest(PolicyTestCase):
    def listed(self, webhook_id, namespace, count):
        """The webhook's deliveries, once there are count."""
        request = webhook_pb2.ListDeliveriesRequest(webhook_id=webhook_id, namespace=namespace, limit=100)
        found = support.wait_for(
            lambda: (lambda ds: ds if len(ds) >= count else None)(list(with_key(self.deliveries.ListDeliveries, request).deliveries)),
            f"{count} deliveries to be listed")
        self.assertEqual(len(found), count)
        return found

    def succeeded(self, webhook_id, namespace, count):
        request = webhook_pb2.ListDeliveriesRequest(webhook_id=webhook_id, namespace=namespace, limit=100, status="succeeded")
        return support.wait_for(
            lambda: (lambda ds: ds if len(ds) >= count else None)(list(with_key(self.deliveries.ListDeliveries, request).deliveries)),
            f"{count} deliveries to succeed")

    def test_push_with_ordering_key(self):
        namespace, event = support.unique("py-ordered"), self.event_type("py.ordered")
        registered = self.register(namespace, event)
        key = "customer-" + support.unique("c")
        pushed = [
            with_key(self.events.PushEvent, webhook_pb2.PushEventRequest(
                namespace=namespace, event=event, payload=payload(n=n), ordering_key=key)).event_id
            for n in range(1, 6)
        ]
        unkeyed = with_key(self.events.PushEvent, webhook_pb2.PushEventRequest(
            namespace=namespace, event=event, payload=payload(n=0))).event_id

        # The events keep their key.
        for event_id in pushed:
            stored = with_key(self.events.GetEvent, webhook_pb2.GetEventRequest(event_id=event_id, namespace=namespace)).event
            self.assertEqual(stored.ordering_key, key)
        stored = with_key(self.events.GetEvent, webhook_pb2.GetEventRequest(event_id=unkeyed, namespace=namespace)).event
        self.assertEqual(stored.ordering_key, "")

        # The keyed ones reach the receiver in push order.
        requests = self.receiver.wait(f"/{namespace}", 6)
        keyed = [r.headers["sparrow-event-id"] for r in requests if r.json()["n"] != 0]
        self.assertEqual(keyed, pushed)

        # Their deliveries carry the key, and wait for nothing once done.
        deliveries = self.succeeded(registered.webhook_id, namespace, 6)
        by_event = {d.event_id: d for d in deliveries}
        self.assertEqual(set(by_event), set(pushed) | {unkeyed})
        for event_id in pushed:
            self.assertEqual(by_event[event_id].ordering_key, key)
            self.assertEqual(by_event[event_id].waits_for, "")
        self.assertEqual(by_event[unkeyed].ordering_key, "")
        detail = with_key(self.deliveries.GetDelivery, webhook_pb2.GetDeliveryRequest(
            delivery_id=by_event[pushed[0]].id, namespace=namespace)).delivery
        self.assertEqual(detail.ordering_key, key)

    def test_push_events_with_ordering_keys(self):
        namespace, event = support.unique("py-ordered-batch"), self.event_type("py.ordered")
        registered = self.register(namespace, event)
        keys = ("a-" + support.unique("k"), "b-" + support.unique("k"))
        batch = [webhook_pb2.PushEventRequest(namespace=namespace, event=event, payload=payload(n=n, key=keys[n % 2]),
                                              ordering_key=keys[n % 2]) for n in range(6)]
        event_ids = list(with_key(self.events.PushEvents, webhook_pb2.PushEventsRequest(events=batch)).event_ids)
        self.assertEqual(len(event_ids), 6)
        for n, event_id in enumerate(event_ids):
            stored = with_key(self.events.GetEvent, webhook_pb2.GetEventRequest(event_id=event_id, namespace=namespace)).event
            self.assertEqual(stored.ordering_key, keys[n % 2])

        # Each key's events arrive in batch order.
        requests = self.receiver.wait(f"/{namespace}", 6)
        for key in keys:
            with self.subTest(key=key):
                got = [r.headers["sparrow-event-id"] for r in requests if r.json()["key"] == key]
                self.assertEqual(got, [e for n, e in enumerate(event_ids) if keys[n % 2] == key])
        deliveries = self.succeeded(registered.webhook_id, namespace, 6)
        self.assertEqual({d.event_id: d.ordering_key for d in deliveries},
                         {e: keys[n % 2] for n, e in enumerate(event_ids)})

    def test_waits_for_the_delivery_before(self):
        # While the webhook is paused nothing is attempted: each keyed
        # delivery names the one before it as waits_for.
        namespace, event = support.unique("py-ordered-wait"), self.event_type("py.ordered")
        registered = self.register(namespace, event)
        webhook = registered.webhook
        with_key(self.webhooks.PauseWebhook, webhook_pb2.PauseWebhookRequest(webhook_id=webhook.id, namespace=namespace))
        key = support.unique("k")
        pushed = [
            with_key(self.events.PushEvent, webhook_pb2.PushEventRequest(
                namespace=namespace, event=event, payload=payload(n=n), ordering_key=key)).event_id
            for n in range(3)
        ]
        listed = self.listed(webhook.id, namespace, 3)
        self.assertEqual({d.event_id for d in listed}, set(pushed))
        deliveries = sorted(listed, key=lambda d: pushed.index(d.event_id))  # in push order
        self.assertEqual([d.ordering_key for d in deliveries], [key] * 3)
        self.assertEqual([d.waits_for for d in deliveries], ["", deliveries[0].id, deliveries[1].id])
        self.assertEqual([d.status for d in deliveries], ["pending"] * 3)
        # The first waits for its paused webhook (once its job has seen it).
        first = webhook_pb2.GetDeliveryRequest(delivery_id=deliveries[0].id, namespace=namespace)
        support.wait_for(lambda: with_key(self.deliveries.GetDelivery, first).delivery.waiting,
                         "the first delivery to wait for its paused webhook")
        self.assertEqual(self.receiver.on(f"/{namespace}"), [])

        # Resumed, they go in push order, and none waits any more.
        with_key(self.webhooks.ResumeWebhook, webhook_pb2.ResumeWebhookRequest(webhook_id=webhook.id, namespace=namespace))
        requests = self.receiver.wait(f"/{namespace}", 3)
        self.assertEqual([r.headers["webhook-id"] for r in requests], [d.id for d in deliveries])
        done = self.succeeded(webhook.id, namespace, 3)
        self.assertEqual([d.waits_for for d in done], ["", "", ""])

    def test_ordering_key_too_long_refused(self):
        namespace, event = support.unique("py-ordered-long"), self.event_type("py.ordered")
        self.register(namespace, event)
        self.assertInvalid(lambda: with_key(self.events.PushEvent, webhook_pb2.PushEventRequest(
            namespace=namespace, event=event, payload=payload(n=1), ordering_key="k" * 257)), "ordering_key")
        # 256 bytes is the most.
        event_id = with_key(self.events.PushEvent, webhook_pb2.PushEventRequest(
            namespace=namespace, event=event, payload=payload(n=1), ordering_key="k" * 256)).event_id
        stored = with_key(self.events.GetEvent, webhook_pb2.GetEventRequest(event_id=event_id, namespace=namespace)).event
        self.assertEqual(stored.ordering_key, "k" * 256)


if __name__ == "__main__":
    unittest.main()
