"""Apps and Books tokens of tenants: upload (validate with Apple, claim the location) and the
check the beat task runs. Purchased assets: ``assets.py``; Apple's asynchronous jobs:
``events.py``; notifications Apple posts: ``notifications.py``.

One MDM should manage a location. If ``client/config`` names another MDM in ``mdmInfo``, the
upload stops and the admin must confirm the takeover; a later check that finds another MDM
marks the token *claimed* instead of fighting over it.
"""

import hashlib
import secrets
import uuid
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from ..models import VppToken
from . import token_file
from .client import VppClient, VppError, VppTokenError

PRODUCT_NAME = "MDM Portal"


class VppUploadError(ValueError):
    pass


class ClaimedByOtherMdm(VppUploadError):
    def __init__(self, name: str):
        super().__init__(
            _(
                "This location is managed by another MDM (%(name)s). Taking it over stops that "
                "MDM from assigning licences; confirm to continue."
            )
            % {"name": name or _("unnamed")}
        )
        self.name = name


def notification_url(mdm_id) -> str:
    return settings.PORTAL_BASE_URL + reverse("apple-vpp-notifications", args=[mdm_id])


def client_for(text: str, *, interactive: bool = False) -> VppClient:
    # An admin waiting on an upload gets an answer even when Apple hangs: two calls of three
    # 10 s tries with pauses of at most 10 s stay within the web workers' 120 s timeout.
    # Tasks may wait for Apple.
    if interactive:
        return VppClient(text, max_retries=2, max_wait=10, timeout=10.0)
    return VppClient(text)


def _mdm_metadata() -> str:
    return urlsplit(settings.PORTAL_BASE_URL).hostname or PRODUCT_NAME


def _apply_config(row: VppToken, config: dict) -> None:
    row.location_name = str(config.get("locationName", ""))[:200]
    row.country = str(config.get("countryISO2ACode", ""))[:2]
    row.location_uid = str(config.get("uId", ""))[:64]


def upload(tenant, data: bytes, *, confirm_takeover: bool = False) -> VppToken:
    """Validate a .vpptoken with Apple, claim its location for this tenant, store it encrypted.
    Any error leaves the stored token untouched."""
    parsed = token_file.parse(data)
    if parsed.expires_at <= timezone.now():
        raise VppUploadError(
            _("This token expired on %(date)s. Download a new one in Apple Business Manager.")
            % {"date": parsed.expires_at.date()}
        )
    if VppToken.objects.filter(token_sha256=parsed.sha256).exclude(tenant=tenant).exists():
        raise VppUploadError(_("This token is already used by another tenant of this portal."))
    current = VppToken.objects.filter(tenant=tenant).first()
    mdm_id = current.mdm_id if current else uuid.uuid4()
    notification_token = secrets.token_urlsafe(32)
    with client_for(parsed.text, interactive=True) as client:
        try:
            config = client.client_config()
            other = config.get("mdmInfo") or {}
            if other.get("id") and other.get("id") != str(mdm_id) and not confirm_takeover:
                raise ClaimedByOtherMdm(other.get("name", ""))
            config = client.claim(
                str(mdm_id),
                PRODUCT_NAME,
                notification_url(mdm_id),
                notification_token,
                metadata=_mdm_metadata(),
            )
        except VppTokenError as exc:
            raise VppUploadError(
                _("Apple refused the token (%(status)s): %(error)s")
                % {"status": exc.token_status, "error": exc}
            ) from exc
        except VppError as exc:
            raise VppUploadError(
                _("Apple's Apps and Books service could not be reached: %(error)s") % {"error": exc}
            ) from exc
    with transaction.atomic():
        row = VppToken.objects.select_for_update().filter(tenant=tenant).first() or VppToken(
            tenant=tenant, mdm_id=mdm_id
        )
        row.token = parsed.text
        row.token_sha256 = parsed.sha256
        row.org_name = parsed.org_name[:200]
        row.expires_at = parsed.expires_at
        row.status = VppToken.Status.VALID
        row.other_mdm_name = ""
        row.notification_token_hash = hashlib.sha256(notification_token.encode()).hexdigest()
        row.last_error = ""
        row.warnings_sent = []
        _apply_config(row, config)
        row.save()
    return row


def _mark(row: VppToken, status: str, error: str = "", other: str = "") -> None:
    VppToken.objects.filter(pk=row.pk).update(
        status=status, last_error=error[:300], other_mdm_name=other[:200], updated_at=timezone.now()
    )


def check(row: VppToken) -> str:
    """Re-read the location's config: expired, revoked, replaced or claimed by another MDM?"""
    if row.expires_at <= timezone.now():
        _mark(row, VppToken.Status.EXPIRED)
        return VppToken.Status.EXPIRED
    try:
        with client_for(row.token) as client:
            config = client.client_config()
    except VppTokenError as exc:
        status = {"expired": VppToken.Status.EXPIRED, "revoked": VppToken.Status.REVOKED}.get(
            exc.token_status, VppToken.Status.INVALID
        )
        _mark(row, status, str(exc))
        return status
    except VppError as exc:
        VppToken.objects.filter(pk=row.pk).update(last_error=str(exc)[:300])
        return row.status
    other = config.get("mdmInfo") or {}
    if other.get("id") and other.get("id") != str(row.mdm_id):
        _mark(row, VppToken.Status.CLAIMED, other=other.get("name", ""))
        return VppToken.Status.CLAIMED
    _mark(row, VppToken.Status.VALID)
    return VppToken.Status.VALID
