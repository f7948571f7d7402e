"""Celery tasks of enrollment: mails. Idempotent and safe to retry. (What follows an
enrollment, ``lifecycle.finish_enrollment``, runs in mdm's task of the first TokenUpdate.)"""

import logging
import smtplib

from celery import shared_task
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from . import mails
from .models import Invitation

log = logging.getLogger("enrollment.tasks")


def mail_invitation_after_commit(invitation) -> None:
    """For the callers of ``invitations.invite``/``resend``: the mail once the row is stored."""
    invitation_id = invitation.pk
    transaction.on_commit(lambda: send_invitation_mail.delay(invitation_id))


@shared_task(
    autoretry_for=(smtplib.SMTPException, ConnectionError, TimeoutError),
    retry_backoff=30,
    max_retries=5,
)
def send_invitation_mail(invitation_id: int) -> None:
    invitation = (
        Invitation.objects.select_related("user", "tenant").filter(pk=invitation_id).first()
    )
    if invitation is None or not invitation.user.email:
        return
    try:
        mails.send_invitation(invitation)
    except Exception as exc:
        Invitation.objects.filter(pk=invitation_id).update(last_error=str(exc)[:300])
        raise
    Invitation.objects.filter(pk=invitation_id).update(
        send_count=F("send_count") + 1, last_sent_at=timezone.now(), last_error=""
    )
