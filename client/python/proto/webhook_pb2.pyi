from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CallerAccess(_message.Message):
    __slots__ = ["all_namespaces", "capabilities", "expires_at", "namespaces", "portal"]
    ALL_NAMESPACES_FIELD_NUMBER: _ClassVar[int]
    CAPABILITIES_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    NAMESPACES_FIELD_NUMBER: _ClassVar[int]
    PORTAL_FIELD_NUMBER: _ClassVar[int]
    all_namespaces: bool
    capabilities: _containers.RepeatedScalarFieldContainer[str]
    expires_at: _timestamp_pb2.Timestamp
    namespaces: _containers.RepeatedScalarFieldContainer[str]
    portal: bool
    def __init__(self, all_namespaces: bool = ..., namespaces: _Optional[_Iterable[str]] = ..., capabilities: _Optional[_Iterable[str]] = ..., expires_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., portal: bool = ...) -> None: ...

class CancelRecoveryRequest(_message.Message):
    __slots__ = ["namespace", "recovery_id"]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    RECOVERY_ID_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    recovery_id: str
    def __init__(self, recovery_id: _Optional[str] = ..., namespace: _Optional[str] = ...) -> None: ...

class CancelRecoveryResponse(_message.Message):
    __slots__ = ["recovery"]
    RECOVERY_FIELD_NUMBER: _ClassVar[int]
    recovery: Recovery
    def __init__(self, recovery: _Optional[_Union[Recovery, _Mapping]] = ...) -> None: ...

class CreatePortalTokenRequest(_message.Message):
    __slots__ = ["capabilities", "namespace", "ttl_seconds"]
    CAPABILITIES_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    TTL_SECONDS_FIELD_NUMBER: _ClassVar[int]
    capabilities: _containers.RepeatedScalarFieldContainer[str]
    namespace: str
    ttl_seconds: int
    def __init__(self, namespace: _Optional[str] = ..., capabilities: _Optional[_Iterable[str]] = ..., ttl_seconds: _Optional[int] = ...) -> None: ...

class CreatePortalTokenResponse(_message.Message):
    __slots__ = ["expires_at", "token"]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    expires_at: _timestamp_pb2.Timestamp
    token: str
    def __init__(self, token: _Optional[str] = ..., expires_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CreateSubscriptionRequest(_message.Message):
    __slots__ = ["active", "event_name", "filter", "label_filter", "namespace", "template", "webhook_id"]
    class LabelFilterEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    EVENT_NAME_FIELD_NUMBER: _ClassVar[int]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    LABEL_FILTER_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_FIELD_NUMBER: _ClassVar[int]
    WEBHOOK_ID_FIELD_NUMBER: _ClassVar[int]
    active: bool
    event_name: str
    filter: str
    label_filter: _containers.ScalarMap[str, str]
    namespace: str
    template: str
    webhook_id: str
    def __init__(self, webhook_id: _Optional[str] = ..., event_name: _Optional[str] = ..., namespace: _Optional[str] = ..., active: bool = ..., label_filter: _Optional[_Mapping[str, str]] = ..., template: _Optional[str] = ..., filter: _Optional[str] = ...) -> None: ...

class CreateSubscriptionResponse(_message.Message):
    __slots__ = ["subscription", "subscription_id"]
    SUBSCRIPTION_FIELD_NUMBER: _ClassVar[int]
    SUBSCRIPTION_ID_FIELD_NUMBER: _ClassVar[int]
    subscription: Subscription
    subscription_id: str
    def __init__(self, subscription_id: _Optional[str] = ..., subscription: _Optional[_Union[Subscription, _Mapping]] = ...) -> None: ...

class DeleteSubscriptionRequest(_message.Message):
    __slots__ = ["namespace", "subscription_id"]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    SUBSCRIPTION_ID_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    subscription_id: str
    def __init__(self, subscription_id: _Optional[str] = ..., namespace: _Optional[str] = ...) -> None: ...

class DeleteSubscriptionResponse(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class DeleteWebhookRequest(_message.Message):
    __slots__ = ["namespace", "webhook_id"]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    WEBHOOK_ID_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    webhook_id: str
    def __init__(self, webhook_id: _Optional[str] = ..., namespace: _Optional[str] = ...) -> None: ...

class DeleteWebhookResponse(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class Delivery(_message.Message):
    __slots__ = ["attempt_count", "attempts", "body", "completed_at", "created_at", "event_id", "event_name", "expires_at", "id", "last_attempt_at", "last_error", "last_error_class", "last_status_code", "manual_attempt_count", "max_attempts", "namespace", "next_attempt_at", "ordering_key", "retry_requested", "status", "subscription_id", "updated_at", "waiting", "waits_for", "webhook_id"]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_COUNT_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_AT_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_NAME_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    LAST_ATTEMPT_AT_FIELD_NUMBER: _ClassVar[int]
    LAST_ERROR_CLASS_FIELD_NUMBER: _ClassVar[int]
    LAST_ERROR_FIELD_NUMBER: _ClassVar[int]
    LAST_STATUS_CODE_FIELD_NUMBER: _ClassVar[int]
    MANUAL_ATTEMPT_COUNT_FIELD_NUMBER: _ClassVar[int]
    MAX_ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    NEXT_ATTEMPT_AT_FIELD_NUMBER: _ClassVar[int]
    ORDERING_KEY_FIELD_NUMBER: _ClassVar[int]
    RETRY_REQUESTED_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    SUBSCRIPTION_ID_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    WAITING_FIELD_NUMBER: _ClassVar[int]
    WAITS_FOR_FIELD_NUMBER: _ClassVar[int]
    WEBHOOK_ID_FIELD_NUMBER: _ClassVar[int]
    attempt_count: int
    attempts: _containers.RepeatedCompositeFieldContainer[DeliveryAttempt]
    body: str
    completed_at: _timestamp_pb2.Timestamp
    created_at: _timestamp_pb2.Timestamp
    event_id: str
    event_name: str
    expires_at: _timestamp_pb2.Timestamp
    id: str
    last_attempt_at: _timestamp_pb2.Timestamp
    last_error: str
    last_error_class: str
    last_status_code: int
    manual_attempt_count: int
    max_attempts: int
    namespace: str
    next_attempt_at: _timestamp_pb2.Timestamp
    ordering_key: str
    retry_requested: bool
    status: str
    subscription_id: str
    updated_at: _timestamp_pb2.Timestamp
    waiting: bool
    waits_for: str
    webhook_id: str
    def __init__(self, id: _Optional[str] = ..., namespace: _Optional[str] = ..., webhook_id: _Optional[str] = ..., event_id: _Optional[str] = ..., event_name: _Optional[str] = ..., subscription_id: _Optional[str] = ..., status: _Optional[str] = ..., attempt_count: _Optional[int] = ..., max_attempts: _Optional[int] = ..., waiting: bool = ..., last_status_code: _Optional[int] = ..., last_error_class: _Optional[str] = ..., last_error: _Optional[str] = ..., next_attempt_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., last_attempt_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., created_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., completed_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., expires_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., body: _Optional[str] = ..., attempts: _Optional[_Iterable[_Union[DeliveryAttempt, _Mapping]]] = ..., ordering_key: _Optional[str] = ..., waits_for: _Optional[str] = ..., manual_attempt_count: _Optional[int] = ..., retry_requested: bool = ...) -> None: ...

class DeliveryAttempt(_message.Message):
    __slots__ = ["duration_ms", "error", "error_class", "manual", "next_attempt_at", "number", "request_headers", "response_body", "response_body_truncated", "response_headers", "started_at", "status_code"]
    class RequestHeadersEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    class ResponseHeadersEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    DURATION_MS_FIELD_NUMBER: _ClassVar[int]
    ERROR_CLASS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    MANUAL_FIELD_NUMBER: _ClassVar[int]
    NEXT_ATTEMPT_AT_FIELD_NUMBER: _ClassVar[int]
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    REQUEST_HEADERS_FIELD_NUMBER: _ClassVar[int]
    RESPONSE_BODY_FIELD_NUMBER: _ClassVar[int]
    RESPONSE_BODY_TRUNCATED_FIELD_NUMBER: _ClassVar[int]
    RESPONSE_HEADERS_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    STATUS_CODE_FIELD_NUMBER: _ClassVar[int]
    duration_ms: float
    error: str
    error_class: str
    manual: bool
    next_attempt_at: _timestamp_pb2.Timestamp
    number: int
    request_headers: _containers.ScalarMap[str, str]
    response_body: str
    response_body_truncated: bool
    response_headers: _containers.ScalarMap[str, str]
    started_at: _timestamp_pb2.Timestamp
    status_code: int
    def __init__(self, number: _Optional[int] = ..., started_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., duration_ms: _Optional[float] = ..., status_code: _Optional[int] = ..., error_class: _Optional[str] = ..., error: _Optional[str] = ..., request_headers: _Optional[_Mapping[str, str]] = ..., response_headers: _Optional[_Mapping[str, str]] = ..., response_body: _Optional[str] = ..., response_body_truncated: bool = ..., next_attempt_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., manual: bool = ...) -> None: ...

class Event(_message.Message):
    __slots__ = ["created_at", "event_name", "expires_at", "id", "idempotency_key", "labels", "namespace", "ordering_key", "payload", "payload_json"]
    class LabelsEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    EVENT_NAME_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    ORDERING_KEY_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_JSON_FIELD_NUMBER: _ClassVar[int]
    created_at: _timestamp_pb2.Timestamp
    event_name: str
    expires_at: _timestamp_pb2.Timestamp
    id: str
    idempotency_key: str
    labels: _containers.ScalarMap[str, str]
    namespace: str
    ordering_key: str
    payload: _struct_pb2.Struct
    payload_json: str
    def __init__(self, id: _Optional[str] = ..., namespace: _Optional[str] = ..., event_name: _Optional[str] = ..., payload: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., labels: _Optional[_Mapping[str, str]] = ..., idempotency_key: _Optional[str] = ..., created_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., expires_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., payload_json: _Optional[str] = ..., ordering_key: _Optional[str] = ...) -> None: ...

class EventType(_message.Message):
    __slots__ = ["active", "created_at", "description", "name", "schema", "updated_at"]
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    SCHEMA_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    active: bool
    created_at: _timestamp_pb2.Timestamp
    description: str
    name: str
    schema: _struct_pb2.Struct
    updated_at: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., description: _Optional[str] = ..., active: bool = ..., created_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., schema: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class GetDeliveryRequest(_message.Message):
    __slots__ = ["delivery_id", "namespace"]
    DELIVERY_ID_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    delivery_id: str
    namespace: str
    def __init__(self, delivery_id: _Optional[str] = ..., namespace: _Optional[str] = ...) -> None: ...

class GetDeliveryResponse(_message.Message):
    __slots__ = ["delivery"]
    DELIVERY_FIELD_NUMBER: _ClassVar[int]
    delivery: Delivery
    def __init__(self, delivery: _Optional[_Union[Delivery, _Mapping]] = ...) -> None: ...

class GetEventRequest(_message.Message):
    __slots__ = ["event_id", "namespace"]
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    namespace: str
    def __init__(self, event_id: _Optional[str] = ..., namespace: _Optional[str] = ...) -> None: ...

class GetEventResponse(_message.Message):
    __slots__ = ["event"]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    event: Event
    def __init__(self, event: _Optional[_Union[Event, _Mapping]] = ...) -> None: ...

class GetEventTypeRequest(_message.Message):
    __slots__ = ["name"]
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class GetEventTypeResponse(_message.Message):
    __slots__ = ["event_type"]
    EVENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    event_type: EventType
    def __init__(self, event_type: _Optional[_Union[EventType, _Mapping]] = ...) -> None: ...

class GetHealthSummaryRequest(_message.Message):
    __slots__ = ["namespace"]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    def __init__(self, namespace: _Optional[str] = ...) -> None: ...

class GetHealthSummaryResponse(_message.Message):
    __slots__ = ["attempts", "namespace", "success_rate", "successes", "timeline", "webhooks_by_status", "window_seconds", "worst"]
    class WebhooksByStatusEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    SUCCESSES_FIELD_NUMBER: _ClassVar[int]
    SUCCESS_RATE_FIELD_NUMBER: _ClassVar[int]
    TIMELINE_FIELD_NUMBER: _ClassVar[int]
    WEBHOOKS_BY_STATUS_FIELD_NUMBER: _ClassVar[int]
    WINDOW_SECONDS_FIELD_NUMBER: _ClassVar[int]
    WORST_FIELD_NUMBER: _ClassVar[int]
    attempts: int
    namespace: str
    success_rate: float
    successes: int
    timeline: _containers.RepeatedCompositeFieldContainer[HealthPoint]
    webhooks_by_status: _containers.ScalarMap[str, int]
    window_seconds: int
    worst: _containers.RepeatedCompositeFieldContainer[WebhookHealthSummary]
    def __init__(self, namespace: _Optional[str] = ..., webhooks_by_status: _Optional[_Mapping[str, int]] = ..., window_seconds: _Optional[int] = ..., attempts: _Optional[int] = ..., successes: _Optional[int] = ..., success_rate: _Optional[float] = ..., worst: _Optional[_Iterable[_Union[WebhookHealthSummary, _Mapping]]] = ..., timeline: _Optional[_Iterable[_Union[HealthPoint, _Mapping]]] = ...) -> None: ...

class GetRecoveryRequest(_message.Message):
    __slots__ = ["namespace", "recovery_id"]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    RECOVERY_ID_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    recovery_id: str
    def __init__(self, recovery_id: _Optional[str] = ..., namespace: _Optional[str] = ...) -> None: ...

class GetRecoveryResponse(_message.Message):
    __slots__ = ["recovery"]
    RECOVERY_FIELD_NUMBER: _ClassVar[int]
    recovery: Recovery
    def __init__(self, recovery: _Optional[_Union[Recovery, _Mapping]] = ...) -> None: ...

class GetSubscriptionRequest(_message.Message):
    __slots__ = ["namespace", "subscription_id"]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    SUBSCRIPTION_ID_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    subscription_id: str
    def __init__(self, subscription_id: _Optional[str] = ..., namespace: _Optional[str] = ...) -> None: ...

class GetSubscriptionResponse(_message.Message):
    __slots__ = ["subscription"]
    SUBSCRIPTION_FIELD_NUMBER: _ClassVar[int]
    subscription: Subscription
    def __init__(self, subscription: _Optional[_Union[Subscription, _Mapping]] = ...) -> None: ...

class GetWebhookHealthRequest(_message.Message):
    __slots__ = ["namespace", "webhook_id", "window_seconds"]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    WEBHOOK_ID_FIELD_NUMBER: _ClassVar[int]
    WINDOW_SECONDS_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    webhook_id: str
    window_seconds: int
    def __init__(self, webhook_id: _Optional[str] = ..., namespace: _Optional[str] = ..., window_seconds: _Optional[int] = ...) -> None: ...

class GetWebhookHealthResponse(_message.Message):
    __slots__ = ["attempts", "consecutive_failures", "error_counts", "failing_since", "failures", "health_status", "last_failure_at", "last_success_at", "latency_avg_ms", "latency_p95_ms", "namespace", "pending_deliveries", "recent_attempts", "recent_latency_avg_ms", "recent_latency_p95_ms", "recent_success_rate", "status_changed_at", "status_counts", "status_reason", "success_rate", "successes", "timeline", "transitions", "webhook_id", "window_seconds"]
    class ErrorCountsEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    class StatusCountsEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    CONSECUTIVE_FAILURES_FIELD_NUMBER: _ClassVar[int]
    ERROR_COUNTS_FIELD_NUMBER: _ClassVar[int]
    FAILING_SINCE_FIELD_NUMBER: _ClassVar[int]
    FAILURES_FIELD_NUMBER: _ClassVar[int]
    HEALTH_STATUS_FIELD_NUMBER: _ClassVar[int]
    LAST_FAILURE_AT_FIELD_NUMBER: _ClassVar[int]
    LAST_SUCCESS_AT_FIELD_NUMBER: _ClassVar[int]
    LATENCY_AVG_MS_FIELD_NUMBER: _ClassVar[int]
    LATENCY_P95_MS_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    PENDING_DELIVERIES_FIELD_NUMBER: _ClassVar[int]
    RECENT_ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    RECENT_LATENCY_AVG_MS_FIELD_NUMBER: _ClassVar[int]
    RECENT_LATENCY_P95_MS_FIELD_NUMBER: _ClassVar[int]
    RECENT_SUCCESS_RATE_FIELD_NUMBER: _ClassVar[int]
    STATUS_CHANGED_AT_FIELD_NUMBER: _ClassVar[int]
    STATUS_COUNTS_FIELD_NUMBER: _ClassVar[int]
    STATUS_REASON_FIELD_NUMBER: _ClassVar[int]
    SUCCESSES_FIELD_NUMBER: _ClassVar[int]
    SUCCESS_RATE_FIELD_NUMBER: _ClassVar[int]
    TIMELINE_FIELD_NUMBER: _ClassVar[int]
    TRANSITIONS_FIELD_NUMBER: _ClassVar[int]
    WEBHOOK_ID_FIELD_NUMBER: _ClassVar[int]
    WINDOW_SECONDS_FIELD_NUMBER: _ClassVar[int]
    attempts: int
    consecutive_failures: int
    error_counts: _containers.ScalarMap[str, int]
    failing_since: _timestamp_pb2.Timestamp
    failures: int
    health_status: str
    last_failure_at: _timestamp_pb2.Timestamp
    last_success_at: _timestamp_pb2.Timestamp
    latency_avg_ms: float
    latency_p95_ms: float
    namespace: str
    pending_deliveries: int
    recent_attempts: int
    recent_latency_avg_ms: float
    recent_latency_p95_ms: float
    recent_success_rate: float
    status_changed_at: _timestamp_pb2.Timestamp
    status_counts: _containers.ScalarMap[str, int]
    status_reason: str
    success_rate: float
    successes: int
    timeline: _containers.RepeatedCompositeFieldContainer[HealthPoint]
    transitions: _containers.RepeatedCompositeFieldContainer[HealthTransition]
    webhook_id: str
    window_seconds: int
    def __init__(self, webhook_id: _Optional[str] = ..., namespace: _Optional[str] = ..., health_status: _Optional[str] = ..., status_reason: _Optional[str] = ..., status_changed_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., success_rate: _Optional[float] = ..., window_seconds: _Optional[int] = ..., attempts: _Optional[int] = ..., successes: _Optional[int] = ..., failures: _Optional[int] = ..., latency_avg_ms: _Optional[float] = ..., latency_p95_ms: _Optional[float] = ..., error_counts: _Optional[_Mapping[str, int]] = ..., recent_attempts: _Optional[int] = ..., recent_success_rate: _Optional[float] = ..., recent_latency_avg_ms: _Optional[float] = ..., recent_latency_p95_ms: _Optional[float] = ..., consecutive_failures: _Optional[int] = ..., failing_since: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., last_success_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., last_failure_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., pending_deliveries: _Optional[int] = ..., transitions: _Optional[_Iterable[_Union[HealthTransition, _Mapping]]] = ..., timeline: _Optional[_Iterable[_Union[HealthPoint, _Mapping]]] = ..., status_counts: _Optional[_Mapping[str, int]] = ...) -> None: ...

class GetWebhookRequest(_message.Message):
    __slots__ = ["namespace", "webhook_id"]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    WEBHOOK_ID_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    webhook_id: str
    def __init__(self, webhook_id: _Optional[str] = ..., namespace: _Optional[str] = ...) -> None: ...

class GetWebhookResponse(_message.Message):
    __slots__ = ["webhook"]
    WEBHOOK_FIELD_NUMBER: _ClassVar[int]
    webhook: Webhook
    def __init__(self, webhook: _Optional[_Union[Webhook, _Mapping]] = ...) -> None: ...

class HealthPoint(_message.Message):
    __slots__ = ["at", "attempts", "latency_avg_ms", "successes"]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    LATENCY_AVG_MS_FIELD_NUMBER: _ClassVar[int]
    SUCCESSES_FIELD_NUMBER: _ClassVar[int]
    at: _timestamp_pb2.Timestamp
    attempts: int
    latency_avg_ms: float
    successes: int
    def __init__(self, at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., attempts: _Optional[int] = ..., successes: _Optional[int] = ..., latency_avg_ms: _Optional[float] = ...) -> None: ...

class HealthTransition(_message.Message):
    __slots__ = ["at", "reason", "to"]
    AT_FIELD_NUMBER: _ClassVar[int]
    FROM_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    TO_FIELD_NUMBER: _ClassVar[int]
    at: _timestamp_pb2.Timestamp
    reason: str
    to: str
    def __init__(self, at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., to: _Optional[str] = ..., reason: _Optional[str] = ..., **kwargs) -> None: ...

class ListDeliveriesRequest(_message.Message):
    __slots__ = ["cursor", "error_class", "event_id", "event_name", "http_status", "limit", "namespace", "since", "status", "until", "webhook_id"]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    ERROR_CLASS_FIELD_NUMBER: _ClassVar[int]
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_NAME_FIELD_NUMBER: _ClassVar[int]
    HTTP_STATUS_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    UNTIL_FIELD_NUMBER: _ClassVar[int]
    WEBHOOK_ID_FIELD_NUMBER: _ClassVar[int]
    cursor: str
    error_class: str
    event_id: str
    event_name: str
    http_status: int
    limit: int
    namespace: str
    since: _timestamp_pb2.Timestamp
    status: str
    until: _timestamp_pb2.Timestamp
    webhook_id: str
    def __init__(self, webhook_id: _Optional[str] = ..., namespace: _Optional[str] = ..., limit: _Optional[int] = ..., event_id: _Optional[str] = ..., status: _Optional[str] = ..., since: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., until: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., cursor: _Optional[str] = ..., event_name: _Optional[str] = ..., http_status: _Optional[int] = ..., error_class: _Optional[str] = ...) -> None: ...

class ListDeliveriesResponse(_message.Message):
    __slots__ = ["deliveries", "next_cursor"]
    DELIVERIES_FIELD_NUMBER: _ClassVar[int]
    NEXT_CURSOR_FIELD_NUMBER: _ClassVar[int]
    deliveries: _containers.RepeatedCompositeFieldContainer[Delivery]
    next_cursor: str
    def __init__(self, deliveries: _Optional[_Iterable[_Union[Delivery, _Mapping]]] = ..., next_cursor: _Optional[str] = ...) -> None: ...

class ListEventTypesRequest(_message.Message):
    __slots__ = ["active_only", "cursor", "limit"]
    ACTIVE_ONLY_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    active_only: bool
    cursor: str
    limit: int
    def __init__(self, active_only: bool = ..., limit: _Optional[int] = ..., cursor: _Optional[str] = ...) -> None: ...

class ListEventTypesResponse(_message.Message):
    __slots__ = ["event_types", "next_cursor"]
    EVENT_TYPES_FIELD_NUMBER: _ClassVar[int]
    NEXT_CURSOR_FIELD_NUMBER: _ClassVar[int]
    event_types: _containers.RepeatedCompositeFieldContainer[EventType]
    next_cursor: str
    def __init__(self, event_types: _Optional[_Iterable[_Union[EventType, _Mapping]]] = ..., next_cursor: _Optional[str] = ...) -> None: ...

class ListEventsRequest(_message.Message):
    __slots__ = ["cursor", "event_name", "hide_system_events", "limit", "namespace", "since", "until"]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    EVENT_NAME_FIELD_NUMBER: _ClassVar[int]
    HIDE_SYSTEM_EVENTS_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    UNTIL_FIELD_NUMBER: _ClassVar[int]
    cursor: str
    event_name: str
    hide_system_events: bool
    limit: int
    namespace: str
    since: _timestamp_pb2.Timestamp
    until: _timestamp_pb2.Timestamp
    def __init__(self, namespace: _Optional[str] = ..., event_name: _Optional[str] = ..., since: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., until: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., limit: _Optional[int] = ..., cursor: _Optional[str] = ..., hide_system_events: bool = ...) -> None: ...

class ListEventsResponse(_message.Message):
    __slots__ = ["events", "next_cursor"]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_CURSOR_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[Event]
    next_cursor: str
    def __init__(self, events: _Optional[_Iterable[_Union[Event, _Mapping]]] = ..., next_cursor: _Optional[str] = ...) -> None: ...

class ListNamespacesRequest(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class ListNamespacesResponse(_message.Message):
    __slots__ = ["access", "namespaces"]
    ACCESS_FIELD_NUMBER: _ClassVar[int]
    NAMESPACES_FIELD_NUMBER: _ClassVar[int]
    access: CallerAccess
    namespaces: _containers.RepeatedCompositeFieldContainer[NamespaceSummary]
    def __init__(self, namespaces: _Optional[_Iterable[_Union[NamespaceSummary, _Mapping]]] = ..., access: _Optional[_Union[CallerAccess, _Mapping]] = ...) -> None: ...

class ListRecoveriesRequest(_message.Message):
    __slots__ = ["cursor", "limit", "namespace", "webhook_id"]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    WEBHOOK_ID_FIELD_NUMBER: _ClassVar[int]
    cursor: str
    limit: int
    namespace: str
    webhook_id: str
    def __init__(self, namespace: _Optional[str] = ..., webhook_id: _Optional[str] = ..., limit: _Optional[int] = ..., cursor: _Optional[str] = ...) -> None: ...

class ListRecoveriesResponse(_message.Message):
    __slots__ = ["next_cursor", "recoveries"]
    NEXT_CURSOR_FIELD_NUMBER: _ClassVar[int]
    RECOVERIES_FIELD_NUMBER: _ClassVar[int]
    next_cursor: str
    recoveries: _containers.RepeatedCompositeFieldContainer[Recovery]
    def __init__(self, recoveries: _Optional[_Iterable[_Union[Recovery, _Mapping]]] = ..., next_cursor: _Optional[str] = ...) -> None: ...

class ListSubscriptionsRequest(_message.Message):
    __slots__ = ["cursor", "event_name", "limit", "namespace", "webhook_id"]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    EVENT_NAME_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    WEBHOOK_ID_FIELD_NUMBER: _ClassVar[int]
    cursor: str
    event_name: str
    limit: int
    namespace: str
    webhook_id: str
    def __init__(self, namespace: _Optional[str] = ..., webhook_id: _Optional[str] = ..., event_name: _Optional[str] = ..., limit: _Optional[int] = ..., cursor: _Optional[str] = ...) -> None: ...

class ListSubscriptionsResponse(_message.Message):
    __slots__ = ["next_cursor", "subscriptions"]
    NEXT_CURSOR_FIELD_NUMBER: _ClassVar[int]
    SUBSCRIPTIONS_FIELD_NUMBER: _ClassVar[int]
    next_cursor: str
    subscriptions: _containers.RepeatedCompositeFieldContainer[Subscription]
    def __init__(self, subscriptions: _Optional[_Iterable[_Union[Subscription, _Mapping]]] = ..., next_cursor: _Optional[str] = ...) -> None: ...

class ListWebhooksRequest(_message.Message):
    __slots__ = ["active_only", "cursor", "event", "limit", "namespace"]
    ACTIVE_ONLY_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    active_only: bool
    cursor: str
    event: str
    limit: int
    namespace: str
    def __init__(self, namespace: _Optional[str] = ..., event: _Optional[str] = ..., active_only: bool = ..., limit: _Optional[int] = ..., cursor: _Optional[str] = ...) -> None: ...

class ListWebhooksResponse(_message.Message):
    __slots__ = ["next_cursor", "webhooks"]
    NEXT_CURSOR_FIELD_NUMBER: _ClassVar[int]
    WEBHOOKS_FIELD_NUMBER: _ClassVar[int]
    next_cursor: str
    webhooks: _containers.RepeatedCompositeFieldContainer[Webhook]
    def __init__(self, webhooks: _Optional[_Iterable[_Union[Webhook, _Mapping]]] = ..., next_cursor: _Optional[str] = ...) -> None: ...

class NamespaceSummary(_message.Message):
    __slots__ = ["last_event_at", "namespace", "paused_webhooks", "subscriptions", "webhooks"]
    LAST_EVENT_AT_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    PAUSED_WEBHOOKS_FIELD_NUMBER: _ClassVar[int]
    SUBSCRIPTIONS_FIELD_NUMBER: _ClassVar[int]
    WEBHOOKS_FIELD_NUMBER: _ClassVar[int]
    last_event_at: _timestamp_pb2.Timestamp
    namespace: str
    paused_webhooks: int
    subscriptions: int
    webhooks: int
    def __init__(self, namespace: _Optional[str] = ..., webhooks: _Optional[int] = ..., paused_webhooks: _Optional[int] = ..., subscriptions: _Optional[int] = ..., last_event_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class PauseWebhookRequest(_message.Message):
    __slots__ = ["namespace", "webhook_id"]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    WEBHOOK_ID_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    webhook_id: str
    def __init__(self, webhook_id: _Optional[str] = ..., namespace: _Optional[str] = ...) -> None: ...

class PauseWebhookResponse(_message.Message):
    __slots__ = ["webhook"]
    WEBHOOK_FIELD_NUMBER: _ClassVar[int]
    webhook: Webhook
    def __init__(self, webhook: _Optional[_Union[Webhook, _Mapping]] = ...) -> None: ...

class PushEventRequest(_message.Message):
    __slots__ = ["event", "idempotency_key", "labels", "namespace", "ordering_key", "payload", "payload_json", "ttl_seconds"]
    class LabelsEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    EVENT_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    ORDERING_KEY_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_JSON_FIELD_NUMBER: _ClassVar[int]
    TTL_SECONDS_FIELD_NUMBER: _ClassVar[int]
    event: str
    idempotency_key: str
    labels: _containers.ScalarMap[str, str]
    namespace: str
    ordering_key: str
    payload: _struct_pb2.Struct
    payload_json: str
    ttl_seconds: int
    def __init__(self, namespace: _Optional[str] = ..., event: _Optional[str] = ..., payload: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., ttl_seconds: _Optional[int] = ..., labels: _Optional[_Mapping[str, str]] = ..., idempotency_key: _Optional[str] = ..., payload_json: _Optional[str] = ..., ordering_key: _Optional[str] = ...) -> None: ...

class PushEventResponse(_message.Message):
    __slots__ = ["event_id"]
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    def __init__(self, event_id: _Optional[str] = ...) -> None: ...

class PushEventsRequest(_message.Message):
    __slots__ = ["events"]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[PushEventRequest]
    def __init__(self, events: _Optional[_Iterable[_Union[PushEventRequest, _Mapping]]] = ...) -> None: ...

class PushEventsResponse(_message.Message):
    __slots__ = ["event_ids"]
    EVENT_IDS_FIELD_NUMBER: _ClassVar[int]
    event_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, event_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class RecoverWebhookRequest(_message.Message):
    __slots__ = ["namespace", "since", "until", "webhook_id"]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    UNTIL_FIELD_NUMBER: _ClassVar[int]
    WEBHOOK_ID_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    since: _timestamp_pb2.Timestamp
    until: _timestamp_pb2.Timestamp
    webhook_id: str
    def __init__(self, webhook_id: _Optional[str] = ..., namespace: _Optional[str] = ..., since: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., until: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class RecoverWebhookResponse(_message.Message):
    __slots__ = ["recovery"]
    RECOVERY_FIELD_NUMBER: _ClassVar[int]
    recovery: Recovery
    def __init__(self, recovery: _Optional[_Union[Recovery, _Mapping]] = ...) -> None: ...

class Recovery(_message.Message):
    __slots__ = ["created_at", "done", "error", "id", "namespace", "resent", "since", "status", "total", "until", "updated_at", "webhook_id"]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    DONE_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    RESENT_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    UNTIL_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    WEBHOOK_ID_FIELD_NUMBER: _ClassVar[int]
    created_at: _timestamp_pb2.Timestamp
    done: int
    error: str
    id: str
    namespace: str
    resent: int
    since: _timestamp_pb2.Timestamp
    status: str
    total: int
    until: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    webhook_id: str
    def __init__(self, id: _Optional[str] = ..., namespace: _Optional[str] = ..., webhook_id: _Optional[str] = ..., since: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., until: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., status: _Optional[str] = ..., error: _Optional[str] = ..., total: _Optional[int] = ..., done: _Optional[int] = ..., resent: _Optional[int] = ..., created_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class RegisterEventRequest(_message.Message):
    __slots__ = ["active", "description", "name", "schema"]
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    SCHEMA_FIELD_NUMBER: _ClassVar[int]
    active: bool
    description: str
    name: str
    schema: _struct_pb2.Struct
    def __init__(self, name: _Optional[str] = ..., description: _Optional[str] = ..., active: bool = ..., schema: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class RegisterEventResponse(_message.Message):
    __slots__ = ["event_type"]
    EVENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    event_type: EventType
    def __init__(self, event_type: _Optional[_Union[EventType, _Mapping]] = ...) -> None: ...

class RegisterWebhookRequest(_message.Message):
    __slots__ = ["active", "description", "events", "headers", "max_attempts", "namespace", "rate_limit_per_second", "retry_schedule", "signature_scheme", "timeout_seconds", "url", "webhook_secret"]
    class HeadersEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    HEADERS_FIELD_NUMBER: _ClassVar[int]
    MAX_ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    RATE_LIMIT_PER_SECOND_FIELD_NUMBER: _ClassVar[int]
    RETRY_SCHEDULE_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_SCHEME_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    WEBHOOK_SECRET_FIELD_NUMBER: _ClassVar[int]
    active: bool
    description: str
    events: _containers.RepeatedScalarFieldContainer[str]
    headers: _containers.ScalarMap[str, str]
    max_attempts: int
    namespace: str
    rate_limit_per_second: int
    retry_schedule: _containers.RepeatedScalarFieldContainer[str]
    signature_scheme: str
    timeout_seconds: int
    url: str
    webhook_secret: str
    def __init__(self, namespace: _Optional[str] = ..., url: _Optional[str] = ..., events: _Optional[_Iterable[str]] = ..., active: bool = ..., webhook_secret: _Optional[str] = ..., description: _Optional[str] = ..., headers: _Optional[_Mapping[str, str]] = ..., timeout_seconds: _Optional[int] = ..., max_attempts: _Optional[int] = ..., retry_schedule: _Optional[_Iterable[str]] = ..., rate_limit_per_second: _Optional[int] = ..., signature_scheme: _Optional[str] = ...) -> None: ...

class RegisterWebhookResponse(_message.Message):
    __slots__ = ["public_key", "webhook", "webhook_id", "webhook_secret"]
    PUBLIC_KEY_FIELD_NUMBER: _ClassVar[int]
    WEBHOOK_FIELD_NUMBER: _ClassVar[int]
    WEBHOOK_ID_FIELD_NUMBER: _ClassVar[int]
    WEBHOOK_SECRET_FIELD_NUMBER: _ClassVar[int]
    public_key: str
    webhook: Webhook
    webhook_id: str
    webhook_secret: str
    def __init__(self, webhook_id: _Optional[str] = ..., webhook: _Optional[_Union[Webhook, _Mapping]] = ..., webhook_secret: _Optional[str] = ..., public_key: _Optional[str] = ...) -> None: ...

class RenderTemplateRequest(_message.Message):
    __slots__ = ["payload", "payload_json", "template"]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_JSON_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_FIELD_NUMBER: _ClassVar[int]
    payload: _struct_pb2.Struct
    payload_json: str
    template: str
    def __init__(self, template: _Optional[str] = ..., payload: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., payload_json: _Optional[str] = ...) -> None: ...

class RenderTemplateResponse(_message.Message):
    __slots__ = ["body"]
    BODY_FIELD_NUMBER: _ClassVar[int]
    body: str
    def __init__(self, body: _Optional[str] = ...) -> None: ...

class RepushEventRequest(_message.Message):
    __slots__ = ["event_id", "namespace"]
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    namespace: str
    def __init__(self, event_id: _Optional[str] = ..., namespace: _Optional[str] = ...) -> None: ...

class RepushEventResponse(_message.Message):
    __slots__ = ["event"]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    event: Event
    def __init__(self, event: _Optional[_Union[Event, _Mapping]] = ...) -> None: ...

class ResumeWebhookRequest(_message.Message):
    __slots__ = ["namespace", "webhook_id"]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    WEBHOOK_ID_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    webhook_id: str
    def __init__(self, webhook_id: _Optional[str] = ..., namespace: _Optional[str] = ...) -> None: ...

class ResumeWebhookResponse(_message.Message):
    __slots__ = ["webhook"]
    WEBHOOK_FIELD_NUMBER: _ClassVar[int]
    webhook: Webhook
    def __init__(self, webhook: _Optional[_Union[Webhook, _Mapping]] = ...) -> None: ...

class RetryDeliveryRequest(_message.Message):
    __slots__ = ["delivery_id", "namespace"]
    DELIVERY_ID_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    delivery_id: str
    namespace: str
    def __init__(self, delivery_id: _Optional[str] = ..., namespace: _Optional[str] = ...) -> None: ...

class RetryDeliveryResponse(_message.Message):
    __slots__ = ["delivery"]
    DELIVERY_FIELD_NUMBER: _ClassVar[int]
    delivery: Delivery
    def __init__(self, delivery: _Optional[_Union[Delivery, _Mapping]] = ...) -> None: ...

class RetryFailedDeliveriesRequest(_message.Message):
    __slots__ = ["dry_run", "namespace", "since", "webhook_id"]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    WEBHOOK_ID_FIELD_NUMBER: _ClassVar[int]
    dry_run: bool
    namespace: str
    since: _timestamp_pb2.Timestamp
    webhook_id: str
    def __init__(self, webhook_id: _Optional[str] = ..., namespace: _Optional[str] = ..., since: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., dry_run: bool = ...) -> None: ...

class RetryFailedDeliveriesResponse(_message.Message):
    __slots__ = ["retried"]
    RETRIED_FIELD_NUMBER: _ClassVar[int]
    retried: int
    def __init__(self, retried: _Optional[int] = ...) -> None: ...

class RevealWebhookSecretRequest(_message.Message):
    __slots__ = ["namespace", "webhook_id"]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    WEBHOOK_ID_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    webhook_id: str
    def __init__(self, webhook_id: _Optional[str] = ..., namespace: _Optional[str] = ...) -> None: ...

class RevealWebhookSecretResponse(_message.Message):
    __slots__ = ["webhook_secret"]
    WEBHOOK_SECRET_FIELD_NUMBER: _ClassVar[int]
    webhook_secret: str
    def __init__(self, webhook_secret: _Optional[str] = ...) -> None: ...

class RotateWebhookSecretRequest(_message.Message):
    __slots__ = ["grace_period_seconds", "namespace", "signature_scheme", "webhook_id", "webhook_secret"]
    GRACE_PERIOD_SECONDS_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_SCHEME_FIELD_NUMBER: _ClassVar[int]
    WEBHOOK_ID_FIELD_NUMBER: _ClassVar[int]
    WEBHOOK_SECRET_FIELD_NUMBER: _ClassVar[int]
    grace_period_seconds: int
    namespace: str
    signature_scheme: str
    webhook_id: str
    webhook_secret: str
    def __init__(self, webhook_id: _Optional[str] = ..., namespace: _Optional[str] = ..., webhook_secret: _Optional[str] = ..., grace_period_seconds: _Optional[int] = ..., signature_scheme: _Optional[str] = ...) -> None: ...

class RotateWebhookSecretResponse(_message.Message):
    __slots__ = ["public_key", "webhook", "webhook_secret"]
    PUBLIC_KEY_FIELD_NUMBER: _ClassVar[int]
    WEBHOOK_FIELD_NUMBER: _ClassVar[int]
    WEBHOOK_SECRET_FIELD_NUMBER: _ClassVar[int]
    public_key: str
    webhook: Webhook
    webhook_secret: str
    def __init__(self, webhook: _Optional[_Union[Webhook, _Mapping]] = ..., webhook_secret: _Optional[str] = ..., public_key: _Optional[str] = ...) -> None: ...

class SendTestEventRequest(_message.Message):
    __slots__ = ["event_name", "namespace", "payload", "payload_json", "webhook_id"]
    EVENT_NAME_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_JSON_FIELD_NUMBER: _ClassVar[int]
    WEBHOOK_ID_FIELD_NUMBER: _ClassVar[int]
    event_name: str
    namespace: str
    payload: _struct_pb2.Struct
    payload_json: str
    webhook_id: str
    def __init__(self, webhook_id: _Optional[str] = ..., namespace: _Optional[str] = ..., event_name: _Optional[str] = ..., payload: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., payload_json: _Optional[str] = ...) -> None: ...

class SendTestEventResponse(_message.Message):
    __slots__ = ["delivery_id", "event_id", "payload", "payload_json"]
    DELIVERY_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_JSON_FIELD_NUMBER: _ClassVar[int]
    delivery_id: str
    event_id: str
    payload: _struct_pb2.Struct
    payload_json: str
    def __init__(self, event_id: _Optional[str] = ..., delivery_id: _Optional[str] = ..., payload: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., payload_json: _Optional[str] = ...) -> None: ...

class Subscription(_message.Message):
    __slots__ = ["active", "created_at", "event_name", "filter", "id", "label_filter", "namespace", "template", "updated_at", "webhook_id"]
    class LabelFilterEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    EVENT_NAME_FIELD_NUMBER: _ClassVar[int]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    LABEL_FILTER_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    WEBHOOK_ID_FIELD_NUMBER: _ClassVar[int]
    active: bool
    created_at: _timestamp_pb2.Timestamp
    event_name: str
    filter: str
    id: str
    label_filter: _containers.ScalarMap[str, str]
    namespace: str
    template: str
    updated_at: _timestamp_pb2.Timestamp
    webhook_id: str
    def __init__(self, id: _Optional[str] = ..., namespace: _Optional[str] = ..., webhook_id: _Optional[str] = ..., event_name: _Optional[str] = ..., active: bool = ..., label_filter: _Optional[_Mapping[str, str]] = ..., template: _Optional[str] = ..., created_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., filter: _Optional[str] = ...) -> None: ...

class TestFilterRequest(_message.Message):
    __slots__ = ["filter", "labels", "payload", "payload_json"]
    class LabelsEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    FILTER_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_JSON_FIELD_NUMBER: _ClassVar[int]
    filter: str
    labels: _containers.ScalarMap[str, str]
    payload: _struct_pb2.Struct
    payload_json: str
    def __init__(self, filter: _Optional[str] = ..., payload: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., payload_json: _Optional[str] = ..., labels: _Optional[_Mapping[str, str]] = ...) -> None: ...

class TestFilterResponse(_message.Message):
    __slots__ = ["matched"]
    MATCHED_FIELD_NUMBER: _ClassVar[int]
    matched: bool
    def __init__(self, matched: bool = ...) -> None: ...

class UpdateEventRequest(_message.Message):
    __slots__ = ["active", "clear_schema", "description", "name", "schema"]
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    CLEAR_SCHEMA_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    SCHEMA_FIELD_NUMBER: _ClassVar[int]
    active: bool
    clear_schema: bool
    description: str
    name: str
    schema: _struct_pb2.Struct
    def __init__(self, name: _Optional[str] = ..., description: _Optional[str] = ..., active: bool = ..., schema: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., clear_schema: bool = ...) -> None: ...

class UpdateEventResponse(_message.Message):
    __slots__ = ["event_type"]
    EVENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    event_type: EventType
    def __init__(self, event_type: _Optional[_Union[EventType, _Mapping]] = ...) -> None: ...

class UpdateSubscriptionRequest(_message.Message):
    __slots__ = ["active", "clear_label_filter", "filter", "label_filter", "namespace", "subscription_id", "template"]
    class LabelFilterEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    CLEAR_LABEL_FILTER_FIELD_NUMBER: _ClassVar[int]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    LABEL_FILTER_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    SUBSCRIPTION_ID_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_FIELD_NUMBER: _ClassVar[int]
    active: bool
    clear_label_filter: bool
    filter: str
    label_filter: _containers.ScalarMap[str, str]
    namespace: str
    subscription_id: str
    template: str
    def __init__(self, subscription_id: _Optional[str] = ..., namespace: _Optional[str] = ..., active: bool = ..., label_filter: _Optional[_Mapping[str, str]] = ..., clear_label_filter: bool = ..., template: _Optional[str] = ..., filter: _Optional[str] = ...) -> None: ...

class UpdateSubscriptionResponse(_message.Message):
    __slots__ = ["subscription"]
    SUBSCRIPTION_FIELD_NUMBER: _ClassVar[int]
    subscription: Subscription
    def __init__(self, subscription: _Optional[_Union[Subscription, _Mapping]] = ...) -> None: ...

class UpdateWebhookRequest(_message.Message):
    __slots__ = ["clear_events", "clear_headers", "clear_retry_schedule", "description", "events", "headers", "max_attempts", "namespace", "rate_limit_per_second", "retry_schedule", "timeout_seconds", "url", "webhook_id"]
    class HeadersEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    CLEAR_EVENTS_FIELD_NUMBER: _ClassVar[int]
    CLEAR_HEADERS_FIELD_NUMBER: _ClassVar[int]
    CLEAR_RETRY_SCHEDULE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    HEADERS_FIELD_NUMBER: _ClassVar[int]
    MAX_ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    RATE_LIMIT_PER_SECOND_FIELD_NUMBER: _ClassVar[int]
    RETRY_SCHEDULE_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    WEBHOOK_ID_FIELD_NUMBER: _ClassVar[int]
    clear_events: bool
    clear_headers: bool
    clear_retry_schedule: bool
    description: str
    events: _containers.RepeatedScalarFieldContainer[str]
    headers: _containers.ScalarMap[str, str]
    max_attempts: int
    namespace: str
    rate_limit_per_second: int
    retry_schedule: _containers.RepeatedScalarFieldContainer[str]
    timeout_seconds: int
    url: str
    webhook_id: str
    def __init__(self, webhook_id: _Optional[str] = ..., namespace: _Optional[str] = ..., url: _Optional[str] = ..., description: _Optional[str] = ..., events: _Optional[_Iterable[str]] = ..., clear_events: bool = ..., headers: _Optional[_Mapping[str, str]] = ..., clear_headers: bool = ..., timeout_seconds: _Optional[int] = ..., max_attempts: _Optional[int] = ..., retry_schedule: _Optional[_Iterable[str]] = ..., clear_retry_schedule: bool = ..., rate_limit_per_second: _Optional[int] = ...) -> None: ...

class UpdateWebhookResponse(_message.Message):
    __slots__ = ["webhook"]
    WEBHOOK_FIELD_NUMBER: _ClassVar[int]
    webhook: Webhook
    def __init__(self, webhook: _Optional[_Union[Webhook, _Mapping]] = ...) -> None: ...

class Webhook(_message.Message):
    __slots__ = ["active", "created_at", "description", "events", "headers", "id", "max_attempts", "namespace", "public_key", "rate_limit_per_second", "retry_schedule", "signature_scheme", "state", "state_changed_at", "state_reason", "timeout_seconds", "updated_at", "url"]
    class HeadersEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    HEADERS_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    MAX_ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    PUBLIC_KEY_FIELD_NUMBER: _ClassVar[int]
    RATE_LIMIT_PER_SECOND_FIELD_NUMBER: _ClassVar[int]
    RETRY_SCHEDULE_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_SCHEME_FIELD_NUMBER: _ClassVar[int]
    STATE_CHANGED_AT_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    STATE_REASON_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    active: bool
    created_at: _timestamp_pb2.Timestamp
    description: str
    events: _containers.RepeatedScalarFieldContainer[str]
    headers: _containers.ScalarMap[str, str]
    id: str
    max_attempts: int
    namespace: str
    public_key: str
    rate_limit_per_second: int
    retry_schedule: _containers.RepeatedScalarFieldContainer[str]
    signature_scheme: str
    state: str
    state_changed_at: _timestamp_pb2.Timestamp
    state_reason: str
    timeout_seconds: int
    updated_at: _timestamp_pb2.Timestamp
    url: str
    def __init__(self, id: _Optional[str] = ..., namespace: _Optional[str] = ..., url: _Optional[str] = ..., description: _Optional[str] = ..., events: _Optional[_Iterable[str]] = ..., active: bool = ..., state: _Optional[str] = ..., state_reason: _Optional[str] = ..., state_changed_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., headers: _Optional[_Mapping[str, str]] = ..., timeout_seconds: _Optional[int] = ..., max_attempts: _Optional[int] = ..., created_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., retry_schedule: _Optional[_Iterable[str]] = ..., rate_limit_per_second: _Optional[int] = ..., signature_scheme: _Optional[str] = ..., public_key: _Optional[str] = ...) -> None: ...

class WebhookHealthSummary(_message.Message):
    __slots__ = ["attempts", "consecutive_failures", "health_status", "status_reason", "success_rate", "webhook_id"]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    CONSECUTIVE_FAILURES_FIELD_NUMBER: _ClassVar[int]
    HEALTH_STATUS_FIELD_NUMBER: _ClassVar[int]
    STATUS_REASON_FIELD_NUMBER: _ClassVar[int]
    SUCCESS_RATE_FIELD_NUMBER: _ClassVar[int]
    WEBHOOK_ID_FIELD_NUMBER: _ClassVar[int]
    attempts: int
    consecutive_failures: int
    health_status: str
    status_reason: str
    success_rate: float
    webhook_id: str
    def __init__(self, webhook_id: _Optional[str] = ..., health_status: _Optional[str] = ..., status_reason: _Optional[str] = ..., success_rate: _Optional[float] = ..., attempts: _Optional[int] = ..., consecutive_failures: _Optional[int] = ...) -> None: ...
