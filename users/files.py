"""Files the portal writes under ``var/`` (keys, secrets, the SQLite file, uploads): owner-only
from the moment they exist (0600 files in 0700 directories), never created readable first and
restricted afterwards. No Django here: ``portal.settings`` uses it before Django is set up."""

import os
from pathlib import Path


def private_dir(path) -> Path:
    path = Path(path)
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if path.stat().st_mode & 0o077:
        path.chmod(0o700)
    return path


def write_private(path, data: bytes) -> None:
    path = Path(path)
    private_dir(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        os.fchmod(fh.fileno(), 0o600)  # an existing file keeps its mode on O_CREAT
        fh.write(data)


def touch_private(path) -> None:
    """Create an empty owner-only file unless it exists (e.g. the SQLite database, whose
    journal and WAL files SQLite then creates with the same mode)."""
    path = Path(path)
    private_dir(path.parent)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        if path.stat().st_mode & 0o077:  # made by an older version: tighten
            path.chmod(0o600)
