"""Terms of use: versions per tenant, acceptance per enrollment, and the links users accept with.

A device is labelled *Terms not accepted* while its enrollment has no acceptance of the version
in force; publishing a new version therefore labels every device again.
"""

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import BooleanField, Exists, ExpressionWrapper, Max, OuterRef, Q, Subquery
from django.urls import reverse

from users.compiled import CompiledObject

from . import signals
from .models import EnrollmentSession, TermsAcceptance, TermsOfUse

_SALT = "enrollment.terms"


_TENANT = 987654321  # the marker of the compiled lookup (any value but the query's constants)
_current = CompiledObject(
    lambda: TermsOfUse.objects.filter(tenant_id=_TENANT).order_by("-version"),
    tenant=(TermsOfUse._meta.get_field("tenant"), _TENANT),
)


def current_terms(tenant) -> TermsOfUse | None:
    """The version in force (the newest), or None; one compiled lookup (web login, mails)."""
    return _current.get(tenant=tenant.pk) if tenant is not None else None


@transaction.atomic
def publish(tenant, *, text_en: str, text_de: str = "", account=None) -> TermsOfUse:
    # Lock the tenant's versions so two admins publishing at once get distinct numbers.
    latest = (
        TermsOfUse.objects.select_for_update()
        .filter(tenant=tenant)
        .aggregate(v=Max("version"))["v"]
        or 0
    )
    published = TermsOfUse.objects.create(
        tenant=tenant, version=latest + 1, text_en=text_en, text_de=text_de, published_by=account
    )
    signals.terms_published.send(sender=TermsOfUse, tenant=tenant)
    return published


def accepted_expression():
    """For an EnrollmentSession queryset: whether the session accepted the tenant's newest
    terms (True when the tenant has none), so a lookup can bring it along in the same query."""
    newest = TermsOfUse.objects.filter(tenant_id=OuterRef("tenant_id")).order_by("-version")
    accepted = TermsAcceptance.objects.filter(
        session=OuterRef("pk"), terms=Subquery(newest.values("pk")[:1])
    )
    return ExpressionWrapper(
        ~Q(Exists(TermsOfUse.objects.filter(tenant_id=OuterRef("tenant_id"))))
        | Q(Exists(accepted)),
        output_field=BooleanField(),
    )


def is_accepted(session: EnrollmentSession | None, terms: TermsOfUse | None = None) -> bool:
    """True when nothing needs accepting or this enrollment accepted the version in force."""
    if session is None:
        return False
    if terms is not None:
        return TermsAcceptance.objects.filter(session=session, terms=terms).exists()
    # One query: the newest version, and whether this enrollment accepted it.
    accepted = (
        TermsOfUse.objects.filter(tenant_id=session.tenant_id)
        .order_by("-version")
        .annotate(
            accepted=Exists(TermsAcceptance.objects.filter(session=session, terms=OuterRef("pk")))
        )
        .values_list("accepted", flat=True)
        .first()
    )
    return True if accepted is None else accepted


def accept(session: EnrollmentSession, terms: TermsOfUse, *, remote_addr=None) -> TermsAcceptance:
    acceptance, created = TermsAcceptance.objects.get_or_create(
        session=session,
        terms=terms,
        defaults={"tenant": session.tenant, "user": session.user, "remote_addr": remote_addr},
    )
    if created and terms == current_terms(session.tenant):
        signals.terms_accepted.send(sender=EnrollmentSession, session=session)
    return acceptance


def acceptance_url(session: EnrollmentSession) -> str:
    token = signing.dumps(str(session.public_id), salt=_SALT)
    return settings.PORTAL_BASE_URL + reverse("enduser-enrollment:terms", args=[token])


def session_for_link(token: str) -> EnrollmentSession | None:
    try:
        public_id = signing.loads(token, salt=_SALT)
    except signing.BadSignature:
        return None
    return (
        EnrollmentSession.objects.select_related("tenant", "user")
        .filter(public_id=public_id)
        .first()
    )
