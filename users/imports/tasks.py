"""Celery tasks of user imports; each checks the row's state so a redelivery does no harm."""

from celery import shared_task

from . import csv_service, entra
from .graph import GraphError
from .models import CsvImport, EntraConnection


@shared_task
def validate_csv_import(import_id: int) -> None:
    item = (
        CsvImport.objects.select_related("tenant")
        .filter(pk=import_id, state=CsvImport.State.VALIDATING)
        .first()
    )
    if item is not None:
        csv_service.validate(item)


@shared_task
def run_csv_import(import_id: int) -> None:
    item = (
        CsvImport.objects.select_related("tenant")
        .filter(pk=import_id, state=CsvImport.State.IMPORTING)
        .first()
    )
    if item is not None:
        csv_service.run(item)


@shared_task
def sync_entra_connection(connection_id: int, interactive: bool = False) -> dict:
    connection = EntraConnection.objects.select_related("tenant").filter(pk=connection_id).first()
    if connection is None:
        return {}
    try:
        return entra.sync(connection, interactive=interactive)
    except GraphError as exc:  # recorded on the connection, in words for its page
        return {"error": exc.human}


@shared_task
def test_entra_connection(connection_id: int) -> bool:
    connection = EntraConnection.objects.select_related("tenant").filter(pk=connection_id).first()
    return entra.run_test(connection) if connection is not None else False


@shared_task
def sync_entra_tenants() -> int:
    """Beat: every enabled connection, one task each."""
    ids = list(
        EntraConnection.objects.filter(sync_enabled=True, tenant__is_active=True).values_list(
            "pk", flat=True
        )
    )
    for pk in ids:
        sync_entra_connection.delay(pk)
    return len(ids)
