"""SMTP channel (any provider, and the local capture server): STARTTLS or implicit TLS (port 465) with
login; plain SMTP without TLS is allowed only to a loopback host (the capture server), because the
login and the message would otherwise cross the network in clear."""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate

from shared.mail.message import DeliveryError, MailConfigError, Message
from shared.net import is_loopback

IMPLICIT_TLS_PORT = 465


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    username: str | None = None
    password: str | None = None  # from a Key Vault reference app setting in Azure, never from code
    starttls: bool = True

    @property
    def implicit_tls(self) -> bool:
        return self.port == IMPLICIT_TLS_PORT


def check(config: SmtpConfig) -> SmtpConfig:
    if not config.host:
        raise MailConfigError("SCIM_SMTP_HOST is not set.")
    if not 0 < config.port < 65536:
        raise MailConfigError("SCIM_SMTP_PORT must be a TCP port.")
    if not (config.starttls or config.implicit_tls) and not is_loopback(config.host):
        raise MailConfigError(
            "Plain SMTP without TLS is allowed only to a loopback host; set SCIM_SMTP_STARTTLS=true or use port 465."
        )
    if bool(config.username) != bool(config.password):
        raise MailConfigError("Set both SCIM_SMTP_USERNAME and SCIM_SMTP_PASSWORD, or neither.")
    return config


def to_email(message: Message) -> EmailMessage:
    """A multipart/alternative message (text, then HTML); the invitation id is its Message-ID, so a
    resend after a crash carries the same id and a receiving system can recognise the duplicate."""
    email = EmailMessage()
    email["From"] = message.sender
    email["To"] = message.to
    email["Subject"] = message.subject
    email["Date"] = formatdate(usegmt=True)
    domain = message.sender.rpartition("@")[2].strip("> ") or "localhost"
    email["Message-ID"] = f"<{message.message_id}@{domain}>"
    email.set_content(message.text)
    email.add_alternative(message.html, subtype="html")
    return email


class SmtpSender:
    def __init__(self, config: SmtpConfig, context: ssl.SSLContext | None = None):
        self.config = check(config)
        self._context = context or ssl.create_default_context()

    def _connect(self, timeout: float) -> smtplib.SMTP:
        config = self.config
        if config.implicit_tls:
            return smtplib.SMTP_SSL(config.host, config.port, timeout=timeout, context=self._context)
        smtp = smtplib.SMTP(config.host, config.port, timeout=timeout)
        if config.starttls:
            smtp.starttls(context=self._context)
        return smtp

    def send(self, message: Message, timeout: float) -> None:
        """timeout bounds each network operation (connect, each command)."""
        email = to_email(message)
        try:
            with self._connect(timeout) as smtp:
                if self.config.username:
                    smtp.login(self.config.username, self.config.password or "")
                smtp.send_message(email)
        except smtplib.SMTPRecipientsRefused as exc:
            code = max((c for c, _ in exc.recipients.values()), default=550)
            raise DeliveryError(f"SMTP {code}: recipient refused", permanent=code >= 500) from None
        except smtplib.SMTPResponseException as exc:
            reason = (
                exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
            )
            reason = reason.replace(message.to, "<recipient>")[:200]
            raise DeliveryError(f"SMTP {exc.smtp_code}: {reason}", permanent=exc.smtp_code >= 500) from None
        except ssl.SSLError as exc:
            raise DeliveryError(f"TLS failed: {exc.reason or type(exc).__name__}") from None
        except (OSError, smtplib.SMTPException) as exc:
            # smtplib reports a read that timed out as SMTPServerDisconnected("... timed out").
            if isinstance(exc, TimeoutError) or "timed out" in str(exc):
                raise DeliveryError(f"SMTP server {self.config.host}:{self.config.port} timed out") from None
            where = f"{self.config.host}:{self.config.port}"
            raise DeliveryError(f"SMTP server {where} unreachable: {type(exc).__name__}") from None
