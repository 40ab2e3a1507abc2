"""The SMTP channel against a real SMTP server on loopback (aiosmtpd via tools.mailcapture): plain to
loopback, STARTTLS with a certificate made in the test and a login, and the failures the outbox acts on
(refused TLS, wrong password, 4xx and 5xx replies, nobody listening, a server that never answers)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from shared.config import MailSettings
from shared.mail import channels
from shared.mail.message import DeliveryError, MailConfigError, Message
from shared.mail.smtp import SmtpConfig, SmtpSender
from tests.mail.tls import self_signed
from tools import mailcapture, processes

INVITATION_ID = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"


def _message(to: str = "ada@example.com") -> Message:
    return Message(
        sender="invitations@example.com",
        to=to,
        subject="Contoso invited you",
        text="Hello Ada, open https://vault.example.com/join/x",
        html="<p>Hello Ada, <a href='https://vault.example.com/join/x'>join</a></p>",
        message_id=INVITATION_ID,
    )


@pytest.fixture
def server(tmp_path) -> Iterator[mailcapture.CaptureHandler]:
    controller, handler = mailcapture.start(processes.free_port(), directory=tmp_path / "mail")
    yield handler
    controller.stop()


@pytest.fixture
def tls(tmp_path):
    return self_signed(tmp_path)


def test_plain_smtp_to_loopback_delivers_both_parts_with_the_invitation_id_as_message_id(server):
    SmtpSender(SmtpConfig("127.0.0.1", server.port, starttls=False)).send(_message(), timeout=10)
    [mail] = server.messages
    assert mail.rcpt_tos == ["ada@example.com"] and mail.mail_from == "invitations@example.com"
    assert mail.message_id == f"<{INVITATION_ID}@example.com>"
    assert "open https://vault.example.com/join/x" in mail.part("plain")
    assert "<a href='https://vault.example.com/join/x'>" in mail.part("html")
    index = (server.directory / "index.jsonl").read_text()
    assert "Contoso invited you" in index and len(list(server.directory.glob("*.eml"))) == 1


def test_starttls_with_login_delivers(tmp_path, tls):
    server_context, client_context = tls
    controller, handler = mailcapture.start(
        processes.free_port(), starttls=server_context, login=("mailer", "s3cret-from-key-vault")
    )
    try:
        config = SmtpConfig("127.0.0.1", handler.port, username="mailer", password="s3cret-from-key-vault")
        SmtpSender(config, context=client_context).send(_message(), timeout=10)
        assert len(handler.messages) == 1

        wrong = SmtpConfig("127.0.0.1", handler.port, username="mailer", password="wrong")
        with pytest.raises(DeliveryError) as refused:
            SmtpSender(wrong, context=client_context).send(_message(), timeout=10)
        assert refused.value.permanent and str(refused.value).startswith("SMTP 535")
        assert "wrong" not in str(refused.value)  # never a password in the recorded error
    finally:
        controller.stop()


def test_an_untrusted_certificate_is_a_tls_failure(tls):
    server_context, _ = tls
    controller, handler = mailcapture.start(processes.free_port(), starttls=server_context)
    try:
        with pytest.raises(DeliveryError) as failed:
            SmtpSender(SmtpConfig("127.0.0.1", handler.port)).send(_message(), timeout=10)  # the system's CAs
        assert str(failed.value).startswith("TLS failed") and not failed.value.permanent
        assert handler.messages == []
    finally:
        controller.stop()


@pytest.mark.parametrize(
    ("reply", "permanent"),
    [("451 4.3.0 Mail server temporarily rejected message", False), ("550 5.7.1 ada@example.com rejected", True)],
)
def test_4xx_is_retried_and_5xx_is_permanent(server, reply, permanent):
    server.reply = reply
    with pytest.raises(DeliveryError) as refused:
        SmtpSender(SmtpConfig("127.0.0.1", server.port, starttls=False)).send(_message(), timeout=10)
    assert refused.value.permanent is permanent
    assert str(refused.value).startswith(f"SMTP {reply[:3]}")
    assert "ada@example.com" not in str(refused.value)  # the server's echo of the recipient is masked


def test_nobody_listening_is_a_retryable_failure():
    port = processes.free_port()
    with pytest.raises(DeliveryError) as down:
        SmtpSender(SmtpConfig("127.0.0.1", port, starttls=False)).send(_message(), timeout=10)
    assert not down.value.permanent and "unreachable" in str(down.value)


def test_a_server_that_never_answers_times_out():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    accepted: list[socket.socket] = []
    thread = threading.Thread(target=lambda: accepted.append(listener.accept()[0]), daemon=True)
    thread.start()
    try:
        with pytest.raises(DeliveryError) as slow:
            SmtpSender(SmtpConfig("127.0.0.1", listener.getsockname()[1], starttls=False)).send(_message(), timeout=0.5)
        assert "timed out" in str(slow.value) and not slow.value.permanent
    finally:
        for conn in accepted:
            conn.close()
        listener.close()


@pytest.mark.parametrize("host", ["smtp.example.com", "10.0.0.5"])
def test_plain_smtp_is_refused_beyond_loopback(host):
    with pytest.raises(MailConfigError, match="only to a loopback host"):
        SmtpSender(SmtpConfig(host, 25, starttls=False))
    settings = MailSettings.from_env(
        {"SCIM_MAIL_CHANNEL": "smtp", "SCIM_SMTP_HOST": host, "SCIM_SMTP_STARTTLS": "false"}
    )
    misconfigured = channels.from_settings(settings)
    with pytest.raises(MailConfigError, match="only to a loopback host"):  # each attempt fails with the reason
        misconfigured.send(_message(), timeout=1)


def test_settings_choose_the_channel():
    capture = channels.build(MailSettings.from_env({}))
    assert isinstance(capture, SmtpSender) and capture.config == SmtpConfig("127.0.0.1", 2525, starttls=False)
    smtp = channels.build(
        MailSettings.from_env(
            {
                "SCIM_MAIL_CHANNEL": "smtp",
                "SCIM_SMTP_HOST": "smtp.example.com",
                "SCIM_SMTP_USERNAME": "u",
                "SCIM_SMTP_PASSWORD": "p",
            }
        )
    )
    assert isinstance(smtp, SmtpSender) and smtp.config.port == 587 and smtp.config.starttls
    assert SmtpConfig("smtp.example.com", 465, starttls=False).implicit_tls  # allowed: TLS from the first byte
    SmtpSender(SmtpConfig("smtp.example.com", 465, username="u", password="p", starttls=False))
    with pytest.raises(MailConfigError, match="SCIM_MAIL_CHANNEL"):
        channels.build(MailSettings.from_env({"SCIM_MAIL_CHANNEL": "pigeon"}))
    with pytest.raises(MailConfigError, match="SCIM_ACS_ENDPOINT"):
        channels.build(MailSettings.from_env({"SCIM_MAIL_CHANNEL": "acs"}))
    with pytest.raises(ValueError, match="SCIM_SMTP_STARTTLS"):
        MailSettings.from_env({"SCIM_SMTP_STARTTLS": "yes"})
