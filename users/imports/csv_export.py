"""CSV export of a tenant's managed users, in the import's columns (it can be imported again).

Cells are neutralised against formula injection: a spreadsheet runs a cell that begins with
``=``, ``+``, ``-``, ``@``, a tab or a carriage return as a formula, so such cells get a leading
``'`` (OWASP's advice). Imported values are stored as typed; only what the portal writes is
changed.
"""

import csv
from collections.abc import Iterator

from users.models import ManagedUser

from .csv_import import COLUMNS

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_START) else value


class _Line:
    def write(self, value):
        return value


def rows(tenant) -> Iterator[str]:
    """The file line by line (streamed; the header first)."""
    writer = csv.writer(_Line())
    yield writer.writerow(COLUMNS)
    users = ManagedUser.objects.for_tenant(tenant).order_by("username").prefetch_related("tags")
    for user in users.iterator(chunk_size=1000):
        yield writer.writerow(
            [
                neutralise(v)
                for v in (
                    user.username,
                    user.first_name,
                    user.last_name,
                    user.email,
                    user.managed_apple_id,
                    user.comment,
                    ",".join(sorted(t.name for t in user.tags.all())),
                )
            ]
        )
