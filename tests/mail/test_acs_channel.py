"""The Azure Communication Services channel. No ACS emulator exists, so the SDK client is replaced by a
fake that records the call and raises the SDK's own exception types; the real client is built once to
check its retry and timeout configuration. What this cannot show without Azure: that the service accepts
the body, that the managed identity holds the role, and how it treats a repeated Operation-Id."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from azure.core.exceptions import ClientAuthenticationError, HttpResponseError, ServiceRequestError

from shared.mail import acs
from shared.mail.message import DeliveryError, Message

INVITATION_ID = uuid.uuid4().hex
ENDPOINT = "https://contoso-mail.europe.communication.azure.com"


def _message() -> Message:
    return Message(
        sender="DoNotReply@contoso.azurecomm.net",
        to="ada@example.com",
        subject="Contoso invited you",
        text="plain",
        html="<p>html</p>",
        message_id=INVITATION_ID,
    )


class FakeEmailClient:
    def __init__(self, error: Exception | None = None):
        self.error = error
        self.calls: list[dict[str, Any]] = []

    def begin_send(self, message: dict, **kwargs: Any) -> object:
        self.calls.append({"message": message, **kwargs})
        if self.error is not None:
            raise self.error
        return object()


def _sender(client: FakeEmailClient, built: list[tuple[str, float]] | None = None) -> acs.AcsSender:
    def factory(endpoint: str, timeout: float) -> FakeEmailClient:
        (built if built is not None else []).append((endpoint, timeout))
        return client

    return acs.AcsSender(ENDPOINT, factory)


def test_the_request_it_builds():
    client, built = FakeEmailClient(), []
    sender = _sender(client, built)
    sender.send(_message(), timeout=7)
    sender.send(_message(), timeout=7)
    assert built == [(ENDPOINT, 7)]  # one client, reused
    call = client.calls[0]
    assert call["message"] == {
        "senderAddress": "DoNotReply@contoso.azurecomm.net",
        "recipients": {"to": [{"address": "ada@example.com"}]},
        "content": {"subject": "Contoso invited you", "plainText": "plain", "html": "<p>html</p>"},
        "userEngagementTrackingDisabled": True,
    }
    assert call["operation_id"] == str(uuid.UUID(INVITATION_ID))  # the idempotency key: the invitation id
    assert call["polling"] is False  # accepted = queued by the service; the outbox does not wait for delivery


def _http_error(status: int, reason: str) -> HttpResponseError:
    error = HttpResponseError(message=reason)
    error.status_code = status
    error.reason = reason
    return error


@pytest.mark.parametrize(
    ("error", "permanent", "text"),
    [
        (_http_error(400, "Bad Request"), True, "ACS 400: Bad Request"),
        (_http_error(429, "Too Many Requests"), False, "ACS 429: Too Many Requests"),
        (_http_error(503, "Service Unavailable"), False, "ACS 503: Service Unavailable"),
        (ClientAuthenticationError("no identity"), False, "ACS authentication failed"),
        (ServiceRequestError("connection refused"), False, "ACS endpoint unreachable: ServiceRequestError"),
    ],
)
def test_sdk_errors_become_delivery_errors(error, permanent, text):
    with pytest.raises(DeliveryError) as failed:
        _sender(FakeEmailClient(error)).send(_message(), timeout=5)
    assert failed.value.permanent is permanent and str(failed.value).startswith(text)


def test_the_real_client_retries_in_the_sdk_within_the_timeout():
    client = acs._sdk_client(ENDPOINT, 4.0)  # builds DefaultAzureCredential and the pipeline; no network yet
    assert client._config.retry_policy.total_retries == acs.SDK_RETRIES
    assert client._config.endpoint == ENDPOINT
