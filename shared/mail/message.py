"""What a channel delivers and how it fails. A channel raises DeliveryError; `permanent` tells the outbox
not to retry (the provider refused the message itself, e.g. SMTP 5xx), anything else is retried."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Message:
    sender: str
    to: str
    subject: str
    text: str
    html: str
    message_id: str  # the invitation id: the idempotency key the channel carries (Message-ID, ACS operation id)


class DeliveryError(Exception):
    """The channel did not accept the message. The text is recorded as the invitation's last error, so it
    names the failure (code, reason) and never a password, token or message content."""

    def __init__(self, detail: str, *, permanent: bool = False):
        super().__init__(detail)
        self.permanent = permanent


class MailConfigError(DeliveryError):
    """The channel's settings are unusable (e.g. plain SMTP to a remote host); retried after a fix."""


class Sender(Protocol):
    """Delivers one message within timeout seconds or raises DeliveryError."""

    def send(self, message: Message, timeout: float) -> None: ...
