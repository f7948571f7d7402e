"""An invitation goes through Django's SMTP backend to a real SMTP server on loopback."""

import email
import socket

import pytest
from aiosmtpd.controller import Controller


class Collector:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append((envelope.rcpt_tos, envelope.content))
        return "250 OK"


@pytest.fixture
def smtp_server(settings):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    collector = Collector()
    controller = Controller(collector, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = False
    yield collector
    controller.stop()


def test_invitation_mail_over_smtp(
    smtp_server, admin_user, managed_user, django_capture_on_commit_callbacks
):
    from enrollment import invitations, tasks
    from enrollment.models import Invitation

    managed_user.language = "de"
    managed_user.save()
    with django_capture_on_commit_callbacks(execute=True):
        invitation = invitations.invite(managed_user.tenant, managed_user, account=admin_user)
        tasks.mail_invitation_after_commit(invitation)
    ((recipients, raw),) = smtp_server.messages
    assert recipients == ["alice@contoso.example"]
    message = email.message_from_bytes(raw)
    assert "Contoso" in str(
        email.header.make_header(email.header.decode_header(message["Subject"]))
    )
    parts = {
        p.get_content_type(): p.get_payload(decode=True).decode()
        for p in message.walk()
        if not p.is_multipart()
    }
    assert set(parts) == {"text/plain", "text/html"}
    assert "alice-123456@localhost" in parts["text/plain"]
    assert "Einstellungen" in parts["text/plain"]  # German, the user's language
    assert "<strong" in parts["text/html"]
    assert Invitation.objects.get().last_sent_at is not None
