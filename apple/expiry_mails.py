"""Mails to a tenant's admins before its push certificate or Apps and Books token expires."""

from django.core.mail import send_mail
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone

from users.models import Account, Role

from . import expiry
from .models import PushCertificate, VppToken


def admin_addresses(tenant) -> list[str]:
    accounts = (
        Account.objects.filter(is_active=True)
        .exclude(email="")
        .filter(
            Q(role=Role.TENANT_ADMIN, tenant=tenant) | Q(role=Role.RESELLER, managed_tenants=tenant)
        )
    )
    return sorted(set(accounts.values_list("email", flat=True)))


def _warn(row, *, kind: str, not_after, now) -> bool:
    threshold = expiry.due_warning(not_after, row.warnings_sent, now)
    if threshold is None:
        return False
    recipients = admin_addresses(row.tenant)
    if recipients:
        context = {
            "kind": kind,
            "tenant": row.tenant,
            "days": expiry.days_left(not_after, now),
            "not_after": not_after,
            "row": row,
        }
        subject = render_to_string("apple/mail/expiry_subject.txt", context).strip()
        send_mail(subject, render_to_string("apple/mail/expiry.txt", context), None, recipients)
    # Recorded even without recipients: a later admin gets the next threshold, not a backlog.
    type(row).objects.filter(pk=row.pk).update(
        warnings_sent=expiry.mark_sent(threshold, row.warnings_sent)
    )
    return True


def warn_push_certificates(now=None) -> int:
    now = now or timezone.now()
    sent = 0
    for row in (
        PushCertificate.objects.exclude(certificate_pem="")
        .filter(is_demo=False, not_after__gt=now)
        .select_related("tenant")
    ):
        sent += _warn(row, kind="push", not_after=row.not_after, now=now)
    return sent


def warn_vpp_tokens(now=None) -> int:
    now = now or timezone.now()
    sent = 0
    for row in VppToken.objects.filter(expires_at__gt=now).select_related("tenant"):
        sent += _warn(row, kind="vpp", not_after=row.expires_at, now=now)
    return sent
