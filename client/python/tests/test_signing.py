"""Ed25519 signing against a real server: a webhook registered or rotated
with signature_scheme "ed25519" gets a "whsk_" signing key and answers its
"whpk_" public key, which every read shows and which verifies its
deliveries' "v1a" signatures (checked here with the openssl command); an
unknown scheme, a scheme against the secret's kind and a bad key are
refused."""

import base64
import os
import shutil
import subprocess
import tempfile
import unittest

import grpc

from proto import webhook_pb2
from tests import support
from tests.test_api import stubs, with_key

HMAC, ED25519 = "hmac-sha256", "ed25519"

# An ed25519 public key's SubjectPublicKeyInfo (RFC 8410) is this DER
# prefix and the key's 32 bytes.
_ED25519_SPKI_PREFIX = bytes.fromhex("302a300506032b6570032100")


def ed25519_valid(public_key: str, request: support.Received) -> bool:
    """Whether one of the request's v1a signatures verifies with the "whpk_"
    public key (Standard Webhooks: over "id.timestamp.body")."""
    openssl = shutil.which("openssl")
    if not openssl:
        raise RuntimeError("the openssl command is needed to verify ed25519 signatures (Debian: apt-get install openssl)")
    assert public_key.startswith("whpk_"), public_key
    raw = base64.b64decode(public_key[len("whpk_"):], validate=True)
    signed = f"{request.headers['webhook-id']}.{request.headers['webhook-timestamp']}.".encode() + request.body
    with tempfile.TemporaryDirectory() as d:
        key, msg, sig = (os.path.join(d, n) for n in ("key.der", "msg", "sig"))
        with open(key, "wb") as f:
            f.write(_ED25519_SPKI_PREFIX + raw)
        with open(msg, "wb") as f:
            f.write(signed)
        for value in request.headers["webhook-signature"].split():
            version, _, encoded = value.partition(",")
            if version != "v1a":
                continue
            with open(sig, "wb") as f:
                f.write(base64.b64decode(encoded))
            verified = subprocess.run(
                [openssl, "pkeyutl", "-verify", "-pubin", "-keyform", "DER", "-inkey", key, "-rawin", "-in", msg, "-sigfile", sig],
                capture_output=True, timeout=30,
            )
            if verified.returncode == 0:
                return True
    return False


class SigningTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = support.server()
        cls.receiver = support.receiver()
        cls.channel = grpc.insecure_channel(cls.server.grpc_address)
        cls.addClassCleanup(cls.channel.close)
        cls.webhooks, cls.events, cls.subscriptions, cls.deliveries, cls.health = stubs(cls.channel)

    def event_type(self):
        name = support.unique("py.signing")
        with_key(self.events.RegisterEvent, webhook_pb2.RegisterEventRequest(name=name, active=True))
        return name

    def read(self, namespace, webhook_id):
        """The webhook as GetWebhook and ListWebhooks show it."""
        got = with_key(self.webhooks.GetWebhook, webhook_pb2.GetWebhookRequest(namespace=namespace, webhook_id=webhook_id)).webhook
        listed = with_key(self.webhooks.ListWebhooks, webhook_pb2.ListWebhooksRequest(namespace=namespace)).webhooks
        [same] = [w for w in listed if w.id == webhook_id]
        return got, same

    def assertScheme(self, namespace, webhook_id, scheme, public_key):
        for name, w in zip(("get", "list"), self.read(namespace, webhook_id)):
            with self.subTest(name):
                self.assertEqual((w.signature_scheme, w.public_key), (scheme, public_key))

    def test_ed25519_webhook(self):
        namespace, event = support.unique("py-signing"), self.event_type()
        path = f"/{namespace}"
        registered = with_key(self.webhooks.RegisterWebhook, webhook_pb2.RegisterWebhookRequest(
            namespace=namespace, url=self.receiver.url(path), events=[event], active=True, signature_scheme=ED25519))
        self.assertTrue(registered.webhook_secret.startswith("whsk_"), registered.webhook_secret[:8])
        self.assertTrue(registered.public_key.startswith("whpk_"), registered.public_key)
        self.assertEqual(registered.webhook.public_key, registered.public_key)
        self.assertEqual(registered.webhook.signature_scheme, ED25519)
        self.assertScheme(namespace, registered.webhook_id, ED25519, registered.public_key)

        # Deliveries carry one v1a signature, which the public key verifies.
        with_key(self.events.PushEvent, webhook_pb2.PushEventRequest(namespace=namespace, event=event, payload_json='{"n": 1}'))
        [request] = self.receiver.wait(path)
        self.assertEqual(request.headers["webhook-signature"].split(",")[0], "v1a")
        self.assertTrue(ed25519_valid(registered.public_key, request))
        other = with_key(self.webhooks.RegisterWebhook, webhook_pb2.RegisterWebhookRequest(
            namespace=namespace, url=self.receiver.url(path + "/other"), signature_scheme=ED25519))
        self.assertFalse(ed25519_valid(other.public_key, request))

        # Rotations: to HMAC; with no scheme, the kind the webhook has; to ed25519.
        rotate = lambda **fields: with_key(self.webhooks.RotateWebhookSecret, webhook_pb2.RotateWebhookSecretRequest(
            namespace=namespace, webhook_id=registered.webhook_id, grace_period_seconds=0, **fields))
        to_hmac = rotate(signature_scheme=HMAC)
        self.assertTrue(to_hmac.webhook_secret.startswith("whsec_"))
        self.assertEqual((to_hmac.public_key, to_hmac.webhook.public_key, to_hmac.webhook.signature_scheme), ("", "", HMAC))
        self.assertScheme(namespace, registered.webhook_id, HMAC, "")
        self.assertTrue(rotate().webhook_secret.startswith("whsec_"))
        to_ed = rotate(signature_scheme=ED25519)
        self.assertTrue(to_ed.webhook_secret.startswith("whsk_"))
        self.assertTrue(to_ed.public_key.startswith("whpk_"))
        self.assertNotEqual(to_ed.public_key, registered.public_key)
        self.assertScheme(namespace, registered.webhook_id, ED25519, to_ed.public_key)
        kept = rotate()
        self.assertTrue(kept.webhook_secret.startswith("whsk_"))
        self.assertScheme(namespace, registered.webhook_id, ED25519, kept.public_key)

        # A test send verifies with the key a read shows.
        sent = with_key(self.webhooks.SendTestEvent, webhook_pb2.SendTestEventRequest(
            namespace=namespace, webhook_id=registered.webhook_id, event_name=event))
        request = [r for r in self.receiver.wait(path, 2) if r.headers["webhook-id"] == sent.delivery_id][0]
        got, _ = self.read(namespace, registered.webhook_id)
        self.assertTrue(ed25519_valid(got.public_key, request))

    def test_hmac_by_default(self):
        namespace = support.unique("py-signing-hmac")
        registered = with_key(self.webhooks.RegisterWebhook, webhook_pb2.RegisterWebhookRequest(
            namespace=namespace, url=self.receiver.url(f"/{namespace}")))
        self.assertTrue(registered.webhook_secret.startswith("whsec_"))
        self.assertEqual((registered.public_key, registered.webhook.signature_scheme), ("", HMAC))
        self.assertScheme(namespace, registered.webhook_id, HMAC, "")

    def test_refused(self):
        namespace = support.unique("py-signing-refused")
        registered = with_key(self.webhooks.RegisterWebhook, webhook_pb2.RegisterWebhookRequest(
            namespace=namespace, url=self.receiver.url(f"/{namespace}"), signature_scheme=ED25519))
        cases = [
            ("unknown scheme", dict(signature_scheme="rsa"), "signature_scheme"),
            ("hmac with a signing key", dict(signature_scheme=HMAC, webhook_secret=registered.webhook_secret), "signature_scheme"),
            ("ed25519 with an HMAC secret", dict(signature_scheme=ED25519, webhook_secret="whsec_" + "A" * 32), "signature_scheme"),
            ("a short key", dict(webhook_secret="whsk_AAAA"), "webhook_secret"),
            ("a key not base64", dict(webhook_secret="whsk_not base64!"), "webhook_secret"),
        ]
        for name, fields, field in cases:
            for kind, call in (
                ("register", lambda f: with_key(self.webhooks.RegisterWebhook, webhook_pb2.RegisterWebhookRequest(
                    namespace=namespace, url=self.receiver.url(f"/{namespace}"), **f))),
                ("rotate", lambda f: with_key(self.webhooks.RotateWebhookSecret, webhook_pb2.RotateWebhookSecretRequest(
                    namespace=namespace, webhook_id=registered.webhook_id, **f))),
            ):
                with self.subTest(f"{kind}: {name}"):
                    with self.assertRaises(grpc.RpcError) as err:
                        call(fields)
                    self.assertEqual(err.exception.code(), grpc.StatusCode.INVALID_ARGUMENT, err.exception.details())
                    self.assertIn(field, err.exception.details())
        # Nothing refused was stored: one webhook, its key unchanged.
        self.assertScheme(namespace, registered.webhook_id, ED25519, registered.public_key)
        listed = with_key(self.webhooks.ListWebhooks, webhook_pb2.ListWebhooksRequest(namespace=namespace)).webhooks
        self.assertEqual([w.id for w in listed], [registered.webhook_id])


if __name__ == "__main__":
    unittest.main()
