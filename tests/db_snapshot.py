"""Row counts of every model, to assert that a refused request wrote nothing.

``table_counts()`` -> ``{"app_label.Model": rows}`` for all concrete models (auto-created M2M
tables included); compare before and after: ``assert table_counts() == before``.
"""

from django.apps import apps
from django.db import connection


def table_counts(*, exclude: tuple[str, ...] = ()) -> dict[str, int]:
    counts = {}
    # Test-only models (defined in test modules, never migrated) have no table.
    tables = set(connection.introspection.table_names())
    for model in apps.get_models(include_auto_created=True):
        meta = model._meta
        if meta.proxy or not meta.managed or meta.db_table not in tables:
            continue
        label = meta.label
        if label in exclude:
            continue
        counts[label] = model._base_manager.count()
    return counts
