"""CSV imports as the portal runs them: upload to disk, validation and import as Celery tasks,
progress in the cache (visible while the import's own transaction is still open)."""

import contextlib
import logging
import os
import uuid
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from django.utils.translation import gettext as _

from users.audit import record

from . import csv_import
from .models import CsvImport

MAX_UPLOAD = 200 * 1024 * 1024
log = logging.getLogger("users.imports")


def imports_dir() -> Path:
    path = Path(settings.VAR_DIR) / "imports"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def _progress_key(pk: int) -> str:
    return f"csv-import:{pk}:processed"


def progress(item: CsvImport) -> int:
    processed = cache.get(_progress_key(item.pk))
    if processed is not None and item.total_rows:
        item.processed_rows = processed
    return item.progress


class UploadTooLarge(ValueError):
    pass


def start(tenant, upload, *, account=None) -> CsvImport:
    """Store the uploaded file and queue its validation. Raises ``UploadTooLarge`` over
    ``MAX_UPLOAD`` (for every caller: web form and API)."""
    if upload.size is not None and upload.size > MAX_UPLOAD:
        raise UploadTooLarge(_("The file is larger than 200 MB."))
    path = imports_dir() / f"{uuid.uuid4()}.csv"
    written = 0
    # Owner-only: the file holds personal data until the import ends.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        for chunk in upload.chunks():
            written += len(chunk)
            if written > MAX_UPLOAD:  # a size the client did not announce truthfully
                fh.close()
                path.unlink(missing_ok=True)
                raise UploadTooLarge(_("The file is larger than 200 MB."))
            fh.write(chunk)
    item = CsvImport.objects.create(
        tenant=tenant, file_name=upload.name[:255], path=str(path), created_by=account
    )
    record(account, "users.csv_uploaded", item, file=item.file_name)
    return item


def _count_lines(path: str) -> int:
    with open(path, "rb") as fh:
        return max(sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 20), b"")), 1)


def _reporter(item: CsvImport):
    def on_batch(outcome):
        cache.set(_progress_key(item.pk), outcome.total, 24 * 3600)

    return on_batch


def validate(item: CsvImport) -> None:
    """VALIDATING -> PREVIEW, or REJECTED with the file removed; never left in between."""
    try:
        try:
            item.total_rows = _count_lines(item.path)  # an estimate for the progress bar
        except OSError:
            item.total_rows = 0
        item.save(update_fields=["total_rows"])
        outcome = csv_import.validate(item.tenant, item.path, on_batch=_reporter(item))
    except Exception as exc:
        _end(item, CsvImport.State.REJECTED, exc)
        return
    item.state = CsvImport.State.PREVIEW
    item.total_rows, item.valid_rows, item.invalid_rows = (
        outcome.total,
        outcome.valid,
        outcome.invalid,
    )
    item.new_rows, item.existing_rows = outcome.new, outcome.existing
    item.problems, item.sample = outcome.problems, outcome.sample
    item.save()


def _reason(exc: Exception) -> str:
    if isinstance(exc, csv_import.CsvFormatError):
        return str(exc)
    if isinstance(exc, OSError):
        # E.g. a worker that does not share VAR_DIR with the web server that took the upload.
        return f"The uploaded file cannot be read: {exc.strerror or exc}"
    # Anything else is a bug or a database refusal: logged once, reported without details.
    log.error("CSV import failed: %s: %s", type(exc).__name__, exc)
    return "The import failed unexpectedly; nothing more was imported."


def _end(item: CsvImport, state: str, exc: Exception) -> None:
    item.state, item.error = state, _reason(exc)[:500]
    item.finished_at = timezone.now()
    item.save(update_fields=["state", "error", "finished_at"])
    _discard(item)


def confirm(item: CsvImport, mode: str, *, account=None) -> None:
    item.mode = mode
    item.state = CsvImport.State.IMPORTING
    item.processed_rows = 0
    item.save(update_fields=["mode", "state", "processed_rows"])
    cache.delete(_progress_key(item.pk))
    record(account, "users.csv_import_started", item, mode=mode)


def run(item: CsvImport) -> None:
    """IMPORTING -> DONE or FAILED, always with the file removed."""
    try:
        outcome = csv_import.run(
            item.tenant,
            item.path,
            all_or_nothing=item.mode == CsvImport.Mode.ALL_OR_NOTHING,
            on_batch=_reporter(item),
        )
    except Exception as exc:
        _end(item, CsvImport.State.FAILED, exc)
        record(None, "users.csv_import_failed", item, error=item.error)
        return
    item.state = CsvImport.State.DONE
    item.total_rows, item.valid_rows, item.invalid_rows = (
        outcome.total,
        outcome.valid,
        outcome.invalid,
    )
    item.created, item.updated = outcome.created, outcome.updated
    item.skipped = outcome.total - outcome.created - outcome.updated
    item.problems = outcome.problems
    item.processed_rows = outcome.total
    item.finished_at = timezone.now()
    item.save()
    record(
        None,
        "users.csv_imported",
        item,
        created=item.created,
        updated=item.updated,
        skipped=item.skipped,
    )
    _discard(item)


def _discard(item: CsvImport) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.remove(item.path)
