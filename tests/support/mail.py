"""Mail fixtures: one capture SMTP server (tools.mailcapture) on a free loopback port for the session.
Subprocesses (the local host, the admin CLI) reach it through SCIM_SMTP_PORT (the `capture` channel is
the default); in-process code gets an SMTP sender pointed at it. `mail_channel` swaps the in-process
channel for one test and puts the session's back afterwards."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import pytest

from shared import invitations
from shared.mail.message import Sender
from shared.mail.smtp import SmtpConfig, SmtpSender
from tools import mailcapture, processes
from tools.mailcapture import CaptureHandler


def capture_sender(handler: CaptureHandler) -> SmtpSender:
    return SmtpSender(SmtpConfig("127.0.0.1", handler.port, starttls=False))


@pytest.fixture(scope="session", autouse=True)
def mail_capture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CaptureHandler]:
    port = processes.free_port()
    controller, handler = mailcapture.start(port, directory=tmp_path_factory.mktemp("mail"))
    os.environ["SCIM_SMTP_PORT"] = str(port)
    os.environ.pop("SCIM_MAIL_CHANNEL", None)
    invitations.set_sender(capture_sender(handler))
    yield handler
    controller.stop()


@pytest.fixture
def mail_channel(mail_capture: CaptureHandler) -> Iterator[Callable[[Sender], None]]:
    """Call with a Sender to use it in this test's process."""
    yield invitations.set_sender
    invitations.set_sender(capture_sender(mail_capture))  # type: ignore[attr-defined]


def mails_to(handler: CaptureHandler, address: str) -> list[mailcapture.Captured]:
    return [m for m in handler.messages if address in m.rcpt_tos]
