"""A thin convenience layer over Sparrow's generated gRPC stubs.

A Client is one channel to a Sparrow server (plaintext or TLS), the API key
sent with every call, and the six generated service stubs on that channel::

    from proto import webhook_pb2
    from sparrow_client import Client

    with Client("localhost:50051", api_key="your-api-key") as client:
        client.events.RegisterEvent(webhook_pb2.RegisterEventRequest(name="order.created"))

The stubs are proto.webhook_pb2_grpc's, unchanged: requests and responses are
proto.webhook_pb2 messages and errors are grpc.RpcError, as when the stubs
are used directly.
"""

from __future__ import annotations

import collections
from typing import Any, Optional, Sequence, Tuple

import grpc

from proto import webhook_pb2_grpc

__all__ = ["API_KEY_HEADER", "ApiKeyInterceptor", "Client", "DEFAULT_ADDRESS"]

#: Where examples/server serves gRPC by default (GRPC_PORT).
DEFAULT_ADDRESS = "localhost:50051"

#: The metadata key Sparrow reads the API key from.
API_KEY_HEADER = "x-api-key"


class _CallDetails(
    collections.namedtuple(
        "_CallDetails",
        ("method", "timeout", "metadata", "credentials", "wait_for_ready", "compression"),
    ),
    grpc.ClientCallDetails,
):
    """A grpc.ClientCallDetails: grpc only defines the interface, which
    cannot be instantiated itself."""


class ApiKeyInterceptor(
    grpc.UnaryUnaryClientInterceptor,
    grpc.UnaryStreamClientInterceptor,
    grpc.StreamUnaryClientInterceptor,
    grpc.StreamStreamClientInterceptor,
):
    """Sends an API key as x-api-key metadata with every call on a channel
    (grpc.intercept_channel(channel, ApiKeyInterceptor(key))). A call that
    already carries x-api-key metadata keeps its own."""

    def __init__(self, api_key: str):
        if not api_key:
            raise ValueError("api_key is empty")
        self.api_key = api_key

    def _with_key(self, details: grpc.ClientCallDetails) -> grpc.ClientCallDetails:
        metadata = list(details.metadata or ())
        if not any(key == API_KEY_HEADER for key, _ in metadata):
            metadata.append((API_KEY_HEADER, self.api_key))
        return _CallDetails(
            details.method,
            details.timeout,
            metadata,
            details.credentials,
            getattr(details, "wait_for_ready", None),
            getattr(details, "compression", None),
        )

    def intercept_unary_unary(self, continuation, client_call_details, request):
        return continuation(self._with_key(client_call_details), request)

    def intercept_unary_stream(self, continuation, client_call_details, request):
        return continuation(self._with_key(client_call_details), request)

    def intercept_stream_unary(self, continuation, client_call_details, request_iterator):
        return continuation(self._with_key(client_call_details), request_iterator)

    def intercept_stream_stream(self, continuation, client_call_details, request_iterator):
        return continuation(self._with_key(client_call_details), request_iterator)


class Client:
    """A channel to a Sparrow server and the six service stubs on it.

    address: host:port of the server's gRPC port (GRPC_PORT, default 50051).
    api_key: sent as x-api-key with every call; None sends none.
    tls: True for a TLS channel. Default: TLS when any certificate argument
        is given, else plaintext (h2c).
    root_certificates: PEM CA certificates to verify the server with; None
        uses gRPC's default roots.
    private_key, certificate_chain: PEM client key and certificate, for
        servers that ask for one.
    options: gRPC channel options, e.g. [("grpc.max_receive_message_length", n)].

    Attributes: channel, and the stubs webhooks (WebhookServiceStub), events
    (EventServiceStub), subscriptions (SubscriptionServiceStub), deliveries
    (DeliveryServiceStub), health (HealthServiceStub) and namespaces
    (NamespaceServiceStub).

    api_key may be a portal token (spt_..., from CreatePortalToken) too: the
    client then sees and does what the token grants.
    """

    def __init__(
        self,
        address: str = DEFAULT_ADDRESS,
        api_key: Optional[str] = None,
        *,
        tls: Optional[bool] = None,
        root_certificates: Optional[bytes] = None,
        private_key: Optional[bytes] = None,
        certificate_chain: Optional[bytes] = None,
        options: Sequence[Tuple[str, Any]] = (),
    ):
        certificates = any(c is not None for c in (root_certificates, private_key, certificate_chain))
        if tls is None:
            tls = certificates
        elif not tls and certificates:
            raise ValueError("certificates given with tls=False")
        if tls:
            credentials = grpc.ssl_channel_credentials(
                root_certificates=root_certificates,
                private_key=private_key,
                certificate_chain=certificate_chain,
            )
            channel = grpc.secure_channel(address, credentials, options=list(options))
        else:
            channel = grpc.insecure_channel(address, options=list(options))
        if api_key is not None:
            channel = grpc.intercept_channel(channel, ApiKeyInterceptor(api_key))
        self.address = address
        self.channel = channel
        self.webhooks = webhook_pb2_grpc.WebhookServiceStub(channel)
        self.events = webhook_pb2_grpc.EventServiceStub(channel)
        self.subscriptions = webhook_pb2_grpc.SubscriptionServiceStub(channel)
        self.deliveries = webhook_pb2_grpc.DeliveryServiceStub(channel)
        self.health = webhook_pb2_grpc.HealthServiceStub(channel)
        self.namespaces = webhook_pb2_grpc.NamespaceServiceStub(channel)

    def close(self) -> None:
        """Closes the channel; calls in flight are cancelled."""
        self.channel.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()
