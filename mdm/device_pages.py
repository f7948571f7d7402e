"""Pages of the device list by keyset (UI and API alike): the position is the sort key of a
page's edge row, never an OFFSET, and the total is not counted beyond a cap, so a page costs the
same at 100,000 devices as at 1,000 (bench/device_list.py)."""

from dataclasses import dataclass
from datetime import UTC, datetime

from django.core import signing
from django.core.cache import cache
from django.db.models import BooleanField, F, Func, Q, Value

from .models import Device

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
TILE_FIELDS = (
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
    "name",
    "identity_not_after",
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
