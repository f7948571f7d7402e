"""Admin pages of the mdm app: device tiles, device detail, device removal, apps."""

import json
from dataclasses import dataclass
from datetime import UTC, datetime

from django.contrib import messages
from django.core import signing
from django.core.cache import cache
from django.db import transaction
from django.db.models import BooleanField, F, Func, Q, Value
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import DeleteView, DetailView, ListView, TemplateView

from enrollment.models import Invitation
from users.tenancy import TenantAdminRequiredMixin, TenantMemberRequiredMixin, TenantObjectMixin

from . import device_labels, queue, removal, tasks
from .commands import REGISTRY, CommandError
from .models import Command, Device
from .timeline import timeline

# The device list pages by keyset over the model's ordering (newest activity first): the
# position is the sort key of a page's edge row, never an OFFSET, and the total is not counted
# beyond a cap. A page costs the same at 100,000 devices as at 1,000 (bench/device_list.py).
LIST_PAGE_SIZE = 60
_CURSOR_SALT = "mdm.device-list.cursor"
# What the ordering puts in place of a NULL last_seen_at (the literal in Device.Meta.ordering).
_NEVER_SEEN = datetime(1, 1, 1, tzinfo=UTC)
_EXACT_COUNT_UP_TO = 1000
_COUNT_CACHE_SECONDS = 300
# Search: a term matching at most this many users is given to the device query as a list of
# ids (an index lookup); a commoner term as a subquery (the ordered walk finds rows early).
_USER_IDS_INLINE = 100
# What the tiles, the list and labels() read (a deferred field would cost a query per row).
_TILE_FIELDS = (
    "id",
    "tenant_id",
    "user_id",
    "enrollment_id",
    "enrollment_mode",
    "status",
    "product_name",
    "model_name",
    "os_version",
    "terms_accepted",
    "push_token",
    "push_magic",
    "push_state",
    "enrolled_at",
    "last_seen_at",
    "created_at",
    "user__username",
    "user__first_name",
    "user__last_name",
)


class InvalidCursor(ValueError):
    pass


class _RowCompare(Func):
    """``(a, b, c) < (x, y, z)``: one index range (row values) on PostgreSQL and SQLite."""

    output_field = BooleanField()

    def __init__(self, lhs, op, rhs):
        assert op in ("<", ">") and len(lhs) == len(rhs)
        self.op = op
        super().__init__(*lhs, *(Value(v) for v in rhs))

    def as_sql(self, compiler, connection, **extra):
        parts, params = [], []
        for expression in self.get_source_expressions():
            sql, sql_params = compiler.compile(expression)
            parts.append(sql)
            params.extend(sql_params)
        half = len(parts) // 2
        return f"({', '.join(parts[:half])}) {self.op} ({', '.join(parts[half:])})", params


def _sort_expressions():
    """The ordering's three key expressions: (last seen or never, created, id)."""
    seen = Device._meta.ordering[0].expression
    return (seen, F("created_at"), F("id"))


def _row_key(device) -> tuple:
    return (device.last_seen_at or _NEVER_SEEN, device.created_at, device.pk)


def encode_cursor(kind: str, key: tuple | None = None) -> str:
    """An opaque, signed position: ``after``/``before`` a row's sort key, or ``last``."""
    payload = [kind]
    if key is not None:
        payload += [key[0].isoformat(), key[1].isoformat(), key[2]]
    return signing.Signer(salt=_CURSOR_SALT).sign_object(payload)


def decode_cursor(token: str) -> tuple[str, tuple | None]:
    try:
        payload = signing.Signer(salt=_CURSOR_SALT).unsign_object(token)
        kind = payload[0]
        if kind == "last" and len(payload) == 1:
            return kind, None
        if kind in ("after", "before") and len(payload) == 4:
            seen, created, pk = payload[1:]
            if isinstance(pk, int) and not isinstance(pk, bool):
                return kind, (datetime.fromisoformat(seen), datetime.fromisoformat(created), pk)
    except (signing.BadSignature, ValueError, TypeError, IndexError, KeyError):
        pass
    raise InvalidCursor("invalid cursor")


@dataclass
class DevicePage:
    devices: list
    next_cursor: str | None
    previous_cursor: str | None
    is_first: bool
    is_last: bool


def device_page(queryset, cursor: str | None, size: int) -> DevicePage:
    """One page in the model's ordering, at ``cursor`` (None: the first page). One query."""
    keys = _sort_expressions()
    newest_first = [keys[0].desc(), F("created_at").desc(), F("id").desc()]
    oldest_first = [keys[0].asc(), F("created_at").asc(), F("id").asc()]
    kind, key = decode_cursor(cursor) if cursor else ("first", None)
    if kind in ("first", "after"):
        if key is not None:
            queryset = queryset.filter(_RowCompare(keys, "<", key))
        rows = list(queryset.order_by(*newest_first)[: size + 1])
        more, rows = len(rows) > size, rows[:size]
        is_first, is_last = kind == "first", not more
    else:  # the tail read backwards: "last" or "before" a row
        if key is not None:
            queryset = queryset.filter(_RowCompare(keys, ">", key))
        rows = list(queryset.order_by(*oldest_first)[: size + 1])
        more, rows = len(rows) > size, rows[:size][::-1]
        is_first, is_last = not more, kind == "last"
    return DevicePage(
        devices=rows,
        next_cursor=None if is_last or not rows else encode_cursor("after", _row_key(rows[-1])),
        previous_cursor=(
            None if is_first or not rows else encode_cursor("before", _row_key(rows[0]))
        ),
        is_first=is_first,
        is_last=is_last,
    )


def search_devices(queryset, tenant, q: str):
    """Devices whose user's username or last name, product name or device name contain ``q``.

    The managed users (a tenth of the devices or fewer) are searched first, in their own table,
    stopping at a few matches: a rare term (a person) gives a short list of user ids, which the
    device query looks up by index (with trigram indexes on the device columns, PostgreSQL,
    migration 0003). A common term (it matches many users) goes in as a subquery: the device
    query walks the ordering index and finds its matches early. (A joined filter on the user's
    columns would be misestimated into a full hash join and sort.) The users' table itself has
    no trigram index yet: that scan is what a search still costs at size."""
    from users.models import ManagedUser

    users = ManagedUser.objects.for_tenant(tenant).filter(
        Q(username__icontains=q) | Q(last_name__icontains=q)
    )
    user_ids = list(users.order_by().values_list("id", flat=True)[: _USER_IDS_INLINE + 1])
    if len(user_ids) > _USER_IDS_INLINE:
        user_ids = users.order_by().values("id")
    return queryset.filter(
        Q(user_id__in=user_ids) | Q(product_name__icontains=q) | Q(device_name__icontains=q)
    )


def device_total(queryset, tenant) -> tuple[int, bool]:
    """(count, exact): exact up to a cap (one bounded query); beyond it the tenant's count,
    cached for a few minutes (counted again at most that often)."""
    capped = queryset.order_by()[: _EXACT_COUNT_UP_TO + 1].count()
    if capped <= _EXACT_COUNT_UP_TO:
        return capped, True
    cache_key = f"mdm:device-count:{tenant.pk}"
    total = cache.get(cache_key)
    if total is None:
        total = queryset.order_by().count()
        cache.set(cache_key, total, _COUNT_CACHE_SECONDS)
    return total, False


class DeviceListView(TenantMemberRequiredMixin, TenantObjectMixin, ListView):
    model = Device
    template_name = "mdm/device_list.html"
    context_object_name = "devices"

    def get_queryset(self):
        queryset = super().get_queryset().select_related("user").only(*_TILE_FIELDS)
        q = self.request.GET.get("q", "").strip()
        if q:
            queryset = search_devices(queryset, self.request.tenant, q)
        return queryset

    def get_context_data(self, **kwargs):
        q = self.request.GET.get("q", "").strip()
        cursor = self.request.GET.get("cursor") or None
        if self.request.GET.get("page") == "last":
            cursor = encode_cursor("last")
        try:
            page = device_page(self.object_list, cursor, LIST_PAGE_SIZE)
        except InvalidCursor:  # tampered or stale: start over
            page = device_page(self.object_list, None, LIST_PAGE_SIZE)
        for device in page.devices:
            device.labels = device_labels.labels(device)
        if not q:
            total, exact = device_total(self.object_list, self.request.tenant)
        elif page.is_first and page.is_last:  # a search's results on one page: no count
            total, exact = len(page.devices), True
        else:  # counting a search's matches costs as much as a full scan: no total
            total, exact = None, False
        context = super().get_context_data(object_list=page.devices, **kwargs)
        context["page"] = page
        context["total"] = total
        context["total_exact"] = exact
        context["view_mode"] = "list" if self.request.GET.get("view") == "list" else "tiles"
        context["invitation_kinds"] = Invitation.Kind.choices
        return context


class DeviceDetailView(TenantMemberRequiredMixin, TenantObjectMixin, DetailView):
    model = Device
    template_name = "mdm/device_detail.html"
    context_object_name = "device"

    def get_queryset(self):
        return super().get_queryset().select_related("user", "session")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        device = self.object
        context["labels"] = device_labels.labels(device)
        context["events"] = timeline(device)
        context["commands"] = device.commands.select_related("requested_by")[:50]
        context["pending"] = queue.pending_count(device)
        context["apps"] = device.apps.all()[:500]
        context["profiles"] = device.profiles.all()[:200]
        context["command_types"] = sorted(REGISTRY)
        return context


def _device(request, pk) -> Device:
    return get_object_or_404(Device.objects.for_tenant(request.tenant), pk=pk)


class DeviceRefreshView(TenantAdminRequiredMixin, View):
    """Refresh inventory: the inventory commands are queued and the device is pushed."""

    def post(self, request, pk):
        device = _device(request, pk)
        if not device.is_manageable:
            messages.error(request, _("The device is not enrolled."))
        else:
            with transaction.atomic():
                queue.request_inventory(device, origin=Command.Origin.ADMIN, account=request.user)
                tasks.push_after_commit([device.pk])
            messages.success(request, _("Inventory requested; the device reports when it wakes."))
        return redirect("mdm:device", pk=pk)


class DeviceCommandView(TenantAdminRequiredMixin, View):
    """Send one command by name, with its arguments as JSON (Apple's key names)."""

    def post(self, request, pk):
        device = _device(request, pk)
        try:
            raw = request.POST.get("arguments", "").strip() or "{}"
            try:
                arguments = json.loads(raw)
            except ValueError as exc:
                raise CommandError(_("The arguments are not valid JSON.")) from exc
            with transaction.atomic():
                command = queue.enqueue_request(
                    device,
                    request.POST.get("request_type", ""),
                    arguments,
                    origin=Command.Origin.ADMIN,
                    account=request.user,
                )
                tasks.push_after_commit([device.pk])
        except CommandError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("%(command)s queued.") % {"command": command.request_type})
        return redirect("mdm:device", pk=pk)


class DeviceRemoveView(TenantAdminRequiredMixin, TenantObjectMixin, DeleteView):
    model = Device
    template_name = "mdm/device_confirm_remove.html"

    def form_valid(self, form):
        with transaction.atomic():
            queued = removal.remove_management(self.object, account=self.request.user)
            if queued:
                tasks.push_after_commit([self.object.pk])
        if queued:
            messages.success(
                self.request,
                _("Removal queued: the device removes management when it next connects."),
            )
        else:
            messages.success(self.request, _("Device removed."))
        return redirect("mdm:devices")


class DeviceBulkView(TenantAdminRequiredMixin, View):
    """Bulk actions on the selected devices: refresh inventory, remove management."""

    def post(self, request):
        devices = list(
            Device.objects.for_tenant(request.tenant)
            .filter(pk__in=request.POST.getlist("selected"))
            .select_related("tenant")
        )
        action = request.POST.get("action")
        if not devices:
            messages.error(request, _("Select at least one device."))
        elif action == "refresh":
            with transaction.atomic():
                ids = [d.pk for d in devices if d.is_manageable]
                for device in devices:
                    if device.is_manageable:
                        queue.request_inventory(
                            device, origin=Command.Origin.ADMIN, account=request.user
                        )
                tasks.push_after_commit(ids)
            messages.success(
                request, _("Inventory requested for %(count)s devices.") % {"count": len(ids)}
            )
        elif action == "remove":
            with transaction.atomic():
                ids = [d.pk for d in devices if removal.remove_management(d, account=request.user)]
                tasks.push_after_commit(ids)
            messages.success(
                request, _("Removal queued for %(count)s devices.") % {"count": len(devices)}
            )
        else:
            messages.error(request, _("Unknown action."))
        return redirect(f"{reverse('mdm:devices')}?view=list")


class AppListView(TenantMemberRequiredMixin, TemplateView):
    template_name = "portal/empty_section.html"
    extra_context = {"section": "apps"}
