"""Import and sync of managed users from Microsoft Entra ID.

Users are keyed by their Entra object id (``external_id``), never by UPN or mail, which can
change. The managed Apple ID comes from ``userPrincipalName`` or ``mail`` as the tenant chose;
the invitation e-mail from ``mail`` (else ``otherMails[0]``, else the UPN). A disabled or
removed Entra user is deactivated here, not deleted, so devices and history stay.

Scope *all users* syncs with ``users/delta`` and the stored delta link; when Graph no longer
knows the link, a full import runs and starts a new one. Scope *groups* reads the members of
the chosen groups on every sync (membership changes are not in the users delta).
"""

import logging
import re

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from users.models import ManagedUser
from users.signals import DETAIL_FIELDS, managed_users_deactivated, send_details_changed

from .graph import DeltaExpired, GraphClient, GraphError
from .models import EntraConnection

log = logging.getLogger(__name__)
_UNSAFE = re.compile(r"[^A-Za-z0-9._]+")


def client_for(connection: EntraConnection, **options) -> GraphClient:
    return GraphClient(
        connection.directory_id, connection.client_id, connection.client_secret, **options
    )


def test_connection(connection: EntraConnection) -> str:
    """Sign in and read one user; returns a short description or raises GraphError.

    No retries and a short timeout: a person waits for the answer.
    """
    with client_for(connection, max_retries=0, timeout=10.0) as client:
        page = client.get("/v1.0/users?$select=id&$top=1")
    return f"{len(page.get('value', []))} user(s) readable"


def start(connection: EntraConnection, state: str) -> bool:
    """Mark a test or import as running; False when one runs already."""
    if connection.is_running:
        return False
    EntraConnection.objects.filter(pk=connection.pk).update(
        run_state=state, run_started_at=timezone.now(), run_progress=0
    )
    return True


def run_test(connection: EntraConnection) -> bool:
    """The task behind "Test connection": records the outcome on the connection."""
    try:
        test_connection(connection)
    except GraphError as exc:
        log.info("Entra connection test of %s failed: %s", connection.tenant_id, exc)
        ok, error = False, exc.human
    else:
        ok, error = True, ""
    EntraConnection.objects.filter(pk=connection.pk).update(
        tested_at=timezone.now(),
        test_ok=ok,
        last_error=error,
        run_state=EntraConnection.RunState.IDLE,
    )
    return ok


def _count_progress(connection: EntraConnection):
    def on_page(count: int) -> None:
        EntraConnection.objects.filter(pk=connection.pk).update(
            run_progress=F("run_progress") + count
        )

    return on_page


def _username_base(entra_user: dict) -> str:
    upn = entra_user.get("userPrincipalName") or entra_user.get("mail") or entra_user["id"]
    base = _UNSAFE.sub("_", upn.split("@")[0]).strip("._") or "user"
    return base[:56] if base[0].isalnum() else f"u{base[:55]}"


def _unique_username(tenant, base: str, taken_by: int | None = None) -> str:
    candidate, n = base, 1
    while (
        ManagedUser.objects.filter(tenant=tenant, username__iexact=candidate)
        .exclude(pk=taken_by)
        .exists()
    ):
        n += 1
        candidate = f"{base}{n}"
    return candidate


def _values(connection: EntraConnection, entra_user: dict, existing: ManagedUser | None) -> dict:
    """Model values from a (possibly partial, in delta rounds) Graph user."""
    values = {}
    if "givenName" in entra_user:
        values["first_name"] = (entra_user.get("givenName") or "")[:150]
    if "surname" in entra_user:
        values["last_name"] = (entra_user.get("surname") or "")[:150]
    if {"mail", "otherMails", "userPrincipalName"} & set(entra_user):
        mail = entra_user.get("mail") or next(iter(entra_user.get("otherMails") or []), None)
        email = mail or entra_user.get("userPrincipalName") or (existing.email if existing else "")
        values["email"] = (email or "")[:254]
    source_key = "userPrincipalName" if connection.apple_id_source == "upn" else "mail"
    if source_key in entra_user:
        values["managed_apple_id"] = (entra_user.get(source_key) or "")[:254]
    if "accountEnabled" in entra_user:
        values["is_active"] = bool(entra_user.get("accountEnabled"))
    return values


def upsert(
    connection: EntraConnection, entra_user: dict, counts: dict, details: dict | None = None
) -> ManagedUser:
    """Create or update the user of ``entra_user``. The details it changes of an existing user
    go into ``details`` (user id -> field names) for one signal per sync; without it, the
    signal is sent at once."""
    tenant = connection.tenant
    user = ManagedUser.objects.filter(
        tenant=tenant, source=ManagedUser.Source.ENTRA, external_id=entra_user["id"]
    ).first()
    values = _values(connection, entra_user, user)
    if user is None:
        user = ManagedUser(
            tenant=tenant,
            source=ManagedUser.Source.ENTRA,
            external_id=entra_user["id"],
            username=_unique_username(tenant, _username_base(entra_user)),
            **values,
        )
        user.save()
        counts["created"] += 1
        return user
    changed = {k: v for k, v in values.items() if getattr(user, k) != v}
    if changed:
        for name, value in changed.items():
            setattr(user, name, value)
        user.save(update_fields=[*changed, "updated_at"])
        counts["updated"] += 1
        names = frozenset(changed) & frozenset(DETAIL_FIELDS)
        if details is None:
            send_details_changed(ManagedUser, {user.pk: names})
        elif names:
            details[user.pk] = names
    return user


def _deactivate(connection: EntraConnection, external_ids, counts: dict) -> None:
    users = ManagedUser.objects.filter(
        tenant=connection.tenant,
        source=ManagedUser.Source.ENTRA,
        external_id__in=external_ids,
        is_active=True,
    )
    ids = list(users.values_list("pk", flat=True))
    counts["deactivated"] += users.update(is_active=False, updated_at=timezone.now())
    if ids:
        managed_users_deactivated.send(sender=ManagedUser, user_ids=ids)


def _read(connection: EntraConnection, client: GraphClient) -> tuple[str, list[dict], str]:
    """(mode, users or changes, new delta link) — all Graph reads, before any write."""
    if connection.scope == EntraConnection.Scope.GROUPS:
        source = (u for group in connection.groups for u in client.group_members(group))
        unique = {u["id"]: u for u in source}  # a member of several groups counts once
        return "full", list(unique.values()), ""
    try:
        changes, link = client.delta(connection.delta_link or None)
        return ("delta" if connection.delta_link else "initial"), changes, link
    except DeltaExpired:
        changes, link = client.delta(None)
        return "full (delta link expired)", changes, link


def _apply_delta(
    connection: EntraConnection, changes: list[dict], counts: dict, details: dict
) -> None:
    removed = [c["id"] for c in changes if "@removed" in c]
    for change in changes:
        if "@removed" not in change:
            upsert(connection, change, counts, details)
    _deactivate(connection, removed, counts)


def sync(connection: EntraConnection, *, interactive: bool = False) -> dict:
    """One sync run; records the outcome on the connection and returns the counts.

    ``interactive``: a person started it and waits (Import now): one retry, a short timeout,
    so an unreachable Microsoft is reported within seconds; the hourly run retries with
    back-off.

    Graph is read first and the database written after, in one transaction, so no
    transaction stays open across HTTP calls and a failed read changes nothing.
    """
    try:
        options = {"max_retries": 1, "timeout": 15.0} if interactive else {}
        with client_for(connection, on_page=_count_progress(connection), **options) as client:
            mode, users, link = _read(connection, client)
    except GraphError as exc:
        log.info("Entra import of %s failed: %s", connection.tenant_id, exc)
        EntraConnection.objects.filter(pk=connection.pk).update(
            last_error=exc.human,
            last_sync_at=timezone.now(),
            run_state=EntraConnection.RunState.IDLE,
        )
        raise
    counts = {"created": 0, "updated": 0, "deactivated": 0, "mode": mode}
    details: dict = {}  # user id -> changed DETAIL_FIELDS, one signal for the whole run
    with transaction.atomic():
        if mode == "delta":
            _apply_delta(connection, users, counts, details)
        else:
            _full_from(connection, users, counts, details)
        send_details_changed(ManagedUser, details)
        connection.delta_link = link
        connection.last_sync_at = timezone.now()
        connection.last_result, connection.last_error = counts, ""
        connection.run_state = EntraConnection.RunState.IDLE
        connection.save(
            update_fields=["delta_link", "last_sync_at", "last_result", "last_error", "run_state"]
        )
    return counts


def _full_from(connection: EntraConnection, users: list[dict], counts: dict, details: dict) -> None:
    """A full user list (initial delta round or group members): upsert all, deactivate the
    rest."""
    present = [u for u in users if "@removed" not in u]
    for entra_user in present:
        upsert(connection, entra_user, counts, details)
    seen = {u["id"] for u in present}
    gone = (
        ManagedUser.objects.filter(tenant=connection.tenant, source=ManagedUser.Source.ENTRA)
        .exclude(external_id__in=seen)
        .values_list("external_id", flat=True)
    )
    _deactivate(connection, list(gone), counts)
