"""Azure Communication Services Email channel, authenticated with the app's managed identity
(DefaultAzureCredential; no connection string, no key). The SDK is imported here only, and only when
the first client is built, so other channels and cold starts do not pay for it.

"Accepted" means the service queued the message (the send call's 202): the outbox does not wait for the
long-running delivery operation. The invitation id is the ACS Operation-Id, the channel's idempotency key.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from shared.mail.message import DeliveryError, Message

SDK_RETRIES = 2  # the SDK's own retry policy (exponential backoff); our outbox retries beyond that

ClientFactory = Callable[[str, float], Any]  # (endpoint, timeout) -> an EmailClient-like object


def _sdk_client(endpoint: str, timeout: float) -> Any:
    from azure.communication.email import EmailClient
    from azure.identity import DefaultAzureCredential

    return EmailClient(
        endpoint,
        DefaultAzureCredential(),
        retry_total=SDK_RETRIES,
        connection_timeout=timeout,
        read_timeout=timeout,
    )


def request(message: Message) -> dict[str, Any]:
    """The JSON body of the send call."""
    return {
        "senderAddress": message.sender,
        "recipients": {"to": [{"address": message.to}]},
        "content": {"subject": message.subject, "plainText": message.text, "html": message.html},
        "userEngagementTrackingDisabled": True,  # no tracking pixel or rewritten links in an invitation
    }


def operation_id(message: Message) -> str:
    """ACS wants a GUID; invitation ids are UUIDs in hex."""
    return str(uuid.UUID(message.message_id))


class AcsSender:
    def __init__(self, endpoint: str, client_factory: ClientFactory = _sdk_client):
        self.endpoint = endpoint
        self._factory = client_factory
        self._client: Any = None

    def send(self, message: Message, timeout: float) -> None:
        from azure.core.exceptions import AzureError, ClientAuthenticationError, HttpResponseError

        try:
            if self._client is None:
                self._client = self._factory(self.endpoint, timeout)
            self._client.begin_send(request(message), operation_id=operation_id(message), polling=False)
        except ClientAuthenticationError as exc:
            raise DeliveryError(f"ACS authentication failed (managed identity): {type(exc).__name__}") from None
        except HttpResponseError as exc:
            status = exc.status_code or 0
            code = getattr(exc.error, "code", None) or exc.reason or ""
            # 408/429 and 5xx are the service's momentary state; other 4xx refuse the message itself.
            permanent = 400 <= status < 500 and status not in (408, 429)
            raise DeliveryError(f"ACS {status}: {code}"[:200], permanent=permanent) from None
        except AzureError as exc:  # connection refused, timeouts, the SDK's retries exhausted
            raise DeliveryError(f"ACS endpoint unreachable: {type(exc).__name__}") from None
