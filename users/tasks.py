import smtplib

from celery import shared_task

from . import mails
from .models import ManagedUser


@shared_task(
    autoretry_for=(smtplib.SMTPException, ConnectionError), retry_backoff=30, max_retries=5
)
def send_password_link(user_id: int) -> None:
    user = ManagedUser.objects.select_related("tenant").filter(pk=user_id, is_active=True).first()
    if user is not None and user.email:
        mails.send_password_link(user)
