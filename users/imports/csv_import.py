"""CSV import of managed users: reading, per-row validation, and batched writing.

Columns (header row required, order free, names case-insensitive): ``username`` and ``email``
(required), ``firstname``, ``lastname``, ``managed_apple_id``, ``comment``, ``tags`` (several
separated by ``,`` ``;`` or ``|``). Files are UTF-8 with or without BOM; the delimiter (comma,
semicolon, tab, pipe) is detected. Rows stream from disk in batches, so memory stays flat for
any file size: only the usernames seen so far are kept, to find duplicates within the file.

An existing username of the tenant is updated, a new one created. With ``all`` (import nothing
on error) everything runs in one transaction that is rolled back at the first invalid row.
"""

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.db import transaction
from django.db.models.functions import Lower
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from users import signals
from users.models import ManagedUser, username_validator
from users.tags import get_or_create_tag
from users.tags import split_names as split_tag_names

COLUMNS = ("username", "firstname", "lastname", "email", "managed_apple_id", "comment", "tags")
REQUIRED = ("username", "email")
ALIASES = {
    "user": "username",
    "user name": "username",
    "login": "username",
    "first_name": "firstname",
    "first name": "firstname",
    "given_name": "firstname",
    "givenname": "firstname",
    "last_name": "lastname",
    "last name": "lastname",
    "surname": "lastname",
    "e-mail": "email",
    "mail": "email",
    "email address": "email",
    "managedappleid": "managed_apple_id",
    "managed apple id": "managed_apple_id",
    "managed_apple_account": "managed_apple_id",
    "apple_id": "managed_apple_id",
    "roles": "tags",
    "tag": "tags",
    "groups": "tags",
}
FIELDS = {
    "firstname": "first_name",
    "lastname": "last_name",
    "email": "email",
    "managed_apple_id": "managed_apple_id",
    "comment": "comment",
}
LIMITS = {
    "username": 64,
    "firstname": 150,
    "lastname": 150,
    "email": 254,
    "managed_apple_id": 254,
    "comment": 2000,
    "tags": 4000,
}
MAX_TAGS_PER_CELL = 20
BATCH = 1000
MAX_PROBLEMS = 1000
_email = EmailValidator()

TEMPLATE = (
    ",".join(COLUMNS)
    + "\r\n"
    + (
        'alice,Alice,Example,alice@contoso.example,alice@contoso.appleid.com,"Sales, Berlin",'
        '"sales,berlin"\r\n'
    )
)


class CsvFormatError(ValueError):
    """The file as a whole cannot be read as the expected CSV."""


@dataclass
class Row:
    number: int  # spreadsheet row number: the header is row 1
    values: dict

    @property
    def username(self) -> str:
        return self.values.get("username", "")


@dataclass
class Outcome:
    total: int = 0
    valid: int = 0
    invalid: int = 0
    new: int = 0
    existing: int = 0
    created: int = 0
    updated: int = 0
    problems: list = field(default_factory=list)
    sample: list = field(default_factory=list)

    def problem(self, row: Row, reason: str) -> None:
        self.invalid += 1
        if len(self.problems) < MAX_PROBLEMS:
            entry = {"row": row.number, "username": row.username[:64], "reason": str(reason)}
            if isinstance(reason, Reason):  # kept untranslated, shown in the reader's language
                entry.update(message=reason.msgid, params=reason.params)
            self.problems.append(entry)


class Reason(str):
    """Why a row is refused: English text, plus the message id and parameters so the page
    shows it in the reader's language (the import runs in a task, without one)."""

    def __new__(cls, msgid: str, params: dict | None = None):
        text = msgid % params if params else msgid
        obj = super().__new__(cls, text)
        obj.msgid, obj.params = msgid, params or {}
        return obj


def problem_text(problem: dict) -> str:
    """A stored problem's reason in the active language."""
    if "message" in problem:
        text = _(problem["message"])
        return text % problem["params"] if problem.get("params") else text
    return problem.get("reason", "")


def _normalise(name: str) -> str:
    key = name.strip().lower()
    return ALIASES.get(key, key.replace(" ", "_"))


def open_rows(path) -> tuple[str, list[str], Iterator[Row]]:
    """(delimiter, columns, rows) of a CSV file, streamed."""
    with open(path, "rb") as fh:
        head = fh.read(64 * 1024)
    if not head.strip():
        raise CsvFormatError(_("The file is empty."))
    if b"\x00" in head:
        raise CsvFormatError(_("This is not a CSV file (it contains binary data)."))
    try:
        text_head = head.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not just a character cut at the end of the sample
            raise CsvFormatError(_("The file is not UTF-8 text. Save it as “CSV UTF-8”.")) from exc
        text_head = head[: exc.start].decode("utf-8-sig")
    first_line = text_head.splitlines()[0] if text_head.splitlines() else ""
    if len(text_head.splitlines()) < 2 and len(head) == 64 * 1024:
        raise CsvFormatError(_("The header row is longer than 64 KB."))
    try:
        delimiter = csv.Sniffer().sniff(first_line, delimiters=",;\t|").delimiter
    except csv.Error:
        delimiter = ","
    # The header is read like the rows (same reader), and must end on the first line: an
    # unbalanced quote would otherwise swallow the whole file into the header.
    try:
        header_reader = csv.reader(io.StringIO(text_head, newline=""), delimiter=delimiter)
        header = next(header_reader, [])
    except csv.Error as exc:
        raise CsvFormatError(
            _("The header row cannot be read: %(error)s") % {"error": exc}
        ) from exc
    if header_reader.line_num != 1:
        raise CsvFormatError(
            _("The header row has an unbalanced quotation mark; fix it and upload again.")
        )
    if len(header) > 100:
        raise CsvFormatError(_("The header row has more than 100 columns."))
    columns = [_normalise(c) for c in header]
    if "username" not in columns:
        raise CsvFormatError(
            _("No header row with a “username” column. Expected columns: %(columns)s.")
            % {"columns": ", ".join(COLUMNS)}
        )
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        raise CsvFormatError(
            _("Required columns are missing: %(columns)s.") % {"columns": ", ".join(missing)}
        )

    def rows() -> Iterator[Row]:
        with open(path, "rb") as raw:
            text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
            reader = csv.reader(text, delimiter=delimiter)
            next(reader, None)
            number = 1
            try:
                for record in reader:
                    number += 1
                    if not any(cell.strip() for cell in record):
                        continue
                    values = {
                        col: (record[i].strip() if i < len(record) else "")
                        for i, col in enumerate(columns)
                        if col in COLUMNS
                    }
                    if len(record) > len(columns):
                        values["__extra__"] = "1"
                    yield Row(number, values)
            except UnicodeDecodeError as exc:
                raise CsvFormatError(
                    _("Row %(row)s is not UTF-8 text.") % {"row": number + 1}
                ) from exc
            except csv.Error as exc:  # e.g. a field over the limit after an unbalanced quote
                raise CsvFormatError(
                    _("Row %(row)s cannot be read: %(error)s") % {"row": number + 1, "error": exc}
                ) from exc

    return delimiter, columns, rows()


def row_problem(row: Row) -> "Reason | None":
    """Why a row cannot be imported, or None; checks the row alone (not duplicates)."""
    values = row.values
    if values.get("__extra__"):
        return Reason(
            gettext_noop("more values than columns (a delimiter inside an unquoted value?)")
        )
    if any("\x00" in value for value in values.values()):
        # Cannot be stored (PostgreSQL), and no spreadsheet writes it: a damaged file.
        return Reason(gettext_noop("contains a NUL character (binary data)"))
    for name in REQUIRED:
        if not values.get(name):
            return Reason(gettext_noop("%(column)s is missing"), {"column": name})
    if len(split_tag_names(values.get("tags", ""))) > MAX_TAGS_PER_CELL:
        return Reason(gettext_noop("more than %(limit)s tags"), {"limit": MAX_TAGS_PER_CELL})
    for name, limit in LIMITS.items():
        if len(values.get(name, "")) > limit:
            return Reason(
                gettext_noop("%(column)s is longer than %(limit)s characters"),
                {"column": name, "limit": limit},
            )
    try:
        username_validator(values["username"])
    except ValidationError:
        return Reason(
            gettext_noop("username may contain letters, digits, dots and underscores only")
        )
    try:
        _email(values["email"])
    except ValidationError:
        return Reason(gettext_noop("email is not a valid e-mail address"))
    if values.get("managed_apple_id"):
        try:
            _email(values["managed_apple_id"])
        except ValidationError:
            return Reason(gettext_noop("managed_apple_id is not a valid Managed Apple Account"))
    return None


def _batches(rows: Iterator[Row]) -> Iterator[list[Row]]:
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _existing(tenant, rows: list[Row]) -> dict[str, ManagedUser]:
    names = {r.username.lower() for r in rows}
    users = (
        ManagedUser.objects.filter(tenant=tenant)
        .annotate(lname=Lower("username"))
        .filter(lname__in=names)
    )
    return {u.lname: u for u in users}


def _checked(tenant, rows: Iterator[Row], outcome: Outcome, on_batch):
    """Yield (valid rows, existing users) per batch; invalid rows go into ``outcome``."""
    seen: set[str] = set()
    for batch in _batches(rows):
        existing = _existing(tenant, batch)
        valid = []
        for row in batch:
            outcome.total += 1
            reason = row_problem(row)
            key = row.username.lower()
            if reason is None and key in seen:
                reason = Reason(gettext_noop("duplicate of an earlier row in this file"))
            seen.add(key)
            if reason:
                outcome.problem(row, reason)
                continue
            outcome.valid += 1
            if key in existing:
                outcome.existing += 1
            else:
                outcome.new += 1
            if len(outcome.sample) < 10:
                outcome.sample.append(
                    {
                        "row": row.number,
                        **{k: v for k, v in row.values.items() if k in COLUMNS},
                        "action": "update" if key in existing else "create",
                    }
                )
            valid.append(row)
        yield valid, existing
        if on_batch:
            on_batch(outcome)


def validate(tenant, path, *, on_batch: Callable | None = None) -> Outcome:
    outcome = Outcome()
    for _valid, _existing_users in _checked(tenant, open_rows(path)[2], outcome, on_batch):
        pass
    return outcome


class _TagCache:
    def __init__(self, tenant):
        self.tenant, self.ids = tenant, {}

    def ids_for(self, text: str) -> list[int]:
        result = []
        for name in split_tag_names(text):
            key = name.lower()
            if key not in self.ids:
                self.ids[key] = get_or_create_tag(self.tenant, name).pk
            result.append(self.ids[key])
        return result


def _write(
    tenant, rows: list[Row], existing: dict, columns: set, tags: _TagCache, outcome: Outcome
) -> None:
    through = ManagedUser.tags.through
    new_users, new_tags, updated, updated_tags = [], [], [], []
    details = {}  # user id -> the DETAIL_FIELDS this row changes
    update_fields = [FIELDS[c] for c in columns if c in FIELDS]
    for row in rows:
        user = existing.get(row.username.lower())
        values = {FIELDS[c]: row.values.get(c, "") for c in columns if c in FIELDS}
        if user is None:
            new_users.append(
                ManagedUser(
                    tenant=tenant, username=row.username, source=ManagedUser.Source.CSV, **values
                )
            )
            new_tags.append(tags.ids_for(row.values.get("tags", "")))
        else:
            before = signals.details_of(user)
            for name, value in values.items():
                setattr(user, name, value)
            details[user.pk] = signals.changed_details(before, user)
            updated.append(user)
            if "tags" in columns:
                updated_tags.append((user, tags.ids_for(row.values.get("tags", ""))))
    created = ManagedUser.objects.bulk_create(new_users)
    if updated and update_fields:
        ManagedUser.objects.bulk_update(updated, update_fields)
        signals.send_details_changed(ManagedUser, details)
    if updated_tags:
        through.objects.filter(manageduser_id__in=[u.pk for u, _ in updated_tags]).delete()
    links = [
        through(manageduser_id=u.pk, tag_id=t)
        for u, ids in zip(created, new_tags, strict=True)
        for t in ids
    ]
    links += [through(manageduser_id=u.pk, tag_id=t) for u, ids in updated_tags for t in ids]
    through.objects.bulk_create(links, ignore_conflicts=True)
    if updated_tags:
        ids = [u.pk for u, _ in updated_tags]
        signals.user_tags_changed.send(sender=ManagedUser, user_ids=ids)
    outcome.created += len(created)
    outcome.updated += len(updated)


def run(tenant, path, *, all_or_nothing: bool, on_batch: Callable | None = None) -> Outcome:
    """Import the file. Returns the outcome; with ``all_or_nothing`` and any invalid row,
    nothing is written and ``created``/``updated`` are 0."""
    outcome = Outcome()
    _delimiter, columns, rows = open_rows(path)
    present = set(columns) & set(COLUMNS)
    tags = _TagCache(tenant)
    if all_or_nothing:
        # One pass, one duplicate set: writing stops at the first invalid row, counting goes on
        # to the end, and the transaction is rolled back, so the counts are the file's.
        with transaction.atomic():
            for valid, existing in _checked(tenant, rows, outcome, on_batch):
                if not outcome.invalid:
                    _write(tenant, valid, existing, present, tags, outcome)
            if outcome.invalid:
                transaction.set_rollback(True)
                outcome.created = outcome.updated = 0
        return outcome
    for valid, existing in _checked(tenant, rows, outcome, on_batch):
        with transaction.atomic():
            _write(tenant, valid, existing, present, tags, outcome)
    return outcome
