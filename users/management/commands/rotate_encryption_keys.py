"""Re-encrypt every encrypted field under the newest FIELD_ENCRYPTION_KEY.

Rotation: put the new key first in FIELD_ENCRYPTION_KEY (comma-separated, old keys after it),
restart, run this command, then drop the old keys.
"""

from django.core.management.base import BaseCommand
from django.db import connection, transaction

from users.fields import encrypted_fields, rotate


class Command(BaseCommand):
    help = "Re-encrypt all secrets at rest with the newest key."

    def handle(self, *args, **options):
        total = 0
        for model, field in encrypted_fields():
            table, column = model._meta.db_table, field.column
            pk = model._meta.pk.column
            qn = connection.ops.quote_name
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT {qn(pk)}, {qn(column)} FROM {qn(table)} WHERE {qn(column)} IS NOT NULL"  # noqa: S608
                )
                rows = cursor.fetchall()
                for row_pk, stored in rows:
                    cursor.execute(
                        f"UPDATE {qn(table)} SET {qn(column)} = %s WHERE {qn(pk)} = %s",  # noqa: S608
                        [rotate(stored), row_pk],
                    )
            total += len(rows)
            self.stdout.write(f"{model._meta.label}.{field.name}: {len(rows)} re-encrypted")
        self.stdout.write(self.style.SUCCESS(f"{total} values re-encrypted under the newest key."))
