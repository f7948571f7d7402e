"""Mails to managed users (HTML + text, in the user's language)."""

from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation

from users.enrollment_password import build_set_password_url
from users.models import Tenant
from users.signals import first_answer

from . import signals
from .addresses import local_address
from .models import EnrollmentSession, Invitation


def _send(user, subject_template: str, template: str, context: dict) -> None:
    with translation.override(user.language or "en"):
        subject = render_to_string(subject_template, context).strip()
        text = render_to_string(f"{template}.txt", context)
        html = render_to_string(f"{template}.html", context)
    message = EmailMultiAlternatives(subject, text, to=[user.email])
    message.attach_alternative(html, "text/html")
    message.send()


def _self_service_url(tenant) -> str:
    """The self-service apps page, when an app downstream offers one (mdm)."""
    return first_answer(signals.self_service_url, "", sender=Tenant, tenant=tenant)


def send_invitation(invitation: Invitation) -> None:
    from django.conf import settings
    from django.urls import reverse

    user = invitation.user
    context = {
        "user": user,
        "tenant": invitation.tenant,
        "address": local_address(user),
        "invitation_url": settings.PORTAL_BASE_URL
        + reverse("enduser-enrollment:invitation", args=[invitation.link_id]),
        "set_password_url": None if user.has_enrollment_password else build_set_password_url(user),
        "self_service_url": _self_service_url(invitation.tenant),
    }
    _send(user, "enrollment/mail/invitation_subject.txt", "enrollment/mail/invitation", context)


def send_terms(session: EnrollmentSession, terms) -> None:
    from .terms import acceptance_url

    context = {
        "user": session.user,
        "tenant": session.tenant,
        "terms": terms,
        "terms_url": acceptance_url(session),
        "self_service_url": _self_service_url(session.tenant),
    }
    _send(session.user, "enrollment/mail/terms_subject.txt", "enrollment/mail/terms", context)
