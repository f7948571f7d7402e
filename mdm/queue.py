"""The command queue of each device: enqueue, hand out the next command, record the answer.

Handing out and answering are single ``UPDATE … RETURNING`` statements, so a poll costs one
query for the queue and two devices (or two workers of one device) never get the same command:
on PostgreSQL the candidate row is locked with ``SKIP LOCKED``; SQLite writes one at a time.
On PostgreSQL an answer and the next hand-out are one statement (``answer_and_next``).

Rules: the highest priority, then the oldest, goes first; ``NotNow`` commands wait for the
device's next ``Idle``; a command sent and not answered within ``MDM_COMMAND_RESEND_SECONDS``
is handed out again; until the device's user accepts the terms only inventory commands go out.
"""

import json
import plistlib
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone

from .commands import INVENTORY, REGISTRY, CommandError, CommandType, ResultError, command_for
from .commands.base import jsonable, validated_command
from .models import Command, Device
from .protocol import BadMessage, command_uuid

Status = Command.Status

ANSWERS = {
    "Acknowledged": Status.ACKNOWLEDGED,
    "Error": Status.ERROR,
    "CommandFormatError": Status.FORMAT_ERROR,
    "NotNow": Status.NOT_NOW,
}
# Envelope keys of an answer; everything else is the command's result.
_ENVELOPE = {"CommandUUID", "Status", "EnrollmentID", "UDID", "ErrorChain", "RequestType"}


def enqueue(
    device: Device,
    command: CommandType,
    *,
    origin: str = Command.Origin.SYSTEM,
    account=None,
    priority: int | None = None,
    not_before=None,
) -> Command:
    """Store a command for one device after checking it against Apple's schema."""
    if not device.is_manageable:
        raise CommandError("The device is not enrolled.")
    validated_command(command, device)
    return Command.objects.create(
        device=device,
        request_type=command.request_type,
        arguments=command.arguments,
        priority=command.priority if priority is None else priority,
        requires_terms=not command.inventory,
        origin=origin,
        requested_by=account if getattr(account, "pk", None) else None,
        not_before=not_before,
    )


def enqueue_request(device: Device, request_type, arguments: dict | None, **kwargs) -> Command:
    """The admin's and the API's way in: by RequestType name, refused with CommandError."""
    return enqueue(device, command_for(request_type, arguments), **kwargs)


def request_inventory(device: Device, *, origin=Command.Origin.SYSTEM, account=None) -> list:
    """Queue the inventory commands the device does not already have open (idempotent)."""
    open_types = set(
        Command.objects.filter(
            device=device, request_type__in=INVENTORY, status__in=Command.OPEN
        ).values_list("request_type", flat=True)
    )
    commands = inventory_commands(device, open_types, origin=origin, account=account)
    Command.objects.bulk_create(commands)
    now = timezone.now()
    Device.objects.filter(pk=device.pk).update(inventory_requested_at=now)
    device.inventory_requested_at = now
    return commands


def inventory_commands(
    device: Device, open_types=(), *, origin=Command.Origin.SYSTEM, account=None
) -> list:
    """The inventory commands, unsaved, but for those of ``open_types`` (a new enrollment
    has none open, and its caller stamps ``inventory_requested_at`` itself)."""
    return [
        Command(
            device=device,
            request_type=name,
            arguments=REGISTRY[name]().arguments,
            requires_terms=False,
            origin=origin,
            requested_by=account if getattr(account, "pk", None) else None,
        )
        for name in INVENTORY
        if name not in open_types
    ]


def inventory_due(device: Device, now) -> bool:
    interval = timedelta(seconds=settings.MDM_INVENTORY_INTERVAL_SECONDS)
    last = device.inventory_requested_at
    return interval.total_seconds() > 0 and (last is None or last <= now - interval)


def _dt(value):
    return connection.ops.adapt_datetimefield_value(value)


def _uuid(value: uuid.UUID):
    return value if connection.vendor == "postgresql" else value.hex


def _json_placeholder() -> str:
    return "%s::jsonb" if connection.vendor == "postgresql" else "%s"


def _loads(value):
    return json.loads(value) if isinstance(value, str | bytes) else value


def _hand_out(device: Device, now, *, after_idle: bool, also=None) -> tuple[str, list]:
    """``UPDATE … RETURNING uuid, request_type, arguments`` that marks the next due command
    sent, with its parameters; ``also``: one more (condition, parameters)."""
    table = Command._meta.db_table
    statuses = [Status.QUEUED]
    if after_idle:
        statuses.append(Status.NOT_NOW)
    resend_before = now - timedelta(seconds=settings.MDM_COMMAND_RESEND_SECONDS)
    conditions = [
        ("device_id = %s", [device.pk]),
        (
            f"(status IN ({', '.join(['%s'] * len(statuses))}) OR (status = %s AND sent_at < %s))",
            [*statuses, Status.SENT, _dt(resend_before)],
        ),
        ("(not_before IS NULL OR not_before <= %s)", [_dt(now)]),
    ]
    if not device.terms_accepted:
        conditions.append(("NOT requires_terms", []))
    if also is not None:
        conditions.append(also)
    lock = " FOR UPDATE SKIP LOCKED" if connection.vendor == "postgresql" else ""
    sql = (  # only our table name and fixed fragments are formatted in
        f"UPDATE {table} SET status = %s, sent_at = %s, attempts = attempts + 1 "
        f"WHERE id = (SELECT id FROM {table} WHERE {' AND '.join(c for c, _ in conditions)} "
        f"ORDER BY priority DESC, id LIMIT 1{lock}) "
        "RETURNING uuid, request_type, arguments"
    )
    return sql, [Status.SENT, _dt(now), *(p for _, params in conditions for p in params)]


def _envelope(device: Device, row) -> bytes:
    command_id, request_type, arguments = uuid.UUID(str(row[0])), row[1], _loads(row[2])
    command = REGISTRY[request_type].restore(arguments)
    envelope = {"CommandUUID": str(command_id).upper(), "Command": command.build(device)}
    return plistlib.dumps(envelope, fmt=plistlib.FMT_XML)


def next_command(device: Device, now, *, after_idle: bool) -> bytes | None:
    """Mark the next due command sent and return its envelope (XML plist), or None."""
    sql, params = _hand_out(device, now, after_idle=after_idle)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return None if row is None else _envelope(device, row)


def _error_chain(message: dict) -> list:
    chain = message.get("ErrorChain", [])
    if not isinstance(chain, list) or not all(isinstance(item, dict) for item in chain):
        raise BadMessage("ErrorChain must be an array of dictionaries")
    return jsonable(chain)


def _answer(device: Device, message: dict, raw: bytes, now) -> tuple[str, list, str]:
    """``UPDATE … RETURNING request_type, arguments`` that stores an answer, its parameters,
    and the new status."""
    status = ANSWERS[message["Status"]]
    answer_uuid = command_uuid(message)
    chain = _error_chain(message)
    result = jsonable({k: v for k, v in message.items() if k not in _ENVELOPE})
    table = Command._meta.db_table
    json_ph = _json_placeholder()
    sql = (  # only our table name and fixed fragments are formatted in
        f"UPDATE {table} SET status = %s, answered_at = %s, raw_result = %s, "
        f"result = {json_ph}, error_chain = {json_ph}, not_now_count = not_now_count + %s "
        "WHERE device_id = %s AND uuid = %s AND status = %s "
        "RETURNING request_type, arguments"
    )
    params = [
        status,
        _dt(now) if status != Status.NOT_NOW else None,
        raw,
        json.dumps(result),
        json.dumps(chain),
        1 if status == Status.NOT_NOW else 0,
        device.pk,
        _uuid(answer_uuid),
        Status.SENT,
    ]
    return sql, params, status


def _process(device: Device, message: dict, status: str, row) -> tuple[str, str]:
    if row is None:
        raise BadMessage("unknown, foreign or already answered CommandUUID")
    request_type = row[0]
    if status == Status.ACKNOWLEDGED:
        try:
            REGISTRY[request_type].restore(_loads(row[1])).process(device, message)
        except ResultError as exc:  # the caller's transaction rolls the status back too
            raise BadMessage(f"{request_type} answer: {exc}") from exc
    elif status in (Status.ERROR, Status.FORMAT_ERROR):
        chain = _error_chain(message)  # checked already by _answer
        REGISTRY[request_type].restore(_loads(row[1])).failed(device, message, chain)
    return request_type, status


def record_answer(device: Device, message: dict, raw: bytes, now) -> tuple[str, str]:
    """Store the device's answer to a command it was sent: (request type, new status).

    An answer for a command that is unknown, of another device, not sent or already answered
    is a ``BadMessage`` and changes nothing (the caller's transaction is rolled back).
    """
    sql, params, status = _answer(device, message, raw, now)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return _process(device, message, status, row)


def answer_and_next(device: Device, message: dict, raw: bytes, now):
    """``record_answer``, then ``next_command`` (not after Idle): ((request type, new status),
    envelope or None), inside the caller's transaction.

    On PostgreSQL both are one statement (two ``UPDATE … RETURNING`` in a ``WITH``): the
    next command is chosen before the answer's result is processed, so a command that
    processing queues goes out with the next poll. No command is handed out for an answer
    that is refused."""
    if connection.vendor != "postgresql":
        answered = record_answer(device, message, raw, now)
        return answered, next_command(device, now, after_idle=False)
    answer_sql, answer_params, status = _answer(device, message, raw, now)
    # Both parts see the rows as they were before the statement: the answered command (still
    # "sent" there) is kept out of the hand-out by its UUID.
    answered_uuid = _uuid(command_uuid(message))
    next_sql, next_params = _hand_out(
        device,
        now,
        after_idle=False,
        also=("EXISTS (SELECT 1 FROM answered) AND uuid <> %s", [answered_uuid]),
    )
    sql = (
        f"WITH answered AS ({answer_sql}), handed AS ({next_sql}) "
        "SELECT TRUE, request_type, arguments, NULL::uuid FROM answered "
        "UNION ALL SELECT FALSE, request_type, arguments, uuid FROM handed"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, answer_params + next_params)
        rows = cursor.fetchall()
    answer_row = next((row[1:3] for row in rows if row[0]), None)
    handed = next(((row[3], row[1], row[2]) for row in rows if not row[0]), None)
    answered = _process(device, message, status, answer_row)
    return answered, None if handed is None else _envelope(device, handed)


def cancel_open(device: Device) -> int:
    return Command.objects.filter(device=device, status__in=Command.OPEN).update(
        status=Status.CANCELED, answered_at=timezone.now()
    )


def pending_count(device: Device) -> int:
    return Command.objects.filter(device=device, status__in=Command.OPEN).count()
