"""Mails of the users app: the link with which a managed user sets the enrollment password."""

from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation

from .enrollment_password import build_set_password_url
from .models import ManagedUser


def send_password_link(user: ManagedUser) -> None:
    context = {"user": user, "tenant": user.tenant, "url": build_set_password_url(user)}
    with translation.override(user.language or "en"):
        subject = render_to_string("users/mail/password_link_subject.txt", context).strip()
        text = render_to_string("users/mail/password_link.txt", context)
        html = render_to_string("users/mail/password_link.html", context)
    message = EmailMultiAlternatives(subject, text, to=[user.email])
    message.attach_alternative(html, "text/html")
    message.send()
