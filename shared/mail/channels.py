"""The channel the settings choose. A configuration the channel cannot use becomes a sender that fails
every attempt with the reason, so a mistake shows as the invitations' last error (and is fixed, then
retried) instead of taking the whole app down at start."""

from __future__ import annotations

from shared.config import MAIL_CHANNELS, SCIM_ACS_ENDPOINT, SCIM_MAIL_CHANNEL, MailSettings
from shared.mail.acs import AcsSender
from shared.mail.message import MailConfigError, Message, Sender
from shared.mail.smtp import SmtpConfig, SmtpSender


class Misconfigured:
    def __init__(self, error: MailConfigError):
        self.error = error

    def send(self, message: Message, timeout: float) -> None:
        raise self.error


def build(mail: MailSettings) -> Sender:
    """Raises MailConfigError for settings no channel can use."""
    if mail.channel not in MAIL_CHANNELS:
        raise MailConfigError(f"{SCIM_MAIL_CHANNEL} must be one of {', '.join(MAIL_CHANNELS)}.")
    if mail.channel == "acs":
        if not (mail.acs_endpoint or "").startswith("https://"):
            raise MailConfigError(f"{SCIM_ACS_ENDPOINT} must be the https:// endpoint of the Communication Service.")
        return AcsSender(mail.acs_endpoint or "")
    return SmtpSender(
        SmtpConfig(
            host=mail.smtp_host,
            port=mail.smtp_port,
            username=mail.smtp_username,
            password=mail.smtp_password,
            starttls=mail.smtp_starttls,
        )
    )


def from_settings(mail: MailSettings) -> Sender:
    try:
        return build(mail)
    except MailConfigError as exc:
        return Misconfigured(exc)
