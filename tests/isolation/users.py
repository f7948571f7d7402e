"""Isolation cases of the Users section (managed users, CSV imports)."""


def _user(tenant):
    import uuid

    from users.models import ManagedUser

    return ManagedUser.objects.create(
        tenant=tenant, username=f"iso{uuid.uuid4().hex[:8]}", email="iso@x.example"
    )


def _csv_import(tenant):
    from users.imports.models import CsvImport

    return CsvImport.objects.create(
        tenant=tenant, file_name="iso.csv", path="/nonexistent", state="preview"
    )


def by_pk(obj):
    return {"pk": obj.pk}


CASES = {
    "users:edit": (_user, by_pk),
    "users:delete": (_user, by_pk),
    "users:password-link": (_user, by_pk),
    "manageduser-detail": (_user, by_pk),
    "users:csv-import-detail": (_csv_import, by_pk),
    "users:csv-import-status": (_csv_import, by_pk),
    "csvimport-detail": (_csv_import, by_pk),
    "csvimport-confirm": (_csv_import, by_pk),
}
