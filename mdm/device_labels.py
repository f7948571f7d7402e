"""What a device tile says about a device: its labels, computed in the query (no N+1)."""

from django.db.models import Exists, OuterRef, Value
from django.utils.translation import gettext_lazy as _

from enrollment.models import TermsAcceptance
from enrollment.terms import current_terms

from .models import Device


def with_terms_state(queryset, tenant):
    terms = current_terms(tenant)
    if terms is None:
        return queryset.annotate(terms_accepted=Value(True))
    return queryset.annotate(
        terms_accepted=Exists(
            TermsAcceptance.objects.filter(session=OuterRef("session"), terms=terms)
        )
    )


def labels(device: Device) -> list[tuple[str, str]]:
    """(css class, text) pairs; the device must come from ``with_terms_state``."""
    result = []
    if device.status == Device.Status.UNENROLLED:
        result.append(("bad", _("Unenrolled")))
        return result
    if device.status == Device.Status.AUTHENTICATED:
        result.append(("warn", _("Enrollment not finished")))
    if not device.terms_accepted:
        result.append(("warn", _("Terms not accepted")))
    if device.status == Device.Status.ENROLLED and not device.has_push_token:
        result.append(("bad", _("No push token")))
    return result
